package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// redigest sets data's digest to the hash of its own bytes with the digest
// value empty, as a program that edits an artifact and digests it again
// does (attack run 27's canon.py).
func redigest(t *testing.T, data []byte) []byte {
	t.Helper()
	re := regexp.MustCompile(`"digest": "sha256:[0-9a-f]{64}"`)
	loc := re.FindIndex(data)
	if loc == nil {
		t.Fatal("no digest in the encoding")
	}
	blank := append(append(append([]byte{}, data[:loc[0]]...), `"digest": ""`...), data[loc[1]:]...)
	sum := sha256.Sum256(blank)
	return bytes.Replace(blank, []byte(`"digest": ""`), []byte(`"digest": "sha256:`+hex.EncodeToString(sum[:])+`"`), 1)
}

// TestNotCanonicalRedigested (attack run 27 F5 c): a file whose stated
// digest is that of its own bytes but whose content is not canonical (a
// field absent, a null) is refused as not in canonical form at its line
// and column, saying what normguard writes there, by Decode and Verify
// alike, not as "changed after it was written"; a file edited without a
// new digest is still a digest mismatch.
func TestNotCanonicalRedigested(t *testing.T) {
	data, err := Encode(profiled(t))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var del, null int
	for i, l := range lines {
		if strings.Contains(l, `"name": "m"`) || strings.HasPrefix(strings.TrimSpace(l), `"remainder":`) {
			del = i
		}
		if strings.HasPrefix(strings.TrimSpace(l), `"missing":`) {
			null = i
		}
	}
	if del == 0 || null == 0 {
		t.Fatalf("test artifact lacks the lines edited:\n%s", data)
	}
	for _, tc := range []struct {
		name string
		edit func([]string) []string
		line int
	}{
		{"field absent", func(l []string) []string {
			out := append(append([]string{}, l[:del]...), l[del+1:]...)
			if !strings.HasSuffix(l[del], ",") {
				out[del-1] = strings.TrimSuffix(out[del-1], ",")
			}
			return out
		}, del + 1},
		{"null", func(l []string) []string {
			out := append([]string{}, l...)
			out[null] = regexp.MustCompile(`: -?[0-9]+`).ReplaceAllString(out[null], ": null")
			return out
		}, null + 1},
	} {
		edited := []byte(strings.Join(tc.edit(lines), "\n"))
		if bytes.Equal(edited, data) {
			t.Fatalf("%s: the edit changed nothing", tc.name)
		}
		re := redigest(t, edited)
		_, derr := Decode(re, "a.json")
		_, verr := Verify(bytes.NewReader(re), int64(len(re)), "a.json")
		for _, err := range []error{derr, verr} {
			if err == nil {
				t.Fatalf("%s: accepted", tc.name)
			}
			msg := err.Error()
			if strings.Contains(msg, "digest mismatch") || strings.Contains(msg, "changed after") ||
				!strings.Contains(msg, fmt.Sprintf("not in canonical form from line %d ", tc.line)) || !strings.Contains(msg, "where normguard writes") ||
				!strings.Contains(msg, "its digest is that of its own bytes") {
				t.Errorf("%s: got %v, want a refusal naming the line of the non-canonical form and what normguard writes", tc.name, err)
			}
		}
		if derr != nil && verr != nil && derr.Error() != verr.Error() {
			t.Errorf("%s: Decode and Verify word it apart:\n%v\n%v", tc.name, derr, verr)
		}
		// Not digested again: the digest is not that of the bytes. A
		// field's value dropped is a digest mismatch; a 0 made null
		// re-encodes as the file was digested, so it is not in
		// canonical form, without the note on its digest.
		_, err := Decode(edited, "a.json")
		switch {
		case err == nil:
			t.Errorf("%s, digest not renewed: accepted", tc.name)
		case tc.name == "field absent" && !strings.Contains(err.Error(), "digest mismatch"):
			t.Errorf("%s, digest not renewed: got %v, want a digest mismatch", tc.name, err)
		case tc.name == "null" && (!strings.Contains(err.Error(), "not in canonical form") || strings.Contains(err.Error(), "its own bytes")):
			t.Errorf("%s, digest not renewed: got %v, want not in canonical form", tc.name, err)
		}
	}
}
