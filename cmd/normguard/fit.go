package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/timings"
)

type fitOptions struct {
	spec, data, out     string
	transformOut        string
	model, modelVersion string
	chunkSize, workers  int
	quiet, timings      bool
	spill, spillDir     string
	maxSortRows         int
	// Vector columns (fit_vector.go).
	embeddingModel, canaries string
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
			// The model link must be one a registry can hold: refused
			// here, not at push (attack run 30 F10).
			for _, fl := range []struct{ name, value string }{{"model", o.model}, {"model-version", o.modelVersion}} {
				if fl.value == "" {
					continue
				}
				err := registry.ValidName(fl.value)
				if err == nil && fl.name == "model-version" && fl.value == registry.CurrentAlias {
					err = fmt.Errorf("%q is reserved for the current version; pick another version name", fl.value)
				}
				if err != nil {
					return fmt.Errorf("--%s: %w (a registry stores the artifact under it)", fl.name, err)
				}
			}
			a, err := runFit(cmd, o)
			if err != nil {
				return err
			}
			if !o.quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "fitted %d groups on %d rows -> %s (%d output columns)\n%s\n",
					len(a.Groups), a.Training.Rows, outName(o.out), len(a.Outputs), a.Digest)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.spec, "spec", "", "spec file (YAML or JSON)")
	f.StringVar(&o.data, "data", "", "training data (.csv, .parquet, .jsonl; - for CSV on stdin)")
	f.StringVar(&o.out, "out", "", "artifact file to write (- for stdout)")
	f.StringVar(&o.transformOut, "transform-out", "", "also write the training data transformed by the new artifact (fit_transform; reads the data once)")
	f.StringVar(&o.model, "model", "", "model name the artifact belongs to")
	f.StringVar(&o.modelVersion, "model-version", "", "model version the artifact belongs to")
	f.IntVar(&o.chunkSize, "chunk-size", 0, "rows per batch read from the data (default 65536; never changes the result)")
	f.BoolVar(&o.timings, "timings", false, "print the time of each stage (parse, fit statistics, transform, profile, format, write) to stderr")
	f.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0), "parallel workers (never changes the result)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	f.StringVar(&o.spill, "spill", "auto", "hold numeric columns in memory-mapped temporary files: auto (when the data file, decompressed, is over a quarter of memory), always, never")
	f.StringVar(&o.spillDir, "spill-dir", "", "folder for spilled columns and external sort runs (default: the system temp folder)")
	f.IntVar(&o.maxSortRows, "max-sort-rows", -1, "values a median/percentile/quantile sorts in memory before sorting on disk (-1: from the memory size, 0: no limit)")
	f.StringVar(&o.embeddingModel, "embedding-model", "", "the model that produced the vector columns, as name@revision (overrides the spec's embedding_model)")
	f.StringVar(&o.canaries, "canaries", "", "canary vectors for the vector columns' contracts: JSON Lines of {\"id\": ..., \"vector\": [...]}")
	addDelimiterFlag(cmd, "data", "transform-out")
	return cmd
}

// memoryBytes returns the machine's physical memory, or 0 when unknown.
func memoryBytes() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// memoryPlan turns the --spill and --max-sort-rows flags into fit options:
// sorts in memory use at most a quarter of memory across workers (a
// sort holds a copy and a scratch of its column), and "auto" spills when
// the data file's text (decompressed, as estimated by table.TextSize) is
// larger than a quarter of memory. Columns that are not
// spilled to files go to an arena in anonymous memory (fit.NewArena), not
// to the Go heap.
func memoryPlan(o fitOptions) (fit.Options, *fit.Spill, error) {
	mem := memoryBytes()
	opt := fit.Options{MaxSortRows: o.maxSortRows, TempDir: o.spillDir, Memory: mem}
	if opt.MaxSortRows < 0 {
		opt.MaxSortRows = 0
		if mem > 0 {
			opt.MaxSortRows = int(mem / 4 / int64(16*max(o.workers, 1)))
		}
	}
	var spill bool
	switch o.spill {
	case "always":
		spill = true
	case "never":
	case "auto":
		// The text the file holds, not the file: a 10 MB .gz of 2 GB of
		// rows counts as 2 GB (table.TextSize).
		if size, ok := table.TextSize(o.data); ok && mem > 0 && size > mem/4 {
			spill = true
		}
	default:
		return opt, nil, fmt.Errorf("fit: --spill must be auto, always or never, got %q", o.spill)
	}
	if spill {
		opt.Spill = fit.NewSpill(o.spillDir)
	} else {
		// Columns in anonymous memory outside the Go heap: the heap stays
		// small, so the garbage the collector lets build up does not grow
		// with the data (TestFitPeakMemory: 2.26x -> 1.50-1.58x the
		// columns with the rest of issue 15's memory work).
		opt.Spill = fit.NewArena()
	}
	return opt, opt.Spill, nil
}

// readGCPercent is the Go heap's growth between collections while fit
// reads its data (unless GOGC is set). In an arena (the default) every
// column, string columns included, is outside the heap, which then holds
// only the reader's buffers and batches, and 50% collects about half as
// often as 25% (benchmark table, 5 alternated rounds: fit CSV 1.61 ->
// 1.26 s, Parquet unchanged; TestFitPeakMemory 1.45-1.51x; at 100% it
// reached 1.58-1.69x, the reader's buffers' garbage). Columns spilled to
// files leave the string columns on the heap, and there 25% keeps the
// garbage the collector lets build up well below their size.
func readGCPercent(files bool) int {
	if files {
		return 25
	}
	return 50
}

