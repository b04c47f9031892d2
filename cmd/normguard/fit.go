package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

type fitOptions struct {
	spec, data, out     string
	transformOut        string
	model, modelVersion string
	chunkSize, workers  int
	quiet               bool
}

func newFitCmd() *cobra.Command {
	var o fitOptions
	cmd := &cobra.Command{
		Use:   "fit --spec S --data TRAIN --out A",
		Short: "Fit a spec on the whole training set and write an artifact",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "spec", "data", "out"); err != nil {
				return err
			}
			a, err := runFit(cmd, o)
			if err != nil {
				return err
			}
			if !o.quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "fitted %d groups on %d rows -> %s (%d output columns)\n%s\n",
					len(a.Groups), a.Training.Rows, o.out, len(a.Outputs), a.Digest)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.spec, "spec", "", "spec file (YAML or JSON)")
	f.StringVar(&o.data, "data", "", "training data (.csv, .parquet, .jsonl; - for CSV on stdin)")
	f.StringVar(&o.out, "out", "", "artifact file to write")
	f.StringVar(&o.transformOut, "transform-out", "", "also write the training data transformed by the new artifact (fit_transform; reads the data once)")
	f.StringVar(&o.model, "model", "", "model name the artifact belongs to")
	f.StringVar(&o.modelVersion, "model-version", "", "model version the artifact belongs to")
	f.IntVar(&o.chunkSize, "chunk-size", 0, "rows per accumulation chunk (never changes the result)")
	f.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "parallel workers (never changes the result)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	return cmd
}

func runFit(cmd *cobra.Command, o fitOptions) (*artifact.Artifact, error) {
	sp, err := spec.ParseFile(o.spec)
	if err != nil {
		return nil, err
	}
	r, err := table.Open(o.data)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	stop := startProgress(cmd.ErrOrStderr(), r, "fit")
	a, train, err := fit.FitTransform(cmd.Context(), sp, r, fit.Options{
		Model: o.model, ModelVersion: o.modelVersion,
		ChunkSize: o.chunkSize, Workers: o.workers, Source: o.data,
	})
	stop()
	if err != nil {
		return nil, err
	}
	if o.transformOut != "" {
		w, err := table.Create(o.transformOut, artifact.TableFields(a.Outputs))
		if err != nil {
			return nil, err
		}
		if err := w.Write(train); err != nil {
			w.Abort()
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	}
	if _, err := artifact.Save(a, o.out); err != nil {
		return nil, err
	}
	return a, nil
}
