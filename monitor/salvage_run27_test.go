package monitor

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
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
func buildScanState(t testing.TB, path string, batches, ckptAt int) int64 {
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

// TestScanKeepsEachRecordOnce checks the rules by which Recover keeps the
// records a scan of unreached pages finds (attack run 27 F8): the walk's
// copy wins, copies that agree are one record, copies that differ are a
// record lost, a log entry sharing a sequence number with another is
// lost, one within the checkpoint's sequence number and a window no later
// than the history's newest are left out (counted where they went), a
// stage is never above its ledger, a ledger record found is not used, and
// a value that verifies under no bucket is not counted.
func TestScanKeepsEachRecordOnce(t *testing.T) {
	in, out, other := []byte("m\x00input"), []byte("m\x00output"), []byte("k\x00input")
	const w = int64(3600e9)
	logKey := func(start int64, first uint64) []byte {
		return binary.BigEndian.AppendUint64(windowKey(start), first)
	}
	entry := func(first uint64, recs int) []byte {
		rs := make([]entryRecord, recs)
		for i := range rs {
			rs[i] = entryRecord{data: []byte{1}} // one row each
		}
		return encodeEntry(first, [][]featureDesc{{}}, rs)
	}
	orphan := func(page uint64, top, sub, key, payload []byte) orphanValue {
		return orphanValue{page: page, key: key, val: seal(top, sub, key, payload)}
	}
	rep := &RecoveryReport{Kept: map[string]int{}, Lost: map[string]int{}}
	walkedKey := logKey(w, 1)
	sc := &scan{rep: rep, ledger: map[string]int64{string(in): 100, string(other): 3},
		values: []salvagedValue{{top: bucketLog, sub: in, key: walkedKey, val: seal(bucketLog, in, walkedKey, entry(1, 1))}},
		walked: map[string]bool{recordID(bucketLog, in, walkedKey): true}}
	orphans := []orphanValue{
		orphan(10, bucketLog, in, walkedKey, entry(1, 2)),                 // the walk's copy wins
		orphan(10, bucketLog, in, logKey(w, 2), entry(2, 1)),              // kept once:
		orphan(11, bucketLog, in, logKey(w, 2), entry(2, 1)),              // the same bytes
		orphan(10, bucketLog, in, logKey(w, 3), entry(3, 1)),              // copies that differ:
		orphan(12, bucketLog, in, logKey(w, 3), entry(3, 2)),              // one record lost
		orphan(13, bucketLog, in, logKey(w, 4), entry(4, 2)),              // seqs 4-5 and
		orphan(13, bucketLog, in, logKey(w, 5), entry(5, 1)),              // 5: both lost
		orphan(14, bucketHistory, in, windowKey(0), []byte(`{"rows":7}`)), // kept
		orphan(15, bucketLog, in, logKey(0, 9), entry(9, 1)),              // closed since: left out
		orphan(16, bucketCkpt, out, keyStage, binary.BigEndian.AppendUint64(nil, 10)),
		orphan(17, bucketLog, out, logKey(w, 6), entry(6, 1)),                    // in the checkpoint: left out
		orphan(17, bucketLog, out, logKey(w, 11), entry(11, 1)),                  // kept
		orphan(18, bucketLog, other, logKey(w, 1), entry(1, 2)),                  // 2 + 2 rows over the
		orphan(18, bucketLog, other, logKey(w, 3), entry(3, 2)),                  // ledger's 3: both lost
		orphan(19, bucketLedger, nil, in, binary.BigEndian.AppendUint64(nil, 1)), // not used
		{page: 20, key: []byte("format"), val: []byte(storeFormat)},              // no seal
	}
	sc.resolve(orphans, [][]byte{in, out, other})
	if want := map[string]int{"log": 2, "history": 1, "checkpoint": 1}; !maps.Equal(rep.Kept, want) {
		t.Errorf("kept %v, want %v", rep.Kept, want)
	}
	if want := map[string]int{"log": 5}; !maps.Equal(rep.Lost, want) {
		t.Errorf("lost %v, want %v", rep.Lost, want)
	}
	if sc.conflicts != 1 || sc.stale != 2 || sc.ledgers != 1 || sc.unverified != 1 || sc.kept != 4 {
		t.Errorf("conflicts %d stale %d ledgers %d unverified %d kept %d, want 1 2 1 1 4\n%s", sc.conflicts, sc.stale, sc.ledgers, sc.unverified, sc.kept, sc.describe(9, false))
	}
	if sc.ledger[string(in)] != 100 {
		t.Errorf("the walk's ledger became %d", sc.ledger[string(in)])
	}
	var keys []string
	for _, v := range sc.values {
		keys = append(keys, fmt.Sprintf("%s/%q/%x", v.top, v.sub, v.key))
	}
	want := []string{
		fmt.Sprintf("log/%q/%x", in, walkedKey),
		fmt.Sprintf("log/%q/%x", in, logKey(w, 2)),
		fmt.Sprintf("history/%q/%x", in, windowKey(0)),
		fmt.Sprintf("ckpt/%q/%x", out, keyStage),
		fmt.Sprintf("log/%q/%x", out, logKey(w, 11)),
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("values\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
}
