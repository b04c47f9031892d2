package tempfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/normguard/normguard/internal/errtext"
)

// Output is an output file being written, made by CreateOutput. Its bytes
// go to File; Commit makes them the destination's, Discard drops them.
//
// A path naming a regular file, or nothing yet, is written to a temporary
// file beside it (Create) and renamed onto it by Commit, so readers see
// the old file or the new one. A symbolic link is followed: the temporary
// file goes beside the link's final target and is renamed onto the
// target, and the link stays. An existing character device or FIFO
// (/dev/null, a named pipe), or this process's standard output or error
// (/dev/stdout, /dev/stderr, whatever they are), is written in place:
// renaming over it would replace the device or pipe with a regular file
// and the bytes would never reach it. Opening a FIFO waits for its reader,
// as a shell's > does. Anything else (a folder, a socket, a block device)
// is refused: normguard never replaces a file that is not a regular file.
type Output struct {
	f       *os.File
	dest    string // what Commit renames f onto; "" when written in place
	closeIt bool   // in place: whether f is ours to close (not os.Stdout)
	done    bool
}

// File is where the output's bytes go.
func (o *Output) File() *os.File { return o.f }

// InPlace reports whether the output is written straight into its
// destination (a device, a FIFO, standard output), which is then neither
// synced nor atomic.
func (o *Output) InPlace() bool { return o.dest == "" }

// Commit makes the bytes written the destination's: the temporary file is
// synced and renamed onto it (tempfile.Commit); a destination written in
// place is closed. Commit after Commit or Discard does nothing.
func (o *Output) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if o.InPlace() {
		if o.closeIt {
			return o.f.Close()
		}
		return nil
	}
	if err := Commit(o.f, o.dest); err != nil {
		Discard(o.f)
		return err
	}
	return nil
}

// Discard drops the output: the temporary file is removed and the
// destination left as it was. What was written in place stays written.
// Discard after Commit or Discard does nothing.
func (o *Output) Discard() error {
	if o.done {
		return nil
	}
	o.done = true
	if o.InPlace() {
		if o.closeIt {
			return o.f.Close()
		}
		return nil
	}
	return Discard(o.f)
}

// CreateOutput opens the output path for writing, as Output describes.
// Errors name path; a missing folder wraps fs.ErrNotExist.
func CreateOutput(path string) (*Output, error) {
	d, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	switch {
	case d.Stream != nil:
		return &Output{f: d.Stream}, nil
	case d.InPlace:
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", errtext.Quote(path), err)
		}
		// What was opened may not be what was looked at (a race): write
		// in place only into a device or FIFO.
		if st, err := f.Stat(); err != nil || !inPlaceMode(st.Mode()) {
			f.Close()
			return nil, fmt.Errorf("%s changed while it was opened; run again", errtext.Quote(path))
		}
		return &Output{f: f, closeIt: true}, nil
	}
	dir, base := filepath.Split(d.Path)
	if dir == "" {
		dir = "."
	}
	f, err := Create(dir, base)
	if err != nil {
		return nil, err
	}
	return &Output{f: f, dest: d.Path}, nil
}

// Destination is how an output path is written (Resolve).
type Destination struct {
	// Path is the file a temporary file is renamed onto: the output path,
	// or the final target of the symbolic link it names.
	Path string
	// InPlace: the path is an existing character device or FIFO, opened
	// and written into.
	InPlace bool
	// Stream is os.Stdout or os.Stderr when the path names this process's
	// standard output or error (nil otherwise): written into it.
	Stream *os.File
}

