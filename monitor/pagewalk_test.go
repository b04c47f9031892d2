package monitor

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The state files of attack run 4 (finding F3), each one byte off an
// intact state file written by normguard serve: bbolt, given them, took
// more than 17 GB (a flipped flag of an inline bucket's page), died out
// of memory (a page's overflow count set to 0xff000000) or dereferenced
// nil (a value size of 8 MB in a 4 KB page). Gzipped in testdata/pagewalk.
var attackFiles = []struct{ name, want string }{
	{"monitor.db", `page 3 (of the file's root bucket) is damaged: the inline page of its bucket "history" has flags 0x22`},
	{"monitor_overflow.db", "page 5 (the freelist) is damaged: its overflow of 4278190080 pages runs past the 23 pages in use"},
	{"monitor_nilderef.db", "page 4 (of the file's root bucket) is damaged: element 0 (pos 96, key 4 bytes, value 8323104 bytes) ends at byte 8323220, past the page's 4096 bytes"},
}

// pageWalkChildMemory is the memory past which the child process gives up
// (a blowup); pageWalkAllocBound what Open or Recover of a 128 KB file may
// allocate in all.
const (
	pageWalkChildMemory = 1 << 30
	pageWalkAllocBound  = 32 << 20
)

// TestPageWalkChild is the process TestPageWalkAttackFiles runs: it opens
// and then recovers each file of the folder in NORMGUARD_PAGEWALK_DIR and
// prints a line per step (the error's first line, bytes allocated,
// milliseconds), and exits at once when the process holds more than
// pageWalkChildMemory.
func TestPageWalkChild(t *testing.T) {
	dir := os.Getenv("NORMGUARD_PAGEWALK_DIR")
	if dir == "" {
		t.Skip("run by TestPageWalkAttackFiles")
	}
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		for {
			metrics.Read(s)
			if s[0].Value.Uint64() > pageWalkChildMemory {
				fmt.Printf("memory %d bytes: gave up\n", s[0].Value.Uint64())
				os.Exit(3)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	step := func(name, what string, fn func() error) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := fn()
		ms := time.Since(start).Milliseconds()
		runtime.ReadMemStats(&after)
		msg := "ok"
		if err != nil {
			msg = firstLine(err)
			var de *DamageError
			if errors.As(err, &de) {
				msg = "damaged: " + de.What
			}
		}
		fmt.Printf("%s %s alloc=%d ms=%d %s\n", name, what, after.TotalAlloc-before.TotalAlloc, ms, msg)
	}
	for _, f := range attackFiles {
		path := filepath.Join(dir, f.name)
		step(f.name, "open", func() error {
			m, err := Open(path, damageOptions(nil))
			if err == nil {
				m.Close()
			}
			return err
		})
		step(f.name, "recover", func() error {
			rep, err := Recover(path, damageOptions(nil))
			if err == nil {
				fmt.Printf("%s report %q\n", f.name, rep.String())
			}
			return err
		})
		step(f.name, "reopen", func() error {
			m, err := Open(path, damageOptions(nil))
			if err == nil {
				m.Close()
			}
			return err
		})
	}
}

// TestPageWalkAttackFiles: each file of finding F3 is refused at Open with
// a DamageError naming the damaged page, in little time and memory, and
// Recover finishes on it, keeping the records its intact pages hold. The
// files are opened in a child process that stops itself past 1 GB, so a
// regression fails the test instead of the machine.
func TestPageWalkAttackFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range attackFiles {
		unpackGz(t, filepath.Join("testdata", "pagewalk", f.name+".gz"), filepath.Join(dir, f.name))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPageWalkChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NORMGUARD_PAGEWALK_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child process failed (%v):\n%.3000s", err, out)
	}
	results := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.SplitN(sc.Text(), " ", 3); len(f) == 3 {
			results[f[0]+" "+f[1]] = f[2]
		}
	}
	for _, f := range attackFiles {
		check := func(what string, wantMsg string) {
			line, ok := results[f.name+" "+what]
			var alloc, ms int64
			var msg string
			if ok {
				if _, err := fmt.Sscanf(line, "alloc=%d ms=%d", &alloc, &ms); err != nil {
					ok = false
				}
				if i := strings.Index(line, " "); i >= 0 {
					if j := strings.Index(line[i+1:], " "); j >= 0 {
						msg = line[i+1+j+1:]
					}
				}
			}
			switch {
			case !ok:
				t.Errorf("%s: no %s result in the child's output:\n%.3000s", f.name, what, out)
			case !strings.Contains(msg, wantMsg):
				t.Errorf("%s: %s: got %q, want %q", f.name, what, msg, wantMsg)
			case alloc > pageWalkAllocBound || ms > 5000:
				t.Errorf("%s: %s allocated %d bytes in %d ms, want at most %d bytes and 5 s", f.name, what, alloc, ms, pageWalkAllocBound)
			}
		}
		check("open", "damaged: "+f.want)
		check("recover", "ok")
		check("reopen", "ok")
		if rep := results[f.name+" report"]; !strings.Contains(rep, `all 5 rows kept`) {
			t.Errorf("%s: recovery report %s, want the 5 rows of model peng kept", f.name, rep)
		}
	}
}

