package monitor_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// Observe rows a model was fed and read the window's counts: the training
// incomes lie in [1, 3], so 250 is out of range; "oslo" is not among the
// encoder's categories.
func Example() {
	sp, _ := spec.Parse(strings.NewReader(`
version: 1
columns:
  - name: income
    steps: [standard_scaler]
  - name: city
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: ignore}}]
`), "spec.yaml")
	train, _ := table.NewCSVReader(strings.NewReader("income,city\n1,paris\n2,rome\n3,paris\n"), "train.csv", table.CSVOptions{})
	a, err := fit.Fit(context.Background(), sp, train, fit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "monitor")
	defer os.RemoveAll(dir)
	m, err := monitor.Open(filepath.Join(dir, "monitor.db"), monitor.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	cols := []table.Column{
		{Name: "income", Kind: table.Numeric, Num: []float64{2, 250, math.NaN(), 1}},
		{Name: "city", Kind: table.String, Str: []string{"rome", "oslo", "paris", "paris"}},
	}
	if err := m.Observe(context.Background(), "pricing", a, monitor.StageInput, cols, 4); err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range m.History("pricing", monitor.StageInput)[0].Features {
		fmt.Printf("%s: %d rows, missing %v, out of range %v, unseen %v\n", f.Name, f.Rows, f.MissingRate, f.OutOfRangeRate, f.UnseenRate)
	}
	// Output:
	// income: 4 rows, missing 0.25, out of range 0.25, unseen 0
	// city: 4 rows, missing 0, out of range 0, unseen 0.25
}
