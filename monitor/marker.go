package monitor

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/normguard/normguard/internal/regular"
	"github.com/normguard/normguard/internal/tempfile"
	bolt "go.etcd.io/bbolt"
)

// A small marker file beside the state file (FILE.mark) records that a
// state exists: a generation counted up at every Open, the file's
// identity, its checkpoint count, and the rows each model and stage held
// at the last checkpoint. A state file deleted or replaced by a new one
// while its marker remains is refused at Open instead of being silently
// started empty; Recover then starts empty and reports the rows the
// marker counted as lost. A file behind its marker (an older generation,
// or fewer checkpoints: a restored backup) is refused too; Recover then
// starts from it and reports the marker's rows it lacks as lost.
// OpenReadOnly checks a file against its marker and writes neither.

const markerFormat = "normguard.monitor-mark/1"

// marker is the content of FILE.mark.
type marker struct {
	Format     string `json:"format"`
	Generation uint64 `json:"generation"`
	// Rows is, per "model/stage", the rows the state held at Updated.
	Rows    map[string]int64 `json:"rows"`
	Updated time.Time        `json:"updated"`
	// StoreID is the state file's identity (its meta bucket's id); empty
	// in markers written before it was kept.
	StoreID string `json:"store_id,omitempty"`
	// Checkpoints is the file's checkpoint count (its meta bucket's) at
	// Updated; 0 in markers written before it was kept.
	Checkpoints uint64 `json:"checkpoints,omitempty"`
}

// checkStoreID gives a state file without an identity one, checks the
// file against its marker (checkMarker) and records this Open's
// generation in it. It runs in Open's first transaction and returns the
// file's checkpoint count.
func checkStoreID(meta *bolt.Bucket, path string) (uint64, error) {
	if meta.Get(keyStoreID) == nil {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		if err := meta.Put(keyStoreID, []byte(hex.EncodeToString(b[:]))); err != nil {
			return 0, err
		}
	}
	mk, ckpts, err := checkMarker(meta, path)
	if err != nil {
		return 0, err
	}
	if fileGen := metaCount(meta, keyGeneration); mk == nil && (ckpts > 0 || fileGen >= 2) {
		// No marker, but the file was written beside one: an Open writes
		// it (and fails if it cannot) before any checkpoint, and a second
		// Open counts the generation up from it. A deleted marker vouched
		// for an older copy put back, which started silently with part of
		// the acknowledged rows (attack run 18). (OpenReadOnly, which
		// writes nothing, still reads a file copied without its marker.)
		return 0, &DamageError{Path: path, stale: true, What: fmt.Sprintf("its marker %s is missing, but the file (generation %d, checkpoint %d) "+
			"was written beside one: it was deleted, so whether this file is an older copy cannot be told (put the marker back with the newest "+
			"copy of the file, or --state-recover starts from this one, reports the rows it holds and writes a new marker)", markerPath(path), fileGen, ckpts)}
	}
	next := uint64(1)
	if mk != nil && mk.Generation > 0 {
		next = mk.Generation + 1
	}
	return ckpts, meta.Put(keyGeneration, binary.BigEndian.AppendUint64(nil, next))
}

