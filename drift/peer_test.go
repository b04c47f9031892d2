package drift

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

const peerDir = "../testdata/peer-vectors/drift"

// readColumns reads a CSV file with a header row into columns of raw
// strings (an empty cell stays "").
func readColumns(t *testing.T, path string) (names []string, cols [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	names = rows[0]
	cols = make([][]string, len(names))
	for _, row := range rows[1:] {
		for j, cell := range row {
			cols[j] = append(cols[j], cell)
		}
	}
	return names, cols
}

// floats parses a column; an empty cell is NaN.
func floats(t *testing.T, cells []string) []float64 {
	t.Helper()
	out := make([]float64, len(cells))
	for i, c := range cells {
		if c == "" {
			out[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(c, 64)
		if err != nil {
			t.Fatalf("row %d: %v", i+2, err)
		}
		out[i] = v
	}
	return out
}

// jnum decodes a JSON number or the strings "inf", "-inf", "nan".
type jnum float64

func (j *jnum) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := strconv.ParseFloat(s, 64)
		*j = jnum(v)
		return err
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*j = jnum(f)
	return err
}

type statP struct {
	Statistic jnum  `json:"statistic"`
	PValue    *jnum `json:"p_value"`
	DOF       *jnum `json:"dof"`
}

type peerColumn struct {
	KS              statP `json:"ks"`
	Wasserstein     statP `json:"wasserstein"`
	WassersteinNorm statP `json:"wasserstein_normed"`
	Energy          statP `json:"energy"`
	CVM             statP `json:"cramer_von_mises"`
	MWU             statP `json:"mann_whitney_u"`
	TTest           statP `json:"t_test_welch"`
	Anderson        statP `json:"anderson_ksamp"`
	Binned          *struct {
		Edges     []jnum  `json:"edges"`
		RefCounts []int64 `json:"reference_counts"`
		CurCounts []int64 `json:"current_counts"`
		PSI       jnum    `json:"psi"`
		KL        jnum    `json:"kl_divergence"`
		JS        jnum    `json:"jensen_shannon_distance"`
		Hellinger jnum    `json:"hellinger"`
		Chi2      statP   `json:"chi2_contingency"`
	} `json:"binned"`
	// categorical
	Categories    []string `json:"categories"`
	RefCounts     []int64  `json:"reference_counts"`
	CurCounts     []int64  `json:"current_counts"`
	Chi2          statP    `json:"chi2_contingency"`
	LInf          jnum     `json:"l_infinity"`
	JS            jnum     `json:"jensen_shannon_distance"`
	PSI           jnum     `json:"psi"`
	NewCategories []string `json:"new_categories"`
}

func checkStat(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !closeRel(got, want, statTol) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func checkP(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !closeP(got, want, pTol) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func checkResult(t *testing.T, what string, got Result, err error, want statP) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	checkStat(t, what+" statistic", got.Statistic, float64(want.Statistic))
	if want.PValue != nil {
		checkP(t, what+" p-value", got.PValue, float64(*want.PValue))
	}
	if want.DOF != nil && got.DF != float64(*want.DOF) {
		t.Errorf("%s dof: got %v, want %v", what, got.DF, float64(*want.DOF))
	}
}

// TestPeerVectors checks every number of every case in
// testdata/peer-vectors/drift against scipy 1.10.1.
func TestPeerVectors(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(peerDir, "*", "expected.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no peer vectors under %s (%v)", peerDir, err)
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Columns map[string]peerColumn `json:"columns"`
			}
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			refNames, refCols := readColumns(t, filepath.Join(dir, "reference.csv"))
			curNames, curCols := readColumns(t, filepath.Join(dir, "current.csv"))
			for name, want := range e.Columns {
				ri, ci := index(refNames, name), index(curNames, name)
				if ri < 0 || ci < 0 {
					t.Fatalf("column %q missing from the CSV files", name)
				}
				if want.Categories != nil {
					checkCategorical(t, name, refCols[ri], curCols[ci], want)
					continue
				}
				checkNumeric(t, name, floats(t, refCols[ri]), floats(t, curCols[ci]), want)
			}
		})
	}
}

