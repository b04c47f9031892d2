package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/normguard/normguard/artifact"
)

// Local is a registry in a folder (see the package documentation for the
// layout). It is safe for concurrent use; several processes may share the
// folder: a version is created at most once, the last current.json
// written wins, and Resolve notices another process's changes.
type Local struct {
	// Revalidate bounds how stale Resolve's view of another process's
	// writes may be: within Revalidate of a confirmed lookup, current.json
	// is not stat'ed again. Zero stats on every lookup. Writes through
	// the same *Local are seen at once either way. Set it before use.
	Revalidate time.Duration

	dir    string
	now    func() time.Time
	opened time.Time

	// mu serializes writes within the process.
	mu sync.Mutex

	// cacheMu guards the caches, which writes and reads both update; it
	// is never held across file system calls that write.
	cacheMu sync.RWMutex
	// versions caches version files, which never change once written.
	versions map[versionKey]versionFile
	// currents caches each model's current.json with the file's identity
	// when it was read, revalidated by one os.Stat per lookup.
	currents map[string]*currentEntry
	// blobs remembers the artifact files Problems verified (health.go).
	blobs blobChecks
}

type versionKey struct{ model, version string }

// versionFile is the content of models/<model>/versions/<v>.json.
type versionFile struct {
	Digest  string    `json:"digest"`
	Created time.Time `json:"created"`
}

// currentFile is the content of models/<model>/current.json.
type currentFile struct {
	Version string    `json:"version"`
	Updated time.Time `json:"updated"`
}

type currentEntry struct {
	path    string
	info    fs.FileInfo // nil: not read yet
	version string
	// checked is when info was last confirmed (monotonic nanoseconds
	// since the registry was opened).
	checked atomic.Int64
}

// Open opens the registry in dir, creating the folder and its layout if
// missing.
func Open(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("open registry: the folder name is empty; pass --registry DIR or a server URL")
	}
	for _, d := range []string{filepath.Join(dir, "blobs", "sha256"), filepath.Join(dir, "models")} {
		if err := mkdirAll(d); err != nil {
			return nil, fmt.Errorf("open registry %s: %w", dir, err)
		}
	}
	return &Local{
		dir:      dir,
		now:      time.Now,
		opened:   time.Now(),
		versions: map[versionKey]versionFile{},
		currents: map[string]*currentEntry{},
	}, nil
}

// Dir returns the registry's folder.
func (l *Local) Dir() string { return l.dir }

func (l *Local) modelDir(model string) string { return filepath.Join(l.dir, "models", model) }

func (l *Local) versionPath(model, version string) string {
	return filepath.Join(l.dir, "models", model, "versions", version+".json")
}

// blobPath returns the file of a "sha256:<hex>" digest.
func (l *Local) blobPath(digest string) (string, error) {
	hex, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("digest %q is not sha256:<64 hex digits>", digest)
	}
	return filepath.Join(l.dir, "blobs", "sha256", hex+".json"), nil
}

// Put implements Store. The bytes must be a canonical artifact
// (artifact.Verify accepts them, as artifact.Decode would); they are stored under the artifact's
// own digest. An artifact that names a model (artifact.Model) can only be
// stored under that model's name; its model version need not match.
func (l *Local) Put(ctx context.Context, model, version string, data []byte, opt PutOptions) (Version, bool, error) {
	if err := checkPut(ctx, model, version); err != nil {
		return Version{}, false, err
	}
	digest, err := checkArtifact(model, version, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Version{}, false, err
	}
	return l.store(model, version, digest, func(blob string) error { return replaceFile(blob, data) }, opt)
}

// checkPut refuses a Put or PutFrom whose context is done or whose model
// or version name is not valid.
func checkPut(ctx context.Context, model, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidName(model); err != nil {
		return fmt.Errorf("model name: %w", err)
	}
	if err := validVersion(version); err != nil {
		return fmt.Errorf("version name: %w", err)
	}
	return nil
}

