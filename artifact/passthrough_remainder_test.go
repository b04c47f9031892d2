package artifact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// TestPassthroughFollowsRemainder: an artifact whose spec.remainder was
// edited to "drop" while its passthrough still listed a column was
// accepted, and the transform output the column the spec drops (attack
// run 30 F2). Decode and the streamed Verify refuse it alike naming
// passthrough and the remainder, and a passthrough that lists a column a
// group reads, or leaves out an input no group reads (remainder
// passthrough), naming the entry; the fitted artifacts, with either
// remainder, are accepted.
func TestPassthroughFollowsRemainder(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("x,city,year,id\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "%d.5,%s,%d,r%d\n", i%7, []string{"a", "b", "c"}[i%3], 2000+i%4, i)
	}
	const groups = "columns:\n  - names: [x]\n    steps: [standard_scaler]\n  - names: [city]\n    type: categorical\n    steps:\n      - one_hot_encoder: {}\n"
	pass := fitCSV(t, "version: 1\nremainder: passthrough\n"+groups, csv.String())
	drop := fitCSV(t, "version: 1\nremainder: drop\n"+groups, csv.String())
	if got := strings.Join(pass.Passthrough, ","); got != "year,id" {
		t.Fatalf("the fit passes through %q, want year,id", got)
	}
	treeOf := func(a *artifact.Artifact) map[string]any {
		t.Helper()
		data, err := artifact.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			t.Fatal(err)
		}
		return tree.(map[string]any)
	}
	for _, tc := range []struct {
		name string
		base *artifact.Artifact
		edit func(root map[string]any)
		want string // what the refusal starts with after "corrupt artifact: ", "" for accepted
	}{
		{"remainder passthrough as fitted", pass, func(map[string]any) {}, ""},
		{"remainder drop as fitted", drop, func(map[string]any) {}, ""},
		{"spec.remainder passthrough -> drop", pass, func(root map[string]any) {
			root["spec"].(map[string]any)["remainder"] = "drop"
		}, `passthrough: lists "year" and 1 more, but spec.remainder is "drop"`},
		{"passthrough lists a group's column", pass, func(root map[string]any) {
			root["passthrough"] = append(root["passthrough"].([]any), "city")
		}, `passthrough[2]: "city" is a column of the spec's columns[1]`},
		{"passthrough leaves out an input no group reads", pass, func(root map[string]any) {
			root["passthrough"] = root["passthrough"].([]any)[:1]
		}, `inputs[3]: "id" is neither a column of the spec nor passed through (remainder "passthrough")`},
		{"spec.remainder drop -> passthrough, nothing passed", drop, func(root map[string]any) {
			root["spec"].(map[string]any)["remainder"] = "passthrough"
		}, ""}, // a fit of such a spec on data without other columns writes the same
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := treeOf(tc.base)
			tc.edit(root)
			data, ok := reencodeTree(root)
			if !ok {
				t.Fatal("not re-encoded")
			}
			decErr, verErr := bothReadings(data)
			switch {
			case tc.want == "":
				if decErr != nil || verErr != nil {
					t.Errorf("refused (Decode: %v, Verify: %v), want accepted", decErr, verErr)
				}
			case decErr == nil || verErr == nil:
				t.Errorf("accepted (Decode: %v, Verify: %v), want a refusal of %s", decErr, verErr, tc.want)
			case decErr.Error() != verErr.Error():
				t.Errorf("Decode: %v\nVerify: %v\nwant the same refusal", decErr, verErr)
			case !strings.Contains(decErr.Error(), "corrupt artifact: "+tc.want):
				t.Errorf("got %v, want a refusal of %s", decErr, tc.want)
			}
		})
	}
}
