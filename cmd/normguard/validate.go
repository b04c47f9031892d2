package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/report"
	"github.com/normguard/normguard/validate"
)

type validateOptions struct {
	artifact, data   string
	columns, exclude []string
	format, out      string
	canaries         string // vector columns (validate_vector.go)
}

func newValidateCmd() *cobra.Command {
	var o validateOptions
	cmd := &cobra.Command{
		Use:   "validate --artifact A --data D",
		Short: "Schema and data anomalies of a data set against an artifact (exit 1 when found)",
		Long: `Check a data set against the inputs and the training profile of an artifact,
as TensorFlow Data Validation does, and list each anomaly with its numbers
(training vs now) and a fix. Exit status 0: no anomaly, 1: anomalies found,
2: error (an empty or header-only file, an unreadable file, a column the
artifact's profile does not describe).

Anomaly codes, per input column:
  missing_column       the column is not in the data
  unexpected_column    a data column the artifact does not read: reported
                       when the spec's remainder is passthrough (the training
                       data had no such column) or when its name is close to
                       a missing input's (a renamed header); otherwise it is
                       listed as ignored (dropped by the spec); more
                       than 20 make one anomaly with "count" and the
                       first 20 names in "columns" (a renamed header
                       keeps its own), and past 20 ignored ones the
                       report names 20 and gives "ignored_count"
  type_change          a numeric column holding text (any such value: the
                       transform cannot read it), or a time column whose
                       values no longer parse with the training layout
  missing_rate_change  the share of missing cells changed
  out_of_range         values outside the training [min, max]
  unseen_categories    categories never seen in training (only where the
                       training categories are known completely: an
                       encoder's categories, or a profile without "other";
                       never for identifier columns); any unseen value when
                       the encoder has handle_unknown: error
  other_categories     more values outside the profile's top categories
                       that stand clearly above its cut than at training
                       (the categories are not all known)
  constant_column      one value now, several at training
  empty_column         every value missing now, present at training

The rule for a share (missing, out of range, unseen, unparsed times) asks
for a test AND an effect size, so that large files do not flag harmless
differences and small ones do not flag noise: Fisher's exact test on the
counts (training vs now) with p < 0.05 AND Cohen's
h = |2 asin sqrt(p1) - 2 asin sqrt(p2)| >= 0.2 (0% -> 1% is 0.20, 24% -> 8%
is 0.45, 40% -> 45% is 0.10). Out-of-range values are tested against 0 at
training with the exact exceedance probability for exchangeable data; unseen
categories against the training share of categories seen once. A column is
constant when m >= 5 present values are equal and the chance of that under
the training distribution (at most pmax^(m-1)) is below 0.05; empty when all
rows are missing and (training missing rate)^rows < 0.05.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "artifact", "data"); err != nil {
				return err
			}
			rep, err := runValidate(o)
			if err != nil {
				return err
			}
			if err := writeValidate(cmd, o, rep); err != nil {
				return err
			}
			if rep.Found() {
				return errFound
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "artifact whose inputs and training profile the data is checked against")
	f.StringVar(&o.data, "data", "", "data set to check (.csv, .parquet, .jsonl)")
	f.StringSliceVar(&o.columns, "columns", nil, "check only these input columns (comma-separated)")
	f.StringSliceVar(&o.exclude, "exclude", nil, "leave these input columns out (comma-separated)")
	f.StringVar(&o.format, "format", "table", "output format: table, json or html")
	f.StringVar(&o.out, "out", "", "write the report to this file instead of standard output")
	f.StringVar(&o.canaries, "canaries", "", "the current model's vectors for the contracts' canary inputs: JSON Lines of {\"id\": ..., \"vector\": [...]} (model_swapped when they differ)")
	addDelimiterFlag(cmd, "data")
	return cmd
}

func runValidate(o validateOptions) (*validate.Report, error) {
	if o.format != "table" && o.format != "json" && o.format != "html" {
		return nil, fmt.Errorf("validate: --format must be table, json or html, got %q", o.format)
	}
	a, err := artifact.Load(o.artifact)
	if err != nil {
		return nil, err
	}
	opt := validate.Options{Columns: trimAll(o.columns), Exclude: trimAll(o.exclude)}
	if err := opt.Validate(validateInputs(a)); err != nil {
		return nil, err
	}
	if opt.Vectors, err = validateVectorOptions(o); err != nil {
		return nil, err
	}
	d, err := validate.Read(o.data, a)
	if err != nil {
		return nil, err
	}
	return validate.CheckData(a, d, opt)
}

// trimAll trims spaces around each name and drops empty ones.
func trimAll(names []string) []string {
	var out []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func writeValidate(cmd *cobra.Command, o validateOptions, rep *validate.Report) error {
	var buf bytes.Buffer
	var err error
	switch o.format {
	case "json":
		err = report.ValidateJSON(&buf, rep)
	case "html":
		err = report.ValidateHTML(&buf, rep, report.ValidateMeta{Artifact: o.artifact + " (" + rep.ArtifactDigest + ")", Data: o.data})
	default:
		err = report.ValidateTable(&buf, rep, colorOutput(cmd, o.out))
	}
	if err != nil {
		return err
	}
	return writeOutput(cmd, o.out, buf.Bytes())
}

func validateInputs(a *artifact.Artifact) []string {
	out := make([]string, len(a.Inputs))
	for i, f := range a.Inputs {
		out[i] = f.Name
	}
	for _, e := range a.Embeddings {
		out = append(out, e.Column)
	}
	return out
}
