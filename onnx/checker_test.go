package onnx

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/transform"
)

// TestOnnxChecker runs the onnx package's checker with full shape
// inference (onnx.checker.check_model(full_check=True)) on the export of
// every parity case and on the quickstart bundles. It needs Python's onnx
// (Debian: python3-onnx) and skips without it, in CI too: ONNX Runtime,
// which CI installs, loads and runs the same models in the other tests.
func TestOnnxChecker(t *testing.T) {
	// Debian's python3 (where python3-onnx lives) before any other.
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		py, err = exec.LookPath("python3")
	}
	if err == nil {
		err = exec.Command(py, "-c", "import onnx.checker").Run()
	}
	if err != nil {
		t.Skipf("python3 with the onnx package is not available: %v", err)
	}
	dir := t.TempDir()
	var paths []string
	dirs, _ := filepath.Glob(filepath.Join(peerDir, "*"))
	for _, d := range dirs {
		a, err := fitArtifact(t, filepath.Join(d, "spec.json"), filepath.Join(d, "train.csv"))
		if err != nil {
			continue // fit refuses the case's training data
		}
		ex, err := Export(a, ExportOptions{})
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		p := filepath.Join(dir, filepath.Base(d)+".onnx")
		if err := WriteModel(p, ex.Model); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	a, _, _ := quickstartData(t)
	if _, err := transform.New(a); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"mlp_f32.onnx", "mlp_f64.onnx"} {
		model, err := ReadModel(filepath.Join(modelsDir, m))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Bundle(a, model, "test")
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "bundle_"+m)
		if err := WriteModel(p, b.Model); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	script := `import sys, onnx
for p in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(p), full_check=True)
print(len(sys.argv) - 1)`
	out, err := exec.Command(py, append([]string{"-c", script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
	t.Logf("onnx.checker accepts %s models", strings.TrimSpace(string(out)))
}
