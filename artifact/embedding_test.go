package artifact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/profile"
)

// TestVectorDimProfiles: a fitted vector column's dimension columns carry
// counts only, in the inputs and in the outputs, and the artifact still
// encodes, decodes and checks; the same counts-only profile is refused
// for a column that is no vector dimension, and a vector dimension's
// counts must still add up to the training rows.
func TestVectorDimProfiles(t *testing.T) {
	cases := fittedCases(t)
	a := cases["vector glove41"]
	dims := a.VectorInputs()
	if len(dims) != 100 {
		t.Fatalf("got %d vector dimension columns, want 100", len(dims))
	}
	for _, feats := range [][]profile.Feature{a.Profile.Inputs, a.Profile.Outputs} {
		for i := range feats {
			f := &feats[i]
			if _, ok := dims[f.Name]; !ok {
				t.Fatalf("profile column %q is not a vector dimension", f.Name)
			}
			if !artifact.IsVectorDimProfile(f) || f.Count != 41 || f.Missing != 0 {
				t.Fatalf("%s: got %+v; want counts only, 41 present, 0 missing", f.Name, *f)
			}
		}
	}
	enc, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Decode(enc, "v.json"); err != nil {
		t.Fatalf("decode: %v", err)
	}

	bad := *a
	bp := *a.Profile
	bad.Profile = &bp
	bp.Inputs = append(bp.Inputs[:0:0], a.Profile.Inputs...)
	bp.Inputs[3].Count--
	if err := artifact.Check(&bad); err == nil || !strings.Contains(err.Error(), "profile.inputs[3].count") {
		t.Fatalf("a dimension's counts off by one: got %v, want an error at profile.inputs[3].count", err)
	}

	for name, b := range cases {
		if len(b.Embeddings) > 0 || b.Profile == nil {
			continue
		}
		for i, f := range b.Profile.Inputs {
			if f.Type != "numeric" || f.Count == 0 {
				continue
			}
			c := *b
			p := *b.Profile
			c.Profile = &p
			p.Inputs = append(p.Inputs[:0:0], b.Profile.Inputs...)
			p.Inputs[i] = artifact.VectorDimProfile(f.Name, f.Count, f.Missing)
			want := fmt.Sprintf("profile.inputs[%d].mean", i)
			if err := artifact.Check(&c); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: counts-only profile of numeric column %q: got %v, want an error at %s", name, f.Name, err, want)
			}
			return
		}
	}
	t.Fatal("no fitted case with a numeric input")
}
