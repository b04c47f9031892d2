package step

import (
	"fmt"
	"math"
)

// This file holds the rules an artifact loader applies to a fitted step's
// float arrays, written so that they run one entry at a time: the check
// of quantiles_ (n_quantiles x features), bin_edges_ and references_ then
// needs memory independent of the arrays' length, whether they are in
// memory (Check, CheckStep) or read from a file entry by entry
// (FloatsCheck fed by a streamed reading; see StreamedCheck). The
// slice-based helpers of check.go (checkNonDecreasing, checkNotInf, ...)
// loop over the same per-entry rules.

// sortedAt is checkNonDecreasing's rule for entry i, x, after prev (its
// previous entry, unused for i == 0).
func sortedAt(attr string, i int, x, prev float64) error {
	if math.IsNaN(x) {
		return badAt(attr, i, "must be a number, got NaN")
	}
	if i > 0 && x < prev {
		return badAt(attr, i, "must not be below the previous entry (%v < %v): the values must be sorted", x, prev)
	}
	return nil
}

// notInfAt is checkNotInf's rule for entry i, x.
func notInfAt(attr string, i int, x float64) error {
	if math.IsInf(x, 0) {
		return badAt(attr, i, "must be finite, got %v", x)
	}
	return nil
}

// edgeAt is a bin edge's rule for entry i, x, of bin_edges_[j], after
// prev: a number above the previous edge.
func edgeAt(j, i int, x, prev float64) error {
	if math.IsNaN(x) || (i > 0 && !(x > prev)) {
		return &PathError{Path: fmt.Sprintf("bin_edges_[%d][%d]", j, i), Msg: fmt.Sprintf("must be a number above the previous edge, got %v", x)}
	}
	return nil
}

// floatRule is the rule each array of a FloatsCheck follows.
type floatRule int

const (
	// ruleSorted: checkNonDecreasing's rule.
	ruleSorted floatRule = iota
	// ruleReferences: ruleSorted, and the entries a fit writes to a
	// quantile transformer's references_ (numpy.linspace(0, 1, n) for n
	// entries: see gridRun), kept apart (gridErr) for the step's rules to
	// report after the range of the entries.
	ruleReferences
	// ruleQuantiles: a row of quantiles_ is all NaN (a feature without
	// any value in fit), or sorted (checkNonDecreasing), then finite
	// (checkNotInf).
	ruleQuantiles
	// ruleEdges: a row of bin_edges_ holds numbers, each above the one
	// before (edgeAt).
	ruleEdges
)

// FloatsCheck checks a fitted float array, or a list of arrays (one per
// input column: quantiles_, bin_edges_), one entry at a time: Null for a
// null value; else, for each array, StartArray, Add for each entry and
// EndArray (for a list, NullArray for an array that is null). It keeps
// each array's length and, of the entries, the previous one and the
// array's first and last: memory O(arrays), whatever their length. The
// step's rules (checkStreamed) then read Len, ArrayLen and the first
// entry error.
type FloatsCheck struct {
	attr string
	rule floatRule
	list bool // a list of arrays, not one array

	null  bool  // the value was null
	lens  []int // entries of each array ended
	errAt int   // the array of the first entry error, -1 for none
	err   error

	cur         floatRun
	first, last float64 // the last array ended's first and last entries
	// nanArrays lists the arrays of a list whose entries are all NaN
	// (at least one).
	nanArrays []int
	// gridErr is ruleReferences' verdict on the last array ended.
	gridErr error
}

// floatRun is the state of the array being read.
type floatRun struct {
	n               int
	prev, first     float64
	allNaN          bool
	sortErr, infErr error
	grid            gridRun
}

// gridRun follows an array held to numpy.linspace(0, 1, n), whose n is
// only known at its end. numpy 1.24 computes entry i as i * step, step =
// 1/(n-1), then sets the last entry to 1 (n = 1: [0]); referenceGrid
// writes it so, bit for bit. Entry 0 must be 0; entry 1 is taken as step
// and checked against 1/(n-1) at the end; each later entry i must be
// i * step, unless it is the last, which must be 1. Whether entry i is
// the last is known when entry i+1 arrives or the array ends, so its
// mismatch waits in pending until then. Memory is constant.
type gridRun struct {
	step float64
	// bad is the first mismatch of an entry other than 0, 1 and the
	// last; pending the current entry's (i >= 2), until it is known
	// whether it is the last.
	bad, pending gridMismatch
	zero         gridMismatch // entry 0's mismatch
}

// gridMismatch is an entry that is not what numpy.linspace writes there
// (set false: none).
type gridMismatch struct {
	set bool
	i   int
	x   float64
}

// add checks entry i, x.
func (g *gridRun) add(i int, x float64) {
	switch {
	case i == 0:
		if x != 0 {
			g.zero = gridMismatch{true, 0, x}
		}
	case i == 1:
		g.step = x
	default:
		if g.pending.set && !g.bad.set {
			g.bad = g.pending // entry i-1 was not the last
		}
		g.pending = gridMismatch{}
		if x != float64(i)*g.step {
			g.pending = gridMismatch{true, i, x}
		}
	}
}

