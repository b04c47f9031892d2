package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/registry"
)

// noModel is Config.Model found missing from the registry, since when,
// and what the registry holds then (attack run 23 F4: a misspelt
// --kafka-model skipped every record as unknown_model, its offset
// committed, with /healthz "ok" and a log line naming no model).
type noModel struct {
	since time.Time
	holds string
}

// maxUnknownLogged bounds the unknown model names logged once each.
const maxUnknownLogged = 256

// registryHolds names the models the registry holds, for messages.
func (c *Consumer) registryHolds(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ms, err := c.cfg.Registry.List(ctx)
	if err != nil {
		return "its models could not be listed: " + err.Error()
	}
	if len(ms) == 0 {
		return "it holds no model"
	}
	var names []string
	for i, m := range ms {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(ms)-10))
			break
		}
		names = append(names, fmt.Sprintf("%q", m.Name))
	}
	return "it holds " + strings.Join(names, ", ")
}

// unknownModel is called when records name model name (the record's
// header, or Config.Model) which the registry does not hold. Config.Model
// missing becomes a /healthz problem (Stats.NoModel) until it is found;
// each other name is logged once, with what to do.
func (c *Consumer) unknownModel(ctx context.Context, name string) {
	if c.cfg.Model != "" {
		if c.noModel.Load() != nil {
			return
		}
		nm := &noModel{since: time.Now().UTC(), holds: c.registryHolds(ctx)}
		if c.noModel.CompareAndSwap(nil, nm) {
			c.log.Error("kafka: "+c.noModelMsg(nm, -1), "topic", c.cfg.Topic, "model", c.cfg.Model)
		}
		return
	}
	// A header is as long as a producer makes it (attack run 28: a 70 KB
	// name logged whole): quoted short everywhere, and kept by that.
	q := errtext.Quote(name)
	c.badMu.Lock()
	logged := c.unknownLogged[q] || len(c.unknownLogged) >= maxUnknownLogged
	if !logged {
		if c.unknownLogged == nil {
			c.unknownLogged = map[string]bool{}
		}
		c.unknownLogged[q] = true
	}
	c.badMu.Unlock()
	if logged {
		return
	}
	holds := c.registryHolds(ctx)
	var msg string
	switch {
	case name == "":
		msg = fmt.Sprintf("records of topic %s carry no %q header and serve has no --kafka-model: they are skipped as unknown_model and not monitored (%s). Have the producer set the header to the model's name, or give serve --kafka-model NAME when every record is of one model",
			c.cfg.Topic, ModelHeader, holds)
	case registry.ValidName(name) != nil:
		msg = fmt.Sprintf("records of topic %s name model %s in their %q header, which is not a valid model name: they are skipped as unknown_model and not monitored (%s). Fix the producer's header",
			c.cfg.Topic, q, ModelHeader, holds)
	default:
		msg = fmt.Sprintf("records of topic %s name model %s in their %q header, which the registry does not hold: they are skipped as unknown_model and not monitored (%s). Push the model (normguard push, or PUT /v1/models/NAME/versions/VERSION), or fix the producer's header",
			c.cfg.Topic, q, ModelHeader, holds)
	}
	c.log.Warn("kafka: "+msg+" (logged once per model name)", "topic", c.cfg.Topic, "model", q)
}

// noModelMsg is the problem of a missing Config.Model, with the records
// skipped so far (n < 0: not said).
func (c *Consumer) noModelMsg(nm *noModel, n int64) string {
	skipped := ""
	if n >= 0 {
		skipped = fmt.Sprintf(" (%d so far)", n)
	}
	return fmt.Sprintf("--kafka-model %q names no model of the registry (%s) since %s: every record of topic %s is skipped as unknown_model%s and its offset committed, so those records are not monitored. Push the model (normguard push, or PUT /v1/models/%s/versions/VERSION), or fix --kafka-model and restart serve",
		c.cfg.Model, nm.holds, nm.since.Format(time.RFC3339), c.cfg.Topic, skipped, c.cfg.Model)
}

// knownModel is called when model name resolves: Config.Model found
// clears its problem; another name may be logged again once unknown.
func (c *Consumer) knownModel(name string) {
	if c.cfg.Model != "" {
		if nm := c.noModel.Swap(nil); nm != nil {
			c.log.Info("kafka: the registry holds --kafka-model now: its records are counted", "topic", c.cfg.Topic, "model", name, "missing_since", nm.since.Format(time.RFC3339))
		}
		return
	}
	c.badMu.Lock()
	delete(c.unknownLogged, errtext.Quote(name))
	c.badMu.Unlock()
}

// checkModel looks Config.Model up in the registry, so that a missing one
// is a problem before any record comes, and clears once it is pushed
// even when no record comes.
func (c *Consumer) checkModel(ctx context.Context) {
	if c.cfg.Model == "" {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := c.cfg.Registry.Resolve(rctx, c.cfg.Model, "")
	switch {
	case err == nil:
		c.knownModel(c.cfg.Model)
	case isNotFound(err):
		c.unknownModel(ctx, c.cfg.Model)
	default:
		c.log.Log(ctx, slog.LevelWarn, "kafka: looking up --kafka-model in the registry", "model", c.cfg.Model, "err", err)
	}
}

// unknownModelNote is the error a record skipped as unknown_model is
// logged with: the name looked up and what to do.
func (c *Consumer) unknownModelNote(name string) string {
	switch {
	case c.cfg.Model != "":
		return fmt.Sprintf("--kafka-model %q is not in the registry: push it, or fix --kafka-model", name)
	case name == "":
		return fmt.Sprintf("the record has no %q header and serve no --kafka-model: set the header in the producer", ModelHeader)
	default:
		return fmt.Sprintf("the record's %q header names %s, which the registry does not hold: push it, or fix the producer's header", ModelHeader, errtext.Quote(name))
	}
}
