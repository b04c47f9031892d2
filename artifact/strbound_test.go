package artifact_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

// encodedLen is the length of s between its quotes as an artifact holds
// it (encoding/json's escapes).
func encodedLen(t *testing.T, s string) int {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return len(b) - 2
}

// withLastCategory returns the ordinal encoder artifact with c appended
// to the first column's categories (it sorts after the fitted ones, so
// the artifact stays valid), encoded without the bounds, and the path of
// that category.
func withLastCategory(t *testing.T, c string) ([]byte, string) {
	t.Helper()
	a := categoryCases(t)["ordinal_encoder auto"]
	i := addCategory(a, c)
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return data, fmt.Sprintf("groups[0].steps[0].fitted.categories_[0][%d]", i)
}

// addCategory adds c to the ordinal encoder's first list of categories,
// before the missing category that "auto" places last, and returns its
// index.
func addCategory(a *artifact.Artifact, c string) int {
	e := a.Groups[0].Steps[0].Fitted.(*step.OrdinalEncoder)
	l := e.Categories[0]
	i := len(l)
	if i > 0 && l[i-1] == nil {
		i--
	}
	e.Categories[0] = append(l[:i:i], append([]*string{&c}, l[i:]...)...)
	return i
}

// TestStringBound holds Verify and Decode to one verdict, worded alike,
// on a category whose encoding is exactly MaxStringBytes long and one
// byte longer: plain, and with characters the encoding escapes (a quote
// and a backslash take 2 bytes, "<" 6: \u003c; "é" its 2 bytes of UTF-8),
// so the bound is on the bytes in the file. Past the bound the refusal
// names the category's JSON path and its offset; Encode refuses to write
// it.
func TestStringBound(t *testing.T) {
	const bound = artifact.MaxStringBytes
	for _, c := range []struct{ name, unit string }{
		{"plain", "z"},
		{"escaped", `"\<é`},
	} {
		for _, size := range []int{bound, bound + 1} {
			// "z" first sorts the category last; padded with "z" to size.
			s := "z" + strings.Repeat(c.unit, (size-1)/max(encodedLen(t, c.unit), 1)/2)
			s += strings.Repeat("z", size-encodedLen(t, s))
			if n := encodedLen(t, s); n != size {
				t.Fatalf("built a category of %d encoded bytes, want %d", n, size)
			}
			data, path := withLastCategory(t, s)
			label := fmt.Sprintf("%s category of %d encoded bytes (%d raw)", c.name, size, len(s))
			decodeErr, verifyErr := verdicts(data)
			if size <= bound {
				if decodeErr != nil || verifyErr != nil {
					t.Errorf("%s: Decode %v, Verify %v; want both to accept", label, decodeErr, verifyErr)
				}
				continue
			}
			enc, _ := json.Marshal(s)
			at := bytes.Index(data, enc[:40])
			want := fmt.Sprintf("load artifact m.json: corrupt artifact: %s: a string of more than %d bytes (at byte %d), the most an artifact may hold (artifact.MaxStringBytes", path, bound, at)
			for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Errorf("%s: %s got %v\nwant %s...", label, name, err, want)
				}
				if !errors.Is(err, artifact.ErrCorrupt) || !errors.Is(err, artifact.ErrInvalid) {
					t.Errorf("%s: %s: %v is not ErrCorrupt and ErrInvalid", label, name, err)
				}
			}
			if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
				t.Errorf("%s: Decode and Verify word the refusal differently:\n%v\n%v", label, decodeErr, verifyErr)
			}
			a := categoryCases(t)["ordinal_encoder auto"]
			addCategory(a, s)
			if _, err := artifact.EncodeChecked(a); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("encode artifact: %s: a string of %d bytes in the artifact's JSON, more than the %d", path, size, bound)) {
				t.Errorf("%s: Encode got %v, want the category refused by its path", label, err)
			}
		}
	}
}

