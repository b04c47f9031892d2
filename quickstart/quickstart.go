// Package quickstart runs normguard's whole story on a real data set that
// ships inside the binary: US domestic flights from the first half of 2001.
package quickstart

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/diagnose"
	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

//go:embed flights_2001h1_sample.csv.gz
var flightsGz []byte

// Spec is the spec the quickstart fits.
const Spec = `# normguard spec for the flights quickstart
version: 1
remainder: passthrough        # keep 'date' next to the features
columns:
  - name: delay               # arrival delay in minutes: heavy tails
    type: numeric
    steps:
      - simple_imputer: {strategy: median}
      - robust_scaler: {}
  - name: distance            # miles: log, then standardize
    type: numeric
    steps:
      - log1p: {}
      - standard_scaler: {}
  - names: [origin, destination]
    type: categorical
    steps:
      - simple_imputer: {strategy: most_frequent}
      - one_hot_encoder: {handle_unknown: infrequent_if_exist, max_categories: 12}
`

// Files are the names of the files the quickstart writes in its folder:
// the training months and June, the spec, the fitted artifact, June's
// features as the artifact computes them, and what a broken production
// pipeline received (June's raw rows) and fed its model (the features it
// computed, row for row), for `normguard diagnose --raw ... --observed ...`.
var Files = struct{ Train, Later, Spec, Artifact, Features, Received, Fed string }{
	Train: "train_jan_feb.csv", Later: "june.csv", Spec: "spec.yaml",
	Artifact: "flights.normguard.json", Features: "june_features.csv",
	Received: "received.csv", Fed: "fed.csv",
}

// Result is what the quickstart did.
type Result struct {
	Dir          string
	TrainRows    int64
	LaterRows    int64
	Artifact     *artifact.Artifact
	FeatureCount int
	Drift        *drift.Report
	Diagnosis    *diagnose.Report
}

// brokenBatch is the batch size of the broken pipeline's per-batch
// standardization.
const brokenBatch = 500

// brokenPipeline plays a production pipeline with two classic bugs on the
// June rows: delay fed to the model unscaled, and log1p(distance)
// standardized per batch of brokenBatch rows with the batch's own mean and
// std. It returns the numeric features it fed the model.
func brokenPipeline(t *transform.Transformer, raw []table.Column) ([]table.Column, error) {
	rows := 0
	if len(raw) > 0 {
		rows = raw[0].Len()
	}
	in := &table.Batch{Cols: raw, Rows: rows}
	good := t.NewOutput()
	if err := t.Batch(in, good, "june"); err != nil {
		return nil, err
	}
	var observed []table.Column
	for _, c := range good.Cols {
		if c.Kind != table.Numeric {
			continue
		}
		c = c.Clone()
		switch c.Name {
		case "delay": // never scaled
			for _, r := range raw {
				if r.Name == "delay" {
					copy(c.Num, r.Num)
				}
			}
		case "distance": // standardized per batch
			for _, r := range raw {
				if r.Name != "distance" {
					continue
				}
				for lo := 0; lo < rows; lo += brokenBatch {
					hi := min(lo+brokenBatch, rows)
					var sum, sq float64
					for _, x := range r.Num[lo:hi] {
						sum += math.Log1p(x)
					}
					mean := sum / float64(hi-lo)
					for _, x := range r.Num[lo:hi] {
						d := math.Log1p(x) - mean
						sq += d * d
					}
					std := math.Sqrt(sq / float64(hi-lo))
					for i := lo; i < hi; i++ {
						c.Num[i] = (math.Log1p(r.Num[i]) - mean) / std
					}
				}
			}
		}
		observed = append(observed, c)
	}
	return observed, nil
}

