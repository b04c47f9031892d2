package monitor

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/stats"
)

// An export comes from outside (a file, a peer's answer), so what it says
// is checked before it is merged or judged: the bytes against the digest
// it carries (ReadExport), and the meaning of every window by Check.
// Everything Check requires holds of every export Monitor.Export,
// Monitor.ExportHistory and MergeExports write, whatever rows the monitor
// was fed; an export that breaks one of the rules was damaged or edited.

// ErrInvalidExport is wrapped by the refusals of an export whose content
// does not match its digest or is not consistent (Export.Check).
var ErrInvalidExport = errors.New("invalid window-state export")

// MaxExportBins bounds an export's bins: a summary plan holds a point per
// bin of every numeric feature, so a damaged bins would make merging
// allocate without bound. drift --bins is far below it in practice.
const MaxExportBins = 1 << 16

// ExportError is the refusal of an export: the field at Path (a JSON path
// into the export, windows[0].features[2].rows) and what is wrong with it.
type ExportError struct {
	// Name is the export's (Export.Name: a file, a peer).
	Name string
	Path string
	Msg  string
	// Err is the cause when a decoder refused the field (a summary's
	// drift.ErrSummary), else nil.
	Err error
}

// exportHint ends every refusal of an export's content.
const exportHint = "the export was damaged or edited after it was written; export it again (normguard monitor export, or GET /v1/models/{name}/window-state)"

func (e *ExportError) Error() string {
	return fmt.Sprintf("monitor: %s: %s: %s; %s", e.Name, e.Path, e.Msg, exportHint)
}

// Unwrap makes every ExportError an ErrInvalidExport (and its cause's).
func (e *ExportError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidExport, e.Err}
	}
	return []error{ErrInvalidExport}
}

// Check checks the meaning of an export, window by window, and returns an
// *ExportError naming the first field that is wrong:
//
//   - bins between 1 and MaxExportBins; every window with a model, a
//     stage, an end after its start, a start before MaxEventTime and an
//     end after MinEventTime (it holds rows of event times a monitor
//     places in windows), at most MaxWindow long, rows >= 0, and
//     no two windows of the same model, stage and start (merged, their
//     rows would count twice);
//   - source offsets: a source, a partition >= 0, ranges 0 <= first <=
//     last, sorted and disjoint, partitions listed once;
//   - features named, each once per window; rows, missing, out_of_range
//     and unseen >= 0, rows at most the window's, missing at most rows,
//     out_of_range and unseen at most the present values (rows - missing),
//     unseen 0 for a numeric feature and out_of_range 0 for another;
//   - the window's rows the most rows one of its features counts plus
//     its unprofiled_rows (ExportWindow.Unprofiled): a monitor counts
//     each row of a window in every feature of the artifact it judges the
//     row with, and only rows judged with an earlier artifact that did
//     not profile those features (the features changed mid-window) are
//     left out of all of them, which the exporter says; so an inflated
//     (or deflated) window rows is refused;
//   - windows of a model and stage disjoint in time, each starting on
//     the grid of its own length (WindowStart: multiples of the length
//     since the Unix epoch, Mondays for whole weeks) or where the window
//     before it ends (a store whose --window was lengthened continues
//     from its last window); a store whose --window was shortened while
//     a window was open holds overlapping windows, refused here too;
//   - against the artifact of the window's digest, when it is one of
//     arts (a window of another artifact is refused by MergeExportsOf):
//     when the artifact names its model, every window judged with it of
//     one model (the registry keeps such an artifact under its model's
//     name only; the monitor itself does not bind a window's model to
//     the artifact's name, so a lone window renamed is not told from a
//     monitor fed under that name), every feature one the artifact profiles at the window's
//     stage, of the profile's kind (numeric or not), and its summary
//     decoding against the profile's plan and consistent with itself and
//     the feature's counts (checkSummary); and every feature the artifact
//     profiles at the stage listed (a monitor exports each, with 0 rows
//     when no row reached it: a feature left out would count as missing
//     in every row of the window).
func (ex *Export) Check(arts ...*artifact.Artifact) error {
	return ex.check(arts, 0, exportPlans{})
}

