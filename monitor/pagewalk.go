package monitor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// The B+tree of a bbolt file, as go.etcd.io/bbolt writes it
// (internal/common/page.go, bucket.go). Every page starts with a 16-byte
// header:
//
//	id uint64, flags uint16, count uint16, overflow uint32
//
// and spans 1+overflow pages. A branch page then holds count elements of
// 16 bytes (pos uint32, ksize uint32, child page id uint64), a leaf page
// count elements of 16 bytes (flags uint32, pos uint32, ksize uint32,
// vsize uint32); pos is counted from the element itself, the key follows
// at pos and, in a leaf, the value right after the key. A leaf element
// with flag 1 is a bucket: its value is the bucket's root page id and
// sequence (8 bytes each), then, when the root id is 0, the bucket's only
// page inline (a leaf page, header and elements, holding no bucket). A
// freelist page holds count page ids (8 bytes each); a count of 0xFFFF
// means the real count is the first id's place.
//
// bbolt trusts all of this: a damaged count, position, overflow or page id
// sends it reading past the page, past the map, or round in circles, or
// has it allocate what a damaged count says (an attack run saw one flipped
// bit in a leaf page take 17 GB). pageWalker checks every page a reader can
// reach before bbolt maps the file. It reads the file with ReadAt, one page
// at a time, and keeps one byte per page in use.
const (
	boltBranchFlag     = 0x01
	boltLeafFlag       = 0x02
	boltBucketLeafFlag = 0x01 // leaf element flag: the value is a bucket
	boltPageHeader     = 16
	boltElementSize    = 16
	boltBucketHeader   = 16
	boltFreelistBig    = 0xFFFF
	// maxTreeDepth bounds the levels from the root bucket's page down to
	// a leaf, buckets within buckets included. bbolt's trees of this
	// store are 2 to 10 levels deep (a page holds at least 2 keys, and a
	// bucket sits in another at most twice); a deeper walk is a damaged
	// file.
	maxTreeDepth = 64
	// maxSalvageNotes bounds the skipped pages a salvage names.
	maxSalvageNotes = 5
)

// page states in pageWalker.seen.
const (
	pageUnseen   = 0
	pageReached  = 1 // a meta, freelist, branch or leaf page
	pageFreeList = 2 // listed free by the freelist
)

// pageWalker walks the B+tree of a bbolt file from its meta's root bucket.
// In strict mode (checkFile) the first damaged page stops the walk with a
// *pageDamage. In salvage mode (salvage) a damaged page, or a leaf
// element out of its page, is skipped and noted, the walk goes on with
// the rest, and every value reached is passed to visit.
type pageWalker struct {
	r        io.ReaderAt
	pageSize uint64
	inUse    uint64 // pages in use: the meta's high water mark
	// metaPages is the meta's high water mark, where inUse is less
	// in salvage mode: the pages a truncated file still holds.
	metaPages uint64
	fileEnd   uint64 // bytes the file holds
	seen      []byte // a page state per page in use
	salvage   bool
	// visit receives each value (not bucket) reached in salvage mode:
	// the names of its buckets from the top, its key and value (copies).
	visit func(path [][]byte, k, v []byte)
	// noted and notes: in salvage mode, what was skipped (the first
	// maxSalvageNotes of noted).
	noted int
	notes []string
	// hdr and bufs are reused for reading: a page header, and a page at
	// each depth of the walk (a page's buffer is in use while the walk
	// is below it).
	hdr  [boltPageHeader]byte
	bufs [][]byte
}

// pageDamage is a damaged page found by the walk.
type pageDamage struct {
	page uint64
	path [][]byte // the bucket the page belongs to (nil: the root bucket)
	kind string   // "the freelist", "a meta page"; "": a page of bucket path
	what string
}

func (e *pageDamage) Error() string {
	if e.kind != "" {
		return fmt.Sprintf("page %d (%s) is damaged: %s", e.page, e.kind, e.what)
	}
	return fmt.Sprintf("page %d (of %s) is damaged: %s", e.page, bucketName(e.path), e.what)
}

