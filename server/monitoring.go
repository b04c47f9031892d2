package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// stageOf reads ?stage=input|output (default input: the raw features the
// artifact reads; output: the normalized features a model is fed).
func stageOf(r *http.Request) (monitor.Stage, error) {
	qs := r.URL.Query()
	if _, given := qs["stage"]; !given {
		return monitor.StageInput, nil
	}
	switch q := qs.Get("stage"); q { // given empty ("?stage="), it names no stage
	case "input":
		return monitor.StageInput, nil
	case "output":
		return monitor.StageOutput, nil
	default:
		return "", &apiError{http.StatusBadRequest, "bad_query", fmt.Sprintf("query parameter stage=%s: stage must be input or output", errtext.Quote(q))}
	}
}

// versionOf reads ?version=V ("" when not given: the current version); a
// version given empty names none.
func versionOf(r *http.Request) (string, error) {
	q := r.URL.Query()
	if v, given := q["version"]; given && v[0] == "" {
		return "", &apiError{http.StatusBadRequest, "bad_query", "query parameter version is empty: name a version (?version=v1), or leave it out for the current one"}
	}
	return q.Get("version"), nil
}

// modelStage reads the {name} path value (validated: the monitor keys its
// state by it) and ?stage, and checks that monitoring is on.
func (s *Server) modelStage(r *http.Request) (string, monitor.Stage, error) {
	model := r.PathValue("name")
	if err := registry.ValidName(model); err != nil {
		return "", "", &apiError{http.StatusBadRequest, "invalid_name", err.Error()}
	}
	if s.cfg.Monitor == nil {
		return "", "", notFound("monitoring is off on this server")
	}
	stage, err := stageOf(r)
	return model, stage, err
}

// observationsResponse acknowledges rows that are on disk.
type observationsResponse struct {
	Model          string `json:"model"`
	Version        string `json:"version"`
	ArtifactDigest string `json:"artifact_digest"`
	Stage          string `json:"stage"`
	Accepted       int    `json:"accepted"`
	// IgnoredKeys lists (the first 20, sorted) keys of the rows that name
	// no feature of the stage: not monitored, which a misspelt feature
	// would otherwise show only as missing (attack run 27 note).
	IgnoredKeys []string `json:"ignored_keys,omitempty"`
}

// ignoredKeys returns the first maxIgnoredKeys of keys, sorted, each cut
// to errtext.MaxQuoted bytes.
func ignoredKeys(keys map[string]bool) []string {
	out := make([]string, 0, min(len(keys), maxIgnoredKeys))
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if len(out) == maxIgnoredKeys {
			out = append(out, fmt.Sprintf("... (%d more)", len(keys)-maxIgnoredKeys))
			break
		}
		if len(k) > errtext.MaxQuoted {
			k = strings.ToValidUTF8(k[:errtext.MaxQuoted], "") + fmt.Sprintf("... (%d bytes)", len(k))
		}
		out = append(out, k)
	}
	return out
}

const maxIgnoredKeys = 20

// handleObservations takes rows another system fed its model. They are
// matched to the artifact's input features (?stage=input, the default) or
// its output features (?stage=output) by name; a feature absent from a row
// counts as missing. The answer comes only once the rows are durable.
func (s *Server) handleObservations(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	model := r.PathValue("name")
	status, version, err := s.observations(w, r)
	if err != nil {
		status = fail(w, err)
	}
	s.metrics.observe("observations", model, version, status, time.Since(start))
}