// check is Check for the n-th export of a merge (named so when it has no
// Name), with the plans made so far (made once per artifact, stage and
// bins, not per window).
func (ex *Export) check(arts []*artifact.Artifact, n int, plans exportPlans) error {
	if plans == nil {
		plans = exportPlans{}
	}
	name := exportName(ex, n)
	bad := func(path, format string, args ...any) error {
		return &ExportError{Name: name, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
	if ex.Bins < 1 || ex.Bins > MaxExportBins {
		return bad("bins", "%d must be between 1 and %d", ex.Bins, MaxExportBins)
	}
	type key struct {
		model string
		stage Stage
		start int64
	}
	seen := make(map[key]int, len(ex.Windows))
	refs := map[string]*reference{}
	// modelOf is, per digest of an artifact that names its model, the
	// first window judged with it.
	modelOf := map[string]int{}
	for i := range ex.Windows {
		w := &ex.Windows[i]
		wp := fmt.Sprintf("windows[%d]", i)
		switch {
		case w.Model == "":
			return bad(wp+".model", "must name the model")
		case w.Stage.index() < 0:
			return bad(wp+".stage", "%q must be %q or %q", w.Stage, StageInput, StageOutput)
		case !w.End.After(w.Start):
			return bad(wp+".end", "%s must be after the start %s", w.End.Format(time.RFC3339Nano), w.Start.Format(time.RFC3339Nano))
		// A window holds rows of event times a monitor places in windows
		// and lasts at most MaxWindow: checked before its length is
		// computed (a time.Duration saturates past 292 years).
		case !w.Start.Before(MaxEventTime):
			return bad(wp+".start", "%s is not before %s: a window holds rows of event times from %s up to %s (earlier and later times are counted as untimed), so it starts before %s",
				w.Start.Format(time.RFC3339Nano), MaxEventTime.Format(time.DateOnly), MinEventTime.Format(time.DateOnly), MaxEventTime.Format(time.DateOnly), MaxEventTime.Format(time.DateOnly))
		case !w.End.After(MinEventTime):
			return bad(wp+".end", "%s is not after %s: a window holds rows of event times from %s up to %s (earlier and later times are counted as untimed), so it ends after %s",
				w.End.Format(time.RFC3339Nano), MinEventTime.Format(time.DateOnly), MinEventTime.Format(time.DateOnly), MaxEventTime.Format(time.DateOnly), MinEventTime.Format(time.DateOnly))
		case w.End.Sub(w.Start) > MaxWindow:
			return bad(wp+".end", "%s is %s after the start %s: a window lasts at most %s (50 years)",
				w.End.Format(time.RFC3339Nano), windowLength(w.Start, w.End), w.Start.Format(time.RFC3339Nano), FormatWindow(MaxWindow))
		case w.Rows < 0:
			return bad(wp+".rows", "%d must be >= 0", w.Rows)
		}
		k := key{w.Model, w.Stage, w.Start.UnixNano()}
		if j, ok := seen[k]; ok {
			return bad(wp+".start", "windows[%d] is also the window of model %q stage %s starting %s: merged, its rows would count twice",
				j, w.Model, w.Stage, w.Start.Format(time.RFC3339Nano))
		}
		seen[k] = i
		if err := checkOffsets(w.Offsets, wp+".offsets", bad); err != nil {
			return err
		}
		var byName map[string]stagePlan
		var feats []profile.Feature
		var rs *refStage
		for _, a := range arts {
			if a.Digest != w.ArtifactDigest {
				continue
			}
			if a.Model != nil && a.Model.Name != "" {
				if j, ok := modelOf[a.Digest]; ok && ex.Windows[j].Model != w.Model {
					// The one named otherwise than the artifact is at fault.
					b, o := i, j
					if w.Model == a.Model.Name {
						b, o = j, i
					}
					return bad(fmt.Sprintf("windows[%d].model", b), "%q, but windows[%d], judged with the same artifact %s (fitted for model %q version %q), is of model %q: one artifact's windows are of one model (the registry keeps an artifact that names its model under that name only)",
						ex.Windows[b].Model, o, a.Digest, a.Model.Name, a.Model.Version, ex.Windows[o].Model)
				}
				modelOf[a.Digest] = i
			}
			ps, err := plans.get(a, w.Stage, ex.Bins)
			if err != nil {
				return err
			}
			byName, feats = ps.byName, ps.feats
			ref := refs[a.Digest]
			if ref == nil {
				if ref, err = newReference(a); err != nil {
					return err
				}
				refs[a.Digest] = ref
			}
			rs = &ref.stages[w.Stage.index()]
			break
		}
		names := make(map[string]int, len(w.Features))
		for j := range w.Features {
			f := &w.Features[j]
			fp := fmt.Sprintf("%s.features[%d]", wp, j)
			if f.Name == "" {
				return bad(fp+".name", "must name the feature")
			}
			if prev, ok := names[f.Name]; ok {
				return bad(fp+".name", "%q is listed twice in the window (features[%d] too): merged, its rows would count twice", f.Name, prev)
			}
			names[f.Name] = j
			if err := checkFeatureCounts(w, f, fp, bad); err != nil {
				return err
			}
			if byName == nil {
				continue // no artifact of its digest: MergeExportsOf says so
			}
			pl, ok := byName[f.Name]
			if !ok {
				return bad(fp+".name", "%q is not a feature artifact %s profiles at the %s stage", f.Name, w.ArtifactDigest, w.Stage)
			}
			rj, ok := rs.byName[f.Name]
			if !ok {
				return bad(fp+".name", "%q is not a feature artifact %s profiles at the %s stage", f.Name, w.ArtifactDigest, w.Stage)
			}
			rf := &rs.features[rj]
			if rf.numeric != f.Numeric {
				return bad(fp+".numeric", "%v, but artifact %s profiles %q as %s", f.Numeric, w.ArtifactDigest, f.Name, pl.Type)
			}
			s, err := pl.UnmarshalSummary(f.Summary)
			if err != nil {
				return &ExportError{Name: name, Path: fp + ".summary", Msg: err.Error(), Err: err}
			}
			if field, msg := checkSummary(s, pl.SummaryPlan, &feats[pl.Order], rf, f); msg != "" {
				p := fp + ".summary"
				if field != "" {
					p = fp + "." + field
				}
				return bad(p, "%s", msg)
			}
		}
		if byName != nil {
			for _, p := range feats {
				if _, ok := names[p.Name]; !ok {
					return bad(wp+".features", "lack %q, which artifact %s profiles at the %s stage: a monitor exports every feature of its artifact (with 0 rows when no row of the window reached it); without it, the feature would count as missing in all %d rows of the window (an export by a normguard from before this rule may leave out a feature without rows: export it again)",
						p.Name, w.ArtifactDigest, w.Stage, w.Rows)
				}
			}
		}
		if err := checkWindowRows(w, wp, bad); err != nil {
			return err
		}
	}
	if err := checkWindowTimes(ex.Windows, bad); err != nil {
		return err
	}
	for i, sk := range ex.Skipped {
		if sk.Rows < 0 {
			return bad(fmt.Sprintf("skipped[%d].rows", i), "%d must be >= 0", sk.Rows)
		}
	}
	return nil
}

// windowLength formats the time from start to end (after it), in days
// when it passes what a time.Duration holds (292 years).
func windowLength(start, end time.Time) string {
	if secs := end.Unix() - start.Unix(); secs >= int64(math.MaxInt64/time.Second) {
		const day = 24 * 60 * 60
		if secs%day == 0 && end.Nanosecond() == start.Nanosecond() {
			return fmt.Sprintf("%dd", secs/day)
		}
		return fmt.Sprintf("more than %dd", secs/day)
	}
	return FormatWindow(end.Sub(start))
}

// checkWindowRows checks a window's rows against its features' (path is
// the window's JSON path): the most rows a feature counts plus the rows
// the window says none of them counted (Unprofiled).
func checkWindowRows(w *ExportWindow, path string, bad func(string, string, ...any) error) error {
	if w.Unprofiled < 0 || w.Unprofiled > w.Rows {
		return bad(path+".unprofiled_rows", "%d must be between 0 and the window's rows, %d", w.Unprofiled, w.Rows)
	}
	most, name := int64(0), ""
	for _, f := range w.Features {
		if f.Rows > most || name == "" {
			most, name = f.Rows, f.Name
		}
	}
	if most+w.Unprofiled == w.Rows { // most <= w.Rows (checkFeatureCounts)
		return nil
	}
	if name == "" {
		return bad(path+".rows", "%d, but the window lists no feature and accounts for %d rows as unprofiled_rows", w.Rows, w.Unprofiled)
	}
	return bad(path+".rows", "%d, but its feature counting the most rows, %q, counts %d and unprofiled_rows accounts for %d more (%d in all): a monitor counts each row of a window in every feature of its artifact, and leaves a row out of all of them only when an earlier artifact that did not profile them judged it, which unprofiled_rows counts",
		w.Rows, name, most, w.Unprofiled, most+w.Unprofiled)
}

// checkWindowTimes checks that the windows of each model and stage are
// disjoint and each starts on the grid of its own length or where the
// window before it ends (see Check). The windows' ends are after their
// starts and no two share model, stage and start (checked before).
func checkWindowTimes(ws []ExportWindow, bad func(string, string, ...any) error) error {
	type ms struct {
		model string
		stage Stage
	}
	groups := map[ms][]int{}
	var order []ms
	for i := range ws {
		k := ms{ws[i].Model, ws[i].Stage}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		slices.SortStableFunc(idx, func(a, b int) int { return ws[a].Start.Compare(ws[b].Start) })
		reach := -1 // the window so far that ends last
		for _, i := range idx {
			w := &ws[i]
			wp := fmt.Sprintf("windows[%d]", i)
			if reach >= 0 && w.Start.Before(ws[reach].End) {
				p := &ws[reach]
				return bad(wp+".start", "window %s to %s overlaps windows[%d], %s to %s, of the same model %q and stage %s: a monitor's windows never overlap (unless its --window was shortened while a window was open); merged, rows would count in two windows",
					w.Start.Format(time.RFC3339Nano), w.End.Format(time.RFC3339Nano), reach, p.Start.Format(time.RFC3339Nano), p.End.Format(time.RFC3339Nano), w.Model, w.Stage)
			}
			length := w.End.Sub(w.Start)
			aligned := length > 0 && length < math.MaxInt64 && WindowStart(w.Start, length).Equal(w.Start)
			if !aligned && (reach < 0 || !w.Start.Equal(ws[reach].End)) {
				return bad(wp+".start", "%s is not on the grid of the window's length %s (windows start at multiples of their length since 1970-01-01 00:00 UTC, whole weeks on Mondays), nor where the window before it ends: a monitor never makes such a window",
					w.Start.Format(time.RFC3339Nano), FormatWindow(length))
			}
			if reach < 0 || !w.End.Before(ws[reach].End) {
				reach = i
			}
		}
	}
	return nil
}

// ErrDuplicateExport is wrapped by the refusal of two exports of the same
// replica (CheckDuplicates).
var ErrDuplicateExport = errors.New("the same replica's window state given twice")

// DuplicateError is the refusal of two exports of the same replica:
// merged, the rows of the windows both hold would count twice.
type DuplicateError struct {
	// Exports names the two (Export.Name, or "export N").
	Exports [2]string
	// Store is the monitoring store both name, "" when they are told the
	// same by their content.
	Store string
}

func (e *DuplicateError) Error() string {
	why := "hold the same window state (their content is equal)"
	if e.Store != "" {
		why = fmt.Sprintf("are window state of the same monitoring store (id %s)", e.Store)
	}
	return fmt.Sprintf("monitor: %s and %s %s: merged, the rows of the windows both hold would count twice; give each replica's export once (to follow one replica over time, merge nothing: its latest export holds its history)",
		e.Exports[0], e.Exports[1], why)
}

// Unwrap makes a DuplicateError an ErrDuplicateExport.
func (e *DuplicateError) Unwrap() error { return ErrDuplicateExport }

// CheckDuplicates returns a *DuplicateError when two of exports are the
// same replica's: they name the same store (Export.Store), or their
// content (without the digest, the name, the store and the instance) is
// equal and holds rows while one of them names no store (an export
// written before stores were named, or edited). Two exports of distinct
// stores with equal content are two replicas fed the same rows and
// merge. A merge's export names no store, so merging it again with one of
// its own exports is caught only by their offsets (CheckOverlaps).
func CheckDuplicates(exports []*Export) error {
	if len(exports) < 2 {
		return nil
	}
	stores := map[string]int{}
	for n, ex := range exports {
		if ex.Store == "" {
			continue
		}
		if j, ok := stores[ex.Store]; ok {
			return &DuplicateError{Exports: [2]string{exportName(exports[j], j), exportName(ex, n)}, Store: ex.Store}
		}
		stores[ex.Store] = n
	}
	contents := map[string][]int{}
	for n, ex := range exports {
		if !slices.ContainsFunc(ex.Windows, func(w ExportWindow) bool { return w.Rows > 0 }) {
			continue
		}
		p := exportPlain(*ex)
		p.Name, p.Store, p.Instance = "", "", ""
		d, err := exportDigest(p)
		if err != nil {
			return fmt.Errorf("monitor: %s: %w", exportName(ex, n), err)
		}
		for _, j := range contents[d] {
			if exports[j].Store == "" || ex.Store == "" {
				return &DuplicateError{Exports: [2]string{exportName(exports[j], j), exportName(ex, n)}}
			}
		}
		contents[d] = append(contents[d], n)
	}
	return nil
}

// checkOffsets checks a window's source offsets (path is their JSON path).
func checkOffsets(ps []PartitionRanges, path string, bad func(string, string, ...any) error) error {
	for i, p := range ps {
		pp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case p.Source == "" || strings.IndexByte(p.Source, 0) >= 0:
			return bad(pp+".source", "must name the source, without NUL bytes")
		case p.Partition < 0:
			return bad(pp+".partition", "%d must be >= 0", p.Partition)
		case i > 0 && comparePartitions(ps[i-1], p) >= 0:
			return bad(pp, "partition %d of %q must come after %s[%d] (partition %d of %q), listed once", p.Partition, p.Source, path, i-1, ps[i-1].Partition, ps[i-1].Source)
		}
		for j, r := range p.Ranges {
			rp := fmt.Sprintf("%s.ranges[%d]", pp, j)
			switch {
			case r[0] < 0 || r[1] < r[0] || r[1] == math.MaxInt64:
				return bad(rp, "[%d, %d] must have 0 <= first <= last < %d", r[0], r[1], int64(math.MaxInt64))
			case j > 0 && r[0] <= p.Ranges[j-1][1]:
				return bad(rp, "[%d, %d] must start after the range before it, [%d, %d] (ranges sorted and disjoint)", r[0], r[1], p.Ranges[j-1][0], p.Ranges[j-1][1])
			}
		}
	}
	return nil
}

// checkFeatureCounts checks a feature's counts against each other and the
// window's rows (path is the feature's JSON path).
func checkFeatureCounts(w *ExportWindow, f *ExportFeature, path string, bad func(string, string, ...any) error) error {
	for _, c := range []struct {
		field string
		n     int64
	}{{"rows", f.Rows}, {"missing", f.Missing}, {"out_of_range", f.OutOfRange}, {"unseen", f.Unseen}} {
		if c.n < 0 {
			return bad(path+"."+c.field, "%d must be >= 0", c.n)
		}
	}
	present := f.Rows - f.Missing
	switch {
	case f.Rows > w.Rows:
		return bad(path+".rows", "%d must be at most the window's rows, %d", f.Rows, w.Rows)
	case f.Missing > f.Rows:
		return bad(path+".missing", "%d must be at most the feature's rows, %d", f.Missing, f.Rows)
	case f.OutOfRange > present:
		return bad(path+".out_of_range", "%d must be at most the present values (rows - missing), %d", f.OutOfRange, present)
	case f.Unseen > present:
		return bad(path+".unseen", "%d must be at most the present values (rows - missing), %d", f.Unseen, present)
	case f.Numeric && f.Unseen != 0:
		return bad(path+".unseen", "%d must be 0: a numeric feature has no categories", f.Unseen)
	case !f.Numeric && f.OutOfRange != 0:
		return bad(path+".out_of_range", "%d must be 0: only a numeric feature has a range", f.OutOfRange)
	case len(f.Summary) == 0:
		return bad(path+".summary", "must hold the feature's drift summary")
	}
	return nil
}

// checkSummary checks a decoded summary s of feature f (plan pl, profile
// p) against itself and f's counts, as Summary.Add and Merge keep them.
// It returns the field of f at fault ("" for the summary) and what is
// wrong, or "", "" when nothing is.
//
// The summary may cover fewer rows than the feature's counts: when the
// model's artifact changes mid-window, the summary starts again against
// the new profile while the counts go on. Values of another kind than the
// profile's (Summary.KindMismatch) count in the rows only, so with them
// the present values are an upper bound.
func checkSummary(s *drift.Summary, pl *drift.SummaryPlan, p *profile.Feature, rf *refFeature, f *ExportFeature) (field, msg string) {
	present := s.Rows - s.Missing
	switch {
	case s.Rows > f.Rows:
		return "rows", fmt.Sprintf("%d is less than the %d rows its summary counts", f.Rows, s.Rows)
	case s.Missing > f.Missing:
		return "missing", fmt.Sprintf("%d is less than the %d missing values its summary counts", f.Missing, s.Missing)
	case s.Rows == f.Rows && s.Missing != f.Missing:
		return "missing", fmt.Sprintf("%d, but its summary of the same %d rows counts %d missing values", f.Missing, f.Rows, s.Missing)
	}
	// When the summary covers the feature's rows, the counts the monitor
	// keeps beside it are its own: values out of the training range when
	// its minimum and maximum are points of the plan, unseen values when
	// the plan's categories are the ones the monitor counts against.
	if s.Rows == f.Rows && !s.KindMismatch {
		if n, ok := outOfRange(s, pl, rf); ok && n != f.OutOfRange {
			return "out_of_range", fmt.Sprintf("%d, but its summary counts %d values below the training minimum %v or above the maximum %v", f.OutOfRange, n, rf.min, rf.max)
		}
		if sameCategories(pl, rf) && s.Unknown != f.Unseen {
			return "unseen", fmt.Sprintf("%d, but its summary counts %d values outside the training categories", f.Unseen, s.Unknown)
		}
	}
	// consistent: the values a summary counts by kind add up to present
	// (at most present with values of another kind).
	consistent := func(what string, n int64) string {
		if n == present || (s.KindMismatch && n < present) {
			return ""
		}
		return fmt.Sprintf("%s add up to %d, but it counts %d rows and %d missing values (%d present)", what, n, s.Rows, s.Missing, present)
	}
	for _, m := range []struct {
		name string
		m    *stats.Moments
	}{{"moments", &s.Moments}, {"low", &s.Low}, {"high", &s.High}} {
		if m.m.N == 0 && (m.m.Min != 0 || m.m.Max != 0 || m.m.Sum.Float64() != 0 || m.m.SumSq.Float64() != 0) {
			return "", fmt.Sprintf("its %s moments hold no values but a minimum %v, maximum %v, sum %v and sum of squares %v (all must be 0)",
				m.name, m.m.Min, m.m.Max, m.m.Sum.Float64(), m.m.SumSq.Float64())
		}
	}
	numeric := pl.Type == "numeric"
	if !numeric {
		for _, m := range []struct {
			name       string
			n, missing int64
		}{{"moments", s.Moments.N, s.Moments.Missing}, {"low", s.Low.N, s.Low.Missing}, {"high", s.High.N, s.High.Missing}} {
			if m.n != 0 || m.missing != 0 {
				return "", fmt.Sprintf("summary of a %s feature has numeric %s (%d values, %d missing)", pl.Type, m.name, m.n, m.missing)
			}
		}
		if len(s.Below) != 0 || len(s.Equal) != 0 {
			return "", "summary of a " + pl.Type + " feature has numeric point counts"
		}
	}
	if numeric {
		if len(s.Cats) != 0 || s.Unknown != 0 || len(s.New) != 0 || s.NewDropped || s.Time != nil {
			return "", "summary of a numeric feature has category or time counts"
		}
		if s.Moments.Missing > s.Missing {
			return "", fmt.Sprintf("its moments count %d missing values, the summary %d", s.Moments.Missing, s.Missing)
		}
		if m := consistent("present values (moments)", s.Moments.N); m != "" {
			return "", m
		}
		if msg := checkNumeric(s, pl); msg != "" {
			return "", msg
		}
		return "", ""
	}
	if pl.Kind == profile.KindTime && p.Time != nil {
		if len(s.Cats) != 0 || s.Unknown != 0 || len(s.New) != 0 {
			return "", "summary of a time feature has category counts"
		}
		t := s.Time
		if t == nil {
			if m := consistent("time values", 0); m != "" {
				return "", m
			}
			return "", ""
		}
		if t.Layout != p.Time.Layout {
			return "", fmt.Sprintf("time layout %q, the profile's is %q", t.Layout, p.Time.Layout)
		}
		// The rule a training profile's time section is held to, too.
		if e := profile.CheckTimeSummary(t); e != nil {
			return "", "time." + e.Error()
		}
		if m := consistent("parsed and unparsed time values", t.Parsed+t.Unparsed); m != "" {
			return "", m
		}
		return "", ""
	}
	if s.Time != nil {
		return "", "summary of a categorical feature has time counts"
	}
	var cats int64
	if pl.NewSummary().Cats != nil { // the plan counts its categories
		n, ok := sumCounts(s.Cats)
		if !ok {
			return "", "its category counts must be >= 0 and add up without overflow"
		}
		cats = n
	} else if len(s.Cats) != 0 {
		return "", "summary counts categories its plan has none of"
	}
	if m := consistent("category counts and other values", cats+s.Unknown); m != "" {
		return "", m
	}
	var named int64
	for v, n := range s.New {
		if n <= 0 {
			return "", fmt.Sprintf("other value %q counted %d times, must be > 0", v, n)
		}
		named += n
	}
	switch {
	case s.NewDropped && len(s.New) != 0:
		return "", "names other values although it dropped their names"
	case len(s.New) > drift.MaxSummaryNew:
		return "", fmt.Sprintf("names %d other values, at most %d", len(s.New), drift.MaxSummaryNew)
	case named > s.Unknown || named < 0:
		return "", fmt.Sprintf("other values named add up to %d, more than the %d other values it counts", named, s.Unknown)
	}
	return "", ""
}

// checkNumeric checks a numeric summary's point counts and moments: the
// counts at and between the points add up to the values; the moments
// below the first point and above the last are the counts of the first
// and last cells; the least and greatest values lie in the first and last
// cells that count values; the mean lies between them and the variance is
// at most (max - min)²/4.
func checkNumeric(s *drift.Summary, pl *drift.SummaryPlan) string {
	for _, m := range []struct {
		name       string
		n, missing int64
		min, max   float64
	}{{"moments", s.Moments.N, 0, s.Moments.Min, s.Moments.Max}, {"low", s.Low.N, s.Low.Missing, s.Low.Min, s.Low.Max}, {"high", s.High.N, s.High.Missing, s.High.Min, s.High.Max}} {
		name := m.name
		switch {
		case m.missing != 0:
			return fmt.Sprintf("its %s moments count %d missing values, must be 0", name, m.missing)
		case m.n > 0 && !(m.min <= m.max):
			return fmt.Sprintf("its %s moments' minimum %v must be at most the maximum %v", name, m.min, m.max)
		}
	}
	if msg := checkMoments("moments", s.Moments.N, s.Moments.Min, s.Moments.Max, s.Moments.Mean(), s.Moments.Var()); msg != "" {
		return msg
	}
	if msg := checkMoments("low", s.Low.N, s.Low.Min, s.Low.Max, s.Low.Mean(), s.Low.Var()); msg != "" {
		return msg
	}
	if msg := checkMoments("high", s.High.N, s.High.Min, s.High.Max, s.High.Mean(), s.High.Var()); msg != "" {
		return msg
	}
	pts := pl.Points
	if len(pts) == 0 {
		if s.Low.N != 0 || s.High.N != 0 {
			return "counts values out of range without a range"
		}
		return ""
	}
	below, ok1 := sumCounts(s.Below)
	equal, ok2 := sumCounts(s.Equal)
	if !ok1 || !ok2 || below+equal != s.Moments.N {
		return fmt.Sprintf("counts at and between its points add up to %d, but its moments count %d values", below+equal, s.Moments.N)
	}
	last := len(pts)
	switch {
	case s.Low.N != s.Below[0]:
		return fmt.Sprintf("counts %d values below the first point, its low moments %d", s.Below[0], s.Low.N)
	case s.High.N != s.Below[last]:
		return fmt.Sprintf("counts %d values above the last point, its high moments %d", s.Below[last], s.High.N)
	case s.Low.N > 0 && !(s.Low.Max < pts[0]):
		return fmt.Sprintf("its low moments' maximum %v must be below the first point %v", s.Low.Max, pts[0])
	case s.High.N > 0 && !(s.High.Min > pts[last-1]):
		return fmt.Sprintf("its high moments' minimum %v must be above the last point %v", s.High.Min, pts[last-1])
	}
	if s.Moments.N == 0 {
		return ""
	}
	// The cells in order: Below[0], Equal[0], Below[1], ..., Equal[n-1],
	// Below[n]; cell c is Below[c/2] when c is even, else Equal[c/2].
	count := func(c int) int64 {
		if c%2 == 0 {
			return s.Below[c/2]
		}
		return s.Equal[c/2]
	}
	// in says whether x lies in cell c.
	in := func(c int, x float64) bool {
		i := c / 2
		switch {
		case c%2 == 1:
			return x == pts[i]
		case i == 0:
			return x == s.Low.Min || x == s.Low.Max
		case i == last:
			return x == s.High.Min || x == s.High.Max
		}
		return x > pts[i-1] && x < pts[i]
	}
	cells := 2*last + 1
	first, lastCell := -1, -1
	for c := 0; c < cells; c++ {
		if count(c) > 0 {
			if first < 0 {
				first = c
			}
			lastCell = c
		}
	}
	if first < 0 || !in(first, s.Moments.Min) || (first == 0 && s.Moments.Min != s.Low.Min) {
		return fmt.Sprintf("its least value %v is not in the first of its points' cells that counts values", s.Moments.Min)
	}
	if !in(lastCell, s.Moments.Max) || (lastCell == cells-1 && s.Moments.Max != s.High.Max) {
		return fmt.Sprintf("its greatest value %v is not in the last of its points' cells that counts values", s.Moments.Max)
	}
	return ""
}

// checkMoments checks that the mean of n values between lo and hi lies
// between them and that their variance is at most (hi - lo)²/4, allowing
// for the rounding of each (when lo and hi are finite and the mean and
// variance are numbers: ±Inf values make them infinite or NaN).
func checkMoments(name string, n int64, lo, hi, mean, vr float64) string {
	if n == 0 || math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) {
		return ""
	}
	span := hi - lo
	tol := 1e-9 * math.Max(math.Max(math.Abs(lo), math.Abs(hi)), math.SmallestNonzeroFloat64)
	if !math.IsInf(mean, 0) && (math.IsNaN(mean) || mean < lo-tol || mean > hi+tol) {
		return fmt.Sprintf("its %s moments' mean %v is not between their minimum %v and maximum %v", name, mean, lo, hi)
	}
	if math.IsInf(span, 0) || math.IsInf(vr, 0) {
		return ""
	}
	if math.IsNaN(vr) || vr < 0 || vr > span*span/4*(1+1e-9)+tol*tol {
		return fmt.Sprintf("its %s moments' variance %v is not between 0 and (maximum - minimum)²/4 = %v", name, vr, span*span/4)
	}
	return ""
}

