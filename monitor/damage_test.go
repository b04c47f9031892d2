package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// damageOptions: hour windows, checkpoints when the clock jumps, no
// background evaluation.
func damageOptions(now func() time.Time) Options {
	return Options{Now: now, SampleSize: 16, CheckpointInterval: 30 * time.Minute,
		FlushInterval: time.Millisecond, EvalInterval: 24 * time.Hour}
}

// buildDamageState writes a state file with two models, closed windows in
// the history, checkpoints and a log after them, and returns the rows
// acknowledged per model (all of stage input).
func buildDamageState(t *testing.T, path string) map[string]int64 {
	t.Helper()
	a := testArtifact(t)
	var now atomic.Int64 // Unix nanoseconds; the committer reads the clock
	now.Store(t0.UnixNano())
	m, err := Open(path, damageOptions(func() time.Time { return time.Unix(0, now.Load()).UTC() }))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for i := 0; i < 90; i++ {
		switch i {
		case 30, 60:
			now.Add(int64(time.Hour))
			if err := m.Evaluate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for _, model := range []string{"m", "k"} {
			cols, n := crashBatch(i)
			if err := m.Observe(context.Background(), model, a, StageInput, cols, n); err != nil {
				t.Fatal(err)
			}
			rows[model] += int64(n)
		}
	}
	m.abandon = true // keep the log after the last checkpoint
	m.Close()
	return rows
}

// stateOf describes what a monitor holds: per model, its rows and the
// history summaries as JSON.
func stateOf(t *testing.T, m *Monitor) (map[string]int64, string) {
	t.Helper()
	rows := map[string]int64{}
	var b strings.Builder
	for _, model := range []string{"k", "m"} {
		h := m.History(model, StageInput)
		for _, s := range h {
			rows[model] += s.Rows
		}
		data, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return rows, b.String()
}

// TestDamagedStateFile flips, zeroes and truncates a state file at every
// page and checks that Open either loads exactly the state of the intact
// file or refuses with a DamageError naming the file, and that Recover
// then accounts for every acknowledged row: kept, or reported lost.
func TestDamagedStateFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "intact.db")
	acked := buildDamageState(t, src)
	clock := func() time.Time { return t0.Add(2*time.Hour + time.Minute) }
	opt := damageOptions(clock)

	intact, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(src, opt)
	if err != nil {
		t.Fatalf("intact file: %v", err)
	}
	baseRows, baseState := stateOf(t, m)
	m.Close()
	for model, n := range acked {
		if baseRows[model] != n {
			t.Fatalf("intact file: model %s has %d rows, want the %d acknowledged", model, baseRows[model], n)
		}
	}
	if err := os.WriteFile(src, intact, 0o600); err != nil { // Open's checkpoint may have rewritten it
		t.Fatal(err)
	}

	const page = 4096
	pages := len(intact) / page
	type damage struct {
		name string
		data []byte
	}
	var cases []damage
	for p := 0; p < pages; p++ {
		for _, off := range []int{0, 9, 16, 40, 100, 1000, 2048, 4095} {
			d := append([]byte(nil), intact...)
			d[p*page+off] ^= 0xff
			cases = append(cases, damage{fmt.Sprintf("flip-p%d-%d", p, off), d})
		}
		d := append([]byte(nil), intact...)
		clear(d[p*page : (p+1)*page])
		cases = append(cases, damage{fmt.Sprintf("zero-p%d", p), d})
		cases = append(cases, damage{fmt.Sprintf("truncate-p%d", p), append([]byte(nil), intact[:p*page]...)})
		cases = append(cases, damage{fmt.Sprintf("truncate-p%d+100", p), append([]byte(nil), intact[:p*page+100]...)})
	}
	var opened, refused, lostRows, uncounted int
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".db")
		if err := os.WriteFile(path, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := Open(path, opt)
		if err == nil {
			rows, state := stateOf(t, m)
			m.Close()
			if state != baseState {
				t.Errorf("%s: opened with a state that differs from the intact one (rows %v, want %v)", c.name, rows, baseRows)
			}
			opened++
			continue
		}
		refused++
		var de *DamageError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--state-recover") {
			t.Errorf("%s: Open: got %v, want a DamageError naming the file and --state-recover", c.name, err)
			continue
		}
		rep, err := Recover(path, opt)
		if err != nil {
			t.Errorf("%s: Recover: %v", c.name, err)
			continue
		}
		if rep.MovedTo == "" {
			t.Errorf("%s: Recover moved nothing aside", c.name)
		} else if got, err := os.ReadFile(rep.MovedTo); err != nil || string(got) != string(c.data) {
			t.Errorf("%s: the damaged file was not kept at %s (%v)", c.name, rep.MovedTo, err)
		}
		m, err = Open(path, opt)
		if err != nil {
			t.Errorf("%s: Open after Recover: %v", c.name, err)
			continue
		}
		rows, _ := stateOf(t, m)
		m.Close()
		for model, n := range acked {
			var sr *StageRecovery
			for i := range rep.Stages {
				if rep.Stages[i].Model == model && rep.Stages[i].Stage == StageInput {
					sr = &rep.Stages[i]
				}
			}
			switch {
			case sr == nil && rep.Uncounted == "":
				t.Errorf("%s: model %s (%d rows acknowledged, %d kept) is not in the report:\n%s", c.name, model, n, rows[model], rep)
			case sr == nil:
				uncounted++
			case sr.RowsKept != rows[model]:
				t.Errorf("%s: model %s: report says %d rows kept, the recovered file holds %d", c.name, model, sr.RowsKept, rows[model])
			case sr.Counted && sr.RowsKept+sr.RowsLost != n && rep.Uncounted != "":
				uncounted++ // a damaged meta page: the last commit is reported as lost, uncounted
			case sr.Counted && sr.RowsKept+sr.RowsLost != n:
				t.Errorf("%s: model %s: %d kept + %d reported lost, want the %d acknowledged", c.name, model, sr.RowsKept, sr.RowsLost, n)
			case !sr.Counted:
				uncounted++
			default:
				lostRows += int(sr.RowsLost)
			}
		}
	}
	t.Logf("%d damaged files: %d opened unchanged, %d refused and recovered (%d rows reported lost, %d stages uncounted)",
		len(cases), opened, refused, lostRows, uncounted)
}

