package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/internal/regular"
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
//     follows it, under a CRC-32C; the NaN and infinite floats JSON cannot
//     hold are listed with their bits beside it (vectors_nonfinite.go);
//   - the journal, STATE.vectors.json.journal: a header naming its
//     generation and the acknowledged length (the bytes of the frames
//     acknowledged so far, under a CRC-32C, rewritten in place), then one
//     frame per acknowledged request (its length, a CRC-32C and the
//     vectorBatch). A frame is written and fsynced, then the acknowledged
//     length is rewritten and fsynced, then the request is acknowledged:
//     so at a restart a frame cut short past the acknowledged length is a
//     write that was never acknowledged (cut off), and a journal shorter
//     than its acknowledged length, or a frame before it that fails its
//     checksum, is damage (refused). A restart reads the snapshot and applies
//     the journal's batches in order, which rebuilds the state bit for bit
//     (apply is deterministic). When the journal outgrows the snapshot it
//     is folded into a new snapshot of the next generation and started
//     again, so saving a request costs its own vectors, not the whole
//     state;
//   - the marker, STATE.vectors.json.mark: it records that a state
//     existed, so that a deleted one is refused rather than taken for a
//     first start, and how far the state had got: the number of the
//     start that wrote it (counted up at each start and written into the
//     journal's header then), the journal's generation and acknowledged
//     length, and the vectors per producer. It is written at each start,
//     when a journal is started and every markEvery bytes of journal, each
//     time after the files it describes, so the files are never behind
//     it; a snapshot or journal behind it is an older copy (a restored
//     backup, a rolled-back volume) lacking observations acknowledged
//     since, and is refused at start (--state-recover starts from it and
//     reports what the marker counted).
//
// Each state names the model and version whose contract it was counted
// against; a restart finds the contract again in the registry.

// vectorStateFormat and vectorJournalFormat name the files' layouts.
const (
	vectorStateFormat   = "normguard-vector-state/3"
	vectorJournalFormat = "normguard-vector-journal/3"
	// The earlier layouts, still read: a snapshot without a checksum,
	// a journal without the start's number, and a journal without an
	// acknowledged length (written again as the current layout when read).
	vectorStateFormat2   = "normguard-vector-state/2"
	vectorJournalFormat2 = "normguard-vector-journal/2"
	vectorJournalFormat1 = "normguard-vector-journal/1"
	vectorMarkerFormat   = "normguard-vector-mark/1"
)

// markEvery is the journal growth after which the marker is written again
// during a run, so that a copy of the journal taken while it was served is
// told apart once that much was acknowledged after it.
const markEvery = 64 << 10

// minCompact is the least journal size folded into a snapshot.
const minCompact = 4 << 20

// vectorStateEnvelope is the snapshot file: the state's JSON and its
// CRC-32C.
type vectorStateEnvelope struct {
	Format string          `json:"format"`
	CRC    string          `json:"crc32c"`
	State  json.RawMessage `json:"state"`
}

// vectorStateFile is the snapshot's content (in format /2, the file
// itself).
type vectorStateFile struct {
	// ID is the state's identity (stateID), as the marker and the
	// journal's header hold it; "" in a snapshot written before it.
	ID string `json:"state_id,omitempty"`
	// Journal is the generation of the journal whose batches follow.
	Journal   uint64                `json:"journal_generation"`
	Producers []vectorProducerState `json:"producers"`
	// NonFinite lists the NaN and infinite floats of Producers, written
	// as 0 in the JSON.
	NonFinite []nonFiniteAt `json:"non_finite,omitempty"`
}

// vectorJournalHeader is the journal's first line.
type vectorJournalHeader struct {
	Format string `json:"format"`
	// ID is the state's identity (stateID); "" in a journal written
	// before it.
	ID         string `json:"state_id,omitempty"`
	Generation uint64 `json:"generation"`
	// Run is the number of the start that last wrote the journal (16 hex
	// digits; format /3), the marker's: a journal of an earlier run than
	// its marker is an older copy.
	Run string `json:"run,omitempty"`
	// Acked is the acknowledged length: 16 hex digits of bytes (the
	// header's included), a dot, and 8 hex digits of the CRC-32C of the
	// generation, the length and (format /3) the run (ackedSum).
	Acked string `json:"acked"`
}

// journalHead returns the journal header of the state id (stateID) of
// generation gen written by start run acknowledging length bytes, and the offset of the run in it,
// from which runAcked is rewritten in place.
func journalHead(id string, gen, run uint64, length int64) ([]byte, int) {
	prefix := fmt.Sprintf(`{"format":%q,"generation":%d,"run":"`, vectorJournalFormat, gen)
	if id != "" {
		prefix = fmt.Sprintf(`{"format":%q,"state_id":%q,"generation":%d,"run":"`, vectorJournalFormat, id, gen)
	}
	return []byte(prefix + runAcked(gen, run, length) + "\"}\n"), len(prefix)
}

// runAcked is the run and the acknowledged length as the header holds
// them, from the run's first digit to the acknowledged length's last.
func runAcked(gen, run uint64, length int64) string {
	return fmt.Sprintf(`%016x","acked":"%016x.%08x`, run, length, ackedSum(gen, length, run, true))
}

// ackedSum is the checksum of an acknowledged length: of the generation
// and the length, and of the run too in format /3 (withRun).
func ackedSum(gen uint64, length int64, run uint64, withRun bool) uint32 {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[:], gen)
	binary.LittleEndian.PutUint64(b[8:], uint64(length))
	if !withRun {
		return crc32.Checksum(b[:16], castagnoli)
	}
	binary.LittleEndian.PutUint64(b[16:], run)
	return crc32.Checksum(b[:], castagnoli)
}

// parseAcked reads an acknowledged length of generation gen (and run, in
// format /3: withRun).
func parseAcked(gen uint64, run uint64, withRun bool, s string) (int64, error) {
	var n int64
	var sum uint32
	if len(s) != 25 || s[16] != '.' {
		return 0, fmt.Errorf("the acknowledged length %q is not 16 hex digits, a dot and 8", s)
	}
	if _, err := fmt.Sscanf(s, "%016x.%08x", &n, &sum); err != nil || n < 0 {
		return 0, fmt.Errorf("the acknowledged length %q does not parse", s)
	}
	if sum != ackedSum(gen, n, run, withRun) {
		return 0, fmt.Errorf("the acknowledged length %q fails its checksum", s)
	}
	return n, nil
}

