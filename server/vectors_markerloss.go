package server

import (
	"maps"
	"slices"
)

// vectorShortfall is what a recovered vector state lacks of what its
// marker counted: a floor of what the recovery lost, as the monitor
// store counts a deleted store's rows against its marker.
type vectorShortfall struct {
	// Vectors is, per marker key ("model@version column producer"), the
	// marker's vectors minus those the recovered state held at the
	// marker's acknowledged length, where that is more than 0; kept is
	// what it held there.
	Vectors, kept map[string]int64
	// Bytes is the marker's acknowledged journal bytes (of its frames,
	// the header left out: counted) minus those of the frames applied up
	// to there.
	Bytes, counted int64
}

// total is the vectors the shortfall counts.
func (sf *vectorShortfall) total() int64 {
	var n int64
	for _, v := range sf.Vectors {
		n += v
	}
	return n
}

// names is the shortfall's marker keys in order.
func (sf *vectorShortfall) names() []string { return slices.Sorted(maps.Keys(sf.Vectors)) }

// markerShortfall counts what the state recovered from dmg lacks of what
// the marker read at start counted; nil when there is no marker to count
// against (none, or an unreadable one) or the snapshot kept is newer than
// it (a fold into a new snapshot stopped before the marker followed), where
// the marker's counts do not bound what the state lacks. It runs in
// recoverVectors once vw.m holds the recovered state (empty when the
// snapshot was not kept and its journal not replayed onto an empty state:
// replayLostSnapshot). The caller holds vw.mu.
//
// It is a floor: per producer the marker's vectors minus the state's at
// the marker's acknowledged length (a frame the state holds past it is
// not counted: the marker never saw it), and the marker's acknowledged
// bytes minus the bytes of the frames kept up to there. Observations
// acknowledged after the marker's last update (it is written every
// markEvery bytes of journal) were lost too and cannot be counted, and a
// window that closed before it took the vectors it held out of its count.
// A deleted or emptied journal is thereby counted as losing at least what
// the marker counted beyond the snapshot, where it read as 0 lost
// (attack run 30 F11).
func (vw *vectorWindows) markerShortfall(dmg *vectorDamage) *vectorShortfall {
	mk := vw.marker
	if mk == nil || dmg.markerGone || dmg.keep && vw.gen > mk.Generation {
		return nil
	}
	// The state at the marker's acknowledged length: of the snapshot
	// kept, or of the journal replayed onto an empty state in place of a
	// lost one (replayLostSnapshot), and the journal read up to there.
	read := dmg.keep || dmg.replayed != nil
	have := dmg.atMark
	if have == nil || !read {
		have = vw.vectorCounts()
	}
	head, _ := journalHead(mk.ID, mk.Generation, 0, 0)
	counted := max(mk.Acked-int64(len(head)), 0)
	sf := &vectorShortfall{Vectors: map[string]int64{}, kept: have, Bytes: counted, counted: counted}
	if read {
		sf.Bytes -= dmg.keptAtMark // 0 unless a journal of the marker's generation was read
	}
	sf.Bytes = max(sf.Bytes, 0)
	for n, v := range mk.Vectors {
		if d := v - have[n]; d > 0 {
			sf.Vectors[n] = d
		}
	}
	return sf
}
