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

// verifiedBlob is the identity of an artifact file when it last verified
// whole, when that verification began, and the model the artifact
// names; while the file keeps that identity, it is not read again.
type verifiedBlob struct {
	size    int64
	modTime time.Time
	info    fs.FileInfo
	model   string // the model the artifact was fitted for ("": none)
}

// racyMargin is how long before a verification began a file must have
// been last modified for its identity to vouch for what was verified: a
// file system's timestamps are as coarse as a clock tick (a second on
// some), so a file changed in place, keeping its size, within the tick
// of its last change could keep its modification time (git's "racily
// clean" entries). A file changed more recently is verified again each
// time it is read, until it is older.
const racyMargin = 2 * time.Second

// blobChecks remembers verified artifact files by path.
type blobChecks struct {
	mu   sync.Mutex
	seen map[string]verifiedBlob
}

// verified tells whether the file at path whose stat is st verified
// before with this identity, and returns the model its artifact names.
func (b *blobChecks) verified(path string, st fs.FileInfo) (string, bool) {
	b.mu.Lock()
	prev, ok := b.seen[path]
	b.mu.Unlock()
	if ok && prev.size == st.Size() && prev.modTime.Equal(st.ModTime()) && os.SameFile(prev.info, st) {
		return prev.model, true
	}
	return "", false
}

// record remembers that the file at path whose stat is st verified as
// got, in a verification begun at start, unless the file was modified
// too close to start for its identity to vouch for it (racyMargin).
func (b *blobChecks) record(path string, st fs.FileInfo, got *artifact.Verified, start time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !st.ModTime().Before(start.Add(-racyMargin)) {
		delete(b.seen, path)
		return
	}
	if b.seen == nil {
		b.seen = map[string]verifiedBlob{}
	}
	b.seen[path] = verifiedBlob{size: st.Size(), modTime: st.ModTime(), info: st, model: modelName(got)}
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
// new or changed since it last verified (verifyBlob).
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
	if model, ok := l.blobs.verified(path, st); ok {
		return l.sameModelName(v, model)
	}
	f, fst, err := openRegular(path)
	if err != nil {
		return fmt.Errorf("version %s: %w", v.Version, err)
	}
	defer f.Close()
	return l.verifyBlob(context.Background(), v, path, f, fst)
}
