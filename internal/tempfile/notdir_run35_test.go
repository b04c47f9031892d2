package tempfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOutputUnderAFile: an output path whose folder part is a file
// ("a.json/x.csv") names that file as a file, not Go's stat text
// (attack run 35 F5).
func TestOutputUnderAFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{filepath.Join(file, "x.csv"), filepath.Join(file, "sub", "x.csv")} {
		_, err := Resolve(out)
		if err == nil {
			t.Fatalf("Resolve(%s): got no error, want one", out)
		}
		msg := err.Error()
		if !strings.Contains(msg, strconv.Quote(file)+" is a file, not a folder") {
			t.Errorf("Resolve(%s): got %q, want it to say %s is a file, not a folder", out, msg, file)
		}
		if strings.Contains(msg, "stat ") {
			t.Errorf("Resolve(%s): got %q, want no Go stat text", out, msg)
		}
	}
}