func (s *Server) observations(w http.ResponseWriter, r *http.Request) (int, string, error) {
	if q := r.URL.Query(); q.Has("producer") {
		if q.Has("stage") {
			return 0, "", &apiError{http.StatusBadRequest, "bad_query", "query parameters producer and stage together: vectors (?producer=) have no stage; drop one"}
		}
		return s.vectorObservations(w, r)
	}
	model, stage, err := s.modelStage(r)
	if err != nil {
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
	t := p.t
	data, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return 0, v.Version, err
	}
	fields := t.Inputs()
	if stage == monitor.StageOutput {
		fields = t.Outputs()
	}
	features := len(fields)
	if tc := s.cfg.Monitor.TimeColumn(); tc != "" && !slices.ContainsFunc(fields, func(f table.Field) bool { return f.Name == tc }) {
		// The event time is read whether or not the artifact reads the
		// column (it was dropped with the other columns, and every row
		// refused for lacking it).
		fields = append(slices.Clip(fields), table.Field{Name: tc, Kind: table.String})
	}
	dec := newRowsBody(fields, true, s.cfg.MaxRows)
	dec.extra = map[string]bool{}
	if len(fields) > features {
		dec.eventTime = len(fields)
	}
	cols, n, err := dec.decode(data)
	if err != nil {
		return 0, v.Version, err
	}
	// A vector sent without its producer would be dropped unseen: refuse it,
	// whether or not the rows also hold other features.
	for _, e := range t.Artifact().Embeddings {
		if dec.extra[e.Column] {
			return 0, v.Version, badRequest("%q is a vector column of %s@%s: vector observations name their producer, "+
				"POST .../observations?producer=NAME (the component that produced the vectors, e.g. ?producer=writer)",
				e.Column, model, v.Version)
		}
	}
	// So would a vector sent as its dimension columns (emb_0, emb_1, ...):
	// the monitor judges a vector column through its contract only, from
	// vector observations (attack run 21: such rows were acknowledged and
	// judged nowhere).
	if err := vectorDimsInFeatures(fields[:features], cols, n, t.Artifact(), model, v.Version); err != nil {
		return 0, v.Version, err
	}
	if n > 0 && len(dec.extra) > 0 && allAbsent(cols[:features], n) {
		return 0, v.Version, badRequest("no column of the rows is a %s feature of %s@%s (got e.g. %q): check the names, or ?stage=",
			stage, model, v.Version, firstKey(dec.extra))
	}
	if err := s.cfg.Monitor.Observe(r.Context(), model, t.Artifact(), stage, cols, n); err != nil {
		if errors.Is(err, monitor.ErrInvalid) {
			return 0, v.Version, badRequest("%v", err)
		}
		if errors.Is(err, monitor.ErrBudget) {
			return 0, v.Version, &apiError{http.StatusTooManyRequests, "over_budget", err.Error()}
		}
		if errors.Is(err, monitor.ErrNotSaved) {
			// As the vector journal answers: the rows are not counted,
			// and the next request tries the state file again.
			return 0, v.Version, &apiError{http.StatusInternalServerError, "state_not_saved", fmt.Sprintf(
				"the observations were not counted: the monitor state could not be saved: %v (free space or fix the state file's folder, then send them again; /healthz says while it lasts)", err)}
		}
		return 0, v.Version, &apiError{http.StatusServiceUnavailable, "unavailable", "storing the observations: " + err.Error()}
	}
	s.metrics.addRows("observations", model, v.Version, n)
	writeJSON(w, http.StatusOK, observationsResponse{
		Model: model, Version: v.Version, ArtifactDigest: v.Digest, Stage: string(stage), Accepted: n, IgnoredKeys: ignoredKeys(dec.extra),
	})
	return http.StatusOK, v.Version, nil
}

// vectorDimsInFeatures refuses feature rows holding a value in a vector
// column's dimension column, naming the vector column and how to send it.
func vectorDimsInFeatures(fields []table.Field, cols []table.Column, n int, a *artifact.Artifact, model, version string) error {
	owner := map[string]string{}
	for col, dims := range a.VectorColumns() {
		for _, d := range dims {
			owner[d] = col
		}
	}
	if len(owner) == 0 {
		return nil
	}
	for j, f := range fields {
		col, ok := owner[f.Name]
		if !ok {
			continue
		}
		for i := 0; i < n; i++ {
			if !cols[j].IsMissing(i) {
				return badRequest("row %d: %q is a dimension column of the vector column %q of %s@%s: a vector is observed whole, "+
					"as an array {%q: [numbers]} in a request to .../observations?producer=NAME (the component that produced it); "+
					"send the other features without it (nothing of this request was counted)", i+1, f.Name, col, model, version, col)
			}
		}
	}
	return nil
}

