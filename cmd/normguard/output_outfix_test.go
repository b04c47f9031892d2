package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, readFile(t, from), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOutSameAsInputRefused (attack run 8, F5): --out naming a file the
// command reads (by the same path, another path, a symbolic link or a
// hard link), or the file another output names, is refused with exit 2
// naming both flags, before anything is read (a damaged artifact is not
// what is reported), and the file is left as it was. `transform --in
// same.csv --out same.csv` replaced the data with features, exit 0.
func TestOutSameAsInputRefused(t *testing.T) {
	dir := t.TempDir()
	good := fitGood(t, dir)
	data := filepath.Join(dir, "same.csv")
	copyFile(t, bad("train.csv"), data)
	os.Link(data, filepath.Join(dir, "hard.csv"))
	os.Symlink("same.csv", filepath.Join(dir, "soft.csv"))
	damaged := filepath.Join(dir, "damaged.json")
	os.WriteFile(damaged, []byte(`{"format": "normguard.artifact/v1"`), 0o644)
	spec := filepath.Join(dir, "spec.yaml")
	copyFile(t, bad("good.yaml"), spec)
	orig := readFile(t, data)
	origArt := readFile(t, good)
	fresh := filepath.Join(dir, "fresh.json")
	cases := []struct {
		name  string
		args  []string
		flags []string
	}{
		{"transform same path", []string{"transform", "--artifact", damaged, "--in", data, "--out", data}, []string{"--out", "--in"}},
		{"transform hard link", []string{"transform", "--artifact", good, "--in", data, "--out", filepath.Join(dir, "hard.csv")}, []string{"--out", "--in"}},
		{"transform symlink", []string{"transform", "--artifact", good, "--in", filepath.Join(dir, "soft.csv"), "--out", data}, []string{"--out", "--in"}},
		{"transform other spelling", []string{"transform", "--artifact", good, "--in", data, "--out", dir + "/./same.csv"}, []string{"--out", "--in"}},
		{"transform over artifact", []string{"transform", "--artifact", good, "--in", data, "--out", good}, []string{"--out", "--artifact"}},
		{"fit over data", []string{"fit", "-q", "--spec", bad("good.yaml"), "--data", data, "--out", data}, []string{"--out", "--data"}},
		{"fit over spec", []string{"fit", "-q", "--spec", spec, "--data", data, "--out", spec}, []string{"--out", "--spec"}},
		{"fit transform-out over data", []string{"fit", "-q", "--spec", bad("good.yaml"), "--data", data, "--out", fresh, "--transform-out", data}, []string{"--transform-out", "--data"}},
		{"fit two outputs", []string{"fit", "-q", "--spec", bad("good.yaml"), "--data", data, "--out", fresh + ".csv", "--transform-out", fresh + ".csv"}, []string{"--out", "--transform-out"}},
		{"drift report over current", []string{"drift", "--artifact", good, "--current", data, "--out", data}, []string{"--out", "--current"}},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		ok := code == ExitError && strings.Contains(stderr, "name the same file")
		for _, f := range c.flags {
			ok = ok && strings.Contains(stderr, f+" ")
		}
		if !ok {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming %v as the same file", c.name, code, stderr, c.flags)
		}
		if !bytes.Equal(readFile(t, data), orig) || !bytes.Equal(readFile(t, good), origArt) {
			t.Fatalf("%s: an input was changed", c.name)
		}
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a refused fit wrote its artifact")
	}
	// Different files, and a terminal or device both read and written,
	// are not refused.
	out := filepath.Join(dir, "out.csv")
	mustRun(t, "transform", "--artifact", good, "--in", data, "--out", out)
	if len(readFile(t, out)) == 0 {
		t.Error("transform to another file wrote nothing")
	}
}

// readFIFO starts a reader of the FIFO at path and returns what it reads.
func readFIFO(path string) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	return got
}

