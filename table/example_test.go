package table_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/normguard/normguard/table"
)

func ExampleNewCSVReader() {
	in := `age,city,income
31,Paris,52000.5
NA,"Lyon, FR",
45,,61000
`
	r, err := table.NewCSVReader(strings.NewReader(in), "people.csv", table.CSVOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println(r.Header())
	if err := r.Project([]table.Field{{Name: "income", Kind: table.Numeric}, {Name: "city", Kind: table.String}}); err != nil {
		log.Fatal(err)
	}
	for r.Next() {
		b := r.Batch()
		income, city := &b.Cols[0], &b.Cols[1]
		for i := 0; i < b.Rows; i++ {
			fmt.Printf("line %d: income=%v city=%q missing=%v\n", b.Line(i), income.Num[i], city.Str[i], city.IsMissing(i))
		}
	}
	if err := r.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// [age city income]
	// line 2: income=52000.5 city="Paris" missing=false
	// line 3: income=NaN city="Lyon, FR" missing=false
	// line 4: income=61000 city="" missing=true
}

func ExampleParseError() {
	r, err := table.NewCSVReader(strings.NewReader("age\n31\nabc\n"), "people.csv", table.CSVOptions{})
	if err != nil {
		log.Fatal(err)
	}
	r.Project([]table.Field{{Name: "age", Kind: table.Numeric}})
	for r.Next() {
	}
	fmt.Println(r.Err())
	// Output:
	// people.csv:3: column "age": cannot parse "abc" as a number; declare the column `type: categorical` in the spec or fix the value
}
