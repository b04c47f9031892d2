package monitor

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// When neither meta page verifies (both zeroed or overwritten) the file
// has lost only where its tree starts: the pages themselves may be
// intact. findTree looks for the tree by reading every page, as a scan
// for a cut tree does (scanLeaves), instead of giving up on the file.
//
// A root page of the state is a leaf page whose elements are all buckets
// named as the file's top-level buckets, "meta" among them. Older roots
// stay on disk until their pages are reused, so several are found; those
// of the highest counts are walked (in salvage mode, from their own page)
// and the trees are ordered by
//   - the generation and checkpoint count its meta bucket holds (both
//     only grow: marker.go),
//   - a walk without damage before one with (the pages of an older tree
//     are reused by later ones, whose records then fail their seals),
//   - a tree whose root page is not listed free by the freelist page of
//     another clean tree (a commit frees the root before it; bbolt writes
//     free and pending pages alike),
//   - the records that verify, then the root page id.
//
// The first is taken. Which of two trees of the same counts and no
// freelist between them is the newer cannot always be told: the report
// says how many such trees there were, and that a later commit, if any,
// is lost.

// foundTree is the tree findTree chose.
type foundTree struct {
	meta       boltMeta // root, page size, pages (the file's), freelist (0: none found)
	gen, ckpts uint64   // its meta bucket's generation and checkpoint count
	trees      int      // roots found
	tied       int      // other trees of the same counts, none of them ordered before it
	damaged    bool     // its walk met damage
}

// maxRootCandidates bounds the roots walked: each walk reads the pages of
// one tree.
const maxRootCandidates = 256

// topBuckets are the names of the file's top-level buckets.
var topBuckets = [][]byte{bucketMeta, bucketRefs, bucketCkpt, bucketLog, bucketHistory, bucketLedger, bucketOffsets}

// guessPageSize returns the page size under which the most pages of the
// file carry their own id in their header (0 when none does): a meta page
// says it, and both are lost.
func guessPageSize(r io.ReaderAt, size int64) uint32 {
	const probe = 4096 // pages read per size tried
	le := binary.LittleEndian
	var hdr [boltPageHeader]byte
	best, bestHits := uint32(0), 0
	tried := map[uint32]bool{}
	for _, ps := range []uint32{uint32(os.Getpagesize()), 4096, 8192, 16384, 32768, 65536, 512, 1024, 2048} {
		if tried[ps] || ps < 512 || ps > 1<<20 {
			continue
		}
		tried[ps] = true
		hits := 0
		for id := int64(2); id < size/int64(ps) && id < 2+probe; id++ {
			if _, err := r.ReadAt(hdr[:], id*int64(ps)); err != nil {
				break
			}
			switch le.Uint16(hdr[8:]) {
			case boltBranchFlag, boltLeafFlag, boltFreelistFlag:
				if le.Uint64(hdr[:]) == uint64(id) {
					hits++
				}
			}
		}
		if hits > bestHits {
			best, bestHits = ps, hits
		}
	}
	return best
}

// treeCandidate is a root page found and what its walk reached.
type treeCandidate struct {
	root       uint64
	gen, ckpts uint64
	damaged    bool
	verified   int
	reached    []byte // the walker's page states
	freelists  []uint64
	superseded bool
}