// store records model@version as the artifact of digest, writing its
// blob with writeBlob when the registry does not hold it yet, or holds a
// file under its name that does not verify as that artifact: a stored
// file damaged in place is repaired by pushing the version again, as the
// errors reporting it say.
func (l *Local) store(model, version, digest string, writeBlob func(blob string) error, opt PutOptions) (Version, bool, error) {
	blob, err := l.blobPath(digest)
	if err != nil {
		return Version{}, false, fmt.Errorf("%w: %v", ErrInvalidArtifact, err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	// The version before the blob: an upload the version refuses keeps
	// nothing (attack run 30 F9: each 409 left its artifact in blobs/ for
	// good, up to the size limit each).
	if err := l.refusedVersion(model, version, digest); err != nil {
		return Version{}, false, err
	}
	// The blob first: once a version file names it, it is complete.
	intact, err := blobIntact(blob, digest)
	if err != nil {
		return Version{}, false, fmt.Errorf("store %s@%s: %w", model, version, err)
	}
	if !intact {
		// A folder in the file's place cannot be replaced by the rename
		// that writes it ("rename ...: file exists"): say what to do
		// (attack run 20).
		if st, err := os.Lstat(blob); err == nil && st.IsDir() {
			return Version{}, false, fmt.Errorf("%w: store %s@%s: %s", ErrDamaged, model, version, folderInPlace(blob))
		}
		if err := writeBlob(blob); err != nil {
			return Version{}, false, fmt.Errorf("store %s@%s: %w", model, version, err)
		}
	}
	if err := mkdirAll(filepath.Join(l.modelDir(model), "versions")); err != nil {
		return Version{}, false, fmt.Errorf("store %s@%s: %w", model, version, err)
	}
	vf := versionFile{Digest: digest, Created: l.now().UTC()}
	body, err := json.Marshal(vf)
	if err != nil {
		return Version{}, false, err
	}
	created, err := createFile(l.versionPath(model, version), append(body, '\n'))
	if err != nil {
		return Version{}, false, fmt.Errorf("store %s@%s: %w", model, version, err)
	}
	if !created {
		// From the folder, not the cache: a push answering that the
		// version is stored must find its file there (attack run 21: a
		// folder in its place was answered OK by a server that had read
		// the version before).
		old, err := l.loadVersion(model, version)
		switch {
		case err == nil:
			if old.Digest != digest {
				// Another process sharing the folder created the version
				// since refusedVersion looked. The blob written for this
				// upload stays: that process, or a third, may be storing
				// a version of the same artifact, which removing it would
				// leave without its bytes.
				return Version{}, false, conflict(model, version, old.Digest, digest)
			}
			vf = old
		case errors.Is(err, ErrDamaged) && !isFolder(l.versionPath(model, version)):
			// A version file that cannot be read (cut, edited, a FIFO in
			// its place) is what the errors reporting it advise this push
			// to repair: it is replaced (attack run 21). A folder is not
			// replaced: its error says to move it aside first.
			if err := replaceFile(l.versionPath(model, version), append(body, '\n')); err != nil {
				return Version{}, false, fmt.Errorf("store %s@%s: repairing its version file: %w", model, version, err)
			}
			l.cacheMu.Lock()
			delete(l.versions, versionKey{model, version})
			l.cacheMu.Unlock()
			created = true
		default:
			return Version{}, false, err
		}
	}
	l.cacheMu.Lock()
	l.versions[versionKey{model, version}] = vf
	l.cacheMu.Unlock()

	cur, err := l.current(model)
	// A current.json that cannot be read is repaired by this push, as its
	// error advises: the version pushed becomes current (attack run 21).
	// A folder in its place is not replaced: its error says to move it.
	repairCurrent := errors.Is(err, ErrDamaged) && !isFolder(filepath.Join(l.modelDir(model), "current.json"))
	if err != nil && !errors.Is(err, ErrNotFound) && !repairCurrent {
		return Version{}, false, err
	}
	if !opt.KeepCurrent || cur == "" {
		if err := l.writeCurrent(model, version); err != nil {
			return Version{}, false, fmt.Errorf("store %s@%s: %w", model, version, err)
		}
		cur = version
	}
	return Version{Model: model, Version: version, Digest: vf.Digest, Created: vf.Created, Current: cur == version}, created, nil
}

// refusedVersion returns the error of storing digest as model@version
// when the version file already on disk refuses it: it names another
// artifact (ErrConflict), or a folder stands in its place (ErrDamaged,
// which a push cannot repair). A version that is missing, or whose file is
// damaged (which the push repairs), refuses nothing. It reads the folder,
// not the cache, as store does after creating the file.
func (l *Local) refusedVersion(model, version, digest string) error {
	old, err := l.loadVersion(model, version)
	switch {
	case err == nil:
		if old.Digest != digest {
			return conflict(model, version, old.Digest, digest)
		}
		return nil
	case errors.Is(err, ErrNotFound):
		return nil
	case errors.Is(err, ErrDamaged) && !isFolder(l.versionPath(model, version)):
		return nil
	}
	return err
}

// conflict is the error of another artifact under an existing version.
func conflict(model, version, stored, digest string) error {
	return fmt.Errorf("%w: %s@%s already exists with artifact %s, this one is %s; versions are immutable, push it as a new version", ErrConflict, model, version, stored, digest)
}

// blobIntact tells whether the file at path is the artifact of digest,
// verified whole (one verification at a time: verifySlots). A missing
// file, or one that is not a regular file or not that artifact, is not.
func blobIntact(path, digest string) (bool, error) {
	f, st, err := openRegular(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrDamaged) && !errors.Is(err, fs.ErrPermission) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if st.Size() > artifact.MaxSize {
		return false, nil
	}
	verifySlots <- struct{}{}
	defer func() { <-verifySlots }()
	got, err := artifact.Verify(f, st.Size(), path)
	return err == nil && got.Digest == digest, nil
}

// sameModel refuses an artifact read for version v that was fitted for
// another model: a version file copied from another model's folder (a
// botched restore) served that model under this name, and a valid row
// was refused as missing the other model's columns (attack run 15).
// Uploads refuse such an artifact (checkArtifact).
func (l *Local) sameModel(v Version, got *artifact.Verified) error {
	return l.sameModelName(v, modelName(got))
}

// sameModelName is sameModel given the name of the model the artifact
// was fitted for ("": none).
func (l *Local) sameModelName(v Version, name string) error {
	if name != "" && name != v.Model {
		return fmt.Errorf("%w: read %s@%s: the version file %s names artifact %s, which was fitted for model %q (the file was copied from another model's folder); push the version again to repair", ErrDamaged, v.Model, v.Version, l.versionPath(v.Model, v.Version), v.Digest, name)
	}
	return nil
}

// modelName is the name of the model a verified artifact was fitted for
// ("": none).
func modelName(got *artifact.Verified) string {
	if got.Model == nil {
		return ""
	}
	return got.Model.Name
}

// checkArtifact verifies that the size bytes of r are an artifact this
// normguard reads, fitted for model if it names one, and returns its
// digest. The artifact is checked as it is read (artifact.Verify), never
// held in memory whole.
func checkArtifact(model, version string, r io.ReaderAt, size int64) (string, error) {
	a, err := artifact.Verify(r, size, model+"@"+version)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidArtifact, err)
	}
	if a.Model != nil && a.Model.Name != "" && a.Model.Name != model {
		return "", fmt.Errorf("%w: the artifact was fitted for model %q, not %q; push it as model %q, or refit it with --model %s", ErrInvalidArtifact, a.Model.Name, model, a.Model.Name, model)
	}
	return a.Digest, nil
}