// parseRun reads a journal header's run (format /3).
func parseRun(s string) (uint64, error) {
	var run uint64
	if len(s) != 16 {
		return 0, fmt.Errorf("the run %q is not 16 hex digits", s)
	}
	if _, err := fmt.Sscanf(s, "%016x", &run); err != nil {
		return 0, fmt.Errorf("the run %q does not parse", s)
	}
	return run, nil
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
	// What a recovery loses beyond the damaged files' names: the
	// acknowledged journal bytes not applied, and the batches and
	// vectors per model and producer among them that can still be
	// named (a frame that fails its checksum may still parse).
	lostBytes   int64
	lostBatches int
	lost        map[string]int64 // vectors lost by batch name; -1 where a count is unreadable (addLost)
	// journalGen is the journal's generation, when it was read.
	journalGen uint64
	// frames are the journal's frames that verified and were applied.
	frames [][]byte
	// stale says the files verify but are older than their marker (an
	// older copy); marker is the marker they are older than.
	stale  bool
	marker *vectorMarker
	// markerGone says the marker is missing or unreadable beside a state
	// that had one (stale is set too): whether it is an older copy cannot
	// be told.
	markerGone bool
	// atMark is what the state read held when its journal reached the
	// marker's acknowledged length (or ended before it): the vectors per
	// marker key (vectorCounts) and the bytes of the frames of the
	// marker's generation applied up to there; nil when no journal frame
	// was read (the snapshot's counts are then the state's).
	// markerShortfall counts the losses against the marker from them.
	atMark     map[string]int64
	keptAtMark int64
	// missing says the snapshot was not there (keep is false); replayed
	// that the journal was replayed onto an empty state in its place
	// (replayLostSnapshot), and notReplayed why it was not.
	missing     bool
	replayed    *journalRead
	notReplayed string
}

func (e *vectorDamage) Error() string {
	if e.markerGone {
		return fmt.Sprintf("server: the vector state %s cannot be vouched for: %s. It was left untouched. Put the marker back with the newest copy "+
			"of the vector state files, or start normguard serve with --state-recover to start the vector windows from the state as it is "+
			"(it reports what it holds; what an older copy lacks cannot be counted without the marker)", e.path, e.what)
	}
	if e.stale {
		return fmt.Sprintf("server: the vector state %s is an older copy: %s. It was left untouched. Put the newest copy of the vector "+
			"state files back, or start normguard serve with --state-recover to start the vector windows from this copy and report "+
			"what it lacks", e.path, e.what)
	}
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
	st := vw.stateFile(gen)
	data, err := encodeState(st)
	if err != nil {
		return err
	}
	if err := writeAtomic(vw.path, data); err != nil {
		return err
	}
	vw.snapshotBytes, vw.snapshotted = int64(len(data)), true
	return nil
}

// stateFile is the state as a snapshot of journal generation gen holds
// it, the producers in order. The caller holds vw.mu.
func (vw *vectorWindows) stateFile(gen uint64) vectorStateFile {
	st := vectorStateFile{ID: vw.stateID(), Journal: gen, Producers: []vectorProducerState{}}
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
	slices.SortFunc(st.Producers, func(a, b vectorProducerState) int {
		return cmp.Or(cmp.Compare(a.Digest, b.Digest), cmp.Compare(a.Column, b.Column), cmp.Compare(a.Producer, b.Producer))
	})
	return st
}

// encodeState returns the snapshot file of st.
func encodeState(st vectorStateFile) ([]byte, error) {
	producers, nonFinite := stripNonFinite(st.Producers)
	st.Producers, st.NonFinite = producers.([]vectorProducerState), nonFinite
	body, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the vector state: %w", err)
	}
	data, err := json.Marshal(vectorStateEnvelope{Format: vectorStateFormat, CRC: fmt.Sprintf("%08x", crc32.Checksum(body, castagnoli)), State: body})
	if err != nil {
		return nil, fmt.Errorf("encoding the vector state: %w", err)
	}
	return append(data, '\n'), nil
}

// newJournal starts an empty journal of generation vw.gen (replacing any
// older one) and opens it for appending. The caller holds vw.mu.
func (vw *vectorWindows) newJournal() error { return vw.writeJournal(nil) }

