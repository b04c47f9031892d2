package monitor

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/normguard/normguard/table"
)

// A record is one observed batch, judged against a reference stage and
// encoded with only what the windows need:
//
//	uvarint rows
//	per feature of the stage, in profile order:
//	    uvarint missing, uvarint out_of_range, uvarint unseen
//	    the rows-missing present values in row order:
//	        numeric: 8 bytes little-endian (IEEE bits)
//	        categorical: uvarint length, bytes (a value over MaxValueBytes
//	            is replaced by longValue's marker)
//	optionally (rows read from a partitioned log, ranges.go), the offset
//	ranges the rows were read from:
//	    uvarint ranges; per range: uvarint length, source, uvarint
//	    partition, uvarint first, uvarint last-first
//
// A record without the ranges (written before them, or of rows posted
// over HTTP) ends after its last feature.
//
// A log entry groups records of one model, stage and window with
// consecutive sequence numbers:
//
//	8 bytes big-endian last seq, 8 bytes big-endian first seq
//	uvarint tables; per table: uvarint features; per feature: kind byte
//	    (0 numeric, 1 categorical), uvarint length, name
//	uvarint records; per record: uvarint table, uvarint length, record

const (
	kindNumeric     = 0
	kindCategorical = 1
)

// errCorrupt is wrapped by decoding errors of stored records and states.
var errCorrupt = errors.New("corrupt monitor data")

// MaxValueBytes is the longest categorical value kept in windows and
// samples. A longer value is judged (unseen or not) on its full bytes,
// then kept as longValue's marker, which names its SHA-256 and length:
// distinct long values stay distinct, and a record stays small whatever
// clients send. normguard_values_truncated_total counts them.
const MaxValueBytes = 256

// longValue is the marker kept for a categorical value over MaxValueBytes.
func longValue(v string) string {
	sum := sha256.Sum256([]byte(v))
	return fmt.Sprintf("<%d bytes, sha256:%x>", len(v), sum[:16])
}

// encodeRecord appends the record of the n rows of cols, judged against rs,
// to dst, and returns it with the number of categorical values over
// MaxValueBytes it replaced by their marker. Columns are matched to
// features by name; a column of the wrong kind or length counts as absent
// (its rows missing).
func encodeRecord(dst []byte, rs *refStage, cols []table.Column, n int) ([]byte, int) {
	long := 0
	dst = binary.AppendUvarint(dst, uint64(n))
	for i := range rs.features {
		f := &rs.features[i]
		c := matchColumn(cols, i, f, n)
		if c == nil {
			dst = binary.AppendUvarint(dst, uint64(n))
			dst = append(dst, 0, 0)
			continue
		}
		if f.numeric {
			dst = appendNumeric(dst, f, c.Num[:n])
		} else {
			dst = appendCategorical(dst, f, c, n, &long)
		}
	}
	return dst, long
}

// matchColumn returns the column of feature i (tried at position i first,
// the usual layout), or nil when it is absent or unusable.
func matchColumn(cols []table.Column, i int, f *refFeature, n int) *table.Column {
	var c *table.Column
	if i < len(cols) && cols[i].Name == f.name {
		c = &cols[i]
	} else {
		for j := range cols {
			if cols[j].Name == f.name {
				c = &cols[j]
				break
			}
		}
	}
	if c == nil {
		return nil
	}
	if f.numeric {
		if c.Kind != table.Numeric || len(c.Num) < n {
			return nil
		}
		return c
	}
	if c.Kind != table.String || len(c.Str) < n || (c.Null != nil && len(c.Null) < n) {
		return nil
	}
	return c
}

