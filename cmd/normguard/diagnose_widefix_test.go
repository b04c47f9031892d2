package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFileHeaderWide (attack run 8 F6): diagnose asks a data file's header
// for the columns it reads; the answer is the size of the question, not
// of a header of 100,000 columns (a set of every name took diagnose to
// 1.95 GB on 1.5 million).
func TestFileHeaderWide(t *testing.T) {
	var b strings.Builder
	b.WriteString("delay,distance")
	for i := 0; i < 100000; i++ {
		b.WriteString(",c" + strconv.Itoa(i))
	}
	b.WriteString("\n1,2" + strings.Repeat(",", 100000) + "\n")
	p := filepath.Join(t.TempDir(), "wide.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := fileHeader(p, []string{"distance", "origin", "c99999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || !h["distance"] || h["origin"] || !h["c99999"] || h["delay"] {
		t.Errorf("fileHeader = %v, want distance and c99999 present, origin absent, nothing else", h)
	}
}