// outOfRange returns the values of a numeric summary below rf's minimum or
// above its maximum, false when they cannot be told (no range, or an end
// of the range that is not a point of the plan).
func outOfRange(s *drift.Summary, pl *drift.SummaryPlan, rf *refFeature) (int64, bool) {
	if !rf.numeric || !rf.hasRange || pl.Type != "numeric" || len(pl.Points) == 0 {
		return 0, false
	}
	lo, hi := slices.Index(pl.Points, rf.min), slices.Index(pl.Points, rf.max)
	if lo < 0 || hi < 0 {
		return 0, false
	}
	var n int64
	for i := 0; i <= lo; i++ {
		n += s.Below[i]
	}
	for i := 0; i < lo; i++ {
		n += s.Equal[i]
	}
	for i := hi + 1; i <= len(pl.Points); i++ {
		n += s.Below[i]
	}
	for i := hi + 1; i < len(pl.Points); i++ {
		n += s.Equal[i]
	}
	return n, true
}

// sameCategories says whether the unseen values the monitor counts of rf
// are the values a summary of plan pl counts as Unknown: the same
// categories.
func sameCategories(pl *drift.SummaryPlan, rf *refFeature) bool {
	if rf.numeric || rf.categories == nil || pl.NewSummary().Cats == nil || len(pl.Categories) != len(rf.categories) {
		return false
	}
	for _, c := range pl.Categories {
		// A category longer than MaxValueBytes is seen by the record's
		// count but summarized by its hash (longValue), as an other value.
		if _, ok := rf.categories[c]; !ok || len(c) > MaxValueBytes {
			return false
		}
	}
	return true
}

// sumCounts returns the sum of counts, false when one is negative or the
// sum overflows.
func sumCounts(cs []int64) (int64, bool) {
	var n int64
	for _, c := range cs {
		if c < 0 || n > math.MaxInt64-c {
			return n, false
		}
		n += c
	}
	return n, true
}