// writeCurrent makes version current and updates the cache. The caller
// holds l.mu.
func (l *Local) writeCurrent(model, version string) error {
	body, err := json.Marshal(currentFile{Version: version, Updated: l.now().UTC()})
	if err != nil {
		return err
	}
	path := filepath.Join(l.modelDir(model), "current.json")
	if isFolder(path) {
		// The rename cannot replace a folder: a PUT of the current
		// version answered 500 "rename ...: file exists" (attack run 24).
		return fmt.Errorf("%w: %s is a folder, where the model's current.json belongs: the registry folder was edited by hand; "+
			"move the folder aside (or remove it), then make the version current again", ErrDamaged, path)
	}
	if err := replaceFile(path, append(body, '\n')); err != nil {
		return err
	}
	// Read back what is on disk, with its identity, so the cache agrees
	// with the file whoever wrote last.
	l.cacheMu.Lock()
	delete(l.currents, model)
	l.cacheMu.Unlock()
	_, err = l.current(model)
	return err
}

// Get implements Store.
func (l *Local) Get(ctx context.Context, model, version string) ([]byte, Version, error) {
	v, err := l.Resolve(ctx, model, version)
	if err != nil {
		return nil, Version{}, err
	}
	blob, err := l.blobPath(v.Digest)
	if err != nil {
		return nil, Version{}, fmt.Errorf("%w: read %s@%s: the version file is damaged: %v", ErrDamaged, v.Model, v.Version, err)
	}
	data, err := readRegular(blob, artifact.MaxSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Version{}, fmt.Errorf("%w: read %s@%s: the artifact %s is missing from the registry folder; push it again to repair", ErrDamaged, v.Model, v.Version, v.Digest)
		}
		return nil, Version{}, fmt.Errorf("read %s@%s: %w", v.Model, v.Version, err)
	}
	// The folder is outside normguard's hands: a file replaced, restored
	// from another backup or cut short would be served under this
	// version's digest. What is read must be the artifact the version
	// records, checked whole.
	got, err := artifact.Verify(bytes.NewReader(data), int64(len(data)), v.Model+"@"+v.Version)
	if err != nil {
		return nil, Version{}, fmt.Errorf("%w: read %s@%s: the stored artifact %s is damaged: %w; push it again to repair", ErrDamaged, v.Model, v.Version, blob, err)
	}
	if got.Digest != v.Digest {
		return nil, Version{}, fmt.Errorf("%w: read %s@%s: the stored artifact %s is %s, not the %s the version records (the file was replaced); push the version again to repair", ErrDamaged, v.Model, v.Version, blob, got.Digest, v.Digest)
	}
	if err := l.sameModel(v, got); err != nil {
		return nil, Version{}, err
	}
	return data, v, nil
}

