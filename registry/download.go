package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/tempfile"
)

// Downloads held the artifact whole in memory: `pull` read a server's
// answer with io.ReadAll up to artifact.MaxSize, and a bad registry URL
// answering an endless body took it to 2.7 GB before the refusal; the
// server read each downloaded artifact whole and held it while a slow
// client read it, so 20 slow clients of an 80 MB artifact took it to 2
// GB (attack run 16). Now an artifact is copied into a file and verified
// there as it is read back (artifact.Verify), and the server sends the
// verified artifact file itself: memory stays flat whatever the
// artifact's size and the number of clients.

// FileGetter is a Store that writes an artifact into a file and verifies
// it there, never holding it in memory whole (Local and Remote are).
type FileGetter interface {
	// GetTo writes the artifact of model@version into f (an empty file
	// open for reading and writing, written from offset 0) and checks
	// what it wrote as artifact.Verify does: the canonical form and the
	// meaning, its digest the version's, fitted for this model if it
	// names one. Version "" or "current" is the current version; the
	// Version returned names the one written. On error, f holds
	// whatever was written: discard it.
	GetTo(ctx context.Context, model, version string, f *os.File) (Version, error)
}

var (
	_ FileGetter = (*Local)(nil)
	_ FileGetter = (*Remote)(nil)
)

// maxDownload is the largest artifact a download accepts:
// artifact.MaxSize (a variable for tests).
var maxDownload int64 = artifact.MaxSize

// errArtifactTooLarge is the error of copyArtifact for an artifact found
// past maxDownload.
var errArtifactTooLarge = errors.New("artifact too large")

// copyArtifact copies r into f from offset 0, refusing it once it passes
// maxDownload (errArtifactTooLarge); the copy goes through a small
// buffer, never the whole artifact. It returns the bytes written.
func copyArtifact(f *os.File, r io.Reader) (int64, error) {
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	n, err := io.Copy(io.NewOffsetWriter(f, 0), io.LimitReader(r, maxDownload+1))
	if err != nil {
		return n, err
	}
	if n > maxDownload {
		return n, errArtifactTooLarge
	}
	return n, nil
}

// GetTo implements FileGetter: the artifact file is copied into f, and
// the copy verified, so what f holds is checked whatever happens to the
// registry folder meanwhile.
func (l *Local) GetTo(ctx context.Context, model, version string, f *os.File) (Version, error) {
	v, err := l.Resolve(ctx, model, version)
	if err != nil {
		return Version{}, err
	}
	blob, src, st, err := l.openBlob(v)
	if err != nil {
		return Version{}, err
	}
	defer src.Close()
	if st.Size() > maxDownload {
		return Version{}, fmt.Errorf("%w: read %s@%s: the stored artifact %s is larger than %d bytes: the registry folder was edited by hand; push the version again to repair", ErrDamaged, v.Model, v.Version, blob, maxDownload)
	}
	n, err := copyArtifact(f, src)
	switch {
	case errors.Is(err, errArtifactTooLarge): // grew while copied
		return Version{}, fmt.Errorf("%w: read %s@%s: the stored artifact %s is larger than %d bytes: the registry folder was edited by hand; push the version again to repair", ErrDamaged, v.Model, v.Version, blob, maxDownload)
	case err != nil:
		return Version{}, fmt.Errorf("read %s@%s: copy %s: %w", v.Model, v.Version, blob, err)
	}
	got, err := artifact.Verify(f, n, v.Model+"@"+v.Version)
	if err := l.checkVerified(v, blob, got, err); err != nil {
		return Version{}, err
	}
	return v, nil
}

// openBlob opens the artifact file of v, refusing one that is missing or
// not a regular file (ErrDamaged), and returns its path and the open
// file's stat.
func (l *Local) openBlob(v Version) (string, *os.File, os.FileInfo, error) {
	blob, err := l.blobPath(v.Digest)
	if err != nil {
		return "", nil, nil, fmt.Errorf("%w: read %s@%s: the version file is damaged: %v", ErrDamaged, v.Model, v.Version, err)
	}
	f, st, err := openRegular(blob)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, nil, fmt.Errorf("%w: read %s@%s: the artifact %s is missing from the registry folder; push it again to repair", ErrDamaged, v.Model, v.Version, v.Digest)
		}
		return "", nil, nil, fmt.Errorf("read %s@%s: %w", v.Model, v.Version, err)
	}
	return blob, f, st, nil
}

