package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
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
// whole, when that verification began, the version it verified as, and
// the model the artifact names; while the file keeps that identity, it
// is not read again, except by the slow re-verification (reverifyEvery).
type verifiedBlob struct {
	size    int64
	modTime time.Time
	info    fs.FileInfo
	model   string    // the model the artifact was fitted for ("": none)
	v       Version   // the version it verified as (for re-verifying it and naming it)
	checked time.Time // when the verification began
}

// damagedBlob is an artifact file found damaged once it had verified (by
// a download that sent other bytes, or by a re-verification), or by a
// verification of a request: /healthz reports it (Problems) until it
// verifies again, is gone, or changes and verifies.
type damagedBlob struct {
	v      Version
	reason string
	info   fs.FileInfo // its identity when found damaged (nil: unknown)
	found  time.Time
}

// racyMargin is how long before a verification began a file must have
// been last modified for its identity to vouch for what was verified: a
// file system's timestamps are as coarse as a clock tick (a second on
// some), so a file changed in place, keeping its size, within the tick
// of its last change could keep its modification time (git's "racily
// clean" entries). A file changed more recently is verified again each
// time it is read, until it is older.
const racyMargin = 2 * time.Second

// A file changed in place keeping its size and modification time (bit
// rot, a restore tool that keeps times, `touch -r`) keeps its identity:
// a running server downloaded it 200 under the version's digest, and
// /healthz and the listing said it was fine, until a restart (attack run
// 18). An identity therefore vouches for a while only: the registry
// check behind /healthz (Problems) reads whole again every remembered
// file whose last verification began more than reverifyEvery ago, oldest
// first, one file at a time (verifySlots, shared with uploads and
// downloads), at most reverifyBudget bytes a check (at least one file);
// the server runs a check at most every 10 s while /healthz is polled,
// so a registry of up to about 1.9 GB of artifacts is read whole once
// every 5 minutes, at a cost of at most 64 MiB read and verified per 10
// s. A file whose last verification is older than reverifyTrust (with
// /healthz not polled) is verified again by the request that reads it.
// Downloads do not depend on it: the bytes sent are hashed as they go
// and the answer is cut before its end when they are not the version's
// artifact (sendArtifact).
var (
	reverifyEvery        = 5 * time.Minute
	reverifyTrust        = 10 * time.Minute
	reverifyBudget int64 = 64 << 20
)

// blobChecks remembers verified artifact files, and those found damaged,
// by path.
type blobChecks struct {
	mu      sync.Mutex
	seen    map[string]verifiedBlob
	damaged map[string]damagedBlob
}

// verified tells whether the file at path whose stat is st verified
// before with this identity, less than reverifyTrust ago, and returns
// the model its artifact names.
func (b *blobChecks) verified(path string, st fs.FileInfo) (string, bool) {
	b.mu.Lock()
	prev, ok := b.seen[path]
	b.mu.Unlock()
	if ok && prev.size == st.Size() && prev.modTime.Equal(st.ModTime()) && os.SameFile(prev.info, st) && time.Since(prev.checked) < reverifyTrust {
		return prev.model, true
	}
	return "", false
}

// record remembers that the file at path whose stat is st verified as
// got, the artifact of v, in a verification begun at start, unless the
// file was modified too close to start for its identity to vouch for it
// (racyMargin). Either way it is no longer damaged.
func (b *blobChecks) record(path string, st fs.FileInfo, v Version, got *artifact.Verified, start time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.damaged, path)
	if !st.ModTime().Before(start.Add(-racyMargin)) {
		delete(b.seen, path)
		return
	}
	if b.seen == nil {
		b.seen = map[string]verifiedBlob{}
	}
	b.seen[path] = verifiedBlob{size: st.Size(), modTime: st.ModTime(), info: st, model: modelName(got), v: v, checked: start}
}

