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