// checkVerified turns the verdict of artifact.Verify on the artifact file
// blob read for v into an error: the file must verify, hold the digest
// the version records, and not be fitted for another model.
func (l *Local) checkVerified(v Version, blob string, got *artifact.Verified, err error) error {
	if err != nil {
		return fmt.Errorf("%w: read %s@%s: the stored artifact %s is damaged (%w): the file in the registry folder changed after it was pushed; push %s@%s again from its artifact file (or restore the file from a backup) to repair", ErrDamaged, v.Model, v.Version, blob, storedError{err}, v.Model, v.Version)
	}
	if got.Digest != v.Digest {
		return fmt.Errorf("%w: read %s@%s: the stored artifact %s is %s, not the %s the version records (the file was replaced); push the version again to repair", ErrDamaged, v.Model, v.Version, blob, got.Digest, v.Digest)
	}
	return l.sameModel(v, got)
}

// storedError is artifact.Verify's refusal of a file in the registry
// folder, without its advice to the holder of an artifact file ("refit
// or fetch it again"), which does not fit a registry's stored copy.
type storedError struct{ err error }

func (e storedError) Error() string { return withoutFileAdvice(e.err.Error()) }
func (e storedError) Unwrap() error { return e.err }

// withoutFileAdvice drops artifact's advice to the holder of an artifact
// file (refit it, fetch it again) from an error message.
func withoutFileAdvice(msg string) string {
	for _, a := range []string{
		" — refit or fetch it again", "; refit or fetch it again", " — fetch or refit it",
		"; refit it with normguard fit, or restore it from the registry or a backup",
	} {
		msg = strings.ReplaceAll(msg, a, "")
	}
	return msg
}

// OpenArtifact opens the artifact file of model@version for reading and
// returns it with its size and the version read ("" or "current": the
// current version). The file is checked as Get checks the bytes it
// returns: a regular file, the artifact the version records (digest,
// canonical form, meaning), not fitted for another model. It is verified
// whole (artifact.Verify, in flat memory, one verification at a time in
// the process) the first time, again whenever its identity (inode, size,
// modification time) changes, and again once that verification is older
// than reverifyTrust; otherwise the check costs a stat. A file changed
// keeping its identity is caught as it is sent (sendArtifact) and by the
// registry check's slow cycle (reverifyEvery). The caller reads at most
// size bytes and closes the file.
func (l *Local) OpenArtifact(ctx context.Context, model, version string) (*os.File, int64, Version, error) {
	v, err := l.Resolve(ctx, model, version)
	if err != nil {
		return nil, 0, Version{}, err
	}
	blob, f, st, err := l.openBlob(v)
	if err != nil {
		return nil, 0, Version{}, err
	}
	if err := l.verifyBlob(ctx, v, blob, f, st); err != nil {
		f.Close()
		return nil, 0, Version{}, err
	}
	return f, st.Size(), v, nil
}

// verifyBlob checks f, the open artifact file blob of v whose stat is st,
// unless a file of the same identity verified before; the verdict is
// remembered by identity.
func (l *Local) verifyBlob(ctx context.Context, v Version, blob string, f *os.File, st os.FileInfo) error {
	if model, ok := l.blobs.verified(blob, st); ok {
		return l.sameModelName(v, model)
	}
	return l.verifyWhole(ctx, v, blob, f, st, true)
}

// verifyWhole verifies f, the open artifact file path of v whose stat is
// st, whole, and remembers the verdict: a file holding v's digest is
// recorded as verified, any other is marked damaged (the file itself,
// whatever the version file says). It returns the error for v. The one
// path of every verification of a stored file: a request's (verifyBlob,
// with reuse: a verdict another request reached while this one waited
// is taken), and the registry check's (recheck). Verifications take
// turns with those of uploads (verifySlots), so that many requests for a
// new artifact cost the memory of one.
func (l *Local) verifyWhole(ctx context.Context, v Version, path string, f *os.File, st os.FileInfo, reuse bool) error {
	select {
	case verifySlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-verifySlots }()
	if model, ok := l.blobs.verified(path, st); reuse && ok {
		return l.sameModelName(v, model)
	}
	if st.Size() > artifact.MaxSize {
		err := fmt.Errorf("%w: read %s@%s: the stored artifact %s is larger than %d bytes: the registry folder was edited by hand; push the version again to repair", ErrDamaged, v.Model, v.Version, path, int64(artifact.MaxSize))
		l.blobs.markDamaged(path, st, v, err)
		return err
	}
	start := time.Now()
	got, err := artifact.Verify(f, st.Size(), v.Model+"@"+v.Version)
	if err == nil && got.Digest == v.Digest {
		l.blobs.record(path, st, v, got, start)
		return l.sameModel(v, got)
	}
	err = l.checkVerified(v, path, got, err)
	l.blobs.markDamaged(path, st, v, err)
	return err
}

