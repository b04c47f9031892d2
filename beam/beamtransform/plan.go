// Package beamtransform applies a normguard artifact to sharded data with
// an Apache Beam pipeline and writes output shards whose concatenation, in
// shard order, is byte for byte the file `normguard transform` writes for
// the same rows.
//
// The input is one or more files (CSV, TSV, JSON Lines or Parquet, local
// or on a Beam file system), in path order, as fit reads them. Large
// uncompressed CSV and JSON Lines files are cut into byte ranges so that
// the work spreads over the workers:
//
//	scan       one element per range: where records start (the core CSV
//	           reader's quoting rules, so a newline inside a quoted cell
//	           never splits a record) and how many newlines come first
//	spans      Combine: the records each range owns, its first line number
//	transform  one element per range: the core reader over the range (the
//	           file's header line in front), the core transformer
//	           (transform.Transformer, the code `normguard transform` runs)
//	           and the core writer; shard k is written as
//	           PREFIX-0000k-of-0000n.EXT, the header in shard 0 only
//
// Parquet and compressed files are one range each. Every range gives one
// output shard, empty when it owns no record, so shard numbers follow the
// input order: range k of file i comes before range 0 of file i+1.
package beamtransform

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/table"
)

// DefaultSplitBytes is the byte range a worker transforms when
// Options.SplitBytes is 0.
const DefaultSplitBytes = 64 << 20

// Options say what to transform and where the shards go.
type Options struct {
	// Artifact is the artifact to apply (local path or gs:// / s3:// URL).
	Artifact string
	// In lists the input files: comma-separated local or Beam file-system
	// globs, read in path order.
	In string
	// Out names the shards: PREFIX.EXT gives PREFIX-00000-of-0000N.EXT.
	// EXT is .csv, .tsv or .jsonl (the formats whose files concatenate).
	Out string
	// SplitBytes is the size of the byte ranges large text inputs are cut
	// into (DefaultSplitBytes when 0; negative: one range per file).
	SplitBytes int64
}

// Range is one unit of work: a whole file, or a byte range of a text file.
type Range struct {
	// File indexes Plan.Files; Shard is the output shard's number.
	File, Shard int
	// Split: the range is [Lo, Hi) of a text file cut into ranges; First
	// is the shard of the file's first range.
	Split  bool
	Lo, Hi int64
	First  int
}

// TextFile is what the plan knows of a text file cut into ranges.
type TextFile struct {
	// Size is the file's size; HeaderEnd the offset after the header
	// record (after any byte order mark and blank lines before it) and
	// HeaderNL the newlines before HeaderEnd.
	Size, HeaderEnd, HeaderNL int64
	// Delim is the CSV field delimiter; JSONL tells a JSON Lines file.
	Delim byte
	JSONL bool
}

// Inputs are data files cut into units of work: plain data, as it travels
// inside the pipeline's functions. normguard-beam's validate and drift
// read their data through the same ranges (AddSpans, OpenRange).
type Inputs struct {
	// Files are the inputs in order; Text[i] describes file i when it is
	// cut into ranges (zero otherwise).
	Files []string
	Text  []TextFile
	// Ranges are the units of work, in input order.
	Ranges []Range
}

// Plan is what every stage of the transform knows before reading data.
type Plan struct {
	Inputs
	// Artifact is the artifact's canonical bytes; ArtifactName names it.
	Artifact     string
	ArtifactName string
	// Out is the shards' name pattern (see Options.Out).
	Out string
}

// NewPlan loads the artifact, lists the inputs and cuts the large text
// files into ranges at line boundaries.
func NewPlan(ctx context.Context, o Options) (Plan, error) {
	if o.Artifact == "" || o.In == "" || o.Out == "" {
		return Plan{}, fmt.Errorf("transform: --artifact, --in and --out are required")
	}
	if _, err := shardExt(o.Out); err != nil {
		return Plan{}, err
	}
	data, err := ReadFile(ctx, o.Artifact)
	if err != nil {
		return Plan{}, err
	}
	if _, err := artifact.Decode(data, o.Artifact); err != nil {
		return Plan{}, err
	}
	in, err := NewInputs(ctx, o.In, o.SplitBytes)
	if err != nil {
		return Plan{}, err
	}
	return Plan{Inputs: in, Artifact: string(data), ArtifactName: o.Artifact, Out: o.Out}, nil
}

