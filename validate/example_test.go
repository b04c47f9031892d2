package validate_test

import (
	"fmt"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/validate"
)

// A column missing in 24% of 1,850 training rows and in 8% of 1,850 rows
// now: Fisher's test (scipy: p = 1.97e-41) and Cohen's h (0.45) both say
// it changed.
func ExampleCheckSummaries() {
	lo, hi := step.Float(0), step.Float(100)
	sc := &validate.Schema{Features: []profile.Feature{{
		Name: "gdp", Type: "numeric", Count: 1406, Missing: 444,
		Min: &lo, Max: &hi,
	}}}
	now := validate.Summary{Name: "gdp", Rows: 1850, Missing: 148, Min: 3, Max: 97, Distinct: 2}
	r, err := validate.CheckSummaries(sc, 1850, []validate.Summary{now}, nil, validate.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range r.Anomalies {
		fmt.Println(a.Column, a.Code)
		fmt.Println(a.Description)
	}
	// Output:
	// gdp missing_rate_change
	// missing in 8.0% of rows (148 of 1,850), 24.0% at training (444 of 1,850); Fisher's exact test p = 2e-41, Cohen's h = 0.45
}
