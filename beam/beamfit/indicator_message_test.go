package beamfit

import (
	"strings"
	"testing"
)

// TestIndicatorIntoEncoderWorded (attack run 32 F3, its Beam side): an
// encoder after an imputer with add_indicator: true receives the numeric
// missing-indicator column; the refusal told the user to declare the
// group categorical, which it was. It now names the indicator and what to
// write, as the local fit does; another numeric column keeps its hint.
func TestIndicatorIntoEncoderWorded(t *testing.T) {
	_, err := categoryCounts(&Summary{Names: []string{"missingindicator_city"}, Cols: make([]ColSummary, 1)}, 10)
	if err == nil || !strings.Contains(err.Error(), "missing-indicator column") || strings.Contains(err.Error(), "declare the group") {
		t.Errorf("indicator into an encoder: %v; want the indicator named, not the type hint", err)
	}
	_, err = categoryCounts(&Summary{Names: []string{"price"}, Cols: make([]ColSummary, 1)}, 10)
	if err == nil || !strings.Contains(err.Error(), "declare the group with type: categorical") {
		t.Errorf("a numeric column into an encoder: %v; want the type hint", err)
	}
}
