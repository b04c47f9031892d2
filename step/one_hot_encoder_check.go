package step

import (
	"fmt"
	"strings"

	"github.com/normguard/normguard/table"
)

// This file holds a one-hot encoder's rules on its lists (categories_,
// infrequent_categories_, drop_idx_, categories_dtype_) and the output
// names they give, written so that they walk each list once, entry by
// entry: buildPlan runs them on lists in memory, and a streamed reading
// (StreamedCheck) on lists it reads from the file again, so that its
// memory does not grow with the lists (only with the outputs, one per
// frequent category, which the artifact lists anyway).

// CategoryReader reads one list of categories entry by entry.
type CategoryReader interface {
	// Next returns the next entry (nil: the missing category); ok is
	// false past the list's end.
	Next() (v *string, ok bool, err error)
}

// CategorySource reads a field holding lists of categories again, list
// after list: NextList moves to the next list (null: the list is null),
// whose entries Next then returns.
type CategorySource interface {
	NextList() (null bool, err error)
	CategoryReader
}

type sliceReader struct {
	l CategoryList
	k int
}

func listReader(l CategoryList) CategoryReader { return &sliceReader{l: l} }

func (r *sliceReader) Next() (*string, bool, error) {
	if r.k >= len(r.l) {
		return nil, false, nil
	}
	v := r.l[r.k]
	r.k++
	return v, true, nil
}

// floatness is floatCategories' verdict on a list read entry by entry.
type floatness struct {
	present    int
	notDecimal bool
	float      bool
}

func (f *floatness) add(v *string) {
	switch {
	case v == nil:
		f.float = true
	case !isDecimal(*v):
		f.notDecimal = true
	default:
		f.present++
		f.float = f.float || strings.ContainsAny(*v, ".eE")
	}
}

func (f *floatness) holds() bool { return !f.notDecimal && f.present > 0 && f.float }

// checkShape is buildPlan's rules on the attributes' counts, for n lists
// of categories, infrequent_categories_ set (hasInf) with nInfLists lists,
// isFloat(j) telling whether list j's categories are all numbers
// (floatCategories).
func (e *OneHotEncoder) checkShape(n int, hasInf bool, nInfLists int, isFloat func(j int) bool) error {
	switch e.HandleUnknown {
	case unknownError, unknownIgnore, unknownInfrequentIfExists:
	default:
		return fmt.Errorf("handle_unknown %q is not error, ignore or infrequent_if_exist", e.HandleUnknown)
	}
	if len(e.Names) != n {
		return fmt.Errorf("feature_names_in_ has %d entries for %d lists in categories_", len(e.Names), n)
	}
	if e.DropIdx != nil && len(e.DropIdx) != n {
		return fmt.Errorf("drop_idx_ has %d entries for %d input columns", len(e.DropIdx), n)
	}
	if hasInf && nInfLists != n {
		return fmt.Errorf("infrequent_categories_ has %d entries for %d input columns", nInfLists, n)
	}
	if e.CategoriesDtype != nil {
		if len(e.CategoriesDtype) != n {
			return fmt.Errorf("categories_dtype_ has %d entries for %d input columns", len(e.CategoriesDtype), n)
		}
		for j, d := range e.CategoriesDtype {
			if d != dtypeObject && (d != dtypeFloat64 || !isFloat(j)) {
				return fmt.Errorf("categories_dtype_[%d] is %q: want %q, or %q for categories that are all numbers", j, d, dtypeObject, dtypeFloat64)
			}
		}
	}
	return nil
}

// plannedColumn is one input column's outputs.
type plannedColumn struct {
	nFreq, nInf int
	drop        int // the dropped output, -1 for none
}

