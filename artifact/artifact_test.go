package artifact

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
)

// sample builds a small artifact by hand: log1p then binarizer on x.
func sample(t testing.TB) *Artifact {
	t.Helper()
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: x\n    type: numeric\n    steps: [log1p, {binarizer: {threshold: 0.5}}]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := sp.Columns[0]
	return &Artifact{
		Spec:   sp,
		Inputs: []Field{{Name: "x", Type: "numeric"}},
		Groups: []Group{{Columns: []string{"x"}, Type: "numeric", Steps: []step.FittedStep{
			{Name: "log1p", Params: g.Steps[0].Params, Inputs: []string{"x"}, Fitted: &step.Log1p{Names: []string{"x"}}},
			{Name: "binarizer", Params: g.Steps[1].Params, Inputs: []string{"x"}, Fitted: &step.Binarizer{Threshold: 0.5, Names: []string{"x"}}},
		}}},
		Passthrough: []string{},
		Outputs:     []Field{{Name: "x", Type: "numeric"}},
		Training:    Training{Rows: 3, Fingerprint: "sha256:00"},
		Model:       &Model{Name: "m", Version: "1"},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	a := sample(t)
	b, err := Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Digest, "sha256:") || len(a.Digest) != len("sha256:")+64 {
		t.Fatalf("digest %q, want sha256:<64 hex>", a.Digest)
	}
	got, err := Decode(b, "a.json")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != a.Digest {
		t.Fatalf("digest after decode: got %s, want %s", got.Digest, a.Digest)
	}
	again, _ := Encode(got)
	if !bytes.Equal(again, b) {
		t.Fatalf("re-encoding changed the bytes")
	}
	// The same content always gives the same bytes.
	b2, _ := Encode(sample(t))
	if !bytes.Equal(b2, b) {
		t.Fatalf("two encodings of the same artifact differ")
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, err := Encode(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("sample has no %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	cases := []struct {
		name string
		data []byte
		is   error
		want string
	}{
		{"empty", nil, ErrCorrupt, "empty"},
		{"truncated", good[:len(good)/2], ErrCorrupt, "truncated"},
		{"not json", []byte("hello"), ErrCorrupt, "not valid JSON"},
		{"foreign", []byte(`{"format":"x","format_version":1,"digest":"sha256:0"}`), ErrForeign, `"x"`},
		{"newer", replace(`"format_version": 1`, `"format_version": 2`), ErrNewerFormat, "version 2"},
		{"changed parameter", replace(`"threshold": 0.5`, `"threshold": 0.6`), ErrCorrupt, "digest mismatch"},
		{"changed whitespace", replace("\n  \"digest\"", "\n   \"digest\""), ErrCorrupt, "canonical"},
		{"unknown field", replace(`"passthrough": []`, `"passthrough": [], "extra": 1`), ErrCorrupt, "extra"},
		{"changed digest", replace(`"digest": "sha256:`, `"digest": "sha256:0`), ErrCorrupt, "digest mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.data, "a.json")
			if err == nil {
				t.Fatal("got no error")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "a.json") {
				t.Errorf("error %q should mention %q and the file", err, tc.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a, b := sample(t), sample(t)
	if ch, _ := Diff(a, b); len(ch) != 0 {
		t.Fatalf("identical artifacts: got %d changes", len(ch))
	}
	b.Groups[0].Steps[1].Fitted.(*step.Binarizer).Threshold = 0.7
	b.Training.Rows = 4
	b.Outputs = append(b.Outputs, Field{Name: "y", Type: "numeric"})
	ch, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Change{
		"x.binarizer.threshold": {Section: SectionParameters, Old: "0.5", New: "0.7"},
		"training.rows":         {Section: SectionTraining, Old: "3", New: "4"},
		"outputs":               {Section: SectionSchema, Old: "", New: `"y"`},
	}
	for _, c := range ch {
		w, ok := want[c.Path]
		if !ok {
			continue
		}
		if c.Section != w.Section || c.Old != w.Old || c.New != w.New {
			t.Errorf("%s: got %+v, want %+v", c.Path, c, w)
		}
		delete(want, c.Path)
	}
	for p := range want {
		t.Errorf("missing change %s in %+v", p, ch)
	}
}
