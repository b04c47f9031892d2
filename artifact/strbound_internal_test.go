package artifact

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// referenceScan is tokenScan byte by byte: the offset of the first string
// or run past its bound (limit, or sample for the value of a "base64"
// key), whether it is a string, or -1.
func referenceScan(data []byte, limit, sample int64) (int64, bool) {
	inString, escaped := false, false
	var start, n int64
	var content []byte
	key := noKey // as tokenScan's
	strLimit := limit
	for i, c := range data {
		off := int64(i)
		switch {
		case inString && escaped:
			escaped = false
			n++
			content = append(content, c)
		case inString && c == '\\':
			escaped = true
			n++
			content = append(content, c)
		case inString && c == '"':
			inString, n, start = false, 0, off+1
			if string(content) == sampleKey {
				key = afterKey
			}
			continue
		case inString:
			n++
			content = append(content, c)
		case c == '"':
			inString, n, start, content, strLimit = true, 0, off, content[:0], limit
			if key == afterColon {
				strLimit = sample
			}
			key = noKey
			continue
		case c == ':' && key == afterKey:
			key = afterColon
			n, start = 0, off+1
			continue
		case c == ' ':
			n++
		default:
			key = noKey
			if isStructural[c] {
				n, start = 0, off+1
				continue
			}
			n++
		}
		if inString && n > strLimit || !inString && n > limit {
			return start, inString
		}
	}
	return -1, false
}

// TestTokenScanInPieces feeds random JSON-like text (strings with escaped
// quotes and backslashes, "base64" keys, numbers, white space, structural
// bytes) to tokenScan whole and in random pieces, down to one byte: the
// verdict is the byte-by-byte reference's either way.
func TestTokenScanInPieces(t *testing.T) {
	const limit, sample = 8, 20
	defer func(old, oldSample int64) { maxStringBytes, maxSampleBytes = old, oldSample }(maxStringBytes, maxSampleBytes)
	maxStringBytes, maxSampleBytes = limit, sample
	r := rand.New(rand.NewPCG(1, 2))
	tokens := []string{`"`, `\\`, `\\`, "a", "a", "a", " ", " ", ",", ":", "[", "]", "{", "}", "0", "1", `"base64"`, `"base64": "`, "base64"}
	refused, samples := 0, 0
	for trial := range 30000 {
		var b []byte
		for range r.IntN(40) {
			b = append(b, tokens[r.IntN(len(tokens))]...)
		}
		data := b
		wantAt, wantStr := referenceScan(data, limit, sample)
		if wantAt >= 0 {
			refused++
		}
		for pieces := range 3 {
			var s tokenScan
			var err error
			for rest := data; len(rest) > 0 && err == nil; {
				n := len(rest)
				if pieces > 0 {
					n = 1 + r.IntN(min(len(rest), 4*pieces))
				}
				err = s.feed(rest[:n])
				rest = rest[n:]
			}
			gotAt, gotStr := int64(-1), false
			if err != nil {
				gotAt, gotStr = s.err.At, s.err.String
				if s.err.Limit == sample {
					samples++
				}
			}
			if gotAt != wantAt || gotStr != wantStr {
				t.Fatalf("trial %d, %q in pieces (%d): got at %d string %v, want at %d string %v", trial, data, pieces, gotAt, gotStr, wantAt, wantStr)
			}
		}
	}
	t.Logf("%d of 30000 refused, %d refusals of a sample", refused, samples)
	if samples == 0 {
		t.Error("no sample string was refused: the test does not reach the sample bound")
	}
}

// TestPathAt names the path of offsets in a small document.
func TestPathAt(t *testing.T) {
	doc := `{"a": [1, {"b": "x", "c": [[0], [1, 2]]}], "d": {"e": 3}}`
	for _, c := range []struct {
		at   string // the text at the offset
		want string
		key  bool
	}{
		{`"x"`, "a[1].b", false},
		{`2]`, "a[1].c[1][1]", false},
		{`"c"`, "a[1]", true},
		{`3}`, "d.e", false},
		{`"d"`, "", true},
	} {
		at := int64(strings.Index(doc, c.at))
		ps := scanPath(strings.NewReader(doc), at)
		if got, key := ps.path, ps.key; got != c.want || key != c.key {
			t.Errorf("at %q: got %q key %v, want %q key %v", c.at, got, key, c.want, c.key)
		}
	}
}

// BenchmarkScanStrings measures scanStrings on artifact-like text: float
// arrays one entry a line (a wide artifact's bulk), and categories.
func BenchmarkScanStrings(b *testing.B) {
	var floats, cats strings.Builder
	floats.WriteString("[\n")
	cats.WriteString("[\n")
	r := rand.New(rand.NewPCG(1, 1))
	for i := range 1 << 18 {
		fmt.Fprintf(&floats, "            %v,\n", r.NormFloat64())
		fmt.Fprintf(&cats, "            \"customer-%016x-%d\",\n", r.Uint64(), i)
	}
	floats.WriteString("0]\n")
	cats.WriteString("\"z\"]\n")
	for _, c := range []struct {
		name string
		data []byte
	}{{"floats", []byte(floats.String())}, {"categories", []byte(cats.String())}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if scanStrings(c.data) != nil {
					b.Fatal("refused")
				}
			}
		})
	}
}
