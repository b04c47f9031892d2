package kafka

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/normguard/normguard/internal/errtext"
)

// The metadata of a commit named only the state file that committed last
// (committer.go), which is right while one replica reads a partition. With
// two, a state restored from a backup after the partition went from it to
// another replica and back found the group's offset committed by itself
// and read again what the other counted meanwhile (attack run 33 F4), or
// committed by the other and passed over what it had counted itself since
// the backup, with an info line only (F1). Each commit therefore carries
// the partition's custody: which state file took it over at which offset,
// oldest first (at most maxCustody hand-overs). A state file counted the
// offsets from where it took the partition over up to where the next one
// did (the last one: up to the group's offset).

// custodyMark follows the committing state's identity in the metadata,
// before the custody: "normguard-store:<id>;custody=<id>@<offset>,...".
// An earlier normguard reads the identity alone, and takes the commit for
// another state's (a state of this one) or its own.
const custodyMark = ";custody="

// maxCustody bounds the hand-overs a commit keeps: 32 of 32-character
// identities and their offsets stay well under the 4096 bytes of metadata
// a broker lets a commit have (offset.metadata.max.bytes).
const maxCustody = 32

// custodyEntry is a hand-over: state file store took the partition over at
// offset from.
type custodyEntry struct {
	store string
	from  int64
}

// offRange is the offsets from..to-1 of a partition.
type offRange struct{ from, to int64 }

func (r offRange) String() string { return fmt.Sprintf("%d..%d", r.from, r.to-1) }

// owedMark follows the custody in the metadata of a commit made while the
// committing state reads again, below the group's offset, what it counted
// before a backup was restored (committer.go): ";owed=<id>@<offset>", the
// offsets from there on that the custody gives state id are counted by no
// one yet (attack run 34 F2). A replica given the partition meanwhile
// reads on from the group's offset, so it reports them, and keeps the
// mark in its own commits until that state has the partition again.
const owedMark = ";owed="

// storeIDLen is the length of a state file's identity: 16 random bytes in
// lower-case hex (monitor.Monitor.StoreID). An entry naming anything else
// is not a normguard state's, and its length is bounded so that the
// metadata of a commit stays under the 4096 bytes a broker allows.
const storeIDLen = 32

