package table

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const vectorsDir = "../testdata/vectors/"

func TestNPYLayouts(t *testing.T) {
	raw, err := os.ReadFile(vectorsDir + "small_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][][]float64
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	dtypes := map[string]string{"f8": DTypeFloat64, "f4": DTypeFloat32, "f2": DTypeFloat16}
	for name, rows := range want {
		for _, batch := range []int{1, 2, 5, 100} {
			r, err := OpenNPY(vectorsDir+name, NPYOptions{BatchRows: batch, Column: "emb"})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if h := r.Header(); len(h) != 1 || h[0] != "emb" {
				t.Fatalf("%s: got header %q, want [emb]", name, h)
			}
			if err := r.Project([]Field{{Name: "emb", Kind: Vector}}); err != nil {
				t.Fatal(err)
			}
			i := 0
			for r.Next() {
				c := r.Batch().Cols[0]
				if c.Dim != 3 || c.DType != dtypes[name[6:8]] {
					t.Fatalf("%s: got dim %d dtype %q, want 3 %q", name, c.Dim, c.DType, dtypes[name[6:8]])
				}
				for k := 0; k < r.Batch().Rows; k++ {
					for j, x := range c.Row(k) {
						if x != rows[i][j] {
							t.Errorf("%s batch %d: row %d value %d: got %v, want %v", name, batch, i, j, x, rows[i][j])
						}
					}
					i++
				}
			}
			if err := r.Err(); err != nil || i != len(rows) {
				t.Fatalf("%s: read %d rows, err %v; want %d rows", name, i, err, len(rows))
			}
			r.Close()
		}
	}
}

func TestNPYStemAndOpen(t *testing.T) {
	r, err := Open(vectorsDir + "glove200.npy")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if h := r.Header(); h[0] != "glove200" {
		t.Fatalf("got header %q, want the file's stem", h)
	}
	if n := r.(RowCounter).NumRows(); n != 200 {
		t.Fatalf("got %d rows, want 200", n)
	}
}

func TestNPYErrors(t *testing.T) {
	cases := []struct{ file, project, want string }{
		{"small_i4.npy", "", `element type "<i4" is not supported; save the vectors as float32 or float64`},
		{"small_1d.npy", "", `the array has shape (4,); normguard reads a 2-D array`},
		{"small_f8_le_c.npy", "x", `column "x" is not in the file: a .npy file holds one vector column named after the file, "small_f8_le_c"`},
	}
	for _, tc := range cases {
		r, err := OpenNPY(vectorsDir+tc.file, NPYOptions{})
		if err == nil {
			err = r.Project([]Field{{Name: tc.project, Kind: Vector}})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.file, err, tc.want)
		}
	}
	// A truncated file is refused at open, naming the sizes.
	data, _ := os.ReadFile(vectorsDir + "small_f8_le_c.npy")
	p := filepath.Join(t.TempDir(), "cut.npy")
	os.WriteFile(p, data[:len(data)-8], 0o644)
	if _, err := OpenNPY(p, NPYOptions{}); err == nil || !errors.Is(err, ErrNPY) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: got %v, want ErrNPY saying truncated", err)
	}
	if _, err := FormatOf("x.npy.gz"); err == nil || !strings.Contains(err.Error(), "decompress it first") {
		t.Errorf("compressed: got %v", err)
	}
}