// bucketName names a bucket path for messages.
func bucketName(path [][]byte) string {
	if len(path) == 0 {
		return "the file's root bucket"
	}
	names := make([]string, len(path))
	for i, p := range path {
		names[i] = fmt.Sprintf("%q", p)
	}
	return "bucket " + strings.Join(names, "/")
}

func newPageWalker(r io.ReaderAt, pageSize, inUse, fileEnd uint64) *pageWalker {
	return &pageWalker{r: r, pageSize: pageSize, inUse: inUse, metaPages: inUse, fileEnd: fileEnd, seen: make([]byte, inUse)}
}

// damage returns the error of a damaged page, or in salvage mode notes it
// and returns nil.
func (w *pageWalker) damage(page uint64, path [][]byte, format string, args ...any) error {
	d := &pageDamage{page: page, path: path, what: fmt.Sprintf(format, args...)}
	if !w.salvage {
		return d
	}
	w.noted++
	if len(w.notes) < maxSalvageNotes {
		w.notes = append(w.notes, d.Error())
	}
	return nil
}

// readAt reads n bytes at byte off of page id into buf (grown when it
// is too short). A read past the file's end is damage (a truncated file
// in salvage mode).
func (w *pageWalker) readAt(id, off, n uint64, buf []byte) ([]byte, error) {
	start := id*w.pageSize + off
	if start+n > w.fileEnd {
		return nil, fmt.Errorf("it ends past the end of the file (%d bytes)", w.fileEnd)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := w.r.ReadAt(buf, int64(start)); err != nil {
		return nil, fmt.Errorf("reading it failed: %v", err)
	}
	return buf, nil
}

// mark records pages id to id+overflow as reached (state) and fails when
// one of them was reached before: a cycle, or two pages overlapping.
func (w *pageWalker) mark(id uint64, overflow uint32, state byte) (uint64, bool) {
	for p := id; p <= id+uint64(overflow); p++ {
		if w.seen[p] != pageUnseen {
			return p, false
		}
	}
	for p := id; p <= id+uint64(overflow); p++ {
		w.seen[p] = state
	}
	return 0, true
}

// header reads and checks the header of page id: its id, flags among
// want, and its overflow within the pages in use. It returns the count and
// the page's size in bytes, and marks its pages reached.
func (w *pageWalker) header(path [][]byte, id uint64, want ...uint16) (count uint16, size uint64, err error) {
	if id < 2 || id >= w.inUse {
		return 0, 0, &pageDamage{page: id, path: path, what: fmt.Sprintf("it is referred to, but is outside the pages in use (2 to %d)", w.inUse-1)}
	}
	hdr, err := w.readAt(id, 0, boltPageHeader, w.hdr[:])
	if err != nil {
		return 0, 0, &pageDamage{page: id, path: path, what: err.Error()}
	}
	le := binary.LittleEndian
	hid, flags, count, overflow := le.Uint64(hdr), le.Uint16(hdr[8:]), le.Uint16(hdr[10:]), le.Uint32(hdr[12:])
	if hid != id {
		return 0, 0, &pageDamage{page: id, path: path, what: fmt.Sprintf("its header gives id %d", hid)}
	}
	ok := false
	for _, f := range want {
		ok = ok || flags == f
	}
	if !ok {
		return 0, 0, &pageDamage{page: id, path: path, what: fmt.Sprintf("its flags are %#x, not a %s page", flags, flagNames(want))}
	}
	if uint64(overflow) >= w.inUse-id && w.salvage && uint64(overflow) < w.metaPages-id {
		// A truncated file: what is left of the page is read, its
		// elements past the end are lost.
		overflow = uint32(w.inUse - 1 - id)
	}
	if uint64(overflow) >= w.inUse-id {
		return 0, 0, &pageDamage{page: id, path: path, what: fmt.Sprintf("its overflow of %d pages runs past the %d pages in use", overflow, w.inUse)}
	}
	if p, ok := w.mark(id, overflow, pageReached); !ok {
		what := "it is reached twice (a cycle, or pages overlapping)"
		if p != id {
			what = fmt.Sprintf("its overflow (%d pages) covers page %d, which is reached elsewhere", overflow, p)
		}
		return 0, 0, &pageDamage{page: id, path: path, what: what}
	}
	return count, (1 + uint64(overflow)) * w.pageSize, nil
}

func flagNames(flags []uint16) string {
	var names []string
	for _, f := range flags {
		switch f {
		case boltBranchFlag:
			names = append(names, "branch")
		case boltLeafFlag:
			names = append(names, "leaf")
		case boltFreelistFlag:
			names = append(names, "freelist")
		}
	}
	return strings.Join(names, " or ")
}

// element is a branch or leaf element, its key and value as offsets from
// the start of the page.
type element struct {
	flags            uint32 // leaf only
	key, keyEnd, end uint64 // end: the value's end in a leaf, keyEnd in a branch
	child            uint64 // branch only
}

// elements parses and bounds the count elements of a page held in
// buf[:boltPageHeader+count*boltElementSize], size bytes long. bad[i] says
// what is wrong with element i ("" when it fits).
func elements(buf []byte, branch bool, count uint16, size uint64) (els []element, bad []string) {
	le := binary.LittleEndian
	els = make([]element, count)
	bad = make([]string, count)
	for i := range els {
		at := uint64(boltPageHeader + i*boltElementSize)
		e := buf[at : at+boltElementSize]
		var pos, ksize, vsize uint64
		if branch {
			pos, ksize = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:]))
			els[i].child = le.Uint64(e[8:])
		} else {
			els[i].flags = le.Uint32(e)
			pos, ksize, vsize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		}
		els[i].key = at + pos
		els[i].keyEnd = els[i].key + ksize
		els[i].end = els[i].keyEnd + vsize
		switch {
		case els[i].end > size:
			bad[i] = fmt.Sprintf("element %d (pos %d, key %d bytes, value %d bytes) ends at byte %d, past the page's %d bytes", i, pos, ksize, vsize, els[i].end, size)
		case !branch && els[i].flags&^boltBucketLeafFlag != 0:
			bad[i] = fmt.Sprintf("element %d has flags %#x", i, els[i].flags)
		case !branch && els[i].flags == boltBucketLeafFlag && vsize < boltBucketHeader:
			bad[i] = fmt.Sprintf("element %d is a bucket of %d bytes, shorter than a bucket header", i, vsize)
		}
	}
	return els, bad
}

