package step

import (
	"encoding/json"
	"math"
	"testing"
)

// TestFloatsCheckAgreesWithMemory feeds quantiles_, references_ and
// bin_edges_ entry by entry to a StreamedCheck, as a streamed reading
// does, with the arrays left out of the step, and checks that it gives
// CheckStep's verdict on the decoded step.
func TestFloatsCheckAgreesWithMemory(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	quantiles := [][]Floats{
		{{1, 2, 3}, {0, 0, 5}},
		{{1, 2, 3}, {nan, nan, nan}},
		{{1, 3, 2}, {0, 1, 2}},
		{{1, 2, inf}, {0, 1, 2}},
		{{1, 2, 3}, {0, nan, 2}},
		{{1, 2}, {0, 1, 2}},
		{{1, 2, 3}, nil},
		{{1, 2, 3}},
		nil,
	}
	references := []Floats{{0, 0.5, 1}, {0, 1, 0.5}, {-1, 0, 1}, {0, 0.5}, nil, {0, 0.5, 2}}
	for _, qs := range quantiles {
		for _, refs := range references {
			q := &QuantileTransformer{OutputDistribution: "uniform", NQuantiles: 3, References: refs, Quantiles: qs, Names: []string{"a", "b"}}
			agree(t, q, func(q *QuantileTransformer, c *StreamedCheck) {
				feedFloats(c.Floats("references_"), []Floats{q.References}, false)
				feedFloats(c.Floats("quantiles_"), q.Quantiles, true)
				q.References, q.Quantiles = nil, nil
			})
		}
	}
	for _, edges := range [][]Floats{
		{{0, 1, 2}, {5, 6, 7}},
		{{0, 1, 1}, {5, 6, 7}},
		{{0, 1}, {5, 6, 7}},
		{{0, nan, 2}, {5, 6, 7}},
		{{0, 1, 2}, {7, 6, 5}},
		{{0, 1, 2}, nil},
		{{0, 1, 2}},
	} {
		k := &KBinsDiscretizer{Encode: "ordinal", BinEdges: edges, NBins: []int{2, 2}, Names: []string{"a", "b"}}
		agree(t, k, func(k *KBinsDiscretizer, c *StreamedCheck) {
			feedFloats(c.Floats("bin_edges_"), k.BinEdges, true)
			k.BinEdges = nil
		})
	}
}

// agree checks f with CheckStep, then again with its arrays fed to a
// StreamedCheck by feed, and requires the same verdict.
func agree[F Fitted](t *testing.T, f F, feed func(F, *StreamedCheck)) {
	t.Helper()
	text, _ := json.Marshal(f)
	want := CheckStep(nil, f, 2)
	c := NewStreamedCheck(nil, f)
	feed(f, c)
	got := c.Check(2)
	if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
		t.Errorf("%s: streamed %v, whole %v", text, got, want)
	}
}

// feedFloats feeds arrays (a list of them when list, else arrays[0]) as a
// streamed reading does.
func feedFloats(c *FloatsCheck, arrays []Floats, list bool) {
	if !list {
		if arrays[0] == nil {
			c.Null()
			return
		}
		arrays = arrays[:1]
	} else if arrays == nil {
		c.Null()
		return
	}
	for _, xs := range arrays {
		if xs == nil {
			c.NullArray()
			continue
		}
		c.StartArray()
		for _, x := range xs {
			c.Add(x)
		}
		c.EndArray()
	}
}
