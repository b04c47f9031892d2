package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const modelsDir = "../../testdata/models"

// modelArtifact fits testdata/models/NAME.yaml on NAME_train.csv with
// `normguard fit`, as make_models.py's README says the committed
// NAME.artifact.json was made.
func modelArtifact(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".json")
	mustRun(t, "fit", "--spec", filepath.Join(modelsDir, name+".yaml"), "--data", filepath.Join(modelsDir, name+"_train.csv"), "--out", out)
	return out
}

func model(name string) string { return filepath.Join(modelsDir, name+".onnx") }

// TestModelCheckExit: 0 for a clean model (info facts only), 1 for each
// planted problem, 2 for what is not a model or not readable.
func TestModelCheckExit(t *testing.T) {
	penguins := modelArtifact(t, "penguins")
	cases := []struct {
		name string
		args []string
		code int
		text string // in standard output (exit 0/1) or standard error (exit 2)
	}{
		{"clean", []string{"model", "check", model("penguins_clean")}, ExitOK, "nothing found"},
		{"clean with its artifact", []string{"model", "check", model("penguins_clean"), "--artifact", penguins}, ExitOK, "fits_artifact"},
		{"training mode", []string{"model", "check", model("penguins_training_mode")}, ExitFound, "batchnorm_training_mode"},
		{"untrained", []string{"model", "check", model("penguins_untrained_stats")}, ExitFound, "untrained_running_stats"},
		{"unscaled", []string{"model", "check", model("penguins_unscaled"), "--artifact", penguins}, ExitFound, "trained_on_unscaled"},
		{"unscaled without artifact", []string{"model", "check", model("penguins_unscaled")}, ExitOK, "not standardized"},
		{"width", []string{"model", "check", model("wine_deep_clean"), "--artifact", penguins}, ExitFound, "input_width_mismatch"},
		{"batch statistics", []string{"model", "check", model("wine_batch_statistics")}, ExitFound, "batch_statistics_in_graph"},
		{"not onnx", []string{"model", "check", filepath.Join(modelsDir, "penguins_train.csv")}, ExitError, "not an ONNX model"},
		{"missing", []string{"model", "check", filepath.Join(modelsDir, "absent.onnx")}, ExitError, "absent.onnx"},
		{"spec as artifact", []string{"model", "check", model("penguins_clean"), "--artifact", filepath.Join(modelsDir, "penguins.yaml")}, ExitError, ""},
		{"bad format", []string{"model", "check", model("penguins_clean"), "--format", "xml"}, ExitError, "--format"},
		{"no model", []string{"model", "check"}, ExitError, "name one model file"},
		{"no subcommand", []string{"model"}, ExitError, "model check"},
	}
	for _, c := range cases {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", c.name, code, c.code, stdout, stderr)
			continue
		}
		where := stdout
		if code == ExitError {
			where = stderr
		}
		if !strings.Contains(where, c.text) {
			t.Errorf("%s: output lacks %q:\n%s", c.name, c.text, where)
		}
	}
}

// TestModelCheckFormats: JSON carries the codes, nodes and counts; HTML is
// a page with one card per finding; --out writes the file and nothing to
// standard output.
func TestModelCheckFormats(t *testing.T) {
	_, stdout, _ := runCLI(t, "model", "check", model("penguins_bad_statistics"), "--format", "json")
	var rep struct {
		Producer string `json:"producer"`
		Opset    int    `json:"opset"`
		Layers   []struct {
			Node     string `json:"node"`
			Kind     string `json:"kind"`
			Channels int    `json:"channels"`
		} `json:"layers"`
		Findings []struct {
			Code, Severity, Node, Description, Fix string
			Evidence                               map[string]any
		} `json:"findings"`
		Errors, Warnings int
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
	if rep.Producer != "pytorch 1.13.0" || rep.Opset != 15 || len(rep.Layers) != 2 || rep.Layers[0].Channels != 4 || rep.Layers[1].Channels != 16 {
		t.Errorf("got producer %q opset %d layers %+v, want pytorch 1.13.0, 15, 4 and 16 channels", rep.Producer, rep.Opset, rep.Layers)
	}
	if rep.Errors != 2 || rep.Warnings != 1 {
		t.Errorf("got %d errors %d warnings, want 2 and 1", rep.Errors, rep.Warnings)
	}
	for _, f := range rep.Findings {
		if f.Severity != "info" && (f.Fix == "" || f.Description == "" || f.Node == "" || f.Evidence == nil) {
			t.Errorf("finding %s lacks node, description, fix or evidence: %+v", f.Code, f)
		}
	}

	out := filepath.Join(t.TempDir(), "check.html")
	code, stdout, _ := runCLI(t, "model", "check", model("penguins_training_mode"), "--artifact", modelArtifact(t, "penguins"), "--format", "html", "--out", out)
	if code != ExitFound || stdout != "" {
		t.Fatalf("html --out: exit %d, stdout %q", code, stdout)
	}
	page := string(readFile(t, out))
	for _, want := range []string{"<!DOCTYPE html>", `data-code="batchnorm_training_mode"`, `data-code="running_stats_as_outputs"`, `data-code="fits_artifact"`, "training mode", "sha256:"} {
		if !strings.Contains(page, want) {
			t.Errorf("html lacks %q", want)
		}
	}
}

// TestModelCheckBundle: a model bundled with its artifact takes raw
// columns; model check follows them through the transform into the
// model's first BatchNorm, reports the bundle and finds nothing.
func TestModelCheckBundle(t *testing.T) {
	art := modelArtifact(t, "penguins")
	served := filepath.Join(t.TempDir(), "served.onnx")
	mustRun(t, "bundle", "--artifact", art, "--model", model("penguins_clean"), "--out", served)
	for _, args := range [][]string{{"model", "check", served}, {"model", "check", served, "--artifact", art}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
		if !strings.Contains(stdout, "the model takes raw features") {
			t.Errorf("%v: no note that the graph scales its own inputs:\n%s", args, stdout)
		}
	}
	_, stdout, _ := runCLI(t, "model", "check", served, "--artifact", art)
	if !strings.Contains(stdout, "carries a normguard transform") {
		t.Errorf("bundle not reported:\n%s", stdout)
	}
}
