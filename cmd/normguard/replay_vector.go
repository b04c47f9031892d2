package main

import (
	"fmt"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/driftcheck"
	"github.com/normguard/normguard/embed"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/table"
	"github.com/normguard/normguard/validate"
)

// Vector columns in monitor replay (attack run 18 F11: they were left out
// without a word, 0 of 2 drifting where drift --artifact of a week's rows
// found the vectors drifting). Each window's vectors are judged as drift
// --artifact judges a file of the window's rows: the window's rows, in
// file order, are accumulated as validate.Read accumulates a file's
// (validate.VectorData: the same seeded sample), then compared with the
// contract by driftcheck.Vectors, drift's own function. The file is read
// once more for the vector columns, a batch at a time; a window's vectors
// are let go once its last row was read (every window's row count is
// known from the time column), so a file in time order holds one
// window's sample at a time.

// replayVectors judges the vector columns of a (those d holds) window by
// window and returns them, those d lacks (missing: listed in every
// window's missing_features, as drift --artifact reports them as
// missing_column) and each window's verdicts by window start (Unix
// nanoseconds); no columns when d holds none. A window whose rows hold
// no vector of a column (or one: MMD needs two) is an error naming the
// window and the column, as drift --artifact refuses a file of its rows
// (attack run 20 F1: it was judged clean with the column left out).
//
// It also returns each window's anomalies of the vector columns d holds
// by the rules of normguard validate (zero vectors, norms, ...), as drift
// --artifact finds them in a file of the window's rows (attack run 22 F2:
// a week of 10% zero vectors was a clean window).
func replayVectors(path string, a *artifact.Artifact, d *validate.Data, times []string, window time.Duration) (names, missing []string, _ map[int64][]monitor.WindowVector, _ map[int64][]validate.Anomaly, _ error) {
	var contracts []*embed.Contract
	for _, e := range a.Embeddings {
		vd := d.Vectors[e.Column]
		if vd == nil {
			missing = append(missing, e.Column)
			continue
		}
		switch {
		case vd.Dim == 0:
			return nil, nil, nil, nil, fmt.Errorf("monitor replay: %s: vector column %q holds no vector (every row is missing); drift cannot judge it: pass the vectors (normguard validate lists what is missing)", path, e.Column)
		case vd.Dim != e.Contract.Dimension:
			return nil, nil, nil, nil, fmt.Errorf("monitor replay: %s: vector column %q holds vectors of %d values, its contract %d (dimension_mismatch): they cannot be compared with the training vectors; pass the vectors of the contract's model", path, e.Column, vd.Dim, e.Contract.Dimension)
		}
		names = append(names, e.Column)
		contracts = append(contracts, e.Contract)
	}
	if len(names) == 0 {
		return nil, missing, nil, nil, nil
	}
	// Each row's window, as monitor.ReplayEach places it (-1: no time),
	// and each window's timed rows.
	const untimed = -1
	startOf := make([]int64, len(times))
	left := map[int64]int{}
	for r, s := range times {
		startOf[r] = untimed
		if s == "" {
			continue
		}
		if t, ok := monitor.ParseEventTime(s); ok {
			startOf[r] = monitor.WindowStart(t, window).UnixNano()
			left[startOf[r]]++
		}
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	open := map[int64]map[string]*validate.VectorData{}
	out := map[int64][]monitor.WindowVector{}
	anomalies := map[int64][]validate.Anomaly{}
	finish := func(start int64) error {
		when := time.Unix(0, start).UTC().Format(time.RFC3339)
		for _, n := range names {
			if vd := open[start][n]; vd.Dim == 0 || len(vd.Sample) == 0 {
				return fmt.Errorf("%s: window %s: vector column %q has no vector in the window (its %d rows all miss it): the window cannot be judged, as drift --artifact refuses a file of these rows; pass the window's vectors (normguard validate lists what is missing), or replay without these rows", path, when, n, vd.Rows)
			}
		}
		vs, err := driftcheck.Vectors(a, open[start], keep)
		if err != nil {
			return fmt.Errorf("%s: window %s: %w", path, when, err)
		}
		for _, v := range vs {
			out[start] = append(out[start], monitor.WindowVector{Column: v.Column, Reference: v.Reference, Result: v.Result})
		}
		vrep, err := validate.CheckMerged(a, open[start][names[0]].Rows, nil, nil, open[start], validate.Options{Columns: names})
		if err != nil {
			return fmt.Errorf("%s: window %s: %w", path, when, err)
		}
		anomalies[start] = vrep.Anomalies
		delete(open, start)
		return nil
	}
	r, err := validate.OpenFor(path, a)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	defer r.Close()
	fields := make([]table.Field, len(names))
	for i, n := range names {
		fields[i] = table.Field{Name: n, Kind: table.Vector}
	}
	if err := r.Project(fields); err != nil {
		return nil, nil, nil, nil, err
	}
	row := 0
	for r.Next() {
		b := r.Batch()
		if row+b.Rows > len(times) {
			return nil, nil, nil, nil, fmt.Errorf("monitor replay: %s holds more rows than its time column (%d) when read again; was it changed while replay ran?", path, len(times))
		}
		for i := 0; i < b.Rows; {
			start := startOf[row+i]
			j := i + 1
			for j < b.Rows && startOf[row+j] == start {
				j++
			}
			if start != untimed {
				acc := open[start]
				if acc == nil {
					acc = map[string]*validate.VectorData{}
					for _, n := range names {
						acc[n] = &validate.VectorData{Column: n}
					}
					open[start] = acc
				}
				for k, n := range names {
					c := b.Cols[k].Slice(i, j)
					if err := acc[n].Add(&c, j-i, contracts[k]); err != nil {
						return nil, nil, nil, nil, fmt.Errorf("monitor replay: %s: %w", path, err)
					}
				}
				if left[start] -= j - i; left[start] == 0 {
					if err := finish(start); err != nil {
						return nil, nil, nil, nil, fmt.Errorf("monitor replay: %w", err)
					}
				}
			}
			i = j
		}
		row += b.Rows
	}
	if err := r.Err(); err != nil {
		return nil, nil, nil, nil, err
	}
	if row != len(times) || len(open) > 0 {
		return nil, nil, nil, nil, fmt.Errorf("monitor replay: %s holds %d rows when read again for its vector columns, %d when its time column was read; was it changed while replay ran?", path, row, len(times))
	}
	return names, missing, out, anomalies, nil
}