// checkMarker refuses a state file that its marker does not vouch for:
// another state file put in its place, or an older copy of it. It only
// reads (OpenReadOnly runs it too), and returns the marker (nil when
// there is none) and the file's checkpoint count.
func checkMarker(meta *bolt.Bucket, path string) (*marker, uint64, error) {
	mk, err := readMarker(path)
	if err != nil {
		return nil, 0, err
	}
	ckpts := metaCount(meta, keyCheckpoints)
	if mk == nil {
		return nil, ckpts, nil
	}
	if mk.Generation == 0 {
		// The marker is what tells a replaced, older or emptied store
		// apart: one that cannot be read cannot vouch for this file.
		return nil, 0, &DamageError{Path: path, What: fmt.Sprintf("%s, so this file cannot be checked against it "+
			"(--state-recover keeps what verifies in the file and writes a new marker)", mk.describe(path))}
	}
	if id := meta.Get(keyStoreID); mk.StoreID != "" && mk.StoreID != string(id) {
		return nil, 0, &DamageError{Path: path, stale: true, What: fmt.Sprintf("it is another state file (id %s) than the one %s (id %s): it was replaced "+
			"(put the right file back, or --state-recover starts from this one and reports the marker's rows as lost)", id, mk.describe(path), mk.StoreID)}
	}
	// The file records the generation of the Open that last wrote it (the
	// marker's, counted up by this Open): a file of an older generation
	// than its marker is an older copy of the same state — restored from a
	// backup or a snapshot — that lacks rows acknowledged since. (A crash
	// between this transaction and the marker's write leaves the file one
	// generation ahead, which is accepted.)
	if fileGen := metaCount(meta, keyGeneration); fileGen > 0 && fileGen < mk.Generation {
		return nil, 0, &DamageError{Path: path, stale: true, What: fmt.Sprintf("it is an older copy (generation %d) of the state %s: rows acknowledged since are not in it "+
			"(put the newest copy back, or --state-recover starts from this one and reports the marker's rows as lost)", fileGen, mk.describe(path))}
	}
	// A copy taken while the file was served has the generation its
	// marker records; the checkpoints taken since the copy tell it apart.
	// Each checkpoint counts up the file's count in its transaction and
	// writes it to the marker right after: a file behind its marker is an
	// older copy. (A crash between the two leaves the file one checkpoint
	// ahead, which is accepted; a marker written before the count was kept
	// has none, and vouches as before.)
	if ckpts < mk.Checkpoints {
		return nil, 0, &DamageError{Path: path, stale: true, What: fmt.Sprintf("it is an older copy (checkpoint %d) of the state %s, at checkpoint %d: "+
			"rows acknowledged since the copy are not in it (put the newest copy back, or --state-recover starts from this one and reports the marker's rows as lost)",
			ckpts, mk.describe(path), mk.Checkpoints)}
	}
	return mk, ckpts, nil
}

// metaCount reads a counter of the meta bucket (0 when it is not there).
func metaCount(meta *bolt.Bucket, key []byte) uint64 {
	if v := meta.Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// storeID reads the state file's identity.
func (m *Monitor) storeID() string {
	var id string
	m.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta); b != nil {
			id = string(b.Get(keyStoreID))
		}
		return nil
	})
	return id
}

// markerPath returns the marker file of the state file at path.
func markerPath(path string) string { return path + ".mark" }

// readMarker reads the marker of the state file at path; nil when there is
// none. A marker that cannot be parsed still says a state existed.
func readMarker(path string) (*marker, error) {
	data, err := regular.ReadFile(markerPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("monitor: read %s: %w", markerPath(path), err)
	}
	var mk marker
	if json.Unmarshal(data, &mk) != nil || mk.Format != markerFormat {
		return &marker{}, nil
	}
	for _, n := range mk.Rows {
		if n < 0 { // a count no state writes: the marker is damaged
			return &marker{}, nil
		}
	}
	return &mk, nil
}

// total is the rows the marker counts.
func (mk *marker) total() int64 {
	var n int64
	for _, r := range mk.Rows {
		n += r
	}
	return n
}

// describe says what the marker records, for messages.
func (mk *marker) describe(path string) string {
	if mk.Generation == 0 {
		return fmt.Sprintf("its marker %s says a state existed (the marker itself is unreadable)", markerPath(path))
	}
	return fmt.Sprintf("its marker %s says it existed (generation %d) and held %d acknowledged rows at %s",
		markerPath(path), mk.Generation, mk.total(), mk.Updated.UTC().Format(time.RFC3339))
}

// missingError is Open's refusal of a state file that is gone while its
// marker remains.
func missingError(path string, mk *marker) error {
	return &DamageError{Path: path, What: "it is missing, but " + mk.describe(path) + "; it was deleted or moved (if you meant to start afresh, --state-recover starts empty and reports the rows lost)"}
}

// emptyError is Open's refusal of a state file that holds no state (a
// new, empty bbolt file) while its marker says a state existed.
func emptyError(path string, mk *marker) error {
	return &DamageError{Path: path, What: "it holds no state (a new, empty file), but " + mk.describe(path) + "; it was replaced (if you meant to start afresh, --state-recover starts empty and reports the rows lost)"}
}

