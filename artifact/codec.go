package artifact

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/internal/tempfile"
)

// MaxSize bounds the size of an artifact file that Load accepts.
const MaxSize = 1 << 30

// maxEncoded is MaxSize for EncodeChecked (a variable for its test).
var maxEncoded = MaxSize

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
	return encode(a, false)
}

// EncodeChecked is Encode that refuses, naming the field, an artifact
// past a bound every reader holds it to (MaxStringBytes, MaxSampleBytes,
// MaxNamesBytes, MaxColumnBytes, MaxDepth): what a fit writes (Save) is never refused for its
// size.
func EncodeChecked(a *Artifact) ([]byte, error) {
	return encode(a, true)
}

// encode is Encode, checked EncodeChecked.
func encode(a *Artifact, checked bool) ([]byte, error) {
	a.Format, a.FormatVersion = FormatName, FormatVersion
	if checked {
		if err := checkNames(a); err != nil {
			return nil, fmt.Errorf("encode artifact: %w", err)
		}
		if err := checkColumns(a); err != nil {
			return nil, fmt.Errorf("encode artifact: %w", err)
		}
	}
	a.Digest = ""
	body, err := canonical(a)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	a.Digest = "sha256:" + hex.EncodeToString(sum[:])
	data, err := canonical(a)
	if err != nil {
		return nil, err
	}
	// Every reader refuses an artifact with a string past MaxStringBytes;
	// what no reader accepts is not written.
	if !checked {
		return data, nil
	}
	if tl := scanStrings(data); tl != nil {
		return nil, fmt.Errorf("encode artifact: %w", tl.writeError(data, ""))
	}
	// Load refuses a file past MaxSize: such an artifact is not written.
	if len(data) > maxEncoded {
		return nil, fmt.Errorf("encode artifact: it would take %d bytes, past the %d every reader accepts (artifact.MaxSize): fewer categories or bins, or fewer columns per artifact", len(data), maxEncoded)
	}
	return data, nil
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
	// Before anything is decoded: a string or number the decoder would
	// hold whole is refused past MaxStringBytes, as Verify refuses it.
	if tl := scanStrings(data); tl != nil {
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] != '{' && looksLikeSpec(data) {
			return nil, specError(name)
		}
		return nil, boundError(name, boundRefusal(bytes.NewReader(data), tl))
	}
	var head struct {
		Format        string  `json:"format"`
		FormatVersion int     `json:"format_version"`
		Digest        string  `json:"digest"`
		Spec          inPlace `json:"spec"` // only its length is read
		Inputs        inPlace `json:"inputs"`
		Passthrough   inPlace `json:"passthrough"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, corrupt(name, "the file is empty")
		}
		if looksLikeSpec(data) {
			return nil, specError(name)
		}
		return nil, jsonError(name, err)
	}
	if head.Format != FormatName && looksLikeSpec(data) {
		return nil, specError(name)
	}
	if err := checkHead(name, head.Format, head.FormatVersion, head.Digest); err != nil {
		return nil, err
	}
	if int64(len(head.Spec)) > maxSpecBytes {
		return nil, boundError(name, specTooLarge()) // as Verify refuses it
	}
	if int64(len(head.Inputs)) > maxNamesBytes {
		return nil, boundError(name, namesTooLarge("inputs"))
	}
	if int64(len(head.Passthrough)) > maxNamesBytes {
		return nil, boundError(name, namesTooLarge("passthrough"))
	}
	// Read in place (a json.Decoder would copy data; see decode.go);
	// unknown fields, other key spellings and duplicate keys fail the
	// canonical comparison below.
	var a Artifact
	if err := unmarshalInPlace(data, &a); err != nil {
		if ob, ok := errors.AsType[*overBound](err); ok {
			return nil, boundError(name, ob.err) // as Verify refuses it
		}
		if loc := locateStepError(data); loc != nil {
			return nil, meaningError(name, loc)
		}
		if loc := locateDecodeError(data); loc != nil {
			return nil, meaningError(name, loc)
		}
		return nil, corrupt(name, "%v", err)
	}
	// One streamed re-encoding, compared with data as it is written and
	// hashed with the digest field empty: no copy of the file is built.
	cmp := &compareWriter{data: data, mismatch: -1}
	sum := sha256.New()
	if err := streamCanonical(cmp, sum, &a); err != nil {
		return nil, corrupt(name, "%v", err)
	}
	got := "sha256:" + hex.EncodeToString(sum.Sum(nil))
	src := bytes.NewReader(data)
	if err := digestAndFormError(name, a.Digest, got, int64(cmp.firstDifference()), cmp.canon, src, int64(len(data))); err != nil {
		return nil, err
	}
	if err := checkArtifact(&a, true); err != nil {
		return nil, meaningError(name, err)
	}
	return &a, nil
}

// jsonError is the refusal of a file the JSON decoder could not read into
// an artifact: a value of another JSON type than the artifact's field
// (a file edited, or another JSON document), named by its field, or
// JSON that is not valid (a file cut short, or not JSON).
func jsonError(name string, err error) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		return corrupt(name, "%s: a JSON %s where an artifact holds %s; the file was edited or is not a normguard artifact — fetch or refit it", te.Field, te.Value, errtext.JSONKind(te.Type))
	}
	return corrupt(name, "not valid JSON (%v); the file may be truncated — fetch or refit it", err)
}

// corrupt is Decode's refusal of a file that is not an intact artifact.
func corrupt(name, format string, args ...any) error {
	return fmt.Errorf("load artifact %s: %w: %s", name, ErrCorrupt, fmt.Sprintf(format, args...))
}

// meaningError is Decode's refusal of an artifact whose content fails the
// meaning check (err names the field).
func meaningError(name string, err error) error {
	return fmt.Errorf("load artifact %s: %w: %w; %s", name, ErrCorrupt, err, refitHint)
}

// checkHead checks the format, format version and digest field.
func checkHead(name, format string, version int, digest string) error {
	if format != FormatName {
		return fmt.Errorf("load artifact %s: %w: format is %q, want %q; pass a file written by `normguard fit`", name, ErrForeign, format, FormatName)
	}
	if version > FormatVersion {
		return fmt.Errorf("load artifact %s: %w: format version %d is newer than this normguard reads (%d); upgrade normguard", name, ErrNewerFormat, version, FormatVersion)
	}
	if version < 1 {
		return corrupt(name, "format version %d is not valid", version)
	}
	if !strings.HasPrefix(digest, "sha256:") {
		return corrupt(name, "digest %q is not sha256:<hex>", digest)
	}
	return nil
}

// digestAndFormError compares the digest the file states (want) with the
// one of its canonical re-encoding (got), then checks that the file is
// that encoding (at: the offset of the first difference, -1 for none;
// canon: the re-encoding's text from there; src and size: the file).
// Where they differ but the stated digest is that of the file's own bytes
// (a file re-digested after an edit, or written by another encoder: a
// null or an absent field, which the re-encoding writes as its zero), the
// refusal says the file is not in canonical form and where, not that its
// bytes changed after the digest was taken (attack run 27 F5).
func digestAndFormError(name, want, got string, at int64, canon []byte, src io.ReaderAt, size int64) error {
	if got != want && (at < 0 || !digestOfBytes(src, size, want)) {
		return corrupt(name, "digest mismatch: the file says %s but its content hashes to %s; it was changed after it was written — refit or fetch it again", want, got)
	}
	if at >= 0 {
		what := ""
		if got != want {
			what = "; its digest is that of its own bytes, so it was edited and digested again or written by another program"
		}
		return corrupt(name, "the file is not in canonical form from %s%s%s; refit or fetch it again", lineAtReader(src, size, at), formDifference(src, size, at, canon), what)
	}
	return nil
}

// formDifference says what the canonical encoding writes at offset at of
// the file (canon: its text from there) in place of what the file holds:
// the column of the line and both texts to the end of their line.
func formDifference(src io.ReaderAt, size, at int64, canon []byte) string {
	start := max(at-lineQuote*4, 0)
	buf := make([]byte, at-start+lineQuote)
	n, _ := src.ReadAt(buf, start)
	buf = buf[:n]
	col := at - start + 1
	if i := bytes.LastIndexByte(buf[:at-start], '\n'); i >= 0 {
		col = at - start - int64(i)
	}
	// Both texts from there, their indentation dropped, shortened.
	cut := func(b []byte) string {
		var out []byte
		for i := 0; i < len(b) && len(out) < lineQuote/2; i++ {
			out = append(out, b[i])
			if b[i] == '\n' {
				for i+1 < len(b) && b[i+1] == ' ' {
					i++
				}
			}
		}
		if len(out) >= lineQuote/2 {
			out = append(out, "..."...)
		}
		return string(out)
	}
	has := "the end of the file"
	if rest := buf[at-start:]; len(rest) > 0 {
		has = fmt.Sprintf("%q", cut(rest))
	}
	writes := "nothing more (the file goes on)"
	if len(canon) > 0 {
		writes = fmt.Sprintf("%q", cut(canon))
	}
	return fmt.Sprintf(", column %d: the file has %s where normguard writes %s (a field absent, null, of another spelling or layout)", col, has, writes)
}

// digestOfBytes reports whether want is the digest of the file's own
// bytes as they are, taken as the canonical digest is: with the value of
// its top-level digest field (the first "digest": "<want>" of the file's
// first 64 KiB) empty.
func digestOfBytes(src io.ReaderAt, size int64, want string) bool {
	head := make([]byte, min(size, 64<<10))
	n, _ := src.ReadAt(head, 0)
	key := []byte(`"digest": "`)
	i := bytes.Index(head[:n], append(append(key, want...), '"'))
	if i < 0 {
		return false
	}
	h := sha256.New()
	h.Write(head[:i+len(key)])
	rest := int64(i + len(key) + len(want))
	if _, err := io.Copy(h, io.NewSectionReader(src, rest, size-rest)); err != nil {
		return false
	}
	return "sha256:"+hex.EncodeToString(h.Sum(nil)) == want
}