// noObservations is the error of a /drift without rows to judge: the
// registry's answer when it holds no such model (a misspelt name read as
// "wait": attack run 22), else that no rows came yet (where, said).
func (s *Server) noObservations(ctx context.Context, model string, stage monitor.Stage, where string) error {
	if _, _, err := s.cache.get(ctx, model, ""); errors.Is(err, registry.ErrNotFound) {
		return err
	}
	return notFound("no %s observations of model %q %s", stage, model, where)
}

func allAbsent(cols []table.Column, n int) bool {
	for j := range cols {
		for i := 0; i < n; i++ {
			if !cols[j].IsMissing(i) {
				return false
			}
		}
	}
	return true
}

func firstKey(m map[string]bool) string {
	best := ""
	for k := range m {
		if best == "" || k < best {
			best = k
		}
	}
	return best
}

// driftResponse is the drift JSON of interface.md plus the window it
// covers and, with ?plots=1, both distributions of every feature.
type driftResponse struct {
	*drift.Report
	Model  string         `json:"model"`
	Stage  string         `json:"stage"`
	Window monitor.Window `json:"window"`
	// Anomalies are the window's data anomalies, by the rules and in the
	// shape of `normguard validate`'s JSON.
	Anomalies []validate.Anomaly  `json:"anomalies"`
	Plots     map[string]plotJSON `json:"plots,omitempty"`
	// Training holds each feature's rates in the training data, from the
	// profile of the model's current artifact, to set beside the window's.
	Training map[string]trainingRates `json:"training,omitempty"`
	// VectorColumns names the artifact's vector columns, which this
	// report leaves out, and where they are judged.
	VectorColumns []vectorNote `json:"vector_columns,omitempty"`
	// Note says why the report counts fewer rows than the window, when an
	// artifact made current mid-window judges only the rows since.
	Note string `json:"note,omitempty"`
}

// unprofiledNote says, for a window part of whose rows an earlier
// artifact judged (the model's version changed mid-window), that the
// report leaves them out and why (attack run 22 note: current_count was
// half the window's rows without a word).
func unprofiledNote(w monitor.Window) string {
	note := ""
	if len(w.Restarted) > 0 {
		// A version that profiles some features as the one before
		// keeps their summaries and starts the others' again.
		parts := make([]string, len(w.Restarted))
		for i, f := range w.Restarted {
			parts[i] = fmt.Sprintf("%s on %d", f.Name, f.Rows)
		}
		note = fmt.Sprintf("the drift summaries of %d feature(s) started again when an artifact that profiles them differently was made current mid-window, so this report judges them on the rows since only (%s of the window's %d rows the features count), and the anomalies judge them on the window's counts only (rows, missing, out of range, unseen), not on the values of the rows since; the earlier rows were judged only by evaluations that ran before the change",
			len(w.Restarted), strings.Join(parts, ", "), w.Rows-w.Unprofiled)
	}
	if w.Unprofiled <= 0 {
		return note
	}
	if note != "" {
		note = "; " + note
	}
	return fmt.Sprintf("%d of the window's %d rows came before the model's current artifact was made current mid-window (a version pushed or made current): "+
		"a window's drift summaries start again with a new artifact, so this report covers the %d rows since; the earlier rows were judged only by evaluations that ran before the change", w.Unprofiled, w.Rows, w.Rows-w.Unprofiled) + note
}

// vectorNote says where a vector column is judged: never dimension by
// dimension here, but whole, per producer, at .../vectors (attack run
// 22: /drift said nothing of a vector column, and the vectors of
// /transform requests were judged nowhere without a word).
type vectorNote struct {
	Column  string `json:"column"`
	JudgeAt string `json:"judged_at"`
	Note    string `json:"note"`
}

