package step

import "fmt"

// streamed implements streamer: bin_edges_ is fed entry by entry.
func (k *KBinsDiscretizer) streamed(_ Params, c *StreamedCheck) {
	c.floats["bin_edges_"] = newFloatsCheck("bin_edges_", ruleEdges, true)
}

// feed implements streamer.
func (k *KBinsDiscretizer) feed(c *StreamedCheck) {
	c.floats["bin_edges_"].feedList(k.BinEdges)
}

// checkStreamed implements streamer: Check's rules, bin_edges_ read from
// its check. Each row has n_bins_ + 1 edges, each a number above the one
// before.
func (k *KBinsDiscretizer) checkStreamed(nIn int, c *StreamedCheck) error {
	edges := c.floats["bin_edges_"]
	switch k.Encode {
	case "onehot", "onehot-dense", "ordinal":
	default:
		return fmt.Errorf("encode %q must be one of onehot, onehot-dense, ordinal", k.Encode)
	}
	if err := checkLen("bin_edges_", edges.Len(), nIn); err != nil {
		return err
	}
	if err := checkLen("n_bins_", len(k.NBins), nIn); err != nil {
		return err
	}
	if err := checkLen("feature_names_in_", len(k.Names), nIn); err != nil {
		return err
	}
	for j := range edges.Len() {
		if n := edges.arrayLen(j); k.NBins[j] < 1 || n != k.NBins[j]+1 {
			return &PathError{Path: fmt.Sprintf("bin_edges_[%d]", j), Msg: fmt.Sprintf("has %d edges for n_bins_ %d (want n_bins_ + 1, n_bins_ >= 1)", n, k.NBins[j])}
		}
		if err := edges.arrayErr(j); err != nil {
			return err
		}
	}
	return checkNames("feature_names_in_", k.Names)
}
