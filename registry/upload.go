package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/tempfile"
)

// ErrTooLarge is wrapped by PutFrom when the artifact is over
// artifact.MaxSize.
var ErrTooLarge = errors.New("artifact too large")

// errBody is wrapped by PutFrom when reading the upload failed.
var errBody = errors.New("reading the request body")

// verifySlots bounds how many uploaded artifacts are verified at once.
// A verification's memory is small and flat (artifact.Verify reads the
// file as it checks it), but it keeps a core busy: parallel uploads take
// turns, and their memory stays that of one.
var verifySlots = make(chan struct{}, 1)

// PutFrom stores the artifact read from r as model@version, like Put, but
// streams the bytes to a temporary file in the registry instead of
// holding them in memory: the file is then verified as it is read back
// (artifact.Verify: the digest, the canonical form and the meaning, one
// section at a time), and renamed into place as its blob. The server's
// memory for an upload stays flat whatever the artifact's size. Uploads
// are verified one at a time. A read error from r (a body over a server's
// limit) is returned wrapped.
func (l *Local) PutFrom(ctx context.Context, model, version string, r io.Reader, opt PutOptions) (Version, bool, error) {
	if err := checkPut(ctx, model, version); err != nil {
		return Version{}, false, err
	}
	dir := filepath.Join(l.dir, "blobs", "sha256")
	if err := mkdirAll(dir); err != nil {
		return Version{}, false, fmt.Errorf("store %s@%s: %w", model, version, err)
	}
	f, err := tempfile.Create(dir, "upload")
	if err != nil {
		return Version{}, false, fmt.Errorf("store %s@%s: %w", model, version, err)
	}
	tmp := f.Name()
	defer func() {
		f.Close()
		os.Remove(tmp) // a no-op once renamed
	}()
	n, err := io.Copy(f, io.LimitReader(r, artifact.MaxSize+1))
	if err != nil {
		return Version{}, false, fmt.Errorf("%w: %w", errBody, err)
	}
	if n > artifact.MaxSize {
		return Version{}, false, fmt.Errorf("%w: the artifact is larger than %d bytes", ErrTooLarge, int64(artifact.MaxSize))
	}
	select {
	case verifySlots <- struct{}{}:
	case <-ctx.Done():
		return Version{}, false, ctx.Err()
	}
	digest, err := checkArtifact(model, version, f, n)
	<-verifySlots
	if err != nil {
		return Version{}, false, err
	}
	return l.store(model, version, digest, func(blob string) error {
		if err := f.Chmod(0o644); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := os.Rename(tmp, blob); err != nil {
			return err
		}
		return syncDir(dir)
	}, opt)
}
