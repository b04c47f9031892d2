package artifact_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// fittedCases fits every scikit-learn parity case shipped in testdata
// (every step kind and parameter style) and returns the artifacts by case.
func fittedCases(t *testing.T) map[string]*artifact.Artifact {
	t.Helper()
	var dirs []string
	for _, pat := range []string{"../testdata/peer-vectors/transform/*", "../testdata/parity-extra/*"} {
		d, _ := filepath.Glob(pat)
		dirs = append(dirs, d...)
	}
	out := map[string]*artifact.Artifact{}
	for _, d := range dirs {
		sp, err := spec.ParseFile(filepath.Join(d, "spec.json"))
		if err != nil {
			continue // not a case folder, or a spec scikit-learn refuses
		}
		r, err := table.Open(filepath.Join(d, "train.csv"))
		if err != nil {
			t.Fatal(err)
		}
		a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
		r.Close()
		if err != nil {
			continue // a case scikit-learn refuses too
		}
		a.Model = &artifact.Model{Name: "m", Version: "1 <&> \u2028"}
		out[filepath.Base(d)] = a
	}
	// A vector column: the artifact's embedding contract and profile.
	sp, err := spec.Parse(strings.NewReader("version: 1\ncolumns:\n  - name: emb\n    type: vector\n    steps: [standard_scaler]\n"), "v.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.Open("../testdata/vectors/glove41.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	a, err := fit.Fit(context.Background(), sp, r, fit.Options{})
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Embeddings) == 0 {
		t.Fatal("the vector artifact has no embedding contract")
	}
	out["vector glove41"] = a
	if len(out) < 30 {
		t.Fatalf("only %d parity cases fitted, want at least 30", len(out))
	}
	return out
}

// TestStreamedCanonicalEqualsMarshalIndent holds the streamed encoding that
// Decode compares files with to json.MarshalIndent's bytes, and its digest
// stream to the digest Encode computes, on every parity case.
func TestStreamedCanonicalEqualsMarshalIndent(t *testing.T) {
	for name, a := range fittedCases(t) {
		t.Run(name, func(t *testing.T) {
			data, err := artifact.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			indented, err := json.MarshalIndent(a, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(indented, '\n'), data) {
				t.Fatal("Encode differs from json.MarshalIndent")
			}
			var streamed bytes.Buffer
			sum := sha256.New()
			if err := artifact.StreamCanonicalForTest(&streamed, sum, a); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(streamed.Bytes(), data) {
				at := 0
				for at < len(data) && at < streamed.Len() && data[at] == streamed.Bytes()[at] {
					at++
				}
				t.Fatalf("streamed encoding differs at byte %d: got %q, want %q", at,
					streamed.Bytes()[max(0, at-40):min(streamed.Len(), at+40)], data[max(0, at-40):min(len(data), at+40)])
			}
			if got := "sha256:" + hex.EncodeToString(sum.Sum(nil)); got != a.Digest {
				t.Fatalf("digest stream hashes to %s, want %s", got, a.Digest)
			}
			var whole bytes.Buffer
			wholeSum := sha256.New()
			if err := artifact.WholeCanonicalForTest(&whole, wholeSum, a); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole.Bytes(), data) || !bytes.Equal(wholeSum.Sum(nil), sum.Sum(nil)) {
				t.Fatal("the whole-encoding fallback differs from the streamed encoding")
			}
			back, err := artifact.Decode(data, name)
			if err != nil {
				t.Fatal(err)
			}
			if back.Digest != a.Digest {
				t.Fatalf("decoded digest %s, want %s", back.Digest, a.Digest)
			}
		})
	}
}

// TestDecodeRefusesNonCanonical: a file whose digest is right but whose
// bytes are not the canonical encoding (reformatted, a key spelled in
// another case, a duplicate key, an unknown field) is refused naming the
// line.
func TestDecodeRefusesNonCanonical(t *testing.T) {
	// The edits below insert a key at the start of a step's params and
	// fitted objects, which needs them non-empty: take the first case, by
	// name, whose first step has both (a map's order would pick a case at
	// random, and one with empty params makes the edit invalid JSON).
	cases := fittedCases(t)
	var data []byte
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		d, err := artifact.Encode(cases[name])
		if err != nil {
			t.Fatal(err)
		}
		s := string(d)
		p, f := strings.Index(s, `"params": {`), strings.Index(s, `"fitted": {`)
		if p >= 0 && f >= 0 && s[p+len(`"params": {`)] != '}' && s[f+len(`"fitted": {`)] != '}' {
			data = d
			break
		}
	}
	if data == nil {
		t.Fatal("no fitted case has a first step with non-empty params and fitted parameters")
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"key case", `"passthrough":`, `"Passthrough":`, "Passthrough"},
		{"unknown field", `"passthrough":`, `"extra": 1, "passthrough":`, "extra"},
		{"duplicate key", `"passthrough":`, `"outputs": [], "passthrough":`, "outputs"},
		{"unknown field in a step's fitted parameters", `"fitted": {`, `"fitted": {"extra_": 1,`, "extra_"},
		{"unknown field in a step's parameters", `"params": {`, `"params": {"extra_param": 1,`, "extra_param"},
		{"unknown field in a step", `"inputs": [`, `"extra_key": 1, "inputs": [`, "extra_key"},
		{"a step's key in capitals", `"fitted": {`, `"FITTED": {`, "FITTED"},
		{"compacted", "[\n", "[", "line"},
		{"trailing space", "}\n", "} \n", "line"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(string(data), c.from, c.to, 1)
			if bad == string(data) {
				t.Fatalf("%q not found", c.from)
			}
			_, err := artifact.Decode([]byte(bad), "a.json")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error naming %q", err, c.want)
			}
		})
	}
}
