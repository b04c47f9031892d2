package artifact_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/spec"
)

// outputsCase fits a one-hot encoder, a scaler and a passthrough column:
// outputs city_* (numeric), x (numeric), note (categorical).
func outputsCase(t *testing.T) []byte {
	t.Helper()
	return outputsCaseOf(t, []string{"lyon", "nice", "paris", "brest", "metz", "lyon", "nice"}, "[one_hot_encoder]")
}

// outputsCaseOf is outputsCase with the city column's values and the
// city group's steps given.
func outputsCaseOf(t *testing.T, cities []string, steps string) []byte {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("city,x,note\n")
	for i, c := range cities {
		fmt.Fprintf(&csv, "%s,%d,n%d\n", c, i, i%3)
	}
	a := fitCSV(t, "version: 1\nremainder: passthrough\ncolumns:\n  - names: [city]\n    type: categorical\n    steps: "+steps+"\n  - names: [x]\n    steps: [standard_scaler]\n", csv.String())
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// outputEdit is an edit of an artifact's outputs or output profile, with
// the refusal it must get, worded from the fitted artifact.
type outputEdit struct {
	name string
	edit func(a *artifact.Artifact)
	want func(outs []artifact.Field) string // "" for none
}

var outputEdits = []outputEdit{
	{"none", func(*artifact.Artifact) {}, func([]artifact.Field) string { return "" }},
	{"the second name repeats the first",
		func(a *artifact.Artifact) { a.Outputs[1].Name = a.Outputs[0].Name },
		func(o []artifact.Field) string { return fmt.Sprintf("outputs[1].name: %q is listed twice", o[0].Name) }},
	{"the last name repeats the third",
		func(a *artifact.Artifact) { a.Outputs[len(a.Outputs)-1].Name = a.Outputs[2].Name },
		func(o []artifact.Field) string {
			return fmt.Sprintf("outputs[%d].name: %q is listed twice", len(o)-1, o[2].Name)
		}},
	{"two repeats, the later one of the earlier name",
		func(a *artifact.Artifact) {
			a.Outputs[4].Name = a.Outputs[3].Name
			a.Outputs[5].Name = a.Outputs[0].Name
		},
		func(o []artifact.Field) string { return fmt.Sprintf("outputs[4].name: %q is listed twice", o[3].Name) }},
	{"an empty name before a repeat",
		func(a *artifact.Artifact) { a.Outputs[1].Name = ""; a.Outputs[3].Name = a.Outputs[2].Name },
		func([]artifact.Field) string { return "outputs[1].name: is empty" }},
	{"a repeat before an empty name",
		func(a *artifact.Artifact) { a.Outputs[1].Name = a.Outputs[0].Name; a.Outputs[3].Name = "" },
		func(o []artifact.Field) string { return fmt.Sprintf("outputs[1].name: %q is listed twice", o[0].Name) }},
	{"a repeat before an unknown type",
		func(a *artifact.Artifact) { a.Outputs[2].Name = a.Outputs[0].Name; a.Outputs[4].Type = "text" },
		func(o []artifact.Field) string { return fmt.Sprintf("outputs[2].name: %q is listed twice", o[0].Name) }},
	{"an unknown type on a repeated name",
		func(a *artifact.Artifact) { a.Outputs[2].Name = a.Outputs[0].Name; a.Outputs[2].Type = "text" },
		func(o []artifact.Field) string { return fmt.Sprintf("outputs[2].name: %q is listed twice", o[0].Name) }},
	{"an unknown type before a repeat",
		func(a *artifact.Artifact) { a.Outputs[1].Type = "text"; a.Outputs[4].Name = a.Outputs[0].Name },
		func([]artifact.Field) string {
			return `outputs[1].type: must be "numeric" or "categorical", got "text"`
		}},
	{"a renamed one-hot output",
		func(a *artifact.Artifact) { a.Outputs[3].Name = "renamed" },
		func(o []artifact.Field) string {
			return fmt.Sprintf("outputs[3]: is \"renamed\" (numeric), the steps give %q (numeric)", o[3].Name)
		}},
	{"a retyped one-hot output",
		func(a *artifact.Artifact) { a.Outputs[2].Type = spec.TypeCategorical },
		func(o []artifact.Field) string {
			return fmt.Sprintf("outputs[2]: is %q (categorical), the steps give %q (numeric)", o[2].Name, o[2].Name)
		}},
	{"a renamed passthrough output, then a renamed scaler output",
		func(a *artifact.Artifact) {
			a.Outputs[len(a.Outputs)-1].Name = "n2"
			a.Outputs[len(a.Outputs)-2].Name = "y"
		},
		func(o []artifact.Field) string {
			return fmt.Sprintf("outputs[%d]: is \"y\" (numeric), the steps give \"x\" (numeric)", len(o)-2)
		}},
	{"a renamed passthrough output",
		func(a *artifact.Artifact) { a.Outputs[len(a.Outputs)-1].Name = "n2" },
		func(o []artifact.Field) string {
			return fmt.Sprintf("outputs[%d]: is \"n2\" (categorical), the steps give \"note\" (categorical)", len(o)-1)
		}},
	{"two outputs swapped",
		func(a *artifact.Artifact) { a.Outputs[1], a.Outputs[2] = a.Outputs[2], a.Outputs[1] },
		func(o []artifact.Field) string {
			return fmt.Sprintf("outputs[1]: is %q (numeric), the steps give %q (numeric)", o[2].Name, o[1].Name)
		}},
	{"a renamed one-hot output profile",
		func(a *artifact.Artifact) { a.Profile.Outputs[2].Name = "renamed" },
		func(o []artifact.Field) string {
			return fmt.Sprintf("profile.outputs[2]: is \"renamed\" (numeric), the schema's outputs[2] is %q (numeric)", o[2].Name)
		}},
	{"a renamed passthrough output profile",
		func(a *artifact.Artifact) { a.Profile.Outputs[len(a.Profile.Outputs)-1].Name = "n2" },
		func(o []artifact.Field) string {
			return fmt.Sprintf("profile.outputs[%d]: is \"n2\" (categorical), the schema's outputs[%d] is \"note\" (categorical)", len(o)-1, len(o)-1)
		}},
}

// TestOutputChecksFromHashes holds Decode and Verify to today's refusals
// of edited outputs and output profiles (repeated, empty, retyped,
// renamed, swapped names), which the check now makes from hashes of the
// names, reading a name again only to quote it; with every name's hash
// cut to 2 bits, so that different names collide, the verdicts are the
// same.
func TestOutputChecksFromHashes(t *testing.T) {
	base := outputsCase(t)
	fitted, err := artifact.Decode(base, "base.json")
	if err != nil {
		t.Fatal(err)
	}
	outs := fitted.Outputs
	if len(outs) < 7 {
		t.Fatalf("the case has %d outputs, want at least 7", len(outs))
	}
	for _, mask := range []uint64{^uint64(0), 3} {
		restore := artifact.SetNameHashMaskForTest(mask)
		for _, e := range outputEdits {
			a, err := artifact.Decode(base, "base.json")
			if err != nil {
				t.Fatal(err)
			}
			e.edit(a)
			data, err := artifact.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			want := e.want(outs)
			decodeErr, verifyErr := verdicts(data)
			for reader, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
				switch {
				case want == "" && err != nil:
					t.Errorf("mask %#x, %s: %s refuses: %v", mask, e.name, reader, err)
				case want != "" && (err == nil || !strings.Contains(err.Error(), "corrupt artifact: "+want+"; ")):
					t.Errorf("mask %#x, %s: %s got %v, want %q", mask, e.name, reader, err, want)
				}
			}
		}
		restore()
	}
}

