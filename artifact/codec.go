package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/normguard/normguard/internal/tempfile"
)

// MaxSize bounds the size of an artifact file that Load accepts.
const MaxSize = 1 << 30

var (
	// ErrCorrupt is wrapped by errors for artifacts that are truncated, not
	// JSON, or changed after they were written.
	ErrCorrupt = errors.New("corrupt artifact")
	// ErrForeign is wrapped when the file is not a normguard artifact.
	ErrForeign = errors.New("not a normguard artifact")
	// ErrNewerFormat is wrapped when the artifact's format is newer than
	// this normguard reads.
	ErrNewerFormat = errors.New("artifact format too new")
)

// Encode returns the artifact's canonical bytes, computing and setting its
// digest.
func Encode(a *Artifact) ([]byte, error) {
	a.Format, a.FormatVersion = FormatName, FormatVersion
	a.Digest = ""
	body, err := canonical(a)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	a.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return canonical(a)
}

func canonical(a *Artifact) ([]byte, error) {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode artifact: %w", err)
	}
	return append(b, '\n'), nil
}

// Decode parses and verifies an artifact. name labels errors.
func Decode(data []byte, name string) (*Artifact, error) {
	fail := func(kind error, format string, args ...any) error {
		return fmt.Errorf("load artifact %s: %w: %s", name, kind, fmt.Sprintf(format, args...))
	}
	var head struct {
		Format        string `json:"format"`
		FormatVersion int    `json:"format_version"`
		Digest        string `json:"digest"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, fail(ErrCorrupt, "the file is empty")
		}
		if looksLikeSpec(data) {
			return nil, specError(name)
		}
		return nil, fail(ErrCorrupt, "not valid JSON (%v); the file may be truncated — fetch or refit it", err)
	}
	if head.Format != FormatName {
		if looksLikeSpec(data) {
			return nil, specError(name)
		}
		return nil, fail(ErrForeign, "format is %q, want %q; pass a file written by `normguard fit`", head.Format, FormatName)
	}
	if head.FormatVersion > FormatVersion {
		return nil, fail(ErrNewerFormat, "format version %d is newer than this normguard reads (%d); upgrade normguard", head.FormatVersion, FormatVersion)
	}
	if head.FormatVersion < 1 {
		return nil, fail(ErrCorrupt, "format version %d is not valid", head.FormatVersion)
	}
	if !strings.HasPrefix(head.Digest, "sha256:") {
		return nil, fail(ErrCorrupt, "digest %q is not sha256:<hex>", head.Digest)
	}
	var a Artifact
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		if loc := locateStepError(data); loc != nil {
			return nil, fmt.Errorf("load artifact %s: %w: %w; %s", name, ErrCorrupt, loc, refitHint)
		}
		return nil, fail(ErrCorrupt, "%v", err)
	}
	if dec.More() {
		return nil, fail(ErrCorrupt, "trailing data after the artifact")
	}
	want := a.Digest
	again, err := Encode(&a)
	if err != nil {
		return nil, fail(ErrCorrupt, "%v", err)
	}
	if a.Digest != want {
		return nil, fail(ErrCorrupt, "digest mismatch: the file says %s but its content hashes to %s; it was changed after it was written — refit or fetch it again", want, a.Digest)
	}
	if !bytes.Equal(again, data) {
		return nil, fail(ErrCorrupt, "the file is not in canonical form (it was edited after it was written); refit or fetch it again")
	}
	if err := Check(&a); err != nil {
		return nil, fmt.Errorf("load artifact %s: %w: %w; %s", name, ErrCorrupt, err, refitHint)
	}
	return &a, nil
}

// Load reads, parses and verifies the artifact at path.
func Load(path string) (*Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load artifact: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load artifact %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("load artifact %s: %w: larger than %d bytes", path, ErrCorrupt, MaxSize)
	}
	return Decode(data, path)
}

// Save writes the artifact to path atomically (a temporary file renamed
// into place) and returns its digest.
func Save(a *Artifact, path string) (string, error) {
	data, err := Encode(a)
	if err != nil {
		return "", err
	}
	if err := WriteFileAtomic(path, data); err != nil {
		return "", fmt.Errorf("save artifact: %w", err)
	}
	return a.Digest, nil
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so readers see the old file or the new one, never
// a partial one.
func WriteFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := tempfile.Create(dir, base) // named for orphan removal
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