// canonQuote is how much of the canonical text from the first difference
// the comparing writers keep.
const canonQuote = 64

// compareWriter compares what is written with data, recording the offset
// of the first difference.
type compareWriter struct {
	data     []byte
	off      int
	mismatch int    // -1: none so far
	canon    []byte // what was written from the mismatch on (canonQuote bytes)
}

func (c *compareWriter) Write(p []byte) (int, error) {
	if c.mismatch >= 0 && len(c.canon) < canonQuote {
		c.canon = append(c.canon, p[:min(len(p), canonQuote-len(c.canon))]...)
	}
	if c.mismatch < 0 {
		rest := c.data[min(c.off, len(c.data)):]
		n := min(len(p), len(rest))
		for i := 0; i < n; i++ {
			if p[i] != rest[i] {
				c.mismatch = c.off + i
				c.canon = append(c.canon, p[i:min(len(p), i+canonQuote)]...)
				break
			}
		}
		if c.mismatch < 0 && n < len(p) {
			c.mismatch = len(c.data) // the file ends early
			c.canon = append(c.canon, p[n:min(len(p), n+canonQuote)]...)
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

// lineQuote is how much of a line an error quotes.
const lineQuote = 80

// lineAt names the line of data holding offset at, quoting it (shortened).
func lineAt(data []byte, at int64) string {
	return lineAtReader(bytes.NewReader(data), int64(len(data)), at)
}

// describeLine names line number line, quoting its text (the line's first
// bytes, more than lineQuote of them when it is longer).
func describeLine(line int64, text []byte) string {
	if len(text) == 0 {
		return fmt.Sprintf("line %d (an empty line or the end of the file)", line)
	}
	s := string(text)
	if len(s) > lineQuote {
		s = s[:lineQuote] + "..."
	}
	return fmt.Sprintf("line %d (%q)", line, strings.TrimSpace(s))
}

// Load reads, parses and verifies the artifact at path. What cannot be an
// artifact is refused from its first bytes (checkStart) before the rest
// is read: a data file, a binary, /dev/zero. A regular file is read into
// a buffer of its size (io.ReadAll would grow one to about twice that).
func Load(path string) (*Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load artifact: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load artifact %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("load artifact %s: %w: it is a folder; give the artifact's file (the JSON `normguard fit` wrote)", path, ErrCorrupt)
	}
	if fi.Mode().IsRegular() && fi.Size() > MaxSize {
		return nil, fmt.Errorf("load artifact %s: %w: larger than %d bytes", path, ErrCorrupt, MaxSize)
	}
	br := bufio.NewReaderSize(f, startBytes)
	head, err := br.Peek(startBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("load artifact %s: %w", path, err)
	}
	if err := checkStart(head, path); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return loadStream(br, path)
	}
	if fi.Size() > verifyFirst {
		// A large file is checked by the streaming verifier first, in
		// flat memory: a JSON file that is no artifact, or a damaged one,
		// is refused before it is held whole.
		if _, err := Verify(f, fi.Size(), path); err != nil {
			return nil, err
		}
	}
	data := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(br, data)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("load artifact %s: %w", path, err)
	}
	if int64(n) > fi.Size() {
		return nil, fmt.Errorf("load artifact %s: it grew while being read; load it again once it is written", path)
	}
	return Decode(data[:n], path)
}

