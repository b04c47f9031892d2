package regular

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("plain"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p); err != nil || string(b) != "plain" {
		t.Errorf("ReadFile of a plain file: %q, %v", b, err)
	}
	for path, kind := range map[string]string{dir: "a folder", os.DevNull: "a device"} {
		var nr *NotRegularError
		if _, err := ReadFile(path); !errors.As(err, &nr) || nr.Kind != kind {
			t.Errorf("ReadFile(%s): %v, want refused as %s", path, err, kind)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want ErrNotExist", err)
	}
}