// findTree finds the newest tree of a state file whose meta pages are both
// lost (see above); its meta's root is 0 when no root page is left. ok is
// false when no page carries its own id under any page size.
func findTree(r io.ReaderAt, size int64) (ft *foundTree, ok bool) {
	ps := guessPageSize(r, size)
	if ps == 0 {
		return nil, false
	}
	pages := uint64(size) / uint64(ps)
	le := binary.LittleEndian
	var hdr [boltPageHeader]byte
	var roots []uint64
	var counts [][2]uint64        // each root's generation and checkpoint count
	free := map[uint64][]uint64{} // freelist page: the ids it lists
	var buf []byte
	for id := uint64(2); id < pages; id++ {
		if _, err := r.ReadAt(hdr[:], int64(id*uint64(ps))); err != nil {
			break
		}
		if le.Uint64(hdr[:]) != id {
			continue
		}
		flags, count, overflow := le.Uint16(hdr[8:]), le.Uint16(hdr[10:]), uint64(le.Uint32(hdr[12:]))
		if overflow >= pages-id {
			continue
		}
		n := min((1+overflow)*uint64(ps), 1<<20)
		switch {
		case flags == boltFreelistFlag:
			if ids, ok := readFreeIDs(r, id, n, count, ps); ok {
				free[id] = ids
			}
		case flags == boltLeafFlag && count > 0 && int(count) <= len(topBuckets) && len(roots) < maxRootCandidates:
			buf = slices.Grow(buf[:0], int(n))[:n]
			if _, err := r.ReadAt(buf, int64(id*uint64(ps))); err != nil && err != io.EOF {
				continue
			}
			if isRootPage(buf, count, n) {
				roots = append(roots, id)
				gen, ckpts := rootCounts(r, buf, count, n, ps)
				counts = append(counts, [2]uint64{gen, ckpts})
			}
		}
	}
	if len(roots) == 0 {
		// No root left: the leaf pages are scanned as for a cut tree.
		return &foundTree{meta: boltMeta{ok: true, pageSize: ps, pgid: pages}}, true
	}
	// Only the roots of the highest counts are walked (each walk reads a
	// whole tree): the counts order the trees first.
	top := counts[0]
	for _, c := range counts {
		if c[0] > top[0] || c[0] == top[0] && c[1] > top[1] {
			top = c
		}
	}
	cands := make([]*treeCandidate, 0, len(roots))
	for i, root := range roots {
		if counts[i] == top {
			cands = append(cands, walkCandidate(r, ps, pages, uint64(size), root))
		}
	}
	freeIDs := make([]uint64, 0, len(free))
	for id := range free {
		freeIDs = append(freeIDs, id)
	}
	sort.Slice(freeIDs, func(i, j int) bool { return freeIDs[i] < freeIDs[j] })
	// The freelist pages each tree is consistent with: none of its pages
	// (the freelist page itself aside) listed free.
	for _, c := range cands {
		for _, fid := range freeIDs {
			if c.reached[fid] != pageUnseen {
				continue
			}
			ok := true
			for _, p := range free[fid] {
				if p < uint64(len(c.reached)) && c.reached[p] != pageUnseen {
					ok = false
					break
				}
			}
			if ok {
				c.freelists = append(c.freelists, fid)
			}
		}
	}
	for _, a := range cands {
		for _, b := range cands {
			if a == b || b.damaged {
				continue
			}
			for _, fid := range b.freelists {
				if slices.Contains(free[fid], a.root) {
					a.superseded = true
				}
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		switch {
		case a.gen != b.gen:
			return a.gen > b.gen
		case a.ckpts != b.ckpts:
			return a.ckpts > b.ckpts
		case a.damaged != b.damaged:
			return !a.damaged
		case a.superseded != b.superseded:
			return !a.superseded
		case a.verified != b.verified:
			return a.verified > b.verified
		}
		return a.root > b.root
	})
	best := cands[0]
	ft = &foundTree{gen: best.gen, ckpts: best.ckpts, trees: len(roots), damaged: best.damaged,
		meta: boltMeta{ok: true, pageSize: ps, root: best.root, pgid: pages}}
	if len(best.freelists) > 0 {
		ft.meta.freelist = best.freelists[len(best.freelists)-1]
	}
	for _, c := range cands[1:] {
		if c.gen == best.gen && c.ckpts == best.ckpts && c.damaged == best.damaged && c.superseded == best.superseded {
			ft.tied++
		}
	}
	return ft, true
}

// isRootPage says whether the leaf page in buf (n bytes, count elements)
// holds only buckets named as the file's top-level ones, "meta" among
// them, each once.
func isRootPage(buf []byte, count uint16, n uint64) bool {
	if uint64(boltPageHeader+int(count)*boltElementSize) > uint64(len(buf)) {
		return false
	}
	els, bad := elements(buf, false, count, n)
	seen := map[string]bool{}
	for i, e := range els {
		if bad[i] != "" || e.flags != boltBucketLeafFlag || e.end > uint64(len(buf)) {
			return false
		}
		name := buf[e.key:e.keyEnd]
		if !slices.ContainsFunc(topBuckets, func(t []byte) bool { return string(t) == string(name) }) || seen[string(name)] {
			return false
		}
		seen[string(name)] = true
	}
	return seen[string(bucketMeta)]
}

// rootCounts reads the generation and checkpoint count from the meta
// bucket of the root page in buf (n bytes, count elements): held inline
// in its value, or on its own leaf page. What cannot be read counts 0.
func rootCounts(r io.ReaderAt, buf []byte, count uint16, n uint64, ps uint32) (gen, ckpts uint64) {
	le := binary.LittleEndian
	els, bad := elements(buf, false, count, n)
	for i, e := range els {
		if bad[i] != "" || string(buf[e.key:e.keyEnd]) != string(bucketMeta) || e.end-e.keyEnd < boltBucketHeader {
			continue
		}
		v := buf[e.keyEnd:e.end]
		page := v[boltBucketHeader:] // inline
		if id := le.Uint64(v); id != 0 {
			page = make([]byte, ps)
			if _, err := r.ReadAt(page, int64(id*uint64(ps))); err != nil || le.Uint64(page) != id {
				return 0, 0
			}
		}
		if len(page) < boltPageHeader || le.Uint16(page[8:]) != boltLeafFlag {
			return 0, 0
		}
		mc := le.Uint16(page[10:])
		if boltPageHeader+int(mc)*boltElementSize > len(page) {
			return 0, 0
		}
		mels, mbad := elements(page, false, mc, uint64(len(page)))
		for j, me := range mels {
			if mbad[j] != "" || me.end-me.keyEnd != 8 {
				continue
			}
			switch v := page[me.keyEnd:me.end]; string(page[me.key:me.keyEnd]) {
			case string(keyGeneration):
				gen = binary.BigEndian.Uint64(v)
			case string(keyCheckpoints):
				ckpts = binary.BigEndian.Uint64(v)
			}
		}
	}
	return gen, ckpts
}

// readFreeIDs reads the ids listed by the freelist page id (n bytes long,
// count from its header), as far as the page holds them.
func readFreeIDs(r io.ReaderAt, id, n uint64, count uint16, ps uint32) ([]uint64, bool) {
	le := binary.LittleEndian
	b := make([]byte, n)
	got, err := r.ReadAt(b, int64(id*uint64(ps)))
	if err != nil && err != io.EOF {
		return nil, false
	}
	b = b[:got]
	first, k := uint64(boltPageHeader), uint64(count)
	if count == boltFreelistBig {
		if len(b) < boltPageHeader+8 {
			return nil, false
		}
		k, first = le.Uint64(b[boltPageHeader:]), first+8
	}
	k = min(k, (uint64(len(b))-min(first, uint64(len(b))))/8)
	ids := make([]uint64, 0, k)
	for i := uint64(0); i < k; i++ {
		ids = append(ids, le.Uint64(b[first+8*i:]))
	}
	return ids, true
}

// walkCandidate walks the tree of root page root in salvage mode and notes
// its counts, whether it met damage and how many records verify.
func walkCandidate(r io.ReaderAt, ps uint32, pages, fileEnd, root uint64) *treeCandidate {
	c := &treeCandidate{root: root}
	w := newPageWalker(r, uint64(ps), pages, fileEnd)
	w.salvage = true
	w.seen[0], w.seen[1] = pageReached, pageReached
	// Seals are verified as the walk reaches each value, not kept: a /1
	// file (whose format key may come after its values) has none, so its
	// values count as verified whatever the seals say.
	v1 := false
	values, sealsOK := 0, 0
	check := func(top, sub, k, v []byte) {
		values++
		if _, err := unseal(top, sub, k, v); err == nil {
			sealsOK++
		}
	}
	w.visit = func(path [][]byte, k, v []byte) {
		switch {
		case len(path) == 1 && string(path[0]) == string(bucketMeta):
			switch string(k) {
			case string(keyGeneration):
				if len(v) == 8 {
					c.gen = binary.BigEndian.Uint64(v)
				}
			case string(keyCheckpoints):
				if len(v) == 8 {
					c.ckpts = binary.BigEndian.Uint64(v)
				}
			case string(keyFormat):
				v1 = string(v) == storeFormatV1
			}
		case len(path) == 1:
			check(path[0], nil, k, v)
		case len(path) == 2:
			check(path[0], path[1], k, v)
		}
	}
	if err := w.tree(nil, root, 0); err != nil || w.noted > 0 {
		c.damaged = true
	}
	c.verified = sealsOK
	switch {
	case v1:
		c.verified = values
	case sealsOK < values:
		c.damaged = true
	}
	c.reached = w.seen
	return c
}

// describe says how the tree was found, for the report.
func (ft *foundTree) describe() string {
	if ft.meta.root == 0 {
		return "neither meta page verifies, and reading every page found no root page of the state: its leaf pages were scanned for the records that verify; " +
			"rows of the file's last commits may be lost and cannot be counted"
	}
	s := fmt.Sprintf("neither meta page verifies: the state's tree was found by reading every page (root page %d of %d trees found, "+
		"the newest by the file's generation %d and checkpoint count %d", ft.meta.root, ft.trees, ft.gen, ft.ckpts)
	if ft.tied > 0 {
		s += fmt.Sprintf("; %d other tree(s) of the same counts could not be ordered against it, the one holding the most records was taken", ft.tied)
	}
	if ft.damaged {
		s += "; it is damaged too"
	}
	return s + "); a commit after it, if there was one, is lost and its rows cannot be counted"
}
