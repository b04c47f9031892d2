package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/timings"
	"github.com/normguard/normguard/transform"
	"github.com/normguard/normguard/validate"
)

type transformOptions struct {
	artifact, in, out string
	quiet, timings    bool
}

func newTransformCmd() *cobra.Command {
	var o transformOptions
	cmd := &cobra.Command{
		Use:   "transform --artifact A --in IN --out OUT",
		Short: "Apply an artifact exactly as it was fitted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "artifact", "in", "out"); err != nil {
				return err
			}
			rows, err := runTransform(cmd, o)
			if err != nil {
				return err
			}
			if !o.quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "transformed %d rows -> %s\n", rows, o.out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "artifact written by normguard fit")
	f.StringVar(&o.in, "in", "", "input data (.csv, .parquet, .jsonl; - for CSV on stdin)")
	f.StringVar(&o.out, "out", "", "output file (.csv, .parquet, .jsonl; - for CSV on stdout)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	f.BoolVar(&o.timings, "timings", false, "print the busy time of each stage (parse, transform, format, write) to stderr; stages run in parallel and overlap")
	addDelimiterFlag(cmd, "in", "out")
	return cmd
}

// streamMemoryLimit is the Go heap's soft limit during a streaming
// transform (unless GOMEMLIMIT is set). A transform holds a few batches at
// a time (about 75 MB live on the benchmark table), so the collector runs
// only when the limit is reached (GOGC off, unless GOGC is set): the
// collections that followed the heap's growth to its working size, and
// the ones after, cost more than the memory they kept from the system
// (benchmark CSV transform 1.86 -> 1.64 s, 2.71 -> 2.31 s of CPU; peak
// RSS 130 -> 168 MB).
const streamMemoryLimit = 160 << 20

func runTransform(cmd *cobra.Command, o transformOptions) (int64, error) {
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(streamMemoryLimit))
		if os.Getenv("GOGC") == "" {
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
		}
	}
	var tim *timings.Recorder
	if o.timings {
		tim = timings.New()
		defer tim.Write(cmd.ErrOrStderr())
	}
	t0 := time.Now()
	a, err := artifact.Load(o.artifact)
	if err != nil {
		return 0, err
	}
	t, err := transform.New(a)
	if err != nil {
		return 0, err
	}
	t.Timings = tim
	tim.Since("artifact", t0)
	r, err := validate.OpenFor(o.in, a) // a lone .npy is read as a's only vector column
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := table.Create(o.out, t.Outputs())
	if err != nil {
		return 0, err
	}
	stop := startProgress(cmd.ErrOrStderr(), r, "transform")
	rows, err := t.Stream(cmd.Context(), r, w, o.in)
	stop()
	if err != nil {
		w.Abort()
		return rows, err
	}
	return rows, w.Close()
}
