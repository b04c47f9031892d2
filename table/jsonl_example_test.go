package table_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"strings"

	"github.com/normguard/normguard/table"
)

func ExampleNewJSONLReader() {
	in := `{"age":31,"city":"Paris","vip":true}
{"city":null,"age":"NA"}

{"age":45.5,"city":"Lyon, FR","vip":false}
`
	r, err := table.NewJSONLReader(strings.NewReader(in), "people.jsonl", table.JSONLOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println(r.Header())
	if err := r.Project([]table.Field{{Name: "age", Kind: table.Numeric}, {Name: "city", Kind: table.String}, {Name: "vip", Kind: table.String}}); err != nil {
		log.Fatal(err)
	}
	for r.Next() {
		b := r.Batch()
		age, city, vip := &b.Cols[0], &b.Cols[1], &b.Cols[2]
		for i := 0; i < b.Rows; i++ {
			fmt.Printf("line %d: age=%v city=%q missing=%v vip=%v\n", b.Line(i), age.Num[i], city.Str[i], city.IsMissing(i), vip.Str[i])
		}
	}
	if err := r.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// [age city vip]
	// line 1: age=31 city="Paris" missing=false vip=true
	// line 2: age=NaN city="" missing=true vip=
	// line 4: age=45.5 city="Lyon, FR" missing=false vip=false
}

func ExampleNewJSONLWriter() {
	fields := []table.Field{{Name: "x", Kind: table.Numeric}, {Name: "s", Kind: table.String}}
	w := table.NewJSONLWriter(os.Stdout, fields)
	b := &table.Batch{Rows: 3, Cols: []table.Column{
		{Name: "x", Kind: table.Numeric, Num: []float64{0.1, math.NaN(), math.Inf(-1)}},
		{Name: "s", Kind: table.String, Str: []string{`say "hi"`, "", ""}, Null: []bool{false, false, true}},
	}}
	if err := w.Write(b); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"x":0.1,"s":"say \"hi\""}
	// {"x":null,"s":""}
	// {"x":"-Infinity","s":null}
}