// Resolve implements Store. It costs one os.Stat of current.json when
// the version files involved have been read before: current.json is
// re-read only when its identity (device and inode, size, modification
// time) changed, so a push from another process is seen on the next
// call. Every write replaces current.json by a new file (a new inode), so
// a change is seen even within the file system's timestamp resolution.
func (l *Local) Resolve(ctx context.Context, model, version string) (Version, error) {
	if err := ValidName(model); err != nil {
		return Version{}, fmt.Errorf("model name: %w", err)
	}
	if !isCurrent(version) {
		if err := ValidName(version); err != nil {
			return Version{}, fmt.Errorf("version name: %w", err)
		}
	}
	cur, err := l.current(model)
	if err != nil {
		// A version named explicitly does not need current.json, even
		// damaged (it is then not marked current).
		if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrDamaged) || isCurrent(version) {
			return Version{}, err
		}
	}
	named := !isCurrent(version)
	if !named {
		version = cur
	}
	vf, err := l.readVersion(model, version)
	if err != nil {
		if !named && errors.Is(err, ErrNotFound) {
			return Version{}, l.missingCurrent(model, version)
		}
		return Version{}, err
	}
	return Version{Model: model, Version: version, Digest: vf.Digest, Created: vf.Created, Current: cur == version}, nil
}

