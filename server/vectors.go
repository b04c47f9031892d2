package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/internal/jsonnum"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/table"
)

// Vector observations per producer. The components that share a vector
// store (the writer that fills it and the readers that query it) each send
// the vectors they produce:
//
//	POST /v1/models/{name}/observations?producer=writer   {"rows": [{"emb": [0.1, ...]}, ...]}
//
// For every vector column of the model's artifact the server keeps, per
// producer, an embed.Checker (the contract's checks, in memory bounded by
// the dimension) and a seeded reservoir sample of vectorSample vectors.
//
//	GET /v1/models/{name}/vectors
//
// reports each producer's vectors against the contract (verdicts, norm
// distribution) and each pair of producers of a column against each other
// (embed.Drift on their samples).
//
// The state is windowed like the monitor's: tumbling windows of
// Config.VectorWindow by arrival time (the monitor's --window), and each
// producer keeps, beside its open window, the report of the window just
// before it. With Config.VectorState set, the state is written to that
// file (vectors_state.go) before a vector observation is acknowledged, so
// a restart starts where the last acknowledged batch left it. It is not
// merged across replicas.
//
// Vectors refused with a 400 are counted per producer and reason
// (vectorWindows.refuse) since the server started, in memory only: they
// are no window state, are not written to the state file and fix no
// dimension. GET .../vectors reports them (refused) beside the windows, and
// normguard_vector_refusals_total counts them, so that a producer whose
// every vector is refused (and that ignores its 400s) is seen.

// vectorSample is the size of each producer's reservoir sample.
const vectorSample = 1000

// maxVectorDim is the longest vector kept for a contract of dimension d:
// a producer's window holds vectorSample of them, so this bounds its
// memory to about twice what the contract's vectors take, while leaving
// room to report a dimension change (768 to 1,536, say) as a verdict.
func maxVectorDim(d int) int { return max(2*d, d+1024) }

// maxProducers bounds the producers kept per column.
const maxProducers = 16

// Reasons a vector of ?producer= observations is refused (the refused
// counts of GET .../vectors and normguard_vector_refusals_total).
const (
	refusedDimension   = "dimension_mismatch" // not the contract's dimension
	refusedInvalid     = "invalid_vector"     // not an array of finite numbers, or empty
	refusedMixed       = "mixed_dimensions"   // another dimension than the request's first vector
	refusedChanged     = "dimension_changed"  // another dimension than the producer's window
	refusedTooMany     = "too_many_producers" // the column has maxProducers producers already
	refusedUnnamed     = ""                   // the producer name refusals past the bound are counted under
	maxRefusedProducer = 2 * maxProducers     // named producers per column in the refusal counts
)

type vectorKey struct{ digest, column, producer string }

// vectorWindow is one producer's vectors of one column in one window.
type vectorWindow struct {
	start, end time.Time
	dim        int
	checker    *embed.Checker
	sample     [][]float64
	seen       int64
	missing    int64
	rng        uint64
}

// vectorClosed is the report of a producer's closed window.
type vectorClosed struct {
	Start    time.Time       `json:"start"`
	End      time.Time       `json:"end"`
	Rows     int64           `json:"rows"`
	Missing  int64           `json:"missing"`
	Dim      int             `json:"dimension"`
	Norms    embed.NormStats `json:"norms"`
	Verdicts []embed.Finding `json:"verdicts"`
}

// vectorProducer is one producer's state of one column.
type vectorProducer struct {
	// model and version name an artifact of the key's digest, where the
	// contract is found again at a restart.
	model, version string
	cur            *vectorWindow // nil: no vector in the open window yet
	prev           *vectorClosed // the window just before the open one
}

// vectorWindows is the server's vector state; the zero value is ready
// (in memory, windows of monitor.DefaultWindow).
type vectorWindows struct {
	mu sync.Mutex
	// id is the state's identity, written in its marker, snapshot and
	// journal header (vectors_stateid.go); nil until read or made.
	id     atomic.Pointer[string]
	m      map[vectorKey]*vectorProducer
	window time.Duration // 0: monitor.DefaultWindow
	path   string        // the state file; "" keeps the state in memory
	marker *vectorMarker // the marker read at start (nil: none, or one written before it held a run)
	// markerMissing says no marker was found at start.
	markerMissing bool
	run           uint64           // this start's number, counted up from the marker's at each start
	markAt        int64            // the journal's length when the marker was last written
	log           *slog.Logger     // nil: no log
	now           func() time.Time // nil: time.Now (tests set a clock)

	// refused counts refused vectors by reason since the server started
	// (refuse); never written to the state file.
	refused map[vectorKey]map[string]int64

	// The journal (vectors_state.go).
	jf            *os.File // the journal of generation gen, open for appending; nil: none yet
	gen           uint64   // the generation of the snapshot and of its journal
	snapshotted   bool     // a snapshot of generation gen exists
	snapshotBytes int64
	journalBytes  int64
	compactAt     int64 // > 0: fold the journal in at this size (tests)

	health vectorHealth // the last journal write's failure (vectors_health.go)

	// The producers' comparisons (vectors_pairs.go): pairs caches each
	// pair's last result, pairTurn lets one report at a time compare.
	pairs    map[pairKey]pairResult
	pairTurn chan struct{}
}

