package tempfile

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeOutput writes data to path through CreateOutput and commits it.
func writeOutput(t *testing.T, path, data string) error {
	t.Helper()
	o, err := CreateOutput(path)
	if err != nil {
		return err
	}
	if _, err := o.File().WriteString(data); err != nil {
		o.Discard()
		t.Fatal(err)
	}
	return o.Commit()
}

func lmode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOutputRegularReplaced: a new file is created and an existing one
// replaced by a rename (another inode), keeping its permissions; Discard
// leaves the old file and no temporary file.
func TestOutputRegularReplaced(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	if err := writeOutput(t, p, "one"); err != nil {
		t.Fatal(err)
	}
	if got := content(t, p); got != "one" || lmode(t, p).Perm() != 0o644 {
		t.Fatalf("new file: %q mode %v", got, lmode(t, p))
	}
	os.Chmod(p, 0o600)
	before, _ := os.Stat(p)
	if err := writeOutput(t, p, "two"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if content(t, p) != "two" || os.SameFile(before, after) || after.Mode().Perm() != 0o600 {
		t.Errorf("replaced: %q, same inode %v, mode %v; want \"two\", a new inode, 0600", content(t, p), os.SameFile(before, after), after.Mode())
	}
	o, err := CreateOutput(p)
	if err != nil {
		t.Fatal(err)
	}
	o.File().WriteString("three")
	if o.InPlace() {
		t.Error("a regular file is written in place")
	}
	o.Discard()
	if content(t, p) != "two" || len(names(t, dir)) != 1 {
		t.Errorf("after Discard: %q, folder %v", content(t, p), names(t, dir))
	}
}

// TestOutputSymlinkFollowed: a link (relative, in a chain, through a
// subfolder) stays a link and its final target gets the bytes; a link to
// nothing yet creates its target; the temporary file goes beside the
// target (the link's folder holds nothing else afterwards).
func TestOutputSymlinkFollowed(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	target := filepath.Join(sub, "real.csv")
	os.WriteFile(target, []byte("old"), 0o644)
	os.Symlink("../sub/real.csv", filepath.Join(sub, "l1")) // relative to sub
	link := filepath.Join(dir, "link.csv")
	os.Symlink("sub/l1", link) // relative to dir
	if err := writeOutput(t, link, "new"); err != nil {
		t.Fatal(err)
	}
	if lmode(t, link)&fs.ModeSymlink == 0 || lmode(t, filepath.Join(sub, "l1"))&fs.ModeSymlink == 0 {
		t.Fatal("a link was replaced")
	}
	if got := content(t, target); got != "new" {
		t.Errorf("target holds %q, want \"new\"", got)
	}
	dangling := filepath.Join(dir, "dangling.csv")
	os.Symlink("sub/made.csv", dangling)
	if err := writeOutput(t, dangling, "made"); err != nil {
		t.Fatal(err)
	}
	if lmode(t, dangling)&fs.ModeSymlink == 0 || content(t, filepath.Join(sub, "made.csv")) != "made" {
		t.Error("a link to nothing: the link was replaced or its target not created")
	}
	for _, n := range append(names(t, dir), names(t, sub)...) {
		if strings.Contains(n, marker) {
			t.Errorf("temporary file %s left", n)
		}
	}
}

// TestOutputFIFOInPlace: a FIFO is written into (its reader gets the
// bytes) and stays a FIFO.
func TestOutputFIFOInPlace(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ff.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs:", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	o, err := CreateOutput(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if !o.InPlace() {
		t.Error("a FIFO is not written in place")
	}
	o.File().WriteString("a,b\n1,2\n")
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if s := waitFIFO(t, got); s != "a,b\n1,2\n" {
		t.Errorf("reader got %q", s)
	}
	if lmode(t, fifo)&fs.ModeNamedPipe == 0 || len(names(t, dir)) != 1 {
		t.Errorf("the FIFO became %v; folder %v", lmode(t, fifo), names(t, dir))
	}
}

