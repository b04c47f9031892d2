package server

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"regexp"
	"strconv"
)

// A journal whose header line was damaged (one bit flipped in its
// "format") was recovered as the snapshot alone: every batch behind the
// header dropped though each verified under its own CRC-32C, and counted
// as batches_lost=0, vectors_lost_at_least=0 (attack run 36 F9). The
// header's generation, run and acknowledged length are read from what is
// left of it where they verify under their checksum (ackedSum covers all
// three): the journal is then known to follow the snapshot, and its
// batches are replayed as when only a batch is damaged. Otherwise the
// batches behind the header that verify are found and counted lost, each
// named.

var (
	headerGeneration = regexp.MustCompile(`"generation":([0-9]{1,20})[,}]`)
	headerRun        = regexp.MustCompile(`"run":"([0-9a-f]{16})"`)
	headerAcked      = regexp.MustCompile(`"acked":"([0-9a-f]{16}\.[0-9a-f]{8})"`)
)

// salvageHeader reads the generation, run and acknowledged length of a
// damaged journal header line (of format /3) where all three are there
// and verify under their checksum; ok is false otherwise.
func salvageHeader(line []byte) (h vectorJournalHeader, ok bool) {
	g, r, a := headerGeneration.FindSubmatch(line), headerRun.FindSubmatch(line), headerAcked.FindSubmatch(line)
	if g == nil || r == nil || a == nil {
		return h, false
	}
	gen, err := strconv.ParseUint(string(g[1]), 10, 64)
	if err != nil {
		return h, false
	}
	run, err := parseRun(string(r[1]))
	if err != nil {
		return h, false
	}
	if _, err := parseAcked(gen, run, true, string(a[1])); err != nil {
		return h, false
	}
	return vectorJournalHeader{Format: vectorJournalFormat, Generation: gen, Run: string(r[1]), Acked: string(a[1])}, true
}

// scanFrames finds the frames of data from offset from on that verify
// under their CRC-32C, stepping a byte at a time past what does not (a
// damaged length included), as the monitor store's recovery finds its
// pages.
func scanFrames(data []byte, from int) [][]byte {
	var frames [][]byte
	for off := max(from, 0); off+8 < len(data); {
		size := int(binary.LittleEndian.Uint32(data[off:]))
		if size > 0 && size <= len(data)-off-8 && data[off+8] == '{' &&
			crc32.Checksum(data[off+8:off+8+size], castagnoli) == binary.LittleEndian.Uint32(data[off+4:]) {
			frames = append(frames, data[off:off+8+size])
			off += 8 + size
			continue
		}
		off++
	}
	return frames
}

// headerLost is the damage of a journal whose header cannot be read or
// vouched for: the batches behind it that verify cannot be told to
// follow the snapshot (the header held their generation), so they are
// counted lost, each named, rather than left out of the count.
func (vw *vectorWindows) headerLost(data []byte, from int, what string) *vectorDamage {
	dmg := &vectorDamage{path: vw.path, keep: true, journalGen: vw.gen, lostBytes: int64(len(data)), lost: map[string]int64{}}
	frames := scanFrames(data, from)
	for _, fr := range frames {
		dmg.lostBatches++
		if b, err := decodeBatch(fr[8:]); err == nil {
			dmg.addLost(batchName(b))
		} else if name, rows, ok := partialBatch(fr[8:]); ok {
			dmg.addLost(name, rows)
		}
	}
	dmg.what = what + ": every observation acknowledged after the last snapshot is lost"
	if len(frames) > 0 {
		dmg.what += fmt.Sprintf("; %d batches behind the header verify, but the header held their generation, so they cannot be told "+
			"to follow the snapshot and are counted lost", len(frames))
	}
	return dmg
}