// clock returns the time and the bounds of the window holding it.
func (vw *vectorWindows) clock() (now, start, end time.Time) {
	now = time.Now()
	if vw.now != nil {
		now = vw.now()
	}
	w := vw.window
	if w <= 0 {
		w = monitor.DefaultWindow
	}
	start = monitor.WindowStart(now, w)
	return now, start, start.Add(w)
}

// roll closes the windows that ended before now, keeping the report of
// each one that ended within the last window, and forgets producers with
// nothing left. The caller holds vw.mu.
func (vw *vectorWindows) roll() error {
	now, start, end := vw.clock()
	w := end.Sub(start)
	for key, p := range vw.m {
		if p.cur != nil && !now.Before(p.cur.end) {
			closed, err := p.cur.close()
			if err != nil {
				return fmt.Errorf("vectors: column %q, producer %q: %w", key.column, key.producer, err)
			}
			p.cur, p.prev = nil, closed
		}
		if p.prev != nil && !p.prev.End.After(start.Add(-w)) {
			p.prev = nil
		}
		if p.cur == nil && p.prev == nil {
			delete(vw.m, key)
		}
	}
	return nil
}

// close judges a window that has ended.
func (w *vectorWindow) close() (*vectorClosed, error) {
	findings, err := w.checker.Findings()
	if err != nil {
		return nil, err
	}
	if findings == nil {
		findings = []embed.Finding{}
	}
	return &vectorClosed{Start: w.start, End: w.end, Rows: w.seen, Missing: w.missing, Dim: w.dim,
		Norms: w.checker.Norms(), Verdicts: findings}, nil
}

// splitmix64 advances the reservoir's generator.
func splitmix64(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// add accumulates the vectors of one request.
func (w *vectorWindow) add(vecs [][]float64, missing int64) error {
	data := make([]float64, 0, len(vecs)*w.dim)
	for _, v := range vecs {
		data = append(data, v...)
	}
	m, err := embed.NewMatrix(len(vecs), w.dim, data)
	if err != nil {
		return err
	}
	if err := w.checker.Add(m); err != nil {
		return err
	}
	w.missing += missing
	for _, v := range vecs {
		w.seen++
		if len(w.sample) < vectorSample {
			w.sample = append(w.sample, v)
			continue
		}
		if j := splitmix64(&w.rng) % uint64(w.seen); j < vectorSample {
			w.sample[j] = v
		}
	}
	return nil
}

// vectorRows is the body of a vector observation. Rows is a pointer so
// that a body without "rows" (or with "rows": null) is told from one with
// no rows.
type vectorRows struct {
	Rows *[]map[string]json.RawMessage `json:"rows"`
}

// vectorObservationsResponse acknowledges vector observations: Accepted
// counts the rows that held a vector (of any column), Columns the vectors
// counted per column.
type vectorObservationsResponse struct {
	Model          string         `json:"model"`
	Version        string         `json:"version"`
	ArtifactDigest string         `json:"artifact_digest"`
	Producer       string         `json:"producer"`
	Accepted       int            `json:"accepted"`
	Columns        map[string]int `json:"columns"`
}

// vectorBodyShape is what a vector observation's body must be.
const vectorBodyShape = `the body must be {"rows": [{"<vector column>": [numbers], ...}, ...]}`

// decodeVectorRows reads a vector observation's body as strictly as
// rowsBody reads the plain observations': one JSON object holding "rows",
// an array of objects, and nothing after it.
func decodeVectorRows(data []byte, maxRows int) ([]map[string]json.RawMessage, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		what := "an empty body"
		if len(trimmed) > 0 {
			what = fmt.Sprintf("a body starting %q", string(trimmed[:min(len(trimmed), 16)]))
		}
		return nil, badRequest("%s: got %s, not a JSON object", vectorBodyShape, what)
	}
	var body vectorRows
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, badRequest("%s: %v", vectorBodyShape, err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, badRequest("invalid JSON body at byte %d: unexpected data after the JSON object", len(data)-len(rest))
	}
	if body.Rows == nil {
		return nil, badRequest(`the body has no "rows" (or "rows" is null): %s`, vectorBodyShape)
	}
	rows := *body.Rows
	if maxRows > 0 && len(rows) > maxRows {
		return nil, &apiError{http.StatusRequestEntityTooLarge, "too_many_rows", fmt.Sprintf("%d rows in one request, more than %d: split the batch", len(rows), maxRows)}
	}
	for i, row := range rows {
		if row == nil {
			return nil, badRequest("row %d is null: every row must be an object {\"<vector column>\": [numbers]}", i+1)
		}
	}
	return rows, nil
}