// writeMarker records the state as it is now (rows per stage) in the
// marker, atomically; opening counts the generation up.
func (m *Monitor) writeMarker(opening bool) error {
	old, err := readMarker(m.path)
	if err != nil {
		return err
	}
	gen := uint64(1)
	if old != nil && old.Generation > 0 {
		gen = old.Generation
		if opening {
			gen++
		}
	}
	mk := marker{Format: markerFormat, Generation: gen, Rows: map[string]int64{}, Updated: m.opt.Now().UTC(), StoreID: m.storeID(), Checkpoints: m.checkpoints}
	for _, ss := range m.stageStates() {
		if ss.held > 0 {
			mk.Rows[ss.model+"/"+string(ss.stage)] = ss.held
		}
	}
	data, err := json.MarshalIndent(mk, "", "  ")
	if err != nil {
		return err
	}
	dir, base := filepath.Split(markerPath(m.path))
	if dir == "" {
		dir = "."
	}
	f, err := tempfile.Create(dir, base)
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, markerPath(m.path))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the state marker: %w", err)
	}
	return nil
}

// What markerFloor names older than the marker.
var (
	olderCopy = [2]string{"the file", "the file was copied"}
	olderTree = [2]string{"the tree found", "its last commit"}
)

// markerLosses fills rep with the rows mk counted, all lost: the state
// file they were in is gone.
func markerLosses(rep *RecoveryReport, mk *marker) {
	keys := make([]string, 0, len(mk.Rows))
	for k := range mk.Rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i := strings.LastIndexByte(k, '/')
		if i < 0 {
			continue
		}
		rep.Stages = append(rep.Stages, StageRecovery{Model: k[:i], Stage: Stage(k[i+1:]), RowsLost: mk.Rows[k], Counted: true})
	}
	note := "rows acknowledged after the marker's last update"
	if !mk.Updated.IsZero() {
		note += " (" + mk.Updated.UTC().Format(time.RFC3339) + ")"
	}
	note += " were lost too and cannot be counted"
	if rep.Uncounted != "" {
		rep.Uncounted += "; "
	}
	rep.Uncounted += note
}

// markerFloor raises the rows lost per stage in rep to what mk counted
// beyond the rows kept: the file recovered from is older than the marker
// (an older copy, or another store), so at least the rows the marker
// counted and the file lacks were acknowledged and are gone. (Rows that
// left the history between the copy and the marker's update lower the
// marker's count, which is why this is a floor.)
//
// older names what is older than the marker and since when rows are
// missing from it: olderCopy, or olderTree.
func markerFloor(rep *RecoveryReport, mk *marker, older [2]string) {
	keys := make([]string, 0, len(mk.Rows))
	for k := range mk.Rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var more int64
	for _, k := range keys {
		i := strings.LastIndexByte(k, '/')
		if i < 0 {
			continue
		}
		model, stage := k[:i], Stage(k[i+1:])
		j := slices.IndexFunc(rep.Stages, func(s StageRecovery) bool { return s.Model == model && s.Stage == stage })
		if j < 0 {
			rep.Stages = append(rep.Stages, StageRecovery{Model: model, Stage: stage})
			j = len(rep.Stages) - 1
		}
		s := &rep.Stages[j]
		if lost := mk.Rows[k] - s.RowsKept; lost > s.RowsLost || !s.Counted && lost > 0 {
			more += lost - s.RowsLost
			s.RowsLost, s.Counted = lost, true
		}
	}
	note := fmt.Sprintf("%s is older than its marker, which counted %d rows at %s", older[0], mk.total(), mk.Updated.UTC().Format(time.RFC3339))
	if more > 0 {
		note += fmt.Sprintf(": %d of them are not in it (counted above as lost); rows acknowledged after %s "+
			"that have since left the history, and rows acknowledged after the marker's update, were lost too and cannot be counted", more, older[1])
	} else {
		note += fmt.Sprintf("; rows acknowledged after %s that have since left the history, and rows acknowledged after "+
			"the marker's update, were lost and cannot be counted", older[1])
	}
	if rep.Uncounted != "" {
		rep.Uncounted += "; "
	}
	rep.Uncounted += note
}
