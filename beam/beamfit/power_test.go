package beamfit

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// powerSpec fits power_transformer on columns longer than the core's
// two-stage threshold (200,000 present values), so the lambda search takes
// its secant passes (and, for the constant column, the fallback to Brent's
// method on the whole column).
const powerSpec = `version: 1
remainder: drop
columns:
  - name: skewed
    type: numeric
    steps: [power_transformer]
  - name: positive
    type: numeric
    steps: [{power_transformer: {method: box-cox, standardize: false}}]
  - names: [signed, flat]
    type: numeric
    steps: [{simple_imputer: {strategy: mean}}, power_transformer]
`

// powerRows returns n rows of skewed, positive, signed and flat as CSV
// cells ("" is missing).
func powerRows(n int) [][]string {
	rng := rand.New(rand.NewPCG(17, 23))
	cell := func(x float64) string { return string(table.AppendFloat(nil, x)) }
	rows := make([][]string, n)
	for i := range rows {
		skewed := cell(math.Exp(rng.NormFloat64()) - 0.5)
		if rng.IntN(50) == 0 {
			skewed = ""
		}
		signed := cell(rng.NormFloat64()*4 + 1)
		if rng.IntN(30) == 0 {
			signed = ""
		}
		rows[i] = []string{skewed, cell(rng.ExpFloat64() + 0.05), signed, "3.5"}
	}
	return rows
}

// writePowerCSV writes rows under powerSpec's header.
func writePowerCSV(t *testing.T, path string, rows [][]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("skewed,positive,signed,flat\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPowerTransformerLargeMatchesLocalFit runs the pipeline over more
// rows than the two-stage threshold, in 1 and 17 shards, and compares the
// artifact's bytes with the local fit's.
func TestPowerTransformerLargeMatchesLocalFit(t *testing.T) {
	const nRows = 205_000
	rows := powerRows(nRows)
	sp, err := spec.Parse(strings.NewReader(powerSpec), "power.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	all := filepath.Join(dir, "all.csv")
	writePowerCSV(t, all, rows)
	want := localFit(t, sp, all)
	for ci, shards := range []int{1, 17} {
		t.Run(fmt.Sprintf("%d shards", shards), func(t *testing.T) {
			sub := filepath.Join(dir, fmt.Sprintf("case%d", ci))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			at := 0
			for i, size := range split(nRows, shards, rand.New(rand.NewPCG(uint64(ci), 5))) {
				writePowerCSV(t, filepath.Join(sub, fmt.Sprintf("part-%03d.csv", i)), rows[at:at+size])
				at += size
			}
			out := filepath.Join(sub, "artifact.json")
			err := Run(context.Background(), "prism", Options{Spec: sp, Data: filepath.Join(sub, "part-*"), Out: out, Model: "m", ModelVersion: "3"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			assertSameBytes(t, got, want)
		})
	}
}
