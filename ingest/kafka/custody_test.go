package kafka

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/normguard/normguard/monitor"
)

// TestCustodyMetadata: the custody a commit carries reads back as written;
// metadata of an earlier normguard (the state's identity alone) reads as
// the identity without custody, as before; a custody that does not read
// as a normguard's is damaged, none of it kept (attack run 34 F3: an
// entry of any length was kept and committed again; F4: damaged was
// taken for no custody); a hand-over drops the ones at or past its offset
// and keeps the newest maxCustody, within the 4096 bytes a broker lets a
// commit's metadata have.
func TestCustodyMetadata(t *testing.T) {
	a, b := strings.Repeat("a", 32), strings.Repeat("b", 32)
	hist := []custodyEntry{{a, 0}, {b, 500}, {a, 700}}
	for _, owed := range []*owing{nil, {b, 550}} {
		m := parseCustody(formatCustody(hist, owed))
		if m.by != a || !m.ours || !slices.Equal(m.hist, hist) || m.damaged != "" || (m.owed == nil) != (owed == nil) || (owed != nil && *m.owed != *owed) {
			t.Errorf("read back %+v, want %q %v owed %v", m, a, hist, owed)
		}
	}
	if m := parseCustody(commitMetaPrefix + b); m.by != b || m.hist != nil || !m.ours || m.damaged != "" {
		t.Errorf("an earlier normguard's: got %+v, want %q, no custody, not damaged", m, b)
	}
	var tooMany []string
	for i := range maxCustody + 1 {
		tooMany = append(tooMany, fmt.Sprintf("%032x@%d", i, i))
	}
	last := fmt.Sprintf("%032x", maxCustody)
	for _, tc := range []struct{ name, meta, why string }{
		{"offsets going back", commitMetaPrefix + a + custodyMark + a + "@5," + b + "@3," + a + "@9", "goes back"},
		{"last not the committer", commitMetaPrefix + a + custodyMark + a + "@5," + b + "@7", "last hand-over"},
		{"not a number", commitMetaPrefix + a + custodyMark + a + "@x", "does not read"},
		{"a trailing comma", commitMetaPrefix + b + custodyMark + a + "@0," + b + "@400,", "does not read"},
		{"a negative offset", commitMetaPrefix + b + custodyMark + a + "@0," + b + "@-400", "does not read"},
		{"a store of 6000 characters", commitMetaPrefix + a + custodyMark + strings.Repeat("Q", 6000) + "@0," + a + "@200", "does not read"},
		{"a store not hex", commitMetaPrefix + a + custodyMark + strings.Repeat("Z", 32) + "@0," + a + "@200", "does not read"},
		{"a committer not a store", commitMetaPrefix + "ZZ" + custodyMark + a + "@0,ZZ@400", "committer"},
		{"more hand-overs than kept", commitMetaPrefix + last + custodyMark + strings.Join(tooMany, ","), "more than"},
		{"owed not a store", commitMetaPrefix + a + custodyMark + a + "@0" + owedMark + "Q@3", "owed"},
	} {
		m := parseCustody(tc.meta)
		if m.hist != nil || m.owed != nil || !m.ours || !strings.Contains(m.damaged, tc.why) {
			t.Errorf("%s: got %+v, want damaged (%q), nothing kept", tc.name, m, tc.why)
		}
	}
	if got := takeOver(hist, b, 600); !slices.Equal(got, []custodyEntry{{a, 0}, {b, 500}}) {
		t.Errorf("b taking over at 600: %v, want a@0, b@500 (a's 700 dropped, b's 500 going on)", got)
	}
	var long []custodyEntry
	for i := range 3 * maxCustody {
		long = takeOver(long, fmt.Sprintf("%032x", i), int64(i)*1_000_000_000)
	}
	if len(long) != maxCustody || long[len(long)-1].from != int64(3*maxCustody-1)*1_000_000_000 {
		t.Errorf("%d hand-overs kept ending at %v, want the newest %d", len(long), long[len(long)-1], maxCustody)
	}
	if n := len(formatCustody(long, nil)); n > 2048 {
		t.Errorf("metadata of %d hand-overs is %d bytes, want well under 4096", maxCustody, n)
	}
}

// TestSplitCustody: the offsets between a state's position and the
// group's offset, split by the custody.
func TestSplitCustody(t *testing.T) {
	const a, b, c = "a", "b", "c"
	for _, tc := range []struct {
		name         string
		hist         []custodyEntry
		pos, group   int64
		mine, others []offRange
		unknown      offRange
	}{
		{"restored, b took over", []custodyEntry{{a, 0}, {b, 500}}, 300, 700, []offRange{{300, 500}}, []offRange{{500, 700}}, offRange{}},
		{"a, b, a", []custodyEntry{{a, 0}, {b, 500}, {a, 700}}, 300, 900, []offRange{{300, 500}, {700, 900}}, []offRange{{500, 700}}, offRange{}},
		{"b then c", []custodyEntry{{a, 0}, {b, 500}, {c, 600}}, 300, 700, []offRange{{300, 500}}, []offRange{{500, 600}, {600, 700}}, offRange{}},
		{"older than kept", []custodyEntry{{b, 400}, {a, 600}}, 300, 700, []offRange{{600, 700}}, []offRange{{400, 600}}, offRange{300, 400}},
		{"position past a's first range", []custodyEntry{{a, 0}, {b, 500}}, 550, 700, nil, []offRange{{550, 700}}, offRange{}},
	} {
		s := splitCustody(tc.hist, a, tc.pos, tc.group)
		if !slices.Equal(s.mine, tc.mine) || !slices.Equal(s.others, tc.others) || s.unknown != tc.unknown {
			t.Errorf("%s: mine %v, others %v, unknown %v; want %v, %v, %v", tc.name, s.mine, s.others, s.unknown, tc.mine, tc.others, tc.unknown)
		}
	}
}

// TestCustodyOlderThanKept: a state whose position is older than the
// custody the group's commit keeps cannot tell who counted the offsets
// before it: they are not read, logged and a problem naming them; those
// another state counted are passed over, as ever.
func TestCustodyOlderThanKept(t *testing.T) {
	t.Parallel() // a cluster and a state of its own
	fx := newFixture(t, 10)
	c := newCluster(t)
	rows := produceRows(t, compressedProducer(t, c))
	rows(0, 10)
	other := strings.Repeat("0", 32)
	state := stateWithID(t, c, monitor.Offset{Source: Source("g", testTopic), Partition: 0, Next: 5})
	commitGroup(t, c, "g", 0, 9, kmsg.StringPtr(formatCustody([]custodyEntry{{other, 7}}, nil)))
	var logs logBuffer
	r := startWith(t, c, fx, state, logTo(&logs))
	waitRecords(t, 1, r)
	st := settle(t, r, 500*time.Millisecond)
	if st.Records != 1 {
		t.Errorf("records %d, want offset 9 only", st.Records)
	}
	for _, want := range []string{"begins at offset 7", "cannot be told who counted offsets 5..6", "not read here"} {
		if !strings.Contains(st.Problem(), want) {
			t.Errorf("problem %q lacks %q", st.Problem(), want)
		}
	}
	if want := "offsets 7..8 were counted by another replica of the group (state store " + other; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}