// writeJournal writes a journal of generation vw.gen holding frames (whole
// frames, as read from a journal), all acknowledged, through a temporary
// file renamed over any older one, and opens it for appending. The caller
// holds vw.mu.
func (vw *vectorWindows) writeJournal(frames [][]byte) error {
	head, _ := journalHead(vw.stateID(), vw.gen, vw.run, 0)
	size := len(head)
	for _, f := range frames {
		size += len(f)
	}
	head, _ = journalHead(vw.stateID(), vw.gen, vw.run, int64(size))
	data := make([]byte, 0, size)
	data = append(data, head...)
	for _, f := range frames {
		data = append(data, f...)
	}
	if err := writeAtomic(vw.journalPath(), data); err != nil {
		return err
	}
	f, _, err := regular.OpenFile(vw.journalPath(), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	vw.jf, vw.journalBytes = f, int64(size)
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
				vw.jf.Close()
				vw.jf = nil
				return err
			}
		}
		if err := vw.writeMarker(); err != nil {
			// Started again at the next request, so that no batch is
			// journaled beside no marker (a restart refuses that).
			vw.jf.Close()
			vw.jf = nil
			return err
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
	// The frame, then the acknowledged length that covers it, each
	// synced: a crash between the two leaves a whole frame past the
	// acknowledged length (applied at the restart, as the request may
	// have been retried or not), never an acknowledged length past what
	// was written.
	end := vw.journalBytes + int64(len(frame))
	_, err = vw.jf.WriteAt(frame, vw.journalBytes)
	if err == nil {
		err = syncData(vw.jf)
	}
	if err == nil {
		_, at := journalHead(vw.stateID(), vw.gen, vw.run, end)
		_, err = vw.jf.WriteAt([]byte(runAcked(vw.gen, vw.run, end)), int64(at))
		if err == nil {
			err = syncData(vw.jf)
		}
		if err != nil {
			// Put the acknowledged length back before cutting the frame.
			_, at := journalHead(vw.stateID(), vw.gen, vw.run, vw.journalBytes)
			if _, werr := vw.jf.WriteAt([]byte(runAcked(vw.gen, vw.run, vw.journalBytes)), int64(at)); werr != nil {
				err = errors.Join(err, werr)
				vw.jf.Close()
				vw.jf = nil
				vw.gen++
				vw.snapshotted = false
				return fmt.Errorf("writing %s: %w", vw.journalPath(), err)
			}
		}
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
	vw.journalBytes = end
	return nil
}

// markProgress writes the marker again once markEvery bytes of journal
// were acknowledged since it was last written. It runs after the batch
// journaled last was applied (compact), so that the marker counts the
// vectors of every frame its acknowledged length covers: written from
// journal, before apply, it counted the state without the last frame,
// and a recovery reported 0 of 1,000 vectors of that frame lost (attack
// run 36 F5). The caller holds vw.mu.
func (vw *vectorWindows) markProgress() {
	if vw.journalBytes-vw.markAt < markEvery {
		return
	}
	if err := vw.writeMarker(); err != nil {
		vw.warn("the vector state's marker could not be written; the next observations try again", "err", err)
		vw.markAt = vw.journalBytes // tried again after markEvery more bytes
	}
}

// castagnoli is the CRC-32C table of the journal's frames.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// compact folds the journal into a new snapshot once it has outgrown the
// last one, and writes the marker again every markEvery bytes of journal
// (markProgress); it runs after each journaled batch is applied. A
// failure leaves a consistent state (the old snapshot and journal, or the
// new snapshot with no journal yet, started at the next write) and is
// only logged: the batches are already durable. The caller holds vw.mu.
func (vw *vectorWindows) compact() {
	if vw.path == "" || vw.jf == nil {
		return
	}
	limit := max(vw.snapshotBytes, minCompact)
	if vw.compactAt > 0 {
		limit = vw.compactAt
	}
	if vw.journalBytes < limit {
		vw.markProgress()
		return
	}
	if err := vw.snapshot(vw.gen + 1); err != nil {
		vw.markProgress()
		// Warned at each doubling of the journal past the limit, not at
		// every request.
		if next, _ := compactWarned.LoadOrStore(vw, limit); vw.journalBytes >= next.(int64) {
			compactWarned.Store(vw, 2*vw.journalBytes)
			vw.warn("the vector state's journal could not be folded into a snapshot; it keeps growing", "err", err, "journal_bytes", vw.journalBytes)
		}
		return
	}
	compactWarned.Delete(vw)
	vw.gen++
	vw.jf.Close()
	vw.jf = nil
	if err := vw.newJournal(); err != nil {
		vw.warn("the vector state's next journal could not be started; the next observation tries again", "err", err)
		return
	}
	if err := vw.writeMarker(); err != nil {
		vw.warn("the vector state's marker could not be written after a new journal; it is written again at the next one", "err", err)
	}
}

// compactWarned holds, per vector state whose journal could not be
// folded, the journal size at which compact warns again.
var compactWarned sync.Map

// warn logs through the server's logger, if there is one.
func (vw *vectorWindows) warn(msg string, args ...any) {
	if vw.log != nil {
		vw.log.Warn(msg, args...)
	}
}

// The marker (FILE.mark, beside the state file) records that the state
// existed, so that a deleted state file is refused at start instead of
// being taken for a first start with nothing lost, and how far it had got,
// so that an older copy of the snapshot or the journal is refused too.

// vectorMarker is the content of FILE.mark. A marker written before it held
// a run (format normguard-vector-state/3) only says a state existed.
type vectorMarker struct {
	Format  string `json:"format"`
	State   string `json:"state"`
	Created string `json:"created"`
	// Run is the number of the start that wrote the marker; the journal's
	// header holds the run that last wrote it.
	Run uint64 `json:"run"`
	// ID is the state's identity (stateID): a snapshot or journal of
	// another id belongs to another state; "" in a marker written before
	// it.
	ID string `json:"state_id,omitempty"`
	// Generation and Acked are the journal's generation and acknowledged
	// length when the marker was written.
	Generation uint64 `json:"journal_generation"`
	Acked      int64  `json:"acked_bytes"`
	// Vectors counts, per "model@version column producer", the vectors
	// of the open window and of the previous window when the marker was
	// written (what a recovery from an older copy reports as lost).
	Vectors map[string]int64 `json:"vectors"`
	Updated time.Time        `json:"updated"`
}

func (vw *vectorWindows) markerPath() string { return vw.path + ".mark" }

// readMarker reads the marker: nil when there is none (vw.markerMissing
// is set then: replay refuses a journal that a marker was written beside)
// or it was written by an earlier normguard and holds no run, which
// vouches for any state. A marker that cannot be read (cut short, emptied,
// garbage) vouched for any state too, so that an older journal put back
// beside it was taken (attack run 18): it is a damage (markerGone).
func (vw *vectorWindows) readMarker() (*vectorMarker, error) {
	data, err := regular.ReadFile(vw.markerPath())
	if errors.Is(err, fs.ErrNotExist) {
		vw.markerMissing = true
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server: reading the vector state's marker: %w", err)
	}
	var mk vectorMarker
	if err := json.Unmarshal(data, &mk); err != nil {
		n := min(len(data), 60)
		return nil, &vectorDamage{path: vw.path, keep: true, stale: true, markerGone: true, what: fmt.Sprintf(
			"its marker %s is unreadable (%d bytes, starting %s: %s), so an older copy of the snapshot or journal cannot be told apart",
			filepath.Base(vw.markerPath()), len(data), errtext.QuoteBytes(data[:n]), markerJSONProblem(data, err))}
	}
	switch {
	case mk.Format == vectorStateFormat || mk.Format == vectorStateFormat2:
		return nil, nil // written before the marker held a run
	case mk.Format != vectorMarkerFormat || mk.Run == 0:
		return nil, &vectorDamage{path: vw.path, keep: true, stale: true, markerGone: true, what: fmt.Sprintf(
			"its marker %s is unreadable (format %q, run %d; want %q and a run), so an older copy of the snapshot or journal cannot be told apart",
			filepath.Base(vw.markerPath()), mk.Format, mk.Run, vectorMarkerFormat)}
	}
	return &mk, nil
}

// total is the vectors the marker counts.
func (mk *vectorMarker) total() int64 {
	var n int64
	for _, v := range mk.Vectors {
		n += v
	}
	return n
}

// describe says what the marker records, for messages.
func (mk *vectorMarker) describe(path string) string {
	n := mk.total()
	return fmt.Sprintf("its marker %s records start %d, journal generation %d with %d acknowledged bytes and %d vectors at %s",
		filepath.Base(path)+".mark", mk.Run, mk.Generation, mk.Acked, n, mk.Updated.UTC().Format(time.RFC3339))
}

// vectorCounts counts the vectors of the open and previous windows per
// "model@version column producer". The caller holds vw.mu.
func (vw *vectorWindows) vectorCounts() map[string]int64 {
	out := map[string]int64{}
	for k, p := range vw.m {
		var n int64
		if p.cur != nil {
			n += p.cur.seen
		}
		if p.prev != nil {
			n += p.prev.Rows
		}
		out[fmt.Sprintf("%s@%s column %q producer %q", p.model, p.version, k.column, k.producer)] += n
	}
	return out
}

// writeMarker records the state as it is now in the marker. It is
// written after the files it describes. The caller holds vw.mu.
func (vw *vectorWindows) writeMarker() error {
	created := time.Now().UTC().Format(time.RFC3339)
	if data, err := regular.ReadFile(vw.markerPath()); err == nil {
		var old vectorMarker
		if json.Unmarshal(data, &old) == nil && old.Created != "" {
			created = old.Created
		}
	}
	mk := vectorMarker{Format: vectorMarkerFormat, State: filepath.Base(vw.path), Created: created, Run: vw.run, ID: vw.stateID(),
		Generation: vw.gen, Acked: vw.journalBytes, Vectors: vw.vectorCounts(), Updated: time.Now().UTC()}
	data, err := json.Marshal(mk)
	if err != nil {
		return err
	}
	if err := writeAtomic(vw.markerPath(), append(data, '\n')); err != nil {
		return err
	}
	vw.markAt = vw.journalBytes
	return nil
}

// staleness says how the snapshot (of generation vw.gen) and a journal of
// generation gen, written by start run, acknowledging acked bytes (-1:
// unknown) are older than the marker read at start; "" when they are not.
func (vw *vectorWindows) staleness(gen, run uint64, acked int64) string {
	mk := vw.marker
	if mk == nil {
		return ""
	}
	jb := filepath.Base(vw.journalPath())
	const since = ": the observations acknowledged since the copy are not in it"
	switch {
	case vw.gen < mk.Generation:
		return fmt.Sprintf("the snapshot %s is of journal generation %d, but %s; it is an older copy of the snapshot%s",
			filepath.Base(vw.path), vw.gen, mk.describe(vw.path), since)
	case gen < mk.Generation:
		return fmt.Sprintf("its journal %s is of generation %d, but %s; it is an older copy of the journal%s",
			jb, gen, mk.describe(vw.path), since)
	case gen == mk.Generation && run < mk.Run:
		return fmt.Sprintf("its journal %s was last written by start %d, but %s; it is an older copy of the journal, from before the last start%s",
			jb, run, mk.describe(vw.path), since)
	case gen == mk.Generation && run == mk.Run && acked >= 0 && acked < mk.Acked:
		return fmt.Sprintf("its journal %s acknowledges %d bytes, but %s; it is an older copy of the journal%s",
			jb, acked, mk.describe(vw.path), since)
	}
	return ""
}

// openVectors sets up the vector windows of s from its Config and reads
// the state back. A damaged state is refused (an error wrapping
// ErrVectorStateDamaged), or with VectorStateRecover the windows start
// from what verified (recoverVectors).
func (s *Server) openVectors(ctx context.Context) (rerr error) {
	vw := &s.vectors
	vw.window, vw.path, vw.log = s.cfg.VectorWindow, s.cfg.VectorState, s.log
	vw.m = map[vectorKey]*vectorProducer{}
	if vw.path == "" {
		return nil
	}
	vw.mu.Lock()
	defer vw.mu.Unlock()
	mk, err := vw.readMarker()
	var mdmg *vectorDamage
	if errors.As(err, &mdmg) {
		if !s.cfg.VectorStateRecover {
			return err
		}
		// The state as it is, reported; the marker is kept aside and
		// written again below.
		to := vw.markerPath() + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
		if kerr := keepCopy(vw.markerPath(), to); kerr != nil {
			return fmt.Errorf("server: recovering the vector state %s: keeping a copy of the unreadable marker: %w; nothing was changed (%v)", vw.path, kerr, err)
		}
		s.log.Warn("the vector state's marker was unreadable: the vector windows start from the state as it is; an older copy cannot be told apart "+
			"and what it would lack cannot be counted", "file", vw.path, "damage", mdmg.what, "marker_moved_to", to)
		mk, err = nil, nil
		defer func() {
			if rerr != nil {
				return
			}
			counts := vw.vectorCounts()
			names := slices.Sorted(maps.Keys(counts))
			var n int64
			for _, k := range names {
				n += counts[k]
				s.log.Warn("vector state recovery: kept", "windows", k, "vectors_kept", counts[k])
			}
			s.log.Warn("vector state recovery: the marker was unreadable; the vector windows start from the state as it is", "file", vw.path, "vectors_kept", n)
		}()
	}
	if err != nil {
		return err
	}
	vw.marker, vw.run = mk, 1
	vw.id.Store(nil)
	if mk != nil {
		vw.run = mk.Run + 1
		vw.setStateID(mk.ID)
	}
	err = vw.load(ctx, &s.cache)
	var dmg *vectorDamage
	if errors.As(err, &dmg) && s.cfg.VectorStateRecover {
		err = s.recoverVectors(ctx, dmg)
	}
	if err == nil {
		vw.ensureStateID()
	}
	if err != nil || !vw.snapshotted {
		return err // no state yet: the marker is written with the first
	}
	if vw.jf == nil {
		// The snapshot's journal was older (its batches are in the
		// snapshot): a new one, of this start.
		if err := vw.newJournal(); err != nil {
			return fmt.Errorf("server: starting the vector state's journal: %w", err)
		}
	}
	if err := vw.writeMarker(); err != nil {
		return fmt.Errorf("server: writing the vector state's marker: %w", err)
	}
	return nil
}

// recoverVectors starts the vector windows from what verified: the
// snapshot and every journal batch that verifies when only the journal is
// damaged; when the snapshot is missing or unreadable, the journal's
// batches that verify replayed onto an empty state where that is sound
// (replayLostSnapshot), else empty. Nothing is replaced before it is
// kept: each damaged file is first linked (or copied) to FILE.damaged-<UTC time>,
// then the recovered state is written as a new snapshot and journal
// (each through a temporary file renamed over the old one), so a
// recovery that fails leaves the damaged files where they were. It
// reports what was kept and lost per model and producer. The caller
// holds vw.mu.
func (s *Server) recoverVectors(ctx context.Context, dmg *vectorDamage) error {
	vw := &s.vectors
	if vw.jf != nil {
		vw.jf.Close()
		vw.jf = nil
	}
	files := []string{vw.journalPath()}
	if !dmg.keep {
		files = append(files, vw.path)
		vw.m = map[vectorKey]*vectorProducer{}
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	var kept []string
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		to := f + ".damaged-" + stamp
		if err := keepCopy(f, to); err != nil {
			for _, k := range kept {
				os.Remove(k)
			}
			return fmt.Errorf("server: recovering the vector state %s: keeping a copy of the damaged %s: %w; nothing was changed (%v)", vw.path, f, err, dmg)
		}
		kept = append(kept, to)
	}
	if dmg.keep {
		// The snapshot verified and stays; the journal is written again
		// with the frames that verified, under the snapshot's generation.
		if err := vw.writeJournal(dmg.frames); err != nil {
			for _, k := range kept {
				os.Remove(k)
			}
			return fmt.Errorf("server: recovering the vector state %s: writing the recovered journal: %w; nothing was changed: "+
				"the damaged files are where they were (%v)", vw.path, err, dmg)
		}
	} else {
		// The journal's batches replayed onto an empty state where that
		// is sound (else the state stays empty), written as a snapshot
		// of a generation after any the damaged files name, and its
		// journal.
		if err := vw.replayLostSnapshot(ctx, &s.cache, dmg); err != nil {
			for _, k := range kept {
				os.Remove(k)
			}
			return fmt.Errorf("server: recovering the vector state %s: replaying its journal: %w; nothing was changed (%v)", vw.path, err, dmg)
		}
		vw.gen = max(vw.gen, dmg.journalGen) + 1
		vw.snapshotted = false
		if err := vw.snapshot(vw.gen); err != nil {
			for _, k := range kept {
				os.Remove(k)
			}
			return fmt.Errorf("server: recovering the vector state %s: writing the recovered state: %w; nothing was changed: "+
				"the damaged files are where they were (%v)", vw.path, err, dmg)
		}
		if err := vw.newJournal(); err != nil {
			return fmt.Errorf("server: recovering the vector state %s: the recovered state is written, but its new journal could not be "+
				"started: %w; the damaged files are kept as %v (the next start reads the recovered state)", vw.path, err, kept)
		}
	}
	open, rows := 0, int64(0)
	for _, p := range vw.m {
		if p.cur != nil {
			open++
			rows += p.cur.seen
		}
	}
	headline := "the vector state was damaged: the vector windows start from what verified"
	if dmg.stale {
		headline = "the vector state was an older copy than its marker: the vector windows start from it"
	}
	if dmg.markerGone {
		headline = "the vector state's marker was missing or unreadable: the vector windows start from the state as it is " +
			"(an older copy cannot be told apart, and what it would lack cannot be counted)"
	}
	// What the marker counted and the recovered state lacks (a floor): a
	// deleted or emptied journal lost at least that, though nothing of
	// it is left to count (attack run 30 F11).
	short := vw.markerShortfall(dmg)
	lostBytes := dmg.lostBytes
	if short != nil {
		lostBytes = max(lostBytes, short.Bytes)
	}
	attrs := []any{"file", vw.path, "damage", dmg.what,
		"moved_to", kept, "open_windows_kept", open, "vectors_kept", rows, "acknowledged_journal_bytes_lost", lostBytes,
		"batches_lost", dmg.lostBatches}
	if !dmg.keep {
		// The snapshot was not read: whether the journal's batches were
		// replayed onto an empty state in its place (logLostSnapshot).
		how := "unreadable"
		if dmg.missing {
			how = "missing"
		}
		attrs = append(attrs, "snapshot", how)
		if r := dmg.replayed; r != nil {
			attrs = append(attrs, "journal_replayed", fmt.Sprintf("%d batches of generation %d replayed onto an empty state", r.batches, r.gen))
		} else {
			attrs = append(attrs, "journal_replayed", "no: "+dmg.notReplayed)
		}
	}
	if short != nil {
		attrs = append(attrs, "vectors_lost_at_least", short.total(), "lost_counted", fmt.Sprintf("at least: against the marker %s "+
			"(updated %s), which counted %d vectors and %d acknowledged bytes of journal batches; observations acknowledged after its "+
			"last update were lost too and cannot be counted", filepath.Base(vw.markerPath()), vw.marker.Updated.UTC().Format(time.RFC3339),
			vw.marker.total(), short.counted))
	}
	s.log.Warn(headline, attrs...)
	keys := make([]vectorKey, 0, len(vw.m))
	for k := range vw.m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b vectorKey) int {
		return cmp.Or(cmp.Compare(a.column, b.column), cmp.Compare(a.producer, b.producer), cmp.Compare(a.digest, b.digest))
	})
	for _, k := range keys {
		p := vw.m[k]
		var seen, prev int64
		if p.cur != nil {
			seen = p.cur.seen
		}
		if p.prev != nil {
			prev = p.prev.Rows
		}
		s.log.Warn("vector state recovery: kept", "model", p.model+"@"+p.version, "column", k.column, "producer", k.producer,
			"vectors_in_open_window", seen, "previous_window_rows", prev)
	}
	names := make([]string, 0, len(dmg.lost))
	for n := range dmg.lost {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s.log.Warn("vector state recovery: lost (named by a batch that fails its checks, so unverified, or that verifies but cannot be placed after a damaged journal header)", "batch", n, "vectors_lost", lostAttr(dmg.lost[n]))
	}
	if short != nil {
		// Per producer, what the marker counted and the recovered state
		// lacks: a floor, as vectors of windows closed since the marker
		// was written left it.
		lacks := "the recovered state lacks them"
		if dmg.stale {
			lacks = "the older copy lacks them"
		}
		for _, n := range short.names() {
			s.log.Warn("vector state recovery: lost (the marker counted them, "+lacks+")", "windows", n,
				"vectors_counted_by_marker", vw.marker.Vectors[n], "vectors_kept", short.kept[n], "vectors_lost", short.Vectors[n])
		}
		if dmg.stale {
			s.log.Warn("vector state recovery: the state was an older copy; the vector windows start from it", "file", vw.path,
				"marker_updated", vw.marker.Updated.UTC().Format(time.RFC3339), "vectors_lost_at_least", short.total(),
				"note", "vectors acknowledged after the marker's last update were lost too and cannot be counted")
		}
	}
	if !dmg.keep {
		logLostSnapshot(s.log, dmg, short, kept)
	}
	return nil
}

