package monitor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
)

// Event time (Options.TimeColumn): rows go to the window of the time they
// carry, not of their arrival. A batch is split by window, each part a
// record of its own. Windows close as event time moves on: when rows of a
// later window arrive (the service's clock does not close them, so rows of
// last month posted today fill last month's windows). A row of a window
// earlier than the latest one is late: it is counted (Late,
// normguard_observations_late_total), logged with the window it went to,
// and kept in the latest window, whose state alone is still open. A row
// whose time is missing, does not parse or lies more than a window and an
// hour ahead of the clock goes to the latest window too
// (the arrival time's before any), counted as untimed
// (normguard_observations_untimed_total).

// rowTime returns row i's event time from the time column c: text in one
// of the layouts ParseEventTime reads, or a number of seconds since the
// Unix epoch (a number column, or the digits of a JSON number in a text
// column: a time column that is not an artifact input is read as text).
func rowTime(c *table.Column, i int) (time.Time, bool) {
	if c.Kind == table.Numeric {
		return secondsTime(c.Num[i])
	}
	if c.Kind != table.String || (c.Null != nil && c.Null[i]) {
		return time.Time{}, false
	}
	return textTime(c.Str[i])
}

// textTime reads an event time given as text: one of the layouts
// ParseEventTime reads, or the digits of a number of Unix seconds. (monitor
// replay reads the layouts only: a numeric column named by mistake, such
// as a delay in minutes, is then refused there as holding no time.)
func textTime(s string) (time.Time, bool) {
	if t, ok := ParseEventTime(s); ok {
		return t, true
	}
	if s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && strings.Trim(s, "0123456789.eE+-") == "" {
		if x, err := strconv.ParseFloat(s, 64); err == nil {
			return secondsTime(x)
		}
	}
	return time.Time{}, false
}

// secondsTime reads x seconds since the Unix epoch as an event time.
func secondsTime(x float64) (time.Time, bool) {
	if x != x || math.IsInf(x, 0) || math.Abs(x) > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(x)
	t := time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return t, EventTimeInRange(t)
}

// Ahead returns the latest time a row may carry and be timed: a window
// and an hour (for clocks that disagree) past the monitor's clock. A
// window starting after it was written by no monitor whose clock agrees
// with this one (serve refuses a peer's such window).
func (m *Monitor) Ahead() time.Time { return m.opt.Now().Add(m.opt.Window + time.Hour) }

// TimeColumn is the column holding the rows' event time (Options.
// TimeColumn), or "" when windows go by arrival.
func (m *Monitor) TimeColumn() string { return m.opt.TimeColumn }

// prepareBatches encodes observations into pending records: one in the
// window of the arrival time, or with Options.TimeColumn one per event
// window of the rows, in the order the windows first appear.
func (m *Monitor) prepareBatches(model string, a *artifact.Artifact, stage Stage, cols []table.Column, n int) ([]*pending, error) {
	if m.opt.TimeColumn == "" {
		p, err := m.prepare(model, a, stage, cols, n)
		if err != nil {
			return nil, err
		}
		return []*pending{p}, nil
	}
	// The last column of the name: a source may add one after the
	// features that holds an input of that name where the row gives it,
	// and the time it has for the row where it does not (the Kafka ingest:
	// the record's timestamp), the input itself staying missing.
	tc := -1
	for i := len(cols) - 1; i >= 0; i-- {
		if cols[i].Name == m.opt.TimeColumn {
			tc = i
			break
		}
	}
	if tc < 0 {
		return nil, fmt.Errorf("monitor: model %q: the rows have no %q column, which holds their event time (--time-column); send it with every row, or run without --time-column: %w",
			model, m.opt.TimeColumn, ErrInvalid)
	}
	if c := &cols[tc]; c.Len() != n {
		return nil, fmt.Errorf("monitor: model %q column %q has %d rows, want %d: %w", model, c.Name, c.Len(), n, ErrInvalid)
	}
	// Untimed rows go to the latest event window (the arrival time's when
	// there is none yet), so that they do not move event time on.
	untimedStart := m.windowStart(m.opt.Now())
	if err := checkModel(model); err != nil {
		return nil, err
	}
	if si := stage.index(); si >= 0 {
		if l := m.model(model).eventLatest[si].Load(); l != 0 {
			untimedStart = l - 1
		}
	}
	var order []int64
	rowsOf := map[int64][]int{}
	untimed := int64(0)
	// A time further ahead of the clock than a window and an hour (for
	// clocks that disagree) is untimed: one row dated 2199 would open a
	// window every later row counts as late in, for good.
	ahead := m.Ahead()
	for i := 0; i < n; i++ {
		start := untimedStart
		if t, ok := rowTime(&cols[tc], i); ok && !t.After(ahead) {
			start = m.windowStart(t)
		} else {
			untimed++
		}
		if _, ok := rowsOf[start]; !ok {
			order = append(order, start)
		}
		rowsOf[start] = append(rowsOf[start], i)
	}
	m.untimed.Add(untimed)
	ps := make([]*pending, 0, len(order))
	for _, start := range order {
		rows := rowsOf[start]
		part := cols
		if len(order) > 1 {
			part = make([]table.Column, len(cols))
			for j := range cols {
				part[j] = gather(&cols[j], rows)
			}
		}
		p, err := m.prepare(model, a, stage, part, len(rows))
		if err != nil {
			return nil, err
		}
		p.start = start
		m.noteLate(model, stage, p, int64(len(rows)))
		ps = append(ps, p)
	}
	return ps, nil
}

// noteLate counts and logs rows of a window earlier than the latest one
// of their stage (they go to the latest window), and moves the stage's
// latest event window on.
func (m *Monitor) noteLate(model string, stage Stage, p *pending, rows int64) {
	wm := &p.ms.eventLatest[p.stage]
	for {
		cur := wm.Load()
		if cur != 0 && p.start < cur-1 {
			m.late.Add(rows)
			now := m.opt.Now().Unix()
			if last := p.ms.lateLogged.Load(); now-last >= 60 && p.ms.lateLogged.CompareAndSwap(last, now) {
				m.opt.Logger.Warn("monitor: late rows: their event window had closed, so they were counted in the latest window",
					"model", model, "stage", string(stage), "rows", rows,
					"event_window", unixTime(p.start).Format(time.RFC3339), "counted_in", unixTime(cur-1).Format(time.RFC3339))
			}
			return
		}
		// stored +1 so that 0 means none yet (a window may start at 0)
		if p.start+1 <= cur || wm.CompareAndSwap(cur, p.start+1) {
			return
		}
	}
}
