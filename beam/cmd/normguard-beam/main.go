// Command normguard-beam runs normguard's jobs as Apache Beam pipelines,
// on Prism (in process), Flink, Spark or Dataflow, with the results of the
// local commands: fit writes the artifact `normguard fit` writes for the
// same rows, byte for byte; transform writes shards whose concatenation is
// the file `normguard transform` writes.
//
//	normguard-beam fit --spec S --data 'PATTERN' --out A [--model NAME --model-version V] [--runner prism|flink|spark|dataflow] [runner flags]
//	normguard-beam transform --artifact A --in 'PATTERN' --out PREFIX.csv [--split-bytes N] [--runner ...] [runner flags]
//	normguard-beam validate --artifact A --data 'PATTERN' [--format table|json|html] [--out F] [--runner ...]
//	normguard-beam drift --artifact A --current 'PATTERN' [--method M --threshold X --bins N --drift-share S] [--format ...] [--out F] [--runner ...]
//
// validate and drift give the report `normguard validate` and `normguard
// drift --artifact` give on the same rows, with their exit statuses.
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
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3" // s3:// data and artifacts
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx" // runners, gs:// and local files

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/beam/beamcheck"
	"github.com/normguard/normguard/beam/beamfit"
	"github.com/normguard/normguard/beam/beamtransform"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/spec"
)

// Exit statuses, as the normguard CLI uses them.
const (
	exitOK    = 0
	exitFound = 1
	exitError = 2
)

