package monitor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/normguard/normguard/internal/regular"
)

// Every value the monitor writes into its bbolt file (except the format
// key) is sealed:
//
//	byte sealVersion (2), 4 bytes little-endian CRC-32C, payload
//
// The CRC covers the bucket path, the key and the payload (each but the
// payload preceded by its uvarint length), so a flipped key or a value
// moved under another key fails too. Files of format normguard.monitor/1
// (unsealed values) are sealed in place when opened.
const sealVersion = 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrDamaged is wrapped by Open's errors about a state file that fails its
// checks (checksums, structure, truncation, an empty file). Such a file is
// left as it is; Recover keeps what verifies.
var ErrDamaged = errors.New("monitor state file damaged")

// DamageError says what is wrong with a state file.
type DamageError struct {
	Path string
	// What describes the damage (a bucket and key, a page, a size).
	What string
	// stale is set when the file verifies but is not the one its marker
	// describes (another store, or an older copy of it): the marker's
	// row counts are then what the recovery counts losses against.
	stale bool
	// olderMeta is set when the newer of the two meta pages failed its
	// checks, or may have: the state that verifies is that of the other,
	// older commit, and a later commit, if there was one, is lost.
	olderMeta bool
}

// Error implements error.
func (e *DamageError) Error() string {
	return fmt.Sprintf("monitor: state file %s is damaged: %s. It was left untouched. Restore it from a backup, "+
		"or start normguard serve with --state-recover to keep every record that verifies, move the damaged file aside "+
		"and report what was lost", e.Path, e.What)
}

// Unwrap returns ErrDamaged.
func (e *DamageError) Unwrap() error { return ErrDamaged }

func sealSum(top, sub, key, payload []byte) uint32 {
	var hdr []byte
	for _, b := range [][]byte{top, sub, key} {
		hdr = binary.AppendUvarint(hdr, uint64(len(b)))
		hdr = append(hdr, b...)
	}
	return crc32.Update(crc32.Checksum(hdr, castagnoli), castagnoli, payload)
}

// seal returns the stored form of payload under key in bucket top/sub (sub
// nil for a top-level value).
func seal(top, sub, key, payload []byte) []byte {
	out := make([]byte, 5, 5+len(payload))
	out[0] = sealVersion
	binary.LittleEndian.PutUint32(out[1:5], sealSum(top, sub, key, payload))
	return append(out, payload...)
}

// unseal checks a stored value and returns its payload (aliasing v).
func unseal(top, sub, key, v []byte) ([]byte, error) {
	if len(v) < 5 || v[0] != sealVersion {
		return nil, fmt.Errorf("%s: no record header: %w", where(top, sub, key), errCorrupt)
	}
	if binary.LittleEndian.Uint32(v[1:5]) != sealSum(top, sub, key, v[5:]) {
		return nil, fmt.Errorf("%s: checksum mismatch: %w", where(top, sub, key), errCorrupt)
	}
	return v[5:], nil
}

// where names a stored value for messages.
func where(top, sub, key []byte) string {
	s := string(top)
	if sub != nil {
		if model, stage, ok := splitKey(sub); ok {
			s += fmt.Sprintf(" of model %q stage %s", model, stage)
		} else {
			s += fmt.Sprintf(" %q", sub)
		}
	}
	return fmt.Sprintf("%s key %x", s, key)
}

// faultError is a panic or memory fault recovered by protect.
type faultError struct {
	value any
	stack []byte
}

func (e *faultError) Error() string {
	return fmt.Sprintf("reading it failed (%v)\n%s", e.value, e.stack)
}

// protect runs fn, turning a panic or a memory fault (bbolt reading a
// damaged or truncated mmap) into a *faultError carrying the stack.
func protect(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = &faultError{value: r, stack: debug.Stack()}
		}
	}()
	return fn()
}

// firstLine keeps the first line of an error message (a protect error
// carries the stack after it).
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// boltMeta is what the monitor reads of a bbolt meta page.
type boltMeta struct {
	ok       bool
	pageSize uint32
	root     uint64 // the root bucket's page
	freelist uint64
	pgid     uint64 // high water mark: pages in use
	txid     uint64
}

// bbolt's meta page: a 16-byte page header, then magic, version, page
// size, flags (4 bytes each), root bucket (16), freelist, pgid, txid (8
// each) and an FNV-1a 64 checksum of the fields before it.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	boltMetaOffset  = 16
	boltMetaSumSpan = 56
)

func parseMeta(page []byte) boltMeta {
	if len(page) < boltMetaOffset+boltMetaSumSpan+8 {
		return boltMeta{}
	}
	m := page[boltMetaOffset:]
	h := fnv.New64a()
	h.Write(m[:boltMetaSumSpan])
	le := binary.LittleEndian
	// bbolt ignores a meta of another version as it ignores one whose
	// checksum fails (and falls back to the other, whose tree this check
	// must then be the one to walk): so does the monitor.
	if le.Uint32(m[0:4]) != boltMagic || le.Uint32(m[4:8]) != boltVersion || le.Uint64(m[boltMetaSumSpan:]) != h.Sum64() {
		return boltMeta{}
	}
	return boltMeta{ok: true, pageSize: le.Uint32(m[8:12]), root: le.Uint64(m[16:24]), freelist: le.Uint64(m[32:40]), pgid: le.Uint64(m[40:48]), txid: le.Uint64(m[48:56])}
}

