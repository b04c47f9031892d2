package profile

import "testing"

// TestSettledCategories: with every category kept all are settled; else
// only those at or above cut + SettleMargin(distinct)·sqrt(cut).
func TestSettledCategories(t *testing.T) {
	if got := (&Counts{Values: []string{"a", "b"}, Counts: []int64{9, 1}, Distinct: 2}).SettledCategories(); got != 2 {
		t.Errorf("every category kept: %d settled, want 2", got)
	}
	// distinct 185: margin sqrt(2 ln 185) + 1 = 4.23; cut 16: bar 32.9.
	c := &Counts{Values: []string{"a", "b", "c", "d"}, Counts: []int64{100, 33, 32, 16}, Other: 500, Distinct: 185}
	if got := c.SettledCategories(); got != 2 {
		t.Errorf("cut 16 of 185: %d settled, want 2 (100 and 33 above 32.9)", got)
	}
	if m := SettleMargin(2); m != 3 {
		t.Errorf("SettleMargin(2) = %v, want the floor 3", m)
	}
	c = &Counts{Values: []string{"a"}, Counts: []int64{10}, Other: 200, Distinct: 21}
	if got := c.SettledCategories(); got != 0 {
		t.Errorf("one kept category at the cut: %d settled, want 0", got)
	}
}