// writeNPY writes a rows x dim float32 array whose value (i, k) is
// float32(i) + float32(k)/1024, in C or Fortran order.
func writeNPY(t testing.TB, path string, rows, dim int, fortran bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	order := "False"
	if fortran {
		order = "True"
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': %s, 'shape': (%d, %d), }", order, rows, dim)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(h)))
	w.WriteString(h)
	var b [4]byte
	put := func(i, k int) {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(float32(i)+float32(k)/1024))
		w.Write(b[:])
	}
	if fortran {
		for k := range dim {
			for i := range rows {
				put(i, k)
			}
		}
	} else {
		for i := range rows {
			for k := range dim {
				put(i, k)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestNPYLargeBoundedMemory streams a 51 MB array and checks every value
// and that the reader allocated a small fraction of the file: it holds one
// batch of about a million values, not the array.
func TestNPYLargeBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 51 MB file")
	}
	const rows, dim = 100_000, 128
	for _, fortran := range []bool{false, true} {
		p := filepath.Join(t.TempDir(), "emb.npy")
		writeNPY(t, p, rows, dim, fortran)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := OpenNPY(p, NPYOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for r.Next() {
			b := r.Batch()
			c := &b.Cols[0]
			if got := len(c.Vec); got > npyMaxValues {
				t.Fatalf("a batch holds %d values, want at most %d", got, npyMaxValues)
			}
			for i := 0; i < b.Rows; i += 997 {
				row := c.Row(i)
				for _, k := range []int{0, 77, dim - 1} {
					if want := float64(float32(n+i) + float32(k)/1024); row[k] != want {
						t.Fatalf("fortran %v: row %d value %d: got %v, want %v", fortran, n+i, k, row[k], want)
					}
				}
			}
			n += b.Rows
		}
		r.Close()
		runtime.ReadMemStats(&after)
		if err := r.Err(); err != nil || n != rows {
			t.Fatalf("fortran %v: read %d rows, err %v", fortran, n, err)
		}
		file := int64(rows * dim * 4)
		if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > file/2 {
			t.Errorf("fortran %v: allocated %d bytes reading a %d-byte array, want under half of it", fortran, alloc, file)
		}
	}
}

// npyFile returns a version 1.0 .npy file with the header dict h (padded
// as numpy pads it) followed by data.
func npyFile(h string, data []byte) []byte {
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), data...)
}

// TestNPYHeaderStrict reads headers as numpy.lib.format does: a Python
// dict of exactly 'descr', 'fortran_order' and 'shape'. What numpy 1.24
// loads loads here with the same shape; what it refuses (another key, a
// key missing, text after the dict, a value of the wrong type) is refused
// naming the file and the fault. Stricter than numpy: a key named twice
// (numpy keeps the last), a negative size, and bytes after the array's
// data (numpy ignores them) are refused too.
func TestNPYHeaderStrict(t *testing.T) {
	six := make([]byte, 24) // 2 x 3 float32 zeros
	std := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	ok := []string{
		std,
		`{"descr": "<f4", "shape": (2, 3), "fortran_order": False}`,
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", // Python 2's long sizes
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3,), }",
		"{ 'descr' :'<f4','fortran_order':False,\n'shape':( 2 ,3 ) }",
	}
	dir := t.TempDir()
	for i, h := range ok {
		p := filepath.Join(dir, fmt.Sprintf("ok%d.npy", i))
		os.WriteFile(p, npyFile(h, six), 0o644)
		r, err := OpenNPY(p, NPYOptions{})
		if err != nil {
			t.Errorf("header %q: %v", h, err)
			continue
		}
		if r.NumRows() != 2 || r.Dim() != 3 || r.dtype != DTypeFloat32 || r.fortran {
			t.Errorf("header %q: got %d x %d %s fortran %v, want 2 x 3 float32 C order", h, r.NumRows(), r.Dim(), r.dtype, r.fortran)
		}
		r.Close()
	}
	deep := "{'descr': '<f4', 'fortran_order': False, 'shape': " + strings.Repeat("(", 4000) + "2, 3" + strings.Repeat(")", 4000) + ", }"
	wide := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + strings.Repeat("1, ", 3000) + "6), }"
	bad := []struct{ name, file, want string }{
		{"duplicate descr", npyFileS("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six), `the header names "descr" twice`},
		{"unknown key", npyFileS("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", six), `the header has the key "extra"; numpy allows only 'descr', 'fortran_order' and 'shape'`},
		{"text after the dict", npyFileS(std+" junk", six), `the header holds " junk`},
		{"a second dict", npyFileS(std+"{}", six), `the header holds "{}`},
		{"missing key", npyFileS("{'descr': '<f4', 'shape': (2, 3), }", six), `the header has no "fortran_order"`},
		{"fortran_order 0", npyFileS("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", six), `'fortran_order' is "0", not True or False`},
		{"shape (6)", npyFileS("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", six), `'shape' is "(6)", not a tuple of sizes`},
		{"negative size", npyFileS("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", six), `'shape' is "(-2, 3)", not a tuple of sizes`},
		{"descr list", npyFileS("{'descr': ['<f4'], 'fortran_order': False, 'shape': (2, 3), }", six), `'descr' is "['<f4']", not a string`},
		{"not a dict", npyFileS("['<f4', False, (2, 3)]", six), "the header is not a Python dict"},
		{"no closing brace", npyFileS("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", six), "where ',' or '}' belongs"},
		{"4000-deep shape", npyFileS(deep, six), `'shape' is "((((((((`},
		{"3001-d shape", npyFileS(wide, six), "the array has shape (1, 1, 1, "},
		{"data longer", npyFileS(std, make([]byte, 28)), "but the file has 156 bytes: 4 bytes follow the array"},
		{"data shorter", npyFileS(std, make([]byte, 20)), "the file is truncated"},
		{"version 1.1", "\x93NUMPY\x01\x01" + npyFileS(std, six)[8:], "format version 1.1 is not supported"},
	}
	// A 30,000-deep shape makes a header longer than numpy reads.
	h30 := "{'descr': '<f4', 'fortran_order': False, 'shape': " + strings.Repeat("(", 30000) + "2, 3" + strings.Repeat(")", 30000) + ", }\n"
	b := append([]byte("\x93NUMPY\x02\x00"), binary.LittleEndian.AppendUint32(nil, uint32(len(h30)))...)
	bad = append(bad, struct{ name, file, want string }{"30000-deep shape", string(append(append(b, h30...), six...)), fmt.Sprintf("header of %d bytes is longer than numpy.load reads (max_header_size 10000)", len(h30))})
	for _, tc := range bad {
		p := filepath.Join(dir, "bad.npy")
		os.WriteFile(p, []byte(tc.file), 0o644)
		_, err := OpenNPY(p, NPYOptions{})
		if err == nil || !errors.Is(err, ErrNPY) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p+": ") {
			t.Errorf("%s: got %v, want an ErrNPY naming the file and containing %q", tc.name, err, tc.want)
			continue
		}
		if len(err.Error()) > 400 {
			t.Errorf("%s: the error is %d bytes long, want it short: %.200s...", tc.name, len(err.Error()), err)
		}
	}
}

func npyFileS(h string, data []byte) string { return string(npyFile(h, data)) }