// writeColumns writes cols to path as a table (CSV for .csv).
func writeColumns(path string, cols []table.Column) error {
	fields := make([]table.Field, len(cols))
	rows := 0
	for i, c := range cols {
		fields[i] = table.Field{Name: c.Name, Kind: c.Kind}
		rows = c.Len()
	}
	w, err := table.Create(path, fields)
	if err != nil {
		return err
	}
	if err := w.Write(&table.Batch{Cols: cols, Rows: rows}); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Run writes the embedded data to dir, fits on January and February,
// transforms June, checks June for drift against the training profile,
// diagnoses a deliberately broken pipeline fed with June's rows and
// reports to w what it did and what to try next.
func Run(ctx context.Context, dir string, w io.Writer) (*Result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("quickstart: %w", err)
	}
	if err := claimDir(dir); err != nil {
		return nil, err
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	trainRows, laterRows, err := splitMonths(path(Files.Train), path(Files.Later))
	if err != nil {
		return nil, err
	}
	if err := artifact.WriteFileAtomic(path(Files.Spec), []byte(Spec)); err != nil {
		return nil, fmt.Errorf("quickstart: %w", err)
	}
	sp, err := spec.Parse(strings.NewReader(Spec), path(Files.Spec))
	if err != nil {
		return nil, err
	}

	r, err := table.Open(path(Files.Train))
	if err != nil {
		return nil, err
	}
	a, err := fit.Fit(ctx, sp, r, fit.Options{Model: "flight-delay", ModelVersion: "2001.1", Source: path(Files.Train)})
	r.Close()
	if err != nil {
		return nil, err
	}
	if _, err := artifact.Save(a, path(Files.Artifact)); err != nil {
		return nil, err
	}

	t, err := transform.New(a)
	if err != nil {
		return nil, err
	}
	in, err := table.Open(path(Files.Later))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := table.Create(path(Files.Features), t.Outputs())
	if err != nil {
		return nil, err
	}
	if _, err := t.Stream(ctx, in, out, path(Files.Later)); err != nil {
		out.Abort()
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}

	// Drift: June's raw inputs against the training profile in the artifact.
	dr, err := table.Open(path(Files.Later))
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	fields := artifact.TableFields(a.Inputs)
	if err := dr.Project(fields); err != nil {
		return nil, err
	}
	cur, _, err := table.ReadAll(dr, fields)
	if err != nil {
		return nil, err
	}
	rep, err := drift.CompareProfile(a.Profile.Inputs, cur, drift.Options{})
	if err != nil {
		return nil, err
	}

	// A broken pipeline received June's rows and fed the model features
	// computed its own way: keep both for `normguard diagnose`.
	fed, err := brokenPipeline(t, cur)
	if err != nil {
		return nil, err
	}
	if err := copyFile(path(Files.Later), path(Files.Received)); err != nil {
		return nil, err
	}
	if err := writeColumns(path(Files.Fed), fed); err != nil {
		return nil, err
	}
	diag, err := diagnose.Paired(a, cur, fed, nil)
	if err != nil {
		return nil, err
	}

	if err := sealDir(dir); err != nil {
		return nil, err
	}
	res := &Result{Dir: dir, TrainRows: trainRows, LaterRows: laterRows, Artifact: a, FeatureCount: len(a.Outputs), Drift: rep, Diagnosis: diag}
	report(w, res)
	return res, nil
}

func report(w io.Writer, r *Result) {
	p := func(name string) string { return filepath.Join(r.Dir, name) }
	fmt.Fprintf(w, "normguard quickstart: US flights, January-June 2001 (100,000 rows shipped in the binary)\n\n")
	fmt.Fprintf(w, "1. fit       %d training rows (Jan-Feb) with %s\n", r.TrainRows, p(Files.Spec))
	fmt.Fprintf(w, "             -> %s\n             %s\n", p(Files.Artifact), r.Artifact.Digest)
	fmt.Fprintf(w, "2. transform %d June rows with exactly those parameters\n", r.LaterRows)
	fmt.Fprintf(w, "             -> %s (%d columns)\n", p(Files.Features), r.FeatureCount)
	drifting := 0
	for _, f := range r.Drift.Features {
		if f.Drift {
			drifting++
		}
	}
	fmt.Fprintf(w, "3. drift     June vs the training profile stored in the artifact: %d of %d features drift\n", drifting, len(r.Drift.Features))
	for _, f := range r.Drift.Sorted() {
		effect := ""
		if f.Effect != nil {
			effect = fmt.Sprintf(", %s %.3f", f.Effect.Name, float64(f.Effect.Value))
		}
		verdict := "ok"
		if f.Drift {
			verdict = "DRIFT"
		}
		fmt.Fprintf(w, "             %-12s %-15s stat %.4g, p %.3g%s  %s\n", f.Name, f.Method, float64(f.Statistic), float64(f.PValue), effect, verdict)
	}
	for _, f := range r.Drift.Features {
		if !f.Drift && float64(f.PValue) < 0.05 {
			fmt.Fprintf(w, "             (tests flag tiny differences on many rows; auto also needs a real effect size)\n")
			break
		}
	}
	bad := 0
	for _, v := range r.Diagnosis.Features {
		if v.Verdict != diagnose.OK {
			bad++
		}
	}
	fmt.Fprintf(w, "4. diagnose  a deliberately broken pipeline (delay left unscaled, distance standardized per\n")
	fmt.Fprintf(w, "             batch of %d rows) received June's rows (%s) and fed the model features (%s):\n", brokenBatch, p(Files.Received), p(Files.Fed))
	fmt.Fprintf(w, "             %d of %d columns are off\n", bad, len(r.Diagnosis.Features))
	for _, v := range r.Diagnosis.Features {
		if v.Verdict != diagnose.OK {
			fmt.Fprintf(w, "             %-12s %s: %s\n", v.Name, v.Verdict, v.Explanation)
		}
	}
	fmt.Fprintf(w, "\nTry next:\n")
	fmt.Fprintf(w, "  normguard inspect %s\n", p(Files.Artifact))
	fmt.Fprintf(w, "  normguard verify %s\n", p(Files.Artifact))
	fmt.Fprintf(w, "  normguard drift --artifact %s --current %s --method psi\n", p(Files.Artifact), p(Files.Later))
	fmt.Fprintf(w, "  normguard drift --reference %s --current %s --format html --out drift.html\n", p(Files.Train), p(Files.Later))
	fmt.Fprintf(w, "  normguard fit --spec %s --data %s --out june.normguard.json && normguard diff %s june.normguard.json\n",
		p(Files.Spec), p(Files.Later), p(Files.Artifact))
	fmt.Fprintf(w, "  normguard diagnose --artifact %s --raw %s --observed %s\n", p(Files.Artifact), p(Files.Received), p(Files.Fed))
	fmt.Fprintf(w, "  NORMGUARD_TOKEN=secret normguard serve --registry registry   # then, in another terminal:\n")
	fmt.Fprintf(w, "  NORMGUARD_TOKEN=secret normguard push %s --registry http://127.0.0.1:8080\n", p(Files.Artifact))
	fmt.Fprintf(w, "  open http://127.0.0.1:8080/   (transform: POST /v1/models/%s/transform)\n", modelName(r.Artifact))
}

// copyFile copies src to dst atomically.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("quickstart: %w", err)
	}
	if err := artifact.WriteFileAtomic(dst, b); err != nil {
		return fmt.Errorf("quickstart: %w", err)
	}
	return nil
}

