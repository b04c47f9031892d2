package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/table"
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
--candidate artifact), wrong_parameters (reports the center and scale used),
wrong_transform, impute_order, columns_swapped or unknown_mismatch.

Without --raw (unpaired), each observed column is judged against the profile
of the artifact's outputs alone: ok, not_normalized, double_normalized,
per_batch_statistics (--batch-size N or --batch-column C when rows arrive in
batches; without either, evident blocks are searched for), wrong_parameters or
drift (the pipeline looks right but its input moved).

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
			if o.format != "table" && o.format != "json" {
				return fmt.Errorf("diagnose: --format must be table or json, got %q", o.format)
			}
			rep, err := runDiagnose(o)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if o.format == "json" {
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				buf.Write(append(b, '\n'))
			} else {
				writeDiagnoseTable(&buf, rep)
			}
			if o.out != "" {
				err = artifact.WriteFileAtomic(o.out, buf.Bytes())
			} else {
				_, err = cmd.OutOrStdout().Write(buf.Bytes())
			}
			if err != nil {
				return err
			}
			if rep.Mismatched() {
				return errFound
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "the artifact the model was trained with")
	f.StringVar(&o.observed, "observed", "", "the features production fed the model (.csv, .parquet, .jsonl)")
	f.StringVar(&o.raw, "raw", "", "the rows production received, same rows in the same order")
	f.StringArrayVar(&o.candidates, "candidate", nil, "another artifact production may have used (repeatable)")
	f.IntVar(&o.batchSize, "batch-size", 0, "unpaired: rows arrived in consecutive batches of this size")
	f.StringVar(&o.batchColumn, "batch-column", "", "unpaired: a column of OBS naming each row's batch")
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	f.StringVar(&o.out, "out", "", "write the report to this file instead of standard output")
	return cmd
}

func runDiagnose(o diagnoseOptions) (*diagnose.Report, error) {
	a, err := artifact.Load(o.artifact)
	if err != nil {
		return nil, err
	}
	var cands []*artifact.Artifact
	for _, c := range o.candidates {
		ca, err := artifact.Load(c)
		if err != nil {
			return nil, err
		}
		cands = append(cands, ca)
	}
	var outs []table.Field
	for _, f := range artifact.TableFields(a.Outputs) {
		if f.Kind == table.Numeric {
			outs = append(outs, f)
		}
	}
	if o.raw == "" { // unpaired
		fields := outs
		if o.batchColumn != "" {
			fields = append(append([]table.Field(nil), outs...), table.Field{Name: o.batchColumn, Kind: table.String})
		}
		cols, err := readFields(o.observed, fields)
		if err != nil {
			return nil, err
		}
		opt := diagnose.UnpairedOptions{BatchSize: o.batchSize}
		if o.batchColumn != "" {
			key := cols[len(cols)-1]
			cols = cols[:len(cols)-1]
			opt.BatchColumn = key.Str
		}
		return diagnose.Unpaired(a, cols, opt)
	}
	raw, err := readFields(o.raw, artifact.TableFields(a.Inputs))
	if err != nil {
		return nil, err
	}
	observed, err := readFields(o.observed, outs)
	if err != nil {
		return nil, err
	}
	return diagnose.Paired(a, raw, observed, cands)
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
	cols, _, err := table.ReadAll(r, fields)
	return cols, err
}

func writeDiagnoseTable(b *bytes.Buffer, rep *diagnose.Report) {
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tVERDICT\tEVIDENCE")
	for _, v := range rep.Features {
		keys := make([]string, 0, len(v.Evidence))
		for k := range v.Evidence {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v.Evidence[k]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, v.Verdict, strings.Join(parts, " "))
	}
	tw.Flush()
	b.WriteString("\n")
	for _, v := range rep.Features {
		if v.Verdict != diagnose.OK {
			fmt.Fprintf(b, "%s: %s\n", v.Name, v.Explanation)
		}
	}
}
