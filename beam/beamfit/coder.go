package beamfit

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/normguard/normguard/table"
)

// Chunk is a run of consecutive rows of some columns: the element the
// pipeline moves between stages. Start is the index of its first row
// within its shard until the shards' row counts are known, and within the
// whole training set (shards in path order) after.
type Chunk struct {
	Shard int
	Start int64
	Rows  int
	// Total is the training set's row count, once known (else 0).
	Total int64
	Cols  []table.Column
}

// Staged is a chunk of every group's current columns: the input of a
// group's next step (Groups[g]) and the passthrough columns.
type Staged struct {
	Start, Total int64
	Rows         int
	Groups       [][]table.Column
}

// Gather is the accumulator of the Combines that hand a whole column (or
// group of columns) to a core fit: the chunks seen so far, in any order.
type Gather struct {
	Parts []Chunk
}

// errDecode is returned for bytes the coders below cannot have written.
var errDecode = errors.New("beamfit: corrupt element encoding")

// The coders are hand-written: Beam's default row coder would spend most
// of a fit encoding float slices element by element.

func encodeChunk(c Chunk) ([]byte, error) { return appendChunk(nil, &c), nil }

func decodeChunk(b []byte) (Chunk, error) {
	d := decoder{b: b}
	c := d.chunk()
	return c, d.done()
}

func encodeStaged(s Staged) ([]byte, error) {
	out := binary.AppendVarint(nil, s.Start)
	out = binary.AppendVarint(out, s.Total)
	out = binary.AppendUvarint(out, uint64(s.Rows))
	out = binary.AppendUvarint(out, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		out = appendCols(out, g)
	}
	return out, nil
}

func decodeStaged(b []byte) (Staged, error) {
	d := decoder{b: b}
	s := Staged{Start: d.varint(), Total: d.varint()}
	s.Rows = int(d.uvarint())
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		s.Groups = append(s.Groups, d.cols())
	}
	return s, d.done()
}

func encodeGather(g Gather) ([]byte, error) {
	out := binary.AppendUvarint(nil, uint64(len(g.Parts)))
	for i := range g.Parts {
		out = appendChunk(out, &g.Parts[i])
	}
	return out, nil
}

func decodeGather(b []byte) (Gather, error) {
	d := decoder{b: b}
	n := d.count()
	var g Gather
	for i := 0; i < n && d.err == nil; i++ {
		g.Parts = append(g.Parts, d.chunk())
	}
	return g, d.done()
}

func appendChunk(out []byte, c *Chunk) []byte {
	out = binary.AppendUvarint(out, uint64(c.Shard))
	out = binary.AppendVarint(out, c.Start)
	out = binary.AppendUvarint(out, uint64(c.Rows))
	out = binary.AppendVarint(out, c.Total)
	return appendCols(out, c.Cols)
}

// appendCols writes each column as its name, kind, then either its floats'
// bits or its strings and null mask.
func appendCols(out []byte, cols []table.Column) []byte {
	out = binary.AppendUvarint(out, uint64(len(cols)))
	for i := range cols {
		c := &cols[i]
		out = appendString(out, c.Name)
		out = append(out, byte(c.Kind))
		if c.Kind == table.Numeric {
			out = binary.AppendUvarint(out, uint64(len(c.Num)))
			for _, x := range c.Num {
				out = binary.LittleEndian.AppendUint64(out, math.Float64bits(x))
			}
			continue
		}
		out = binary.AppendUvarint(out, uint64(len(c.Str)))
		for _, s := range c.Str {
			out = appendString(out, s)
		}
		if c.Null == nil {
			out = append(out, 0)
			continue
		}
		out = append(out, 1)
		for _, null := range c.Null {
			if null {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		}
	}
	return out
}

func appendString(out []byte, s string) []byte {
	out = binary.AppendUvarint(out, uint64(len(s)))
	return append(out, s...)
}

// decoder reads what the append functions wrote; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errDecode
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) varint() int64 {
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return v
}

// count reads a length, refusing one larger than the bytes left could
// hold (every counted item takes at least a byte).
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if n > len(d.b) {
		d.fail()
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) str() string { return string(d.bytes(d.count())) }

func (d *decoder) chunk() Chunk {
	c := Chunk{Shard: int(d.uvarint()), Start: d.varint(), Rows: int(d.uvarint()), Total: d.varint()}
	c.Cols = d.cols()
	return c
}

func (d *decoder) cols() []table.Column {
	n := d.count()
	cols := make([]table.Column, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		c := table.Column{Name: d.str()}
		kind := d.bytes(1)
		if d.err != nil {
			break
		}
		c.Kind = table.Kind(kind[0])
		if c.Kind == table.Numeric {
			m := d.count()
			raw := d.bytes(8 * m)
			if d.err != nil {
				break
			}
			c.Num = make([]float64, m)
			for j := range c.Num {
				c.Num[j] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*j:]))
			}
			cols = append(cols, c)
			continue
		}
		m := d.count()
		c.Str = make([]string, m)
		for j := range c.Str {
			c.Str[j] = d.str()
		}
		if flag := d.bytes(1); d.err == nil && flag[0] == 1 {
			mask := d.bytes(m)
			c.Null = make([]bool, m)
			for j, v := range mask {
				c.Null[j] = v == 1
			}
		}
		cols = append(cols, c)
	}
	return cols
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errDecode
	}
	return d.err
}
