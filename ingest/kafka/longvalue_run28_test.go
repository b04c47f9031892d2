package kafka

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/monitor"
)

// TestLongValueQuotedShort (attack run 28 F3): a bad value was quoted
// whole in the record's error, which the consumer logs (once a second):
// a 20 MB string in a numeric column made a 20 MB log line. The error
// quotes a short prefix and the length, whatever the kind of bad value.
func TestLongValueQuotedShort(t *testing.T) {
	long := strings.Repeat("7", 1<<20)
	for _, value := range []string{
		`{"x": "` + strings.Repeat("a", 1<<20) + `"}`,  // text, not a number
		`{"x": "-` + strings.Repeat("9", 1<<20) + `"}`, // text, infinite
		`{"x": 1` + long + `}`,                         // a literal past float64
	} {
		r := newRows(decodeFields)
		err := r.add([]byte(value), time.Time{})
		var re *rowError
		if !errors.As(err, &re) || re.reason != ReasonWrongType {
			t.Fatalf("%.40s...: got %v, want wrong_type", value, err)
		}
		if n := len(re.Error()); n > 200+errtext.MaxQuoted {
			t.Errorf("%.40s...: the error is %d bytes long; want the value quoted short: %.300s", value, n, re.Error())
		}
		if !strings.Contains(re.Error(), "bytes)") {
			t.Errorf("%.40s...: the error does not say the value's length: %.300s", value, re.Error())
		}
	}
}

// TestOverBudgetIsAProblem (attack run 28 note): records whose rows the
// monitor refuses (the model's window state at --state-budget) were
// counted and logged, their offsets committed, with /healthz "ok" while
// every record was dropped. It is a problem naming the model, the rows
// dropped and what to do, until a batch of the model is stored again.
func TestOverBudgetIsAProblem(t *testing.T) {
	c := newCluster(t)
	fx := newFixture(t, 1)
	prod := manualProducer(t, c)
	mon, err := monitor.Open(filepath.Join(t.TempDir(), "b.db"), monitor.Options{Window: 1000 * time.Hour, EvalInterval: time.Hour,
		FlushInterval: time.Millisecond, MaxModelBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the replica (cleanups run last first): closed while the
	// consumer still stored a poll, it stopped it with "monitor closed"
	// (CI).
	t.Cleanup(func() { mon.Close() })
	r := startWith(t, c, fx, filepath.Join(t.TempDir(), "m.db"), func(cfg *Config) { cfg.Monitor = mon })
	send := produceRows(t, prod)
	var st Stats
	waitFor(t, 30*time.Second, func() bool {
		send(0, 200)
		st = r.cons.Stats()
		return st.Bad[ReasonRefused] > 0
	}, func() string { return fmt.Sprintf("no row refused: %+v", st.Bad) })
	waitFor(t, 10*time.Second, func() bool {
		st = r.cons.Stats()
		p := st.Problem()
		return strings.Contains(p, `rows of model "`+testModel+`"`) && strings.Contains(p, "refused by the monitor") && strings.Contains(p, "Raise --state-budget")
	}, func() string { return fmt.Sprintf("problem %q", st.Problem()) })
	r.cons.noteRefused(testModel, 0, nil)
	if p := r.cons.Stats().OverBudget; len(p) != 0 {
		t.Errorf("after a stored batch: %v; want no problem", p)
	}
}