// vectorObservations records the vectors of POST .../observations?producer=P.
func (s *Server) vectorObservations(w http.ResponseWriter, r *http.Request) (int, string, error) {
	model := r.PathValue("name")
	if err := registry.ValidName(model); err != nil {
		return 0, "", &apiError{http.StatusBadRequest, "invalid_name", err.Error()}
	}
	if s.cfg.VectorsOff {
		// Never acknowledged and then kept in memory only (attack run 18).
		return 0, "", notFound("monitoring is off on this server")
	}
	producer := r.URL.Query().Get("producer")
	if err := checkProducer(producer); err != nil {
		return 0, "", err
	}
	version, err := versionOf(r)
	if err != nil {
		return 0, "", err
	}
	p, v, err := s.cache.get(r.Context(), model, version)
	if err != nil {
		return 0, "", err
	}
	a := p.t.Artifact()
	if len(a.Embeddings) == 0 {
		return 0, v.Version, badRequest("%s@%s has no vector column; ?producer= is for vector observations", model, v.Version)
	}
	data, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return 0, v.Version, err
	}
	rows, err := decodeVectorRows(data, s.cfg.MaxRows)
	if err != nil {
		return 0, v.Version, err
	}
	if err := featuresBesideVectors(rows, p.t.Inputs(), p.t.Outputs(), a, model, v.Version); err != nil {
		return 0, v.Version, err
	}
	batches := map[string][][]float64{}
	missing := map[string]int64{}
	withVector, anyColumn := 0, false
	extra := ""
	// The request is refused at its first wrong vector, but every vector
	// wrong on its own is counted (refused), so the rows after it are
	// still read; the vectors refused only along with them are not.
	var refusal error
	var refused []vectorRefusal
	for i, row := range rows {
		has := false
		for _, e := range a.Embeddings {
			raw, ok := row[e.Column]
			anyColumn = anyColumn || ok
			if !ok || string(raw) == "null" {
				missing[e.Column]++
				continue
			}
			vec, null, bad := parseObservedVector(raw)
			reason, err := "", error(nil)
			switch d := e.Contract.Dimension; {
			case null >= 0:
				// A null element is how pandas' to_json and JSON.stringify
				// write NaN: refused as every element that is not a finite
				// number is here (and by .../transform), never read as 0.
				reason, err = refusedInvalid, badRequest("row %d: column %q: element %d of the vector is null, not a number "+
					"(NaN written as null?): every element must be a finite number", i+1, e.Column, null)
			case vec == nil:
				reason, err = refusedInvalid, badRequest("row %d: column %q: %s", i+1, e.Column, bad)
			case d > 0 && len(vec) != d:
				// The contract fixes the dimension: a vector of another
				// one is refused, so that it cannot fix the producer's
				// dimension for the window and have the right vectors
				// refused after it.
				reason, err = refusedDimension, badRequest("row %d: column %q: a vector of %d values, the contract of %s@%s has dimension %d (dimension_mismatch): "+
					"check the producer's embedding model", i+1, e.Column, len(vec), model, v.Version, d)
			case refusal == nil && len(batches[e.Column]) > 0 && len(batches[e.Column][0]) != len(vec):
				reason, err = refusedMixed, badRequest("row %d: column %q: a vector of %d values after vectors of %d; every vector of a request must have one dimension", i+1, e.Column, len(vec), len(batches[e.Column][0]))
			}
			if err != nil {
				refused = addRefusal(refused, e.Column, reason, 1)
				if refusal == nil {
					refusal = err
				}
				continue
			}
			if refusal != nil {
				continue
			}
			batches[e.Column] = append(batches[e.Column], vec)
			has = true
		}
		if has {
			withVector++
		}
		if extra == "" {
			for k := range row {
				if a.Embedding(k) == nil {
					extra = k
					break
				}
			}
		}
	}
	if refusal != nil {
		s.vectors.refuse(model, v.Digest, producer, refused, s.metrics)
		return 0, v.Version, refusal
	}
	if len(rows) > 0 && !anyColumn {
		names := make([]string, len(a.Embeddings))
		for i, e := range a.Embeddings {
			names[i] = strconv.Quote(e.Column)
		}
		got := "only empty objects"
		if extra != "" {
			got = fmt.Sprintf("e.g. %q", extra)
		}
		return 0, v.Version, badRequest("no row holds a vector column of %s@%s (got %s): the vector columns are %s; "+
			"send each vector as one array of numbers under its column, e.g. {%s: [0.1, ...]}, not one key per dimension",
			model, v.Version, got, strings.Join(names, ", "), names[0])
	}
	accepted := map[string]int{}
	if err := s.vectors.record(model, v.Version, v.Digest, producer, a, batches, missing, accepted); err != nil {
		var re *refusedError
		if errors.As(err, &re) {
			s.vectors.refuse(model, v.Digest, producer, []vectorRefusal{re.vectorRefusal}, s.metrics)
		}
		return 0, v.Version, err
	}
	writeJSON(w, http.StatusOK, vectorObservationsResponse{Model: model, Version: v.Version, ArtifactDigest: v.Digest,
		Producer: producer, Accepted: withVector, Columns: accepted})
	return http.StatusOK, v.Version, nil
}