func unpackGz(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// boltTestFile writes a bbolt file with a bucket "b" of 3000 keys (a
// branch page over leaves), an inline bucket "small" inside it, a bucket
// "big" holding a value of 3 pages, and free pages. It returns the file's
// bytes.
func boltTestFile(t *testing.T, path string) []byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		for i := 0; i < 3000; i++ {
			if err := b.Put([]byte(fmt.Sprintf("key%06d", i)), []byte("value")); err != nil {
				return err
			}
		}
		small, err := b.CreateBucket([]byte("small"))
		if err != nil {
			return err
		}
		if err := small.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		return big.Put([]byte("v"), bytes.Repeat([]byte("x"), 10000))
	})
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error { // frees pages
			b := tx.Bucket([]byte("b"))
			for i := 0; i < 3000; i += 2 {
				if err := b.Delete([]byte(fmt.Sprintf("key%06d", i))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// boltLayout finds, in a file from boltTestFile, the newest meta, the
// page of bucket "b"'s root (a branch page) and one of its leaves.
func boltLayout(t *testing.T, data []byte) (m boltMeta, branch, leaf uint64) {
	t.Helper()
	m0, m1 := parseMeta(data), parseMeta(data[4096:])
	m = m0
	if m1.txid > m0.txid {
		m = m1
	}
	le := binary.LittleEndian
	ps := uint64(m.pageSize)
	// The root leaf: find the element of key "b".
	root := data[m.root*ps:]
	for i := 0; i < int(le.Uint16(root[10:])); i++ {
		e := root[16+16*i:]
		pos, ksize := le.Uint32(e[4:]), le.Uint32(e[8:])
		if string(e[pos:pos+ksize]) == "b" {
			branch = le.Uint64(e[pos+ksize:])
		}
	}
	p := data[branch*ps:]
	if branch == 0 || le.Uint16(p[8:]) != boltBranchFlag || le.Uint16(p[10:]) < 3 {
		t.Fatalf("bucket b's root page %d is not a branch page of 3 or more elements", branch)
	}
	leaf = le.Uint64(p[16+8:]) // element 0's child
	return m, branch, leaf
}

// TestPageWalkAcceptsIntact: the walk accepts an intact bbolt file with
// branch pages, an inline bucket, an overflowing value and a freelist,
// also with the freelist's count in its long form (0xFFFF, then the count
// as the first id), which bbolt writes past 65534 free pages.
func TestPageWalkAcceptsIntact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	data := boltTestFile(t, path)
	if _, err := checkFile(path); err != nil {
		t.Fatalf("an intact file: %v", err)
	}
	m, _, _ := boltLayout(t, data)
	le := binary.LittleEndian
	fl := data[m.freelist*4096:]
	n := uint64(le.Uint16(fl[10:]))
	if n == 0 || 16+8*(n+1) > 4096 {
		t.Fatalf("freelist of %d ids: want some, fitting one page with a count before them", n)
	}
	copy(fl[24:24+8*n], fl[16:16+8*n])
	le.PutUint64(fl[16:], n)
	le.PutUint16(fl[10:], boltFreelistBig)
	if err := walkFile(bytes.NewReader(data), m, int64(len(data))); err != nil {
		t.Fatalf("a freelist count in its long form: %v", err)
	}
}

// TestPageWalkRefuses damages a bbolt file one way at a time and checks
// that checkFile refuses it naming the page and what is wrong.
func TestPageWalkRefuses(t *testing.T) {
	dir := t.TempDir()
	intact := boltTestFile(t, filepath.Join(dir, "intact.db"))
	m, branch, leaf := boltLayout(t, intact)
	le := binary.LittleEndian
	at := func(page, off uint64) uint64 { return page*4096 + off }
	for _, c := range []struct {
		name   string
		damage func(d []byte)
		want   string
	}{
		{"a cycle", func(d []byte) { le.PutUint64(d[at(branch, 16+16+8):], branch) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: it is reached twice", branch)},
		{"a child past the pages in use", func(d []byte) { le.PutUint64(d[at(branch, 16+16+8):], m.pgid+5) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: it is referred to, but is outside the pages in use", m.pgid+5)},
		{"a child on a meta page", func(d []byte) { le.PutUint64(d[at(branch, 16+16+8):], 1) },
			"page 1 (of bucket \"b\") is damaged: it is referred to, but is outside the pages in use"},
		{"a child on the freelist", func(d []byte) { le.PutUint64(d[at(branch, 16+16+8):], m.freelist) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: its flags are 0x10, not a branch or leaf page", m.freelist)},
		{"branch keys out of order", func(d []byte) { d[at(branch, 16+16+uint64(le.Uint32(d[at(branch, 16+16):])))] = 'a' },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: its keys are out of order at element 1", branch)},
		{"leaf keys out of order", func(d []byte) { d[at(leaf, 16+16+uint64(le.Uint32(d[at(leaf, 16+16+4):])))] = 'a' },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: its keys are out of order at element 1", leaf)},
		{"a leaf's count", func(d []byte) { le.PutUint16(d[at(leaf, 10):], 0xFFFE) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: its 65534 elements do not fit in its 4096 bytes", leaf)},
		{"a leaf value's size", func(d []byte) { le.PutUint32(d[at(leaf, 16+12):], 1<<31) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: element 0 (pos", leaf)},
		{"a leaf element's flags", func(d []byte) { le.PutUint32(d[at(leaf, 16):], 0x40) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: element 0 has flags 0x40", leaf)},
		{"a leaf's overflow", func(d []byte) { le.PutUint32(d[at(leaf, 12):], 1<<30) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: its overflow of 1073741824 pages runs past", leaf)},
		{"a branch's flags", func(d []byte) { d[at(branch, 8)] = 0x22 },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: its flags are 0x22, not a branch or leaf page", branch)},
		{"an empty branch", func(d []byte) { le.PutUint16(d[at(branch, 10):], 0) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: it is a branch page without elements", branch)},
		{"a page's id", func(d []byte) { le.PutUint64(d[at(leaf, 0):], leaf+1) },
			fmt.Sprintf("page %d (of bucket \"b\") is damaged: its header gives id %d", leaf, leaf+1)},
		{"the freelist's long count", func(d []byte) {
			le.PutUint16(d[at(m.freelist, 10):], boltFreelistBig)
			le.PutUint64(d[at(m.freelist, 16):], 1<<40)
		}, fmt.Sprintf("page %d (the freelist) is damaged: it lists 1099511627776 free pages, more than the %d pages in use", m.freelist, m.pgid)},
		{"the freelist's count", func(d []byte) { le.PutUint16(d[at(m.freelist, 10):], 0xFFF0) },
			fmt.Sprintf("page %d (the freelist) is damaged: it lists 65520 free pages, more than the %d pages in use", m.freelist, m.pgid)},
		{"a free id past the pages in use", func(d []byte) { le.PutUint64(d[at(m.freelist, 16):], m.pgid) },
			fmt.Sprintf("page %d (the freelist) is damaged: free page id %d is outside the pages in use", m.freelist, m.pgid)},
		{"a free page in use", func(d []byte) { le.PutUint64(d[at(m.freelist, 16):], leaf) },
			fmt.Sprintf("page %d (the freelist) is damaged: page %d is listed free but is in use", m.freelist, leaf)},
		{"a meta page's header", func(d []byte) { d[at(1, 8)] = 0x14 },
			"page 1 (a meta page) is damaged: its header is damaged (id 1, flags 0x14)"},
		// Attack run 5: bbolt skips a meta of another version and uses the
		// other, older one, whose tree was not walked (N2); a meta without
		// a freelist makes bbolt rebuild one, which panics on a tree whose
		// keys disagree across pages (N1). Both metas' checksums are
		// recomputed, so only the field is wrong.
		{"a meta's version", func(d []byte) { resealMeta(d, newestMeta(d), func(m []byte) { le.PutUint32(m[4:], 3) }) },
			"fails its checks (magic, version 2, checksum)"},
		// Attack run 6: a transaction id near 2^64 wrapped at the next
		// commit, which overwrote pages in use; an id on the wrong page
		// made the older meta look newest.
		{"a meta's transaction id past 2^63", func(d []byte) {
			n := newestMeta(d)
			resealMeta(d, n, func(m []byte) { le.PutUint64(m[48:], 1<<64-2+uint64(n)) })
		}, "which bbolt never writes there"},
		{"a meta's transaction id on the wrong page", func(d []byte) {
			n := newestMeta(d)
			resealMeta(d, 1-n, func(m []byte) { le.PutUint64(m[48:], le.Uint64(d[n*4096+boltMetaOffset+48:])+2) })
		}, "which bbolt never writes there"},
		{"a meta without a freelist", func(d []byte) { resealMeta(d, newestMeta(d), func(m []byte) { le.PutUint64(m[32:], boltNoFreelist) }) },
			"records no freelist"},
	} {
		d := append([]byte(nil), intact...)
		c.damage(d)
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".db")
		if err := os.WriteFile(path, d, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := checkFile(path)
		var de *DamageError
		if !errors.As(err, &de) || !strings.Contains(de.What, c.want) {
			t.Errorf("%s: got %v, want a DamageError saying %q", c.name, err, c.want)
			continue
		}
		// Only a meta failing its checks leaves the older commit as the
		// state: a recovery then says a later commit may be lost. The
		// text once decided this, and "records no freelist" matched.
		if older := strings.Contains(c.want, "fails its checks"); de.olderMeta != older {
			t.Errorf("%s: olderMeta %v, want %v", c.name, de.olderMeta, older)
		}
	}
}

// TestPageWalkInlinePage: the page of an inline bucket must give id and
// overflow 0, as bbolt writes them: bbolt frees the page of that id when
// it writes the bucket again, and a random id (a fuzzed state file) made
// the first checkpoint after Open panic in the committer.
func TestPageWalkInlinePage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inline.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("in"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkFile(path); err != nil {
		t.Fatalf("intact: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m0, m1 := parseMeta(data), parseMeta(data[4096:])
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	le := binary.LittleEndian
	root := data[m.root*4096:]
	if le.Uint16(root[10:]) != 1 || le.Uint32(root[16:]) != boltBucketLeafFlag {
		t.Fatalf("the root page does not hold one bucket")
	}
	pos, ksize := le.Uint32(root[20:]), le.Uint32(root[24:])
	value := root[16+pos+ksize:]
	if le.Uint64(value) != 0 {
		t.Fatalf("bucket in is not inline")
	}
	le.PutUint64(value[16:], 0xec0000000000)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = checkFile(path)
	want := fmt.Sprintf(`page %d (of the file's root bucket) is damaged: the inline page of its bucket "in" gives page id %d and overflow 0, where both are 0`, m.root, uint64(0xec0000000000))
	var de *DamageError
	if !errors.As(err, &de) || de.What != want {
		t.Fatalf("got %v, want a DamageError saying %q", err, want)
	}
}

// TestPageWalkDepth: a chain of branch pages deeper than maxTreeDepth is
// refused, each page visited once.
func TestPageWalkDepth(t *testing.T) {
	const ps = 4096
	pages := uint64(maxTreeDepth + 10)
	data := make([]byte, pages*ps)
	le := binary.LittleEndian
	// Pages 2 .. pages-1: a branch page of one element, child the next
	// page; the last one a leaf without elements.
	for id := uint64(2); id < pages; id++ {
		p := data[id*ps:]
		le.PutUint64(p, id)
		if id == pages-1 {
			le.PutUint16(p[8:], boltLeafFlag)
			continue
		}
		le.PutUint16(p[8:], boltBranchFlag)
		le.PutUint16(p[10:], 1)
		le.PutUint32(p[16:], 16) // pos: the key right after the element
		le.PutUint32(p[20:], 1)
		le.PutUint64(p[24:], id+1)
		p[32] = 'k'
	}
	for id := uint64(0); id < 2; id++ {
		le.PutUint64(data[id*ps:], id)
		le.PutUint16(data[id*ps+8:], boltMetaFlag)
	}
	m := boltMeta{ok: true, pageSize: ps, root: 2, freelist: boltNoFreelist, pgid: pages}
	err := walkFile(bytes.NewReader(data), m, int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("the tree is deeper than %d levels", maxTreeDepth)) {
		t.Fatalf("got %v, want the tree refused as too deep", err)
	}
}

// BenchmarkPageWalk measures the walk of checkFile against Open on a
// state of 200 models, each with 30 closed windows in its history and a
// log of 200 batches after its checkpoint (about 40 MB): NORMGUARD_PAGEWALK_STATE
// names a file to reuse (it is built there when missing).
func BenchmarkPageWalk(b *testing.B) {
	path := os.Getenv("NORMGUARD_PAGEWALK_STATE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "monitor.db")
	}
	if _, err := os.Stat(path); err != nil {
		buildLargeState(b, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	m0, m1 := parseMeta(data), parseMeta(data[m0pageSize(data):])
	meta := m0
	if m1.txid > m0.txid {
		meta = m1
	}
	data = nil
	b.Logf("%s: %d bytes, %d pages of %d bytes in use", path, st.Size(), meta.pgid, meta.pageSize)
	b.Run("walk", func(b *testing.B) {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := walkFile(f, meta, st.Size()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m, err := Open(path, damageOptions(func() time.Time { return t0 }))
			if err != nil {
				b.Fatal(err)
			}
			m.abandon = true // leave the file as it is
			m.Close()
		}
	})
}

func m0pageSize(data []byte) int {
	if m := parseMeta(data); m.ok {
		return int(m.pageSize)
	}
	return 4096
}

// buildLargeState writes the state of BenchmarkPageWalk.
func buildLargeState(b *testing.B, path string) {
	a := testArtifact(b)
	now := t0
	m, err := Open(path, damageOptions(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for w := 0; w < 31; w++ {
		batches := 10
		if w == 30 {
			batches = 200
		}
		for i := 0; i < batches; i++ {
			for k := 0; k < 200; k++ {
				cols, n := crashBatch(i + k)
				m.ObserveAsync(fmt.Sprintf("model%03d", k), a, StageInput, cols, n)
			}
		}
		if err := m.barrier(ctx); err != nil {
			b.Fatal(err)
		}
		if w < 30 {
			now = now.Add(time.Hour)
			if err := m.Evaluate(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	m.abandon = true // keep the log after the last checkpoint
	m.Close()
}

// newestMeta returns the page (0 or 1) of the meta with the higher txid
// in a file of 4096-byte pages.
func newestMeta(d []byte) int {
	if parseMeta(d[4096:]).txid > parseMeta(d).txid {
		return 1
	}
	return 0
}

// resealMeta changes meta page n with edit (given the meta's fields from
// the magic on) and writes its checksum again.
func resealMeta(d []byte, n int, edit func(m []byte)) {
	m := d[n*4096+boltMetaOffset:]
	edit(m)
	h := fnv.New64a()
	h.Write(m[:boltMetaSumSpan])
	binary.LittleEndian.PutUint64(m[boltMetaSumSpan:], h.Sum64())
}
