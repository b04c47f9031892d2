package embed

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestVectorsRoundTrip encodes float32-exact and float64 samples and
// requires the decoded values to be bit-identical, with the dtype the
// values allow.
func TestVectorsRoundTrip(t *testing.T) {
	f32 := Vectors{{float64(float32(0.1)), -0.5, math.Copysign(0, -1)}, {float64(float32(1e-40)), 3, float64(math.MaxFloat32)}}
	f64 := Vectors{{0.1, -0.5, 0}, {1e-300, 3, math.MaxFloat64}}
	for _, tc := range []struct {
		name  string
		v     Vectors
		dtype string
	}{{"float32", f32, DtypeFloat32}, {"float64", f64, DtypeFloat64}} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), `"dtype":"`+tc.dtype+`"`) {
				t.Fatalf("encoded as %s, want dtype %s", data, tc.dtype)
			}
			var got Vectors
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.v) {
				t.Fatalf("decoded %d rows, want %d", len(got), len(tc.v))
			}
			for i := range tc.v {
				for k := range tc.v[i] {
					if math.Float64bits(got[i][k]) != math.Float64bits(tc.v[i][k]) {
						t.Fatalf("[%d][%d] decoded %v, want %v bit for bit", i, k, got[i][k], tc.v[i][k])
					}
				}
			}
		})
	}
}

// TestVectorsSizeAndLegacy: 4 bytes per float32 value (base64: 16 chars
// per 3 values), and the array-of-arrays form still reads.
func TestVectorsSizeAndLegacy(t *testing.T) {
	v := make(Vectors, 500)
	for i := range v {
		v[i] = make([]float64, 768)
		for k := range v[i] {
			v[i][k] = float64(float32(math.Sin(float64(i*768 + k))))
		}
	}
	data, _ := json.Marshal(v)
	if want := (500*768*4+2)/3*4 + 100; len(data) > want {
		t.Fatalf("500 x 768 float32 encode to %d bytes, want at most %d", len(data), want)
	}
	var old Vectors
	if err := json.Unmarshal([]byte("[[1, 2.5], [3, -4]]"), &old); err != nil || len(old) != 2 || old[1][1] != -4 {
		t.Fatalf("legacy form: got %v, %v", old, err)
	}
	var null Vectors
	if err := json.Unmarshal([]byte("null"), &null); err != nil || null != nil {
		t.Fatalf("null: got %v, %v", null, err)
	}
}

// TestVectorsRefused: malformed samples are errors naming the field,
// never a panic or a silent truncation.
func TestVectorsRefused(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"dtype":"float16","rows":1,"dim":1,"base64":"AAA="}`, "sample.dtype"},
		{`{"dtype":"float32","rows":2,"dim":1,"base64":"AACAPw=="}`, "sample.base64: holds 4 bytes"},
		{`{"dtype":"float32","rows":1,"dim":1,"base64":"!!"}`, "sample.base64"},
		{`{"dtype":"float32","rows":-1,"dim":1,"base64":""}`, "must not be negative"},
		{`{"dtype":"float32","rows":1000000000000000000,"dim":0,"base64":""}`, "at least one value"},
		{`{"dtype":"float32","rows":4611686018427387904,"dim":4611686018427387904,"base64":"AACAPw=="}`, "sample.base64: holds 4 bytes"},
		{`"text"`, "array of vectors"},
	} {
		var v Vectors
		err := json.Unmarshal([]byte(tc.in), &v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

// TestProfileKeepsLegacySample: a profile whose sample was written as an
// array of arrays (contracts before Vectors) is written back byte for
// byte, so that the digest of an artifact holding it still matches; a
// fresh profile is written compactly.
func TestProfileKeepsLegacySample(t *testing.T) {
	in := `{"count":2,"zero_count":0,"norms":{"count":2,"min":1,"max":2,"mean":1.5,"std":0.5,"unit_share":0.5,"quantiles":null,"histogram":null},` +
		`"mean":[0.5,1],"std":[0.5,0],"components":null,"total_variance":0.25,"component_share":0,"float16_share":1,"bfloat16_share":1,` +
		`"sample":[[0.1,1],[1,1]],"seed":7}`
	var p Profile
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("re-encoded\n%s\nwant\n%s", out, in)
	}
	p.legacySample = false
	out, _ = json.Marshal(p)
	if !strings.Contains(string(out), `"sample":{"dtype":"float64","rows":2,"dim":2,"base64":"`) {
		t.Fatalf("a fresh profile's sample: %s", out)
	}
}

// TestSampleRowsWithin checks, at 7,000 float32 dimensions, that a fit
// keeps the largest number of vectors whose JSON base64 text fits in
// MaxSampleText: 449 (16 MiB holds 12,582,912 bytes of values, 28,000 a
// vector), computed exactly and checked on the encoding itself; and that
// float64 values halve it.
func TestSampleRowsWithin(t *testing.T) {
	const dim = 7000
	idx := make([]int, 500)
	for i := range idx {
		idx[i] = i
	}
	pool := make([]float64, len(idx)*dim)
	for i := range pool {
		pool[i] = float64(float32(i%977) / 977)
	}
	n := sampleRowsWithin(pool, idx, dim)
	if want := MaxSampleText / 4 * 3 / (dim * 4); n != want || n != 449 {
		t.Fatalf("kept %d vectors of %d float32 dimensions, want %d (449)", n, dim, want)
	}
	text := func(rows int) int {
		v := make(Vectors, rows)
		for i := range v {
			v[i] = pool[i*dim : (i+1)*dim]
		}
		var b strings.Builder
		if err := v.WriteBase64(&b); err != nil {
			t.Fatal(err)
		}
		return b.Len()
	}
	if in, over := text(n), text(n+1); in > MaxSampleText || over <= MaxSampleText {
		t.Errorf("base64 of %d vectors: %d bytes, of %d: %d; the bound is %d", n, in, n+1, over, MaxSampleText)
	}
	pool[0] = 0.1 // not a float32 value: every value takes 8 bytes
	if n := sampleRowsWithin(pool, idx, dim); n != MaxSampleText/4*3/(dim*8) {
		t.Errorf("float64: kept %d vectors, want %d", n, MaxSampleText/4*3/(dim*8))
	}
	if n := sampleRowsWithin(pool[:10*dim], idx[:10], dim); n != 10 {
		t.Errorf("10 vectors: kept %d, want all", n)
	}
}
