package registry

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/normguard/normguard/internal/regular"
)

// The registry folder is outside normguard's hands: a file in it may be
// replaced by hand with a FIFO, a device or a folder. Opened plainly, a
// FIFO blocks until a writer comes, and every request reading it hung
// (attack run 11). Files are opened without blocking and refused unless
// regular, and read up to a bound.

// maxVersionFile bounds a version file or a model's current.json, a few
// hundred bytes each.
const maxVersionFile = 1 << 20

// openRegular opens path for reading, refusing what is not a regular
// file, and returns the open file's stat.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, st, err := regular.Open(path)
	var nr *regular.NotRegularError
	if errors.As(err, &nr) {
		if nr.Kind == "a folder" {
			// A push cannot replace a folder: say to move it first
			// (attack run 21: the advised push refused).
			return nil, nil, fmt.Errorf("%w: %w where a registry file belongs: the registry folder was edited by hand; move the folder aside (or remove it), then restore the file or push the version again", ErrDamaged, err)
		}
		return nil, nil, fmt.Errorf("%w: %w: the registry folder was edited by hand; restore the file, or push the version again", ErrDamaged, err)
	}
	if err != nil {
		return nil, nil, damaged(err)
	}
	return f, st, nil
}

// readRegular reads path, a regular file of at most max bytes.
func readRegular(path string, max int64) ([]byte, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := fmt.Errorf("%w: %s is larger than the %d bytes such a file may hold: the registry folder was edited by hand; restore the file, or push the version again", ErrDamaged, path, max)
	if st.Size() > max {
		return nil, tooLarge // refused before anything is read: a sparse 4 GB file
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, damaged(fmt.Errorf("read %s: %w", path, err))
	}
	if int64(len(data)) > max { // grew while read
		return nil, tooLarge
	}
	return data, nil
}