// TestEmptyStateFileRefused: a state file truncated to 0 bytes is refused,
// and Recover starts an empty state saying nothing could be counted.
func TestEmptyStateFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, damageOptions(nil))
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("got %v, want an error saying the file is empty", err)
	}
	rep, err := Recover(path, damageOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uncounted == "" || rep.MovedTo == "" {
		t.Errorf("report %+v: want the file moved aside and the loss called uncounted", rep)
	}
	m, err := Open(path, damageOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}

// TestStateV1Loads opens a state file written by the format before
// checksums (testdata/state-v1, 40 batches of crashBatch observed at two
// window starts) and checks the rows and missing counts it holds.
func TestStateV1Loads(t *testing.T) {
	data, err := os.ReadFile("../testdata/state-v1/monitor.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "monitor.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return t0.Add(2 * time.Hour) }
	for round := 0; round < 2; round++ { // converted, then read as /2
		m, err := Open(path, damageOptions(clock))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		h := m.History("m", StageInput)
		m.Close()
		var wantRows [2]int64
		var wantMissing [2]int64
		for i := 0; i < 40; i++ {
			cols, n := crashBatch(i)
			w := i / 20
			wantRows[w] += int64(n)
			if cols[0].Num[0] != cols[0].Num[0] {
				wantMissing[w]++
			}
		}
		if len(h) != 2 {
			t.Fatalf("round %d: %d windows, want 2", round, len(h))
		}
		for w := range h {
			if h[w].Rows != wantRows[w] {
				t.Errorf("round %d window %d: got %d rows, want %d", round, w, h[w].Rows, wantRows[w])
			}
			for _, f := range h[w].Features {
				if f.Name == "x" && f.Missing != wantMissing[w] {
					t.Errorf("round %d window %d: got %d missing x, want %d", round, w, f.Missing, wantMissing[w])
				}
			}
		}
	}
}

// TestDeletedStateFileRefused: a state file deleted outright, or replaced
// by a new empty bbolt file, while its marker remains is refused at Open
// with a message naming the file and --state-recover; Recover then starts
// empty and reports the rows the marker counted (those of the last
// checkpoint) as lost.
func TestDeletedStateFileRefused(t *testing.T) {
	for _, c := range []struct {
		name, want string
		damage     func(t *testing.T, path string)
	}{
		{"deleted", "missing", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by a new file", "no state", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "monitor.db")
			rows := buildDamageState(t, path)
			mk, err := readMarker(path)
			if err != nil || mk == nil || mk.Generation == 0 {
				t.Fatalf("marker %+v, %v: want one written by Open", mk, err)
			}
			counted := mk.total()
			if counted <= 0 || counted > rows["m"]+rows["k"] {
				t.Fatalf("marker counts %d rows, want between 1 and the %d acknowledged", counted, rows["m"]+rows["k"])
			}
			c.damage(t, path)
			_, err = Open(path, damageOptions(nil))
			var de *DamageError
			if !errors.As(err, &de) || de.Path != path || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "--state-recover") || !strings.Contains(err.Error(), markerPath(path)) {
				t.Fatalf("got %v, want a DamageError saying %q, naming the marker and --state-recover", err, c.want)
			}
			// Refused again on the next start: nothing was created in between.
			if _, err := Open(path, damageOptions(nil)); !errors.As(err, &de) {
				t.Fatalf("second start: got %v, want the same refusal", err)
			}
			rep, err := Recover(path, damageOptions(nil))
			if err != nil {
				t.Fatal(err)
			}
			var lost int64
			for _, s := range rep.Stages {
				if s.RowsKept != 0 || !s.Counted {
					t.Errorf("stage %+v: want nothing kept, rows counted", s)
				}
				lost += s.RowsLost
			}
			if lost != counted || rep.Uncounted == "" || !strings.Contains(rep.String(), "acknowledged rows lost") {
				t.Fatalf("report %s: got %d rows lost, want the marker's %d and a note on later rows", rep, lost, counted)
			}
			m, err := Open(path, damageOptions(nil))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := stateOf(t, m); got["m"] != 0 || got["k"] != 0 {
				t.Errorf("after recovery: rows %v, want an empty state", got)
			}
			m.Close()
			if mk, _ := readMarker(path); mk == nil || mk.total() != 0 {
				t.Errorf("marker after recovery %+v, want a new one counting no rows", mk)
			}
		})
	}
}

