package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// exampleArtifact fits a one-column artifact for model fraud on rows.
func exampleArtifact(rows string) []byte {
	sp, _ := spec.Parse(strings.NewReader("version: 1\ncolumns: [{name: amount, steps: [standard_scaler]}]\n"), "spec.yaml")
	r, _ := table.NewCSVReader(strings.NewReader("amount\n"+rows), "train.csv", table.CSVOptions{})
	a, _ := fit.Fit(context.Background(), sp, r, fit.Options{Model: "fraud"})
	b, _ := artifact.Encode(a)
	return b
}

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "registry-example")
	defer os.RemoveAll(dir)
	reg, err := registry.Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	v1, v2 := exampleArtifact("1\n2\n3\n"), exampleArtifact("10\n20\n30\n")

	_, created, _ := reg.Put(ctx, "fraud", "v1", v1, registry.PutOptions{})
	fmt.Println("v1 created:", created)
	_, created, _ = reg.Put(ctx, "fraud", "v1", v1, registry.PutOptions{})
	fmt.Println("v1 again created:", created)
	_, _, err = reg.Put(ctx, "fraud", "v1", v2, registry.PutOptions{})
	fmt.Println("v2's artifact as v1 is a conflict:", errors.Is(err, registry.ErrConflict))

	reg.Put(ctx, "fraud", "v2", v2, registry.PutOptions{KeepCurrent: true})
	cur, _ := reg.Resolve(ctx, "fraud", "current")
	fmt.Println("current:", cur.Version)
	reg.SetCurrent(ctx, "fraud", "v2")
	cur, _ = reg.Resolve(ctx, "fraud", "")
	fmt.Println("current:", cur.Version)
	// Output:
	// v1 created: true
	// v1 again created: false
	// v2's artifact as v1 is a conflict: true
	// current: v1
	// current: v2
}
