package table

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestTextSize checks the decompressed size estimate fit --spill auto
// goes by: the size a gzip or zstd file records, or ten times the file
// when it records none or less (issue 12, F2: a .gz was judged by its own
// size and never spilled).
func TestTextSize(t *testing.T) {
	dir := t.TempDir()
	text := []byte("a,b\n" + strings.Repeat("1.5,x\n", 500000)) // 3 MB, compresses ~1000x
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(text)
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	oneFrame := enc.EncodeAll(text, nil) // records its content size
	var stream bytes.Buffer
	sw, _ := zstd.NewWriter(&stream) // a stream: no content size
	sw.Write(text)
	sw.Close()
	small := []byte("a\n1\n")
	var smallGz bytes.Buffer
	zw = gzip.NewWriter(&smallGz)
	zw.Write(small)
	zw.Close()

	tests := []struct {
		path string
		want int64
	}{
		{write("plain.csv", text), int64(len(text))},
		{write("d.csv.gz", gz.Bytes()), int64(len(text))},
		{write("d.csv.zst", oneFrame), int64(len(text))},
		{write("s.csv.zst", stream.Bytes()), 10 * int64(stream.Len())},
		{write("small.csv.gz", smallGz.Bytes()), 10 * int64(smallGz.Len())},
		{write("cut.csv.gz", gz.Bytes()[:5]), 50},
		{write("d.parquet", text), int64(len(text))},
	}
	for _, tc := range tests {
		got, ok := TextSize(tc.path)
		if !ok || got != tc.want {
			t.Errorf("TextSize(%s) = %d, %v; want %d", filepath.Base(tc.path), got, ok, tc.want)
		}
	}
	if _, ok := TextSize("-"); ok {
		t.Error("TextSize(-) is known")
	}
	if _, ok := TextSize(filepath.Join(dir, "absent.csv")); ok {
		t.Error("TextSize of an absent file is known")
	}
}
