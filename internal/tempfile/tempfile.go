// Package tempfile creates the temporary files normguard writes beside an
// output before renaming them into place, named so that a later run can
// tell a file left by a killed process from one still being written:
//
//	.<base>.normguard-tmp-<pid>-<start>-<random>
//
// where start is the Unix second the process started. Sweep removes the
// files of a folder whose process is gone, or whose pid now belongs to a
// process started at another time (a reused pid).
package tempfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// marker separates the destination's name from the owner in a temporary
// file's name.
const marker = ".normguard-tmp-"

var (
	selfPid   = os.Getpid()
	selfStart = func() int64 {
		if s, ok := processStart(os.Getpid()); ok {
			return s
		}
		return time.Now().Unix()
	}()
	swept sync.Map // folders swept by this process
)

// Create creates a temporary file in dir for the destination named base,
// after sweeping dir of orphans (once per folder and process). A missing
// dir is named in the error.
func Create(dir, base string) (*os.File, error) {
	dir = filepath.Clean(dir) // "" is "."
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missingFolder(dir)
		}
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	if _, done := swept.LoadOrStore(filepath.Clean(dir), true); !done {
		Sweep(dir)
	}
	f, err := os.CreateTemp(dir, fmt.Sprintf(".%s%s%d-%d-*", base, marker, selfPid, selfStart))
	if err != nil {
		// Named by the destination and its folder, not by the temporary
		// file's name (which the user never gave).
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &unwritableFolder{dest: filepath.Join(dir, base), dir: dir, err: err}
	}
	return f, nil
}

// unwritableFolder is the error of Create in a folder where no file can be
// created (permissions, a read-only file system, a full disk); it wraps
// the system's error.
type unwritableFolder struct {
	dest, dir string
	err       error
}

func (e *unwritableFolder) Error() string {
	return fmt.Sprintf("cannot write %s: folder %s does not allow creating a file there (%v); write elsewhere or fix the folder", e.dest, e.dir, e.err)
}

func (e *unwritableFolder) Unwrap() error { return e.err }

// Scratch creates a temporary file for a copy named base in the system's
// temporary folder ($TMPDIR) and unlinks it at once, so the system frees
// it when the process ends however it ends; where an open file cannot be
// unlinked, its name (Create's) lets a later run remove it once this
// process has ended. done closes it (and removes it if it was not
// unlinked).
func Scratch(base string) (f *os.File, done func(), err error) {
	f, err = Create(os.TempDir(), base)
	if err != nil {
		return nil, nil, err
	}
	if os.Remove(f.Name()) == nil {
		return f, func() { f.Close() }, nil
	}
	return f, func() { Discard(f) }, nil
}

// Commit makes f, a temporary file from Create, the file dest: it gives f
// dest's permissions when dest exists (0644 otherwise), syncs it, closes
// it and renames it over dest.
func Commit(f *os.File, dest string) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(dest); err == nil {
		mode = st.Mode().Perm()
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dest)
}

// Discard closes and deletes f, a temporary file from Create; a file
// already gone is not an error.
func Discard(f *os.File) error {
	f.Close()
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// missingFolder is the error of Create in a folder that does not exist;
// it wraps fs.ErrNotExist.
type missingFolder string

func (e missingFolder) Error() string {
	return fmt.Sprintf("folder %s does not exist; create it first or write elsewhere", string(e))
}

func (e missingFolder) Unwrap() error { return fs.ErrNotExist }

// Sweep removes the temporary files in dir (named by Create) whose
// process has ended, and returns how many it removed. Files of running
// processes, and names it cannot parse, are left alone.
func Sweep(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, start, ok := owner(e.Name())
		if !ok || e.IsDir() || (pid == selfPid && start == selfStart) || alive(pid, start) {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}

// owner parses the process id and start time out of a temporary file's
// name.
func owner(name string) (pid int, start int64, ok bool) {
	i := strings.LastIndex(name, marker)
	if !strings.HasPrefix(name, ".") || i < 0 {
		return 0, 0, false
	}
	parts := strings.SplitN(name[i+len(marker):], "-", 3)
	if len(parts) != 3 {
		return 0, 0, false
	}
	p, err1 := strconv.Atoi(parts[0])
	s, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || p <= 0 {
		return 0, 0, false
	}
	return p, s, true
}

// startSlack is how far apart two readings of one process's start time
// may be (the clock-tick rounding of /proc, a clock step).
const startSlack = 2

// alive reports whether process pid runs and started at start. Where the
// start time cannot be read, a running pid counts as alive.
func alive(pid int, start int64) bool {
	if s, ok := processStart(pid); ok {
		d := s - start
		return d >= -startSlack && d <= startSlack
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		return true // running, start time unreadable
	}
	if _, err := os.Stat("/proc/self"); err == nil {
		return false // /proc works and has no such process
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM) || errors.Is(err, errors.ErrUnsupported)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's start time on
// Linux (100 on every architecture Go supports).
const clockTicks = 100

// processStart returns when process pid started (Unix seconds), from
// /proc (Linux).
func processStart(pid int) (int64, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return 0, false
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		return 0, false
	}
	boot, ok := bootTime()
	if !ok {
		return 0, false
	}
	return boot + ticks/clockTicks, true
}

var (
	bootOnce sync.Once
	boot     int64
	bootOK   bool
)

// bootTime reads the system's boot time (btime in /proc/stat).
func bootTime() (int64, bool) {
	bootOnce.Do(func() {
		data, err := os.ReadFile("/proc/stat")
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "btime "); ok {
				boot, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				bootOK = err == nil
				return
			}
		}
	})
	return boot, bootOK
}