// NewInputs lists the files the patterns name (comma-separated globs,
// sorted by path) and cuts the uncompressed CSV and JSON Lines files
// larger than twice split into ranges of about split bytes at line
// boundaries (DefaultSplitBytes when split is 0; none when negative).
func NewInputs(ctx context.Context, patterns string, split int64) (Inputs, error) {
	files, err := beamfit.ListShards(ctx, patterns)
	if err != nil {
		return Inputs{}, err
	}
	if split == 0 {
		split = DefaultSplitBytes
	}
	p := Inputs{Files: files, Text: make([]TextFile, len(files))}
	for i, f := range files {
		format, err := table.FormatOf(f)
		if err != nil {
			return Inputs{}, err
		}
		compressed, _ := table.CompressionOf(f)
		size := int64(-1)
		text := format == table.FormatCSV || format == table.FormatJSONL
		if text && compressed == table.CompressionNone && split > 0 {
			if size, err = fileSize(ctx, f); err != nil {
				return Inputs{}, err
			}
		}
		if split <= 0 || size < 2*split {
			p.Ranges = append(p.Ranges, Range{File: i, Shard: len(p.Ranges)})
			continue
		}
		tf, err := headerOf(ctx, f, format == table.FormatJSONL)
		if err != nil {
			return Inputs{}, err
		}
		tf.Size = size
		p.Text[i] = tf
		first := len(p.Ranges)
		lo := int64(0)
		for cut := tf.HeaderEnd + split; lo < size; cut += split {
			hi := min(cut, size)
			if size-hi < split/2 {
				hi = size // no tiny last range
			}
			p.Ranges = append(p.Ranges, Range{File: i, Shard: len(p.Ranges), Split: true, Lo: lo, Hi: hi, First: first})
			lo = hi
		}
	}
	return p, nil
}

// headerOf finds where the header record of a text file ends: the first
// non-blank record of a CSV (quoted newlines included) or the first
// non-blank line of a JSON Lines file.
func headerOf(ctx context.Context, path string, jsonl bool) (TextFile, error) {
	tf := TextFile{Delim: table.DialectOf(path).Delimiter, JSONL: jsonl}
	rc, err := openAt(ctx, path, 0)
	if err != nil {
		return tf, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<16)
	var record []byte
	for {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return tf, fmt.Errorf("read %s: %w", path, err)
		}
		if len(line) == 0 || line[len(line)-1] != '\n' {
			return tf, fmt.Errorf("read %s: no complete header line; a file cut into ranges needs a header and data lines", path)
		}
		tf.HeaderEnd += int64(len(line))
		tf.HeaderNL++
		record = append(record, line...)
		if !jsonl {
			body := record
			if tf.HeaderNL == 1 || len(body) == len(line) {
				body = trimBOM(body, tf.HeaderEnd == int64(len(line)))
			}
			if end, _, _ := scan(body, cellStart, tf.Delim); end == inQuotes {
				continue // a quoted newline inside the header
			}
		}
		if !blank(record, tf.Delim, jsonl) {
			return tf, nil
		}
		record = record[:0]
	}
}

// trimBOM drops a UTF-8 byte order mark at the start of the file.
func trimBOM(b []byte, atFileStart bool) []byte {
	if atFileStart {
		return []byte(strings.TrimPrefix(string(b), "\xEF\xBB\xBF"))
	}
	return b
}

// blank reports whether a record is a blank line the readers skip.
func blank(line []byte, delim byte, jsonl bool) bool {
	s := strings.TrimRight(string(trimBOM(line, true)), "\r\n")
	cut := " \t"
	switch {
	case jsonl:
		cut = " \t\r"
	case delim == '\t':
		cut = " "
	}
	return strings.Trim(s, cut) == ""
}

// shardExt returns the extension of the shards' names, refusing formats
// whose files do not concatenate into one file.
func shardExt(out string) (string, error) {
	format, err := table.FormatOf(out)
	if err != nil {
		return "", err
	}
	if c, _ := table.CompressionOf(out); c != table.CompressionNone || out == "-" || format == table.FormatParquet {
		return "", fmt.Errorf("transform: --out %s: shards are written as .csv, .tsv or .jsonl, whose files concatenate into the local transform's output; use one of those extensions", out)
	}
	return filepath.Ext(out), nil
}

// ShardName returns the name of shard k of n for the pattern out
// (PREFIX.EXT): PREFIX-0000k-of-0000n.EXT.
func ShardName(out string, k, n int) string {
	ext := filepath.Ext(out)
	return fmt.Sprintf("%s-%05d-of-%05d%s", strings.TrimSuffix(out, ext), k, n, ext)
}

// ReadFile reads a whole local or remote (Beam file-system) file.
func ReadFile(ctx context.Context, path string) ([]byte, error) {
	if !beamfit.Remote(path) {
		return os.ReadFile(path)
	}
	rc, err := openAt(ctx, path, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

func fileSize(ctx context.Context, path string) (int64, error) {
	if !beamfit.Remote(path) {
		st, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return 0, err
	}
	defer fs.Close()
	n, err := fs.Size(ctx, path)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", path, err)
	}
	return n, nil
}

// openAt opens a local or remote file for reading from offset off.
func openAt(ctx context.Context, path string, off int64) (io.ReadCloser, error) {
	if !beamfit.Remote(path) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	rc, err := fs.OpenRead(ctx, path)
	fs.Close()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if s, ok := rc.(io.Seeker); ok {
		if _, err := s.Seek(off, io.SeekStart); err == nil {
			return rc, nil
		}
	}
	if _, err := io.CopyN(io.Discard, rc, off); err != nil {
		rc.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rc, nil
}