const usage = `usage: normguard-beam fit --spec S --data 'PATTERN' --out A [--model NAME --model-version V] [--runner prism|flink|spark|dataflow] [runner flags]
       normguard-beam transform --artifact A --in 'PATTERN' --out PREFIX.csv [--split-bytes N] [--runner ...] [runner flags]
       normguard-beam validate --artifact A --data 'PATTERN' [--columns C,..] [--exclude C,..] [--format table|json|html] [--out F] [--runner ...]
       normguard-beam drift --artifact A --current 'PATTERN' [--method M] [--threshold X] [--bins N] [--drift-share S] [--columns ..] [--exclude ..] [--format ..] [--out F] [--runner ...]

  --data and --in take local or gs:// / s3:// globs, comma-separated; files
  are read in path order. fit's artifact equals 'normguard fit' on their
  rows in that order; transform writes PREFIX-00000-of-0000N.csv (or .tsv,
  .jsonl), whose concatenation equals 'normguard transform' on those rows.
  validate and drift print the report the local commands print (or write
  it to --out) and exit 0 (nothing found), 1 (found) or 2 (error).
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
	current      = flag.String("current", "", "drift: the current data, globs as --data")
	columns      = flag.String("columns", "", "validate, drift: check only these input columns (comma-separated)")
	exclude      = flag.String("exclude", "", "validate, drift: leave these input columns out (comma-separated)")
	format       = flag.String("format", "table", "validate, drift: report format: table, json or html")
	method       = flag.String("method", "auto", "drift: statistic (auto, ks, wasserstein, psi, ...; see normguard drift --help)")
	threshold    = flag.Float64("threshold", 0, "drift: the method's threshold (default: the method's own)")
	bins         = flag.Int("bins", drift.DefaultBins, "drift: bins of the binned methods")
	driftShare   = flag.Float64("drift-share", drift.DefaultDriftShare, "drift: share of drifting features from which the data set drifts")
	splitBytes   = flag.Int64("split-bytes", beamtransform.DefaultSplitBytes, "transform, validate, drift: cut uncompressed CSV and JSON Lines inputs into byte ranges of about this size, read by different workers (0 or less: one range per file)")
)

// commands are normguard-beam's subcommands.
var commands = map[string]func(context.Context, io.Writer) error{
	"fit":       fit,
	"transform": transformCmd,
	"validate":  func(ctx context.Context, w io.Writer) error { return check(ctx, w, beamcheck.Validate) },
	"drift":     func(ctx context.Context, w io.Writer) error { return check(ctx, w, beamcheck.Drift) },
}

// errFound makes the exit status 1 (anomalies or drift found).
var errFound = errors.New("found")

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
		if errors.Is(err, errFound) {
			return exitFound
		}
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
		removeShards(*outPath, len(p.Ranges))
		return jobError("transform "+*inPattern, err)
	}
	fmt.Fprintf(stdout, "transformed %d files -> %d shards %s\n", len(p.Files), len(p.Ranges),
		beamtransform.ShardName(*outPath, 0, len(p.Ranges))+" ...")
	return nil
}

// check runs validate or drift and writes the report to --out or stdout.
func check(ctx context.Context, stdout io.Writer, command string) (err error) {
	data, dataFlag := *dataPattern, "--data"
	if command == beamcheck.Drift {
		data, dataFlag = *current, "--current"
	}
	var missing []string
	for _, f := range []struct{ name, value string }{{"--artifact", *artifactPath}, {dataFlag, data}} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: missing %s; see normguard-beam's usage", command, strings.Join(missing, ", "))
	}
	hasThreshold := false
	flag.Visit(func(f *flag.Flag) { hasThreshold = hasThreshold || f.Name == "threshold" })
	o := beamcheck.Options{Command: command, Artifact: *artifactPath, Data: data, SplitBytes: *splitBytes,
		Columns: splitList(*columns), Exclude: splitList(*exclude), Method: *method, Threshold: *threshold,
		HasThreshold: hasThreshold, Bins: *bins, DriftShare: *driftShare, Format: *format,
		Color: *outPath == "" && isTerminal(stdout)}
	if o.SplitBytes == 0 {
		o.SplitBytes = -1
	}
	// The job writes its result beside --out when that is remote (the
	// launcher reads it back), else to a local temporary file.
	if beamfit.Remote(*outPath) {
		o.Result = *outPath + ".result.json"
	} else {
		dir, err := os.MkdirTemp("", "normguard-beam-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.Result = filepath.Join(dir, "result.json")
	}
	p, err := beamcheck.NewPlan(ctx, o)
	if err != nil {
		return err
	}
	pipe, s := beam.NewPipelineWithRoot()
	beamcheck.Build(s, p)
	if err := beamx.Run(ctx, pipe); err != nil {
		return jobError(command+" "+data, err)
	}
	res, err := beamcheck.ReadResult(ctx, o.Result)
	if err != nil {
		return err
	}
	if res.Output != nil {
		if *outPath != "" {
			err = beamfit.WriteFile(ctx, *outPath, res.Output, artifact.WriteFileAtomic)
		} else {
			_, err = stdout.Write(res.Output)
		}
		if err != nil {
			return err
		}
	}
	switch res.Status {
	case beamcheck.StatusOK:
		return nil
	case beamcheck.StatusFound:
		return errFound
	}
	return errors.New(res.Message)
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty names.
func splitList(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// isTerminal reports whether w is a terminal (a table is then colored).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// removeShards removes the local shards of a failed transform, so that no
// incomplete set is left behind (remote shards are left as they are).
func removeShards(out string, n int) {
	if beamfit.Remote(out) {
		return
	}
	for k := range n {
		os.Remove(beamtransform.ShardName(out, k, n))
	}
}

// jobError returns the error of a failed job: the innermost cause (the
// DoFn's own error, which names the file, line and column) first, then
// the runner's report of it.
func jobError(what string, err error) error {
	msg := err.Error()
	parts := strings.Split(msg, "caused by:")
	root := strings.TrimSpace(parts[len(parts)-1])
	if strings.HasPrefix(root, "DoFn[") {
		if _, rest, ok := strings.Cut(root, "\n"); ok {
			root = strings.TrimSpace(rest)
		}
	}
	if len(parts) == 1 || root == "" {
		return fmt.Errorf("%s on runner %s: %w", what, runnerName(), err)
	}
	return fmt.Errorf("%s on runner %s: %s\n(the runner's report: %w)", what, runnerName(), root, err)
}

func runnerName() string {
	if *runners.Runner == "" {
		return "prism"
	}
	return *runners.Runner
}
