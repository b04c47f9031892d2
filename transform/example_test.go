package transform_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/transform"
)

// Fit a spec on training rows, then transform rows in memory. The income
// column is imputed with the training median (2) and standardized with the
// training mean (2) and population standard deviation (sqrt(2/3)); the city
// column is one-hot encoded, an unseen city giving all zeros.
func Example() {
	sp, err := spec.Parse(strings.NewReader(`
version: 1
columns:
  - name: income
    steps: [{simple_imputer: {strategy: median}}, standard_scaler]
  - name: city
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: ignore}}]
`), "spec.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	train, err := table.NewCSVReader(strings.NewReader("income,city\n1,paris\n2,rome\n3,paris\n"), "train.csv", table.CSVOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := fit.Fit(context.Background(), sp, train, fit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := transform.New(a)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := t.Rows([]map[string]any{
		{"income": 3.0, "city": "rome"},
		{"income": nil, "city": "oslo"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range out.Cols {
		fmt.Println(c.Name, c.Num)
	}
	// Output:
	// income [1.224744871391589 0]
	// city_paris [0 0]
	// city_rome [1 0]
}