// modelName is the model the artifact was fitted for.
func modelName(a *artifact.Artifact) string {
	if a != nil && a.Model != nil && a.Model.Name != "" {
		return a.Model.Name
	}
	return "MODEL"
}

// splitMonths writes the embedded flights of January and February to
// train and those of June to later, returning their row counts.
func splitMonths(train, later string) (int64, int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(flightsGz))
	if err != nil {
		return 0, 0, fmt.Errorf("quickstart: embedded data: %w", err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var tb, lb bytes.Buffer
	var nt, nl int64
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			tb.Write(line)
			tb.WriteByte('\n')
			lb.Write(line)
			lb.WriteByte('\n')
			first = false
			continue
		}
		switch {
		case bytes.HasPrefix(line, []byte("2001-01")), bytes.HasPrefix(line, []byte("2001-02")):
			tb.Write(line)
			tb.WriteByte('\n')
			nt++
		case bytes.HasPrefix(line, []byte("2001-06")):
			lb.Write(line)
			lb.WriteByte('\n')
			nl++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("quickstart: embedded data: %w", err)
	}
	if err := artifact.WriteFileAtomic(train, tb.Bytes()); err != nil {
		return 0, 0, fmt.Errorf("quickstart: %w", err)
	}
	if err := artifact.WriteFileAtomic(later, lb.Bytes()); err != nil {
		return 0, 0, fmt.Errorf("quickstart: %w", err)
	}
	return nt, nl, nil
}
