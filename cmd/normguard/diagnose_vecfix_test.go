package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// writeNPYFloat32 writes vs (equal lengths) as a little-endian float32
// .npy file of shape (len(vs), dim), C order, as numpy.save does.
func writeNPYFloat32(t *testing.T, path string, vs [][]float64, dim int) {
	t.Helper()
	b := npyHeader(len(vs), dim)
	for _, v := range vs {
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x)))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// npyHeader returns the magic string, version 1.0 and the header of a
// float32 array of shape (rows, dim), padded to 64 bytes as numpy pads it.
func npyHeader(rows, dim int) []byte {
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, dim)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(b, h...)
}

// randomVectors returns n vectors of dim float32 values (as float64),
// normal with mean 0.1 per value, from a fixed seed.
func randomVectors(n, dim int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, dim)
		for k := range out[i] {
			out[i][k] = float64(float32(0.1 + rng.NormFloat64()))
		}
	}
	return out
}

// diagnoseEvidence runs diagnose --format json and returns the exit code
// and the first feature's verdict and evidence.
func diagnoseEvidence(t *testing.T, args ...string) (int, string, map[string]any) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"diagnose", "--format", "json"}, args...)...)
	var rep struct {
		Features []struct {
			Verdict  string         `json:"verdict"`
			Evidence map[string]any `json:"evidence"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Features) == 0 {
		t.Fatalf("diagnose %s: exit %d, no report (%v)\nstdout: %.500s\nstderr: %s", strings.Join(args, " "), code, err, stdout, stderr)
	}
	return code, rep.Features[0].Verdict, rep.Features[0].Evidence
}

// TestDiagnoseVectorPairedAcrossBatches pairs raw vectors from a .npy file
// (batches of 16,384 rows at 64 dimensions) with observed vectors from a
// JSON Lines file (batches of 65,536 rows), read in step: each observed row
// must meet the raw vector of its own row across the batch boundaries,
// missing observed rows included, and every row is judged.
func TestDiagnoseVectorPairedAcrossBatches(t *testing.T) {
	const rows, dim = 20000, 64
	dir := t.TempDir()
	specP := filepath.Join(dir, "s.yaml")
	os.WriteFile(specP, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: [{normalizer: {norm: l2}}]\n"), 0o644)
	art := filepath.Join(dir, "a.json")
	trainP := filepath.Join(dir, "train", "emb.npy")
	os.Mkdir(filepath.Dir(trainP), 0o755)
	writeNPYFloat32(t, trainP, randomVectors(300, dim, 1), dim)
	mustRun(t, "fit", "--spec", specP, "--data", trainP, "--out", art, "-q")

	raw := randomVectors(rows, dim, 2)
	rawP := filepath.Join(dir, "emb.npy")
	writeNPYFloat32(t, rawP, raw, dim)
	obs := make([][]float64, rows)
	for i, v := range raw {
		obs[i] = unitVector(v)
	}
	obs[5], obs[16390] = nil, nil // missing, on either side of the raw file's first batch boundary
	obsP := writeVectorsJSONL(t, dir, "ok.jsonl", "emb", obs)
	code, verdict, ev := diagnoseEvidence(t, "--artifact", art, "--observed", obsP, "--raw", rawP)
	if code != ExitOK || verdict != "ok" || ev["rows"] != float64(rows-2) {
		t.Errorf("unit vectors of the raw rows: exit %d, verdict %s, rows %v; want 0, ok, %d", code, verdict, ev["rows"], rows-2)
	}

	// The last row doubled: the largest relative difference is that row's
	// largest |value| (its expected output is the unit vector).
	last := rows - 1
	obs[last] = make([]float64, dim)
	want := 0.0
	for k, x := range unitVector(raw[last]) {
		obs[last][k] = 2 * x
		want = math.Max(want, math.Abs(x))
	}
	obsP = writeVectorsJSONL(t, dir, "last.jsonl", "emb", obs)
	code, verdict, ev = diagnoseEvidence(t, "--artifact", art, "--observed", obsP, "--raw", rawP)
	got, _ := ev["max_relative_difference"].(float64)
	if code != ExitFound || verdict != "unknown_mismatch" || math.Abs(got-want) > 1e-12 || ev["rows"] != float64(rows-2) {
		t.Errorf("last row doubled: exit %d, verdict %s, max_relative_difference %v, rows %v; want 1, unknown_mismatch, %v, %d", code, verdict, got, ev["rows"], want, rows-2)
	}

	// A row short: refused, naming both counts.
	obsP = writeVectorsJSONL(t, dir, "short.jsonl", "emb", obs[:rows-1])
	code, _, stderr := runCLI(t, "diagnose", "--artifact", art, "--observed", obsP, "--raw", rawP)
	if code != ExitError || !strings.Contains(stderr, fmt.Sprintf("has %d rows", rows)) || !strings.Contains(stderr, fmt.Sprint(rows-1)) {
		t.Errorf("one observed row short: exit %d, stderr %q; want 2 naming %d and %d rows", code, stderr, rows, rows-1)
	}
}

// TestDiagnoseVectorFlatMemory diagnoses a 205 MB .npy file of zero
// vectors (sparse: no disk) unpaired and paired: diagnose reads it a batch
// at a time, so the heap stays far below the file's size (holding the
// column took 8 bytes a value, 410 MB here, 9 GB for a 1 GB file). The
// garbage collector runs at GOGC=20 meanwhile, so that the heap follows
// what is held.
func TestDiagnoseVectorFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a 205 MB (sparse) file")
	}
	const rows, dim = 400_000, 128
	dir := t.TempDir()
	bigP := filepath.Join(dir, "emb.npy")
	h := npyHeader(rows, dim)
	if err := os.WriteFile(bigP, h, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(bigP, int64(len(h))+rows*dim*4); err != nil {
		t.Fatal(err)
	}
	trainP := filepath.Join(dir, "train", "emb.npy")
	os.Mkdir(filepath.Dir(trainP), 0o755)
	writeNPYFloat32(t, trainP, randomVectors(300, dim, 3), dim)
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	for _, tc := range []struct {
		steps, verdict string
		paired         bool
		code           int
		key            string
	}{
		{"[]", "zero_vectors", false, ExitFound, "vectors"},
		// A zero vector normalizes to itself; the raw rows' zero_vectors anomaly makes the exit 1.
		{"[{normalizer: {norm: l2}}]", "ok", true, ExitFound, "rows"},
	} {
		specP := filepath.Join(dir, "s.yaml")
		os.WriteFile(specP, []byte("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: "+tc.steps+"\n"), 0o644)
		art := filepath.Join(dir, "a.json")
		mustRun(t, "fit", "--spec", specP, "--data", trainP, "--out", art, "-q")
		args := []string{"--artifact", art, "--observed", bigP}
		if tc.paired {
			args = append(args, "--raw", bigP)
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}()
		code, verdict, ev := diagnoseEvidence(t, args...)
		close(stop)
		<-done
		if code != tc.code || verdict != tc.verdict || ev[tc.key] != float64(rows) {
			t.Errorf("steps %s (paired %v): exit %d, verdict %s, %s %v; want %d, %s, %d", tc.steps, tc.paired, code, verdict, tc.key, ev[tc.key], tc.code, tc.verdict, rows)
		}
		const file = rows * dim * 4
		grew := int64(peak.Load()) - int64(base.HeapInuse)
		t.Logf("steps %s (paired %v): the heap grew by %d bytes", tc.steps, tc.paired, grew)
		if grew > file/2 {
			t.Errorf("steps %s (paired %v): the heap grew by %d bytes diagnosing a %d-byte file; want under half of it", tc.steps, tc.paired, grew, file)
		}
	}
}