// featuresBesideVectors refuses a vector observation whose rows hold
// feature columns of the artifact (its inputs or outputs that are not
// passed through): they were dropped without a word, even values
// /transform refuses (attack run 18).
// A vector observation (?producer=) takes the vector columns alone, as a
// feature observation refuses a vector column; other keys (an id) are
// ignored as before.
func featuresBesideVectors(rows []map[string]json.RawMessage, inputs, outputs []table.Field, a *artifact.Artifact, model, version string) error {
	// Passthrough columns (remainder: passthrough: an id, a time column)
	// are not features: they were ignored beside the vectors and still
	// are (attack run 20: a producer's {"id", "emb"} rows were refused).
	passed := map[string]bool{}
	for _, c := range a.Passthrough {
		passed[c] = true
	}
	// A vector's dimension columns (emb_0 ...) are not features either:
	// the vector sent that way is named by the check that finds no vector
	// column in the rows (attack run 21: they were called features, and
	// the advice to post them without ?producer= had them judged nowhere).
	for _, dims := range a.VectorColumns() {
		for _, d := range dims {
			passed[d] = true
		}
	}
	features := map[string]bool{}
	for _, f := range slices.Concat(inputs, outputs) {
		if a.Embedding(f.Name) == nil && !passed[f.Name] {
			features[f.Name] = true
		}
	}
	first, seen := 0, map[string]bool{}
	for i, row := range rows {
		for k := range row {
			if features[k] && !seen[k] {
				if len(seen) == 0 {
					first = i + 1
				}
				seen[k] = true
			}
		}
	}
	if len(seen) == 0 {
		return nil
	}
	got := make([]string, 0, len(seen))
	for k := range seen {
		got = append(got, strconv.Quote(k))
	}
	slices.Sort(got)
	vecs := make([]string, len(a.Embeddings))
	for i, e := range a.Embeddings {
		vecs[i] = strconv.Quote(e.Column)
	}
	return badRequest("row %d: %s: feature columns of %s@%s beside the vectors: a vector observation (?producer=) takes only the vector "+
		"columns (%s), and would not count them; send the feature columns in their own request to .../observations without "+
		"?producer= (nothing of this request was counted)", first, strings.Join(got, ", "), model, version, strings.Join(vecs, ", "))
}

// vectorBatch is what one request adds to the vector state: a record of
// the state file's journal (vectors_state.go), replayed at a restart by
// apply exactly as it was applied.
type vectorBatch struct {
	Model    string              `json:"model"`
	Version  string              `json:"version"`
	Digest   string              `json:"artifact_digest"`
	Producer string              `json:"producer"`
	Start    time.Time           `json:"start"` // the open window the batch went to
	End      time.Time           `json:"end"`
	Columns  []vectorBatchColumn `json:"columns"`
}

// vectorBatchColumn is a batch's vectors of one column.
type vectorBatchColumn struct {
	Column  string      `json:"column"`
	Missing int64       `json:"missing"`
	Vecs    [][]float64 `json:"-"` // in the journal as base64 (vectors_state.go)
}

// record adds a request's vectors to the producer's open windows. It
// checks the whole request first, then writes it to the state file's
// journal (when there is one), then counts it: a request refused or not
// saved counts nothing.
func (vw *vectorWindows) record(model, version, digest, producer string, a *artifact.Artifact, batches map[string][][]float64, missing map[string]int64, accepted map[string]int) error {
	vw.mu.Lock()
	defer vw.mu.Unlock()
	if vw.m == nil {
		vw.m = map[vectorKey]*vectorProducer{}
	}
	if err := vw.roll(); err != nil {
		return err
	}
	_, start, end := vw.clock()
	b := &vectorBatch{Model: model, Version: version, Digest: digest, Producer: producer, Start: start, End: end}
	for _, e := range a.Embeddings {
		vecs := batches[e.Column]
		p := vw.m[vectorKey{digest, e.Column, producer}]
		if len(vecs) == 0 && (missing[e.Column] == 0 || p == nil || p.cur == nil) {
			continue // nothing to count: rows without the column before any vector are not a window
		}
		if p == nil {
			producers := 0
			for k := range vw.m {
				if k.digest == digest && k.column == e.Column {
					producers++
				}
			}
			if producers >= maxProducers {
				return refusedErr(e.Column, refusedTooMany, len(vecs),
					"column %q already has %d producers; name the components with a few fixed names", e.Column, maxProducers)
			}
		}
		if len(vecs) > 0 {
			if d, most := len(vecs[0]), maxVectorDim(e.Contract.Dimension); d > most {
				return refusedErr(e.Column, refusedDimension, len(vecs), "column %q: vectors of %d values, the contract's dimension is %d (dimension_mismatch); "+
					"vectors longer than %d are refused rather than kept: check the producer's embedding model", e.Column, d, e.Contract.Dimension, most)
			}
			if p != nil && p.cur != nil && len(vecs[0]) != p.cur.dim {
				return refusedErr(e.Column, refusedChanged, len(vecs),
					"column %q: producer %q sent vectors of %d values before and %d now; one producer has one dimension", e.Column, producer, p.cur.dim, len(vecs[0]))
			}
			if _, err := embed.NewChecker(e.Contract, len(vecs[0]), embed.CheckOptions{}); err != nil {
				return badRequest("column %q: %v", e.Column, err)
			}
		}
		b.Columns = append(b.Columns, vectorBatchColumn{Column: e.Column, Missing: missing[e.Column], Vecs: vecs})
	}
	if len(b.Columns) == 0 {
		return nil
	}
	if err := vw.journal(b); err != nil {
		vw.failed(err, b)
		return &apiError{http.StatusInternalServerError, "state_not_saved",
			fmt.Sprintf("the vectors were not counted: the vector state could not be saved: %v (fix the folder's permissions or space, then send them again)", err)}
	}
	vw.saved()
	if err := vw.apply(b, a); err != nil {
		return err
	}
	vw.compact()
	for _, c := range b.Columns {
		accepted[c.Column] = len(c.Vecs)
	}
	return nil
}

