package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/internal/regular"
)

// A vector snapshot that is missing or unreadable (deleted, emptied, its
// checksum edited) once made --state-recover throw the whole journal
// away with it, every batch of which verified: 0 of 1,000 acknowledged
// vectors kept (attack run 32 F4). The journal of the generation the
// snapshot named holds every batch acknowledged since that snapshot, so
// it is replayed onto an empty state where the generation it names shows
// that it is that journal, and only what the snapshot held is lost.

// journalRead is what replay read of a journal it left as it is (read
// set): the batches applied, and what the state held at the marker's
// acknowledged length (vectorDamage.atMark, keptAtMark).
type journalRead struct {
	gen        uint64
	batches    int
	atMark     map[string]int64
	keptAtMark int64
}

// replayLostSnapshot replays the journal's batches that verify onto an
// empty state in place of a snapshot that is missing or unreadable (dmg,
// keep false), when the journal's generation shows it holds every batch
// acknowledged since that snapshot:
//
//   - with a marker, the journal is of the marker's generation: it
//     followed the snapshot the marker names (what that snapshot held is
//     then counted lost against the marker by markerShortfall);
//   - without one (none, or unreadable), the journal is of generation 0,
//     whose snapshot is written empty before the first batch is
//     journaled: the journal holds every acknowledged vector.
//
// Otherwise (no journal, no header that reads, another generation) the
// state stays empty and dmg.notReplayed says why. A journal that is
// damaged or an older copy itself is recovered as when the snapshot
// verifies: its batches that verify are kept and its losses added to
// dmg. The journal is left as it is (the caller writes the recovered
// state as a new snapshot and journal); an error other than damage (a
// registry that fails, a version it lacks) is returned. The caller holds
// vw.mu and has kept a copy of the damaged files.
func (vw *vectorWindows) replayLostSnapshot(ctx context.Context, cache *transformerCache, dmg *vectorDamage) error {
	vw.m = map[vectorKey]*vectorProducer{}
	jb := filepath.Base(vw.journalPath())
	data, err := regular.ReadFile(vw.journalPath())
	if errors.Is(err, fs.ErrNotExist) {
		dmg.notReplayed = "its journal " + jb + " is missing"
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", jb, err)
	}
	var h vectorJournalHeader
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 || json.Unmarshal(data[:nl], &h) != nil || (h.Format != vectorJournalFormat && h.Format != vectorJournalFormat2 && h.Format != vectorJournalFormat1) {
		dmg.notReplayed = fmt.Sprintf("its journal %s has no %s header (it starts %s, %d bytes)", jb, vectorJournalFormat, errtext.QuoteBytes(data[:min(len(data), 40)]), len(data))
		return nil
	}
	mk := vw.marker
	dmg.journalGen = max(dmg.journalGen, h.Generation)
	if mk != nil {
		dmg.journalGen = max(dmg.journalGen, mk.Generation)
	}
	switch {
	case mk != nil && h.Generation != mk.Generation:
		dmg.notReplayed = fmt.Sprintf("its journal %s is of generation %d, but %s: it is not the journal that followed the lost snapshot, "+
			"so its batches cannot be told from those the snapshot held", jb, h.Generation, mk.describe(vw.path))
		return nil
	case mk == nil && h.Generation != 0:
		dmg.notReplayed = fmt.Sprintf("its journal %s is of generation %d and no marker tells which snapshot it followed, "+
			"so its batches cannot be told from those the snapshot held", jb, h.Generation)
		return nil
	}
	vw.gen, vw.snapshotted = h.Generation, false
	read := &journalRead{gen: h.Generation}
	err = vw.replay(ctx, cache, read)
	var jdmg *vectorDamage
	if errors.As(err, &jdmg) {
		// The journal is damaged too, or an older copy: its batches that
		// verify are applied (vw.m), its losses added to the snapshot's.
		dmg.what += "; and " + jdmg.what
		dmg.lostBytes += jdmg.lostBytes
		dmg.lostBatches += jdmg.lostBatches
		if dmg.lost == nil {
			dmg.lost = map[string]int64{}
		}
		for n, rows := range jdmg.lost {
			dmg.addLost(n, rows)
		}
		dmg.stale = dmg.stale || jdmg.stale
		dmg.markerGone = dmg.markerGone || jdmg.markerGone
		if dmg.marker == nil {
			dmg.marker = jdmg.marker
		}
		read.batches, read.atMark, read.keptAtMark = len(jdmg.frames), jdmg.atMark, jdmg.keptAtMark
		err = nil
	}
	if err != nil {
		vw.m = map[vectorKey]*vectorProducer{}
		return err
	}
	dmg.replayed, dmg.atMark, dmg.keptAtMark = read, read.atMark, read.keptAtMark
	return nil
}

// logLostSnapshot logs, after a recovery from a snapshot that was missing
// or unreadable (dmg, keep false), what became of the windows it held and
// of its journal; short is what the marker counted that the recovered
// state lacks (nil: no marker to count against), kept the copies of the
// damaged files kept aside.
func logLostSnapshot(log *slog.Logger, dmg *vectorDamage, short *vectorShortfall, kept []string) {
	how := "unreadable"
	if dmg.missing {
		how = "missing"
	}
	lost := []any{"vectors_lost_at_least", "unknown: there is no marker to count them against"}
	if short != nil {
		lost = []any{"vectors_lost_at_least", short.total()}
	}
	r := dmg.replayed
	switch {
	case r == nil:
		log.Warn("vector state recovery: the snapshot was "+how+" and its journal was not replayed ("+dmg.notReplayed+"), "+
			"so every open window they held is lost; the copies kept aside hold what is left of them", append([]any{"copies", kept}, lost...)...)
	case r.gen == 0:
		log.Warn(fmt.Sprintf("vector state recovery: the snapshot was %s; the %d batches of its journal that verify (generation 0) were "+
			"replayed onto an empty state: a snapshot of generation 0 is written empty before the first batch is journaled, so the "+
			"journal held every acknowledged vector", how, r.batches), append([]any{"copies", kept}, lost...)...)
	default:
		log.Warn(fmt.Sprintf("vector state recovery: the snapshot was %s; the %d batches of its journal that verify (generation %d, "+
			"every batch acknowledged since the snapshot) were replayed onto an empty state; the windows the snapshot held (the vectors "+
			"acknowledged before it) are lost", how, r.batches, r.gen), append([]any{"copies", kept}, lost...)...)
	}
}
