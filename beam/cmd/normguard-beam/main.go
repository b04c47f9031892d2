// Command normguard-beam runs normguard's jobs as Apache Beam pipelines,
// on Prism (in process), Flink, Spark or Dataflow, with the results of the
// local commands: fit writes the artifact `normguard fit` writes for the
// same rows, byte for byte; transform writes shards whose concatenation is
// the file `normguard transform` writes.
//
//	normguard-beam fit --spec S --data 'PATTERN' --out A [--model NAME --model-version V] [--runner prism|flink|spark|dataflow] [runner flags]
//	normguard-beam transform --artifact A --in 'PATTERN' --out PREFIX.csv [--split-bytes N] [--runner ...] [runner flags]
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
	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/spec"
)

// Exit statuses, as the normguard CLI uses them.
const (
	exitOK    = 0
	exitError = 2
)

const usage = `usage: normguard-beam fit --spec S --data 'PATTERN' --out A [--model NAME --model-version V] [--runner prism|flink|spark|dataflow] [runner flags]
       normguard-beam transform --artifact A --in 'PATTERN' --out PREFIX.csv [--split-bytes N] [--runner ...] [runner flags]

  --data and --in take local or gs:// / s3:// globs, comma-separated; files
  are read in path order. fit's artifact equals 'normguard fit' on their
  rows in that order; transform writes PREFIX-00000-of-0000N.csv (or .tsv,
  .jsonl), whose concatenation equals 'normguard transform' on those rows.
  Runner flags are Beam's (see beam/README.md).
`

// fitFlags are normguard-beam's own flags; they live on the global flag
// set beside Beam's (--runner is Beam's: defining it again panics).
var (
	specPath     = flag.String("spec", "", "spec file (YAML or JSON)")
	dataPattern  = flag.String("data", "", "training data: local or gs:// / s3:// globs, comma-separated (.csv, .parquet, .jsonl)")
	outPath      = flag.String("out", "", "artifact to write (local path or gs:// / s3:// URL)")
	model        = flag.String("model", "", "model name the artifact belongs to")
	modelVersion = flag.String("model-version", "", "model version the artifact belongs to")
	artifactPath = flag.String("artifact", "", "transform: the artifact to apply (local path or gs:// / s3:// URL)")
	inPattern    = flag.String("in", "", "transform: input data, local or gs:// / s3:// globs, comma-separated (.csv, .tsv, .parquet, .jsonl)")
	splitBytes   = flag.Int64("split-bytes", beamtransform.DefaultSplitBytes, "transform: cut uncompressed CSV and JSON Lines inputs into byte ranges of about this size (0 or less: one range per file)")
)

// commands are normguard-beam's subcommands.
var commands = map[string]func(context.Context, io.Writer) error{
	"fit":       fit,
	"transform": transformCmd,
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args ("fit" and its flags, or Beam's worker flags when a
// runner starts this binary as a worker) and fits; it returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cmd func(context.Context, io.Writer) error
	if len(args) > 0 {
		cmd = commands[args[0]]
	}
	if cmd != nil {
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
	if cmd == nil {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	if err := cmd(ctx, stdout); err != nil {
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

// transformCmd applies an artifact to the --in files and writes the
// shards named by --out.
func transformCmd(ctx context.Context, stdout io.Writer) error {
	var missing []string
	for _, f := range []struct{ name, value string }{{"--artifact", *artifactPath}, {"--in", *inPattern}, {"--out", *outPath}} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("transform: missing %s; %s", strings.Join(missing, ", "), strings.Split(usage, "\n")[1])
	}
	split := *splitBytes
	if split == 0 {
		split = -1 // the flag's 0 means one range per file
	}
	p, err := beamtransform.NewPlan(ctx, beamtransform.Options{Artifact: *artifactPath, In: *inPattern, Out: *outPath, SplitBytes: split})
	if err != nil {
		return err
	}
	pipe, s := beam.NewPipelineWithRoot()
	beamtransform.Build(s, p)
	if err := beamx.Run(ctx, pipe); err != nil {
		return fmt.Errorf("transform %s on runner %s: %w", *inPattern, runnerName(), err)
	}
	fmt.Fprintf(stdout, "transformed %d files -> %d shards %s\n", len(p.Files), len(p.Ranges),
		beamtransform.ShardName(*outPath, 0, len(p.Ranges))+" ...")
	return nil
}

func runnerName() string {
	if *runners.Runner == "" {
		return "prism"
	}
	return *runners.Runner
}
