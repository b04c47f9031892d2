package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

// TestVerifyNamesTheField re-digests an artifact whose ordinal encoder's
// categories are out of order (as an edit that kept the digest valid
// would leave it) and checks that verify refuses it with exit 2, naming
// the entry by its JSON path, with the message every other command gives
// when it loads the file (artifact.Load).
func TestVerifyNamesTheField(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	spec := filepath.Join(dir, "spec.yaml")
	writeTestFile(t, train, "city,x\nlyon,1\nnice,2\nparis,3\nlyon,4\n")
	writeTestFile(t, spec, "version: 1\ncolumns:\n  - name: city\n    type: categorical\n    steps: [ordinal_encoder]\n  - name: x\n    type: numeric\n    steps: [standard_scaler]\n")
	art := filepath.Join(dir, "a.json")
	mustRun(t, "fit", "-q", "--spec", spec, "--data", train, "--out", art)
	if out := mustRun(t, "verify", art); !strings.HasPrefix(out, "ok sha256:") {
		t.Fatalf("verify: got %q, want ok sha256:...", out)
	}

	a, err := artifact.Load(art)
	if err != nil {
		t.Fatal(err)
	}
	enc, ok := a.Groups[0].Steps[0].Fitted.(*step.OrdinalEncoder)
	if !ok {
		t.Fatalf("groups[0].steps[0] is %T, want an ordinal encoder", a.Groups[0].Steps[0].Fitted)
	}
	cats := enc.Categories[0]
	cats[0], cats[1] = cats[1], cats[0] // nice, lyon, paris
	bad := filepath.Join(dir, "bad.json")
	if _, err := artifact.Save(a, bad); err != nil {
		t.Fatal(err)
	}
	_, loadErr := artifact.Load(bad)
	if loadErr == nil {
		t.Fatal("Load accepts categories out of order")
	}
	code, out, errOut := runCLI(t, "verify", bad)
	t.Logf("verify: %s", errOut)
	if code != ExitError || out != "" {
		t.Fatalf("verify: exit %d, stdout %q; want exit %d and nothing on stdout", code, out, ExitError)
	}
	const want = `groups[0].steps[0].fitted.categories_[0][1]: "lyon" comes after "nice": categories="auto" must be sorted (by code point, as not all of them are numbers)`
	if !strings.Contains(errOut, want) {
		t.Errorf("verify's stderr %q does not name %s", errOut, want)
	}
	if !strings.Contains(errOut, loadErr.Error()) {
		t.Errorf("verify's stderr %q, Load's refusal %q", errOut, loadErr)
	}
}

func writeTestFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyNamesAFloatField re-digests artifacts whose fitted float
// arrays break their rules (a scale of 0, a quantile grid out of order,
// bin edges not increasing) and checks that verify refuses each with exit
// 2, naming the entry by its JSON path, with Load's message.
func TestVerifyNamesAFloatField(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	writeTestFile(t, train, "x,y\n1,5\n2,3\n3,9\n4,1\n7,2\n")
	for _, c := range []struct {
		step string
		edit func(f step.Fitted)
		want string
	}{
		{"standard_scaler", func(f step.Fitted) { f.(*step.StandardScaler).Scale[1] = 0 },
			"groups[0].steps[0].fitted.scale_[1]: must be a finite number > 0, got 0"},
		{"quantile_transformer: {n_quantiles: 5}", func(f step.Fitted) {
			q := f.(*step.QuantileTransformer).Quantiles[1]
			q[2], q[3] = q[3], q[2]
		}, "groups[0].steps[0].fitted.quantiles_[1][3]: must not be below the previous entry (3 < 5): the values must be sorted"},
		{"kbins_discretizer: {n_bins: 2, strategy: uniform}", func(f step.Fitted) { f.(*step.KBinsDiscretizer).BinEdges[0][2] = 1 },
			"groups[0].steps[0].fitted.bin_edges_[0][2]: must be a number above the previous edge, got 1"},
	} {
		spec := filepath.Join(dir, "spec.yaml")
		writeTestFile(t, spec, "version: 1\ncolumns:\n  - names: [x, y]\n    type: numeric\n    steps:\n      - "+c.step+"\n")
		art := filepath.Join(dir, "a.json")
		mustRun(t, "fit", "-q", "--spec", spec, "--data", train, "--out", art)
		a, err := artifact.Load(art)
		if err != nil {
			t.Fatal(err)
		}
		c.edit(a.Groups[0].Steps[0].Fitted)
		bad := filepath.Join(dir, "bad.json")
		if _, err := artifact.Save(a, bad); err != nil {
			t.Fatal(err)
		}
		_, loadErr := artifact.Load(bad)
		if loadErr == nil {
			t.Fatalf("%s: Load accepts the edit", c.step)
		}
		code, out, errOut := runCLI(t, "verify", bad)
		if code != ExitError || out != "" {
			t.Fatalf("%s: verify: exit %d, stdout %q; want exit %d and nothing on stdout", c.step, code, out, ExitError)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%s: verify's stderr %q does not name %s", c.step, errOut, c.want)
		}
		if !strings.Contains(errOut, loadErr.Error()) {
			t.Errorf("%s: verify's stderr %q, Load's refusal %q", c.step, errOut, loadErr)
		}
	}
}

// failingWriter fails every write, as /dev/full does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestStdoutWriteErrorIsExit2: a verdict that could not be written is not
// a pass: verify > /dev/full exited 0 (attack run 16).
func TestStdoutWriteErrorIsExit2(t *testing.T) {
	art := filepath.Join(t.TempDir(), "a.json")
	mustRun(t, "fit", "-q", "--spec", bad("good.yaml"), "--data", bad("train.csv"), "--out", art)
	for _, args := range [][]string{{"verify", art}, {"inspect", art}} {
		var stderr bytes.Buffer
		code := run(context.Background(), args, failingWriter{}, &stderr)
		if code != ExitError || !strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("%v into a full stdout: exit %d, stderr %q; want 2 naming the write error", args, code, stderr.String())
		}
	}
}
