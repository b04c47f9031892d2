package monitor

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/validate"
)

// DriftOptions returns the drift options the monitor judges with.
func (m *Monitor) DriftOptions() drift.Options { return m.opt.Drift }

// ExportFormat is the version of the Export JSON: 2 adds the windows'
// source offsets (ExportWindow.Offsets). An export none of whose windows
// carry offsets is written as format 1, which a normguard from before
// offsets reads whole; one that carries them is format 2, which such a
// normguard refuses rather than merging without the overlap check.
const ExportFormat = 2

// exportFormatV1 is the format of exports without offsets.
const exportFormatV1 = 1

// Export is the window state of one or more monitors (replicas) in a form
// that merges exactly: per model, stage and window, each feature's counts
// and drift.Summary. Merging the exports of replicas that each observed
// part of the rows gives what one monitor fed every row holds.
type Export struct {
	Format int `json:"format"`
	// Digest is "sha256:" and the hex SHA-256 of the export's canonical
	// content (exportDigest), set whenever an Export is encoded
	// (MarshalJSON) and verified by ReadExport, so damaged bytes are
	// refused rather than merged. Exports written before digests have
	// none: ReadExport accepts them (the format did not change), and
	// Check still refuses any whose content is inconsistent.
	Digest string `json:"digest,omitempty"`
	// Bins is the binned methods' bins the summaries were made for.
	Bins    int            `json:"bins"`
	Windows []ExportWindow `json:"windows"`
	// Skipped lists windows with rows left out, and why: closed windows
	// whose state was not kept (ExportHistory), windows of a model whose
	// reference the state file lost (none re-attached).
	Skipped []SkippedWindow `json:"skipped,omitempty"`
	// Store is the identity of the monitoring store (Monitor.StoreID: the
	// state file's random id, kept in it since its creation) whose windows
	// the export holds. A service answering window-state names it (with
	// Instance, server/peers.go); merging refuses two exports of the same
	// store (CheckDuplicates): the rows of the windows both hold would
	// count twice. Monitor.Export, ExportHistory (monitor export) and a
	// merge (MergeExports, which holds several stores' windows) name
	// none, so that the merge of replicas' exports is the very export of
	// one store fed every row; CheckDuplicates then compares content.
	Store string `json:"store,omitempty"`
	// Instance is set by a service answering window-state for its peers:
	// a random id of its process (server/peers.go), so that a service
	// listed among its own peers knows its own answer (the same Store and
	// Instance) from another process's copy of its state file (the same
	// Store only).
	Instance string `json:"instance,omitempty"`
	// Name says where the export came from (a file, a peer's URL) in the
	// messages of a merge; it is not written.
	Name string `json:"-"`
}

// exportPlain is an Export without its methods (MarshalJSON).
type exportPlain Export

// MarshalJSON encodes the export with its digest (Export.Digest) over its
// content as it is encoded.
func (ex Export) MarshalJSON() ([]byte, error) {
	p := exportPlain(ex)
	// What a reader hashes is its decoded content encoded again: do the
	// same, so content the encoding changes on the way (text that is not
	// UTF-8, times in a zone) hashes alike on both sides.
	d, err := hashExport(p, true)
	if err != nil {
		return nil, err
	}
	p.Digest = d
	return json.Marshal(p)
}

