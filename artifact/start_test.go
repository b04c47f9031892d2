package artifact

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLoadRefusesFromTheStart: what is not an artifact is refused from
// its first bytes, whatever its size, by Load and Verify alike (attack
// run 4, F12: a 100 MB data file cost 260 MB before its refusal,
// /dev/zero 2.1 GB; a CSV was "not valid JSON ... may be truncated").
func TestLoadRefusesFromTheStart(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "data.csv")
	// Larger than the 4 KiB looked at: the rest is never read.
	body := "bill_length_mm,species\n" + strings.Repeat("39.1,Adelie\n", 100000)
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(spec, []byte("version: 1\ncolumns:\n  - name: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, want string
		is         error
	}{
		{csv, `not an artifact: it starts with "bill_length_mm,species"`, ErrCorrupt},
		{"/dev/zero", `not an artifact: it starts with "\x00\x00`, ErrCorrupt},
		{spec, "is a spec, not an artifact", ErrForeign},
		{dir, "it is a folder", ErrCorrupt},
	} {
		if c.path == "/dev/zero" {
			if _, err := os.Stat(c.path); err != nil {
				continue
			}
		}
		_, err := Load(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.is) {
			t.Errorf("Load(%s): %v; want %q (%v)", c.path, err, c.want, c.is)
		}
		if c.path == "/dev/zero" || c.path == dir {
			continue
		}
		data, _ := os.ReadFile(c.path)
		if _, err := Verify(bytes.NewReader(data), int64(len(data)), c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Verify(%s): %v; want %q", c.path, err, c.want)
		}
	}
}

// TestLoadLargeNonArtifactFlat: a large JSON file that is no artifact is
// refused by the streaming verifier before Load holds it whole (attack
// run 5, N7: 100 MB cost 313 MB); an empty file is named as empty.
func TestLoadLargeNonArtifactFlat(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"format": "normguard.artifact/v1", "x": "`+strings.Repeat("A", 40<<20)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Load(big)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a 40 MB JSON file that is no artifact was loaded")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("refusing it allocated %d bytes; want it refused before it is held (under 16 MiB)", grew)
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty file: %v, want it named empty", err)
	}
}

// TestLoadFromPipeFlat: an artifact read from a pipe (--artifact
// /dev/stdin, a FIFO) loads, and a large JSON stream that is no artifact
// is refused by the streaming verifier before it is held whole (attack
// run 6: a FIFO fed without end took 2.7 GB before the size refusal).
func TestLoadFromPipeFlat(t *testing.T) {
	if _, err := os.Stat("/dev/fd/0"); err != nil {
		t.Skip("no /dev/fd here")
	}
	feed := func(body []byte) string {
		t.Helper()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			w.Write(body)
			w.Close()
		}()
		t.Cleanup(func() { r.Close() })
		return fmt.Sprintf("/dev/fd/%d", r.Fd())
	}
	const path = "../testdata/models/penguins.artifact.json"
	want, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(feed(body))
	if err != nil || got.Digest != want.Digest {
		t.Fatalf("Load from a pipe: %v; want the artifact %s", err, want.Digest)
	}

	junk := []byte(`{"format": "normguard.artifact/v1", "x": "` + strings.Repeat("A", 40<<20) + `"}`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = Load(feed(junk))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a 40 MB JSON stream that is no artifact was loaded")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("refusing it allocated %d bytes; want it refused before it is held (under 16 MiB)", grew)
	}
}
