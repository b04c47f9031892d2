package kafka

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
)

// handOver is a turn of a replica (a or b) holding the partition while n
// records are written.
type handOver struct {
	replica string
	n       int
}

// restoreAfter runs replicas a and b of group g, each with its own state,
// one at a time through turns after a's state was backed up holding the
// first backedUp records, then restores a's backup and starts a again. It
// returns the restored replica (settled), its logs and b's state.
func restoreAfter(t *testing.T, backedUp int, turns []handOver) (*replica, *logBuffer, string) {
	t.Helper()
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	dir := t.TempDir()
	live, backup := filepath.Join(dir, "a"), filepath.Join(dir, "backup")
	states := map[string]string{"a": filepath.Join(live, "m.db"), "b": filepath.Join(dir, "b", "m.db")}
	for _, d := range []string{live, filepath.Join(dir, "b")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rows(0, backedUp)
	r := startWith(t, c, fx, states["a"], nil)
	waitRecords(t, backedUp, r)
	settle(t, r, 300*time.Millisecond)
	r.close(t)
	copyDir(t, live, backup)
	for _, turn := range turns {
		r := startWith(t, c, fx, states[turn.replica], nil)
		rows(0, turn.n)
		waitRecords(t, turn.n, r)
		settle(t, r, 300*time.Millisecond)
		r.close(t)
	}
	if err := os.RemoveAll(live); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, live)
	var logs logBuffer
	r = startWith(t, c, fx, states["a"], logTo(&logs))
	return r, &logs, states["b"]
}

// checkNoOverlap fails when the restored replica r's windows and those of
// the state at other read an offset both.
func checkNoOverlap(t *testing.T, r *replica, other string) {
	t.Helper()
	exA, err := r.mon.Export(testModel)
	if err != nil {
		t.Fatal(err)
	}
	monB := openState(t, other)
	defer monB.Close()
	exB, err := monB.Export(testModel)
	if err != nil {
		t.Fatal(err)
	}
	if err := monitor.CheckOverlaps([]*monitor.Export{exA, exB}); err != nil {
		t.Errorf("the two replicas' windows overlap: %v", err)
	}
}

// TestRestoreAfterHandOver (attack run 33 F1): replica a's state backed up
// at offset 3, a counts 3..4, goes down, b takes the partition over at 5
// and counts 5..6; a's backup restored resumed at b's 7 (the commit named
// b only), and 3..4 were in no replica's windows, with an info line
// calling 3..6 b's. The commits carry the partition's custody: a reads
// 3..4 again, passes 5..6 over, and every record is counted once across
// the two replicas.
func TestRestoreAfterHandOver(t *testing.T) {
	t.Parallel() // a cluster and states of its own
	r, logs, b := restoreAfter(t, 3, []handOver{{"a", 2}, {"b", 2}})
	waitRecords(t, 2, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 2 || st.Problem() != "" {
		t.Errorf("restored: records %d, problem %q; want offsets 3..4 read again, no problem", st.Records, st.Problem())
	}
	for _, want := range []string{"counted offsets 3..4 since", "read again from 3", "offsets 5..6 were counted by another replica"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "offsets 3..6") {
		t.Errorf("log names 3..6 (b counted 5..6 only):\n%s", logs.String())
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 7 {
		t.Errorf("stored position %v (%v), want 7", next, err)
	}
	checkNoOverlap(t, r, b)
}

// TestRestoreChainByCustody (attack run 33 F4): a counts 3..4 after its
// backup, b 5..6, a 7..8; a's backup restored found the group's offset
// committed by itself and read 3..8 again, b's 5..6 counted twice, with a
// warning saying a counted them. By the custody it reads again 3..4 and
// 7..8 only.
func TestRestoreChainByCustody(t *testing.T) {
	t.Parallel() // a cluster and states of its own
	r, logs, b := restoreAfter(t, 3, []handOver{{"a", 2}, {"b", 2}, {"a", 2}})
	waitRecords(t, 4, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 4 || st.Problem() != "" {
		t.Errorf("restored: records %d, problem %q; want offsets 3..4 and 7..8 read again, no problem", st.Records, st.Problem())
	}
	for _, want := range []string{"the group's offset 9 was committed by this state file", "counted offsets 3..4, 7..8 since", "offsets 5..6 were counted by another replica"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 9 {
		t.Errorf("stored position %v (%v), want 9", next, err)
	}
	checkNoOverlap(t, r, b)
}