// tree walks the tree of the bucket path whose root is page id, depth
// levels below the file's root page.
func (w *pageWalker) tree(path [][]byte, id uint64, depth int) error {
	if depth > maxTreeDepth {
		return w.damage(id, path, "the tree is deeper than %d levels", maxTreeDepth)
	}
	count, size, err := w.header(path, id, boltBranchFlag, boltLeafFlag)
	if err != nil {
		return w.noteOr(err)
	}
	if uint64(boltPageHeader+int(count)*boltElementSize) > size {
		return w.damage(id, path, "its %d elements do not fit in its %d bytes", count, size)
	}
	// The header and elements (and the rest of the first page); then,
	// as far as the keys (and in a leaf the bucket values, or in salvage
	// mode every value) reach.
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, nil)
	}
	elemEnd := uint64(boltPageHeader + int(count)*boltElementSize)
	buf, err := w.readAt(id, 0, max(elemEnd, min(size, w.pageSize)), w.bufs[depth])
	if err != nil {
		return w.damage(id, path, "%v", err)
	}
	flags := binary.LittleEndian.Uint16(buf[8:])
	branch := flags == boltBranchFlag
	if branch && count == 0 {
		return w.damage(id, path, "it is a branch page without elements")
	}
	els, bad := elements(buf, branch, count, size)
	need := elemEnd
	for i, e := range els {
		if bad[i] != "" {
			continue
		}
		need = max(need, e.keyEnd)
		if !branch && (w.salvage || e.flags == boltBucketLeafFlag) {
			need = max(need, e.end)
		}
	}
	if need > uint64(len(buf)) {
		if buf, err = w.readAt(id, 0, need, buf); err != nil {
			return w.damage(id, path, "%v", err)
		}
	}
	w.bufs[depth] = buf
	return w.page(path, id, false, buf, branch, els, bad, depth)
}

