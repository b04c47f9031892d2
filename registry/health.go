package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/normguard/normguard/artifact"
)

// A registry folder damaged by hand was found only by the requests that
// read the damaged file (503 registry_damaged), while /healthz said "ok".
// Problems lets a server say so on its own: it lists the models whose
// files are damaged and the current versions whose artifact file is
// missing, not a regular file, or no longer the artifact the version
// records.

// verifiedBlob is the identity of an artifact file when Problems last
// verified it whole; while the file keeps it, it is not read again.
type verifiedBlob struct {
	size    int64
	modTime time.Time
	info    fs.FileInfo
}

// blobChecks remembers verified artifact files by path.
type blobChecks struct {
	mu   sync.Mutex
	seen map[string]verifiedBlob
}

// Problems returns one line per damage a server should report: a model
// whose current.json, version files or folder cannot be read, and a
// current version whose artifact file is missing, not a regular file, or
// does not verify as the artifact the version records. An artifact file
// is read whole the first time and again only when its identity (inode,
// size, modification time) changes, so a check costs one stat per model
// once the files have been verified. A registry folder that cannot be
// listed is one problem.
func (l *Local) Problems(ctx context.Context) []string {
	models, err := l.List(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // the caller gave up: nothing was learned
		}
		return []string{err.Error()}
	}
	var out []string
	for _, m := range models {
		if ctx.Err() != nil {
			return out
		}
		// The listing checks each current version's artifact (checkBlob).
		if m.Damaged != "" {
			out = append(out, fmt.Sprintf("registry model %s: %s", m.Name, m.Damaged))
		}
	}
	return out
}

// checkBlob checks the artifact file of v, verifying it whole when it is
// new or changed since it last verified.
func (l *Local) checkBlob(v Version) error {
	path, err := l.blobPath(v.Digest)
	if err != nil {
		return fmt.Errorf("%w: version %s: the version file is damaged: %v", ErrDamaged, v.Version, err)
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: version %s: the artifact %s is missing from the registry folder; push it again to repair", ErrDamaged, v.Version, path)
	}
	if err != nil {
		return damaged(fmt.Errorf("version %s: %w", v.Version, err))
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: version %s: %s is not a regular file: the registry folder was edited by hand; push the version again to repair", ErrDamaged, v.Version, path)
	}
	l.blobs.mu.Lock()
	prev, ok := l.blobs.seen[path]
	l.blobs.mu.Unlock()
	if ok && prev.size == st.Size() && prev.modTime.Equal(st.ModTime()) && os.SameFile(prev.info, st) {
		return nil
	}
	f, fst, err := openRegular(path)
	if err != nil {
		return fmt.Errorf("version %s: %w", v.Version, err)
	}
	defer f.Close()
	got, err := artifact.Verify(f, fst.Size(), v.Model+"@"+v.Version)
	if err != nil {
		return fmt.Errorf("%w: version %s: the stored artifact %s is damaged: %w; push it again to repair", ErrDamaged, v.Version, path, err)
	}
	if got.Digest != v.Digest {
		return fmt.Errorf("%w: version %s: the stored artifact %s is %s, not the %s the version records (the file was replaced); push the version again to repair", ErrDamaged, v.Version, path, got.Digest, v.Digest)
	}
	if err := l.sameModel(v, got); err != nil {
		return err
	}
	l.blobs.mu.Lock()
	if l.blobs.seen == nil {
		l.blobs.seen = map[string]verifiedBlob{}
	}
	l.blobs.seen[path] = verifiedBlob{size: fst.Size(), modTime: fst.ModTime(), info: fst}
	l.blobs.mu.Unlock()
	return nil
}
