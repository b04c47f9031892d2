package driftcheck

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/normguard/normguard/drift"
)

// TestStatusInfiniteCurrent checks attack run 22 finding 7: a feature
// whose current values hold an inf the reference never had is found
// (exit 1) even when its test does not drift (a rank statistic barely
// moves for one inf), and the table says so below the features; the
// reference's own infinities are not found.
func TestStatusInfiniteCurrent(t *testing.T) {
	f := drift.Feature{Name: "x", Type: "numeric", Method: "ks", Statistic: 0.03, PValue: 0.99, Threshold: 0.05, InfiniteValues: drift.InfiniteCurrent}
	rep := &drift.Report{Features: []drift.Feature{f}, MissingFeatures: []string{}, DriftShare: 0, DriftShareThreshold: 0.5}
	if err := Status(rep, false, false); !errors.Is(err, ErrFound) {
		t.Fatalf("infinities only in the current data: got %v, want ErrFound", err)
	}
	out, err := (&Found{Report: rep}).Render("table", "ref", "cur", false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "infinite values:\n  x: the current data holds infinite values") {
		t.Errorf("table does not name the infinities:\n%s", out)
	}
	j, err := (&Found{Report: rep}).Render("json", "ref", "cur", false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(j, []byte(`"infinite_values": "current"`)) {
		t.Errorf("JSON does not name the infinities:\n%s", j)
	}
	rep.Features[0].InfiniteValues = drift.InfiniteReference
	rep.Features[0].Statistic = 0.03
	if err := Status(rep, false, false); err != nil {
		t.Errorf("infinities only in the reference: got %v, want nil", err)
	}
}