// TestStreamedOneHotOutputs is TestOutputChecksFromHashes (full hashes)
// for a one-hot
// encoder with more outputs than Verify keeps (it reads its lists again
// to produce them one at a time), alone and followed by a scaler whose
// inputs are its outputs: Decode and Verify give the same refusals.
func TestStreamedOneHotOutputs(t *testing.T) {
	cities := make([]string, 5000)
	for i := range cities {
		cities[i] = fmt.Sprintf("c%05d", i)
	}
	renamed := outputEdit{"a one-hot output past the kept ones renamed",
		func(a *artifact.Artifact) { a.Outputs[4500].Name = "renamed" },
		func(o []artifact.Field) string {
			return fmt.Sprintf("outputs[4500]: is \"renamed\" (numeric), the steps give %q (numeric)", o[4500].Name)
		}}
	input := outputEdit{"the scaler's input past the kept ones renamed",
		func(a *artifact.Artifact) {
			if len(a.Groups[0].Steps) > 1 {
				a.Groups[0].Steps[1].Inputs[4500] = "renamed"
			}
		},
		func(o []artifact.Field) string {
			return fmt.Sprintf("groups[0].steps[1].inputs[4500]: is \"renamed\", the previous step gives %q", o[4500].Name)
		}}
	for _, steps := range []string{"[one_hot_encoder]", "[one_hot_encoder, max_abs_scaler]"} {
		base := outputsCaseOf(t, cities, steps)
		fitted, err := artifact.Decode(base, "base.json")
		if err != nil {
			t.Fatal(err)
		}
		edits := append(slices.Clone(outputEdits), renamed)
		if steps != "[one_hot_encoder]" {
			edits = append(edits, input)
		}
		for _, e := range edits {
			a, err := artifact.Decode(base, "base.json")
			if err != nil {
				t.Fatal(err)
			}
			e.edit(a)
			data, err := artifact.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			want := e.want(fitted.Outputs)
			decodeErr, verifyErr := verdicts(data)
			for reader, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
				switch {
				case want == "" && err != nil:
					t.Errorf("%s, %s: %s refuses: %v", steps, e.name, reader, err)
				case want != "" && (err == nil || !strings.Contains(err.Error(), "corrupt artifact: "+want+"; ")):
					t.Errorf("%s, %s: %s got %v, want %q", steps, e.name, reader, err, want)
				}
			}
		}
	}
}

