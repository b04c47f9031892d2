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
	format, out             string
}

func newDiagnoseCmd() *cobra.Command {
	var o diagnoseOptions
	cmd := &cobra.Command{
		Use:   "diagnose --artifact A --observed OBS --raw RAW [--candidate A2 ...]",
		Short: "Find how the features a model was fed differ from what the artifact produces, and name the cause",
		Long: `Compare the features production fed the model (OBS) with what the artifact
produces from the rows production received (RAW: same rows, same order), column
by column, and name the cause of any mismatch: precision_loss, not_normalized,
double_normalized, per_batch_statistics, stale_parameters (matches a
--candidate artifact), wrong_parameters (reports the center and scale used),
wrong_transform, impute_order, columns_swapped or unknown_mismatch.

Exit status 0: every column ok; 1: a mismatch found; 2: error.
(Unpaired mode, without --raw, comes next.)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "artifact", "observed"); err != nil {
				return err
			}
			if o.raw == "" {
				return fmt.Errorf("diagnose: --raw is required for now (paired mode); unpaired mode, from the training profile alone, comes in a later release")
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
	raw, err := readFields(o.raw, artifact.TableFields(a.Inputs))
	if err != nil {
		return nil, err
	}
	var outs []table.Field
	for _, f := range artifact.TableFields(a.Outputs) {
		if f.Kind == table.Numeric {
			outs = append(outs, f)
		}
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
