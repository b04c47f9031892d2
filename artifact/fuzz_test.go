package artifact

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// sampleOrdinal is an artifact ordinal-encoding one categorical column
// with categories "a", "b" and the missing category.
func sampleOrdinal(t testing.TB) *Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: c\n    type: categorical\n    steps: [ordinal_encoder]\n"), "o.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, b := "a", "b"
	return &Artifact{
		Spec:   sp,
		Inputs: []Field{{Name: "c", Type: "categorical"}},
		Groups: []Group{{Columns: []string{"c"}, Type: "categorical", Steps: []step.FittedStep{
			{Name: "ordinal_encoder", Params: sp.Columns[0].Steps[0].Params, Inputs: []string{"c"}, Fitted: &step.OrdinalEncoder{
				Names: []string{"c"}, Categories: []step.CategoryList{{&a, &b, nil}}, HandleUnknown: "error", EncodedMissingValue: step.Float(math.NaN())}},
		}}},
		Passthrough: []string{},
		Outputs:     []Field{{Name: "c", Type: "numeric"}},
		Training:    Training{Rows: 3, Fingerprint: "sha256:00"},
	}
}

// sampleStep is an artifact of one group of one column, name, of type
// typ, whose one step (configured by specStep) is fitted as fitted and
// gives outputs.
func sampleStep(t testing.TB, name, typ, specStep string, fitted step.Fitted, outputs []Field) *Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: "+name+"\n    type: "+typ+"\n    steps:\n      - "+specStep+"\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &Artifact{
		Spec:   sp,
		Inputs: []Field{{Name: name, Type: typ}},
		Groups: []Group{{Columns: []string{name}, Type: typ, Steps: []step.FittedStep{
			{Name: sp.Columns[0].Steps[0].Name, Params: sp.Columns[0].Steps[0].Params, Inputs: []string{name}, Fitted: fitted},
		}}},
		Passthrough: []string{},
		Outputs:     outputs,
		Training:    Training{Rows: 3, Fingerprint: "sha256:00"},
	}
}

// FuzzDecodeArtifact checks that no input makes Decode or Verify panic,
// that Verify (its streamed reading alone, without the whole-decoding
// fallback) accepts exactly what Decode accepts, and that an accepted
// artifact re-encodes to the same bytes.
func FuzzDecodeArtifact(f *testing.F) {
	good, err := Encode(sample(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/3])
	// An ordinal encoder, whose categories_ Verify reads entry by entry.
	ord, err := Encode(sampleOrdinal(f))
	if err != nil {
		f.Fatal(err)
	}
	if _, err := Decode(ord, "ordinal.json"); err != nil {
		f.Fatalf("the ordinal seed is refused: %v", err)
	}
	f.Add(ord)
	// A quantile transformer and a one-hot encoder with infrequent
	// categories, whose lists Verify also reads entry by entry.
	a, b, z := "a", "b", "z"
	for _, st := range []*Artifact{
		sampleStep(f, "x", "numeric", "quantile_transformer: {n_quantiles: 3}", &step.QuantileTransformer{
			OutputDistribution: "uniform", NQuantiles: 3, References: step.Floats{0, 0.5, 1},
			Quantiles: []step.Floats{{1, 2, 3}}, Names: []string{"x"}}, []Field{{Name: "x", Type: "numeric"}}),
		sampleStep(f, "c", "categorical", "one_hot_encoder: {max_categories: 2}", &step.OneHotEncoder{
			Names: []string{"c"}, Categories: []step.CategoryList{{&a, &b, &z}}, InfrequentCategories: []step.CategoryList{{&a, &b}},
			HandleUnknown: "error"}, []Field{{Name: "c_z", Type: "numeric"}, {Name: "c_infrequent_sklearn", Type: "numeric"}}),
		// One output per category, whose names the check keeps as hashes.
		sampleStep(f, "c", "categorical", "one_hot_encoder", &step.OneHotEncoder{
			Names: []string{"c"}, Categories: []step.CategoryList{{&a, &b, &z}}, HandleUnknown: "error"},
			[]Field{{Name: "c_a", Type: "numeric"}, {Name: "c_b", Type: "numeric"}, {Name: "c_z", Type: "numeric"}}),
	} {
		data, err := Encode(st)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := Decode(data, "seed.json"); err != nil {
			f.Fatalf("a seed is refused: %v", err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data, "fuzz.json")
		old := decodeFallbackSize
		decodeFallbackSize = 0
		v, verr := Verify(bytes.NewReader(data), int64(len(data)), "fuzz.json")
		decodeFallbackSize = old
		if (err == nil) != (verr == nil) {
			t.Fatalf("Decode says %v, Verify %v", err, verr)
		}
		if err != nil {
			return
		}
		if v.Digest != a.Digest {
			t.Fatalf("Verify's digest %s, Decode's %s", v.Digest, a.Digest)
		}
		again, err := Encode(a)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted artifact does not re-encode to its bytes (err %v)", err)
		}
	})
}