// page checks the elements of page id (in buf; when inline, the page of
// a bucket held in a value of page id) and walks on into its children and
// buckets.
func (w *pageWalker) page(path [][]byte, id uint64, inline bool, buf []byte, branch bool, els []element, bad []string, depth int) error {
	in, at := "", path // at: the bucket of page id
	if inline {
		in, at = fmt.Sprintf("the inline page of its bucket %q: ", path[len(path)-1]), path[:len(path)-1]
	}
	var prev []byte
	for i, e := range els {
		if bad[i] != "" {
			if err := w.damage(id, at, "%s%s", in, bad[i]); err != nil {
				return err
			}
			continue
		}
		k := buf[e.key:e.keyEnd]
		if prev != nil && bytes.Compare(prev, k) >= 0 && !w.salvage {
			return w.damage(id, at, "%sits keys are out of order at element %d", in, i)
		}
		prev = k
		if branch {
			if err := w.tree(path, e.child, depth+1); err != nil {
				return err
			}
			continue
		}
		if e.flags != boltBucketLeafFlag {
			if w.salvage { // (strict mode reads no further than the keys)
				w.visit(path, bytes.Clone(k), bytes.Clone(buf[e.keyEnd:e.end]))
			}
			continue
		}
		v := buf[e.keyEnd:e.end]
		if inline {
			if err := w.damage(id, at, "%sit holds bucket %q, which bbolt never writes in an inline page", in, k); err != nil {
				return err
			}
			continue
		}
		sub := append(append([][]byte(nil), path...), bytes.Clone(k))
		if root := binary.LittleEndian.Uint64(v); root != 0 {
			if err := w.tree(sub, root, depth+1); err != nil {
				return err
			}
		} else if err := w.inline(sub, id, v[boltBucketHeader:], depth+1); err != nil {
			return err
		}
	}
	return nil
}

// inline checks the page of an inline bucket, held in a value of page
// holder after the bucket header: a leaf page whose elements fit in the
// value. Damage in it is named by the holder page.
func (w *pageWalker) inline(path [][]byte, holder uint64, buf []byte, depth int) error {
	parent, in := path[:len(path)-1], fmt.Sprintf("the inline page of its bucket %q", path[len(path)-1])
	if len(buf) < boltPageHeader {
		return w.damage(holder, parent, "%s is %d bytes, shorter than a page header", in, len(buf))
	}
	le := binary.LittleEndian
	id, flags, count, overflow := le.Uint64(buf), le.Uint16(buf[8:]), le.Uint16(buf[10:]), le.Uint32(buf[12:])
	if flags != boltLeafFlag {
		return w.damage(holder, parent, "%s has flags %#x, not a leaf page", in, flags)
	}
	// bbolt writes both as 0, and frees the page of that id (and
	// overflow) when it writes the bucket again.
	if id != 0 || overflow != 0 {
		return w.damage(holder, parent, "%s gives page id %d and overflow %d, where both are 0", in, id, overflow)
	}
	if boltPageHeader+int(count)*boltElementSize > len(buf) {
		return w.damage(holder, parent, "%s: its %d elements do not fit in its %d bytes", in, count, len(buf))
	}
	els, bad := elements(buf, false, count, uint64(len(buf)))
	return w.page(path, holder, true, buf, false, els, bad, depth)
}

// noteOr returns err, or in salvage mode notes it and returns nil.
func (w *pageWalker) noteOr(err error) error {
	if d, ok := err.(*pageDamage); ok {
		return w.damage(d.page, d.path, "%s", d.what)
	}
	return err
}