// loadStream loads an artifact read from a pipe or a device (r, whose
// size is unknown until its end): copied to a temporary file, at most
// MaxSize bytes, then loaded from there as a regular file, so a large one
// is verified in streaming before it is held whole. Held in memory as it
// came, a FIFO fed without end took 2.7 GB before the size refusal.
//
// The copy is in the temporary folder ($TMPDIR), unlinked as soon as it
// is created, so the system frees it when the process ends however it
// ends: named normguard-artifact-*.json and removed by a deferred call, a
// load killed with SIGKILL left up to 1 GiB there for good (attack run 8,
// F1). Where an open file cannot be unlinked, its name (streamTemp, the
// internal/tempfile scheme) lets the next load remove it once this
// process has ended.
func loadStream(r io.Reader, path string) (*Artifact, error) {
	tmp, done, err := tempfile.Scratch(streamTemp)
	if err != nil {
		return nil, fmt.Errorf("load artifact %s: a temporary copy of the stream in %s (set TMPDIR to another folder?): %w", path, os.TempDir(), err)
	}
	defer done()
	n, err := io.Copy(tmp, io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load artifact %s: %w", path, err)
	}
	if n > MaxSize {
		return nil, fmt.Errorf("load artifact %s: %w: larger than %d bytes", path, ErrCorrupt, MaxSize)
	}
	if n > verifyFirst {
		if _, err := Verify(tmp, n, path); err != nil {
			return nil, err
		}
	}
	data := make([]byte, n)
	if _, err := tmp.ReadAt(data, 0); err != nil {
		return nil, fmt.Errorf("load artifact %s: reading its temporary copy: %w", path, err)
	}
	return Decode(data, path)
}

