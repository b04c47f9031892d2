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
	// Read in place (a json.Decoder would copy data; see decode.go);
	// unknown fields, other key spellings and duplicate keys fail the
	// canonical comparison below.
	var a Artifact
	if err := unmarshalInPlace(data, &a); err != nil {
		if loc := locateStepError(data); loc != nil {
			return nil, fmt.Errorf("load artifact %s: %w: %w; %s", name, ErrCorrupt, loc, refitHint)
		}
		return nil, fail(ErrCorrupt, "%v", err)
	}
	// One streamed re-encoding, compared with data as it is written and
	// hashed with the digest field empty: no copy of the file is built.
	want := a.Digest
	cmp := &compareWriter{data: data, mismatch: -1}
	sum := sha256.New()
	if err := streamCanonical(cmp, sum, &a); err != nil {
		return nil, fail(ErrCorrupt, "%v", err)
	}
	if got := "sha256:" + hex.EncodeToString(sum.Sum(nil)); got != want {
		return nil, fail(ErrCorrupt, "digest mismatch: the file says %s but its content hashes to %s; it was changed after it was written — refit or fetch it again", want, got)
	}
	if at := cmp.firstDifference(); at >= 0 {
		return nil, fail(ErrCorrupt, "the file is not in canonical form from %s (it was edited after it was written); refit or fetch it again", lineAt(data, at))
	}
	if err := Check(&a); err != nil {
		return nil, fmt.Errorf("load artifact %s: %w: %w; %s", name, ErrCorrupt, err, refitHint)
	}
	return &a, nil
}

// compareWriter compares what is written with data, recording the offset
// of the first difference.
type compareWriter struct {
	data     []byte
	off      int
	mismatch int // -1: none so far
}

func (c *compareWriter) Write(p []byte) (int, error) {
	if c.mismatch < 0 {
		rest := c.data[min(c.off, len(c.data)):]
		n := min(len(p), len(rest))
		for i := 0; i < n; i++ {
			if p[i] != rest[i] {
				c.mismatch = c.off + i
				break
			}
		}
		if c.mismatch < 0 && n < len(p) {
			c.mismatch = len(c.data) // the file ends early
		}
	}
	c.off += len(p)
	return len(p), nil
}

// firstDifference returns the offset of the first byte where data differs
// from what was written, or -1 when they are equal.
func (c *compareWriter) firstDifference() int {
	if c.mismatch < 0 && c.off != len(c.data) {
		return min(c.off, len(c.data))
	}
	return c.mismatch
}

// lineAt names the line of data holding offset at, quoting it (shortened).
func lineAt(data []byte, at int) string {
	at = min(at, len(data))
	line := 1 + bytes.Count(data[:at], []byte("\n"))
	start := bytes.LastIndexByte(data[:at], '\n') + 1
	end := len(data)
	if i := bytes.IndexByte(data[at:], '\n'); i >= 0 {
		end = at + i
	}
	text := string(data[start:end])
	if len(text) > 80 {
		text = text[:80] + "..."
	}
	if start == end {
		return fmt.Sprintf("line %d (an empty line or the end of the file)", line)
	}
	return fmt.Sprintf("line %d (%q)", line, strings.TrimSpace(text))
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