// apply counts a batch checked by record (or read back from the journal)
// in the producer's open windows. The caller holds vw.mu and has rolled
// the windows to the batch's.
func (vw *vectorWindows) apply(b *vectorBatch, a *artifact.Artifact) error {
	for _, c := range b.Columns {
		e := a.Embedding(c.Column)
		if e == nil {
			return fmt.Errorf("vectors: %s@%s has no vector column %q", b.Model, b.Version, c.Column)
		}
		key := vectorKey{b.Digest, c.Column, b.Producer}
		p := vw.m[key]
		if p == nil {
			p = &vectorProducer{model: b.Model, version: b.Version}
			vw.m[key] = p
		}
		if p.cur == nil {
			if len(c.Vecs) == 0 {
				continue
			}
			k, err := embed.NewChecker(e.Contract, len(c.Vecs[0]), embed.CheckOptions{})
			if err != nil {
				return fmt.Errorf("vectors: column %q: %w", c.Column, err)
			}
			h := fnv.New64a()
			h.Write([]byte(b.Producer))
			p.cur = &vectorWindow{start: b.Start, end: b.End, dim: len(c.Vecs[0]), checker: k, rng: h.Sum64()}
		}
		if err := p.cur.add(c.Vecs, c.Missing); err != nil {
			return fmt.Errorf("vectors: column %q: %w", c.Column, err)
		}
	}
	return nil
}

// vectorRefusal is a number of vectors of a column refused for a reason.
type vectorRefusal struct {
	column, reason string
	n              int
}

// addRefusal adds n vectors refused for reason to rs.
func addRefusal(rs []vectorRefusal, column, reason string, n int) []vectorRefusal {
	for i := range rs {
		if rs[i].column == column && rs[i].reason == reason {
			rs[i].n += n
			return rs
		}
	}
	return append(rs, vectorRefusal{column, reason, n})
}

// refusedError is a 400 of record that refuses a column's vectors.
type refusedError struct {
	err *apiError
	vectorRefusal
}

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

func refusedErr(column, reason string, n int, format string, args ...any) error {
	return &refusedError{badRequest(format, args...), vectorRefusal{column, reason, n}}
}

// refuse counts refused vectors of a producer since the server started,
// in memory only (never in the state file, no window: a producer is not
// given a dimension by vectors it was refused), and in m (nil: not).
// The producers named are bounded per column as the windows' are: the
// first maxProducers producers refused, and up to maxRefusedProducer
// with the producers holding a window; the refusals of any other producer
// are counted under refusedUnnamed.
func (vw *vectorWindows) refuse(model, digest, producer string, rs []vectorRefusal, m *metrics) {
	vw.mu.Lock()
	defer vw.mu.Unlock()
	if vw.refused == nil {
		vw.refused = map[vectorKey]map[string]int64{}
	}
	for _, r := range rs {
		key := vectorKey{digest, r.column, producer}
		if vw.refused[key] == nil {
			named := 0
			for k := range vw.refused {
				if k.digest == digest && k.column == r.column && k.producer != refusedUnnamed {
					named++
				}
			}
			if named >= maxRefusedProducer || named >= maxProducers && vw.m[key] == nil {
				key.producer = refusedUnnamed
			}
		}
		counts := vw.refused[key]
		if counts == nil {
			counts = map[string]int64{}
			vw.refused[key] = counts
		}
		counts[r.reason] += int64(r.n)
		if m != nil {
			m.refused.WithLabelValues(model, key.producer, r.reason).Add(float64(r.n))
		}
	}
}

// refusedCopy returns a copy of the refused counts of key, {} when none.
// The caller holds vw.mu.
func (vw *vectorWindows) refusedCopy(key vectorKey) map[string]int64 {
	out := map[string]int64{}
	for reason, n := range vw.refused[key] {
		out[reason] = n
	}
	return out
}

