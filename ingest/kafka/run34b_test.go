package kafka

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRestoredWithoutPositionReadsByCustody (attack run 34 F6): a state
// restored from a backup taken before it was given partition 0 holds no
// position for it; the custody of the group's commit (offset 7) says it
// counted 3..4 since (a 0..2 and 5..6). It resumed at the group's offset,
// and 3..4 were in no replica's windows, without a word. It reads 3..4
// again, passes a's 5..6 over, and reads on from 7.
func TestRestoredWithoutPositionReadsByCustody(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 10) // offsets 0..9
	state := stateWithID(t, c)
	mon := openState(t, state)
	self := mon.StoreID()
	mon.Close()
	a := strings.Repeat("a", 32)
	commitGroup(t, c, "g", 0, 7, kmsg.StringPtr(formatCustody([]custodyEntry{{a, 0}, {self, 3}, {a, 5}}, nil)))

	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs))
	waitRecords(t, 5, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 5 {
		t.Errorf("records %d, want 5: 3..4 read again and 7..9 (a counted 0..2 and 5..6)", st.Records)
	}
	for _, want := range []string{"counted offsets 3..4 since", "read again from 3", "offsets 5..6 were counted by another replica"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if next, err := r.mon.Offsets(Source("g", testTopic)); err != nil || next[0] != 10 {
		t.Errorf("stored position %v (%v), want 10", next, err)
	}
	r.close(t)
	at, meta := groupCommit(t, c, "g", 0)
	m := parseCustody(meta)
	if want := []custodyEntry{{a, 0}, {self, 3}, {a, 5}, {self, 7}}; at != 10 || !slices.Equal(m.hist, want) {
		t.Errorf("group's commit %d %q, want 10 with custody %v", at, meta, want)
	}
}
