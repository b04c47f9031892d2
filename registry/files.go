package registry

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/normguard/normguard/internal/tempfile"
)

// Files are written by writeTemp (a synced temporary file beside the
// destination) and then renamed or linked into place, after which the
// folder is synced so that the new name survives a crash.

// writeTemp writes data to a synced temporary file in dir and returns its
// path. The name starts with "." so listings, which only accept valid
// names, never see it; it names this process, so that a later write to
// dir removes it if the process died first (internal/tempfile).
func writeTemp(dir, base string, data []byte) (string, error) {
	f, err := tempfile.Create(dir, base)
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// replaceFile atomically replaces path with data.
func replaceFile(path string, data []byte) error {
	dir, base := filepath.Split(path)
	tmp, err := writeTemp(dir, base, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// createFile atomically creates path with data unless it exists, and
// reports whether it created it. Creation is exclusive across processes
// (a hard link fails when the name exists); on a file system without hard
// links it falls back to a rename after checking that path is absent,
// which is exclusive within the process only.
func createFile(path string, data []byte) (bool, error) {
	dir, base := filepath.Split(path)
	tmp, err := writeTemp(dir, base, data)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return false, nil
	default:
		if _, serr := os.Lstat(path); serr == nil {
			return false, nil
		}
		if err := os.Rename(tmp, path); err != nil {
			return false, err
		}
	}
	return true, syncDir(dir)
}

// syncDir syncs a folder so that names created in it are durable.
func syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirAll creates path and its missing parents, syncing the folder each
// new one was created in.
func mkdirAll(path string) error {
	if st, err := os.Stat(path); err == nil {
		if !st.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: path, Err: errors.New("not a directory")}
		}
		return nil
	}
	parent := filepath.Dir(path)
	if parent != path {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	return syncDir(parent)
}