// vectorProducerReport is one producer's vectors of one column: its open
// window (Rows 0 when it sent none there yet) and its previous window.
type vectorProducerReport struct {
	Producer string          `json:"producer"`
	Rows     int64           `json:"rows"`
	Missing  int64           `json:"missing"`
	Dim      int             `json:"dimension"`
	Norms    vectorNorms     `json:"norms"`
	Verdicts []embed.Finding `json:"verdicts"`
	// Previous is the report of the window just before the open one, when
	// the producer sent vectors there.
	Previous *vectorClosedReport `json:"previous,omitempty"`
	// Refused counts the producer's vectors refused (400) by reason since
	// the server started; not part of the windows nor of the state file.
	Refused map[string]int64 `json:"refused"`
}

// vectorRefusedReport is a producer of a column with vectors refused but
// no window: none of its vectors was accepted in the open or previous
// window (or ever: a producer that sends only vectors of a wrong
// dimension). Producer "" counts the producers past the ones named.
type vectorRefusedReport struct {
	Producer string `json:"producer"`
	// Refused counts the vectors refused by reason since the server
	// started; not part of the windows nor of the state file.
	Refused map[string]int64 `json:"refused"`
}

// vectorClosedReport is a vectorClosed as GET .../vectors writes it.
type vectorClosedReport struct {
	Start    time.Time       `json:"start"`
	End      time.Time       `json:"end"`
	Rows     int64           `json:"rows"`
	Missing  int64           `json:"missing"`
	Dim      int             `json:"dimension"`
	Norms    vectorNorms     `json:"norms"`
	Verdicts []embed.Finding `json:"verdicts"`
}

func closedReport(c *vectorClosed) *vectorClosedReport {
	if c == nil {
		return nil
	}
	return &vectorClosedReport{Start: c.Start, End: c.End, Rows: c.Rows, Missing: c.Missing, Dim: c.Dim,
		Norms: reportNorms(c.Norms), Verdicts: c.Verdicts}
}

// vectorNorms is a producer's norm statistics as GET .../vectors writes
// them. The checker's norm of a vector of finite values whose squares pass
// the float64 range is +Inf (as numpy's sqrt(dot(x, x))), and so are the
// sums and statistics of such norms; JSON has none, so a number that is not
// finite is written null (as the findings' evidence, embed/jsonfinite.go),
// and the last histogram bin [1e4, +Inf) has "hi": null.
type vectorNorms embed.NormStats

// reportNorms returns s with the numbers that have a finite value though
// the checker's arithmetic gave none set to it: the 0 and 1 quantiles are
// the smallest and largest norm (interpolating in a bin of infinite width
// gives NaN even at its lower edge), and norms all equal have that mean
// and standard deviation 0 (when their sum overflowed). s is not changed.
func reportNorms(s embed.NormStats) vectorNorms {
	fin := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	s.Quantiles = slices.Clone(s.Quantiles)
	if s.Count == 0 {
		return vectorNorms(s)
	}
	if q := s.Quantiles; len(q) > 0 {
		if !fin(q[0]) && fin(s.Min) {
			q[0] = s.Min
		}
		if !fin(q[len(q)-1]) && fin(s.Max) {
			q[len(q)-1] = s.Max
		}
	}
	if fin(s.Min) && s.Min == s.Max {
		if !fin(s.Mean) {
			s.Mean = s.Min
		}
		if !fin(s.Std) {
			s.Std = 0
		}
		for i, x := range s.Quantiles {
			if !fin(x) {
				s.Quantiles[i] = s.Min
			}
		}
	}
	return vectorNorms(s)
}

// MarshalJSON writes the statistics as encoding/json writes an
// embed.NormStats, a number that is not finite as null.
func (n vectorNorms) MarshalJSON() ([]byte, error) {
	if b, err := json.Marshal(embed.NormStats(n)); err == nil {
		return b, nil
	}
	return finiteNormsJSON(embed.NormStats(n))
}

// finiteNormsJSON writes s as encoding/json would, each float that is not
// finite as null.
func finiteNormsJSON(s embed.NormStats) ([]byte, error) {
	type bin struct {
		Lo    any `json:"lo"`
		Hi    any `json:"hi"`
		Count int `json:"count"`
	}
	out := struct {
		Count     int   `json:"count"`
		Min       any   `json:"min"`
		Max       any   `json:"max"`
		Mean      any   `json:"mean"`
		Std       any   `json:"std"`
		UnitShare any   `json:"unit_share"`
		Quantiles []any `json:"quantiles"`
		Histogram []bin `json:"histogram"`
	}{Count: s.Count, Min: jsonnum.Finite(s.Min), Max: jsonnum.Finite(s.Max), Mean: jsonnum.Finite(s.Mean),
		Std: jsonnum.Finite(s.Std), UnitShare: jsonnum.Finite(s.UnitShare)}
	if s.Quantiles != nil {
		out.Quantiles = make([]any, len(s.Quantiles))
		for i, q := range s.Quantiles {
			out.Quantiles[i] = jsonnum.Finite(q)
		}
	}
	if s.Histogram != nil {
		out.Histogram = make([]bin, len(s.Histogram))
		for i, b := range s.Histogram {
			out.Histogram[i] = bin{jsonnum.Finite(b.Lo), jsonnum.Finite(b.Hi), b.Count}
		}
	}
	return json.Marshal(out)
}

