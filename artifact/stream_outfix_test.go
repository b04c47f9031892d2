package artifact

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/normguard/normguard/internal/tempfile"
)

// selfOwner returns the "<pid>-<start>" this process's temporary files
// are named with (internal/tempfile).
func selfOwner(t *testing.T) string {
	t.Helper()
	f, err := tempfile.Create(t.TempDir(), "probe")
	if err != nil {
		t.Fatal(err)
	}
	tempfile.Discard(f)
	m := regexp.MustCompile(`normguard-tmp-(\d+-\d+)-`).FindStringSubmatch(filepath.Base(f.Name()))
	if m == nil {
		t.Fatalf("temporary file %s names no owner", f.Name())
	}
	return m[1]
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestLoadStreamTempRemoved (attack run 8, F1): loading from a pipe
// leaves nothing in $TMPDIR, and removes the copy a killed load of an
// ended process left there, but not one of a running process.
func TestLoadStreamTempRemoved(t *testing.T) {
	if _, err := os.Stat("/dev/fd/0"); err != nil {
		t.Skip("no /dev/fd here")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ended := exec.Command(os.Args[0], "-test.run=^$")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf(".%s.normguard-tmp-%d-1700000000-1", streamTemp, ended.Process.Pid)
	live := fmt.Sprintf(".%s.normguard-tmp-%s-2", streamTemp, selfOwner(t))
	for _, n := range []string{dead, live} {
		if err := os.WriteFile(filepath.Join(tmp, n), []byte(`{"a":`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	body, err := os.ReadFile("../testdata/models/penguins.artifact.json")
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.Write(body)
		w.Close()
	}()
	a, err := Load(fmt.Sprintf("/dev/fd/%d", r.Fd()))
	if err != nil || a.Digest == "" {
		t.Fatalf("Load from a pipe: %v", err)
	}
	if got := strings.Join(dirNames(t, tmp), " "); got != live {
		t.Errorf("$TMPDIR holds %q after the load; want only the running process's %q", got, live)
	}
}

// TestLoadStreamKilledLeavesNothing (attack run 8, F1): a load from a
// pipe killed with SIGKILL while it copies the stream leaves nothing in
// $TMPDIR (it left normguard-artifact-*.json, up to 1 GiB, for good).
func TestLoadStreamKilledLeavesNothing(t *testing.T) {
	if os.Getenv("NORMGUARD_LOAD_STDIN") != "" {
		Load("/dev/stdin")
		return
	}
	if _, err := os.Stat("/dev/stdin"); err != nil {
		t.Skip("no /dev/stdin here")
	}
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadStreamKilledLeavesNothing$")
	cmd.Env = append(os.Environ(), "NORMGUARD_LOAD_STDIN=1", "TMPDIR="+tmp)
	feed, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// 16 MiB through a 64 KiB pipe: most of it has been copied by the
	// time the last write returns.
	chunk := []byte(strings.Repeat(`{"a":`, 1<<16))
	for range 16 << 20 / len(chunk) {
		if _, err := feed.Write(chunk); err != nil {
			t.Fatalf("the loader stopped reading: %v", err)
		}
	}
	copying := false
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)); err == nil {
		for _, fd := range fds {
			l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", cmd.Process.Pid, fd.Name()))
			copying = copying || strings.HasPrefix(l, tmp)
		}
	}
	if !copying {
		t.Log("could not see the copy open in", tmp)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	feed.Close()
	time.Sleep(10 * time.Millisecond)
	if names := dirNames(t, tmp); len(names) != 0 {
		var sizes []string
		for _, n := range names {
			if st, err := os.Stat(filepath.Join(tmp, n)); err == nil {
				sizes = append(sizes, fmt.Sprintf("%s (%d bytes)", n, st.Size()))
			}
		}
		t.Errorf("a killed load left %v in $TMPDIR", sizes)
	}
}
