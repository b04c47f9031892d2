package monitor

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// TestRecoverFindsTreeWithoutMetaPages zeroes both meta pages of a state
// file whose other pages are intact (attack run 29 F2: recovery kept none
// of the rows): Recover finds the tree by reading every page, keeps every
// acknowledged row, and says how it found it.
func TestRecoverFindsTreeWithoutMetaPages(t *testing.T) {
	for _, c := range []struct {
		name   string
		ckptAt int
	}{{"log only", 0}, {"checkpoint midway", 300}} {
		t.Run(c.name, func(t *testing.T) {
			path := t.TempDir() + "/state.db"
			acked := buildScanState(t, path, 1500, c.ckptAt)
			ps, _, _, _ := scanLayout(t, path, []byte("m\x00input"))
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(make([]byte, 2*ps), 0); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if _, err := Open(path, scanOptions(nil)); err == nil {
				t.Fatal("Open accepted a file without meta pages")
			}
			rep, err := Recover(path, scanOptions(nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s", rep)
			if len(rep.Stages) != 1 {
				t.Fatalf("stages %+v, want model m stage input", rep.Stages)
			}
			if s := rep.Stages[0]; !s.Counted || s.RowsKept != acked || s.RowsLost != 0 {
				t.Errorf("rows kept %d lost %d (counted %v), want all %d acknowledged kept", s.RowsKept, s.RowsLost, s.Counted, acked)
			}
			if !strings.Contains(rep.Uncounted, "neither meta page verifies: the state's tree was found by reading every page") {
				t.Errorf("the report does not say how the tree was found: %q", rep.Uncounted)
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
			if held != acked {
				t.Errorf("the recovered file holds %d rows, want %d", held, acked)
			}
		})
	}
}

// TestRecoverWithoutMetaOrRoots zeroes both meta pages and then, one after
// the other, the root page Recover would take: each time an older tree is
// taken (its missing rows counted against the marker), and once no root
// is left the leaf pages are scanned. Every acknowledged row is kept or
// counted lost, never both, and the rebuilt file holds the rows kept.
func TestRecoverWithoutMetaOrRoots(t *testing.T) {
	for _, c := range []struct {
		name   string
		ckptAt int
	}{{"log only", 0}, {"checkpoint midway", 300}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := dir + "/state.db"
			acked := buildScanState(t, path, 1500, c.ckptAt)
			ps, _, _, _ := scanLayout(t, path, []byte("m\x00input"))
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, 2*ps), 0); err != nil {
				t.Fatal(err)
			}
			mk, err := os.ReadFile(markerPath(path))
			if err != nil {
				t.Fatal(err)
			}
			noRoot := false
			for k := 0; k < 4 && !noRoot; k++ {
				st, err := f.Stat()
				if err != nil {
					t.Fatal(err)
				}
				ft, ok := findTree(f, st.Size())
				if !ok {
					t.Fatal("no page size found")
				}
				if noRoot = ft.meta.root == 0; !noRoot {
					if _, err := f.WriteAt(make([]byte, ps), int64(ft.meta.root*ps)); err != nil {
						t.Fatal(err)
					}
				}
				copyPath := fmt.Sprintf("%s/copy%d.db", dir, k)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(copyPath, b, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(markerPath(copyPath), mk, 0o600); err != nil {
					t.Fatal(err)
				}
				rep, err := Recover(copyPath, scanOptions(nil))
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("root %d zeroed too:\n%s", ft.meta.root, rep)
				if len(rep.Stages) != 1 {
					t.Fatalf("stages %+v, want model m stage input", rep.Stages)
				}
				s := rep.Stages[0]
				if !s.Counted || s.RowsKept+s.RowsLost != acked {
					t.Errorf("rows kept %d + lost %d (counted %v), want the %d acknowledged", s.RowsKept, s.RowsLost, s.Counted, acked)
				}
				m, err := Open(copyPath, scanOptions(nil))
				if err != nil {
					t.Fatalf("Open after Recover: %v", err)
				}
				var held int64
				for _, ss := range m.stageStates() {
					held += ss.held
				}
				m.Close()
				if held != s.RowsKept {
					t.Errorf("the recovered file holds %d rows, the report says %d kept", held, s.RowsKept)
				}
			}
			if !noRoot {
				t.Error("a root was still found after 4 were zeroed; want the scan without a root tried too")
			}
		})
	}
}

// TestSalvageWithoutMetaMutated salvages 400 seeded mutations (bytes
// flipped, pages zeroed or copied over others, the file cut) of a small
// state file whose meta pages are zeroed: finding the tree and scanning
// its pages never panics, whatever the pages hold, and never keeps more
// log rows than were acknowledged.
func TestSalvageWithoutMetaMutated(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/seed.db"
	acked := buildScanState(t, path, 40, 20)
	seed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	clear(seed[:2*ps])
	pages := len(seed) / ps
	r := rand.New(rand.NewPCG(29, 2))
	for i := range 400 {
		data := bytes.Clone(seed)
		for range 1 + r.IntN(4) {
			switch r.IntN(4) {
			case 0:
				data[r.IntN(len(data))] ^= byte(1 + r.IntN(255))
			case 1:
				p := r.IntN(pages)
				clear(data[p*ps : (p+1)*ps])
			case 2:
				a, b := r.IntN(pages), r.IntN(pages)
				copy(data[a*ps:(a+1)*ps], seed[b*ps:(b+1)*ps])
			case 3:
				data = data[:r.IntN(len(data))]
			}
		}
		p := fmt.Sprintf("%s/m%d.db", dir, i)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep := &RecoveryReport{Kept: map[string]int{}, Lost: map[string]int{}}
		values, _, _ := salvage(p, rep)
		var rows int64
		for _, v := range values {
			if string(v.top) != string(bucketLog) {
				continue
			}
			if payload, err := unseal(v.top, v.sub, v.key, v.val); err == nil {
				decodeEntry(payload, func(_ uint64, _ []featureDesc, rec []byte) error {
					rows += recordRows(rec)
					return nil
				})
			}
		}
		if rows > acked {
			t.Errorf("mutation %d: %d log rows kept, more than the %d acknowledged", i, rows, acked)
		}
		os.Remove(p)
	}
}