// vectorPairReport compares two producers of a column.
type vectorPairReport struct {
	A     string             `json:"a"`
	B     string             `json:"b"`
	Drift *embed.DriftResult `json:"drift,omitempty"`
	// Skipped says why the pair was not compared.
	Skipped string `json:"skipped,omitempty"`
	// Pending says the pair is not compared yet: a later GET compares it
	// (vectors_pairs.go).
	Pending bool `json:"pending,omitempty"`
}

// vectorColumnReport is one vector column. RefusedProducers lists the
// producers with refused vectors (since the server started) that are not
// among Producers, the producers with vectors in a window.
type vectorColumnReport struct {
	Column           string                 `json:"column"`
	Producers        []vectorProducerReport `json:"producers"`
	Pairs            []vectorPairReport     `json:"pairs"`
	RefusedProducers []vectorRefusedReport  `json:"refused_producers"`
}

// vectorsResponse is GET /v1/models/{name}/vectors.
type vectorsResponse struct {
	Model          string `json:"model"`
	Version        string `json:"version"`
	ArtifactDigest string `json:"artifact_digest"`
	// Window is the open window the producers' reports are of.
	Window  vectorSpan           `json:"window"`
	Columns []vectorColumnReport `json:"columns"`
}

// vectorSpan is a window's bounds.
type vectorSpan struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// handleVectors reports the producers' vectors of the model's current (or
// ?version=) artifact.
func (s *Server) handleVectors(w http.ResponseWriter, r *http.Request) {
	model := r.PathValue("name")
	if err := registry.ValidName(model); err != nil {
		fail(w, &apiError{http.StatusBadRequest, "invalid_name", err.Error()})
		return
	}
	if s.cfg.VectorsOff {
		fail(w, notFound("monitoring is off on this server"))
		return
	}
	version, err := versionOf(r)
	if err != nil {
		fail(w, err)
		return
	}
	p, v, err := s.cache.get(r.Context(), model, version)
	if err != nil {
		fail(w, err)
		return
	}
	resp, jobs, err := s.vectors.report(v.Digest, p.t.Artifact())
	if err != nil {
		fail(w, err)
		return
	}
	s.vectors.comparePairs(r.Context(), jobs, pairBudget(s.cfg.WriteTimeout))
	resp.Model, resp.Version, resp.ArtifactDigest = model, v.Version, v.Digest
	writeJSON(w, http.StatusOK, resp)
}

// report judges every producer's open window and adds each producer's
// previous window, under vw.mu; the pairs of producers with vectors in
// the open window are returned to be compared after it (comparePairs),
// on copies of their samples, so that no observation waits on the
// comparisons (attack run 36 F10: 120 pairs took 90 s, under the lock).
func (vw *vectorWindows) report(digest string, a *artifact.Artifact) (*vectorsResponse, []pairJob, error) {
	vw.mu.Lock()
	defer vw.mu.Unlock()
	if err := vw.roll(); err != nil {
		return nil, nil, err
	}
	_, start, end := vw.clock()
	resp := &vectorsResponse{Window: vectorSpan{start, end}, Columns: []vectorColumnReport{}}
	var jobs []pairJob
	for ci, e := range a.Embeddings {
		col := vectorColumnReport{Column: e.Column, Producers: []vectorProducerReport{}, Pairs: []vectorPairReport{},
			RefusedProducers: []vectorRefusedReport{}}
		var names []string
		for k := range vw.m {
			if k.digest == digest && k.column == e.Column {
				names = append(names, k.producer)
			}
		}
		sort.Strings(names)
		var open []string // the producers with vectors in the open window
		for _, n := range names {
			key := vectorKey{digest, e.Column, n}
			p := vw.m[key]
			rep := vectorProducerReport{Producer: n, Verdicts: []embed.Finding{}, Previous: closedReport(p.prev),
				Refused: vw.refusedCopy(key)}
			if p.cur == nil {
				rep.Dim = p.prev.Dim
			} else {
				open = append(open, n)
				now, err := p.cur.close()
				if err != nil {
					return nil, nil, fmt.Errorf("vectors: column %q, producer %q: %w", e.Column, n, err)
				}
				rep.Rows, rep.Missing, rep.Dim, rep.Norms, rep.Verdicts = now.Rows, now.Missing, now.Dim, reportNorms(now.Norms), now.Verdicts
			}
			col.Producers = append(col.Producers, rep)
		}
		for k := range vw.refused {
			if k.digest == digest && k.column == e.Column && vw.m[k] == nil {
				col.RefusedProducers = append(col.RefusedProducers, vectorRefusedReport{Producer: k.producer, Refused: vw.refusedCopy(k)})
			}
		}
		sort.Slice(col.RefusedProducers, func(i, j int) bool { return col.RefusedProducers[i].Producer < col.RefusedProducers[j].Producer })
		for i := range open {
			for j := i + 1; j < len(open); j++ {
				pa, pb := vw.m[vectorKey{digest, e.Column, open[i]}].cur, vw.m[vectorKey{digest, e.Column, open[j]}].cur
				pair := vectorPairReport{A: open[i], B: open[j]}
				switch {
				case pa.dim != pb.dim:
					pair.Skipped = fmt.Sprintf("dimensions differ (%d and %d): the producers use different models", pa.dim, pb.dim)
				case len(pa.sample) < 2 || len(pb.sample) < 2:
					pair.Skipped = "each producer needs at least 2 vectors"
				default:
					jobs = append(jobs, vw.pairJob(digest, e.Column, open[i], open[j], pa, pb, &resp.Columns, ci, len(col.Pairs)))
				}
				col.Pairs = append(col.Pairs, pair)
			}
		}
		resp.Columns = append(resp.Columns, col)
	}
	vw.prunePairs()
	return resp, jobs, nil
}