// WriteJSON writes the export as json.MarshalIndent(ex, "", "  ") writes
// it (with its digest), followed by a newline, one window at a time: the
// encoding is never held whole (json.MarshalIndent of a 121 MB export
// took 1.4 GB).
func (ex Export) WriteJSON(w io.Writer) error {
	p := exportPlain(ex)
	d, err := hashExport(p, true)
	if err != nil {
		return err
	}
	p.Digest = d
	ws := p.Windows
	if ws != nil {
		p.Windows = []ExportWindow{}
	}
	compact, err := json.Marshal(p)
	if err != nil {
		return err
	}
	var head bytes.Buffer
	if err := json.Indent(&head, compact, "", "  "); err != nil {
		return err
	}
	hb := head.Bytes()
	if len(ws) == 0 {
		_, err := w.Write(append(hb, '\n'))
		return err
	}
	// The first "windows" in the encoding is the field's: the fields
	// before it are numbers and the digest's hex.
	mark := []byte(`"windows": []`)
	i := bytes.Index(hb, mark)
	if i < 0 {
		return fmt.Errorf("monitor: an export encodes without its windows list")
	}
	bw := bufio.NewWriter(w)
	bw.Write(hb[:i+len(mark)-1])
	var buf bytes.Buffer
	for k := range ws {
		b, err := json.Marshal(&ws[k])
		if err != nil {
			return err
		}
		buf.Reset()
		if k > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := json.Indent(&buf, b, "    ", "  "); err != nil {
			return err
		}
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	bw.WriteString("\n  ]")
	bw.Write(hb[i+len(mark):])
	bw.WriteByte('\n')
	return bw.Flush()
}

// exportDigest returns the digest of an export's content: the SHA-256 of
// its JSON encoding without the digest (encoding/json writes a struct's
// fields in order, so equal content encodes to equal bytes).
func exportDigest(p exportPlain) (string, error) { return hashExport(p, false) }

// hashExport returns exportDigest(p), or with roundTrip the digest of p
// encoded, decoded and encoded again (what a reader hashes). It hashes
// the encoding window by window, as encoding/json writes it whole (the
// export without its windows, with "windows":[ w0,w1,... ] in place of
// its empty list): an export's encoding is never held whole, which took
// twice the export's size at each merge (attack run 8 F3).
func hashExport(p exportPlain, roundTrip bool) (string, error) {
	p.Digest = ""
	ws := p.Windows
	if ws != nil {
		p.Windows = []ExportWindow{}
	}
	head, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	if roundTrip {
		var back exportPlain
		if err := json.Unmarshal(head, &back); err != nil {
			return "", fmt.Errorf("monitor: an export does not decode as it was encoded: %w", err)
		}
		if head, err = json.Marshal(back); err != nil {
			return "", err
		}
	}
	h := sha256.New()
	rest := head
	if ws != nil {
		// The first "windows" in the encoding is the field's: the
		// fields before it (format, bins) are numbers.
		mark := []byte(`"windows":[`)
		i := bytes.Index(head, mark)
		if i < 0 || !bytes.HasPrefix(head[i+len(mark):], []byte("]")) {
			return "", fmt.Errorf("monitor: an export encodes without its windows list")
		}
		h.Write(head[:i+len(mark)])
		rest = head[i+len(mark):]
		for k := range ws {
			b, err := json.Marshal(&ws[k])
			if err != nil {
				return "", err
			}
			if roundTrip {
				var back ExportWindow
				if err := json.Unmarshal(b, &back); err != nil {
					return "", fmt.Errorf("monitor: an export does not decode as it was encoded: %w", err)
				}
				if b, err = json.Marshal(&back); err != nil {
					return "", err
				}
			}
			if k > 0 {
				h.Write([]byte{','})
			}
			h.Write(b)
		}
	}
	h.Write(rest)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// setFormat sets ex.Format: 2 when a window carries offsets, else 1.
func (ex *Export) setFormat() {
	ex.Format = exportFormatV1
	for _, w := range ex.Windows {
		if len(w.Offsets) > 0 {
			ex.Format = ExportFormat
			return
		}
	}
}

// ExportWindow is one window of an Export.
type ExportWindow struct {
	Model          string    `json:"model"`
	Stage          Stage     `json:"stage"`
	ArtifactDigest string    `json:"artifact_digest"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	Rows           int64     `json:"rows"`
	// Unprofiled is Rows minus the most rows one of Features counts: the
	// rows even that feature did not count. A monitor counts each row of
	// a window in every feature of the artifact it judges the row with,
	// so Unprofiled is 0 (left out) unless the model's artifact changed
	// mid-window to one profiling none of the earlier features (the rows
	// judged before count in none of those exported), or the stage
	// profiles no feature. Check refuses a window whose Rows is not its
	// features' most plus Unprofiled: rows inflated or deflated.
	Unprofiled int64           `json:"unprofiled_rows,omitempty"`
	Features   []ExportFeature `json:"features"`
	// Offsets are, per source partition, the offsets of the records the
	// window's rows were read from (rows consumed from Kafka; none for
	// rows posted over HTTP). Merging refuses exports whose windows read
	// the same records (CheckOverlaps).
	Offsets []PartitionRanges `json:"offsets,omitempty"`
}

// ExportFeature is one feature of an ExportWindow: the monitor's counts
// and the drift summary (drift.Summary.MarshalBinary, base64 in JSON).
type ExportFeature struct {
	Name       string `json:"name"`
	Numeric    bool   `json:"numeric"`
	Rows       int64  `json:"rows"`
	Missing    int64  `json:"missing"`
	OutOfRange int64  `json:"out_of_range"`
	Unseen     int64  `json:"unseen"`
	Summary    []byte `json:"summary"`
}

// ErrNotExportable is wrapped when a window cannot be exported exactly:
// some feature holds rows without a summary (state written before
// summaries).
var ErrNotExportable = errors.New("window state cannot be exported exactly")

// Export returns the windows the monitor holds in memory (the open one
// and closed ones awaiting their final verdict) of model ("" for every
// model), with their summaries against the model's latest artifact.
func (m *Monitor) Export(model string) (*Export, error) {
	bins := m.opt.Drift.Bins
	if bins <= 0 {
		bins = drift.DefaultBins
	}
	ex := &Export{Format: ExportFormat, Bins: bins, Windows: []ExportWindow{}}
	for _, ss := range m.stageStates() {
		if model != "" && ss.model != model {
			continue
		}
		ss.mu.Lock()
		err := ss.export(ex, m.opt.Drift, m.noReference)
		ss.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	ex.setFormat()
	return ex, nil
}

// StoreID returns the identity of the monitor's store (its state file's
// random id, given at creation and kept in it), which a service names in
// its window-state answers (Export.Store).
func (m *Monitor) StoreID() string { return m.storeID() }

// ExportHistory returns what Export returns and, before it, the closed
// windows of the history (up to Options.History per model and stage)
// whose state was kept (windows closed by this normguard); the closed
// windows without it are listed in Export.Skipped. Each window carries
// the digest of the artifact it was summarized against.
func (m *Monitor) ExportHistory(model string) (*Export, error) {
	ex, err := m.Export(model)
	if err != nil {
		return nil, err
	}
	open := ex.Windows
	ex.Windows = []ExportWindow{}
	for _, ss := range m.stageStates() {
		if model != "" && ss.model != model {
			continue
		}
		ss.mu.Lock()
		for _, h := range ss.history {
			switch {
			case h.State != nil:
				ew, err := ss.completeHistory(*h.State, m.opt.Drift)
				if err != nil {
					ss.mu.Unlock()
					return nil, err
				}
				ex.Windows = append(ex.Windows, ew)
			case h.Rows > 0:
				ex.Skipped = append(ex.Skipped, SkippedWindow{Model: ss.model, Stage: ss.stage, Start: h.Start, End: h.End, Rows: h.Rows,
					Reason: "its state was not kept: closed before normguard kept closed windows' state, or holding rows from before summaries"})
			}
		}
		ss.mu.Unlock()
	}
	ex.Windows = append(ex.Windows, open...)
	ex.setFormat()
	return ex, nil
}

// SkippedWindow is a window with rows that an export leaves out, and why.
type SkippedWindow struct {
	Model  string    `json:"model"`
	Stage  Stage     `json:"stage"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Rows   int64     `json:"rows"`
	Reason string    `json:"reason"`
}

// export appends the stage's windows to ex. Without a reference (the
// state file lost it, none re-attached) its windows with rows are listed
// in ex.Skipped, why given by noRef. ss.mu is held.
func (ss *stageState) export(ex *Export, o drift.Options, noRef func(model string) string) error {
	if ss.ref == nil {
		for _, w := range ss.windows {
			if w.rows > 0 {
				ex.Skipped = append(ex.Skipped, SkippedWindow{Model: ss.model, Stage: ss.stage, Start: unixTime(w.start), End: unixTime(w.end), Rows: w.rows,
					Reason: noRef(ss.model) + ": its summaries cannot be exported without the profile they are made against; " +
						"serve with the model's registry re-attaches it at start, or the model's next row does"})
			}
		}
		return nil
	}
	plans := ss.ref.stages[ss.stage.index()].summaryPlans(o)
	for _, w := range ss.windows {
		if w.rows == 0 {
			continue
		}
		ew, err := ss.exportWindow(w, plans)
		if err != nil {
			return err
		}
		ex.Windows = append(ex.Windows, *ew)
	}
	return nil
}

// exportWindow returns a window's state against the stage's latest
// reference (plans are its summary plans). ss.mu is held.
func (ss *stageState) exportWindow(w *window, plans []*drift.SummaryPlan) (*ExportWindow, error) {
	rs := &ss.ref.stages[ss.stage.index()]
	ew := &ExportWindow{Model: ss.model, Stage: ss.stage, ArtifactDigest: ss.ref.digest,
		Start: unixTime(w.start), End: unixTime(w.end), Rows: w.rows, Offsets: cloneRanges(w.offsets)}
	for i, rf := range rs.features {
		fs := w.byName[rf.name]
		if fs == nil || fs.numeric != rf.numeric {
			// No row of the window reached the feature (the artifact
			// that profiles it, or profiles it as this kind, came
			// mid-window, and no row since): listed with 0 rows and no
			// values, as the monitor judges it, so that every feature of
			// the artifact is in the export (Check refuses a window
			// without one: a feature dropped from an export).
			zf, err := zeroFeature(rf, plans[i])
			if err != nil {
				return nil, err
			}
			ew.Features = append(ew.Features, zf)
			continue
		}
		s := fs.summaryFor(plans[i])
		if fs.partial || s == nil {
			return nil, fmt.Errorf("monitor: export model %q stage %s window %s feature %q: %w (it holds rows counted without a summary: rows from before normguard kept summaries, or rows kept while the state file held no reference of the model); export after the window closes",
				ss.model, ss.stage, unixTime(w.start).Format(time.RFC3339), rf.name, ErrNotExportable)
		}
		b, err := s.MarshalBinary()
		if err != nil {
			return nil, err
		}
		ew.Features = append(ew.Features, ExportFeature{Name: rf.name, Numeric: rf.numeric, Rows: fs.rows, Missing: fs.missing,
			OutOfRange: fs.oor, Unseen: fs.unseen, Summary: b})
	}
	ew.Unprofiled = ew.Rows - mostRows(ew.Features)
	return ew, nil
}

// zeroFeature is the export of feature rf that no row of a window reached:
// 0 rows and the empty summary of its plan pl.
func zeroFeature(rf refFeature, pl *drift.SummaryPlan) (ExportFeature, error) {
	if pl == nil {
		return ExportFeature{}, fmt.Errorf("monitor: export feature %q: no summary plan", rf.name)
	}
	b, err := pl.NewSummary().MarshalBinary()
	if err != nil {
		return ExportFeature{}, err
	}
	return ExportFeature{Name: rf.name, Numeric: rf.numeric, Summary: b}, nil
}

// mostRows returns the most rows a feature of fs counts (0 for none).
func mostRows(fs []ExportFeature) int64 {
	var most int64
	for _, f := range fs {
		most = max(most, f.Rows)
	}
	return most
}

// completeHistory returns a closed window's kept state as this normguard
// exports it: a state kept by an older normguard may leave out the
// features no row of the window reached (listed here with 0 rows when
// the window was judged with the stage's latest artifact, whose profile
// the monitor holds) and carries no Unprofiled (set here: the store is
// the monitor's own, its counts are what it counted). The kept state is
// not changed. ss.mu is held.
func (ss *stageState) completeHistory(ew ExportWindow, o drift.Options) (ExportWindow, error) {
	if ss.ref != nil && ss.ref.digest == ew.ArtifactDigest {
		rs := &ss.ref.stages[ss.stage.index()]
		plans := rs.summaryPlans(o)
		var fs []ExportFeature
		used := make([]bool, len(ew.Features))
		for i, rf := range rs.features {
			j := slices.IndexFunc(ew.Features, func(f ExportFeature) bool { return f.Name == rf.name && f.Numeric == rf.numeric })
			if j >= 0 {
				fs = append(fs, ew.Features[j])
				used[j] = true
				continue
			}
			zf, err := zeroFeature(rf, plans[i])
			if err != nil {
				return ew, err
			}
			fs = append(fs, zf)
		}
		for j, f := range ew.Features {
			if !used[j] {
				fs = append(fs, f) // Check names it
			}
		}
		ew.Features = fs
	}
	if ew.Unprofiled == 0 {
		ew.Unprofiled = max(0, ew.Rows-mostRows(ew.Features))
	}
	return ew, nil
}

// ReadExport decodes an Export written as JSON, refusing another format.
func ReadExport(r io.Reader, name string) (*Export, error) {
	ex, err := decodeExport(r)
	if err != nil {
		return nil, fmt.Errorf("monitor: %s is not a window-state export (normguard monitor export, or GET /v1/models/{name}/window-state): %w", name, err)
	}
	switch {
	case ex.Error != nil:
		return nil, fmt.Errorf("monitor: %s holds a service's error, not a window-state export: %s", name, ex.Error.Message)
	case ex.Format == 0:
		return nil, fmt.Errorf("monitor: %s is not a window-state export (no \"format\"); write one with normguard monitor export or GET /v1/models/{name}/window-state", name)
	case ex.Format < exportFormatV1 || ex.Format > ExportFormat:
		return nil, fmt.Errorf("monitor: %s is window-state export format %d, this normguard reads %d to %d; merge it with the normguard that wrote it", name, ex.Format, exportFormatV1, ExportFormat)
	case ex.Format == exportFormatV1 && slices.ContainsFunc(ex.Windows, func(w ExportWindow) bool { return len(w.Offsets) > 0 }):
		return nil, fmt.Errorf("monitor: %s is window-state export format 1 but carries offsets, which only format %d has; it was edited: export it again", name, ExportFormat)
	}
	// Older exports carry no digest: accepted, their content is checked
	// all the same (check below, and against the artifact by the merge).
	if ex.Digest != "" {
		got, err := exportDigest(exportPlain(ex.Export))
		if err != nil {
			return nil, fmt.Errorf("monitor: %s: %w", name, err)
		}
		if got != ex.Digest {
			return nil, &ExportError{Name: name, Path: "digest", Msg: fmt.Sprintf("%s does not match the content, which hashes to %s", ex.Digest, got)}
		}
	}
	ex.Export.Name = name
	if err := ex.Export.check(nil, 0, nil); err != nil {
		return nil, err
	}
	return &ex.Export, nil
}

// exportAnswer is what ReadExport decodes: an export, or a service's
// error answer saved in place of one.
type exportAnswer struct {
	Export
	// Error is a service's error answer saved in place of an export.
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// decodeExport decodes the first JSON value of r as an exportAnswer, as
// json.Decoder.Decode does, but window by window: the decoder holds one
// window's bytes at a time, not the whole export's (which it held twice
// over while growing its buffer: attack run 8 F3). Keys match the
// fields as encoding/json matches them (exactly, else without regard to
// case); a key given twice keeps its last value; other keys are skipped.
// A value other than an object is decoded whole by json.Decoder (for its
// error, or for null: nothing).
func decodeExport(r io.Reader) (*exportAnswer, error) {
	ex := &exportAnswer{}
	br := bufio.NewReader(r)
	dec := json.NewDecoder(br)
	// The first byte that is not white space.
	for {
		c, err := br.ReadByte()
		if err != nil {
			return nil, err // io.EOF: no value, as json.Decoder says
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if err := br.UnreadByte(); err != nil {
			return nil, err
		}
		if c != '{' {
			if err := dec.Decode(ex); err != nil {
				return nil, err
			}
			return ex, nil
		}
		break
	}
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	type field struct {
		name string
		v    any
	}
	fields := []field{
		{"format", &ex.Format}, {"digest", &ex.Digest}, {"bins", &ex.Bins}, {"windows", nil},
		{"skipped", &ex.Skipped}, {"store", &ex.Store}, {"instance", &ex.Instance}, {"error", &ex.Error},
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		f := slices.IndexFunc(fields, func(f field) bool { return f.name == key })
		if f < 0 {
			f = slices.IndexFunc(fields, func(f field) bool { return strings.EqualFold(f.name, key) })
		}
		switch {
		case f < 0:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		case fields[f].name == "windows":
			ex.Windows, err = decodeWindows(dec)
		default:
			err = dec.Decode(fields[f].v)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, err
	}
	return ex, nil
}

// decodeWindows decodes the value of an export's "windows": null (no
// list, as json.Decoder sets it) or a list of windows, one at a time.
func decodeWindows(dec *json.Decoder) ([]ExportWindow, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case nil:
		return nil, nil
	case json.Delim('['):
	default:
		return nil, fmt.Errorf("json: windows: want a list of windows, got %v", t)
	}
	ws := []ExportWindow{}
	for dec.More() {
		var w ExportWindow
		if err := dec.Decode(&w); err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	if _, err := dec.Token(); err != nil { // ]
		return nil, err
	}
	return ws, nil
}

// MergeExports merges the exports of replicas: windows of the same model,
// stage and start are merged feature by feature (counts added, summaries
// merged exactly, source offsets joined), checked against artifact a
// (every window must have been made with a, and every export with the
// same bins). Exports whose windows read the same source records are
// refused with an *OverlapError (CheckOverlaps): merged, those records
// would be counted twice. The result lists windows by model, stage and
// start.
func MergeExports(a *artifact.Artifact, exports []*Export) (*Export, error) {
	return MergeExportsOf([]*artifact.Artifact{a}, exports)
}

// MergeExportsOf is MergeExports for exports whose windows were made with
// any of the artifacts arts (a history spanning versions of a model): each
// window is checked against the artifact of its digest.
//
// Memory: the summary plans are made once per artifact, stage and bins
// (exportPlans), and the windows are merged one at a time (their counts
// first, in the exports' order, then each window's summaries decoded,
// merged and encoded again), so a merge holds the exports, the merged
// export and one window's decoded summaries.
func MergeExportsOf(arts []*artifact.Artifact, exports []*Export) (*Export, error) {
	if len(exports) == 0 {
		return nil, fmt.Errorf("monitor: merge: no exports given")
	}
	plans := exportPlans{}
	type firstWindow struct{ export, window int }
	modelOf := map[string]firstWindow{} // per digest of an artifact naming its model
	for n, ex := range exports {
		if err := ex.check(arts, n, plans); err != nil {
			return nil, err
		}
		// One artifact's windows are of one model across the exports too
		// (Check: within each).
		for wi, w := range ex.Windows {
			a, err := artifactOf(arts, &w)
			if err != nil || a.Model == nil || a.Model.Name == "" {
				continue // no such artifact: refused below
			}
			f, ok := modelOf[a.Digest]
			if !ok {
				modelOf[a.Digest] = firstWindow{n, wi}
				continue
			}
			if m := exports[f.export].Windows[f.window].Model; m != w.Model {
				// The one named otherwise than the artifact is at fault.
				bn, bw, bm, on, ow, om := n, wi, w.Model, f.export, f.window, m
				if w.Model == a.Model.Name {
					bn, bw, bm, on, ow, om = f.export, f.window, m, n, wi, w.Model
				}
				return nil, &ExportError{Name: exportName(exports[bn], bn), Path: fmt.Sprintf("windows[%d].model", bw),
					Msg: fmt.Sprintf("%q, but %s windows[%d], judged with the same artifact %s (fitted for model %q version %q), is of model %q: one artifact's windows are of one model (the registry keeps an artifact that names its model under that name only)",
						bm, exportName(exports[on], on), ow, a.Digest, a.Model.Name, a.Model.Version, om)}
			}
		}
	}
	if err := CheckOverlaps(exports); err != nil {
		return nil, err
	}
	if err := CheckDuplicates(exports); err != nil {
		return nil, err
	}
	bins := exports[0].Bins
	out := &Export{Format: ExportFormat, Bins: bins, Windows: []ExportWindow{}}
	type key struct {
		model string
		stage Stage
		start int64
	}
	// part is a window of an export that merges into a window of out.
	type part struct {
		export, window int
		plans          *stagePlanSet // of the window's artifact
	}
	idx := map[key]int{}
	from := map[key]int{} // the first export holding the window
	var parts [][]part    // per window of out
	for n, ex := range exports {
		if ex.Bins != bins {
			return nil, fmt.Errorf("monitor: merge: %s was made with %d bins, %s with %d; run the replicas with the same --bins", exportName(ex, n), ex.Bins, exportName(exports[0], 0), bins)
		}
		for wi := range ex.Windows {
			w := &ex.Windows[wi]
			a, err := artifactOf(arts, w)
			if err != nil {
				return nil, fmt.Errorf("monitor: merge: %s: %w", exportName(ex, n), err)
			}
			ps, err := plans.get(a, w.Stage, bins)
			if err != nil {
				return nil, err
			}
			k := key{w.Model, w.Stage, w.Start.UnixNano()}
			i, ok := idx[k]
			if !ok {
				i = len(out.Windows)
				idx[k] = i
				from[k] = n
				out.Windows = append(out.Windows, ExportWindow{Model: w.Model, Stage: w.Stage, ArtifactDigest: w.ArtifactDigest, Start: w.Start, End: w.End})
				parts = append(parts, nil)
			}
			mw := &out.Windows[i]
			if !mw.End.Equal(w.End) {
				return nil, fmt.Errorf("monitor: merge: window %s of model %q ends at %s in one export and %s in another; run the replicas with the same --window",
					w.Start.Format(time.RFC3339), w.Model, mw.End.Format(time.RFC3339), w.End.Format(time.RFC3339))
			}
			if mw.Rows > math.MaxInt64-w.Rows {
				return nil, &ExportError{Name: exportName(ex, n), Path: fmt.Sprintf("windows[%d].rows", wi),
					Msg: fmt.Sprintf("%d, added to the %d rows of window %s of model %q in the exports before it, passes %d", w.Rows, mw.Rows, w.Start.Format(time.RFC3339), w.Model, int64(math.MaxInt64))}
			}
			mw.Rows += w.Rows
			mw.Offsets = unionRanges(mw.Offsets, w.Offsets)
			for _, f := range w.Features {
				if _, ok := ps.byName[f.Name]; !ok {
					return nil, fmt.Errorf("monitor: merge: %s: artifact %s does not profile feature %q", exportName(ex, n), a.Digest, f.Name)
				}
				j := slices.IndexFunc(mw.Features, func(g ExportFeature) bool { return g.Name == f.Name })
				if j < 0 {
					mw.Features = append(mw.Features, ExportFeature{Name: f.Name, Numeric: f.Numeric})
					j = len(mw.Features) - 1
				}
				g := &mw.Features[j]
				g.Rows += f.Rows
				g.Missing += f.Missing
				g.OutOfRange += f.OutOfRange
				g.Unseen += f.Unseen
			}
			parts[i] = append(parts[i], part{n, wi, ps})
		}
	}
	// The summaries, window by window: decoded, merged in the exports'
	// order and encoded again, then dropped.
	sums := map[string]*drift.Summary{}
	given := map[string][]byte{} // a feature's summary as its only export gave it
	for i := range out.Windows {
		w := &out.Windows[i]
		w.Unprofiled = w.Rows - mostRows(w.Features)
		clear(sums)
		clear(given)
		for _, p := range parts[i] {
			ex := exports[p.export]
			pw := &ex.Windows[p.window]
			for _, f := range pw.Features {
				s, err := p.plans.byName[f.Name].UnmarshalSummary(f.Summary)
				if err != nil {
					return nil, fmt.Errorf("monitor: merge: %s window %s: %w", exportName(ex, p.export), pw.Start.Format(time.RFC3339), err)
				}
				if sums[f.Name] == nil {
					sums[f.Name] = s
					given[f.Name] = f.Summary
				} else if err := sums[f.Name].Merge(s); err != nil {
					return nil, err
				} else {
					delete(given, f.Name)
				}
			}
		}
		parts[i] = nil
		for j := range w.Features {
			name := w.Features[j].Name
			b, err := sums[name].MarshalBinary()
			if err != nil {
				return nil, err
			}
			if g, ok := given[name]; ok && bytes.Equal(b, g) {
				b = g // shared with the export: held once, not twice
			}
			w.Features[j].Summary = b
		}
		// features in the profile's order (of the artifact the window
		// names, its first export's)
		a, _ := artifactOf(arts, w)
		ps, _ := plans.get(a, w.Stage, bins)
		sort.SliceStable(w.Features, func(x, y int) bool {
			return ps.byName[w.Features[x].Name].Order < ps.byName[w.Features[y].Name].Order
		})
	}
	sort.Slice(out.Windows, func(i, j int) bool {
		a, b := out.Windows[i], out.Windows[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.Stage != b.Stage {
			return a.Stage < b.Stage
		}
		return a.Start.Before(b.Start)
	})
	// Each export's windows of a model and stage are disjoint (Check);
	// windows of different exports that overlap without being the same
	// window were made with different window lengths.
	reach := 0 // the window of the model and stage so far that ends last
	for i := 1; i < len(out.Windows); i++ {
		p, w := &out.Windows[reach], &out.Windows[i]
		if p.Model != w.Model || p.Stage != w.Stage {
			reach = i
			continue
		}
		if !w.End.Before(p.End) {
			reach = i
		}
		if w.Start.Before(p.End) {
			kp, kw := key{p.Model, p.Stage, p.Start.UnixNano()}, key{w.Model, w.Stage, w.Start.UnixNano()}
			return nil, fmt.Errorf("monitor: merge: window %s to %s of model %q stage %s (%s) overlaps window %s to %s (%s): the replicas ran with different window lengths; run them with the same --window",
				w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), w.Model, w.Stage, exportName(exports[from[kw]], from[kw]),
				p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), exportName(exports[from[kp]], from[kp]))
		}
	}
	out.setFormat()
	return out, nil
}

// artifactOf returns the artifact of arts whose digest w was made with.
func artifactOf(arts []*artifact.Artifact, w *ExportWindow) (*artifact.Artifact, error) {
	for _, a := range arts {
		if a.Digest == w.ArtifactDigest {
			return a, nil
		}
	}
	given := make([]string, len(arts))
	for i, a := range arts {
		given[i] = a.Digest
	}
	return nil, fmt.Errorf("window %s of model %q was judged with artifact %s, not %s; merge windows of one artifact, or pass that artifact too (normguard pull %s@VERSION gets it from the registry)",
		w.Start.Format(time.RFC3339), w.Model, w.ArtifactDigest, strings.Join(given, ", "), w.Model)
}

// stagePlan is a feature's plan and its place in the profile.
type stagePlan struct {
	*drift.SummaryPlan
	Order int
}

// stagePlanSet is the summary plans of one stage of an artifact for one
// number of bins, made once (exportPlans) and shared by every window judged
// with them: a plan depends on the profile and the bins only, and a
// numeric feature's holds its points, an index over them and the
// reference's CDF at each (about 100 KB); made for every window, they
// took about 300 KB a window (attack run 8: 20,000 windows ran out of
// memory).
type stagePlanSet struct {
	feats  []profile.Feature
	plans  []*drift.SummaryPlan // in the profile's order
	byName map[string]stagePlan
}

// exportPlans holds the plan sets made so far, by artifact, stage and bins.
type exportPlans map[planKey]*stagePlanSet

type planKey struct {
	a     *artifact.Artifact
	stage Stage
	bins  int
}

// get returns the plans of a stage of artifact a for bins (DefaultBins
// when bins <= 0), making them the first time.
func (c exportPlans) get(a *artifact.Artifact, stage Stage, bins int) (*stagePlanSet, error) {
	if bins <= 0 {
		bins = drift.DefaultBins
	}
	k := planKey{a, stage, bins}
	if ps := c[k]; ps != nil {
		return ps, nil
	}
	feats, err := stageProfile(a, stage)
	if err != nil {
		return nil, err
	}
	ps := &stagePlanSet{feats: feats, plans: drift.SummaryPlans(feats, drift.Options{Bins: bins})}
	ps.byName = make(map[string]stagePlan, len(feats))
	for i, pl := range ps.plans {
		ps.byName[pl.Name] = stagePlan{pl, i}
	}
	c[k] = ps
	return ps, nil
}

// stagePlans returns the plans of a stage of artifact a by feature name
// (made anew: exportPlans keeps them for a merge).
func stagePlans(a *artifact.Artifact, stage Stage, bins int) (map[string]stagePlan, error) {
	ps, err := exportPlans{}.get(a, stage, bins)
	if err != nil {
		return nil, err
	}
	return ps.byName, nil
}

func stageProfile(a *artifact.Artifact, stage Stage) ([]profile.Feature, error) {
	if a.Profile == nil {
		return nil, fmt.Errorf("monitor: artifact %s has no training profile; refit it with this normguard", a.Digest)
	}
	switch stage {
	case StageInput:
		return a.ScalarProfiles(a.Profile.Inputs), nil
	case StageOutput:
		return a.ScalarProfiles(a.Profile.Outputs), nil
	}
	return nil, fmt.Errorf("monitor: stage %q: want %q or %q", stage, StageInput, StageOutput)
}

// Judge judges each window of an export against artifact a, as the
// monitor judges its own windows (drift.CompareSummaries), into a
// timeline (windows by model, stage and start).
func (ex *Export) Judge(a *artifact.Artifact, o drift.Options) (*Timeline, error) {
	return ex.JudgeOf([]*artifact.Artifact{a}, o)
}

// JudgeOf is Judge for windows made with any of the artifacts arts: each
// window is judged against the artifact of its digest (named in the
// timeline's window when there are several).
func (ex *Export) JudgeOf(arts []*artifact.Artifact, o drift.Options) (*Timeline, error) {
	return ex.judge(arts, o, true)
}

// JudgeTimeline is JudgeOf for a timeline's outputs (normguard monitor
// merge): the windows' reports leave out the features' plots
// (drift.Feature.Plot, which report.ReplayJSON, ReplayTable and
// ReplayHTML do not draw), half of what a window's verdict holds.
func (ex *Export) JudgeTimeline(arts []*artifact.Artifact, o drift.Options) (*Timeline, error) {
	return ex.judge(arts, o, false)
}

// judge is JudgeOf, keeping the features' plots when plots is set.
func (ex *Export) judge(arts []*artifact.Artifact, o drift.Options, plots bool) (*Timeline, error) {
	o.Bins = ex.Bins
	tl := &Timeline{Windows: []TimelineWindow{}}
	if len(arts) == 1 {
		tl.ArtifactDigest = arts[0].Digest
	}
	first := map[string]*time.Time{}
	var order []string
	cache := exportPlans{}
	for wi := range ex.Windows {
		w := &ex.Windows[wi]
		a, err := artifactOf(arts, w)
		if err != nil {
			return nil, fmt.Errorf("monitor: %w", err)
		}
		ps, err := cache.get(a, w.Stage, o.Bins)
		if err != nil {
			return nil, err
		}
		plans := ps.plans
		sums := make([]*drift.Summary, len(plans))
		for i, pl := range plans {
			j := slices.IndexFunc(w.Features, func(f ExportFeature) bool { return f.Name == pl.Name })
			if j < 0 {
				sums[i] = pl.NewSummary() // as the monitor: no values
				continue
			}
			if sums[i], err = pl.UnmarshalSummary(w.Features[j].Summary); err != nil {
				return nil, fmt.Errorf("monitor: window %s of model %q: %w", w.Start.Format(time.RFC3339), w.Model, err)
			}
		}
		rep, err := drift.CompareSummaries(plans, sums, o)
		if err != nil {
			return nil, fmt.Errorf("monitor: window %s of model %q: %w", w.Start.Format(time.RFC3339), w.Model, err)
		}
		if !plots {
			for i := range rep.Features {
				rep.Features[i].Plot = nil
			}
		}
		tw := TimelineWindow{Model: w.Model, Stage: w.Stage, Start: w.Start, End: w.End, Rows: w.Rows, Drifted: []string{}, Report: rep}
		if len(arts) > 1 {
			tw.ArtifactDigest = a.Digest
		}
		for _, f := range rep.Features {
			key := w.Model + "\x00" + string(w.Stage) + "\x00" + f.Name
			if _, ok := first[key]; !ok {
				first[key] = nil
				order = append(order, key)
			}
			if f.Drift {
				tw.Drifted = append(tw.Drifted, f.Name)
				if first[key] == nil {
					st := w.Start
					first[key] = &st
				}
			}
		}
		tl.Rows += w.Rows
		tl.Windows = append(tl.Windows, tw)
		switch length := FormatWindow(w.End.Sub(w.Start)); {
		case len(tl.Windows) == 1:
			tl.Window = length
		case tl.Window != length:
			tl.Window = "" // windows of several lengths
		}
	}
	for _, key := range order {
		parts := strings.Split(key, "\x00")
		tl.FirstDrift = append(tl.FirstDrift, FirstDrift{Model: parts[0], Stage: Stage(parts[1]), Feature: parts[2], Start: first[key]})
	}
	return tl, nil
}

// RestartedFeatures lists the features of an export window (one
// replica's or merged) whose drift summary against artifact a covers
// fewer rows than the feature counts: a version made current mid-window
// started it again (Window.Restarted), so a report of the window judges
// it on the rows since only. bins is the export's (Export.Bins).
func (w *ExportWindow) RestartedFeatures(a *artifact.Artifact, bins int) ([]RestartedFeature, error) {
	ref, err := newReference(a)
	if err != nil {
		return nil, err
	}
	si := w.Stage.index()
	if si < 0 {
		return nil, fmt.Errorf("monitor: stage %q: want %q or %q", w.Stage, StageInput, StageOutput)
	}
	rs := &ref.stages[si]
	plans := rs.summaryPlans(drift.Options{Bins: bins})
	var out []RestartedFeature
	for i, rf := range rs.features {
		j := slices.IndexFunc(w.Features, func(f ExportFeature) bool { return f.Name == rf.name && f.Numeric == rf.numeric })
		if j < 0 || plans[i] == nil {
			continue
		}
		f := &w.Features[j]
		ds, err := plans[i].UnmarshalSummary(f.Summary)
		if err != nil {
			return nil, fmt.Errorf("monitor: window %s of model %q: %w", w.Start.Format(time.RFC3339), w.Model, err)
		}
		if ds.Rows < f.Rows {
			out = append(out, RestartedFeature{Name: rf.name, Rows: ds.Rows})
		}
	}
	return out, nil
}

// Anomalies returns the data anomalies of an export window (one replica's
// or merged) against artifact a, by the rules of `normguard validate`, as
// a monitor finds them in its own window of the same rows: every count
// and summary they read merges exactly (featureValidation), so merged
// replicas give the anomalies of one monitor fed every row. bins is the
// export's (Export.Bins).
func (w *ExportWindow) Anomalies(a *artifact.Artifact, bins int) ([]validate.Anomaly, error) {
	ref, err := newReference(a)
	if err != nil {
		return nil, err
	}
	si := w.Stage.index()
	if si < 0 {
		return nil, fmt.Errorf("monitor: stage %q: want %q or %q", w.Stage, StageInput, StageOutput)
	}
	rs := &ref.stages[si]
	plans := rs.summaryPlans(drift.Options{Bins: bins})
	sums := make([]validate.Summary, len(rs.features))
	for i := range rs.features {
		rf := &rs.features[i]
		j := slices.IndexFunc(w.Features, func(f ExportFeature) bool { return f.Name == rf.name && f.Numeric == rf.numeric })
		if j < 0 {
			sums[i] = featureValidation(w.Rows, featureCounts{}, nil, rf, &rs.profile[i])
			continue
		}
		f := &w.Features[j]
		ds, err := plans[i].UnmarshalSummary(f.Summary)
		if err != nil {
			return nil, fmt.Errorf("monitor: window %s of model %q: %w", w.Start.Format(time.RFC3339), w.Model, err)
		}
		sums[i] = featureValidation(w.Rows, featureCounts{rows: f.Rows, missing: f.Missing, oor: f.OutOfRange, unseen: f.Unseen}, ds, rf, &rs.profile[i])
	}
	an, err := anomalies(rs.valid, w.Rows, sums)
	if an == nil {
		an = []validate.Anomaly{}
	}
	return an, err
}
