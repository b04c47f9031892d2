package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/internal/tempfile"
	"github.com/normguard/normguard/registry"
)

// The vector state file (Config.VectorState, `serve` puts it beside the
// monitor's: STATE.vectors.json) holds every producer's open window (the
// embed.CheckerState and the reservoir sample, its float64s little-endian
// in base64 so that they come back bit for bit) and its previous window's
// report. record rewrites it (temporary file, fsync, rename) before it
// acknowledges a vector observation; a restart reads it back, finding
// each contract again by the model and version it names.

// vectorStateFormat names the file's layout.
const vectorStateFormat = "normguard-vector-state/1"

// vectorStateFile is the state file's content.
type vectorStateFile struct {
	Format    string                `json:"format"`
	Producers []vectorProducerState `json:"producers"`
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
// file cannot be read back.
var ErrVectorStateDamaged = errors.New("vector state file damaged")

// vectorDamage is a damaged vector state file.
type vectorDamage struct{ path, what string }

func (e *vectorDamage) Error() string {
	return fmt.Sprintf("server: the vector state file %s is damaged: %s. It was left untouched. Restore it from a backup, "+
		"or start normguard serve with --state-recover to move it aside and start the vector windows empty", e.path, e.what)
}

func (e *vectorDamage) Unwrap() error { return ErrVectorStateDamaged }

// save writes the state file, if there is one. The caller holds vw.mu.
func (vw *vectorWindows) save() error {
	if vw.path == "" {
		return nil
	}
	st := vectorStateFile{Format: vectorStateFormat, Producers: []vectorProducerState{}}
	for key, p := range vw.m {
		ps := vectorProducerState{Model: p.model, Version: p.version, Digest: key.digest, Column: key.column,
			Producer: key.producer, Previous: p.prev}
		if w := p.cur; w != nil {
			buf := make([]byte, 0, len(w.sample)*w.dim*8)
			for _, v := range w.sample {
				for _, x := range v {
					buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
				}
			}
			ps.Current = &vectorWindowState{Start: w.start, End: w.end, Dim: w.dim, Seen: w.seen, Missing: w.missing,
				RNG: w.rng, SampleRows: len(w.sample), Sample: base64.StdEncoding.EncodeToString(buf), Checker: w.checker.State()}
		}
		st.Producers = append(st.Producers, ps)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(vw.path)
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
		err = os.Rename(tmp, vw.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", vw.path, err)
	}
	return vw.mark()
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
		f, err := tempfile.Create(filepath.Dir(m), filepath.Base(m))
		if err != nil {
			return err
		}
		_, err = f.WriteString(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), m)
		}
		if err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("writing %s: %w", m, err)
		}
	}
	vw.marked = true
	return nil
}

// openVectors sets up the vector windows of s from its Config and reads
// the state file back. A damaged file is refused (an error wrapping
// ErrVectorStateDamaged), or with VectorStateRecover renamed to
// FILE.damaged-<UTC time> and the windows started empty.
func (s *Server) openVectors(ctx context.Context) error {
	vw := &s.vectors
	vw.window, vw.path = s.cfg.VectorWindow, s.cfg.VectorState
	vw.m = map[vectorKey]*vectorProducer{}
	if vw.path == "" {
		return nil
	}
	err := vw.load(ctx, &s.cache)
	var dmg *vectorDamage
	if !errors.As(err, &dmg) || !s.cfg.VectorStateRecover {
		return err
	}
	moved := fmt.Sprintf("%s.damaged-%s", vw.path, time.Now().UTC().Format("20060102T150405Z"))
	if _, serr := os.Stat(vw.path); errors.Is(serr, fs.ErrNotExist) {
		moved = "(missing)"
	} else if rerr := os.Rename(vw.path, moved); rerr != nil {
		return fmt.Errorf("server: moving the damaged vector state file aside: %w (%v)", rerr, err)
	}
	vw.m = map[vectorKey]*vectorProducer{}
	vw.mu.Lock()
	err = vw.save() // an empty state, so that the marker describes a file that exists
	vw.mu.Unlock()
	if err != nil {
		return fmt.Errorf("server: starting the vector windows empty: %w", err)
	}
	s.log.Warn("the vector state file was damaged: the vector windows start empty", "damage", dmg.what, "moved_to", moved)
	return nil
}

// load reads the state file; a missing one is an empty state.
func (vw *vectorWindows) load(ctx context.Context, cache *transformerCache) error {
	data, err := os.ReadFile(vw.path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, merr := os.Stat(vw.path + ".mark"); merr == nil {
			return &vectorDamage{vw.path, "the file is missing, but its marker " + filepath.Base(vw.path) +
				".mark says it existed: the vector windows it held are lost (restore the file, or --state-recover to start them empty)"}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: reading the vector state file: %w", err)
	}
	bad := func(format string, args ...any) error {
		return &vectorDamage{vw.path, fmt.Sprintf(format, args...)}
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
			pr, v, err := cache.get(ctx, ps.Model, ps.Version)
			if errors.Is(err, registry.ErrNotFound) {
				return bad("%s: %s@%s is not in the registry: %v", at, ps.Model, ps.Version, err)
			}
			if err != nil {
				return fmt.Errorf("server: reading the vector state file %s: %s: %w", vw.path, at, err)
			}
			if v.Digest != ps.Digest {
				return bad("%s: %s@%s has the digest %s in the registry, the file says %s", at, ps.Model, ps.Version, v.Digest, ps.Digest)
			}
			e := pr.t.Artifact().Embedding(ps.Column)
			if e == nil {
				return bad("%s: %s@%s has no vector column %q", at, ps.Model, ps.Version, ps.Column)
			}
			if p.cur, err = w.restore(e.Contract); err != nil {
				return bad("%s.current: %v", at, err)
			}
		}
		vw.m[key] = p
	}
	return nil
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