// current returns model's current version, from the cache when
// current.json has not changed since it was read. A model without
// current.json is ErrNotFound.
func (l *Local) current(model string) (string, error) {
	l.cacheMu.RLock()
	e := l.currents[model]
	l.cacheMu.RUnlock()
	path := ""
	now := int64(time.Since(l.opened))
	if e != nil {
		if e.info != nil && now-e.checked.Load() < int64(l.Revalidate) {
			return e.version, nil
		}
		path = e.path
	} else {
		path = filepath.Join(l.modelDir(model), "current.json")
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", l.notFound(model, err)
	}
	if e != nil && e.info != nil && sameFile(e.info, st) {
		e.checked.Store(now)
		return e.version, nil
	}
	// The identity comes from the open file, so it belongs to the bytes
	// read even if the file is replaced meanwhile.
	f, st, err := openRegular(path)
	if err != nil {
		return "", l.notFound(model, err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return "", damaged(fmt.Errorf("read %s: %w", path, err))
	}
	var cf currentFile
	if err := json.Unmarshal(body, &cf); err != nil || ValidName(cf.Version) != nil {
		return "", fmt.Errorf("%w: read %s: the file is damaged; fix it with `normguard push` or a PUT to /v1/models/%s/current", ErrDamaged, path, model)
	}
	ne := &currentEntry{path: path, info: st, version: cf.Version}
	ne.checked.Store(now)
	l.cacheMu.Lock()
	l.currents[model] = ne
	l.cacheMu.Unlock()
	return cf.Version, nil
}

// sameFile tells whether two stats describe the same unchanged file.
func sameFile(a, b fs.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

// notFound turns a missing current.json into ErrNotFound, telling a
// missing model from a model without a current version.
func (l *Local) notFound(model string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return damaged(err)
	}
	if _, serr := os.Stat(l.modelDir(model)); errors.Is(serr, fs.ErrNotExist) {
		return fmt.Errorf("%w: no model %q in the registry", ErrNotFound, model)
	}
	return fmt.Errorf("%w: model %q has no current version", ErrNotFound, model)
}

// readVersion returns a version file, from the cache once read.
func (l *Local) readVersion(model, version string) (versionFile, error) {
	k := versionKey{model, version}
	l.cacheMu.RLock()
	vf, ok := l.versions[k]
	l.cacheMu.RUnlock()
	if ok {
		return vf, nil
	}
	return l.loadVersion(model, version)
}

// loadVersion reads a version file from the registry folder, whatever the
// cache holds, and caches it; a file that cannot be read leaves the
// cache, so that the version's requests report it too.
func (l *Local) loadVersion(model, version string) (vf versionFile, err error) {
	k := versionKey{model, version}
	defer func() {
		if err != nil {
			l.cacheMu.Lock()
			delete(l.versions, k)
			l.cacheMu.Unlock()
		}
	}()
	path := l.versionPath(model, version)
	body, err := readRegular(path, maxVersionFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(l.modelDir(model)); errors.Is(serr, fs.ErrNotExist) {
				return versionFile{}, fmt.Errorf("%w: no model %q in the registry", ErrNotFound, model)
			}
			return versionFile{}, fmt.Errorf("%w: model %q has no version %q", ErrNotFound, model, version)
		}
		return versionFile{}, err
	}
	if err := json.Unmarshal(body, &vf); err != nil {
		return versionFile{}, fmt.Errorf("%w: read %s: the file is damaged (%v); push the version again to repair", ErrDamaged, path, err)
	}
	if _, err := l.blobPath(vf.Digest); err != nil {
		return versionFile{}, fmt.Errorf("%w: read %s: the file is damaged (%v); push the version again to repair", ErrDamaged, path, err)
	}
	l.cacheMu.Lock()
	l.versions[k] = vf
	l.cacheMu.Unlock()
	return vf, nil
}

// List implements Store. Folders and files whose names are not valid
// names (temporary files, strays) are skipped.
func (l *Local) List(ctx context.Context) ([]Model, error) {
	names, err := validEntries(filepath.Join(l.dir, "models"), true)
	if err != nil {
		// Open made the folder: gone or unreadable, the registry is damaged.
		return nil, fmt.Errorf("%w: list registry %s: %w; restore the folder from a backup, or push the models again", ErrDamaged, l.dir, err)
	}
	models := make([]Model, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := l.model(name)
		if errors.Is(err, ErrDamaged) {
			m = Model{Name: name, Versions: []Version{}, Damaged: err.Error()}
		} else if err != nil {
			return nil, fmt.Errorf("list registry %s: %w", l.dir, err)
		}
		models = append(models, m)
	}
	return models, nil
}

