package step

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// This file holds the rules an artifact loader applies to an encoder's
// fitted categories_, written so that they run one entry at a time: an
// artifact whose bulk is one encoder's categories (millions of ids) is
// then checked in memory independent of the list's length, whether the
// lists are in memory (CheckStep) or read from a file entry by entry
// (CategoriesCheck fed by a streamed reading: see StreamedCheck).
//
// What a fit writes, and so what is accepted:
//
//   - categories="auto": each list is the distinct training values in
//     scikit-learn's order (sortedCategories): by number when every present
//     value is a decimal number, ties by text, else by byte (= code point)
//     order, the missing category (null) last. Strict order proves the
//     entries unique without remembering them: only the previous entry is
//     kept.
//   - categories given as lists: each fitted list is the given list,
//     entry for entry. The given lists are unique (the parameters'
//     Validate), so equality proves the fitted ones unique; the given
//     lists are in memory already, as part of the parameters (and of the
//     spec), and nothing more is kept.

// CategoriesCheck checks an encoder's categories_ against its parameters
// one entry at a time: StartList, Add for each entry, EndList, for each
// list in order; Err then returns the first error. It keeps, per list, the
// entry count and the missing category's position, and the previous entry
// of the list being read.
type CategoriesCheck struct {
	given []CategoryList // the parameters' lists; nil for "auto"
	lists []listSummary
	cur   listOrder
	err   error
	// countOnly: only count the lists and their entries, without rules
	// (a one-hot encoder's infrequent_categories_).
	countOnly bool
	seen      bool // a value was fed (Null or a list)
	null      bool // the value was null
}

// listSummary is what the rules other than the list's own read of a
// checked categories_ list.
type listSummary struct {
	n       int  // entries
	missing int  // position of the missing category (null), -1 if none
	null    bool // the list was null
	float   bool // floatCategories holds for the list
}

// listOrder is the state of the list being read.
type listOrder struct {
	j       int
	n       int
	missing int
	given   CategoryList // nil for "auto" (or a list past the given ones)
	// The previous present entry, its number when decimal.
	prev        string
	prevVal     float64
	present     int
	allDecimal  bool
	firstOther  error // first error that holds whatever the order
	otherAt     int
	byteErr     error // first break of code point order
	byteAt      int
	decimalErr  error // first break of numeric order
	decimalAt   int
	givenMissed bool // a given list shorter than the fitted one (reported once)
	null        bool
	floats      floatness
}

// NewCategoriesCheck returns the check of categories_ for an encoder
// configured by p (an ordinal or one-hot encoder's parameters); other
// parameters are checked as "auto".
func NewCategoriesCheck(p Params) *CategoriesCheck {
	c := &CategoriesCheck{}
	switch p := p.(type) {
	case *OrdinalEncoderParams:
		c.given = p.Categories.Lists
	case *OneHotEncoderParams:
		c.given = p.Categories.Lists
	}
	return c
}

// Start records that the value is a list of lists (which may be empty).
func (c *CategoriesCheck) Start() { c.seen = true }

// Null records that the value is null.
func (c *CategoriesCheck) Null() { c.seen, c.null = true, true }

// NullList records that the current list is null (an empty list to the
// rules).
func (c *CategoriesCheck) NullList() { c.cur.null = true }

// StartList starts the next list of categories_.
func (c *CategoriesCheck) StartList() {
	c.seen = true
	j := len(c.lists)
	c.cur = listOrder{j: j, missing: -1, allDecimal: true, otherAt: -1, byteAt: -1, decimalAt: -1}
	if c.given != nil && j < len(c.given) {
		c.cur.given = c.given[j]
	}
}

// Add checks the next entry (nil: the missing category) of the current
// list.
func (c *CategoriesCheck) Add(v *string) {
	l := &c.cur
	k := l.n
	l.n++
	l.floats.add(v)
	if c.countOnly {
		return
	}
	if c.given != nil {
		l.addGiven(k, v)
		return
	}
	if v == nil {
		if l.missing >= 0 {
			l.other(k, "the missing category (null) appears twice")
		} else {
			l.missing = k
		}
		return
	}
	if l.missing >= 0 {
		l.other(k, "%s comes after the missing category (null), which categories=\"auto\" places last", quoteCategory(*v))
	}
	l.addAuto(k, *v)
}

// addGiven compares entry k with the given list's.
func (l *listOrder) addGiven(k int, v *string) {
	if v == nil && l.missing < 0 {
		l.missing = k
	}
	if l.given == nil {
		return // the list count's rule reports it
	}
	if k >= len(l.given) {
		if !l.givenMissed {
			l.givenMissed = true
			l.other(k, "is past the end of the categories the parameters list for this column (%d): the fitted categories must be the given ones", len(l.given))
		}
		return
	}
	if g := l.given[k]; (g == nil) != (v == nil) || (g != nil && *g != *v) {
		l.other(k, "is %s, the parameters' categories list %s here: the fitted categories must be the given ones", label(v), label(g))
	}
}