// TestStringBoundCountsEscapesInTheFile writes a category as \u00e9
// escapes (not the canonical encoding, which writes "é" as UTF-8): at the
// bound both readers read it and refuse the changed file (its digest),
// one byte past it they refuse the string as too long, each escape
// counted as its 6 bytes.
func TestStringBoundCountsEscapesInTheFile(t *testing.T) {
	const bound = artifact.MaxStringBytes
	marker := "z" + strings.Repeat("y", 100)
	data, path := withLastCategory(t, marker)
	for _, size := range []int{bound, bound + 1} {
		body := "z" + strings.Repeat(`\u00e9`, (size-1)/6)
		body += strings.Repeat("y", size-len(body))
		edited := bytes.Replace(data, []byte(marker), []byte(body), 1)
		decodeErr, verifyErr := verdicts(edited)
		want := "digest mismatch"
		if size > bound {
			want = path + ": a string of more than"
		}
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("a category of %d bytes in \\u escapes: %s got %v, want %q", size, name, err, want)
			}
		}
	}
}

// TestStringBoundOtherTokens edits the file: a number of more than
// MaxStringBytes digits, white space as long, and an object key as long
// are refused alike by both readers, naming where.
func TestStringBoundOtherTokens(t *testing.T) {
	data, _ := withLastCategory(t, "zz")
	long := strings.Repeat("1", artifact.MaxStringBytes+1)
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"a long number", `"rows": `, `"rows": ` + long + "0", "training.rows: a number or white space of more than"},
		{"long white space", `"rows": `, `"rows":` + strings.Repeat(" ", artifact.MaxStringBytes+1), "training.rows: a number or white space of more than"},
		{"a long key", `"rows": `, `"` + long + `": 1, "rows": `, "training: a key of more than"},
		{"a short number", `"rows": `, `"rows": 9`, "digest mismatch"},
	} {
		edited := bytes.Replace(data, []byte(c.old), []byte(c.new), 1)
		decodeErr, verifyErr := verdicts(edited)
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %s got %v, want %q", c.name, name, err, c.want)
			}
		}
		if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
			t.Errorf("%s: Decode and Verify word the refusal differently:\n%v\n%v", c.name, decodeErr, verifyErr)
		}
	}
}

// TestSampleBound reads a fitted artifact with a vector column, whose
// embedding's sample is one base64 string (41 vectors of 100 dimensions:
// longer than MaxStringBytes once that is lowered under it): the sample
// is held to MaxSampleBytes only, and past that both readers refuse it by
// its path, alike; Encode refuses to write it.
func TestSampleBound(t *testing.T) {
	a := fittedCases(t)["vector glove41"]
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	n := valueLen(t, data, "embeddings", 0, "contract", "profile", "sample", "base64") - 2
	defer artifact.SetMaxStringBytesForTest(n / 2)()
	for _, bound := range []int64{n, n - 1} {
		restore := artifact.SetMaxSampleBytesForTest(bound)
		decodeErr, verifyErr := verdicts(data)
		_, encodeErr := artifact.EncodeChecked(a)
		restore()
		if bound == n {
			if decodeErr != nil || verifyErr != nil || encodeErr != nil {
				t.Errorf("a sample of %d bytes, bound %d: Decode %v, Verify %v, Encode %v; want all to accept", n, bound, decodeErr, verifyErr, encodeErr)
			}
			continue
		}
		want := fmt.Sprintf("embeddings[0].contract.profile.sample.base64: a string of more than %d bytes", bound)
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "artifact.MaxSampleBytes") {
				t.Errorf("a sample of %d bytes, bound %d: %s got %v, want %q", n, bound, name, err, want)
			}
		}
		if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
			t.Errorf("Decode and Verify word the refusal differently:\n%v\n%v", decodeErr, verifyErr)
		}
		if encodeErr == nil || !strings.Contains(encodeErr.Error(), "embeddings[0].contract.profile.sample.base64: a string of") {
			t.Errorf("a sample of %d bytes, bound %d: Encode got %v", n, bound, encodeErr)
		}
	}
}