// Model returns one model with its versions, oldest first, reading only
// that model's files.
func (l *Local) Model(ctx context.Context, name string) (Model, error) {
	if err := ValidName(name); err != nil {
		return Model{}, fmt.Errorf("model name: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Model{}, err
	}
	if _, err := os.Stat(l.modelDir(name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Model{}, fmt.Errorf("%w: no model %q in the registry", ErrNotFound, name)
		}
		return Model{}, damaged(err)
	}
	return l.model(name)
}

// model reads one model's versions and current version.
func (l *Local) model(name string) (Model, error) {
	cur, err := l.current(name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Model{}, err
	}
	files, err := validEntries(filepath.Join(l.modelDir(name), "versions"), false)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Model{}, damaged(err)
	}
	m := Model{Name: name, Current: cur, Versions: make([]Version, 0, len(files))}
	for _, f := range files {
		version := strings.TrimSuffix(f, ".json")
		read := l.readVersion
		if version == cur {
			// The current version's file from the folder, not the
			// cache: one changed by hand after a server read it was
			// never reported (attack run 24). A few hundred bytes per
			// model and check.
			read = l.loadVersion
		}
		vf, err := read(name, version)
		if err != nil {
			return Model{}, err
		}
		m.Versions = append(m.Versions, Version{Model: name, Version: version, Digest: vf.Digest, Created: vf.Created, Current: version == cur})
	}
	slices.SortFunc(m.Versions, func(a, b Version) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	// The current version must exist and its artifact verify as this
	// model's (attack run 16: a listing showed as healthy a model whose
	// current.json named a missing version, or whose artifact was cut,
	// replaced or copied from another model, where /healthz and
	// /transform said it was damaged). A verified artifact file is not
	// read again while it keeps its identity (checkBlob): one stat.
	if cur != "" {
		i := slices.IndexFunc(m.Versions, func(v Version) bool { return v.Current })
		if i < 0 {
			return Model{}, l.missingCurrent(name, cur)
		}
		if err := l.checkBlob(m.Versions[i]); err != nil {
			m.Damaged = err.Error()
		}
	}
	return m, nil
}

// missingCurrent is the error of a current.json naming a version that has
// no version file: the folder was edited by hand.
func (l *Local) missingCurrent(model, version string) error {
	if path := l.versionPath(model, version); isFolder(path) {
		// A folder in its place: the advised PUT answered 200 from the
		// cache and repaired nothing (attack run 22).
		return fmt.Errorf("%w: model %s: current.json names version %s, whose version file %s is a folder: the registry folder was edited by hand; "+
			"move the folder aside (or remove it), then push %s@%s again (or make another version current with a PUT to /v1/models/%s/current)",
			ErrDamaged, model, version, path, model, version, model)
	}
	return fmt.Errorf("%w: model %s: current.json names version %s, which has no version file (%s): the registry folder was edited by hand; make a version current again with `normguard push` or a PUT to /v1/models/%s/current",
		ErrDamaged, model, version, l.versionPath(model, version), model)
}

// validEntries lists the folders (dirs) or .json files of dir whose names
// are valid model or version names, sorted.
func validEntries(dir string, dirs bool) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		name := e.Name()
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// A link to a folder is listed as the folder, as Model and
			// Resolve, which follow it, serve it (attack run 16: a linked
			// model folder was served but not listed).
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil {
				isDir = st.IsDir()
			}
		}
		if dirs != isDir {
			continue
		}
		if !dirs {
			var ok bool
			if name, ok = strings.CutSuffix(name, ".json"); !ok {
				continue
			}
		}
		if ValidName(name) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// SetCurrent implements Store.
func (l *Local) SetCurrent(ctx context.Context, model, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidName(model); err != nil {
		return fmt.Errorf("model name: %w", err)
	}
	if err := validVersion(version); err != nil {
		return fmt.Errorf("version name: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// From the folder, not the cache: a version whose file is gone or a
	// folder cannot be made current (attack run 22: a PUT answered 200
	// from the cache and repaired nothing).
	if _, err := l.loadVersion(model, version); err != nil {
		return err
	}
	if err := l.writeCurrent(model, version); err != nil {
		return fmt.Errorf("set current %s@%s: %w", model, version, err)
	}
	return nil
}

// isFolder tells whether path names a folder (not following a link).
func isFolder(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.IsDir()
}

// folderInPlace is the damage of a folder where a stored artifact file
// belongs, and its repair: a push cannot replace a folder.
func folderInPlace(path string) string {
	return fmt.Sprintf("%s is a folder, where the stored artifact file belongs: the registry folder was edited by hand; "+
		"move the folder aside (or remove it), then push the version again to repair", path)
}
