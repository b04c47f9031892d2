package registry

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRegistryFileReplacedByFIFO: a model's current.json or a version
// file replaced by hand with a FIFO is refused at once, naming it; opened
// plainly it blocked every request reading it until a writer came
// (attack run 11). A file past its bound is refused too.
func TestRegistryFileReplacedByFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "current.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := readRegular(fifo, maxVersionFile)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is not a regular file but a FIFO") {
			t.Errorf("readRegular of a FIFO: %v, want a refusal naming it", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readRegular of a FIFO blocked")
	}
	if _, _, err := openRegular(dir); err == nil || !strings.Contains(err.Error(), "a folder") {
		t.Errorf("openRegular of a folder: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, make([]byte, 11), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readRegular(big, 10); err == nil || !strings.Contains(err.Error(), "larger than the 10 bytes") {
		t.Errorf("readRegular past the bound: %v", err)
	}
	if b, err := readRegular(big, 11); err != nil || len(b) != 11 {
		t.Errorf("readRegular at the bound: %d bytes, %v", len(b), err)
	}

	// Through the store: a model whose current.json is a FIFO.
	l, err := Open(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	art, err := os.ReadFile("../testdata/models/penguins.artifact.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Put(context.Background(), "penguins", "v1", art, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	cur := filepath.Join(dir, "reg", "models", "penguins", "current.json")
	if err := os.Remove(cur); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cur, 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _, err := l.Get(context.Background(), "penguins", "")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file but a FIFO") {
			t.Errorf("Get with current.json a FIFO: %v, want a refusal naming it", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get with current.json a FIFO blocked")
	}
}
