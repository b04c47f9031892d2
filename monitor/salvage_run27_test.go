package monitor

import (
	"context"
	"encoding/binary"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// scanOptions: hour windows, no checkpoint unless the clock says so.
func scanOptions(now func() time.Time) Options {
	return Options{Now: now, SampleSize: 16, CheckpointInterval: 30 * time.Minute,
		FlushInterval: time.Millisecond, EvalInterval: 24 * time.Hour}
}

// buildScanState writes a state file by many commits (one per Observe) of
// model "m" stage input, with a checkpoint after the first ckptAt batches
// when ckptAt > 0 (its log entries freed: older versions of the tree's
// pages left on disk), then opens and closes it again so that its marker
// counts every acknowledged row while its log stays (no checkpoint after
// the reopen). It returns the rows acknowledged.
func buildScanState(t *testing.T, path string, batches, ckptAt int) int64 {
	t.Helper()
	a := testArtifact(t)
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	m, err := Open(path, scanOptions(clock))
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for i := 0; i < batches; i++ {
		if ckptAt > 0 && i == ckptAt {
			now.Add(int64(31 * time.Minute)) // the next commit checkpoints (same window)
		}
		cols, n := crashBatch(i)
		if err := m.Observe(context.Background(), "m", a, StageInput, cols, n); err != nil {
			t.Fatal(err)
		}
		rows += int64(n)
	}
	m.abandon = true // keep the log after the last checkpoint
	m.Close()
	m, err = Open(path, scanOptions(clock)) // the marker counts every row
	if err != nil {
		t.Fatal(err)
	}
	m.abandon = true
	m.Close()
	return rows
}

// scanLayout walks the intact file's tree (independently of pagewalk.go)
// and returns its page size, the lower of the page ids of the root
// bucket's page and of the log bucket's root page (a cut there loses the
// tree above every log entry), and per leaf page id (with its
// overflow) the rows of the log entries of stage key it holds.
func scanLayout(t *testing.T, path string, key []byte) (ps, upper uint64, leafRows map[uint64]int64, leafEnd map[uint64]uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	meta := func(i uint64) (root, txid uint64) {
		m := b[i*4096+16:]
		return le.Uint64(m[16:]), le.Uint64(m[48:])
	}
	ps = uint64(le.Uint32(b[16+8:]))
	root, tx0 := meta(0)
	if r1, tx1 := meta(1); tx1 > tx0 {
		root = r1
	}
	upper = root
	leafRows, leafEnd = map[uint64]int64{}, map[uint64]uint64{}
	var walk func(id uint64, path []string)
	walk = func(id uint64, path []string) {
		p := b[id*ps:]
		flags, count, overflow := le.Uint16(p[8:]), int(le.Uint16(p[10:])), uint64(le.Uint32(p[12:]))
		for i := 0; i < count; i++ {
			e := p[16+16*i:]
			if flags == boltBranchFlag {
				walk(le.Uint64(e[8:]), path)
				continue
			}
			f, pos, ks, vs := le.Uint32(e), le.Uint32(e[4:]), le.Uint32(e[8:]), le.Uint32(e[12:])
			k := e[pos : pos+ks]
			v := e[pos+ks : pos+ks+vs]
			if f == boltBucketLeafFlag {
				if r := le.Uint64(v); r != 0 {
					if len(path) == 0 && string(k) == "log" {
						upper = min(upper, r)
					}
					walk(r, append(path, string(k)))
				}
				continue
			}
			if len(path) == 2 && path[0] == "log" && path[1] == string(key) {
				entry, err := unseal(bucketLog, key, k, v)
				if err != nil {
					t.Fatal(err)
				}
				decodeEntry(entry, func(_ uint64, _ []featureDesc, rec []byte) error {
					leafRows[id] += recordRows(rec)
					return nil
				})
				leafEnd[id] = (id + 1 + overflow) * ps
			}
		}
	}
	walk(root, nil)
	return ps, upper, leafRows, leafEnd
}

// TestRecoverScansLeavesPastLostUpperPages (attack run 27 F8): a state
// file written by many commits, truncated where the tree's upper pages
// (the root bucket's page, the log's branch pages) lie, so that the walk
// from the root reaches nothing. Recover keeps the log entries of every
// leaf page wholly before the cut, found by a scan of the pages, counts
// the rest lost against the marker (kept + lost = acknowledged), and the
// recovered file holds the rows kept, each once. With a checkpoint in the
// middle (older versions of log pages freed but left on disk, and the
// checkpoint lost with the root's page) no row is kept twice: the rows
// kept are at most those acknowledged.
func TestRecoverScansLeavesPastLostUpperPages(t *testing.T) {
	for _, c := range []struct {
		name   string
		ckptAt int
	}{{"log only", 0}, {"checkpoint midway", 300}} {
		t.Run(c.name, func(t *testing.T) {
			path := t.TempDir() + "/state.db"
			acked := buildScanState(t, path, 1500, c.ckptAt)
			key := []byte("m\x00input")
			ps, upper, leafRows, leafEnd := scanLayout(t, path, key)
			var before, all int64
			leaves := 0
			for id, n := range leafRows {
				all += n
				if leafEnd[id] <= upper*ps {
					before += n
					leaves++
				}
			}
			if leaves < 5 || before < all/3 {
				t.Fatalf("layout: the upper pages start at page %d, %d leaf pages (%d of %d rows of the log) before them; want a file whose upper pages come last", upper, leaves, before, all)
			}
			if err := os.Truncate(path, int64(upper*ps)); err != nil {
				t.Fatal(err)
			}
			rep, err := Recover(path, scanOptions(nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("cut at page %d: %d leaf pages, %d of %d rows before it\n%s", upper, leaves, before, acked, rep)
			if len(rep.Stages) != 1 {
				t.Fatalf("stages %+v, want model m stage input", rep.Stages)
			}
			s := rep.Stages[0]
			if !s.Counted || s.RowsKept+s.RowsLost != acked {
				t.Errorf("rows kept %d + lost %d (counted %v), want %d acknowledged", s.RowsKept, s.RowsLost, s.Counted, acked)
			}
			switch {
			case c.ckptAt == 0 && s.RowsKept != before:
				t.Errorf("rows kept %d, want the %d of the leaf pages before the cut", s.RowsKept, before)
			case s.RowsKept < before || s.RowsKept > acked:
				t.Errorf("rows kept %d, want from the %d of the leaf pages before the cut to the %d acknowledged", s.RowsKept, before, acked)
			}
			m, err := Open(path, scanOptions(nil))
			if err != nil {
				t.Fatalf("Open after Recover: %v", err)
			}
			defer m.Close()
			var held int64
			for _, ss := range m.stageStates() {
				held += ss.held
			}
			if held != s.RowsKept {
				t.Errorf("the recovered file holds %d rows, the report says %d kept", held, s.RowsKept)
			}
		})
	}
}
