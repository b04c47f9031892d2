package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/driftcheck"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

type driftOptions struct {
	artifact, reference, current string
	method                       string
	threshold                    float64
	bins                         int
	driftShare                   float64
	format, out                  string
	transformed                  bool
	segment                      string
	columns, exclude             []string
}

func newDriftCmd() *cobra.Command {
	var o driftOptions
	cmd := &cobra.Command{
		Use:   "drift (--reference REF | --artifact A) --current CUR",
		Short: "Compare current data with the reference (exit 1 when features drift)",
		Long: `Compare the current data with a reference data set, feature by feature, and
decide drift per feature and for the data set. Exit status 0: no drift,
1: drift found, 2: error.

Methods: auto (default), ks, wasserstein, wasserstein_normed, psi,
jensenshannon, hellinger, kl_div, chisquare, l_infinity, cramer_von_mises,
anderson, mann_whitney, t_test, energy. With --reference the numbers equal
scipy's (ks = scipy.stats.ks_2samp, wasserstein = wasserstein_distance, ...).

auto runs a test and requires an effect size on top, so that large samples
do not flag harmless differences: numeric features drift when ks has
p < 0.05 AND wasserstein_normed (Wasserstein distance / reference std) > 0.1;
categorical features when chi-square has p < 0.05 AND the Jensen-Shannon
distance of the category proportions > 0.1. Both numbers are shown.

Text columns are compared for what they hold, decided by the same rule at
fit (--artifact) and on the reference (--reference): a time column (dates,
timestamps) by its hour-of-day and day-of-week distributions, its time
ranges shown; an identifier column (nearly all values distinct) is skipped;
other categories as the profile keeps them (top 100 plus "other"), listing
at most 10 new values.

With --artifact (raw inputs), the current data is first checked by the
rules of normguard validate (missing or renamed columns, text in numeric
columns, missing-rate changes, values out of the training range, unseen
categories, constant or empty columns); its anomalies come first in the
report ("anomalies" in the JSON) and make the exit status 1. A numeric
column holding text is not compared (skipped, the anomaly says why).

A feature of the reference missing from the current data is reported and
makes the exit status 1; a feature whose statistic cannot be computed (no
values, ...) makes it 2 after the report is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "current"); err != nil {
				return err
			}
			rep, err := runDrift(cmd, o)
			if err != nil {
				return err
			}
			if err := writeDrift(cmd, o, rep); err != nil {
				return err
			}
			found := len(rep.Anomalies) > 0 || rep.notNumbers > 0 || vectorsDrift(rep.Vectors)
			err = driftcheck.Status(rep.Report, found, len(rep.Vectors) > 0)
			if errors.Is(err, driftcheck.ErrFound) {
				return errFound
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "artifact whose training profile is the reference")
	f.StringVar(&o.reference, "reference", "", "reference data set (.csv, .parquet, .jsonl)")
	f.StringVar(&o.current, "current", "", "current data set (.csv, .parquet, .jsonl)")
	f.StringVar(&o.method, "method", "auto", "drift method (see above)")
	f.Float64Var(&o.threshold, "threshold", 0, "override the method's threshold (p-value for tests, distance otherwise)")
	f.IntVar(&o.bins, "bins", drift.DefaultBins, "bins at the reference's quantiles for psi, jensenshannon, hellinger, kl_div, l_infinity, chisquare on numeric features")
	f.Float64Var(&o.driftShare, "drift-share", drift.DefaultDriftShare, "share of drifting features from which the data set drifts")
	f.StringVar(&o.segment, "segment-column", "", "compare each value of this column separately: current rows of a segment against the reference rows of the same segment (with --reference)")
	f.BoolVar(&o.transformed, "transformed", false, "with --artifact: CUR holds transformed features; compare them with the profile of the artifact's outputs (default: raw inputs)")
	f.StringSliceVar(&o.columns, "columns", nil, "compare only these features (comma-separated names of the reference's or artifact's columns)")
	f.StringSliceVar(&o.exclude, "exclude", nil, "leave out these features (comma-separated names)")
	f.StringVar(&o.format, "format", "table", "output format: table, json or html (a self-contained page with the distributions drawn over each other)")
	f.StringVar(&o.out, "out", "", "write the report to this file instead of standard output")
	addDelimiterFlag(cmd, "reference", "current")
	return cmd
}

// errNoRows is wrapped when the current (or reference) data has a header
// but no rows.
var errNoRows = driftcheck.ErrNoRows

// driftVsArtifact compares the current data with the training profile
// stored in the artifact: raw inputs by default, transformed outputs with
// --transformed.
func driftVsArtifact(cmd *cobra.Command, o driftOptions) (*driftResult, error) {
	a, err := artifact.Load(o.artifact)
	if err != nil {
		return nil, err
	}
	opt := drift.Options{
		Method: o.method, Threshold: o.threshold, HasThreshold: cmd.Flags().Changed("threshold"),
		Bins: o.bins, DriftShare: o.driftShare,
	}
	if !o.transformed {
		return driftInputsVsArtifact(a, o, opt)
	}
	if a.Profile == nil {
		return nil, fmt.Errorf("drift: %w", driftcheck.ErrNoProfile)
	}
	fields, profiles := a.Outputs, a.ScalarProfiles(a.Profile.Outputs) // vector columns are judged as a whole
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	for _, e := range a.Embeddings {
		names = append(names, e.Column)
	}
	keep, err := driftcheck.SelectFeatures(names, o.columns, o.exclude, "the artifact's outputs")
	if err != nil {
		return nil, err
	}
	var selected []profile.Feature
	for _, p := range profiles {
		if keep[p.Name] {
			selected = append(selected, p)
		}
	}
	r, err := table.Open(o.current)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	inHeader := map[string]bool{} // the kept outputs the header holds, not every name
	for _, h := range r.Header() {
		if keep[h] {
			inHeader[h] = true
		}
	}
	var project []table.Field
	for _, f := range fields {
		if inHeader[f.Name] && keep[f.Name] {
			project = append(project, f.TableField())
		}
	}
	if len(project) == 0 && len(profiles) == 0 && len(a.Embeddings) > 0 {
		return nil, fmt.Errorf("drift --transformed: the artifact's outputs are all dimensions of vector columns, which are judged as whole vectors against the raw vectors' contract; leave out --transformed and pass the raw vectors")
	}
	if len(project) == 0 {
		return nil, fmt.Errorf("drift: %s has none of the artifact's outputs (%d columns); pass transformed features, or leave out --transformed for raw inputs", o.current, len(fields))
	}
	if err := r.Project(project); err != nil {
		return nil, err
	}
	cur, rows, err := table.ReadAll(r, project)
	if err != nil {
		return nil, err
	}
	if rows == 0 {
		return nil, fmt.Errorf("drift: %s %w", o.current, errNoRows)
	}
	rep, err := drift.CompareProfile(selected, cur, opt)
	if err != nil {
		return nil, err
	}
	return &driftResult{Report: rep}, nil
}

// driftInputsVsArtifact validates the current raw data against the
// artifact (normguard validate's rules) and then compares its inputs with
// the training profile (driftcheck), reading the file once.
func driftInputsVsArtifact(a *artifact.Artifact, o driftOptions, opt drift.Options) (*driftResult, error) {
	selected, keep, err := driftcheck.Features(a, o.columns, o.exclude)
	if err != nil {
		return nil, err
	}
	d, err := validate.Read(o.current, a)
	if err != nil {
		return nil, err
	}
	if d.Rows == 0 {
		return nil, fmt.Errorf("drift: %s %w", o.current, errNoRows)
	}
	vrep, err := validate.CheckData(a, d, validate.Options{Columns: o.columns, Exclude: o.exclude})
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	vecs, err := driftcheck.Vectors(a, d.Vectors, keep)
	if err != nil {
		return nil, err
	}
	cur, err := driftcheck.Columns(selected, d.Cols, opt)
	if err != nil {
		return nil, err
	}
	rep, err := driftcheck.Compare(selected, cur, opt, len(vrep.Anomalies) > 0 || len(vecs) > 0)
	if errors.Is(err, driftcheck.ErrNoInputs) {
		return nil, fmt.Errorf("drift: %s %w", o.current, err)
	}
	if err != nil {
		return nil, err
	}
	// Examples are shown escaped as the new categories are (drift.ShownText):
	// the JSON would write text that is not UTF-8 as U+FFFD.
	for i := range vrep.Anomalies {
		ex := vrep.Anomalies[i].Examples
		for j := range ex {
			ex[j] = drift.ShownText(ex[j])
		}
	}
	return &driftResult{Report: rep, Anomalies: vrep.Anomalies, validated: true, Vectors: vecs}, nil
}

// driftResult is a drift report and, when the current data was validated
// against an artifact first, the anomalies found.
type driftResult struct {
	*drift.Report
	Anomalies []validate.Anomaly
	validated bool
	// notNumbers counts the numeric features skipped because the current
	// data holds text there (a type change: exit 1).
	notNumbers int
	// Vectors is the drift of the vector columns (drift_vector.go).
	Vectors []report.VectorDrift
}

// checkDriftFlags checks --method, --threshold, --bins and --drift-share
// as drift.Options.Check does, where the flags' 0, which Options reads as
// "the default", was given on the command line and means 0. bins < 0
// stands for a command without --bins.
func checkDriftFlags(cmd *cobra.Command, method string, threshold float64, bins int, share float64) error {
	opt := drift.Options{Method: method, Threshold: threshold, HasThreshold: cmd.Flags().Changed("threshold"), DriftShare: share}
	switch {
	case bins == 0:
		return fmt.Errorf("drift: --bins 0: give between 2 and %d bins", drift.MaxBins)
	case share == 0:
		return fmt.Errorf("drift: --drift-share 0: give a share of the features in (0, 1], e.g. %v", drift.DefaultDriftShare)
	case bins > 0:
		opt.Bins = bins
	}
	return opt.Check()
}

func runDrift(cmd *cobra.Command, o driftOptions) (*driftResult, error) {
	if o.format != "table" && o.format != "json" && o.format != "html" {
		return nil, fmt.Errorf("drift: --format must be table, json or html, got %q", o.format)
	}
	// Method, threshold, bins and drift share are checked before any data is read.
	if err := checkDriftFlags(cmd, o.method, o.threshold, o.bins, o.driftShare); err != nil {
		return nil, err
	}
	switch {
	case o.artifact != "" && o.reference != "":
		return nil, fmt.Errorf("drift: give --artifact or --reference, not both")
	case o.artifact != "" && o.segment != "":
		return nil, fmt.Errorf("drift: --segment-column needs the reference rows (--reference); the artifact's profile is not kept per segment")
	case o.artifact != "":
		return driftVsArtifact(cmd, o)
	case o.reference == "":
		return nil, fmt.Errorf("drift: --reference (or --artifact) is required (see `normguard drift --help`)")
	}
	ref, err := readTable(o.reference)
	if err != nil {
		return nil, err
	}
	cur, err := readTable(o.current)
	if err != nil {
		return nil, err
	}
	for _, t := range []struct {
		path string
		cols []table.Column
	}{{o.reference, ref}, {o.current, cur}} {
		if len(t.cols) == 0 || t.cols[0].Len() == 0 {
			return nil, fmt.Errorf("drift: %s %w", t.path, errNoRows)
		}
	}
	ref, cur, vecs, err := splitVectorColumns(ref, cur, o)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, v := range vecs {
		names = append(names, v.Column)
	}
	for _, r := range ref {
		if r.Name != o.segment {
			names = append(names, r.Name)
		}
	}
	keep, err := driftcheck.SelectFeatures(names, o.columns, o.exclude, o.reference)
	if err != nil {
		return nil, err
	}
	// Compare the selected reference columns, in the reference's order,
	// with the current columns of the same names, as the same type (the
	// current data may lack some: the report lists them).
	curIdx := map[string]int{}
	for i, c := range cur {
		curIdx[c.Name] = i
	}
	opt := drift.Options{
		Method: o.method, Threshold: o.threshold, HasThreshold: cmd.Flags().Changed("threshold"),
		Bins: o.bins, DriftShare: o.driftShare, Kinds: map[string]string{},
	}
	var rs, cs []table.Column
	var notNumbers []drift.Feature
	common := 0
	for _, r := range ref {
		if !keep[r.Name] && r.Name != o.segment {
			continue
		}
		i, ok := curIdx[r.Name]
		if !ok {
			rs = append(rs, r)
			continue
		}
		c := cur[i]
		if r.Kind == table.Numeric && c.Kind == table.String && r.Name != o.segment {
			// Numbers in the reference, text now: a type change, as
			// drift --artifact reports it, not a comparison of categories.
			notNumbers = append(notNumbers, notNumbersFeature(c))
			continue
		}
		if r.Kind != c.Kind { // numbers on one side, text on the other
			if r.Kind == table.Numeric {
				opt.Kinds[r.Name] = "" // numbers are never time or identifiers
			}
			r, c = asText(r), asText(c)
		}
		rs, cs = append(rs, r), append(cs, c)
		if r.Name != o.segment {
			common++
		}
	}
	if common == 0 && len(notNumbers) == 0 && len(vecs) == 0 {
		return nil, fmt.Errorf("drift: %s and %s have no column in common", o.reference, o.current)
	}
	var rep *drift.Report
	switch {
	case common == 0:
		rep = &drift.Report{MissingFeatures: []string{}}
		for _, r := range rs {
			rep.MissingFeatures = append(rep.MissingFeatures, r.Name)
		}
	case o.segment != "":
		rep, err = drift.CompareSegments(rs, cs, o.segment, opt)
	default:
		rep, err = drift.Compare(rs, cs, opt)
	}
	if err != nil {
		return nil, err
	}
	rep.Features = append(rep.Features, notNumbers...)
	return &driftResult{Report: rep, notNumbers: len(notNumbers), Vectors: vecs}, nil
}

// notNumbersFeature is the skipped feature of a column whose reference
// values are numbers and whose current values are not all numbers.
func notNumbersFeature(c table.Column) drift.Feature {
	bad, present := 0, 0
	var examples []string
	for i, s := range c.Str {
		if c.IsMissing(i) {
			continue
		}
		present++
		if _, ok := validate.ParseNumber(s); !ok {
			bad++
			if len(examples) < 3 {
				examples = append(examples, strconv.Quote(s))
			}
		}
	}
	nan := drift.JSONFloat(math.NaN())
	return drift.Feature{Name: c.Name, Type: spec.TypeNumeric, Method: "-", Statistic: nan, PValue: nan, Threshold: nan,
		Skipped: fmt.Sprintf("numbers in the reference, but %d of %d present current values are not numbers (e.g. %s); fix the data, then compare again",
			bad, present, strings.Join(examples, ", "))}
}

// readTable reads every column of a data file, numeric where every present
// value is a number and categorical otherwise. Columns are first read as
// numbers (no text round trip); a column whose text is not a number is
// read again as text.
func readTable(path string) ([]table.Column, error) {
	text, vec := map[string]bool{}, map[string]bool{}
	for attempt := 0; ; attempt++ {
		r, err := table.Open(path)
		if err != nil {
			return nil, err
		}
		fields := make([]table.Field, len(r.Header()))
		for i, h := range r.Header() {
			fields[i] = table.Field{Name: h, Kind: table.Numeric}
			if text[h] {
				fields[i].Kind = table.String
			}
			if vec[h] {
				fields[i].Kind = table.Vector
			}
		}
		if err := r.Project(fields); err != nil {
			r.Close()
			if col := table.VectorColumn(err); col != "" && !vec[col] {
				vec[col] = true
				continue
			}
			return nil, err
		}
		cols, _, err := table.ReadAll(r, fields)
		r.Close()
		if col := table.VectorColumn(err); col != "" && !vec[col] && attempt <= len(fields) {
			vec[col] = true
			continue
		}
		if col := validate.NotNumberColumn(err); col != "" && !text[col] && attempt <= len(fields) {
			text[col] = true
			continue
		}
		if err != nil {
			return nil, err
		}
		for i := range cols {
			if cols[i].Kind == table.String {
				if c, ok := table.InferNumeric(&cols[i]); ok {
					cols[i] = c
				}
			}
		}
		return cols, nil
	}
}

// asText turns a numeric column into text (for a column numeric in one
// data set and categorical in the other).
func asText(c table.Column) table.Column {
	if c.Kind == table.String {
		return c
	}
	out := table.Column{Name: c.Name, Kind: table.String, Str: make([]string, len(c.Num))}
	for i, x := range c.Num {
		if x != x {
			out.SetNull(i)
			continue
		}
		out.Str[i] = string(table.AppendFloat(nil, x))
	}
	return out
}

func writeDrift(cmd *cobra.Command, o driftOptions, res *driftResult) error {
	ref := o.reference
	if ref == "" {
		ref = "training profile in " + o.artifact
	}
	f := driftcheck.Found{Report: res.Report, Anomalies: res.Anomalies, Validated: res.validated, Vectors: res.Vectors}
	out, err := f.Render(o.format, ref, o.current, colorOutput(cmd, o.out))
	if err != nil {
		return err
	}
	return writeOutput(cmd, o.out, out)
}