func waitFIFO(t *testing.T, name string, got <-chan []byte) []byte {
	t.Helper()
	select {
	case b := <-got:
		return b
	case <-time.After(10 * time.Second):
		t.Errorf("%s: the FIFO's reader got nothing in 10 s", name)
		return nil
	}
}

// TestOutIntoFIFOAndLink (attack run 8, F4): --out naming a FIFO writes
// into it (its reader gets the output; it stays a FIFO), and --out naming
// a symbolic link writes the link's target (the link stays), for a
// report (drift), a data file (transform), an artifact (fit) and a
// pulled artifact (pull). Each was replaced by a regular file, exit 0.
func TestOutIntoFIFOAndLink(t *testing.T) {
	dir := t.TempDir()
	good := fitGood(t, dir)
	reg := filepath.Join(dir, "reg")
	mustRun(t, "push", "--registry", reg, "--model", "m", "--model-version", "1", good)
	commands := []struct {
		name, ext string
		args      []string
		check     func([]byte) bool
	}{
		{"drift", ".json", []string{"drift", "--artifact", good, "--current", bad("train.csv"), "--format", "json"},
			func(b []byte) bool { return json.Valid(b) && bytes.Contains(b, []byte(`"features"`)) }},
		{"transform", ".csv", []string{"transform", "-q", "--artifact", good, "--in", bad("train.csv")},
			func(b []byte) bool {
				return bytes.HasPrefix(b, []byte("age,income,")) && bytes.Count(b, []byte("\n")) > 2
			}},
		{"fit", ".json", []string{"fit", "-q", "--spec", bad("good.yaml"), "--data", bad("train.csv")},
			func(b []byte) bool { return json.Valid(b) && bytes.Contains(b, []byte(`"digest"`)) }},
		{"pull", ".json", []string{"pull", "m@1", "--registry", reg},
			func(b []byte) bool { return bytes.Equal(b, readFile(t, good)) }},
	}
	for _, c := range commands {
		fifo := filepath.Join(dir, c.name+"-fifo"+c.ext)
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skip("no FIFOs:", err)
		}
		got := readFIFO(fifo)
		code, _, stderr := runCLI(t, append(c.args, "--out", fifo)...)
		b := waitFIFO(t, c.name, got)
		if code != ExitOK && code != ExitFound || !c.check(b) {
			t.Errorf("%s --out FIFO: exit %d (%s), the reader got %d bytes %.80q", c.name, code, stderr, len(b), b)
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("%s --out FIFO: the FIFO is now %v (%v)", c.name, st.Mode(), err)
		}

		target := filepath.Join(dir, c.name+"-target"+c.ext)
		os.WriteFile(target, []byte("old"), 0o644)
		link := filepath.Join(dir, c.name+"-link"+c.ext)
		os.Symlink(filepath.Base(target), link)
		code, _, stderr = runCLI(t, append(c.args, "--out", link)...)
		if code != ExitOK && code != ExitFound || !c.check(readFile(t, target)) {
			t.Errorf("%s --out link: exit %d (%s), its target holds %.80q", c.name, code, stderr, readFile(t, target))
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s --out link: the link was replaced", c.name)
		}
	}
	for _, n := range dirEntries(t, dir) {
		if strings.Contains(n, "normguard-tmp") {
			t.Errorf("temporary file %s left", n)
		}
	}
}

// TestOutRefusesSpecialFiles (attack run 8, F4): --out naming a folder
// is refused with exit 2 and left as it was.
func TestOutRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	good := fitGood(t, dir)
	folder := filepath.Join(dir, "report.json")
	os.Mkdir(folder, 0o755)
	code, _, stderr := runCLI(t, "drift", "--artifact", good, "--current", bad("train.csv"), "--format", "json", "--out", folder)
	if code != ExitError || !strings.Contains(stderr, "is a folder") {
		t.Errorf("--out folder: exit %d, stderr %q; want exit 2, is a folder", code, stderr)
	}
	if st, err := os.Stat(folder); err != nil || !st.IsDir() {
		t.Error("the folder was replaced")
	}
}
