package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/internal/tempfile"
	"github.com/normguard/normguard/registry"
)

// The vector state (Config.VectorState; `serve` puts it beside the
// monitor's store: STATE.vectors.json) is kept in three files:
//
//   - the snapshot, STATE.vectors.json: every producer's open window (the
//     embed.CheckerState and the reservoir sample, its float64s
//     little-endian in base64 so that they come back bit for bit) and its
//     previous window's report, and the generation of the journal that
//     follows it;
//   - the journal, STATE.vectors.json.journal: a header naming its
//     generation, then one frame per acknowledged request (its length, a
//     CRC-32C and the vectorBatch), appended and fsynced before the
//     request is acknowledged. A restart reads the snapshot and applies
//     the journal's batches in order, which rebuilds the state bit for bit
//     (apply is deterministic). When the journal outgrows the snapshot it
//     is folded into a new snapshot of the next generation and started
//     again, so saving a request costs its own vectors, not the whole
//     state;
//   - the marker, STATE.vectors.json.mark: written once, it records that a
//     state existed, so that a deleted one is refused rather than taken
//     for a first start.
//
// Each state names the model and version whose contract it was counted
// against; a restart finds the contract again in the registry.

// vectorStateFormat and vectorJournalFormat name the files' layouts.
const (
	vectorStateFormat   = "normguard-vector-state/2"
	vectorJournalFormat = "normguard-vector-journal/1"
)

// minCompact is the least journal size folded into a snapshot.
const minCompact = 4 << 20

// vectorStateFile is the snapshot's content.
type vectorStateFile struct {
	Format string `json:"format"`
	// Journal is the generation of the journal whose batches follow.
	Journal   uint64                `json:"journal_generation"`
	Producers []vectorProducerState `json:"producers"`
}

// vectorJournalHeader is the journal's first line.
type vectorJournalHeader struct {
	Format     string `json:"format"`
	Generation uint64 `json:"generation"`
}

// vectorJournalColumn is a batch's column in a journal frame.
type vectorJournalColumn struct {
	Column  string `json:"column"`
	Missing int64  `json:"missing"`
	Rows    int    `json:"rows"`
	Dim     int    `json:"dimension"`
	Data    string `json:"data"` // rows x dim float64s, little-endian, base64
}

// vectorJournalFrame is a journal frame's payload.
type vectorJournalFrame struct {
	vectorBatch
	Columns []vectorJournalColumn `json:"columns"`
}

// vectorProducerState is one producer's state of one column.
type vectorProducerState struct {
	Model    string             `json:"model"`
	Version  string             `json:"version"`
	Digest   string             `json:"artifact_digest"`
	Column   string             `json:"column"`
	Producer string             `json:"producer"`
	Current  *vectorWindowState `json:"current,omitempty"`
	Previous *vectorClosed      `json:"previous,omitempty"`
}

// vectorWindowState is an open window.
type vectorWindowState struct {
	Start      time.Time          `json:"start"`
	End        time.Time          `json:"end"`
	Dim        int                `json:"dimension"`
	Seen       int64              `json:"rows"`
	Missing    int64              `json:"missing"`
	RNG        uint64             `json:"rng"`
	SampleRows int                `json:"sample_rows"`
	Sample     string             `json:"sample"`
	Checker    embed.CheckerState `json:"checker"`
}

// ErrVectorStateDamaged is wrapped by New's error when the vector state
// cannot be read back.
var ErrVectorStateDamaged = errors.New("vector state file damaged")

// vectorDamage is a damaged vector state. keep says the state read up to
// the damage is sound (the snapshot and the journal's first batches).
type vectorDamage struct {
	path, what string
	keep       bool
}

func (e *vectorDamage) Error() string {
	return fmt.Sprintf("server: the vector state file %s is damaged: %s. It was left untouched. Restore it from a backup, "+
		"or start normguard serve with --state-recover to move it aside and start the vector windows from what verifies", e.path, e.what)
}

func (e *vectorDamage) Unwrap() error { return ErrVectorStateDamaged }

func (vw *vectorWindows) journalPath() string { return vw.path + ".journal" }

