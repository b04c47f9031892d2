package embed

import (
	"math"
	"strings"
	"testing"
)

// TestCheckTooLarge: vectors of finite values too large to compare are
// nan_vectors (they were judged by norms of +Inf, or not at all), named
// by row; NaN and too-large rows together are one finding.
func TestCheckTooLarge(t *testing.T) {
	g := rows(glove(t), 0, 300, 1)
	con, err := Fit(g, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := rows(glove(t), 300, 320, 1)
	m.Data = append([]float64(nil), m.Data...)
	for k := range m.Dim {
		m.Data[3*m.Dim+k] = 1.7e308
		m.Data[5*m.Dim+k] = 1e160
	}
	f, err := Check(con, m, CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f) == 0 || f[0].Code != CodeNaNVectors || f[0].Evidence["count"] != 2 || !strings.Contains(f[0].Message, "2 of 20 vectors are too large to compare") ||
		!strings.Contains(f[0].Message, "rows [3 5]") {
		t.Fatalf("got %+v, want nan_vectors naming rows 3 and 5 as too large", f)
	}
	m.Data[7*m.Dim] = math.NaN()
	f, err = Check(con, m, CheckOptions{})
	if err != nil || len(f) == 0 || f[0].Code != CodeNaNVectors || f[0].Evidence["count"] != 1 || f[0].Evidence["too_large_count"] != 2 ||
		!strings.Contains(f[0].Message, "1 of 20 vectors hold NaN or infinite values (rows [7]), and 2 are too large to compare") {
		t.Errorf("with a NaN row: got %+v %v", f, err)
	}
	// The count survives a state round trip (a service's window).
	k, _ := NewChecker(con, m.Dim, CheckOptions{})
	k.Add(m)
	r, err := RestoreChecker(con, k.State(), CheckOptions{})
	if err != nil || r.hugeRows != 2 || len(r.hugeAt) != 2 {
		t.Errorf("restored: %v, huge rows %v %v", err, r.hugeRows, r.hugeAt)
	}
}
