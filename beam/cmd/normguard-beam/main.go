// Command normguard-beam fits a normguard spec on sharded training data
// with an Apache Beam pipeline, on Prism (in process), Flink, Spark or
// Dataflow, and writes the artifact `normguard fit` writes for the same
// rows, byte for byte.
//
//	normguard-beam fit --spec S --data 'PATTERN' --out A [--model NAME --model-version V] [--runner prism|flink|spark|dataflow] [runner flags]
//
// Runner flags are Beam's own (--runner, --endpoint, --environment_type,
// --project, --region, --temp_location, ...): see beam/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3" // s3:// data and artifacts
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx" // runners, gs:// and local files

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/spec"
)

// Exit statuses, as the normguard CLI uses them.
const (
	exitOK    = 0
	exitError = 2
)

const usage = `usage: normguard-beam fit --spec S --data 'PATTERN' --out A [--model NAME --model-version V] [--runner prism|flink|spark|dataflow] [runner flags]

  --data takes local or gs:// / s3:// globs, comma-separated; shards are read
  in path order, and the artifact equals 'normguard fit' on their rows in
  that order. Runner flags are Beam's (see beam/README.md).
`

// fitFlags are normguard-beam's own flags; they live on the global flag
// set beside Beam's (--runner is Beam's: defining it again panics).
var (
	specPath     = flag.String("spec", "", "spec file (YAML or JSON)")
	dataPattern  = flag.String("data", "", "training data: local or gs:// / s3:// globs, comma-separated (.csv, .parquet, .jsonl)")
	outPath      = flag.String("out", "", "artifact to write (local path or gs:// / s3:// URL)")
	model        = flag.String("model", "", "model name the artifact belongs to")
	modelVersion = flag.String("model-version", "", "model version the artifact belongs to")
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args ("fit" and its flags, or Beam's worker flags when a
// runner starts this binary as a worker) and fits; it returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	isFit := len(args) > 0 && args[0] == "fit"
	if isFit {
		args = args[1:]
	} else if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	flag.CommandLine.SetOutput(stderr)
	if err := flag.CommandLine.Parse(args); err != nil {
		return exitError
	}
	beam.Init() // in worker mode this runs the worker and never returns
	if !isFit {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	if err := fit(ctx, stdout); err != nil {
		fmt.Fprintf(stderr, "normguard-beam: %v\n", err)
		return exitError
	}
	return exitOK
}

func fit(ctx context.Context, stdout io.Writer) error {
	var missing []string
	for _, f := range []struct{ name, value string }{{"--spec", *specPath}, {"--data", *dataPattern}, {"--out", *outPath}} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("fit: missing %s; %s", strings.Join(missing, ", "), strings.SplitN(usage, "\n", 2)[0])
	}
	sp, err := spec.ParseFile(*specPath)
	if err != nil {
		return err
	}
	plan, err := beamfit.NewPlan(ctx, beamfit.Options{Spec: sp, Data: *dataPattern, Out: *outPath, Model: *model, ModelVersion: *modelVersion})
	if err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := beamfit.Build(s, plan); err != nil {
		return err
	}
	if err := beamx.Run(ctx, p); err != nil {
		return fmt.Errorf("fit %s on runner %s: %w", *dataPattern, runnerName(), err)
	}
	if strings.Contains(*outPath, "://") {
		fmt.Fprintf(stdout, "fitted %d shards -> %s\n", len(plan.Shards), *outPath)
		return nil
	}
	a, err := artifact.Load(*outPath)
	if err != nil {
		return errors.Join(errors.New("fit finished but the artifact does not load"), err)
	}
	fmt.Fprintf(stdout, "fitted %d groups on %d rows from %d shards -> %s (%d output columns)\n%s\n",
		len(a.Groups), a.Training.Rows, len(plan.Shards), *outPath, len(a.Outputs), a.Digest)
	return nil
}

func runnerName() string {
	if *runners.Runner == "" {
		return "prism"
	}
	return *runners.Runner
}