// markDamaged forgets that the file at path verified and remembers why
// it is damaged (st: its identity then, nil if unknown), for /healthz.
func (b *blobChecks) markDamaged(path string, st fs.FileInfo, v Version, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.seen, path)
	if b.damaged == nil {
		b.damaged = map[string]damagedBlob{}
	}
	b.damaged[path] = damagedBlob{v: v, reason: err.Error(), info: st, found: time.Now()}
}

// dueBlob is a remembered file to verify again.
type dueBlob struct {
	path string
	v    Version
	size int64
	at   time.Time // when it was last verified or found damaged
}

// due returns the remembered files, verified or damaged, whose last
// verification began before cutoff, oldest first, and the damaged files
// whose identity changed since (first).
func (b *blobChecks) due(cutoff time.Time) []dueBlob {
	b.mu.Lock()
	defer b.mu.Unlock()
	var changed, out []dueBlob
	for p, e := range b.seen {
		if e.checked.Before(cutoff) {
			out = append(out, dueBlob{p, e.v, e.size, e.checked})
		}
	}
	for p, d := range b.damaged {
		st, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				delete(b.damaged, p) // gone: the checks of a missing file tell
			}
			continue
		}
		switch {
		case d.info == nil || !sameFile(d.info, st):
			changed = append(changed, dueBlob{p, d.v, st.Size(), d.found})
		case d.found.Before(cutoff):
			out = append(out, dueBlob{p, d.v, st.Size(), d.found})
		}
	}
	slices.SortFunc(out, func(a, b dueBlob) int { return a.at.Compare(b.at) })
	return append(changed, out...)
}

// damagedLines returns one line per file found damaged, sorted.
func (b *blobChecks) damagedLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, d := range b.damaged {
		out = append(out, d.reason)
	}
	slices.Sort(out)
	return out
}

// reverify verifies whole again the remembered files that are due
// (reverifyEvery), within reverifyBudget bytes (at least one file), as
// the registry check behind /healthz runs.
func (l *Local) reverify(ctx context.Context) {
	var read int64
	for _, d := range l.blobs.due(time.Now().Add(-reverifyEvery)) {
		if ctx.Err() != nil || read > 0 && read+d.size > reverifyBudget {
			return
		}
		read += d.size
		l.recheck(ctx, d.path, d.v)
	}
}

// recheck verifies the file at path whole as the artifact of v,
// remembering the verdict. A file gone or no longer a regular file is
// forgotten: the checks of the version's requests and of the listing
// report it.
func (l *Local) recheck(ctx context.Context, path string, v Version) {
	f, st, err := openRegular(path)
	if err != nil {
		l.blobs.mu.Lock()
		delete(l.blobs.seen, path)
		delete(l.blobs.damaged, path)
		l.blobs.mu.Unlock()
		return
	}
	defer f.Close()
	l.verifyWhole(ctx, v, path, f, st, false)
}

// Problems returns one line per damage a server should report: a model
// whose current.json, version files or folder cannot be read, a current
// version whose artifact file is missing, not a regular file, or does
// not verify as the artifact the version records, and any other artifact
// file found damaged (by a download that was cut, a request, or a
// re-verification). An artifact file is read whole the first time, again
// when its identity (inode, size, modification time) changes, and again
// on the slow cycle (reverifyEvery, within reverifyBudget a check), so a
// check costs about one stat per model once the files have been
// verified. A registry folder that cannot be listed is one problem.
func (l *Local) Problems(ctx context.Context) []string {
	l.reverify(ctx)
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
	// Damaged files of versions that are not current (or not listed for
	// another reason), once: a current version's is named above.
	for _, d := range l.blobs.damagedLines() {
		if !slices.ContainsFunc(out, func(s string) bool { return strings.Contains(s, d) }) {
			out = append(out, "registry: "+d)
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
	if st.IsDir() {
		return fmt.Errorf("%w: version %s: %s", ErrDamaged, v.Version, folderInPlace(path))
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