// TestOutputCharDeviceInPlace: a character device node (a null device
// made in a temporary folder, never the system's /dev/null) is written
// into and stays a device; one that refuses the write (a full device)
// gives the error.
func TestOutputCharDeviceInPlace(t *testing.T) {
	dir := t.TempDir()
	null := filepath.Join(dir, "null")
	full := filepath.Join(dir, "full")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skip("cannot make device nodes (not root?):", err)
	}
	if err := syscall.Mknod(full, syscall.S_IFCHR|0o666, 1<<8|7); err != nil {
		t.Skip(err)
	}
	if err := writeOutput(t, null, "bytes"); err != nil {
		t.Fatal(err)
	}
	if m := lmode(t, null); m&fs.ModeCharDevice == 0 {
		t.Errorf("null device became %v", m)
	}
	o, err := CreateOutput(full)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.File().WriteString("x"); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Errorf("write to the full device: %v, want no space left", err)
	}
	o.Discard()
	if m := lmode(t, full); m&fs.ModeCharDevice == 0 || len(names(t, dir)) != 2 {
		t.Errorf("full device became %v; folder %v", m, names(t, dir))
	}
}

// TestOutputStandardStream: a path naming the file standard output is
// open on is written through os.Stdout, at its offset (appended after
// what is there, as the shell's >> asked), not replaced.
func TestOutputStandardStream(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log.txt")
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("header\n")
	saved := os.Stdout
	os.Stdout = f
	defer func() { os.Stdout = saved }()
	link := filepath.Join(dir, "stdout")
	os.Symlink(log, link)
	before, _ := os.Stat(log)
	d, err := Resolve(link)
	if err != nil || d.Stream != f {
		t.Fatalf("Resolve: %+v, %v; want standard output", d, err)
	}
	if err := writeOutput(t, link, "report\n"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(log)
	if got := content(t, log); got != "header\nreport\n" || !os.SameFile(before, after) {
		t.Errorf("log holds %q (same file %v), want the report appended", got, os.SameFile(before, after))
	}
	if _, err := f.WriteString("more\n"); err != nil {
		t.Errorf("standard output was closed: %v", err)
	}
}

// TestOutputRefused: a folder, a socket and a loop of links are refused
// with an error naming the path, and left as they were.
func TestOutputRefused(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "d.json")
	os.Mkdir(folder, 0o755)
	sock := filepath.Join(dir, "s.json")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	defer l.Close()
	loop1, loop2 := filepath.Join(dir, "loop1"), filepath.Join(dir, "loop2")
	os.Symlink("loop2", loop1)
	os.Symlink("loop1", loop2)
	for path, want := range map[string]string{
		folder: "is a folder",
		sock:   "is a socket",
		loop1:  "symbolic links",
	} {
		before := lmode(t, path)
		err := writeOutput(t, path, "x")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("%s: %v, want an error saying %q", path, err, want)
		}
		if lmode(t, path) != before {
			t.Errorf("%s changed from %v to %v", path, before, lmode(t, path))
		}
	}
	for _, n := range names(t, dir) {
		if strings.Contains(n, marker) {
			t.Errorf("temporary file %s left", n)
		}
	}
}

// waitFIFO returns what a FIFO's reader got, or "" after 10 s (a reader
// whose FIFO was replaced waits for ever).
func waitFIFO(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		t.Error("the FIFO's reader got nothing in 10 s")
		return ""
	}
}

// TestCreateUnwritableFolderNamed: a folder where no file can be created
// is named with the destination, not with the temporary file's name
// (attack run 30 F7), and the error still wraps the system's.
func TestCreateUnwritableFolderNamed(t *testing.T) {
	dir := "/sys" // refuses new files even to root
	if _, err := os.Stat(dir); err != nil || os.Getuid() != 0 {
		dir = t.TempDir()
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
	}
	f, err := Create(dir, "out.json")
	if err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skipf("%s accepted a new file", dir)
	}
	msg := err.Error()
	if strings.Contains(msg, marker) || !strings.Contains(msg, "cannot write "+filepath.Join(dir, "out.json")) || !strings.Contains(msg, "folder "+dir) {
		t.Errorf("error %q; want it to name %s and its folder, not the temporary file", msg, filepath.Join(dir, "out.json"))
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error %v does not wrap fs.ErrPermission", err)
	}
}