// Resolve tells how the output path is written (see Output) without
// writing anything, and refuses a path that cannot be written safely: a
// folder, a socket, a block device, a link loop.
func Resolve(path string) (Destination, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		// Nothing there yet, or a link to nothing: create the file the
		// links end at.
		dest, err := followLinks(path)
		if err != nil {
			return Destination{}, err
		}
		return Destination{Path: dest}, nil
	case errors.Is(err, syscall.ENOTDIR):
		if f := fileInPath(path); f != "" {
			return Destination{}, fmt.Errorf("output %s: %s is a file, not a folder; give a path inside a folder", errtext.Quote(path), errtext.Quote(f))
		}
		return Destination{}, fmt.Errorf("output %s: %w", errtext.Quote(path), err)
	default:
		return Destination{}, fmt.Errorf("output %s: %w", errtext.Quote(path), err)
	}
	if s := StandardStream(st); s != nil {
		return Destination{Path: path, Stream: s}, nil
	}
	mode := st.Mode()
	switch {
	case mode.IsRegular():
		dest, err := followLinks(path)
		if err != nil {
			return Destination{}, err
		}
		// The text of the links must lead where the kernel does (a
		// /proc/self/fd link of a deleted file does not).
		if dst, err := os.Stat(dest); err != nil || !os.SameFile(st, dst) {
			return Destination{}, fmt.Errorf("output %s: cannot tell which file its links lead to (%s); give the file's own path", errtext.Quote(path), errtext.Quote(dest))
		}
		return Destination{Path: dest}, nil
	case mode.IsDir():
		return Destination{}, fmt.Errorf("output %s is a folder; give the path of a file to write", errtext.Quote(path))
	case inPlaceMode(mode):
		return Destination{Path: path, InPlace: true}, nil
	default:
		return Destination{}, fmt.Errorf("output %s is a %s: normguard writes only regular files, character devices (/dev/null, a terminal) and FIFOs, and never replaces anything else; give the path of a file to write", errtext.Quote(path), kindOf(mode))
	}
}

// StandardStream returns os.Stdout or os.Stderr when st is the file it
// is open on, nil otherwise (a closed one matches nothing).
func StandardStream(st fs.FileInfo) *os.File {
	for _, s := range []*os.File{os.Stdout, os.Stderr} {
		if s == nil {
			continue
		}
		if sst, err := s.Stat(); err == nil && os.SameFile(st, sst) {
			return s
		}
	}
	return nil
}

// inPlaceMode reports whether a file of this mode is written in place: a
// character device or a FIFO.
func inPlaceMode(m fs.FileMode) bool {
	return m&fs.ModeNamedPipe != 0 || (m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0)
}

// kindOf names what a file that is neither regular, nor a folder, nor
// written in place is.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "block device"
	default:
		return "special file (" + m.Type().String() + ")"
	}
}

// maxLinks is how many symbolic links followLinks follows (Linux's
// limit is 40).
const maxLinks = 40

// followLinks returns the file the symbolic links starting at path end
// at: path itself when it is no link; the name a chain of links ends at
// when that does not exist yet. Each link's text is taken relative to the
// folder holding the link, as the kernel does, without cleaning ".."
// (which a linked folder would make wrong).
func followLinks(path string) (string, error) {
	p := path
	for range maxLinks {
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", fmt.Errorf("output %s: %w", errtext.Quote(path), err)
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("output %s: %w", errtext.Quote(path), err)
		}
		if !filepath.IsAbs(t) {
			if i := strings.LastIndexByte(p, filepath.Separator); i >= 0 {
				t = p[:i+1] + t
			}
		}
		p = t
	}
	return "", fmt.Errorf("output %s: more than %d symbolic links in a row (a loop?); give the file's own path", errtext.Quote(path), maxLinks)
}

// fileInPath returns the first folder part of path that is not a folder
// (a file given as if it were one: "a.json/x.csv"), or "" when there is
// none.
func fileInPath(path string) string {
	dir := filepath.Dir(path)
	var parts []string
	for d := dir; ; d = filepath.Dir(d) {
		parts = append(parts, d)
		if up := filepath.Dir(d); up == d {
			break
		}
	}
	for i := len(parts) - 1; i >= 0; i-- {
		st, err := os.Stat(parts[i])
		if err != nil {
			return ""
		}
		if !st.IsDir() {
			return parts[i]
		}
	}
	return ""
}
