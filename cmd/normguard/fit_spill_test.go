package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// TestSpillAutoCompressed checks that --spill auto judges a compressed
// file by the text it holds, not by its own size (issue 12, F2: a 10 MB
// .gz of 2 GB of rows never spilled, and fit took 4.6 GB).
func TestSpillAutoCompressed(t *testing.T) {
	mem := memoryBytes()
	if mem <= 0 {
		t.Skip("memory size unknown")
	}
	dir := t.TempDir()
	// A zstd frame header recording 4 times the machine's memory of
	// content (only the header is read to decide).
	big := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0}
	big = binary.LittleEndian.AppendUint64(big, uint64(4*mem))
	big = append(big, 0x01, 0x00, 0x00) // an empty last raw block
	// A small gzip file: its text is small too.
	var small bytes.Buffer
	zw := gzip.NewWriter(&small)
	zw.Write([]byte("a\n1\n"))
	zw.Close()
	for _, tc := range []struct {
		name  string
		data  []byte
		spill bool
	}{
		{"big.csv.zst", big, true},
		{"small.csv.gz", small.Bytes(), false},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, spill, err := memoryPlan(fitOptions{data: path, spill: "auto", spillDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if got := !spill.InMemory(); got != tc.spill {
			t.Errorf("%s: spills %v, want %v", tc.name, got, tc.spill)
		}
		spill.Close()
	}
}