// checkFile looks at the file before bbolt maps it: it refuses an empty
// file, a file whose meta pages fail their checksums, a file shorter than
// the pages its meta says are in use, and a damaged page of its tree or
// freelist (walkFile). It returns whether the file exists.
func checkFile(path string) (bool, error) {
	// Opened without blocking: a FIFO named as the state hung serve
	// before it listened, deaf to SIGTERM (attack run 12).
	f, st, err := regular.Open(path)
	var nr *regular.NotRegularError
	if errors.As(err, &nr) {
		if nr.Kind == "a folder" {
			return true, fmt.Errorf("monitor: state file %s is a folder; give a file path (for example %s)", path, path+"/monitor.db")
		}
		return true, fmt.Errorf("monitor: state file %w; give the path of a plain file (a new one is created)", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		// Gone: refused if its marker says a state existed.
		mk, err := readMarker(path)
		if err != nil {
			return false, err
		}
		if mk != nil {
			return false, missingError(path, mk)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("monitor: open %s: %w", path, err)
	}
	defer f.Close()
	size := st.Size()
	if size == 0 {
		return true, &DamageError{Path: path, What: "it is empty (0 bytes), where a state file always holds at least its 4 header pages; it was truncated or replaced"}
	}
	metas, err := readMetas(f, size)
	if err != nil {
		return true, fmt.Errorf("monitor: read %s: %w", path, err)
	}
	switch {
	case !metas[0].ok && !metas[1].ok:
		return true, &DamageError{Path: path, What: fmt.Sprintf("neither of its two meta pages verifies (%d bytes; not a normguard state file, or overwritten)", size)}
	case !metas[0].ok || !metas[1].ok:
		bad, good := 0, metas[1]
		if !metas[1].ok {
			bad, good = 1, metas[0]
		}
		return true, &DamageError{Path: path, olderMeta: true, What: fmt.Sprintf("meta page %d fails its checks (magic, version 2, checksum); the other one is of transaction %d, so the commit after it, if there was one, would be lost", bad, good.txid)}
	}
	// bbolt writes transaction t's meta to page t mod 2, and counts from
	// 0: a transaction id on the wrong page, or past 2^63 (the next commit
	// would wrap it and overwrite pages still in use), is damage.
	for i, mt := range metas {
		if mt.txid%2 != uint64(i) || mt.txid >= 1<<63 {
			return true, &DamageError{Path: path, What: fmt.Sprintf("meta page %d gives transaction %d, which bbolt never writes there", i, mt.txid)}
		}
	}
	m := metas[0]
	if metas[1].txid > m.txid {
		m = metas[1]
	}
	if m.pageSize < 512 || m.pageSize > 1<<20 {
		return true, &DamageError{Path: path, What: fmt.Sprintf("its meta page gives a page size of %d bytes", m.pageSize)}
	}
	if m.freelist == boltNoFreelist {
		// bbolt would rebuild the freelist by walking every page, and
		// panics (in a goroutine nothing can recover) on a tree whose keys
		// disagree across pages; the monitor never writes a file so.
		return true, &DamageError{Path: path, What: "its meta page records no freelist, which a normguard state file always has"}
	}
	if m.pgid < 3 {
		return true, &DamageError{Path: path, What: fmt.Sprintf("its meta page says %d pages are in use, fewer than the 3 a bbolt file holds at least", m.pgid)}
	}
	if m.pgid > uint64(size)/uint64(m.pageSize) {
		return true, &DamageError{Path: path, What: fmt.Sprintf("it is truncated: %d bytes where its meta page says %d pages of %d bytes (%d bytes) are in use", size, m.pgid, m.pageSize, m.pgid*uint64(m.pageSize))}
	}
	// Every page a reader can reach, checked before bbolt trusts it
	// (pagewalk.go): the tree from the root bucket, the freelist.
	if err := walkFile(f, m, size); err != nil {
		var d *pageDamage
		if errors.As(err, &d) {
			return true, &DamageError{Path: path, What: d.Error()}
		}
		return true, fmt.Errorf("monitor: read %s: %w", path, err)
	}
	return true, nil
}

// bbolt page flags and the freelist id meaning "none".
const (
	boltMetaFlag     = 0x04
	boltFreelistFlag = 0x10
	boltNoFreelist   = ^uint64(0)
)

// readMetas reads the two meta pages of a bbolt file.
func readMetas(f *os.File, size int64) ([2]boltMeta, error) {
	var out [2]boltMeta
	buf := make([]byte, boltMetaOffset+boltMetaSumSpan+8)
	read := func(off int64) (boltMeta, error) {
		if off+int64(len(buf)) > size {
			return boltMeta{}, nil
		}
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			return boltMeta{}, err
		}
		return parseMeta(buf), nil
	}
	var err error
	if out[0], err = read(0); err != nil {
		return out, err
	}
	ps := int64(os.Getpagesize())
	if out[0].ok && out[0].pageSize >= 512 {
		ps = int64(out[0].pageSize)
	}
	if out[1], err = read(ps); err != nil {
		return out, err
	}
	if out[1].ok && out[0].ok && out[1].pageSize != out[0].pageSize {
		out[1].ok = false
	}
	return out, nil
}
