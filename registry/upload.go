package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/tempfile"
)

// ErrTooLarge is wrapped by PutFrom when the artifact is over
// artifact.MaxSize.
var ErrTooLarge = errors.New("artifact too large")

// freeAfterBytes is the upload size from which the memory of its decoding
// is returned to the system at once.
const freeAfterBytes = 16 << 20

// decodeGCPercent is the garbage collector's target while a large upload
// is decoded.
const decodeGCPercent = 20

// errBody is wrapped by PutFrom when reading the upload failed.
var errBody = errors.New("reading the request body")

// decodeSlots bounds how many uploaded artifacts are decoded at once: the
// bytes are on disk (mapped, not read into the heap), but decoding builds
// the artifact in memory, so parallel uploads take turns.
var decodeSlots = make(chan struct{}, 1)

// PutFrom stores the artifact read from r as model@version, like Put, but
// streams the bytes to a temporary file in the registry instead of
// holding them in memory: the file is mapped to verify the artifact, then
// renamed into place as its blob. Uploads are decoded one at a time. A
// read error from r (a body over a server's limit) is returned wrapped.
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
	var digest string
	select {
	case decodeSlots <- struct{}{}:
	case <-ctx.Done():
		return Version{}, false, ctx.Err()
	}
	var gcPercent int
	if n >= freeAfterBytes {
		// Collect the decoder's garbage early: the peak stays near what
		// the decoded artifact holds. Uploads decode one at a time, and
		// the setting is restored before the slot is given back.
		gcPercent = debug.SetGCPercent(decodeGCPercent)
	}
	err = withMapped(f, n, func(data []byte) error {
		var err error
		digest, err = checkArtifact(model, version, data)
		return err
	})
	if n >= freeAfterBytes {
		debug.SetGCPercent(gcPercent)
		// The decoded artifact is garbage now: hand its memory back
		// rather than hold it until the next large upload.
		debug.FreeOSMemory()
	}
	<-decodeSlots
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
