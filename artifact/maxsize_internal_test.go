package artifact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSaveRefusesPastMaxSize: Load refuses a file past MaxSize, so Save
// does not write one (a fit whose categories and grids pass 1 GiB wrote
// an artifact no reader took). The bound is lowered for the test.
func TestSaveRefusesPastMaxSize(t *testing.T) {
	a, err := Load("../testdata/models/penguins.artifact.json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeChecked(a)
	if err != nil {
		t.Fatal(err)
	}
	defer func(m int) { maxEncoded = m }(maxEncoded)
	maxEncoded = len(data) - 1
	path := filepath.Join(t.TempDir(), "a.json")
	if _, err := Save(a, path); err == nil || !strings.Contains(err.Error(), "past the") {
		t.Fatalf("Save of %d bytes with a bound of %d: %v, want a refusal", len(data), maxEncoded, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a file was written: %v", err)
	}
	maxEncoded = len(data)
	if _, err := Save(a, path); err != nil {
		t.Errorf("Save at the bound: %v", err)
	}
}
