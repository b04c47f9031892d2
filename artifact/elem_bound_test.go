package artifact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// TestColumnBound holds Verify, Decode and EncodeChecked to one verdict
// on a profile column and an output field, with the bound at the
// element's size (accepted) and one byte below it (refused by its path).
func TestColumnBound(t *testing.T) {
	cities := []string{"lyon", "nice", "paris", "brest", "metz", "lyon", "nice"}
	data := outputsCaseOf(t, cities, "[one_hot_encoder, standard_scaler]")
	a, err := artifact.Decode(data, "m.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path    []any
		section string
		count   int
	}{
		{[]any{"outputs"}, "outputs", len(a.Outputs)},
		{[]any{"profile", "inputs"}, "profile.inputs", len(a.Profile.Inputs)},
		{[]any{"profile", "outputs"}, "profile.outputs", len(a.Profile.Outputs)},
	} {
		// The section's largest element, the first of that size: at
		// its size the section is accepted, one byte below refused there.
		var n int64
		var name string
		for i := range c.count {
			if m := valueLen(t, data, append(append([]any{}, c.path...), i)...); m > n {
				n, name = m, fmt.Sprintf("%s[%d]", c.section, i)
			}
		}
		c := struct{ name string }{name}
		for _, bound := range []int64{n, n - 1} {
			restore := artifact.SetMaxColumnBytesForTest(bound)
			decodeErr, verifyErr := verdicts(data)
			_, encodeErr := artifact.EncodeChecked(a)
			restore()
			want := fmt.Sprintf("corrupt artifact: %s: more than the %d bytes", c.name, bound)
			for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
				// At the bound this section passes; a later, larger
				// section may be refused.
				over := err != nil && strings.Contains(err.Error(), "artifact m.json: corrupt artifact: "+strings.Split(c.name, "[")[0]+"[")
				if bound == n && over || bound < n && (err == nil || !strings.Contains(err.Error(), want)) {
					t.Errorf("%s of %d bytes, bound %d: %s got %v", c.name, n, bound, name, err)
				}
			}
			if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
				t.Errorf("%s, bound %d: Decode and Verify word the refusal differently:\n%v\n%v", c.name, bound, decodeErr, verifyErr)
			}
			if bound < n && (encodeErr == nil || !strings.Contains(encodeErr.Error(), c.name+": ")) {
				t.Errorf("%s of %d bytes, bound %d: EncodeChecked accepted it", c.name, n, bound)
			}
		}
	}
}

// TestDepthBound nests an array MaxDepth levels deep in a file (accepted
// by the scan, refused later only for its layout) and one level deeper
// (refused by its path, by Verify and Decode alike).
func TestDepthBound(t *testing.T) {
	for _, levels := range []int{artifact.MaxDepth, artifact.MaxDepth + 1} {
		// {"format": [[...]]}: the object is level 1.
		data := []byte(`{"format": ` + strings.Repeat("[", levels-1) + strings.Repeat("]", levels-1) + "}\n")
		decodeErr, verifyErr := verdicts(data)
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			deep := err != nil && strings.Contains(err.Error(), "levels deep")
			if deep != (levels > artifact.MaxDepth) {
				t.Errorf("%d levels: %s got %v", levels, name, err)
			}
			if deep && !strings.Contains(err.Error(), "format"+strings.Repeat("[0]", levels-2)+": an array or object nested more than 64 levels deep") {
				t.Errorf("%d levels: %s names no path: %v", levels, name, err)
			}
		}
	}
}

// TestEmbeddingBound reads a fitted artifact with a vector column, the
// bound on an embedding (its sample's MaxSampleBytes and MaxColumnBytes
// for the rest) set to the embedding's size and one byte under it:
// accepted at its size, refused past it by its path before it is
// decoded, alike by both readers, and not written by EncodeChecked.
func TestEmbeddingBound(t *testing.T) {
	a := fittedCases(t)["vector glove41"]
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	sample := valueLen(t, data, "embeddings", 0, "contract", "profile", "sample", "base64") - 2
	whole := valueLen(t, data, "embeddings", 0)
	defer artifact.SetMaxSampleBytesForTest(sample)()
	for _, rest := range []int64{whole - sample, whole - sample - 1} {
		restore := artifact.SetMaxColumnBytesForTest(rest)
		decodeErr, verifyErr := verdicts(data)
		_, encodeErr := artifact.EncodeChecked(a)
		restore()
		if rest == whole-sample {
			if decodeErr != nil || verifyErr != nil || encodeErr != nil {
				t.Errorf("an embedding of %d bytes, bound %d: Decode %v, Verify %v, Encode %v; want all to accept", whole, sample+rest, decodeErr, verifyErr, encodeErr)
			}
			continue
		}
		want := fmt.Sprintf("embeddings[0]: more than the %d bytes an embedding may hold", sample+rest)
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("an embedding of %d bytes, bound %d: %s got %v, want %q", whole, sample+rest, name, err, want)
			}
		}
		if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
			t.Errorf("Decode and Verify word the refusal differently:\n%v\n%v", decodeErr, verifyErr)
		}
		if encodeErr == nil || !strings.Contains(encodeErr.Error(), fmt.Sprintf("embeddings[0]: %d bytes in the artifact, more than the %d an embedding may hold", whole, sample+rest)) {
			t.Errorf("an embedding of %d bytes, bound %d: Encode got %v", whole, sample+rest, encodeErr)
		}
	}
}
