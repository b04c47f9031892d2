package artifact

import (
	"fmt"
	"strconv"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// The training profile lists the categories each categorical input held
// in fit (the most frequent ones, at most profile.TopCategories). An
// encoder fitted on that data with categories "auto" holds every one of
// them once the imputers before it have run, and so does one given its
// lists with handle_unknown error (the fit refuses data outside them):
// an encoder lacking one is an edited artifact, which with
// handle_unknown ignore encodes those training rows as all zeros, exit 0
// (attack run 27 F3). encoderCategoriesError checks it: the profile's
// categories of each column are run through the group's imputers with
// their own Transform, then looked up in the encoder's lists, read again
// one entry at a time (a streamed reading does not hold them).

// encoderCategoriesError returns the first encoder of a categorical group
// lacking a category the profile lists, or nil.
func encoderCategoriesError(s *spec.Spec, groups int, source sectionSource, cats map[string][]string, missing map[string]bool) error {
	if s == nil || source == nil || len(cats) == 0 {
		return nil
	}
	for gi := 0; gi < groups && gi < len(s.Columns); gi++ {
		if s.Columns[gi].Type != spec.TypeCategorical {
			continue
		}
		g, err := source.groupAgain(gi)
		if err != nil {
			return readAgainError(gi, err)
		}
		if err := groupCategoriesError(gi, g, source, cats, missing); err != nil {
			return err
		}
	}
	return nil
}

// groupCategoriesError applies encoderCategoriesError's rule to
// groups[gi]: up to its first encoder, through imputers only. A column
// that had missing cells in fit gets one missing row, which an imputer
// fills with the value the encoder must then hold (attack run 32 F9: an
// ordinal encoder without the fill value encoded those rows as unknown).
func groupCategoriesError(gi int, g *Group, source sectionSource, cats map[string][]string, missing map[string]bool) error {
	rows := 1
	for _, name := range g.Columns {
		rows = max(rows, len(cats[name])+1)
	}
	// Each column holds its profile categories, then a missing row where
	// it had missing cells (then its last category again up to rows); n
	// says how many rows are its own.
	cur := map[string]*table.Column{}
	n := map[string]int{}
	for _, name := range g.Columns {
		vals := cats[name]
		c := &table.Column{Name: name, Kind: table.String, Str: make([]string, rows), Null: make([]bool, rows)}
		own := len(vals)
		if missing[name] && own > 0 {
			own++ // the missing row
		}
		for i := range rows {
			switch {
			case len(vals) == 0 || i == len(vals) && own > len(vals):
				c.Null[i] = true
			default:
				c.Str[i] = vals[min(i, len(vals)-1)]
			}
		}
		cur[name], n[name] = c, own
	}
	for si := range g.Steps {
		st := &g.Steps[si]
		switch f := st.Fitted.(type) {
		case *step.SimpleImputer:
			in := make([]table.Column, len(st.Inputs))
			for k, name := range st.Inputs {
				c, ok := cur[name]
				if !ok {
					return nil
				}
				in[k] = *c
			}
			outs := f.Outputs()
			out := table.NewColumns(outs)
			if err := f.Transform(in, out, rows); err != nil {
				return nil // not this rule's to judge
			}
			for k, o := range outs {
				if out[k].Kind != table.String {
					delete(cur, o.Name)
					continue
				}
				cur[o.Name] = &out[k]
			}
		case *step.OneHotEncoder, *step.OrdinalEncoder:
			if !checksTraining(st.Params) {
				return nil
			}
			return listsLack(gi, si, st.Inputs, cur, n, cats, source)
		default:
			return nil
		}
	}
	return nil
}

// checksTraining reports whether an encoder's parameters make its
// categories hold every training category: "auto", or given lists with
// handle_unknown error.
func checksTraining(p step.Params) bool {
	switch p := p.(type) {
	case *step.OneHotEncoderParams:
		return p.Categories.Lists == nil || p.HandleUnknown == "error"
	case *step.OrdinalEncoderParams:
		return p.Categories.Lists == nil || p.HandleUnknown == "error"
	}
	return false
}

// listsLack reads the encoder's lists (one per input) and returns the
// refusal of the first list lacking a category its column held in fit.
func listsLack(gi, si int, inputs []string, cur map[string]*table.Column, n map[string]int, cats map[string][]string, source sectionSource) error {
	src, err := source.categoryLists(gi, si)
	if err != nil {
		return readAgainError(gi, err)
	}
	for j, name := range inputs {
		null, err := src.NextList()
		if err != nil {
			return readAgainError(gi, err)
		}
		c, ok := cur[name]
		want := map[string]bool{}
		if ok {
			for i := range min(n[name], len(c.Str)) {
				if c.Null == nil || !c.Null[i] {
					want[c.Str[i]] = true
				}
			}
		}
		if null || len(want) == 0 {
			if null && len(want) > 0 {
				return nil // the lists' own rules judge a null list
			}
			continue
		}
		for {
			v, more, err := src.Next()
			if err != nil {
				return nil
			}
			if !more {
				break
			}
			if v != nil {
				delete(want, *v)
			}
		}
		if len(want) > 0 {
			first, filled := "", false
			for i := range n[name] { // in the profile's order, the missing row last
				if c.Null == nil || !c.Null[i] {
					if want[c.Str[i]] {
						first, filled = c.Str[i], i >= len(cats[name])
						break
					}
				}
			}
			what := "a category of column " + strconv.Quote(name) + " in the training profile"
			if filled {
				what = "the value the imputer before it fills column " + strconv.Quote(name) + "'s missing cells with (the training profile counts missing cells)"
			}
			return bad(fmt.Sprintf("groups[%d].steps[%d].fitted.categories_[%d]", gi, si, j),
				"lacks %s, %s (%d value(s) missing): a fit on that data holds every one, so the encoder was edited; those rows would be encoded as unknown",
				errtext.Quote(first), what, len(want))
		}
	}
	return nil
}

// heldLists is a step.CategorySource over the categories_ an encoder
// holds.
func heldLists(g *Group, si int) (step.CategorySource, error) {
	if si >= len(g.Steps) {
		return nil, fmt.Errorf("groups step %d is past the steps' end", si)
	}
	switch f := g.Steps[si].Fitted.(type) {
	case *step.OneHotEncoder:
		return &memLists{lists: f.Categories, i: -1}, nil
	case *step.OrdinalEncoder:
		return &memLists{lists: f.Categories, i: -1}, nil
	}
	return nil, fmt.Errorf("step %d is not an encoder", si)
}

// memLists reads lists of categories held in memory, list after list.
type memLists struct {
	lists []step.CategoryList
	i, k  int
}

func (m *memLists) NextList() (bool, error) {
	m.i++
	m.k = 0
	if m.i >= len(m.lists) {
		return false, fmt.Errorf("list %d is past the lists' end", m.i)
	}
	return m.lists[m.i] == nil, nil
}

func (m *memLists) Next() (*string, bool, error) {
	if m.i < 0 || m.i >= len(m.lists) || m.k >= len(m.lists[m.i]) {
		return nil, false, nil
	}
	v := m.lists[m.i][m.k]
	m.k++
	return v, true, nil
}