// addAuto checks present entry v, at k, against the one before it in both
// orders a fit can have written; EndList picks the one that applies.
func (l *listOrder) addAuto(k int, v string) {
	val, decimal := decimalValue(v)
	if l.present > 0 {
		if l.byteErr == nil {
			switch {
			case v == l.prev:
				l.byteErr, l.byteAt = duplicateError(l.j, k, v), k
			case v < l.prev:
				l.byteErr, l.byteAt = orderError(l.j, k, v, l.prev, "by code point, as not all of them are numbers"), k
			}
		}
		if l.decimalErr == nil && l.allDecimal && decimal {
			switch {
			case v == l.prev:
				l.decimalErr, l.decimalAt = duplicateError(l.j, k, v), k
			case val < l.prevVal || (val == l.prevVal && v < l.prev):
				l.decimalErr, l.decimalAt = orderError(l.j, k, v, l.prev, "by value, as all of them are numbers"), k
			}
		}
	}
	l.allDecimal = l.allDecimal && decimal
	l.prev, l.prevVal = v, val
	l.present++
}

// decimalValue returns v's number and whether v is one of the decimal
// texts sortedCategories orders by value (see decimalValues).
func decimalValue(v string) (float64, bool) {
	if !isDecimal(v) {
		return 0, false
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

func (l *listOrder) other(k int, format string, args ...any) {
	if l.firstOther == nil {
		l.firstOther = badAt(fmt.Sprintf("categories_[%d]", l.j), k, format, args...)
		l.otherAt = k
	}
}

func duplicateError(j, k int, v string) error {
	return badAt(fmt.Sprintf("categories_[%d]", j), k, "duplicate category %s", quoteCategory(v))
}

func orderError(j, k int, v, prev, order string) error {
	return badAt(fmt.Sprintf("categories_[%d]", j), k,
		"%s comes after %s: categories=\"auto\" must be sorted (%s), the missing category last", quoteCategory(v), quoteCategory(prev), order)
}

// label quotes a category for a message; nil is null.
func label(v *string) string {
	if v == nil {
		return "null"
	}
	return quoteCategory(*v)
}

// quoteLen is how much of a category a message quotes.
const quoteLen = 64

// quoteCategory quotes a category for a message, shortened to its first
// quoteLen bytes (cut at a rune boundary) with its length when longer.
func quoteCategory(v string) string {
	if len(v) <= quoteLen {
		return strconv.Quote(v)
	}
	cut := quoteLen
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(v[:cut]), len(v))
}

// EndList ends the current list, recording its first error (the one at
// the smallest position) unless an earlier list had one.
func (c *CategoriesCheck) EndList() {
	l := &c.cur
	c.lists = append(c.lists, listSummary{n: l.n, missing: l.missing, null: l.null, float: l.floats.holds()})
	if c.err != nil || c.countOnly {
		return
	}
	path := fmt.Sprintf("categories_[%d]", l.j)
	switch {
	case l.given != nil && l.n < len(l.given) && l.firstOther == nil:
		c.err = &PathError{Path: path, Msg: fmt.Sprintf("has %d entries, the parameters' categories list %d for this column: the fitted categories must be the given ones", l.n, len(l.given))}
		return
	case l.n == 0:
		c.err = &PathError{Path: path, Msg: "is empty"}
		return
	}
	order, at := l.byteErr, l.byteAt
	if l.allDecimal && l.present > 0 {
		order, at = l.decimalErr, l.decimalAt
	}
	c.err = l.firstOther
	if order != nil && (c.err == nil || at < l.otherAt) {
		c.err = order
	}
}

// Err returns the first error of the lists read: the first list's with an
// error, else a list count that differs from the given lists'.
func (c *CategoriesCheck) Err() error {
	if c.err != nil {
		return c.err
	}
	if c.given != nil && len(c.lists) != len(c.given) {
		return &PathError{Path: "categories_", Msg: fmt.Sprintf("has %d lists, the parameters' categories %d: the fitted categories must be the given ones", len(c.lists), len(c.given))}
	}
	return nil
}

// Len returns the number of lists read.
func (c *CategoriesCheck) Len() int { return len(c.lists) }

// checkCategories feeds lists to c entry by entry: CheckStep's reading of
// categories held in memory, the same rules a streamed reading applies.
func (c *CategoriesCheck) checkCategories(lists []CategoryList) {
	for _, l := range lists {
		c.StartList()
		for _, v := range l {
			c.Add(v)
		}
		c.EndList()
	}
}

// streamed implements streamer: categories_ is fed entry by entry.
func (e *OrdinalEncoder) streamed(p Params, c *StreamedCheck) {
	c.categories["categories_"] = NewCategoriesCheck(p)
}

// feed implements streamer.
func (e *OrdinalEncoder) feed(c *StreamedCheck) {
	c.categories["categories_"].checkCategories(e.Categories)
}

// checkStreamed implements streamer.
func (e *OrdinalEncoder) checkStreamed(nIn int, c *StreamedCheck) error {
	return e.checkWith(nIn, c.categories["categories_"])
}