func index(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

func checkNumeric(t *testing.T, name string, ref, cur []float64, want peerColumn) {
	t.Helper()
	r, err := KS(ref, cur)
	checkResult(t, name+" ks", r, err, want.KS)
	r, err = Wasserstein(ref, cur)
	checkResult(t, name+" wasserstein", r, err, want.Wasserstein)
	r, err = WassersteinNormed(ref, cur)
	checkResult(t, name+" wasserstein_normed", r, err, want.WassersteinNorm)
	r, err = Energy(ref, cur)
	checkResult(t, name+" energy", r, err, want.Energy)
	r, err = CramerVonMises(ref, cur)
	checkResult(t, name+" cramer_von_mises", r, err, want.CVM)
	r, err = MannWhitneyU(ref, cur)
	checkResult(t, name+" mann_whitney_u", r, err, want.MWU)
	r, err = TTestWelch(ref, cur)
	checkResult(t, name+" t_test_welch", r, err, want.TTest)
	r, err = AndersonKSamp(ref, cur)
	checkResult(t, name+" anderson_ksamp", r, err, want.Anderson)

	wb := want.Binned
	b, err := BinNumeric("psi", ref, cur, DefaultBins)
	if err != nil {
		t.Fatalf("%s binned: %v", name, err)
	}
	if len(b.Edges) != len(wb.Edges) {
		t.Fatalf("%s edges: got %v, want %v", name, b.Edges, wb.Edges)
	}
	for i := range b.Edges {
		if b.Edges[i] != float64(wb.Edges[i]) {
			t.Errorf("%s edge %d: got %v, want %v", name, i, b.Edges[i], float64(wb.Edges[i]))
		}
	}
	for i := range wb.RefCounts {
		if b.RefCounts[i] != wb.RefCounts[i] || b.CurCounts[i] != wb.CurCounts[i] {
			t.Errorf("%s bin %d counts: got %d/%d, want %d/%d", name, i, b.RefCounts[i], b.CurCounts[i], wb.RefCounts[i], wb.CurCounts[i])
		}
	}
	for _, m := range []struct {
		what string
		f    func(ref, cur []int64) (Result, error)
		want jnum
	}{{"psi", PSI, wb.PSI}, {"kl_divergence", KLDivergence, wb.KL}, {"jensen_shannon", JensenShannon, wb.JS}, {"hellinger", Hellinger, wb.Hellinger}} {
		r, err := m.f(b.RefCounts, b.CurCounts)
		checkResult(t, name+" binned "+m.what, r, err, statP{Statistic: m.want})
	}
	r, err = Chi2Contingency(b.RefCounts, b.CurCounts)
	checkResult(t, name+" binned chi2_contingency", r, err, wb.Chi2)
}

func checkCategorical(t *testing.T, name string, refCells, curCells []string, want peerColumn) {
	t.Helper()
	count := func(cells []string) map[string]int64 {
		m := map[string]int64{}
		for _, c := range cells {
			if c != "" {
				m[c]++
			}
		}
		return m
	}
	got, err := CompareCategories(count(refCells), count(curCells))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(got.Categories) != len(want.Categories) {
		t.Fatalf("%s categories: got %v, want %v", name, got.Categories, want.Categories)
	}
	for i := range want.Categories {
		if got.Categories[i] != want.Categories[i] || got.RefCounts[i] != want.RefCounts[i] || got.CurCounts[i] != want.CurCounts[i] {
			t.Errorf("%s category %d: got %s %d/%d, want %s %d/%d", name, i, got.Categories[i], got.RefCounts[i], got.CurCounts[i],
				want.Categories[i], want.RefCounts[i], want.CurCounts[i])
		}
	}
	checkResult(t, name+" chi2_contingency", got.Chi2, nil, want.Chi2)
	checkStat(t, name+" l_infinity", got.LInfinity, float64(want.LInf))
	checkStat(t, name+" jensen_shannon", got.JensenShannon, float64(want.JS))
	checkStat(t, name+" psi", got.PSI, float64(want.PSI))
	if len(got.NewCategories) != len(want.NewCategories) {
		t.Fatalf("%s new categories: got %v, want %v", name, got.NewCategories, want.NewCategories)
	}
	for i := range want.NewCategories {
		if got.NewCategories[i] != want.NewCategories[i] {
			t.Errorf("%s new category %d: got %q, want %q", name, i, got.NewCategories[i], want.NewCategories[i])
		}
	}
}
