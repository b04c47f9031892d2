package fit

import (
	"fmt"

	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// Projection returns the columns a fit of sp reads from data whose header
// is header, in the order the fit holds them: every column the spec names,
// group by group (as its declared kind, or String when the type is to be
// inferred), then, with remainder passthrough, the header's other columns
// as String. pass lists those passthrough columns. The error wraps
// ErrMissingColumn when the spec names a column the header lacks; source
// labels it. A distributed fit (normguard-beam) projects every shard with
// it so that its shards read exactly as the local fit reads their
// concatenation.
func Projection(sp *spec.Spec, header []string, source string) (fields []table.Field, pass []string, err error) {
	inHeader := make(map[string]bool, len(header))
	for _, h := range header {
		inHeader[h] = true
	}
	named := map[string]bool{}
	var missing []string
	for _, g := range sp.Columns {
		for _, n := range g.Names {
			named[n] = true
			if !inHeader[n] {
				missing = append(missing, n)
			}
			k := g.Kind()
			if k == table.KindUnknown {
				k = table.String // read as text, infer below
			}
			fields = append(fields, table.Field{Name: n, Kind: k})
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("fit %s: %w: the spec names %s; the data has %s", source, ErrMissingColumn,
			quoteList(missing), quoteList(header))
	}
	if sp.Remainder == spec.RemainderPassthrough {
		for _, h := range header {
			if !named[h] {
				pass = append(pass, h)
				fields = append(fields, table.Field{Name: h, Kind: table.String})
			}
		}
	}
	return fields, pass, nil
}

// ResolveSpec returns a copy of sp with every group's type filled in from
// the kinds its columns were inferred as (kinds maps a column name to its
// kind; every column the spec names must be present), as the artifact
// records it.
func ResolveSpec(sp *spec.Spec, kinds map[string]table.Kind) *spec.Spec {
	byName := make(map[string]*table.Column, len(kinds))
	for n, k := range kinds {
		byName[n] = &table.Column{Name: n, Kind: k}
	}
	return resolvedSpec(sp, byName)
}