func appendNumeric(dst []byte, f *refFeature, xs []float64) []byte {
	var missing, oor int
	for _, x := range xs {
		switch {
		case x != x:
			missing++
		case f.hasRange && (x < f.min || x > f.max):
			oor++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(missing))
	dst = binary.AppendUvarint(dst, uint64(oor))
	dst = append(dst, 0)
	for _, x := range xs {
		if x == x {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
		}
	}
	return dst
}

func appendCategorical(dst []byte, f *refFeature, c *table.Column, n int, long *int) []byte {
	var missing, unseen int
	for i := 0; i < n; i++ {
		if c.Null != nil && c.Null[i] {
			missing++
			continue
		}
		if f.categories != nil {
			if _, ok := f.categories[c.Str[i]]; !ok {
				unseen++
			}
		}
	}
	dst = binary.AppendUvarint(dst, uint64(missing))
	dst = append(dst, 0)
	dst = binary.AppendUvarint(dst, uint64(unseen))
	for i := 0; i < n; i++ {
		if c.Null != nil && c.Null[i] {
			continue
		}
		v := c.Str[i]
		if len(v) > MaxValueBytes {
			v = longValue(v)
			*long++
		}
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// appendRanges appends the offset ranges of a record's rows (checked by
// OffsetRange.check) to its encoding.
func appendRanges(dst []byte, ranges []OffsetRange) []byte {
	if len(ranges) == 0 {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(len(ranges)))
	for _, r := range ranges {
		dst = binary.AppendUvarint(dst, uint64(len(r.Source)))
		dst = append(dst, r.Source...)
		dst = binary.AppendUvarint(dst, uint64(r.Partition))
		dst = binary.AppendUvarint(dst, uint64(r.First))
		dst = binary.AppendUvarint(dst, uint64(r.Last-r.First))
	}
	return dst
}

// readRanges reads what appendRanges wrote, calling add for each range.
func (d *decoder) readRanges(add func(source string, partition int32, first, last int64)) {
	n := d.count(4)
	for i := 0; i < n && d.err == nil; i++ {
		source := d.str()
		partition, first, span := d.uvarint(), d.uvarint(), d.uvarint()
		if d.err != nil {
			return
		}
		if source == "" || partition > math.MaxInt32 || first > math.MaxInt64/2 || span > math.MaxInt64/2 {
			d.fail("offset range")
			return
		}
		add(source, int32(partition), int64(first), int64(first+span))
	}
}

// featureDesc names a feature of a record table.
type featureDesc struct {
	name    string
	numeric bool
}

// entryRecord is a record to write into a log entry.
type entryRecord struct {
	table int
	data  []byte
}

// encodeEntry builds a log entry of records numbered first, first+1, ...
func encodeEntry(first uint64, tables [][]featureDesc, recs []entryRecord) []byte {
	size := 16 + 8
	for _, r := range recs {
		size += len(r.data) + 8
	}
	buf := make([]byte, 16, size)
	binary.BigEndian.PutUint64(buf[0:8], first+uint64(len(recs))-1)
	binary.BigEndian.PutUint64(buf[8:16], first)
	buf = binary.AppendUvarint(buf, uint64(len(tables)))
	for _, t := range tables {
		buf = binary.AppendUvarint(buf, uint64(len(t)))
		for _, f := range t {
			k := byte(kindCategorical)
			if f.numeric {
				k = kindNumeric
			}
			buf = append(buf, k)
			buf = binary.AppendUvarint(buf, uint64(len(f.name)))
			buf = append(buf, f.name...)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(recs)))
	for _, r := range recs {
		buf = binary.AppendUvarint(buf, uint64(r.table))
		buf = binary.AppendUvarint(buf, uint64(len(r.data)))
		buf = append(buf, r.data...)
	}
	return buf
}

// entryLastSeq returns the last sequence number of a log entry.
func entryLastSeq(entry []byte) (uint64, error) {
	if len(entry) < 16 {
		return 0, fmt.Errorf("log entry of %d bytes: %w", len(entry), errCorrupt)
	}
	return binary.BigEndian.Uint64(entry[0:8]), nil
}

// decoder reads the binary encodings of this package; the first error
// sticks and later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w", what, errCorrupt)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a uvarint that counts items of at least min bytes each, so
// that a corrupt count cannot make the caller allocate without bound.
func (d *decoder) count(min int) int {
	v := d.uvarint()
	if min < 1 {
		min = 1
	}
	if v > uint64(len(d.b)/min) {
		d.fail("count beyond the data")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) u64() uint64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

func (d *decoder) byte1() byte {
	b := d.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) str() string {
	n := d.count(1)
	return string(d.bytes(n))
}

// decodeEntry calls apply for every record of a log entry, with its
// sequence number and the features of its table.
func decodeEntry(entry []byte, apply func(seq uint64, feats []featureDesc, rec []byte) error) error {
	if len(entry) < 16 {
		return fmt.Errorf("log entry of %d bytes: %w", len(entry), errCorrupt)
	}
	first := binary.BigEndian.Uint64(entry[8:16])
	d := &decoder{b: entry[16:]}
	tables := make([][]featureDesc, d.count(1))
	for i := range tables {
		t := make([]featureDesc, d.count(2))
		for j := range t {
			k := d.byte1()
			t[j] = featureDesc{numeric: k == kindNumeric, name: d.str()}
			if k > kindCategorical {
				d.fail("unknown feature kind")
			}
		}
		tables[i] = t
	}
	n := d.count(2)
	for i := 0; i < n && d.err == nil; i++ {
		ti := d.uvarint()
		rec := d.bytes(d.count(1))
		if d.err != nil {
			break
		}
		if ti >= uint64(len(tables)) {
			return fmt.Errorf("record table %d of %d: %w", ti, len(tables), errCorrupt)
		}
		if err := apply(first+uint64(i), tables[ti], rec); err != nil {
			return err
		}
	}
	return d.err
}