// end returns the first entry of the array of n entries, last its last
// entry, that is not numpy.linspace(0, 1, n)'s, in index order, or nil.
func (g *gridRun) end(attr string, n int, last float64) error {
	switch {
	case g.zero.set:
		return gridError(attr, n, g.zero.x, 0)
	case n >= 2 && g.step != linspaceAt(1, n):
		return gridError(attr, n, g.step, 1)
	case g.bad.set:
		return gridError(attr, n, g.bad.x, g.bad.i)
	case n >= 3 && last != 1:
		return gridError(attr, n, last, n-1)
	}
	return nil
}

// gridError refuses entry i, x, of an array of n entries that a fit
// writes as numpy.linspace(0, 1, n).
func gridError(attr string, n int, x float64, i int) error {
	return badAt(attr, i, "is %v; a fit writes numpy.linspace(0, 1, %d) here (n_quantiles_ = %d entries, evenly spaced from 0 to 1), whose entry %d is %v",
		x, n, n, i, linspaceAt(i, n))
}

func newFloatsCheck(attr string, rule floatRule, list bool) *FloatsCheck {
	return &FloatsCheck{attr: attr, rule: rule, list: list, errAt: -1}
}

// List reports whether the value is a list of arrays (else one array).
func (c *FloatsCheck) List() bool { return c.list }

// Null records a null value.
func (c *FloatsCheck) Null() { c.null = true }

// StartArray starts the next array.
func (c *FloatsCheck) StartArray() { c.cur = floatRun{allNaN: true} }

// Add checks the next entry of the current array.
func (c *FloatsCheck) Add(x float64) {
	r := &c.cur
	i := r.n
	r.n++
	if i == 0 {
		r.first = x
	}
	r.allNaN = r.allNaN && math.IsNaN(x)
	switch c.rule {
	case ruleSorted, ruleQuantiles, ruleReferences:
		attr := c.arrayAttr()
		if r.sortErr == nil {
			r.sortErr = sortedAt(attr, i, x, r.prev)
		}
		if r.infErr == nil && c.rule == ruleQuantiles {
			r.infErr = notInfAt(attr, i, x)
		}
		if c.rule == ruleReferences {
			r.grid.add(i, x)
		}
	case ruleEdges:
		if r.sortErr == nil {
			r.sortErr = edgeAt(len(c.lens), i, x, r.prev)
		}
	}
	r.prev = x
}

// arrayAttr is the path of the current array: attr, or attr[j] in a list.
func (c *FloatsCheck) arrayAttr() string {
	if c.list {
		return fmt.Sprintf("%s[%d]", c.attr, len(c.lens))
	}
	return c.attr
}

// EndArray ends the current array, recording its first entry error
// unless an earlier array had one.
func (c *FloatsCheck) EndArray() {
	r := &c.cur
	if c.err == nil {
		var err error
		switch c.rule {
		case ruleQuantiles:
			if !r.allNaN {
				err = r.sortErr
				if err == nil {
					err = r.infErr
				}
			}
		default:
			err = r.sortErr
		}
		if err != nil {
			c.err, c.errAt = err, len(c.lens)
		}
	}
	c.first, c.last = r.first, r.prev
	if c.rule == ruleReferences {
		c.gridErr = r.grid.end(c.arrayAttr(), r.n, r.prev)
	}
	if c.list && r.allNaN && r.n > 0 {
		c.nanArrays = append(c.nanArrays, len(c.lens))
	}
	c.lens = append(c.lens, r.n)
}

// NullArray records an array of a list that is null (no entries).
func (c *FloatsCheck) NullArray() {
	c.StartArray()
	c.EndArray()
}

// Len returns the number of entries of a single array, or the number of
// arrays of a list.
func (c *FloatsCheck) Len() int {
	if c.list {
		return len(c.lens)
	}
	if len(c.lens) == 0 {
		return 0
	}
	return c.lens[0]
}

// arrayLen returns the number of entries of array j of a list.
func (c *FloatsCheck) arrayLen(j int) int { return c.lens[j] }

// arrayErr returns the first entry error of array j of a list, nil when
// array j has none or an earlier array has one.
func (c *FloatsCheck) arrayErr(j int) error {
	if j == c.errAt {
		return c.err
	}
	return nil
}

// feed feeds one array held in memory (nil: null).
func (c *FloatsCheck) feed(xs Floats) {
	if xs == nil {
		c.Null()
		return
	}
	c.feedArray(xs)
}

func (c *FloatsCheck) feedArray(xs Floats) {
	c.StartArray()
	for _, x := range xs {
		c.Add(x)
	}
	c.EndArray()
}

// feedList feeds a list of arrays held in memory.
func (c *FloatsCheck) feedList(rows []Floats) {
	if rows == nil {
		c.Null()
		return
	}
	for _, r := range rows {
		if r == nil {
			c.NullArray()
			continue
		}
		c.feedArray(r)
	}
}

// AppendFloat appends x as a Floats entry is written in JSON: the
// shortest decimal that round-trips, or "NaN", "Infinity", "-Infinity".
func AppendFloat(dst []byte, x float64) []byte { return appendFloatJSON(dst, x) }