// freelist checks the ids of the freelist page id (whose header gave
// count and its size in bytes) after the tree was walked: their count
// within its bytes and the pages in use, and each among the pages in use,
// listed once, and not reached by the tree.
func (w *pageWalker) freelist(id uint64, count uint16, size uint64) error {
	damage := func(format string, args ...any) error {
		return &pageDamage{page: id, kind: "the freelist", what: fmt.Sprintf(format, args...)}
	}
	first := uint64(boltPageHeader) // where the ids start
	n := uint64(count)
	if count == boltFreelistBig {
		b, err := w.readAt(id, boltPageHeader, 8, w.hdr[:])
		if err != nil {
			return damage("%v", err)
		}
		n = binary.LittleEndian.Uint64(b)
		first += 8
	}
	if n > w.inUse {
		return damage("it lists %d free pages, more than the %d pages in use", n, w.inUse)
	}
	if first+8*n > size {
		return damage("its %d page ids do not fit in its %d bytes", n, size)
	}
	// Read in pieces of 4096 ids, so a long list costs no more memory.
	const chunk = 4096
	var b []byte
	var err error
	for done := uint64(0); done < n; {
		k := min(chunk, n-done)
		b, err = w.readAt(id, first+8*done, 8*k, b)
		if err != nil {
			return damage("%v", err)
		}
		for i := uint64(0); i < k; i++ {
			p := binary.LittleEndian.Uint64(b[8*i:])
			switch {
			case p < 2 || p >= w.inUse:
				return damage("free page id %d is outside the pages in use (2 to %d)", p, w.inUse-1)
			case w.seen[p] == pageReached:
				return damage("page %d is listed free but is in use", p)
			case w.seen[p] == pageFreeList:
				return damage("page %d is listed free twice", p)
			}
			w.seen[p] = pageFreeList
		}
		done += k
	}
	return nil
}

// walkFile checks the pages of a bbolt file whose newest meta is m (which
// checkFile verified, and fileSize at least its pages in use): the meta
// pages, the tree from the root bucket, then the freelist.
func walkFile(r io.ReaderAt, m boltMeta, fileSize int64) error {
	w := newPageWalker(r, uint64(m.pageSize), m.pgid, uint64(fileSize))
	// The meta pages' headers (their checksums cover what follows).
	for id := uint64(0); id < 2; id++ {
		hdr, err := w.readAt(id, 0, boltPageHeader, w.hdr[:])
		if err != nil {
			return &pageDamage{page: id, kind: "a meta page", what: err.Error()}
		}
		if hid, flags := binary.LittleEndian.Uint64(hdr), binary.LittleEndian.Uint16(hdr[8:]); hid != id || flags != boltMetaFlag {
			return &pageDamage{page: id, kind: "a meta page", what: fmt.Sprintf("its header is damaged (id %d, flags %#x)", hid, flags)}
		}
		w.seen[id] = pageReached
	}
	var count uint16
	var size uint64
	if m.freelist != boltNoFreelist {
		// The freelist's pages are reserved first (the tree must not
		// reach them); its ids are checked once the tree's pages are
		// known.
		var err error
		if count, size, err = w.header(nil, m.freelist, boltFreelistFlag); err != nil {
			if d, ok := err.(*pageDamage); ok {
				d.kind = "the freelist"
			}
			return err
		}
	}
	if err := w.tree(nil, m.root, 0); err != nil {
		return err
	}
	if m.freelist != boltNoFreelist {
		return w.freelist(m.freelist, count, size)
	}
	return nil
}

// orphanValue is a value scanLeaves found on a leaf page the walk did not
// reach (its branch or bucket page lost): the bucket it belongs to is not
// known, except for a value of an inline bucket, whose name is inBucket.
type orphanValue struct {
	page     uint64
	inBucket []byte
	key, val []byte
}

// markFree reads, in salvage mode after the walk, the ids of the freelist
// page id as far as they can be read, and marks the pages they name that
// the walk did not reach as free: their contents are an older version of
// the tree (bbolt keeps a freed page's bytes until it reuses the page,
// and lists the pages a commit freed, pending or not). It returns whether
// the freelist page could be read.
func (w *pageWalker) markFree(id uint64) bool {
	if id < 2 || id >= w.inUse || w.seen[id] != pageUnseen {
		return false
	}
	hdr, err := w.readAt(id, 0, boltPageHeader, w.hdr[:])
	if err != nil {
		return false
	}
	le := binary.LittleEndian
	if le.Uint64(hdr) != id || le.Uint16(hdr[8:]) != boltFreelistFlag {
		return false
	}
	count, overflow := le.Uint16(hdr[10:]), uint64(le.Uint32(hdr[12:]))
	if overflow >= w.metaPages-id {
		return false
	}
	end := min((id+1+overflow)*w.pageSize, w.fileEnd) - id*w.pageSize
	first, n := uint64(boltPageHeader), uint64(count)
	if count == boltFreelistBig {
		b, err := w.readAt(id, boltPageHeader, 8, w.hdr[:])
		if err != nil {
			return false
		}
		n, first = le.Uint64(b), first+8
	}
	if first > end || n > (end-first)/8 {
		if n > w.metaPages || first > end {
			return false
		}
		n = (end - first) / 8 // truncated: the ids left
	}
	for p := id; p <= id+overflow && p < w.inUse; p++ {
		w.seen[p] = pageReached
	}
	const chunk = 4096
	var b []byte
	for done := uint64(0); done < n; {
		k := min(chunk, n-done)
		if b, err = w.readAt(id, first+8*done, 8*k, b); err != nil {
			return true
		}
		for i := uint64(0); i < k; i++ {
			if p := le.Uint64(b[8*i:]); p >= 2 && p < w.inUse && w.seen[p] == pageUnseen {
				w.seen[p] = pageFreeList
			}
		}
		done += k
	}
	return true
}

