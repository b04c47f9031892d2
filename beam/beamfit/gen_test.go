package beamfit

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Flags of TestGenerate, which bench.sh uses to write its data set.
var (
	genDir    = flag.String("gen-dir", "", "TestGenerate: write the generated data set here")
	genN      = flag.Int("gen-rows", 1_000_000, "TestGenerate: rows")
	genShards = flag.Int("gen-shards", 16, "TestGenerate: CSV shards")
)

// TestGenerate writes the test data set (the spec as spec.yaml, all rows
// as all.csv, and the same rows split into shards/part-NNN.csv) for
// bench.sh; it is skipped unless -gen-dir is given.
func TestGenerate(t *testing.T) {
	if *genDir == "" {
		t.Skip("pass -gen-dir DIR to write the benchmark's data set")
	}
	if err := os.MkdirAll(filepath.Join(*genDir, "shards"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*genDir, "spec.yaml"), []byte(allSteps), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := genRows(*genN, 1)
	writeCSV(t, filepath.Join(*genDir, "all.csv"), rows)
	at := 0
	for i, size := range split(len(rows), *genShards, rand.New(rand.NewPCG(5, 5))) {
		writeCSV(t, filepath.Join(*genDir, "shards", fmt.Sprintf("part-%03d.csv", i)), rows[at:at+size])
		at += size
	}
}