// TestMaxOutputs lowers the bound on output columns around a fitted
// artifact's count: both readers accept it at the bound, refuse it past
// the bound, naming the outputs list or, when the list was cut to fit,
// the section whose columns pass it.
func TestMaxOutputs(t *testing.T) {
	base := outputsCase(t)
	a, err := artifact.Decode(base, "base.json")
	if err != nil {
		t.Fatal(err)
	}
	n := len(a.Outputs)
	cut := func(a *artifact.Artifact) {
		a.Outputs = a.Outputs[:n-1]
		a.Profile.Outputs = a.Profile.Outputs[:n-1]
	}
	for _, c := range []struct {
		name  string
		bound int
		edit  func(a *artifact.Artifact)
		want  string
	}{
		{"at the bound", n, func(*artifact.Artifact) {}, ""},
		{"one past it", n - 1, func(*artifact.Artifact) {}, fmt.Sprintf("outputs: lists more than %d columns, the most an artifact may have; refit with fewer: give a one-hot encoder max_categories or min_frequency, or encode the column with ordinal_encoder", n-1)},
		{"one past it, the list cut", n - 1, cut, fmt.Sprintf("passthrough: gives 1 output columns, %d with the ones before, more than the %d an artifact may have", n, n-1)},
		{"the one-hot encoder past it", 2, func(a *artifact.Artifact) {
			cut(a)
			a.Outputs = a.Outputs[:2]
			a.Profile.Outputs = a.Profile.Outputs[:2]
		},
			fmt.Sprintf("groups[0]: gives %d output columns, %d with the ones before, more than the 2 an artifact may have", n-2, n-2)},
	} {
		m, err := artifact.Decode(base, "base.json")
		if err != nil {
			t.Fatal(err)
		}
		c.edit(m)
		data, err := artifact.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		restore := artifact.SetMaxOutputsForTest(c.bound)
		decodeErr, verifyErr := verdicts(data)
		restore()
		for reader, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s: %s refuses: %v", c.name, reader, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), "corrupt artifact: "+c.want)):
				t.Errorf("%s: %s got %v, want %q", c.name, reader, err, c.want)
			}
		}
	}
}
