package odirect

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// alignedBuffer returns a heap buffer of length n whose address is a
// multiple of align (Go does not move heap objects).
func alignedBuffer(n int) []byte {
	b := make([]byte, n+align)
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (align - 1))
	if off != 0 {
		off = align - off
	}
	return b[off : off+n : off+n]
}

// pattern returns n bytes that differ from one offset to the next, so a
// dropped, repeated or misplaced block shows.
func pattern(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// writeChunks writes want through w in chunks of random sizes (some
// larger than a buffer) and closes w.
func writeChunks(t *testing.T, w *Writer, want []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 5))
	for p := want; len(p) > 0; {
		k := min(len(p), 1+rng.IntN(3*BufferSize/2))
		n, err := w.Write(p[:k])
		if err != nil || n != k {
			t.Fatalf("Write(%d bytes) = %d, %v", k, n, err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("file has %d bytes, want %d; first difference at byte %d", len(got), len(want), i)
	}
}

// TestWriterBytes checks that the file holds exactly what was written,
// for sizes around the buffer size and the block alignment, through the
// direct path where the file system allows it; the largest size passes
// two early syncs (SyncEvery) on the way.
func TestWriterBytes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, align - 1, align, align + 1, BufferSize - 1, BufferSize, BufferSize + 1,
		3*BufferSize + 12345, 7*BufferSize + align, 2*SyncEvery + BufferSize + 5} {
		path := filepath.Join(dir, "out")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := New(f)
		want := pattern(n)
		writeChunks(t, w, want)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		checkFile(t, path, want)
		t.Logf("%d bytes, direct=%v", n, w.Direct())
	}
}

// TestWriterPassThrough checks the writer where O_DIRECT is not used.
func TestWriterPassThrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &Writer{f: f}
	want := pattern(2*BufferSize + 99)
	writeChunks(t, w, want)
	checkFile(t, path, want)
}

// TestWriteDirectFallback gives the direct file a write it refuses (an
// unaligned length): the writer turns O_DIRECT off and the bytes still
// land in place.
func TestWriteDirectFallback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := New(f)
	if !w.Direct() {
		t.Skip("O_DIRECT is not available here")
	}
	want := pattern(BufferSize + align + 17)
	first := alignedBuffer(BufferSize)
	copy(first, want)
	if err := w.writeDirect(first); err != nil {
		t.Fatal(err)
	}
	odd := alignedBuffer(2 * align)[:align+17]
	copy(odd, want[BufferSize:])
	if err := w.writeDirect(odd); err != nil {
		t.Fatalf("unaligned write: %v", err)
	}
	w.Abort()
	checkFile(t, path, want)
}

// TestWriterError checks that a file that cannot be written gives an
// error from Write or Close, without a hang, and that the writer refuses
// writes after Close.
func TestWriterError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path) // read-only
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := New(f)
	var werr error
	data := pattern(3 * BufferSize)
	for i := 0; i < 4 && werr == nil; i++ {
		_, werr = w.Write(data)
	}
	cerr := w.Close()
	if werr == nil && cerr == nil {
		t.Fatal("writing a read-only file reported no error")
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close gave no error")
	}
}