func sameCategory(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// planColumn applies buildPlan's rules to input column j and returns its
// outputs: cats reads its nCats categories; inf, when hasInf, its nInf
// infrequent categories, which must be listed in the categories' order
// (as a fit writes them: scikit-learn takes them by ascending index), so
// that one walk of both lists matches them. each, when not nil, gets each
// category's position k and output m before dropping (the frequent
// categories' rank, nFreq for the infrequent group). label, when not
// nil, gets the label of each output that is not dropped, in order, as
// the walk reaches it (the frequent categories', then the infrequent
// group's), so that no list of them is kept; on an error, the labels
// given so far are not the column's.
func (e *OneHotEncoder) planColumn(j, nCats int, cats CategoryReader, hasInf bool, nInf int, inf CategoryReader, each func(k, m int), label func(l string)) (plannedColumn, error) {
	col := plannedColumn{drop: -1}
	if hasInf && nInf == 0 {
		return col, fmt.Errorf("infrequent_categories_[%d] is empty (write null for none)", j)
	}
	if !hasInf {
		nInf = 0
	}
	nFreq := nCats - nInf
	drop := -1 // checked against the outputs once they are counted
	if e.DropIdx != nil && j < len(e.DropIdx) && e.DropIdx[j] != nil {
		drop = *e.DropIdx[j]
	}
	var want *string
	more := false
	advance := func() error {
		if !hasInf {
			return nil
		}
		var err error
		want, more, err = inf.Next()
		return err
	}
	if err := advance(); err != nil {
		return col, err
	}
	float := e.CategoriesDtype != nil && e.CategoriesDtype[j] == dtypeFloat64
	m := 0 // the next frequent category's output
	for k := 0; ; k++ {
		v, ok, err := cats.Next()
		if err != nil {
			return col, err
		}
		if !ok {
			break
		}
		if more && sameCategory(v, want) {
			if each != nil {
				each(k, nFreq)
			}
			if err := advance(); err != nil {
				return col, err
			}
			continue
		}
		if each != nil {
			each(k, m)
		}
		if label != nil && m != drop {
			switch {
			case v == nil:
				label(missingCategoryName)
			case float:
				label(floatRepr(*v))
			default:
				label(*v)
			}
		}
		m++
	}
	if more {
		return col, fmt.Errorf("infrequent_categories_[%d]: %q is not a category, is listed twice or is out of the categories' order", j, CategoryList{want}.label(0))
	}
	col.nFreq, col.nInf = nFreq, nInf
	nOut := nFreq
	if nInf > 0 {
		nOut++
		if label != nil && nFreq != drop {
			label(infrequentCategoryName)
		}
	}
	if e.DropIdx != nil && e.DropIdx[j] != nil {
		col.drop = *e.DropIdx[j]
		if col.drop < 0 || col.drop >= nOut {
			return col, fmt.Errorf("drop_idx_[%d] = %d is outside the column's %d outputs", j, col.drop, nOut)
		}
	}
	return col, nil
}

// outputs is the count of the column's outputs (after dropping).
func (c plannedColumn) outputs() int {
	n := c.nFreq
	if c.nInf > 0 {
		n++
	}
	if c.drop >= 0 {
		n--
	}
	return n
}

// streamed implements streamer: categories_ is fed entry by entry to the
// categories' rules, infrequent_categories_ counted, and both are read
// again from their source (SetSource) to match them and name the outputs.
func (e *OneHotEncoder) streamed(p Params, c *StreamedCheck) {
	c.categories["categories_"] = NewCategoriesCheck(p)
	c.categories["infrequent_categories_"] = &CategoriesCheck{countOnly: true}
}

// feed implements streamer.
func (e *OneHotEncoder) feed(c *StreamedCheck) {
	c.categories["categories_"].checkCategories(e.Categories)
}

// keptOutputs is the most outputs a one-hot encoder read from a source
// keeps after its check; past it, they are produced again from the
// source each time they are asked for (EachOutput), so that a check's
// memory does not grow with them.
var keptOutputs = 1 << 12

// oneHotSource is a one-hot encoder whose lists were read from a source
// (a StreamedCheck's) and are read from it again to name its outputs.
type oneHotSource struct {
	source     func(field string) (CategorySource, error)
	cats, infs *CategoriesCheck
	hasInf     bool
	nOut       int
}

// checkStreamed implements streamer. Without a source the lists are the
// encoder's own (CheckStep): the rules run through its kernel. With one,
// the lists are read from the source, and the encoder is then fit for
// Outputs only: it keeps its outputs when they are at most keptOutputs,
// else the source, to read them again.
func (e *OneHotEncoder) checkStreamed(nIn int, c *StreamedCheck) error {
	cats := c.categories["categories_"]
	if c.source == nil {
		return e.checkWith(nIn, cats)
	}
	if err := checkLen("feature_names_in_", len(e.Names), nIn); err != nil {
		return err
	}
	if err := checkNames("feature_names_in_", e.Names); err != nil {
		return err
	}
	if err := cats.Err(); err != nil {
		return err
	}
	infs := c.categories["infrequent_categories_"]
	src := &oneHotSource{source: c.source, cats: cats, infs: infs, hasInf: infs.seen && !infs.null}
	if err := e.checkShape(cats.Len(), src.hasInf, infs.Len(), func(j int) bool { return cats.lists[j].float }); err != nil {
		return err
	}
	p := &oneHotPlan{}
	err := e.walkSource(src, func(f table.Field) {
		src.nOut++
		switch {
		case src.nOut <= keptOutputs:
			p.fields = append(p.fields, f)
		case src.nOut == keptOutputs+1:
			p.fields = nil
		}
	})
	if err != nil {
		return err
	}
	if src.nOut > keptOutputs {
		e.source = src
	}
	e.once.Do(func() { e.plan = p })
	return nil
}

// walkSource reads the encoder's lists from src, applies planColumn's
// rules to each column and gives out each output column, in order.
func (e *OneHotEncoder) walkSource(src *oneHotSource, out func(f table.Field)) error {
	catSrc, err := src.source("categories_")
	if err != nil {
		return err
	}
	var infSrc CategorySource
	if src.hasInf {
		if infSrc, err = src.source("infrequent_categories_"); err != nil {
			return err
		}
	}
	for j := range src.cats.Len() {
		if _, err := catSrc.NextList(); err != nil {
			return err
		}
		hasInfJ, nInfJ := false, 0
		if src.hasInf {
			null, err := infSrc.NextList()
			if err != nil {
				return err
			}
			hasInfJ, nInfJ = !null, src.infs.lists[j].n
		}
		name := e.Names[j]
		_, err := e.planColumn(j, src.cats.lists[j].n, catSrc, hasInfJ, nInfJ, infSrc, nil, func(l string) {
			out(table.Field{Name: name + "_" + l, Kind: table.Numeric})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// StreamedOutputs reports whether fitted step f does not keep its output
// columns, and then their count: a one-hot encoder checked by a
// StreamedCheck with a source, with more than a few thousand outputs.
// EachOutput produces them one at a time, reading the encoder's lists
// again from the source; Outputs gathers them.
func StreamedOutputs(f Fitted) (n int, ok bool) {
	if e, isOneHot := f.(*OneHotEncoder); isOneHot && e.source != nil {
		return e.source.nOut, true
	}
	return 0, false
}

// EachOutput calls fn with each of fitted step f's output columns, in
// order, without gathering them when f does not keep them
// (StreamedOutputs).
func EachOutput(f Fitted, fn func(table.Field)) error {
	if e, ok := f.(*OneHotEncoder); ok && e.source != nil {
		return e.walkSource(e.source, fn)
	}
	for _, c := range f.Outputs() {
		fn(c)
	}
	return nil
}
