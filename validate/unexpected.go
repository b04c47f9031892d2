package validate

import (
	"fmt"
	"iter"

	"github.com/normguard/normguard/internal/errtext"
)

// MaxListed is the most unexpected columns a report gives an anomaly each,
// and the most ignored columns it names: a header of a million columns the
// artifact does not read makes one unexpected_column anomaly with their
// count and the first MaxListed names, not a million anomalies (attack
// run 8 F6: 100,000 extra columns made a 40 MB report).
const MaxListed = errtext.MaxNames

// unexpected returns the unexpected_column anomalies of the data's columns
// that are not inputs (extra, in data order), given the absent inputs
// (missing) and whether the spec passed the training remainder through,
// and records the ignored ones (not anomalies) in rep. An extra column
// close to a missing input's name is a renamed header; otherwise it is
// unexpected when passthrough, ignored when not. Up to MaxListed
// unexpected columns get an anomaly each; past that, the renamed headers
// get one each (the first MaxListed of them) and the others one anomaly
// together, with Count and the first MaxListed names in Columns.
func unexpected(rep *Report, extra iter.Seq[string], missing []string, passthrough bool) []Anomaly {
	type col struct{ name, near string }
	var first []col // the first MaxListed+1 unexpected columns
	var renamed []col
	var rest []string // unexpected columns past the renamed ones shown
	var count, ignored int64
	for name := range extra {
		c := col{name: name, near: closest(name, missing)}
		if !passthrough && c.near == "" {
			if len(rep.Ignored) < MaxListed {
				rep.Ignored = append(rep.Ignored, name)
			}
			ignored++
			continue
		}
		count++
		if len(first) <= MaxListed {
			first = append(first, c)
		}
		if c.near != "" && len(renamed) < MaxListed {
			renamed = append(renamed, c)
			continue
		}
		if len(rest) < MaxListed {
			rest = append(rest, name)
		}
	}
	if ignored > int64(len(rep.Ignored)) {
		rep.IgnoredCount = ignored
	}
	if count <= MaxListed {
		out := make([]Anomaly, len(first))
		for i, c := range first {
			out[i] = unexpectedOne(c.name, c.near)
		}
		return out
	}
	out := make([]Anomaly, 0, len(renamed)+1)
	for _, c := range renamed {
		out = append(out, unexpectedOne(c.name, c.near))
	}
	n := count - int64(len(renamed))
	if n == 1 {
		return append(out, unexpectedOne(rest[0], closest(rest[0], missing)))
	}
	why := "each close to the name of a missing input (renamed headers?)"
	if passthrough {
		why = "whose spec passed every other training column through (remainder: passthrough): the training data had none of them"
	}
	more := ""
	if len(renamed) > 0 {
		more = " more"
	}
	out = append(out, Anomaly{Column: rest[0], Code: UnexpectedColumn, Severity: SeverityWarning,
		Count: n, Columns: rest,
		Description: fmt.Sprintf("%s%s columns are not inputs of the artifact, %s: %s",
			fmtCount(n), more, why, errtext.List(rest)+andMore(n, len(rest))),
		Fix: "drop these columns before transforming, or refit on data that has them if the model should use them"})
	return out
}

// andMore is ", and N more" when count exceeds the listed names.
func andMore(count int64, listed int) string {
	if count <= int64(listed) {
		return ""
	}
	return fmt.Sprintf(", and %s more", fmtCount(count-int64(listed)))
}

// unexpectedOne is the anomaly of one unexpected column, near being the
// missing input it may be renamed from ("" when none).
func unexpectedOne(name, near string) Anomaly {
	an := Anomaly{Column: name, Code: UnexpectedColumn, Severity: SeverityWarning, SimilarTo: near}
	q := errtext.Quote(name)
	if near != "" {
		an.Description = fmt.Sprintf("column %s is not an input of the artifact, and input %s is missing: a renamed header?", q, errtext.Quote(near))
		an.Fix = fmt.Sprintf("rename %s back to %s in the data (or refit with the new name)", q, errtext.Quote(near))
		return an
	}
	an.Description = fmt.Sprintf("column %s is not an input of the artifact, whose spec passed every other training column through (remainder: passthrough): the training data had no such column", q)
	an.Fix = fmt.Sprintf("drop %s before transforming, or refit on data that has it if the model should use it", q)
	return an
}