// streamTemp names loadStream's temporary copy of a stream (see
// tempfile.Create): .normguard-artifact-stream.normguard-tmp-<pid>-...
const streamTemp = "normguard-artifact-stream"

// verifyFirst is the size past which Load runs Verify before it reads an
// artifact whole.
const verifyFirst = 16 << 20

// startBytes is how much of a file checkStart looks at.
const startBytes = 4096

// checkStart refuses a file whose first bytes (head, up to startBytes)
// show it is not an artifact, which is a JSON object: a spec in YAML is
// named as a spec; anything else (a data file, a binary) by what it
// starts with. Empty files and JSON are left to the decoder.
func checkStart(head []byte, name string) error {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 || t[0] == '{' {
		return nil
	}
	if looksLikeSpec(head) {
		return specError(name)
	}
	first := t[:min(len(t), 40)]
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	return corrupt(name, "not an artifact: it starts with %q, where an artifact is a JSON object (the file `normguard fit` writes); pass the artifact, not a data or other file", first)
}

// Save writes the artifact to path atomically (a temporary file renamed
// into place) and returns its digest. It refuses an artifact the readers
// would refuse for its size (EncodeChecked).
func Save(a *Artifact, path string) (string, error) {
	data, err := EncodeChecked(a)
	if err != nil {
		return "", err
	}
	if err := WriteFileAtomic(path, data); err != nil {
		return "", fmt.Errorf("save artifact: %w", err)
	}
	return a.Digest, nil
}

// WriteFileAtomic writes data to the output path (tempfile.CreateOutput):
// to a temporary file beside it, synced and renamed over it, so readers
// see the old file or the new one, never a partial one. A symbolic link is
// followed (its target is replaced, the link stays); an existing
// character device or FIFO, or standard output, is written in place; a
// folder, socket or block device is refused.
func WriteFileAtomic(path string, data []byte) error {
	o, err := tempfile.CreateOutput(path) // named for orphan removal
	if err != nil {
		return err
	}
	if _, err := o.File().Write(data); err != nil {
		o.Discard()
		return err
	}
	return o.Commit()
}