// collectLessAfterRead is fit's AfterRead when GOGC is not set: once the
// columns are read, the heap holds short-lived scratch (and, when columns
// spill to files, the string columns). From then on it collects at 100%,
// but no later than when the Go runtime's memory reaches what the read
// already needed (a memory limit), so the peak does not grow. The limit
// leaves at least 16 MB above the live heap, so that collections do not
// follow each other without pause.
func collectLessAfterRead() {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() != metrics.KindUint64 {
			return // an unknown metric: keep the read's setting
		}
	}
	held := int64(s[0].Value.Uint64() - s[1].Value.Uint64())
	live := int64(s[2].Value.Uint64())
	debug.SetMemoryLimit(max(held, live+16<<20))
	debug.SetGCPercent(100)
}

// openFitData opens the training data. A .npy file holds one vector
// column named after the file's stem; given for a spec with exactly one
// vector column, it is read as that column whatever its name, as
// validate, drift, diagnose and transform read it for an artifact
// (validate.OpenFor; attack run 18 F6).
func openFitData(o fitOptions, sp *spec.Spec) (table.Reader, error) {
	var vecs []string
	for _, g := range sp.Columns {
		if g.Type == spec.TypeVector {
			vecs = append(vecs, g.Names...)
		}
	}
	if f, err := table.FormatOf(o.data); err == nil && f == table.FormatNPY && len(vecs) == 1 {
		return table.OpenNPY(o.data, table.NPYOptions{BatchRows: o.chunkSize, Column: vecs[0]})
	}
	return table.OpenWith(o.data, table.OpenOptions{BatchRows: o.chunkSize})
}

func runFit(cmd *cobra.Command, o fitOptions) (*artifact.Artifact, error) {
	var tim *timings.Recorder
	if o.timings {
		tim = timings.New()
		defer tim.Write(cmd.ErrOrStderr())
	}
	sp, err := spec.ParseFile(o.spec)
	if err != nil {
		return nil, err
	}
	if o.chunkSize < 0 {
		return nil, fmt.Errorf("fit: --chunk-size must be a positive number of rows, got %d", o.chunkSize)
	}
	r, err := openFitData(o, sp)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	opt, spill, err := memoryPlan(o)
	if err != nil {
		return nil, err
	}
	defer spill.Close()
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		// Restored when the fit is done (the tests run fits in one process).
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
		defer debug.SetGCPercent(debug.SetGCPercent(readGCPercent(!spill.InMemory())))
		opt.AfterRead = collectLessAfterRead
	}
	opt.Model, opt.ModelVersion = o.model, o.modelVersion
	opt.Workers, opt.Source, opt.Timings = o.workers, o.data, tim
	if opt.Vectors, err = vectorFitOptions(o); err != nil {
		return nil, err
	}
	stop := startProgress(cmd.ErrOrStderr(), r, "fit")
	var a *artifact.Artifact
	var train *table.Batch
	if o.transformOut != "" {
		a, train, err = fit.FitTransform(cmd.Context(), sp, r, opt)
	} else {
		// No batch: the outputs of a one-hot step are then profiled from
		// their counts, not held as columns of the training rows.
		a, err = fit.Fit(cmd.Context(), sp, r, opt)
	}
	stop()
	if err != nil {
		if f, ferr := table.FormatOf(o.data); errors.Is(err, fit.ErrMissingColumn) && ferr == nil && f == table.FormatNPY {
			var vecs []string
			for _, g := range sp.Columns {
				if g.Type == spec.TypeVector {
					vecs = append(vecs, g.Names...)
				}
			}
			var feats []string // the spec's columns a .npy cannot hold
			for _, g := range sp.Columns {
				if g.Type != spec.TypeVector {
					for _, n := range g.Names {
						feats = append(feats, strconv.Quote(n))
					}
				}
			}
			switch {
			case len(vecs) == 1 && r.Header()[0] == vecs[0] && len(feats) > 0:
				// Read as the only vector column already: renaming the
				// file fixes nothing (attack run 20 F4).
				err = fmt.Errorf("%w (a .npy file holds one vector column only, read as %q; the spec's feature columns %s cannot come from it: pass a JSON Lines or Parquet file holding them beside %q (its vectors as arrays or a list))", err, vecs[0], strings.Join(feats, ", "), vecs[0])
			case len(vecs) == 0:
				err = fmt.Errorf("%w (a .npy file holds one vector column only, and the spec has no vector column: pass a CSV, JSON Lines or Parquet file holding the spec's columns)", err)
			default:
				err = fmt.Errorf("%w (a .npy file holds one vector column named after the file, here %q: rename it after the spec's vector column it holds, e.g. %s.npy)", err, r.Header()[0], vecs[0])
			}
		}
		return nil, err
	}
	if o.transformOut != "" {
		w, err := table.Create(o.transformOut, artifact.TableFields(a.Outputs))
		if err != nil {
			return nil, err
		}
		if ts, ok := w.(timings.Setter); ok && tim != nil {
			ts.SetTimings(tim)
		}
		if err := w.Write(train); err != nil {
			w.Abort()
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	if o.out == stdoutName {
		data, err := artifact.EncodeChecked(a)
		if err != nil {
			return nil, err
		}
		if _, err := cmd.OutOrStdout().Write(data); err != nil {
			return nil, fmt.Errorf("save artifact: standard output: %w", err)
		}
	} else if _, err := artifact.Save(a, o.out); err != nil {
		return nil, err
	}
	tim.Since("artifact", t0)
	return a, nil
}
