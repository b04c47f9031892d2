package embed

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// readNpy reads a 2-D little-endian float32 or float64 C-order .npy file.
func readNpy(t testing.TB, path string) Matrix {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a .npy file", path)
	}
	var hlen, start int
	if b[6] == 1 {
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	} else {
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	}
	header := string(b[start : start+hlen])
	descr := regexp.MustCompile(`'descr': '([<>|]?[fi]\d)'`).FindStringSubmatch(header)
	shape := regexp.MustCompile(`'shape': \((\d+), (\d+)\)`).FindStringSubmatch(header)
	if descr == nil || shape == nil || regexp.MustCompile(`'fortran_order': True`).MatchString(header) {
		t.Fatalf("%s: unsupported header %q", path, header)
	}
	rows, _ := strconv.Atoi(shape[1])
	dim, _ := strconv.Atoi(shape[2])
	data := b[start+hlen:]
	m := Matrix{Rows: rows, Dim: dim, Data: make([]float64, rows*dim)}
	switch descr[1] {
	case "<f4":
		for i := range m.Data {
			m.Data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		}
	case "<f8":
		for i := range m.Data {
			m.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	default:
		t.Fatalf("%s: dtype %s not supported", path, descr[1])
	}
	return m
}

var gloveOnce struct {
	sync.Once
	m Matrix
}

// glove returns the 2,000 GloVe vectors of testdata (see its README).
func glove(t testing.TB) Matrix {
	t.Helper()
	gloveOnce.Do(func() { gloveOnce.m = readNpy(t, "testdata/glove100d_2k.npy") })
	if gloveOnce.m.Rows != 2000 || gloveOnce.m.Dim != 100 {
		t.Fatalf("testdata glove: %d x %d, want 2000 x 100", gloveOnce.m.Rows, gloveOnce.m.Dim)
	}
	return gloveOnce.m
}

// rows returns a copy of rows [a, b) step s of m.
func rows(m Matrix, a, b, s int) Matrix {
	out := Matrix{Dim: m.Dim}
	for i := a; i < b; i += s {
		out.Data = append(out.Data, m.Row(i)...)
		out.Rows++
	}
	return out
}

// pick returns a copy of the listed rows of m.
func pick(m Matrix, idx []int) Matrix {
	out := Matrix{Dim: m.Dim, Rows: len(idx)}
	for _, i := range idx {
		out.Data = append(out.Data, m.Row(i)...)
	}
	return out
}

// split returns a seeded random split of m into two parts of na and nb rows.
func split(m Matrix, seed uint64, na, nb int) (Matrix, Matrix) {
	p := rand.New(rand.NewPCG(seed, 1)).Perm(m.Rows)
	return pick(m, p[:na]), pick(m, p[na:na+nb])
}

// mapRows returns a copy of m with f applied to each row (f may return
// a row of another length).
func mapRows(m Matrix, f func(i int, row []float64) []float64) Matrix {
	out := Matrix{Rows: m.Rows}
	for i := 0; i < m.Rows; i++ {
		r := f(i, append([]float64(nil), m.Row(i)...))
		out.Dim = len(r)
		out.Data = append(out.Data, r...)
	}
	return out
}

func unitRow(_ int, r []float64) []float64 {
	var s float64
	for _, v := range r {
		s += v * v
	}
	s = math.Sqrt(s)
	for i := range r {
		r[i] /= s
	}
	return r
}

// rotation returns a seeded random orthogonal d×d matrix (Gram–Schmidt
// on Gaussian columns).
func rotation(d int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	q := make([]float64, d*d)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	orthonormalize(q, d, d)
	return q
}

// rotate returns the rows of m multiplied by the orthogonal q.
func rotate(m Matrix, q []float64) Matrix {
	d := m.Dim
	return mapRows(m, func(_ int, r []float64) []float64 {
		out := make([]float64, d)
		for j := 0; j < d; j++ {
			out[j] = dot(q[j*d:(j+1)*d], r)
		}
		return out
	})
}

// roundTo rounds v to the nearest value with bits significant bits
// (ties to even), as a conversion to float16 (11) or bfloat16 (8) does
// for values in their normal range.
func roundTo(v float64, bits int) float64 {
	if v == 0 {
		return 0
	}
	frac, exp := math.Frexp(v)
	return math.Ldexp(math.RoundToEven(math.Ldexp(frac, bits)), exp-bits)
}

type reference struct {
	MMD []struct {
		Name              string
		Ref, Cur          []int
		H, Bandwidth      float64
		MMD2              float64
		MeanEuclidean     float64   `json:"mean_euclidean"`
		MeanCosine        float64   `json:"mean_cosine"`
		WassersteinNormed []float64 `json:"wasserstein_normed"`
		DriftedDims       int       `json:"drifted_dims"`
	}
	AUC []struct {
		Name      string
		Ref, Cur  []int
		Coef      []float64
		Intercept float64
		Scores    []float64
		AUC       float64
	}
	Profile struct {
		Mean, Std      []float64
		NormQuantiles  []float64 `json:"norm_quantiles"`
		NormMean       float64   `json:"norm_mean"`
		NormStd        float64   `json:"norm_std"`
		Variances      []float64
		Directions     [][]float64
		TotalVariance  float64 `json:"total_variance"`
		ComponentShare float64 `json:"component_share"`
	}
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// close reports whether got is within tol of want, absolutely or
// relatively.
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func codes(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}