// writeAtomic writes data to path through a synced temporary file.
func writeAtomic(path string, data []byte) error {
	f, err := tempfile.Create(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// float64Bytes packs vectors as little-endian float64s.
func float64Bytes(vs [][]float64, dim int) []byte {
	buf := make([]byte, 0, len(vs)*dim*8)
	for _, v := range vs {
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
	}
	return buf
}

// snapshot writes the whole state as the snapshot of journal generation
// gen. The caller holds vw.mu.
func (vw *vectorWindows) snapshot(gen uint64) error {
	st := vectorStateFile{Format: vectorStateFormat, Journal: gen, Producers: []vectorProducerState{}}
	for key, p := range vw.m {
		ps := vectorProducerState{Model: p.model, Version: p.version, Digest: key.digest, Column: key.column,
			Producer: key.producer, Previous: p.prev}
		if w := p.cur; w != nil {
			ps.Current = &vectorWindowState{Start: w.start, End: w.end, Dim: w.dim, Seen: w.seen, Missing: w.missing,
				RNG: w.rng, SampleRows: len(w.sample), Sample: base64.StdEncoding.EncodeToString(float64Bytes(w.sample, w.dim)),
				Checker: w.checker.State()}
		}
		st.Producers = append(st.Producers, ps)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := writeAtomic(vw.path, data); err != nil {
		return err
	}
	vw.snapshotBytes, vw.snapshotted = int64(len(data)), true
	return vw.mark()
}

// newJournal starts an empty journal of generation vw.gen (replacing any
// older one) and opens it for appending. The caller holds vw.mu.
func (vw *vectorWindows) newJournal() error {
	head, _ := json.Marshal(vectorJournalHeader{Format: vectorJournalFormat, Generation: vw.gen})
	head = append(head, '\n')
	if err := writeAtomic(vw.journalPath(), head); err != nil {
		return err
	}
	f, err := os.OpenFile(vw.journalPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	vw.jf, vw.journalBytes = f, int64(len(head))
	return nil
}

// journal appends b to the journal and syncs it. The caller holds vw.mu.
func (vw *vectorWindows) journal(b *vectorBatch) error {
	if vw.path == "" {
		return nil
	}
	if vw.jf == nil {
		// No journal of this generation yet: a first start (the journal
		// goes first, so that a snapshot never lacks its journal), or a
		// snapshot folded in whose next journal could not be started.
		if err := vw.newJournal(); err != nil {
			return err
		}
		if !vw.snapshotted {
			if err := vw.snapshot(vw.gen); err != nil {
				return err
			}
		}
	}
	fr := vectorJournalFrame{vectorBatch: *b, Columns: make([]vectorJournalColumn, len(b.Columns))}
	for i, c := range b.Columns {
		dim := 0
		if len(c.Vecs) > 0 {
			dim = len(c.Vecs[0])
		}
		fr.Columns[i] = vectorJournalColumn{Column: c.Column, Missing: c.Missing, Rows: len(c.Vecs), Dim: dim,
			Data: base64.StdEncoding.EncodeToString(float64Bytes(c.Vecs, dim))}
	}
	payload, err := json.Marshal(fr)
	if err != nil {
		return err
	}
	frame := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(frame, uint32(len(payload)))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(payload, castagnoli))
	frame = append(frame, payload...)
	_, err = vw.jf.Write(frame)
	if err == nil {
		err = vw.jf.Sync()
	}
	if err != nil {
		// Cut a partial frame off, so that the next one starts clean.
		if terr := vw.jf.Truncate(vw.journalBytes); terr != nil {
			vw.jf.Close()
			vw.jf = nil
			vw.gen++ // the next write starts a journal of a new generation after a new snapshot
			vw.snapshotted = false
		}
		return fmt.Errorf("writing %s: %w", vw.journalPath(), err)
	}
	vw.journalBytes += int64(len(frame))
	return nil
}

// castagnoli is the CRC-32C table of the journal's frames.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// compact folds the journal into a new snapshot once it has outgrown the
// last one. A failure leaves a consistent state (the old snapshot and
// journal, or the new snapshot with no journal yet, started at the next
// write) and is only logged: the batches are already durable. The caller
// holds vw.mu.
func (vw *vectorWindows) compact() {
	if vw.path == "" || vw.jf == nil {
		return
	}
	limit := max(vw.snapshotBytes, minCompact)
	if vw.compactAt > 0 {
		limit = vw.compactAt
	}
	if vw.journalBytes < limit {
		return
	}
	if err := vw.snapshot(vw.gen + 1); err != nil {
		vw.warn("the vector state's journal could not be folded into a snapshot; it keeps growing", "err", err)
		return
	}
	vw.gen++
	vw.jf.Close()
	vw.jf = nil
	if err := vw.newJournal(); err != nil {
		vw.warn("the vector state's next journal could not be started; the next observation tries again", "err", err)
	}
}

// warn logs through the server's logger, if there is one.
func (vw *vectorWindows) warn(msg string, args ...any) {
	if vw.log != nil {
		vw.log.Warn(msg, args...)
	}
}

// The marker (FILE.mark, written once beside the state file) records that
// the state existed, so that a deleted state file is refused at start
// instead of being taken for a first start with nothing lost.

// mark writes the marker if it is missing. The caller holds vw.mu.
func (vw *vectorWindows) mark() error {
	if vw.marked {
		return nil
	}
	m := vw.path + ".mark"
	if _, err := os.Stat(m); err != nil {
		data := fmt.Sprintf("{\"format\":%q,\"state\":%q,\"created\":%q}\n", vectorStateFormat, filepath.Base(vw.path),
			time.Now().UTC().Format(time.RFC3339))
		if err := writeAtomic(m, []byte(data)); err != nil {
			return err
		}
	}
	vw.marked = true
	return nil
}

// openVectors sets up the vector windows of s from its Config and reads
// the state back. A damaged state is refused (an error wrapping
// ErrVectorStateDamaged), or with VectorStateRecover its files are
// renamed to FILE.damaged-<UTC time> and the windows start from what
// verified: the snapshot and the journal's batches before the damage when
// only the journal is damaged, empty otherwise.
func (s *Server) openVectors(ctx context.Context) error {
	vw := &s.vectors
	vw.window, vw.path, vw.log = s.cfg.VectorWindow, s.cfg.VectorState, s.log
	vw.m = map[vectorKey]*vectorProducer{}
	if vw.path == "" {
		return nil
	}
	vw.mu.Lock()
	defer vw.mu.Unlock()
	err := vw.load(ctx, &s.cache)
	var dmg *vectorDamage
	if !errors.As(err, &dmg) || !s.cfg.VectorStateRecover {
		return err
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	var moved []string
	files := []string{vw.journalPath()}
	if !dmg.keep {
		files = append(files, vw.path)
		vw.m = map[vectorKey]*vectorProducer{}
	}
	for _, f := range files {
		if _, serr := os.Stat(f); serr != nil {
			continue
		}
		to := f + ".damaged-" + stamp
		if rerr := os.Rename(f, to); rerr != nil {
			return fmt.Errorf("server: moving the damaged vector state aside: %w (%v)", rerr, err)
		}
		moved = append(moved, to)
	}
	if vw.jf != nil {
		vw.jf.Close()
		vw.jf = nil
	}
	// Start again from what was kept: a snapshot of a new generation
	// (the files moved aside may name any older one) and its journal.
	vw.gen++
	if err := vw.snapshot(vw.gen); err != nil {
		return fmt.Errorf("server: starting the vector state again: %w", err)
	}
	if err := vw.newJournal(); err != nil {
		return fmt.Errorf("server: starting the vector state again: %w", err)
	}
	kept := 0
	for _, p := range vw.m {
		if p.cur != nil {
			kept++
		}
	}
	s.log.Warn("the vector state was damaged: the vector windows start from what verified", "damage", dmg.what,
		"moved_to", moved, "open_windows_kept", kept)
	return nil
}

// load reads the snapshot and applies the journal; no state at all is an
// empty state. The caller holds vw.mu.
func (vw *vectorWindows) load(ctx context.Context, cache *transformerCache) error {
	data, err := os.ReadFile(vw.path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, merr := os.Stat(vw.path + ".mark"); merr == nil {
			return &vectorDamage{path: vw.path, what: "the file is missing, but its marker " + filepath.Base(vw.path) +
				".mark says it existed: the vector windows it held are lost (restore the file, or --state-recover to start them empty)"}
		}
		if j, jerr := os.ReadFile(vw.journalPath()); jerr == nil && bytes.Count(j, []byte{'\n'}) == 1 && j[len(j)-1] == '\n' {
			return nil // a first start stopped between the journal's header and the first snapshot
		} else if jerr == nil {
			return &vectorDamage{path: vw.path, what: "the file is missing, but its journal " + filepath.Base(vw.journalPath()) + " holds observations"}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: reading the vector state file: %w", err)
	}
	bad := func(format string, args ...any) error {
		return &vectorDamage{path: vw.path, what: fmt.Sprintf(format, args...)}
	}
	var st vectorStateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return bad("%v", err)
	}
	if st.Format != vectorStateFormat {
		return bad("format %q, want %q", st.Format, vectorStateFormat)
	}
	for i, ps := range st.Producers {
		at := fmt.Sprintf("producers[%d]", i)
		if ps.Producer == "" || ps.Column == "" || (ps.Current == nil && ps.Previous == nil) {
			return bad("%s: a producer, a column and a window are required", at)
		}
		key := vectorKey{ps.Digest, ps.Column, ps.Producer}
		if vw.m[key] != nil {
			return bad("%s: column %q, producer %q twice", at, ps.Column, ps.Producer)
		}
		p := &vectorProducer{model: ps.Model, version: ps.Version, prev: ps.Previous}
		if p.prev != nil && (p.prev.Verdicts == nil || !p.prev.Start.Before(p.prev.End)) {
			return bad("%s.previous: verdicts and a start before the end are required", at)
		}
		if w := ps.Current; w != nil {
			a, err := vw.contractOf(ctx, cache, ps.Model, ps.Version, ps.Digest, func(f string, args ...any) error {
				return bad("%s: %s", at, fmt.Sprintf(f, args...))
			})
			if err != nil {
				return err
			}
			e := a.Embedding(ps.Column)
			if e == nil {
				return bad("%s: %s@%s has no vector column %q", at, ps.Model, ps.Version, ps.Column)
			}
			if p.cur, err = w.restore(e.Contract); err != nil {
				return bad("%s.current: %v", at, err)
			}
		}
		vw.m[key] = p
	}
	vw.gen, vw.snapshotted, vw.snapshotBytes = st.Journal, true, int64(len(data))
	return vw.replay(ctx, cache)
}

// contractOf finds the artifact a state names. A missing version or
// another digest is a damage (the state names what the registry does not
// hold); any other registry failure is returned as it is, so that a
// passing registry error is never taken for damage and recovered away.
func (vw *vectorWindows) contractOf(ctx context.Context, cache *transformerCache, model, version, digest string, bad func(string, ...any) error) (*artifact.Artifact, error) {
	pr, v, err := cache.get(ctx, model, version)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, bad("%s@%s is not in the registry: %v", model, version, err)
	}
	if err != nil {
		return nil, fmt.Errorf("server: reading the vector state file %s: %s@%s: %w", vw.path, model, version, err)
	}
	if v.Digest != digest {
		return nil, bad("%s@%s has the digest %s in the registry, the state says %s", model, version, v.Digest, digest)
	}
	return pr.t.Artifact(), nil
}

// replay applies the journal that follows the snapshot just read and
// opens it for appending. The caller holds vw.mu.
func (vw *vectorWindows) replay(ctx context.Context, cache *transformerCache) error {
	jp := vw.journalPath()
	data, err := os.ReadFile(jp)
	if errors.Is(err, fs.ErrNotExist) {
		return &vectorDamage{path: vw.path, keep: true, what: "its journal " + filepath.Base(jp) +
			" is missing: the observations acknowledged after the last snapshot are lost"}
	}
	if err != nil {
		return fmt.Errorf("server: reading the vector state's journal: %w", err)
	}
	bad := func(format string, args ...any) error {
		return &vectorDamage{path: vw.path, keep: true, what: filepath.Base(jp) + ": " + fmt.Sprintf(format, args...)}
	}
	nl := bytes.IndexByte(data, '\n')
	var h vectorJournalHeader
	if nl < 0 || json.Unmarshal(data[:nl], &h) != nil || h.Format != vectorJournalFormat {
		return bad("no %s header", vectorJournalFormat)
	}
	switch {
	case h.Generation < vw.gen:
		// A snapshot was written and the process stopped before its new
		// journal replaced this one, whose batches the snapshot holds.
		return nil
	case h.Generation > vw.gen:
		return bad("generation %d follows a snapshot of generation %d: the snapshot is older than its journal", h.Generation, vw.gen)
	}
	now := vw.now
	defer func() { vw.now = now }()
	off := nl + 1
	for n := 1; off < len(data); n++ {
		rest := data[off:]
		if len(rest) < 8 || len(rest) < 8+int(binary.LittleEndian.Uint32(rest)) {
			// A frame cut short: a write that was never acknowledged.
			vw.warn("the vector state's journal ends in a partial write, never acknowledged; it is cut off",
				"file", jp, "offset", off, "bytes", len(rest))
			if err := os.Truncate(jp, int64(off)); err != nil {
				return fmt.Errorf("server: cutting a partial write off %s: %w", jp, err)
			}
			break
		}
		size := int(binary.LittleEndian.Uint32(rest))
		payload := rest[8 : 8+size]
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(rest[4:]) {
			return bad("batch %d (offset %d): checksum mismatch", n, off)
		}
		b, err := decodeBatch(payload)
		if err != nil {
			return bad("batch %d (offset %d): %v", n, off, err)
		}
		a, err := vw.contractOf(ctx, cache, b.Model, b.Version, b.Digest, func(f string, args ...any) error {
			return bad("batch %d: %s", n, fmt.Sprintf(f, args...))
		})
		if err != nil {
			return err
		}
		vw.now = func() time.Time { return b.Start }
		if err := vw.roll(); err != nil {
			return bad("batch %d: %v", n, err)
		}
		if err := vw.apply(b, a); err != nil {
			return bad("batch %d: %v", n, err)
		}
		off += 8 + size
	}
	f, err := os.OpenFile(jp, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("server: opening the vector state's journal: %w", err)
	}
	vw.jf, vw.journalBytes = f, int64(off)
	return nil
}

// decodeBatch reads a journal frame's payload.
func decodeBatch(payload []byte) (*vectorBatch, error) {
	var fr vectorJournalFrame
	if err := json.Unmarshal(payload, &fr); err != nil {
		return nil, err
	}
	b := fr.vectorBatch
	if b.Producer == "" || !b.Start.Before(b.End) || len(fr.Columns) == 0 {
		return nil, fmt.Errorf("a producer, a window and columns are required")
	}
	b.Columns = make([]vectorBatchColumn, len(fr.Columns))
	for i, c := range fr.Columns {
		raw, err := base64.StdEncoding.DecodeString(c.Data)
		if err != nil || c.Rows < 0 || c.Missing < 0 || (c.Rows > 0 && c.Dim <= 0) || len(raw) != c.Rows*c.Dim*8 {
			return nil, fmt.Errorf("column %q: %d rows of %d values in %d bytes", c.Column, c.Rows, c.Dim, len(raw))
		}
		vecs := make([][]float64, c.Rows)
		for r := range vecs {
			v := make([]float64, c.Dim)
			for k := range v {
				v[k] = math.Float64frombits(binary.LittleEndian.Uint64(raw[(r*c.Dim+k)*8:]))
			}
			vecs[r] = v
		}
		b.Columns[i] = vectorBatchColumn{Column: c.Column, Missing: c.Missing, Vecs: vecs}
	}
	return &b, nil
}

// restore rebuilds an open window against its contract.
func (w *vectorWindowState) restore(c *embed.Contract) (*vectorWindow, error) {
	raw, err := base64.StdEncoding.DecodeString(w.Sample)
	switch {
	case err != nil:
		return nil, fmt.Errorf("sample: %v", err)
	case w.Dim <= 0 || w.Dim != w.Checker.Dim:
		return nil, fmt.Errorf("dimension %d, checker dimension %d", w.Dim, w.Checker.Dim)
	case w.Seen != int64(w.Checker.Rows) || w.Missing < 0:
		return nil, fmt.Errorf("rows %d, the checker's %d (missing %d)", w.Seen, w.Checker.Rows, w.Missing)
	case int64(w.SampleRows) != min(w.Seen, vectorSample) || len(raw) != w.SampleRows*w.Dim*8:
		return nil, fmt.Errorf("sample of %d rows in %d bytes; want min(rows %d, %d) rows of %d float64s", w.SampleRows, len(raw), w.Seen, vectorSample, w.Dim)
	case !w.Start.Before(w.End):
		return nil, fmt.Errorf("start %v is not before end %v", w.Start, w.End)
	}
	k, err := embed.RestoreChecker(c, w.Checker, embed.CheckOptions{})
	if err != nil {
		return nil, err
	}
	win := &vectorWindow{start: w.Start, end: w.End, dim: w.Dim, checker: k, seen: w.Seen, missing: w.Missing, rng: w.RNG,
		sample: make([][]float64, w.SampleRows)}
	for i := range win.sample {
		v := make([]float64, w.Dim)
		for k := range v {
			v[k] = math.Float64frombits(binary.LittleEndian.Uint64(raw[(i*w.Dim+k)*8:]))
		}
		win.sample[i] = v
	}
	return win, nil
}