// scanLeaves reads, in salvage mode after the walk (and markFree), every
// page in use that the walk did not reach and that is not listed free,
// and returns the values of those whose header makes them a leaf page of
// their own id (an inline bucket's values too), with the names of the
// buckets such pages hold and the number of leaf pages read. A page
// whose elements do not fit is passed over; an element out of its page
// too. Nothing here is trusted: each value is kept only once its seal
// verifies under a bucket path (salvage.go).
func (w *pageWalker) scanLeaves() (vals []orphanValue, buckets [][]byte, pages int) {
	le := binary.LittleEndian
	var buf []byte
	for id := uint64(2); id < w.inUse; id++ {
		if w.seen[id] != pageUnseen {
			continue
		}
		hdr, err := w.readAt(id, 0, boltPageHeader, w.hdr[:])
		if err != nil {
			continue
		}
		hid, flags, count, overflow := le.Uint64(hdr), le.Uint16(hdr[8:]), le.Uint16(hdr[10:]), uint64(le.Uint32(hdr[12:]))
		if hid != id || flags != boltLeafFlag || count == 0 || overflow >= w.metaPages-id {
			continue
		}
		size := min((id+1+overflow)*w.pageSize, w.fileEnd) - id*w.pageSize // a truncated page: what is left
		elemEnd := uint64(boltPageHeader + int(count)*boltElementSize)
		if elemEnd > size {
			continue
		}
		// The elements, then as far as their values reach.
		if buf, err = w.readAt(id, 0, max(elemEnd, min(size, w.pageSize)), buf); err != nil {
			continue
		}
		els, bad := elements(buf, false, count, size)
		need := uint64(len(buf))
		for i, e := range els {
			if bad[i] == "" {
				need = max(need, e.end)
			}
		}
		if need > uint64(len(buf)) {
			if buf, err = w.readAt(id, 0, need, buf); err != nil {
				continue
			}
		}
		pages++
		for i, e := range els {
			if bad[i] != "" {
				continue
			}
			k, v := buf[e.key:e.keyEnd], buf[e.keyEnd:e.end]
			if e.flags != boltBucketLeafFlag {
				vals = append(vals, orphanValue{page: id, key: bytes.Clone(k), val: bytes.Clone(v)})
				continue
			}
			name := bytes.Clone(k)
			buckets = append(buckets, name)
			if le.Uint64(v) != 0 {
				continue
			}
			// An inline bucket: its page follows the bucket header.
			in := v[boltBucketHeader:]
			if len(in) < boltPageHeader || le.Uint16(in[8:]) != boltLeafFlag {
				continue
			}
			n := le.Uint16(in[10:])
			if boltPageHeader+int(n)*boltElementSize > len(in) {
				continue
			}
			iels, ibad := elements(in, false, n, uint64(len(in)))
			for j, ie := range iels {
				if ibad[j] == "" && ie.flags != boltBucketLeafFlag {
					vals = append(vals, orphanValue{page: id, inBucket: name, key: bytes.Clone(in[ie.key:ie.keyEnd]), val: bytes.Clone(in[ie.keyEnd:ie.end])})
				}
			}
		}
	}
	return vals, buckets, pages
}