// serveArtifact answers a download from the verified artifact file
// (OpenArtifact), read a piece at a time: nothing of the artifact is held
// in memory, however many clients read it and however slowly. The bytes
// are hashed as they are sent (sendArtifact): a file changed since it
// verified, even keeping its identity (attack run 18: the same size and
// modification time), is not sent whole. Its answer is cut before its
// last bytes, so the client sees fewer bytes than the Content-Length
// announced, never a complete answer of other bytes; the file is then
// marked damaged, so that the next requests, the listing and /healthz
// say so (503 registry_damaged).
func serveArtifact(w http.ResponseWriter, r *http.Request, l fileOpener) {
	f, size, v, err := l.OpenArtifact(r.Context(), r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	defer f.Close()
	setArtifactHeaders(w, v, size)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	damage, _ := sendArtifact(w, f, size, v.Digest)
	if damage != nil {
		if n, ok := l.(damageNoter); ok {
			n.sentDamaged(v, f, damage)
		}
		panic(http.ErrAbortHandler) // the connection is closed: the answer is cut
	}
}

// damageNoter is a fileOpener told when a file it opened was found not to
// be the artifact while it was sent (Local).
type damageNoter interface {
	sentDamaged(v Version, f *os.File, err error)
}

// sentDamaged marks the artifact file f, opened for v, damaged: a
// download found its bytes are not v's artifact.
func (l *Local) sentDamaged(v Version, f *os.File, err error) {
	st, serr := f.Stat()
	if serr != nil {
		st = nil
	}
	l.blobs.markDamaged(f.Name(), st, v, fmt.Errorf("%w: read %s@%s: the stored artifact %s changed after it verified: %w; its downloads were cut; push %s@%s again from its artifact file (or restore the file from a backup) to repair", ErrDamaged, v.Model, v.Version, f.Name(), err, v.Model, v.Version))
}

// sendChunk is the piece of an artifact file a download reads, hashes
// and sends at a time; a download holds two.
const sendChunk = 32 << 10

// digestKey is how the canonical encoding writes the artifact's digest
// field: the third top-level key, after "format" and "format_version".
var digestKey = []byte("\n  \"digest\": ")

// sendArtifact writes the size bytes of the artifact file f to w while
// hashing them as the version's digest is computed: over the canonical
// encoding with the digest field's value "" (artifact.Encode). The file
// verified as canonical, so its bytes are that encoding with the digest
// field's value `"<digest>"`: the digest field is found in the first
// piece, which must hold `"<digest>"` there, and `""` is hashed in its
// place. The last piece read is held back until every byte was hashed: if
// the sum is not digest, or the file ends early, it is not sent and
// damage says why, so the answer is cut. sendErr is an error writing to
// w (the client went away).
func sendArtifact(w io.Writer, f io.ReaderAt, size int64, digest string) (damage, sendErr error) {
	hexWant, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return fmt.Errorf("digest %q is not sha256:<hex>", digest), nil
	}
	h := sha256.New()
	var bufs [2][]byte
	var pending []byte // read and hashed, not sent yet
	for off, i := int64(0), 0; off < size; i++ {
		if bufs[i%2] == nil {
			bufs[i%2] = make([]byte, sendChunk)
		}
		n := min(size-off, sendChunk)
		chunk := bufs[i%2][:n]
		if k, err := f.ReadAt(chunk, off); int64(k) < n {
			return fmt.Errorf("the file holds %d bytes, not the %d it held when it verified (%v)", off+int64(k), size, err), nil
		}
		if off == 0 {
			if err := hashHead(h, chunk, digest); err != nil {
				return err, nil
			}
		} else {
			h.Write(chunk)
		}
		if pending != nil {
			if _, err := w.Write(pending); err != nil {
				return nil, err
			}
		}
		pending = chunk
		off += n
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != hexWant {
		return fmt.Errorf("its bytes hash to sha256:%s, not to the version's digest", got), nil
	}
	if pending != nil {
		if _, err := w.Write(pending); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// hashHead hashes the first piece of an artifact file, whose digest field
// must hold digest, with "" in place of the field's value.
func hashHead(h hash.Hash, head []byte, digest string) error {
	i := bytes.Index(head, digestKey)
	want := `"` + digest + `"`
	if i < 0 || !bytes.HasPrefix(head[i+len(digestKey):], []byte(want)) {
		return fmt.Errorf("its digest field is not %s where the canonical encoding writes it", want)
	}
	j := i + len(digestKey)
	h.Write(head[:j])
	h.Write([]byte(`""`))
	h.Write(head[j+len(want):])
	return nil
}

// fileOpener is a Store whose downloads are served from the artifact
// file (Local).
type fileOpener interface {
	OpenArtifact(ctx context.Context, model, version string) (*os.File, int64, Version, error)
}

// setArtifactHeaders sets the headers of a download of v, size bytes.
func setArtifactHeaders(w http.ResponseWriter, v Version, size int64) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(DigestHeader, v.Digest)
	w.Header().Set("Normguard-Model-Version", v.Version)
	w.Header().Set("ETag", `"`+v.Digest+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", fmt.Sprint(size))
}

// GetTo implements FileGetter: it resolves the version, then streams its
// artifact into f and verifies it there. The answer is refused once it
// passes artifact.MaxSize (at once when its Content-Length says so), so
// a server answering an endless or huge body costs a buffer, not the
// body.
func (r *Remote) GetTo(ctx context.Context, model, version string, f *os.File) (Version, error) {
	v, err := r.Resolve(ctx, model, version)
	if err != nil {
		return Version{}, err
	}
	u := r.modelURL(model, "versions", v.Version, "artifact")
	resp, err := r.do(ctx, http.MethodGet, u, nil, false)
	if err != nil {
		return Version{}, err
	}
	if resp.ContentLength > maxDownload {
		resp.Body.Close()
		return Version{}, fmt.Errorf("registry GET %s: the answer announces %d bytes (Content-Length), but an artifact is at most %d; is this a normguard server?", u, resp.ContentLength, maxDownload)
	}
	n, err := copyArtifact(f, resp.Body)
	resp.Body.Close() // stops the watchdog: verifying is not stalling
	switch {
	case errors.Is(err, errArtifactTooLarge):
		return Version{}, fmt.Errorf("registry GET %s: the artifact is larger than %d bytes; is this a normguard server?", u, maxDownload)
	case errors.Is(err, io.ErrUnexpectedEOF) && resp.ContentLength > 0:
		// A normguard server cuts the answer of a stored file that no
		// longer verifies as the version's artifact (sendArtifact).
		return Version{}, fmt.Errorf("registry GET %s: the server ended the answer after %d of the %d bytes it announced: a normguard server does so when its stored artifact of %s@%s no longer verifies (the file in its registry folder is damaged), or the connection was cut; try again: if it is cut again or refused as damaged, %s", u, n, resp.ContentLength, v.Model, v.Version, r.ownerAdvice(v))
	case err != nil:
		return Version{}, fmt.Errorf("registry GET %s: download interrupted: %w", u, err) // errStalled when the server stalled
	}
	if err := ctx.Err(); err != nil {
		return Version{}, err
	}
	a, err := artifact.Verify(f, n, u)
	if err != nil {
		return Version{}, fmt.Errorf("registry GET %s: the download is not a valid artifact (%w): the server sent bytes that are not %s@%s's artifact %s: the registry's stored file of %s@%s is damaged, or the answer was changed on its way (a proxy); %s", u, storedError{err}, v.Model, v.Version, v.Digest, v.Model, v.Version, r.ownerAdvice(v))
	}
	if a.Digest != v.Digest {
		return Version{}, fmt.Errorf("registry GET %s: the server sent artifact %s, but %s@%s is %s: the registry's stored file of %s@%s was replaced by another artifact; %s", u, a.Digest, v.Model, v.Version, v.Digest, v.Model, v.Version, r.ownerAdvice(v))
	}
	if a.Model != nil && a.Model.Name != "" && a.Model.Name != v.Model {
		return Version{}, fmt.Errorf("registry GET %s: the server sent an artifact fitted for model %q as %s@%s; its registry is damaged: %s", u, a.Model.Name, v.Model, v.Version, r.ownerAdvice(v))
	}
	return v, nil
}

// ownerAdvice tells what the owner of the registry at r should do about
// a damaged stored artifact of v.
func (r *Remote) ownerAdvice(v Version) string {
	return fmt.Sprintf("the registry's owner should push %s@%s again from its artifact file (`normguard push FILE --registry %s --model %s --model-version %s --keep-current`), or restore the registry folder from a backup; `normguard list --registry %s` shows whether the server reports it damaged", v.Model, v.Version, r.base, v.Model, v.Version, r.base)
}

// Get implements Store: it downloads the artifact into an unnamed
// temporary file (GetTo: streamed, checked that the server sent the
// artifact it named: the bytes verify, and their digest is the
// version's), then reads the verified file, holding the artifact once.
// Resolving first makes the Version returned describe the bytes even
// when the current version moves meanwhile. A caller that writes the
// artifact to a file uses GetTo.
func (r *Remote) Get(ctx context.Context, model, version string) ([]byte, Version, error) {
	f, done, err := tempfile.Scratch("normguard-download")
	if err != nil {
		return nil, Version{}, fmt.Errorf("registry %s: download %s@%s: %w", r.base, model, version, err)
	}
	defer done()
	v, err := r.GetTo(ctx, model, version, f)
	if err != nil {
		return nil, Version{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, Version{}, err
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, Version{}, fmt.Errorf("registry %s: download %s@%s: read it back: %w", r.base, model, version, err)
	}
	return data, v, nil
}