// vectorNotes lists a's vector columns with where they are judged.
func vectorNotes(a *artifact.Artifact, model string) []vectorNote {
	var out []vectorNote
	for _, e := range a.Embeddings {
		out = append(out, vectorNote{Column: e.Column, JudgeAt: "/v1/models/" + model + "/vectors",
			Note: "a vector column is judged whole against its contract, per producer, from POST .../observations?producer=NAME; " +
				"the vectors of /transform requests are not monitored: post them there too (e.g. ?producer=serving) to judge them"})
	}
	return out
}

// trainingRates are a feature's rates in the training data: missing is
// the profile's Missing/(Count+Missing); out of range is 0 by
// construction (the range is the training data's).
type trainingRates struct {
	MissingRate    float64 `json:"missing_rate"`
	OutOfRangeRate float64 `json:"out_of_range_rate"`
}

// plotJSON is a drift.Plot as /drift?plots=1 writes it. drift computes
// finite edges and shares; should a number still not be finite it is
// written as null (plotFloats) rather than failing the whole answer, as
// encoding/json would on NaN or ±Inf.
type plotJSON struct {
	Edges  plotFloats `json:"edges,omitempty"`
	Labels []string   `json:"labels,omitempty"`
	Ref    plotFloats `json:"ref"`
	Cur    plotFloats `json:"cur"`
}

// plotFloats are numbers of a plot: encoding/json's numbers, with null
// for NaN and ±Inf (as drift.JSONFloat writes them).
type plotFloats []float64

// MarshalJSON implements json.Marshaler.
func (xs plotFloats) MarshalJSON() ([]byte, error) {
	if xs == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+8*len(xs))
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		n, err := json.Marshal(drift.JSONFloat(x))
		if err != nil {
			return nil, err
		}
		b = append(b, n...)
	}
	return append(b, ']'), nil
}

func (s *Server) handleDrift(w http.ResponseWriter, r *http.Request) {
	model, stage, err := s.modelStage(r)
	if err != nil {
		fail(w, err)
		return
	}
	plots, err := flag(r, "plots")
	if err != nil {
		fail(w, err)
		return
	}
	rep, win, err := s.cfg.Monitor.Drift(model, stage)
	if err != nil {
		if errors.Is(err, monitor.ErrNoObservations) {
			fail(w, s.noObservations(r.Context(), model, stage, "in the open window yet"))
			return
		}
		if errors.Is(err, monitor.ErrUnjudged) {
			// Rows the window holds but cannot judge: not "no
			// observations" (attack runs 30 F5, 31 F6).
			fail(w, &apiError{http.StatusConflict, "unjudged", err.Error()})
			return
		}
		fail(w, err)
		return
	}
	resp := driftResponse{Report: rep, Model: model, Stage: string(stage), Window: win, Anomalies: win.Anomalies, Note: unprofiledNote(win)}
	if resp.Anomalies == nil {
		resp.Anomalies = []validate.Anomaly{}
	}
	if p, _, err := s.cache.get(r.Context(), model, ""); err == nil {
		resp.Training = trainingOf(p.t.Artifact(), stage)
		resp.VectorColumns = vectorNotes(p.t.Artifact(), model)
	}
	if plots {
		resp.Plots = map[string]plotJSON{}
		for _, f := range rep.Features {
			if p := f.Plot; p != nil {
				resp.Plots[f.Name] = plotJSON{Edges: p.Edges, Labels: p.Labels, Ref: finite(p.Ref), Cur: finite(p.Cur)}
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// finite replaces NaN proportions (an empty sample) by 0.
func finite(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		if x == x {
			out[i] = x
		}
	}
	return out
}

type historyResponse struct {
	Model   string                  `json:"model"`
	Stage   string                  `json:"stage"`
	Windows []monitor.WindowSummary `json:"windows"`
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	model, stage, err := s.modelStage(r)
	if err != nil {
		fail(w, err)
		return
	}
	ws := s.cfg.Monitor.History(model, stage)
	if ws == nil {
		ws = []monitor.WindowSummary{}
	}
	writeJSON(w, http.StatusOK, historyResponse{Model: model, Stage: string(stage), Windows: ws})
}