// TestReplacedStateFileRefused: a state file replaced by another valid
// normguard state file (another server's, an old copy of another
// deployment) is told apart by the identity its marker records, refused
// at Open naming both, and --state-recover starts from the file found.
func TestReplacedStateFileRefused(t *testing.T) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "monitor.db"), filepath.Join(dir, "other.db")
	buildDamageState(t, path)
	buildDamageState(t, other)
	data, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, damageOptions(nil))
	var de *DamageError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "another state file") || !strings.Contains(err.Error(), "--state-recover") {
		t.Fatalf("a file replaced by another valid one: got %v, want a DamageError saying it is another state file", err)
	}
	if _, err := Recover(path, damageOptions(nil)); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path, damageOptions(nil))
	if err != nil {
		t.Fatalf("after --state-recover: %v", err)
	}
	m.Close()
	// The marker now names the file in place: the next start is not refused.
	if m, err = Open(path, damageOptions(nil)); err != nil {
		t.Fatalf("the start after: %v", err)
	}
	m.Close()
}

// TestOlderCopyRefused: an older copy of the same state file (restored
// from a backup or snapshot) put back under its newer marker lacks rows
// acknowledged since: an attack run saw it start silently and the marker
// rewritten. It is refused at Open naming both generations, the marker
// is left as it was, and --state-recover starts from the copy.
func TestOlderCopyRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "monitor.db")
	rows := buildDamageState(t, path)
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A later generation of the same file, with rows acknowledged since.
	later := t0.Add(2 * time.Hour)
	m, err := Open(path, damageOptions(func() time.Time { return later }))
	if err != nil {
		t.Fatal(err)
	}
	cols, added := crashBatch(7)
	if err := m.Observe(context.Background(), "m", testArtifact(t), StageInput, cols, added); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	mark, err := os.ReadFile(markerPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, damageOptions(nil))
	var de *DamageError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "is an older copy (generation") || !strings.Contains(err.Error(), "--state-recover") {
		t.Fatalf("an older copy of the file: got %v, want a DamageError saying it is an older copy", err)
	}
	if now, _ := os.ReadFile(markerPath(path)); string(now) != string(mark) {
		t.Errorf("the refused start rewrote the marker")
	}
	rep, err := Recover(path, damageOptions(func() time.Time { return later }))
	if err != nil {
		t.Fatal(err)
	}
	// The copy holds the rows of buildDamageState; the marker counted the
	// later ones too: those are reported lost, not dropped silently.
	want := map[string]StageRecovery{
		"m": {Model: "m", Stage: StageInput, RowsKept: rows["m"], RowsLost: int64(added), Counted: true},
		"k": {Model: "k", Stage: StageInput, RowsKept: rows["k"], RowsLost: 0, Counted: true},
	}
	if len(rep.Stages) != len(want) {
		t.Fatalf("recovery stages: got %+v, want %+v", rep.Stages, want)
	}
	for _, s := range rep.Stages {
		if s != want[s.Model] {
			t.Errorf("recovery of model %s: got %+v, want %+v", s.Model, s, want[s.Model])
		}
	}
	if !strings.Contains(rep.String(), fmt.Sprintf("%d acknowledged rows lost", added)) || !strings.Contains(rep.Uncounted, "older than its marker") {
		t.Errorf("the report does not say the later rows were lost:\n%s", rep)
	}
	startsAfterRecovery(t, path)
}

