package main

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
	"github.com/normguard/normguard/validate"
)

type diagnoseOptions struct {
	artifact, observed, raw string
	candidates              []string
	batchSize               int
	batchColumn             string
	format, out             string
}

func newDiagnoseCmd() *cobra.Command {
	var o diagnoseOptions
	cmd := &cobra.Command{
		Use:   "diagnose --artifact A --observed OBS [--raw RAW] [--candidate A2 ...] [--batch-size N | --batch-column C]",
		Short: "Find how the features a model was fed differ from what the artifact produces, and name the cause",
		Long: `Compare the features production fed the model (OBS) with what the artifact
produces from the rows production received (RAW: same rows, same order), column
by column, and name the cause of any mismatch: precision_loss, not_normalized,
double_normalized, per_batch_statistics, stale_parameters (matches a
--candidate artifact, named by file, model version and digest),
wrong_parameters (reports the center and scale used), wrong_transform (another
scaler kind fitted on the same training data, also after log1p or an imputer),
impute_order (missing values filled otherwise, or a scaler fitted before
imputing), columns_swapped or unknown_mismatch.
One-hot and ordinal outputs are judged per category: categories moved to
another column or code, unseen or missing categories handled differently,
categories never encoded.

A candidate is judged with its own output schema: when OBS lacks outputs of the
artifact but holds every output of a --candidate (a refitted one-hot encoder
that kept other categories, say), the absent columns and the candidate's own
columns are reported as stale_parameters instead of refusing the file. Without
--raw, a mismatched column distributed like a candidate's training output is
stale_parameters too.

Without --raw (unpaired), each observed column is judged against the profile
of the artifact's outputs alone: ok, not_normalized, double_normalized,
per_batch_statistics (--batch-size N or --batch-column C when rows arrive in
batches; without either, evident blocks are searched for), wrong_transform,
wrong_parameters, columns_swapped (a column distributed like another column's
training output and that column like its own) or drift (the pipeline looks
right but its input moved). Explanations speak of missing values only where
the training data had some.

With --raw, the raw rows are first checked against the artifact by the
rules of normguard validate; anomalies found (a missing-rate change, values
out of the training range, unseen categories, ...) lead the report
("anomalies" in the JSON) and make the exit status 1.

Every format lists the mismatched columns first, then the ok ones.
--format html writes a self-contained page: per feature the verdict, what
the values show, the likely fix, the evidence and a plot (observed against
expected values, or the two distributions when unpaired).

Exit status 0: every column ok; 1: a mismatch found; 2: error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "artifact", "observed"); err != nil {
				return err
			}
			if o.raw != "" && (o.batchSize != 0 || o.batchColumn != "") {
				return fmt.Errorf("diagnose: --batch-size and --batch-column are for unpaired mode (without --raw)")
			}
			if o.batchSize < 0 {
				return fmt.Errorf("diagnose: --batch-size must be positive, got %d", o.batchSize)
			}
			if o.format != "table" && o.format != "json" && o.format != "html" {
				return fmt.Errorf("diagnose: --format must be table, json or html, got %q", o.format)
			}
			rep, anomalies, err := runDiagnose(o)
			if err != nil {
				return err
			}
			if err := writeDiagnose(cmd, o, rep, anomalies); err != nil {
				return err
			}
			if rep.Mismatched() || len(anomalies) > 0 {
				return errFound
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "the artifact the model was trained with")
	f.StringVar(&o.observed, "observed", "", "the features production fed the model (.csv, .parquet, .jsonl)")
	f.StringVar(&o.raw, "raw", "", "the rows production received, same rows in the same order")
	f.StringArrayVar(&o.candidates, "candidate", nil, "another artifact production may have used, judged with its own output columns (repeatable)")
	f.IntVar(&o.batchSize, "batch-size", 0, "unpaired: rows arrived in consecutive batches of this size")
	f.StringVar(&o.batchColumn, "batch-column", "", "unpaired: a column of OBS naming each row's batch")
	f.StringVar(&o.format, "format", "table", "output format: table, json or html (a self-contained page with a plot per feature)")
	f.StringVar(&o.out, "out", "", "write the report to this file instead of standard output")
	addDelimiterFlag(cmd, "raw", "observed")
	return cmd
}

// runDiagnose diagnoses the observed features; with --raw it first checks
// the raw rows against the artifact by normguard validate's rules and
// returns the anomalies found too (nil without --raw).
func runDiagnose(o diagnoseOptions) (*diagnose.Report, []validate.Anomaly, error) {
	a, err := artifact.Load(o.artifact)
	if err != nil {
		return nil, nil, err
	}
	if o.raw == "" {
		rep, err := diagnoseAll(o, a, nil)
		return rep, nil, err
	}
	d, err := validate.Read(o.raw, a)
	if err != nil {
		return nil, nil, err
	}
	vrep, err := validate.CheckData(a, d, validate.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("diagnose: %w", err)
	}
	// The diagnosis reads the inputs, not the header's other names (there
	// may be millions): let them go before the observed file is read.
	d.Header = nil
	anomalies := vrep.Anomalies
	if anomalies == nil {
		anomalies = []validate.Anomaly{}
	}
	rep, err := diagnoseAll(o, a, d)
	if err != nil {
		err = locateRaw(err, o.raw, a)
		for _, an := range anomalies {
			if an.Code == validate.MissingColumn || an.Code == validate.TypeChange {
				return nil, nil, fmt.Errorf("%w\n(the raw rows do not match the artifact's inputs: %s %s; `normguard validate --artifact %s --data %s` lists every difference)",
					err, an.Column, an.Code, o.artifact, o.raw)
			}
		}
		return nil, nil, err
	}
	return rep, anomalies, nil
}

// locateRaw names the raw file and line of a value the artifact cannot
// transform, as transform names them ("big.csv:2: ..."): the diagnosis
// transforms the raw rows in memory and says "raw:N", N the 1-based row
// (attack run 18 F7c). The line is found by reading the file again, on
// this error only.
func locateRaw(err error, path string, a *artifact.Artifact) error {
	var re *transform.RowError
	if !errors.As(err, &re) || re.Source != "raw" || re.Line < 1 {
		return err
	}
	loc := fmt.Sprintf("%s, row %d", path, re.Line)
	if line, ok := rawLine(path, a, re.Line); ok {
		loc = fmt.Sprintf("%s:%d", path, line)
	}
	return fmt.Errorf("diagnose: transform raw rows: %s: %w", loc, re.Err)
}

// rawLine returns the source line of the 1-based data row of a file, as
// its reader numbers lines; false when the file cannot be read again or
// has fewer rows.
func rawLine(path string, a *artifact.Artifact, row int64) (int64, bool) {
	r, err := validate.OpenFor(path, a)
	if err != nil {
		return 0, false
	}
	defer r.Close()
	h := r.Header()
	if len(h) == 0 {
		return 0, false
	}
	// A .npy file has no lines: its row is named as such.
	if err := r.Project([]table.Field{{Name: h[0], Kind: table.String}}); err != nil {
		return 0, false
	}
	var seen int64
	for r.Next() {
		b := r.Batch()
		if row <= seen+int64(b.Rows) {
			return b.Line(int(row - seen - 1)), true
		}
		seen += int64(b.Rows)
	}
	return 0, false
}

// diagnoseFeatures judges the observed features: unpaired without --raw,
// else against the raw rows (d, read once by validate.Read: the inputs'
// columns, a numeric one holding text read as text).
func diagnoseFeatures(o diagnoseOptions, a *artifact.Artifact, d *validate.Data) (*diagnose.Report, error) {
	var cands []diagnose.Candidate
	for _, c := range o.candidates {
		ca, err := artifact.Load(c)
		if err != nil {
			return nil, err
		}
		cands = append(cands, diagnose.Candidate{Artifact: ca, File: c})
	}
	var outs []table.Field
	for _, f := range artifact.TableFields(a.Outputs) {
		if f.Kind == table.Numeric {
			outs = append(outs, f)
		}
	}
	if o.raw == "" { // unpaired
		fields, err := presentOutputs(o.observed, outs, cands)
		if err != nil {
			return nil, err
		}
		if o.batchColumn != "" {
			fields = append(append([]table.Field(nil), fields...), table.Field{Name: o.batchColumn, Kind: table.String})
		}
		cols, err := readFields(o.observed, fields)
		if err != nil {
			return nil, err
		}
		opt := diagnose.UnpairedOptions{BatchSize: o.batchSize, Candidates: cands}
		if o.batchColumn != "" {
			key := cols[len(cols)-1]
			cols = cols[:len(cols)-1]
			opt.BatchColumn = key.Str
		}
		return diagnose.Unpaired(a, cols, opt)
	}
	raw, err := rawInputs(o.raw, a, d)
	if err != nil {
		return nil, err
	}
	// A candidate is judged with its own output schema: read the outputs
	// of the artifact and of every candidate that the file holds, and let
	// the diagnosis say what an absent column means.
	outs, err = presentOutputs(o.observed, outs, cands)
	if err != nil {
		return nil, err
	}
	observed, err := readFields(o.observed, outs)
	if errors.Is(err, errNoObservedRows) {
		return nil, err
	}
	if err != nil {
		// Categories fed as text (never encoded) fail the numeric read:
		// read the columns as the file has them and let the diagnosis
		// name what it finds. Anything else keeps the first error.
		loose, lerr := readObservedAsIs(o.observed, a, outs)
		if lerr != nil {
			return nil, err
		}
		if rep, perr := diagnose.Paired(a, raw, loose, cands); perr == nil {
			return rep, nil
		}
		return nil, err
	}
	return diagnose.Paired(a, raw, observed, cands)
}

// rawInputs returns the artifact's input columns from the data validate
// read, in the artifact's order; a missing column or a numeric one holding
// text is an error naming it.
func rawInputs(path string, a *artifact.Artifact, d *validate.Data) ([]table.Column, error) {
	byName := map[string]table.Column{}
	for _, c := range d.Cols {
		byName[c.Name] = c
	}
	cols := make([]table.Column, 0, len(a.Inputs))
	for _, f := range artifact.TableFields(a.Inputs) {
		c, ok := byName[f.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("diagnose: %s has no column %q, an input of the artifact; pass the rows production received, with the artifact's input columns", path, f.Name)
		case c.Kind != f.Kind:
			return nil, fmt.Errorf("diagnose: %s: column %q holds values that are not numbers; the artifact reads it as numeric", path, f.Name)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// presentOutputs returns the numeric outputs of the artifact (outs) and of
// the candidates that the observed file's header holds, each once, the
// artifact's first.
func presentOutputs(path string, outs []table.Field, cands []diagnose.Candidate) ([]table.Field, error) {
	var names []string
	for _, f := range outs {
		names = append(names, f.Name)
	}
	for _, c := range cands {
		for _, f := range c.Artifact.Outputs {
			names = append(names, f.Name)
		}
	}
	header, err := fileHeader(path, names)
	if err != nil {
		return nil, err
	}
	var fields []table.Field
	seen := map[string]bool{}
	add := func(f table.Field) {
		if f.Kind == table.Numeric && header[f.Name] && !seen[f.Name] {
			seen[f.Name] = true
			fields = append(fields, f)
		}
	}
	for _, f := range outs {
		add(f)
	}
	for _, c := range cands {
		for _, f := range artifact.TableFields(c.Artifact.Outputs) {
			add(f)
		}
	}
	return fields, nil
}

// fileHeader returns which of names a data file's header holds: a set
// the size of names, not of the header, which may hold millions of
// columns (attack run 8 F6).
func fileHeader(path string, names []string) (map[string]bool, error) {
	return fileHeaderFor(path, nil, names)
}

// fileHeaderFor is fileHeader of a file read for artifact a (a lone .npy
// is read as a's only vector column: validate.OpenFor).
func fileHeaderFor(path string, a *artifact.Artifact, names []string) (map[string]bool, error) {
	r, err := validate.OpenFor(path, a)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	header := make(map[string]bool, len(names))
	for _, n := range names {
		header[n] = false
	}
	for _, h := range r.Header() {
		if _, ok := header[h]; ok {
			header[h] = true
		}
	}
	return header, nil
}

// readObservedAsIs reads the outputs and the categorical inputs that the
// observed file holds, each as numbers when every present value is one
// and as text otherwise.
func readObservedAsIs(path string, a *artifact.Artifact, outs []table.Field) ([]table.Column, error) {
	names := make([]string, 0, len(outs))
	for _, f := range outs {
		names = append(names, f.Name)
	}
	for _, g := range a.Groups {
		if g.Type == "categorical" {
			names = append(names, g.Columns...)
		}
	}
	header, err := fileHeader(path, names)
	if err != nil {
		return nil, err
	}
	var fields []table.Field
	seen := map[string]bool{}
	add := func(name string) {
		if header[name] && !seen[name] {
			seen[name] = true
			fields = append(fields, table.Field{Name: name, Kind: table.String})
		}
	}
	for _, f := range outs {
		add(f.Name)
	}
	for _, g := range a.Groups {
		if g.Type == "categorical" {
			for _, c := range g.Columns {
				add(c)
			}
		}
	}
	cols, err := readFields(path, fields)
	if err != nil {
		return nil, err
	}
	for i := range cols {
		if c, ok := table.InferNumeric(&cols[i]); ok {
			cols[i] = c
		}
	}
	return cols, nil
}

// readFields reads the given columns of a data file.
func readFields(path string, fields []table.Field) ([]table.Column, error) {
	r, err := table.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if err := r.Project(fields); err != nil {
		return nil, err
	}
	cols, rows, err := table.ReadAll(r, fields)
	if err == nil && rows == 0 {
		return nil, fmt.Errorf("diagnose: %s %w", path, errNoObservedRows)
	}
	return cols, err
}

// errNoObservedRows is wrapped when the observed features have a header
// at most: there is nothing to judge, which is not a mismatch.
var errNoObservedRows = errors.New("has no rows (a header at most); there is nothing to diagnose: pass the features production fed the model")

// writeDiagnose renders the report in the chosen format to --out
// (written atomically: a reader sees the old file or the whole new one) or
// standard output.
func writeDiagnose(cmd *cobra.Command, o diagnoseOptions, rep *diagnose.Report, anomalies []validate.Anomaly) error {
	var buf bytes.Buffer
	var err error
	switch {
	case o.format == "json" && anomalies != nil:
		err = report.CheckedDiagnoseJSON(&buf, rep, anomalies)
	case o.format == "json":
		err = report.DiagnoseJSON(&buf, rep)
	case o.format == "html":
		err = report.DiagnoseHTML(&buf, rep, report.DiagnoseMeta{Artifact: o.artifact, Observed: o.observed, Raw: o.raw, Candidates: o.candidates, Anomalies: anomalies})
	default:
		if len(anomalies) > 0 {
			err = report.AnomaliesTable(&buf, anomalies, colorOutput(cmd, o.out))
		}
		if err == nil {
			err = report.DiagnoseTable(&buf, rep, colorOutput(cmd, o.out))
		}
	}
	if err != nil {
		return err
	}
	return writeOutput(cmd, o.out, buf.Bytes())
}
