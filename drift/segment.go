package drift

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/normguard/normguard/table"
)

// CompareSegments compares reference and current data segment by segment:
// the rows of each value of the segment column in the current data against
// the reference rows with the same value (every other column, as Compare
// does). A segment the reference never saw is listed in NewSegments and
// its features are skipped (no reference rows), out of the drift share.
// Features carry their Segment.
func CompareSegments(ref, cur []table.Column, segment string, opt Options) (*Report, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	rs, rk := splitBy(ref, segment)
	cs, ck := splitBy(cur, segment)
	if rk == nil {
		return nil, fmt.Errorf("drift: segment column %q is not in the reference data", segment)
	}
	if ck == nil {
		return nil, fmt.Errorf("drift: segment column %q is not in the current data", segment)
	}
	_, _, share := opt.resolve()
	// Every segment judges a text column as the whole reference is: the
	// kind is detected once, on all its rows.
	kinds := make(map[string]string, len(opt.Kinds))
	for k, v := range opt.Kinds {
		kinds[k] = v
	}
	for i := range ref {
		if c := &ref[i]; c.Kind == table.String && c.Name != segment {
			if _, set := kinds[c.Name]; !set {
				kinds[c.Name] = textProfile(c).Kind
			}
		}
	}
	opt.Kinds = kinds
	var features []Feature
	var newSegments []string
	missing := []string{}
	have := map[string]bool{}
	for i := range cur {
		have[cur[i].Name] = true
	}
	for i := range ref {
		if n := ref[i].Name; n != segment && !have[n] {
			missing = append(missing, n)
		}
	}
	for _, key := range ck {
		cp := cs[key]
		rp, ok := rs[key]
		if !ok {
			newSegments = append(newSegments, key)
			for _, c := range cp {
				features = append(features, Feature{Name: c.Name, Segment: key, Type: c.Kind.String(),
					Statistic: JSONFloat(math.NaN()), PValue: JSONFloat(math.NaN()), Threshold: JSONFloat(math.NaN()),
					CurrentCount: c.Len(), Skipped: fmt.Sprintf("segment %q has no reference rows: the reference never saw it", key)})
			}
			continue
		}
		rep, err := Compare(rp, cp, opt)
		if err != nil {
			return nil, err
		}
		for _, f := range rep.Features {
			f.Segment = key
			features = append(features, f)
		}
	}
	rep := newReport(features, share)
	rep.MissingFeatures, rep.NewSegments = missing, newSegments
	return rep, nil
}

// splitBy groups the rows of cols (but the segment column) by the text of
// the segment column, and returns the groups and their keys in order (nil
// keys when the column is absent). Missing segment values form the segment
// "(missing)".
func splitBy(cols []table.Column, segment string) (map[string][]table.Column, []string) {
	var seg *table.Column
	for i := range cols {
		if cols[i].Name == segment {
			seg = &cols[i]
		}
	}
	if seg == nil {
		return nil, nil
	}
	n := seg.Len()
	keyOf := func(i int) string {
		if seg.IsMissing(i) {
			return "(missing)"
		}
		if seg.Kind == table.String {
			return seg.Str[i]
		}
		return strconv.FormatFloat(seg.Num[i], 'g', -1, 64)
	}
	rows := map[string][]int{}
	for i := 0; i < n; i++ {
		k := keyOf(i)
		rows[k] = append(rows[k], i)
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string][]table.Column{}
	for _, k := range keys {
		idx := rows[k]
		var part []table.Column
		for j := range cols {
			c := &cols[j]
			if c.Name == segment {
				continue
			}
			p := table.Column{Name: c.Name, Kind: c.Kind}
			for _, i := range idx {
				if c.Kind == table.String {
					p.Str = append(p.Str, c.Str[i])
					p.Null = append(p.Null, c.IsMissing(i))
				} else {
					p.Num = append(p.Num, c.Num[i])
				}
			}
			part = append(part, p)
		}
		out[k] = part
	}
	return out, keys
}