// TestUnreadableMarkerRefused: a marker that cannot be read beside an
// intact store was ignored and overwritten (attack run 3); it is refused
// at Open, and --state-recover keeps the store and writes a new marker.
func TestUnreadableMarkerRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.db")
	buildDamageState(t, path)
	// A marker that parses but counts negative rows (attack run 16) is
	// damaged too.
	good, err := os.ReadFile(markerPath(path))
	if err != nil {
		t.Fatal(err)
	}
	var mk marker
	if err := json.Unmarshal(good, &mk); err != nil || len(mk.Rows) == 0 {
		t.Fatalf("marker %s: %v", good, err)
	}
	for k := range mk.Rows {
		mk.Rows[k] = -5
	}
	negative, _ := json.Marshal(mk)
	for _, bad := range [][]byte{[]byte("zz"), negative} {
		if err := os.WriteFile(markerPath(path), bad, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, damageOptions(nil))
		var de *DamageError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "the marker itself is unreadable") || !strings.Contains(err.Error(), "--state-recover") {
			t.Fatalf("marker %s: got %v, want a DamageError naming it", bad, err)
		}
		if now, _ := os.ReadFile(markerPath(path)); string(now) != string(bad) {
			t.Errorf("the refused start rewrote the marker")
		}
	}
	if _, err := Recover(path, damageOptions(nil)); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path, damageOptions(nil))
	if err != nil {
		t.Fatalf("after --state-recover: %v", err)
	}
	m.Close()
}

// startsAfterRecovery opens the recovered state at path twice: the start
// after --state-recover, then an ordinary restart; neither is refused.
func startsAfterRecovery(t *testing.T, path string) {
	t.Helper()
	for i := range 2 {
		m, err := Open(path, damageOptions(nil))
		if err != nil {
			t.Fatalf("start %d after --state-recover: %v", i, err)
		}
		m.Close()
	}
}
