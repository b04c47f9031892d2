package kafka

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
)

// refusal is the monitor's refusal of a model's rows (its window state at
// the budget, Options.MaxModelBytes): records dropped, offsets committed.
// Counted and logged (once a second) before, with /healthz "ok" (attack
// run 28 note): it is a problem until a batch of the model is stored.
type refusal struct {
	since  time.Time
	rows   int64
	err    string
	budget bool // the model's state is at the budget
}

// noteRefused records that rows of model were refused with err, or, with
// err nil, that a batch of model was stored.
func (c *Consumer) noteRefused(model string, rows int64, err error) {
	c.badMu.Lock()
	defer c.badMu.Unlock()
	if err == nil {
		if r := c.refusing[model]; r != nil {
			delete(c.refusing, model)
			c.log.Info("kafka: rows of the model are stored again", "topic", c.cfg.Topic, "model", model, "rows_refused", r.rows, "since", r.since.Format(time.RFC3339))
		}
		return
	}
	if c.refusing == nil {
		c.refusing = map[string]*refusal{}
	}
	r := c.refusing[model]
	if r == nil {
		r = &refusal{since: time.Now().UTC()}
		c.refusing[model] = r
	}
	r.rows += rows
	r.err, r.budget = err.Error(), errors.Is(err, monitor.ErrBudget)
}

// overBudgetProblems are the refusals as /healthz problems, by model.
func (c *Consumer) overBudgetProblems() map[string]string {
	c.badMu.Lock()
	defer c.badMu.Unlock()
	if len(c.refusing) == 0 {
		return nil
	}
	out := make(map[string]string, len(c.refusing))
	for _, m := range slices.Sorted(maps.Keys(c.refusing)) {
		r := c.refusing[m]
		advice := "This is a fault of normguard: please report it with the log"
		if r.budget {
			advice = "Raise --state-budget, shorten --window, or send fewer distinct values"
		}
		out[m] = fmt.Sprintf("rows of model %q read from topic %s are refused by the monitor since %s (%d rows dropped, their offsets committed, counted as %q): %s. %s",
			m, c.cfg.Topic, r.since.Format(time.RFC3339), r.rows, ReasonRefused, r.err, advice)
	}
	return out
}

// noteModelError records that a record of model was skipped because its
// artifact could not be loaded (err), or, with err nil, that it loaded.
// Such records were a /healthz problem only once the registry's own check
// found the damage, about 30 s later (attack run 28 note).
func (c *Consumer) noteModelError(model string, err error) {
	c.badMu.Lock()
	defer c.badMu.Unlock()
	if err == nil {
		if r := c.modelErrs[model]; r != nil {
			delete(c.modelErrs, model)
			c.log.Info("kafka: the model's artifact loads again: its records are counted", "topic", c.cfg.Topic, "model", model, "failing_since", r.since.Format(time.RFC3339))
		}
		return
	}
	if c.modelErrs == nil {
		c.modelErrs = map[string]*refusal{}
	}
	r := c.modelErrs[model]
	if r == nil {
		if len(c.modelErrs) >= maxUnknownLogged {
			return
		}
		r = &refusal{since: time.Now().UTC()}
		c.modelErrs[model] = r
	}
	r.err = err.Error()
}

// modelErrorProblems are the models whose artifact does not load, as
// /healthz problems.
func (c *Consumer) modelErrorProblems() map[string]string {
	c.badMu.Lock()
	defer c.badMu.Unlock()
	if len(c.modelErrs) == 0 {
		return nil
	}
	out := make(map[string]string, len(c.modelErrs))
	for m, r := range c.modelErrs {
		out[m] = fmt.Sprintf("records of model %s read from topic %s are skipped since %s (offsets committed, counted as %q): its artifact could not be loaded from the registry: %s",
			errtext.Quote(m), c.cfg.Topic, r.since.Format(time.RFC3339), ReasonModelError, r.err)
	}
	return out
}