// isStoreID reports whether s can be a state file's identity.
func isStoreID(s string) bool {
	if len(s) != storeIDLen {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// owing is a state reading again from offset from (the owedMark).
type owing struct {
	store string
	from  int64
}

// custodyMeta is the metadata of a commit, as parseCustody reads it.
type custodyMeta struct {
	by   string         // the committing state (ours only)
	hist []custodyEntry // its custody: nil in an earlier normguard's commit, or damaged
	owed *owing         // offsets counted by no one yet (the owedMark), if any
	ours bool           // the metadata is a normguard's
	// damaged says why a custody given (the mark present) cannot be
	// read: a normguard writes none such, so who counted what cannot be
	// told from it.
	damaged string
}

// parseCustody reads the metadata of a commit: the identity of the state
// that committed (ours: the metadata is a normguard's), its custody and
// what it owes. A custody that does not read as a normguard's (state
// identities of 32 hex digits, offsets not going back, at most maxCustody
// hand-overs, the last by the committer) is damaged (attack run 34 F3,
// F4): none of it is kept.
func parseCustody(meta string) custodyMeta {
	rest, ours := strings.CutPrefix(meta, commitMetaPrefix)
	if !ours {
		return custodyMeta{}
	}
	by, list, kept := strings.Cut(rest, custodyMark)
	if !kept {
		return custodyMeta{by: by, ours: true}
	}
	m := custodyMeta{by: by, ours: true}
	damaged := func(why string) custodyMeta {
		m.damaged = why
		return m
	}
	if !isStoreID(by) {
		return damaged("the committer is not a state file's identity (32 hex digits)")
	}
	list, owed, hasOwed := strings.Cut(list, owedMark)
	if hasOwed {
		store, at, _ := strings.Cut(owed, "@")
		from, err := strconv.ParseInt(at, 10, 64)
		if !isStoreID(store) || err != nil || from < 0 {
			return damaged(fmt.Sprintf("the offsets owed, %s, do not read as <state>@<offset>", errtext.Quote(owed)))
		}
		m.owed = &owing{store: store, from: from}
	}
	var hist []custodyEntry
	for _, e := range strings.Split(list, ",") {
		store, at, ok := strings.Cut(e, "@")
		from, err := strconv.ParseInt(at, 10, 64)
		switch {
		case !ok || err != nil || from < 0 || !isStoreID(store):
			return damaged(fmt.Sprintf("the hand-over %s does not read as <state>@<offset>, a state file's identity (32 hex digits) and an offset", errtext.Quote(e)))
		case len(hist) > 0 && from < hist[len(hist)-1].from:
			return damaged(fmt.Sprintf("the hand-over %s goes back from offset %d", errtext.Quote(e), hist[len(hist)-1].from))
		case len(hist) == maxCustody:
			return damaged(fmt.Sprintf("it keeps more than %d hand-overs", maxCustody))
		}
		hist = append(hist, custodyEntry{store: store, from: from})
	}
	if hist[len(hist)-1].store != by {
		return damaged("its last hand-over is not to the state that committed")
	}
	m.hist = hist
	return m
}

// formatCustody returns the metadata of a commit by the last state of
// hist, with the offsets owed, if any.
func formatCustody(hist []custodyEntry, owed *owing) string {
	var b strings.Builder
	b.WriteString(commitMetaPrefix)
	b.WriteString(hist[len(hist)-1].store)
	b.WriteString(custodyMark)
	for i, e := range hist {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s@%d", e.store, e.from)
	}
	if owed != nil {
		fmt.Fprintf(&b, "%s%s@%d", owedMark, owed.store, owed.from)
	}
	return b.String()
}

// takeOver returns hist with store taking the partition over at offset at:
// hand-overs at or past at are dropped (their offsets are counted again
// from at, or were lost with the log), and a last one by store already
// goes on; at most maxCustody are kept, the newest.
func takeOver(hist []custodyEntry, store string, at int64) []custodyEntry {
	out := make([]custodyEntry, 0, len(hist)+1)
	for _, e := range hist {
		if e.from < at {
			out = append(out, e)
		}
	}
	if len(out) == 0 || out[len(out)-1].store != store {
		out = append(out, custodyEntry{store: store, from: at})
	}
	if len(out) > maxCustody {
		out = out[len(out)-maxCustody:]
	}
	return out
}

// custodySplit is the offsets between a state's position and the group's
// offset, split by who counted them.
type custodySplit struct {
	mine    []offRange          // by this state: not in its windows any more
	others  []offRange          // by other states
	by      map[offRange]string // each of others' state
	unknown offRange            // before the oldest hand-over kept (empty: none)
}

// splitCustody splits the offsets pos..group-1 by hist: each hand-over's
// state counted from its offset to the next hand-over's (the last one up
// to group).
func splitCustody(hist []custodyEntry, self string, pos, group int64) custodySplit {
	s := custodySplit{by: map[offRange]string{}}
	if pos < hist[0].from {
		s.unknown = offRange{pos, min(hist[0].from, group)}
	}
	for i, e := range hist {
		end := group
		if i+1 < len(hist) {
			end = min(hist[i+1].from, group)
		}
		r := offRange{max(e.from, pos), end}
		if r.from >= r.to {
			continue
		}
		if e.store == self {
			s.mine = appendRange(s.mine, r)
			continue
		}
		if n := len(s.others); n > 0 && s.others[n-1].to == r.from && s.by[s.others[n-1]] == e.store {
			prev := s.others[n-1]
			delete(s.by, prev)
			r.from = prev.from
			s.others = s.others[:n-1]
		}
		s.others = append(s.others, r)
		s.by[r] = e.store
	}
	return s
}

// appendRange appends r to rs, joined with the last when they touch.
func appendRange(rs []offRange, r offRange) []offRange {
	if n := len(rs); n > 0 && rs[n-1].to == r.from {
		rs[n-1].to = r.to
		return rs
	}
	return append(rs, r)
}

// joinRanges names rs ("300..499, 700..899").
func joinRanges(rs []offRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// skipFrom returns the position at reached past the skips (sorted) it
// meets: reading from at, a skip starting at or before it is passed over.
func skipFrom(at int64, skips []offRange) int64 {
	for _, s := range skips {
		if s.from <= at && at < s.to {
			at = s.to
		}
	}
	return at
}

// skipOf returns the skip holding offset o, if any.
func skipOf(o int64, skips []offRange) (offRange, bool) {
	for _, s := range skips {
		if s.from <= o && o < s.to {
			return s, true
		}
	}
	return offRange{}, false
}

// outside returns the parts of r not in skips (sorted, disjoint).
func outside(r offRange, skips []offRange) []offRange {
	var out []offRange
	at := r.from
	for _, s := range skips {
		if s.to <= at || s.from >= r.to {
			continue
		}
		if s.from > at {
			out = append(out, offRange{at, s.from})
		}
		at = max(at, s.to)
	}
	if at < r.to {
		out = append(out, offRange{at, r.to})
	}
	return out
}