// pairDrift is embed.Drift of the samples of producers a and b, or why
// they cannot be compared. A sample holding a vector too large to compare
// (squared norm past embed.MaxSquaredNorm, reported in the producer's
// nan_vectors finding) gives no verdict, as the CLI's drift refuses it:
// scaled down by a power of two to fit, one vector of 1e308 values
// pushed every other vector below float64's range and a clear drift read
// as none (attack run 8, F9).
func pairDrift(a, b string, sa, sb [][]float64, dim int) (*embed.DriftResult, string) {
	for _, p := range []struct {
		name string
		vs   [][]float64
	}{{a, sa}, {b, sb}} {
		n := 0
		for _, v := range p.vs {
			ss := 0.0
			for _, x := range v {
				ss += x * x
			}
			if !(ss <= embed.MaxSquaredNorm) {
				n++
			}
		}
		if n > 0 {
			return nil, fmt.Sprintf("values too large to compare: %d of producer %q's %d sampled vectors have a squared norm past %.4g (its nan_vectors finding names them), where distances between vectors overflow float64; rescale them", n, p.name, len(p.vs), embed.MaxSquaredNorm)
		}
	}
	res, err := embed.Drift(matrixOf(sa, dim), matrixOf(sb, dim), embed.DriftOptions{})
	if err != nil {
		return nil, err.Error()
	}
	return &res, ""
}

// matrixOf packs vectors into a Matrix.
func matrixOf(vs [][]float64, dim int) embed.Matrix {
	data := make([]float64, 0, len(vs)*dim)
	for _, v := range slices.Clip(vs) {
		data = append(data, v...)
	}
	return embed.Matrix{Rows: len(vs), Dim: dim, Data: data}
}

// vectorFields maps each vector column of a to the indexes, among fields,
// of its dimension columns, for rowsBody: a row may send {"emb": [...]}
// where the artifact reads emb_0 .. emb_{d-1}.
func vectorFields(a *artifact.Artifact, fields []table.Field) map[string][]int {
	if len(a.Embeddings) == 0 {
		return nil
	}
	at := make(map[string]int, len(fields))
	for j, f := range fields {
		at[f.Name] = j
	}
	out := map[string][]int{}
	for _, e := range a.Embeddings {
		idx := make([]int, len(e.Columns))
		ok := true
		for k, c := range e.Columns {
			idx[k], ok = at[c]
			if !ok {
				break
			}
		}
		if ok {
			out[e.Column] = idx
		}
	}
	return out
}

// vector reads a vector column's value, an array of numbers or null, into
// its dimension columns (dims indexes the fields).
func (d *rowsBody) vector(name string, dims []int) error {
	d.space()
	i := d.row
	if d.pos < len(d.buf) && d.buf[d.pos] == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		for _, j := range dims {
			d.cols[j].Num[i] = math.NaN()
			d.seen[j] = d.row + 1
		}
		return nil
	}
	if err := d.expect('['); err != nil {
		return d.rowErr(name, fmt.Sprintf("a vector column takes an array of %d numbers or null", len(dims)))
	}
	k := 0
	if d.peekIs(']') {
		d.pos++
	} else {
		for {
			d.space()
			lit, err := d.number()
			if err != nil {
				return d.rowErr(name, fmt.Sprintf("element %d of the vector is not a number", k))
			}
			x, err := strconv.ParseFloat(string(lit), 64)
			if err != nil || math.IsInf(x, 0) {
				return d.rowErr(name, fmt.Sprintf("element %d: %s is out of the float64 range", k, lit))
			}
			if k < len(dims) {
				d.cols[dims[k]].Num[i] = x
			}
			k++
			more, err := d.next(']')
			if err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	if k != len(dims) {
		return d.rowErr(name, fmt.Sprintf("the vector has %d values, the artifact's contract %d", k, len(dims)))
	}
	for _, j := range dims {
		d.seen[j] = d.row + 1
	}
	return nil
}
