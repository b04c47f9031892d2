package drift

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/stats"
)

// ErrSummary is wrapped by the errors of UnmarshalSummary: a damaged
// encoding, or one made against another plan.
var ErrSummary = errors.New("invalid summary")

// MarshalBinary encodes the summary exactly (for a monitor's state, a
// replica's export, a Beam coder):
//
//	byte format (1), 8 bytes plan fingerprint (little-endian)
//	uvarint rows, missing; byte kind mismatch
//	uvarint len(Below); per count uvarint; uvarint len(Equal); counts
//	Moments, Low, High: uvarint N, Missing; 8 bytes Min, Max;
//	                    uvarint length + stats.Sum bytes, twice (Sum, SumSq)
//	uvarint len(Cats); counts; uvarint Unknown; byte NewDropped
//	uvarint len(New); per value, sorted: uvarint length, bytes, uvarint count
//	byte has Time; then layout, min, max (uvarint length + bytes),
//	    uvarint parsed, unparsed, len(Hours), hours, len(Weekdays), weekdays
//
// The encoding of equal summaries is equal.
func (s *Summary) MarshalBinary() ([]byte, error) {
	b := []byte{summaryFormat}
	b = binary.LittleEndian.AppendUint64(b, s.plan.Fingerprint)
	b = binary.AppendUvarint(b, uint64(s.Rows))
	b = binary.AppendUvarint(b, uint64(s.Missing))
	b = append(b, boolByte(s.KindMismatch))
	for _, c := range [][]int64{s.Below, s.Equal} {
		b = appendCounts(b, c)
	}
	for _, m := range []*stats.Moments{&s.Moments, &s.Low, &s.High} {
		var err error
		if b, err = appendMoments(b, m); err != nil {
			return nil, err
		}
	}
	b = appendCounts(b, s.Cats)
	b = binary.AppendUvarint(b, uint64(s.Unknown))
	b = append(b, boolByte(s.NewDropped))
	keys := make([]string, 0, len(s.New))
	for k := range s.New {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(s.New[k]))
	}
	b = append(b, boolByte(s.Time != nil))
	if t := s.Time; t != nil {
		b = appendString(b, t.Layout)
		b = appendString(b, t.Min)
		b = appendString(b, t.Max)
		b = binary.AppendUvarint(b, uint64(t.Parsed))
		b = binary.AppendUvarint(b, uint64(t.Unparsed))
		b = appendCounts(b, t.Hours)
		b = appendCounts(b, t.Weekdays)
	}
	return b, nil
}

// UnmarshalSummary decodes a summary written by MarshalBinary against
// this plan; a summary of another plan (another artifact, another
// --bins) or a damaged one is refused with an error wrapping ErrSummary.
func (pl *SummaryPlan) UnmarshalSummary(data []byte) (*Summary, error) {
	d := &summaryDecoder{b: data}
	if v := d.byte1(); d.err == nil && v != summaryFormat {
		return nil, fmt.Errorf("drift: summary of %q: format %d, this normguard reads %d: %w", pl.Name, v, summaryFormat, ErrSummary)
	}
	if fp := d.u64(); d.err == nil && fp != pl.Fingerprint {
		return nil, fmt.Errorf("drift: summary of %q was made against another profile (plan %016x, this artifact's %016x): %w", pl.Name, fp, pl.Fingerprint, ErrSummary)
	}
	s := pl.NewSummary()
	s.Rows, s.Missing = d.int(), d.int()
	s.KindMismatch = d.byte1() == 1
	below, equal := d.countsInto(s.Below), d.countsInto(s.Equal)
	if d.err == nil && (len(below) != len(s.Below) || len(equal) != len(s.Equal)) {
		d.fail("point counts of another plan")
	}
	s.Below, s.Equal = orEmpty(below, s.Below), orEmpty(equal, s.Equal)
	for _, m := range []*stats.Moments{&s.Moments, &s.Low, &s.High} {
		d.moments(m)
	}
	cats := d.countsInto(s.Cats)
	if d.err == nil && len(cats) != len(s.Cats) {
		d.fail("category counts of another plan")
	}
	s.Cats = orEmpty(cats, s.Cats)
	s.Unknown = d.int()
	s.NewDropped = d.byte1() == 1
	if n := d.count(2); n > 0 {
		s.New = make(map[string]int64, n)
		for i := 0; i < n && d.err == nil; i++ {
			k := d.str()
			s.New[k] = d.int()
		}
	}
	if d.byte1() == 1 {
		t := &profile.TimeSummary{Layout: d.str(), Min: d.str(), Max: d.str()}
		t.Parsed, t.Unparsed = d.int(), d.int()
		t.Hours, t.Weekdays = d.counts(), d.counts()
		s.Time = t
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("bytes left over")
	}
	if d.err == nil && (s.Missing > s.Rows || s.Moments.N > s.Rows) {
		d.fail("more values than rows")
	}
	if d.err != nil {
		return nil, fmt.Errorf("drift: summary of %q: %w", pl.Name, d.err)
	}
	return s, nil
}

func orEmpty(got, want []int64) []int64 {
	if got == nil {
		return want
	}
	return got
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func appendCounts(b []byte, c []int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(c)))
	for _, n := range c {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMoments(b []byte, m *stats.Moments) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(m.N))
	b = binary.AppendUvarint(b, uint64(m.Missing))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.Min))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.Max))
	for _, s := range []*stats.Sum{&m.Sum, &m.SumSq} {
		sb, err := s.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("drift: encoding a summary's sums: %w", err)
		}
		b = binary.AppendUvarint(b, uint64(len(sb)))
		b = append(b, sb...)
	}
	return b, nil
}

// summaryDecoder reads MarshalBinary's encoding; the first error sticks.
type summaryDecoder struct {
	b   []byte
	err error
}

func (d *summaryDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w", what, ErrSummary)
	}
	d.b = nil
}

func (d *summaryDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("truncated")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int reads a count (at most 2^62: a larger one is damage).
func (d *summaryDecoder) int() int64 {
	v := d.uvarint()
	if v > 1<<62 {
		d.fail("count out of range")
		return 0
	}
	return int64(v)
}

// count reads a length whose items take at least min bytes each.
func (d *summaryDecoder) count(min int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(len(d.b)/min) {
		d.fail("length beyond the data")
		return 0
	}
	return int(v)
}

func (d *summaryDecoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *summaryDecoder) byte1() byte {
	b := d.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *summaryDecoder) u64() uint64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *summaryDecoder) str() string { return string(d.bytes(d.count(1))) }

func (d *summaryDecoder) counts() []int64 {
	n := d.count(1)
	if d.err != nil || n == 0 {
		return nil
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = d.int()
	}
	return out
}

// countsInto is counts decoded into dst when they are as many as dst
// holds (the plan's: a summary's point counts are decoded in place, not
// allocated twice).
func (d *summaryDecoder) countsInto(dst []int64) []int64 {
	save := *d
	n := d.count(1)
	if d.err != nil || n == 0 || n != len(dst) {
		*d = save
		return d.counts()
	}
	for i := range dst {
		dst[i] = d.int()
	}
	return dst
}

func (d *summaryDecoder) moments(m *stats.Moments) {
	m.N, m.Missing = d.int(), d.int()
	m.Min, m.Max = math.Float64frombits(d.u64()), math.Float64frombits(d.u64())
	for _, s := range []*stats.Sum{&m.Sum, &m.SumSq} {
		b := d.bytes(d.count(1))
		if d.err == nil {
			if err := s.UnmarshalBinary(b); err != nil {
				d.fail("sums: " + err.Error())
			}
		}
	}
}