// keepCopy makes to a copy of from: a hard link, or a synced copy where
// links fail.
func keepCopy(from, to string) error {
	if err := os.Link(from, to); err == nil {
		return nil
	}
	data, err := regular.ReadFile(from)
	if err != nil {
		return err
	}
	return writeAtomic(to, data)
}

// load reads the snapshot and applies the journal; no state at all is an
// empty state. The caller holds vw.mu.
func (vw *vectorWindows) load(ctx context.Context, cache *transformerCache) error {
	data, err := regular.ReadFile(vw.path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, merr := os.Stat(vw.path + ".mark"); merr == nil {
			return &vectorDamage{path: vw.path, missing: true, what: "the file is missing, but its marker " + filepath.Base(vw.path) +
				".mark says it existed: the vector windows it held are lost unless it is restored (--state-recover keeps the batches of its journal " +
				"where the journal's generation shows it followed the lost file, and counts what the file held as lost)"}
		}
		if j, jerr := regular.ReadFile(vw.journalPath()); jerr == nil && bytes.Count(j, []byte{'\n'}) == 1 && j[len(j)-1] == '\n' {
			return nil // a first start stopped between the journal's header and the first snapshot
		} else if jerr == nil {
			return &vectorDamage{path: vw.path, missing: true, what: "the file is missing, but its journal " + filepath.Base(vw.journalPath()) + " holds observations"}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: reading the vector state file: %w", err)
	}
	bad := func(format string, args ...any) error {
		return &vectorDamage{path: vw.path, what: fmt.Sprintf(format, args...)}
	}
	var env vectorStateEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return bad("%s", snapshotJSONProblem(data, err))
	}
	var st vectorStateFile
	upgrade := false
	switch env.Format {
	case vectorStateFormat:
		if sum := fmt.Sprintf("%08x", crc32.Checksum(env.State, castagnoli)); sum != env.CRC {
			return bad("checksum mismatch: the state's CRC-32C is %s, the file says %q", sum, env.CRC)
		}
		if err := json.Unmarshal(env.State, &st); err != nil {
			return bad("its state, though its checksum matches, does not read: %s", stateJSONProblem(env.State, err))
		}
		if err := restoreNonFinite(&st.Producers, st.NonFinite); err != nil {
			return bad("%v", err)
		}
	case vectorStateFormat2:
		// No checksum: at least every field must be known.
		var v2 struct {
			Format string `json:"format"`
			vectorStateFile
		}
		d := json.NewDecoder(bytes.NewReader(data))
		d.DisallowUnknownFields()
		if err := d.Decode(&v2); err != nil {
			return bad("%s", stateJSONProblem(data, err))
		}
		st = v2.vectorStateFile
		upgrade = true
	case "":
		return bad("it is not a normguard vector state: it is a JSON object without a \"format\" (%d bytes; a vector state's format is %q)", len(data), vectorStateFormat)
	default:
		return bad("it is not a normguard vector state of a layout this normguard reads: its format is %s (want %q)", errtext.Quote(env.Format), vectorStateFormat)
	}
	if err := vw.claimStateID(st.ID, "the snapshot "+filepath.Base(vw.path)); err != "" {
		return &vectorDamage{path: vw.path, what: err}
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
	if err := vw.replay(ctx, cache, nil); err != nil || !upgrade {
		return err
	}
	{
		// The same state again, under a checksum (the journal, read
		// after it, is not in it).
		up, err := encodeState(st)
		if err != nil {
			return fmt.Errorf("server: writing the vector state file %s of format %s again as %s: %w", vw.path, vectorStateFormat2, vectorStateFormat, err)
		}
		if err := writeAtomic(vw.path, up); err != nil {
			return fmt.Errorf("server: writing the vector state file %s of format %s again as %s: %w", vw.path, vectorStateFormat2, vectorStateFormat, err)
		}
		vw.snapshotBytes = int64(len(up))
	}
	return nil
}

// contractOf finds the artifact a state names. A missing version or
// another digest is a damage (the state names what the registry does not
// hold); any other registry failure is returned as it is, so that a
// passing registry error is never taken for damage and recovered away.
func (vw *vectorWindows) contractOf(ctx context.Context, cache *transformerCache, model, version, digest string, bad func(string, ...any) error) (*artifact.Artifact, error) {
	if hex, ok := strings.CutPrefix(digest, "sha256:"); !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		// No artifact ever had it: the state is damaged, whether or not
		// the registry holds the version it names (CI fuzz smoke:
		// FuzzVectorJournal, a frame naming an absent model with an empty
		// digest was taken for a version removed from the registry).
		return nil, bad("it names the artifact digest %q for %s@%s, which is not sha256:<64 hex digits>", digest, model, version)
	}
	pr, v, err := cache.get(ctx, model, version)
	if errors.Is(err, registry.ErrInvalidName) {
		// No registry ever held it: the state is damaged (CI fuzz smoke:
		// FuzzVectorJournal, a frame naming model "").
		return nil, bad("it names %q@%q, which is not a model version a registry can hold: %v", model, version, err)
	}
	if errors.Is(err, registry.ErrNotFound) {
		// The state is sound: the registry lacks the version. A damage
		// (and --state-recover) would throw the vectors counted against
		// it away (attack run 18).
		return nil, &vectorVersionMissing{state: vw.path, model: model, version: version, digest: digest, err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("server: reading the vector state file %s: %s@%s: %w", vw.path, model, version, err)
	}
	if v.Digest != digest {
		return nil, bad("%s@%s has the digest %s in the registry, the state says %s", model, version, v.Digest, digest)
	}
	return pr.t.Artifact(), nil
}

// vectorVersionMissing is a vector state naming a model version the
// registry does not hold (its version file removed, a registry restored
// from an older backup). It is not damage of the state: it is refused with
// the repair, and --state-recover does not apply.
type vectorVersionMissing struct {
	state, model, version, digest string
	err                           error
}

func (e *vectorVersionMissing) Error() string {
	return fmt.Sprintf("server: the vector state %s holds vectors counted against %s@%s (artifact %s), but the registry has no such version (%v). "+
		"The vector state is not damaged and was left untouched. Put the version back in the registry: restore the registry folder's models/%s/versions/%s.json "+
		"(and its artifact) from a backup of the registry, or push the same artifact again as %s@%s; then start normguard serve again. "+
		"--state-recover does not apply: it would throw away the acknowledged vectors counted against it. "+
		"To give up the vector windows instead (the version was removed on purpose), move %s, %s.journal and %s.mark aside: every model's vector windows then start empty",
		e.state, e.model, e.version, e.digest, e.err, e.model, e.version, e.model, e.version, e.state, e.state, e.state)
}

func (e *vectorVersionMissing) Unwrap() error { return e.err }

// batchName names a batch's model, producer and columns in a recovery's
// report.
func batchName(b *vectorBatch) (string, int64) {
	var n int64
	cols := make([]string, 0, len(b.Columns))
	for _, c := range b.Columns {
		n += int64(len(c.Vecs))
		cols = append(cols, c.Column)
	}
	return fmt.Sprintf("%s@%s producer %q columns %q", b.Model, b.Version, b.Producer, cols), n
}

// replay applies the journal that follows the snapshot just read and
// opens it for writing. The frames up to the journal's acknowledged
// length must all verify; past it, a frame cut short (or failing its
// checksum and ending the file) is a write that was never acknowledged
// and is cut off. On damage it goes on applying every later frame that
// verifies (what --state-recover keeps) and returns the damage with what
// is lost. With read set (a recovery replaying the journal onto an empty
// state: vectors_snapshotloss.go) it leaves the journal as it is: nothing
// is cut off it, it is not opened for writing, and what it held at the
// marker's acknowledged length is put in read. The caller holds vw.mu.
func (vw *vectorWindows) replay(ctx context.Context, cache *transformerCache, read *journalRead) error {
	jp := vw.journalPath()
	data, err := regular.ReadFile(jp)
	if errors.Is(err, fs.ErrNotExist) {
		return &vectorDamage{path: vw.path, keep: true, journalGen: vw.gen, what: "its journal " + filepath.Base(jp) +
			" is missing: the observations acknowledged after the last snapshot are lost"}
	}
	if err != nil {
		return fmt.Errorf("server: reading the vector state's journal: %w", err)
	}
	var dmg *vectorDamage
	more := 0
	damage := func(format string, args ...any) {
		if dmg != nil {
			more++
			return
		}
		dmg = &vectorDamage{path: vw.path, keep: true, lost: map[string]int64{}, what: filepath.Base(jp) + ": " + fmt.Sprintf(format, args...)}
	}
	nl := bytes.IndexByte(data, '\n')
	var h vectorJournalHeader
	if nl < 0 || json.Unmarshal(data[:nl], &h) != nil || (h.Format != vectorJournalFormat && h.Format != vectorJournalFormat2 && h.Format != vectorJournalFormat1) {
		n := min(len(data), 80)
		what := fmt.Sprintf("%s: no %s header (it starts %s, %d bytes)", filepath.Base(jp), vectorJournalFormat, errtext.QuoteBytes(data[:n]), len(data))
		if nl < 0 {
			return vw.headerLost(data, 0, what)
		}
		var ok bool
		if h, ok = salvageHeader(data[:nl]); !ok {
			return vw.headerLost(data, nl+1, what)
		}
		// Its generation, run and acknowledged length verify: the
		// batches behind it are read as when a batch is damaged
		// (vectors_journal_header.go).
		damage("%s; its generation %d, run and acknowledged length still verify under their checksum, so the batches behind it "+
			"are read", strings.TrimPrefix(what, filepath.Base(jp)+": "), h.Generation)
	}
	if err := vw.claimStateID(h.ID, "its journal "+filepath.Base(jp)); err != "" {
		return &vectorDamage{path: vw.path, keep: true, journalGen: vw.gen, what: err}
	}
	// The start that last wrote the journal, and its acknowledged length
	// as far as they can be read, against the marker: an older copy of
	// the snapshot or of the journal is refused (stale), before anything
	// is cut off the journal.
	var run uint64
	withRun := h.Format == vectorJournalFormat
	var runErr error
	if withRun {
		run, runErr = parseRun(h.Run)
	}
	jacked := int64(-1)
	if h.Format != vectorJournalFormat1 && runErr == nil {
		if n, err := parseAcked(h.Generation, run, withRun, h.Acked); err == nil {
			jacked = n
		}
	}
	vw.run = max(vw.run, run+1)
	stale := vw.staleness(h.Generation, run, jacked)
	gone := false
	if vw.markerMissing && withRun && runErr == nil && run > 0 && (len(data) > nl+1 || len(vw.m) > 0) {
		// A journal of format /3 names the start that wrote it, which
		// wrote a marker beside it before its first batch: a deleted
		// marker with an older journal or snapshot put back started
		// silently with part of the acknowledged vectors (attack run 18).
		// (A first start stopped before its marker holds nothing yet.)
		stale, gone = fmt.Sprintf("its marker %s is missing, but its journal %s was written by start %d, which wrote a marker beside it: "+
			"an older copy of the snapshot or journal cannot be told apart", filepath.Base(vw.markerPath()), filepath.Base(jp), run), true
	}
	if stale != "" && h.Generation != vw.gen {
		// An older snapshot than its journal, or an older journal than
		// its snapshot: a recovery keeps the snapshot alone.
		return &vectorDamage{path: vw.path, keep: true, journalGen: h.Generation, stale: true, marker: vw.marker, what: stale, markerGone: gone}
	}
	switch {
	case h.Generation < vw.gen:
		// A snapshot was written and the process stopped before its new
		// journal replaced this one, whose batches the snapshot holds.
		return nil
	case h.Generation > vw.gen:
		return &vectorDamage{path: vw.path, keep: true, journalGen: h.Generation, what: fmt.Sprintf("%s: generation %d follows a snapshot of generation %d: the snapshot is older than its journal",
			filepath.Base(jp), h.Generation, vw.gen)}
	}
	legacy := h.Format == vectorJournalFormat1
	acked := int64(-1) // unknown: no frame may be taken for a torn write
	if runErr != nil {
		damage("%v, so which batches were acknowledged is unknown", runErr)
	} else if !legacy {
		if acked, err = parseAcked(h.Generation, run, withRun, h.Acked); err != nil {
			acked = -1
			damage("%v, so which batches were acknowledged is unknown", err)
		} else if acked < int64(nl+1) {
			damage("the acknowledged length %d is inside the header", acked)
			acked = -1
		}
	}
	// unacked says whether the bytes from off on may be a write never
	// acknowledged.
	// A journal of format /1 has no acknowledged length: nothing in it
	// can be told from an acknowledged batch.
	// An older copy (stale) is left untouched: nothing is cut off it.
	unacked := func(off int) bool { return dmg == nil && acked >= 0 && int64(off) >= acked }
	cut := func(off int) error {
		if stale != "" || read != nil {
			return nil
		}
		return os.Truncate(jp, int64(off))
	}
	hit := acked == int64(nl+1) // a frame ends at the acknowledged length
	var frames [][]byte         // the frames applied
	// What the state held at the marker's acknowledged length, in a
	// journal of the marker's generation (offsets within a generation's
	// journal never move): what a recovery counts its losses against
	// (markerShortfall), before any frame the marker did not count.
	mark := int64(-1)
	if vw.marker != nil && h.Generation == vw.marker.Generation {
		mark = vw.marker.Acked
	}
	var atMark map[string]int64
	var kept, keptAtMark int64
	atMarkNow := func() {
		if atMark == nil {
			atMark = vw.vectorCounts()
			if mark >= 0 {
				keptAtMark = kept
			}
		}
	}
	now := vw.now
	defer func() { vw.now = now }()
	off := nl + 1
	for n := 1; off < len(data); n++ {
		if mark >= 0 && int64(off) >= mark {
			atMarkNow()
		}
		rest := data[off:]
		if len(rest) < 8 || len(rest)-8 < int(binary.LittleEndian.Uint32(rest)) {
			if unacked(off) {
				vw.warn("the vector state's journal ends in a partial write past its acknowledged length (a request being written "+
					"when the process stopped, never acknowledged); it is cut off", "file", jp, "offset", off, "bytes", len(rest), "acknowledged_length", acked)
				if err := cut(off); err != nil {
					return fmt.Errorf("server: cutting a partial write off %s: %w", jp, err)
				}
				data = data[:off]
				break
			}
			if acked > int64(off) {
				damage("batch %d (offset %d) is cut short: the file ends at byte %d, but %d bytes were acknowledged: "+
					"the file was truncated or damaged, and the acknowledged batches in its last %d bytes are lost",
					n, off, len(data), acked, acked-int64(off))
				dmg.lostBytes += acked - int64(off)
				if len(rest) > 8 {
					if name, rows, ok := partialBatch(rest[8:]); ok {
						dmg.addLost(name+" (cut short)", rows)
					}
				}
			} else {
				damage("batch %d (offset %d) is cut short at byte %d (the acknowledged length is unknown or damage came before it, "+
					"so it may have been acknowledged)", n, off, len(data))
				dmg.lostBytes += int64(len(rest))
				if len(rest) > 8 {
					if name, rows, ok := partialBatch(rest[8:]); ok {
						dmg.addLost(name+" (cut short)", rows)
					}
				}
			}
			break
		}
		size := int(binary.LittleEndian.Uint32(rest))
		payload := rest[8 : 8+size]
		next := off + 8 + size
		skip := func(format string, args ...any) {
			damage("batch %d (offset %d): %s", n, off, fmt.Sprintf(format, args...))
			if acked < 0 || int64(off) < acked {
				dmg.lostBatches++
				dmg.lostBytes += int64(8 + size)
				if b, err := decodeBatch(payload); err == nil {
					name, rows := batchName(b)
					dmg.addLost(name, rows)
				} else if name, rows, ok := partialBatch(payload); ok {
					dmg.addLost(name, rows)
				}
			}
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(rest[4:]) {
			if next == len(data) && unacked(off) {
				// The last frame, past the acknowledged length: a write
				// whose length reached the disk and its bytes not all.
				vw.warn("the vector state's journal ends in a frame past its acknowledged length that fails its checksum "+
					"(a request being written when the process stopped, never acknowledged); it is cut off", "file", jp, "offset", off, "bytes", len(rest))
				if err := cut(off); err != nil {
					return fmt.Errorf("server: cutting a partial write off %s: %w", jp, err)
				}
				data = data[:off]
				break
			}
			skip("checksum mismatch")
			off = next
			continue
		}
		off = next
		if int64(off) == acked {
			hit = true
		}
		b, err := decodeBatch(payload)
		if err != nil {
			skip("%v", err)
			continue
		}
		var lost error
		a, err := vw.contractOf(ctx, cache, b.Model, b.Version, b.Digest, func(f string, args ...any) error {
			lost = fmt.Errorf(f, args...)
			return lost
		})
		if lost != nil {
			skip("%v", lost)
			continue
		}
		if err != nil {
			return err
		}
		vw.now = func() time.Time { return b.Start }
		if err := vw.roll(); err != nil {
			skip("%v", err)
			continue
		}
		if err := vw.apply(b, a); err != nil {
			skip("%v", err)
			continue
		}
		frames = append(frames, rest[:8+size])
		kept += int64(8 + size)
	}
	atMarkNow()
	if dmg == nil && acked >= 0 && !hit {
		if int64(off) < acked {
			damage("the file ends at byte %d after its last whole batch, but %d bytes were acknowledged: the file was truncated, "+
				"and the acknowledged batches in its last %d bytes are lost", off, acked, acked-int64(off))
			dmg.lostBytes += acked - int64(off)
		} else {
			damage("the acknowledged length %d is not the end of a batch", acked)
		}
	}
	if dmg == nil && stale != "" {
		return &vectorDamage{path: vw.path, keep: true, stale: true, marker: vw.marker, what: stale, journalGen: h.Generation, frames: frames, markerGone: gone,
			atMark: atMark, keptAtMark: keptAtMark}
	}
	if dmg != nil {
		if stale != "" {
			dmg.what += "; and " + stale
		}
		if more > 0 {
			dmg.what += fmt.Sprintf(" (and %d more damaged or unreadable batches after it)", more)
		}
		dmg.what += fmt.Sprintf("; lost: %d acknowledged bytes of batches (%d of them whole batches that fail their checks)", dmg.lostBytes, dmg.lostBatches)
		if len(dmg.lost) > 0 {
			names := make([]string, 0, len(dmg.lost))
			for n, rows := range dmg.lost {
				names = append(names, fmt.Sprintf("%s: %s", n, lostCount(rows)))
			}
			slices.Sort(names)
			dmg.what += "; the lost batches that can still be read name " + strings.Join(names, ", ")
		}
		dmg.journalGen, dmg.frames = h.Generation, frames
		dmg.atMark, dmg.keptAtMark = atMark, keptAtMark
		return dmg
	}
	if read != nil {
		read.batches, read.atMark, read.keptAtMark = len(frames), atMark, keptAtMark
		return nil
	}
	f, _, err := regular.OpenFile(jp, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("server: opening the vector state's journal: %w", err)
	}
	vw.jf, vw.journalBytes = f, int64(off)
	if !withRun || h.ID != vw.stateID() {
		// A journal without the start's number (or without an
		// acknowledged length): written again with them, holding the
		// same frames.
		vw.jf.Close()
		vw.jf = nil
		if err := vw.writeJournal(frames); err != nil {
			return fmt.Errorf("server: writing the vector state's journal of format %s again as %s: %w", h.Format, vectorJournalFormat, err)
		}
		return nil
	}
	// This start's number, and the acknowledged length, which covers
	// whole frames past the one read (the process stopped between a frame
	// and its acknowledgement: applied, they are acknowledged now). The
	// marker is written after this, so the journal is never behind it.
	_, at := journalHead(vw.stateID(), vw.gen, vw.run, int64(off))
	if _, err := f.WriteAt([]byte(runAcked(vw.gen, vw.run, int64(off))), int64(at)); err != nil {
		return fmt.Errorf("server: writing %s: %w", jp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("server: writing %s: %w", jp, err)
	}
	return nil
}

// partialBatch reads what it can of a payload cut short: the batch's
// model, version and producer, and the rows of the columns it reaches
// (those fields come before the vectors' data).
func partialBatch(payload []byte) (string, int64, bool) {
	d := json.NewDecoder(bytes.NewReader(payload))
	var b vectorBatch
	var rows int64
	var cols []string
	str := func() string {
		t, err := d.Token()
		if s, ok := t.(string); ok && err == nil {
			return s
		}
		return ""
	}
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return "", 0, false
	}
loop:
	for {
		k, err := d.Token()
		if err != nil {
			break
		}
		switch k {
		case "model":
			b.Model = str()
		case "version":
			b.Version = str()
		case "producer":
			b.Producer = str()
		case "columns":
			if t, err := d.Token(); err != nil || t != json.Delim('[') {
				break loop
			}
			for d.More() {
				if t, err := d.Token(); err != nil || t != json.Delim('{') {
					break loop
				}
				// A column's vectors: its "rows" where they agree with its
				// data, else counted from the data's length and dimension;
				// unknown where neither can be read (attack run 27 F6: a
				// damaged "rows" key read as 0 vectors lost).
				colRows, dim, dataLen := int64(-1), int64(-1), int64(-1)
				read := func() bool { // false: the payload ends or breaks here
					for d.More() {
						ck, err := d.Token()
						if err != nil {
							return false
						}
						switch ck {
						case "column":
							cols = append(cols, str())
						case "rows", "dimension":
							var n int64
							if d.Decode(&n) != nil {
								return false
							}
							if ck == "rows" {
								colRows = n
							} else {
								dim = n
							}
						case "data":
							t, err := d.Token()
							if err != nil {
								return false // cut short in its data: the rows tell
							}
							if raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(t)); err == nil {
								dataLen = int64(len(raw))
							}
						default:
							var skip json.RawMessage
							if d.Decode(&skip) != nil {
								return false
							}
						}
					}
					return true
				}
				whole := read()
				switch {
				case colRows >= 0 && (dim <= 0 || dataLen < 0 || colRows*dim*8 == dataLen):
					rows = addCount(rows, colRows)
				case dim > 0 && dataLen >= 0 && dataLen%(dim*8) == 0:
					rows = addCount(rows, dataLen/(dim*8))
				default:
					rows = -1
				}
				if !whole {
					break loop
				}
				if _, err := d.Token(); err != nil {
					break loop
				}
			}
			break loop
		default:
			var skip json.RawMessage
			if d.Decode(&skip) != nil {
				break loop
			}
		}
	}
	if b.Producer == "" {
		return "", 0, false
	}
	return fmt.Sprintf("%s@%s producer %q columns %q", b.Model, b.Version, b.Producer, cols), rows, true
}

// addCount adds n vectors to a count, -1 (unknown) staying unknown.
func addCount(count, n int64) int64 {
	if count < 0 {
		return -1
	}
	return count + n
}

// addLost counts rows vectors (-1: unknown) lost with the batch name.
func (d *vectorDamage) addLost(name string, rows int64) {
	if prev, ok := d.lost[name]; ok && (prev < 0 || rows < 0) {
		d.lost[name] = -1
		return
	}
	d.lost[name] += rows
}

// lostCount says a count of lost vectors (-1: unknown).
func lostCount(n int64) string {
	if n < 0 {
		return "an unknown number of vectors (the batch's counts are damaged too)"
	}
	return fmt.Sprintf("%d vectors", n)
}

// lostAttr is a count of lost vectors as a log attribute: the number, or
// "unknown".
func lostAttr(n int64) any {
	if n < 0 {
		return "unknown"
	}
	return n
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
