package monitor

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
	"sync"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/stats"
	"github.com/normguard/normguard/table"
)

// window is the state of one model, stage and tumbling window.
type window struct {
	start int64 // Unix nanoseconds, a multiple of the window length
	end   int64
	// k is the reservoir size the window was opened with.
	k      int
	rows   int64
	closed bool
	feats  []*featureState
	byName map[string]*featureState
	// seed mixes model, stage and window into each feature's generator.
	seed uint64

	// Evaluator state, not written to the log.
	eval       *evaluation
	finalizing bool
	// ss is the stage the window belongs to (set before records are
	// applied), through which apply finds the summary plans.
	ss *stageState
	// offsets are the source offsets its rows were read from (ranges.go),
	// by source and partition.
	offsets []PartitionRanges
}

// summarySource is where the windows of a stage find their summary
// plans: the model's latest reference.
type summarySource struct {
	ms    *modelState
	stage int
	opt   drift.Options
}

// summarySources maps a *stageState to its *summarySource (registered by
// Monitor.model, removed at Close).
var summarySources sync.Map

// plan returns the summary plan of a feature against the model's latest
// reference, or nil (no reference yet, a feature it does not profile, or
// profiles as another kind).
func (w *window) plan(name string, numeric bool) *drift.SummaryPlan {
	if w.ss == nil {
		return nil
	}
	v, ok := summarySources.Load(w.ss)
	if !ok {
		return nil
	}
	src := v.(*summarySource)
	ref := src.ms.ref.Load()
	if ref == nil {
		return nil
	}
	rs := &ref.stages[src.stage]
	j, ok := rs.byName[name]
	if !ok || rs.features[j].numeric != numeric {
		return nil
	}
	return rs.summaryPlans(src.opt)[j]
}

// featureState accumulates one feature of a window.
type featureState struct {
	name                       string
	numeric                    bool
	rows, missing, oor, unseen int64
	seen                       int64 // present values offered to the reservoir
	rng                        uint64
	moments                    stats.Moments // numeric only
	num                        []float64
	str                        []string
	alerted                    bool
	// sum summarizes the feature's rows against the profile of the
	// model's latest artifact (drift.Summary); when that profile changes
	// mid-window the summary starts again, covering the rows since. The
	// feature is partial when rows were added without any summary (state
	// of the format before summaries, a feature not profiled): the window
	// is then judged from its sample, which features keep only then (the
	// summary also gives the validation rules what they read, examples of
	// unseen values included).
	// sumRaw is a checkpoint's encoded summary, decoded against the plan
	// on first use.
	sum     *drift.Summary
	sumRaw  []byte
	partial bool
}

// summaryFor returns the feature's summary against plan p, decoding a
// checkpoint's or starting one (again, when p is another profile's); nil
// when there is no plan.
func (f *featureState) summaryFor(p *drift.SummaryPlan) *drift.Summary {
	if p == nil {
		return nil
	}
	if f.sum != nil && f.sum.Plan().Fingerprint == p.Fingerprint {
		return f.sum
	}
	if f.sumRaw != nil {
		s, err := p.UnmarshalSummary(f.sumRaw)
		f.sumRaw = nil
		if err == nil {
			f.sum = s
			return s
		}
	}
	f.sum = p.NewSummary()
	return f.sum
}

func newWindow(model string, stage Stage, start, length int64, k int) *window {
	h := fnv.New64a()
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(stage))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(start))
	h.Write(b[:])
	return &window{start: start, end: start + length, k: k, byName: map[string]*featureState{}, seed: h.Sum64()}
}

// feature returns the state of the named feature, creating it.
func (w *window) feature(name string, numeric bool) *featureState {
	if f, ok := w.byName[name]; ok && f.numeric == numeric {
		return f
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	f := &featureState{name: name, numeric: numeric, rng: w.seed ^ h.Sum64()}
	if old, ok := w.byName[name]; ok {
		// The feature changed kind with a new artifact: start it again.
		for i := range w.feats {
			if w.feats[i] == old {
				w.feats[i] = f
			}
		}
	} else {
		w.feats = append(w.feats, f)
	}
	w.byName[name] = f
	return f
}

// next advances a splitmix64 generator (Steele, Lea & Flood 2014).
func next(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// slot returns the reservoir position of the value just counted in seen
// (Algorithm R): the next free one while the sample is not full, else a
// uniform draw from [0, seen) (the high word of a 64×64-bit product,
// Lemire 2019; its bias is below seen/2^64), kept when below k.
func (f *featureState) slot(size, k int) int {
	f.seen++
	if size < k {
		return size
	}
	hi, _ := bits.Mul64(next(&f.rng), uint64(f.seen))
	if hi < uint64(k) {
		return int(hi)
	}
	return -1
}

// apply adds one record (see record.go) to the window.
func (w *window) apply(feats []featureDesc, rec []byte, scratch *[]float64) error {
	d := &decoder{b: rec}
	n := d.uvarint()
	if d.err != nil || n > math.MaxInt32 {
		return fmt.Errorf("record rows: %w", errCorrupt)
	}
	w.rows += int64(n)
	for _, fd := range feats {
		f := w.feature(fd.name, fd.numeric)
		missing, oor, unseen := d.uvarint(), d.uvarint(), d.uvarint()
		if d.err != nil || missing > n {
			return fmt.Errorf("record of feature %q: %w", fd.name, errCorrupt)
		}
		sum := f.summaryFor(w.plan(fd.name, fd.numeric))
		if sum == nil && n > 0 {
			f.partial = true
		}
		if sum != nil {
			sum.AddMissing(int64(missing))
		}
		f.rows += int64(n)
		f.missing += int64(missing)
		f.oor += int64(oor)
		f.unseen += int64(unseen)
		present := int(n - missing)
		if fd.numeric {
			raw := d.bytes(8 * present)
			if d.err != nil {
				return fmt.Errorf("record values of feature %q: %w", fd.name, errCorrupt)
			}
			xs := (*scratch)[:0]
			sample := sum == nil || f.partial // the summary judges the rest
			for i := 0; i < present; i++ {
				x := math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
				xs = append(xs, x)
				if !sample {
					continue
				}
				if j := f.slot(len(f.num), w.k); j == len(f.num) {
					f.num = append(f.num, x)
				} else if j >= 0 {
					f.num[j] = x
				}
			}
			f.moments.Add(xs)
			if sum != nil {
				sum.AddNumbers(xs)
			}
			*scratch = xs
			continue
		}
		var strs []string
		if sum != nil {
			strs = make([]string, 0, present)
		}
		sample := sum == nil || f.partial // the summary judges and names the rest
		for i := 0; i < present; i++ {
			b := d.bytes(d.count(1))
			if d.err != nil {
				return fmt.Errorf("record values of feature %q: %w", fd.name, errCorrupt)
			}
			v := string(b)
			if sum != nil {
				strs = append(strs, v)
			}
			if !sample {
				continue
			}
			if j := f.slot(len(f.str), w.k); j == len(f.str) {
				f.str = append(f.str, v)
			} else if j >= 0 {
				f.str[j] = v
			}
		}
		if sum != nil {
			sum.AddStrings(strs, nil)
		}
	}
	if len(d.b) > 0 {
		d.readRanges(func(source string, partition int32, first, last int64) {
			w.offsets = addRange(w.offsets, source, partition, first, last)
		})
		if d.err != nil {
			return fmt.Errorf("record offset ranges: %w", d.err)
		}
	}
	if len(d.b) != 0 {
		return fmt.Errorf("record has %d bytes left over: %w", len(d.b), errCorrupt)
	}
	return nil
}

// column returns a copy of the feature's sample as a column for the drift
// engine.
func (f *featureState) column() table.Column {
	if f.numeric {
		return table.Column{Name: f.name, Kind: table.Numeric, Num: append([]float64{}, f.num...)}
	}
	return table.Column{Name: f.name, Kind: table.String, Str: append([]string{}, f.str...)}
}

// Window state encoding (the ckpt bucket):
//
//	byte version (1)
//	8 bytes start, 8 bytes end (little-endian), uvarint k, uvarint rows, byte closed
//	uvarint features; per feature:
//	    byte kind, uvarint length, name
//	    uvarint rows, missing, out_of_range, unseen, seen; 8 bytes generator state; byte alerted
//	    numeric: uvarint N; 8 bytes Min, Max; uvarint length, Sum; uvarint length, SumSq;
//	             uvarint sample size, 8 bytes per value
//	    categorical: uvarint sample size; per value uvarint length, bytes
//	    (version 2) uvarint length, the drift.Summary (MarshalBinary; 0: none); byte partial
//	(version 3) uvarint partitions; per partition (ranges.go):
//	    uvarint length, source; uvarint partition; byte coarse;
//	    uvarint ranges; per range uvarint first, uvarint last-first
//
// Version 1 (before summaries) is read with every feature partial: such a
// window is judged from its sample until it closes. Versions 1 and 2 have
// no offset ranges.
const stateVersion = 3

func (w *window) encode() ([]byte, error) {
	buf := []byte{stateVersion}
	buf = binary.LittleEndian.AppendUint64(buf, uint64(w.start))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(w.end))
	buf = binary.AppendUvarint(buf, uint64(w.k))
	buf = binary.AppendUvarint(buf, uint64(w.rows))
	buf = append(buf, boolByte(w.closed))
	buf = binary.AppendUvarint(buf, uint64(len(w.feats)))
	var err error
	for _, f := range w.feats {
		k := byte(kindCategorical)
		if f.numeric {
			k = kindNumeric
		}
		buf = append(buf, k)
		buf = binary.AppendUvarint(buf, uint64(len(f.name)))
		buf = append(buf, f.name...)
		for _, v := range []int64{f.rows, f.missing, f.oor, f.unseen, f.seen} {
			buf = binary.AppendUvarint(buf, uint64(v))
		}
		buf = binary.LittleEndian.AppendUint64(buf, f.rng)
		buf = append(buf, boolByte(f.alerted))
		if !f.numeric {
			buf = binary.AppendUvarint(buf, uint64(len(f.str)))
			for _, s := range f.str {
				buf = binary.AppendUvarint(buf, uint64(len(s)))
				buf = append(buf, s...)
			}
			var err error
			if buf, err = f.appendSummary(buf); err != nil {
				return nil, err
			}
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(f.moments.N))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f.moments.Min))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f.moments.Max))
		for _, s := range []*stats.Sum{&f.moments.Sum, &f.moments.SumSq} {
			var b []byte
			if b, err = s.MarshalBinary(); err != nil {
				return nil, fmt.Errorf("monitor: encode moments of %q: %w", f.name, err)
			}
			buf = binary.AppendUvarint(buf, uint64(len(b)))
			buf = append(buf, b...)
		}
		buf = binary.AppendUvarint(buf, uint64(len(f.num)))
		for _, x := range f.num {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
		if buf, err = f.appendSummary(buf); err != nil {
			return nil, err
		}
	}
	return appendPartitionRanges(buf, w.offsets), nil
}

// appendPartitionRanges appends a window's offset ranges (version 3).
func appendPartitionRanges(buf []byte, list []PartitionRanges) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(list)))
	for _, p := range list {
		buf = binary.AppendUvarint(buf, uint64(len(p.Source)))
		buf = append(buf, p.Source...)
		buf = binary.AppendUvarint(buf, uint64(p.Partition))
		buf = append(buf, boolByte(p.Coarse))
		buf = binary.AppendUvarint(buf, uint64(len(p.Ranges)))
		for _, r := range p.Ranges {
			buf = binary.AppendUvarint(buf, uint64(r[0]))
			buf = binary.AppendUvarint(buf, uint64(r[1]-r[0]))
		}
	}
	return buf
}

// readPartitionRanges reads what appendPartitionRanges wrote.
func (d *decoder) readPartitionRanges() []PartitionRanges {
	var out []PartitionRanges
	n := d.count(4)
	for i := 0; i < n && d.err == nil; i++ {
		source := d.str()
		partition := d.uvarint()
		coarse := d.byte1() == 1
		nr := d.count(2)
		if d.err != nil || source == "" || partition > math.MaxInt32 || nr > MaxOffsetRanges {
			d.fail("offset ranges")
			return nil
		}
		for j := 0; j < nr && d.err == nil; j++ {
			first, span := d.uvarint(), d.uvarint()
			if first > math.MaxInt64/2 || span > math.MaxInt64/2 {
				d.fail("offset range")
				return nil
			}
			out = addRange(out, source, int32(partition), int64(first), int64(first+span))
		}
		if coarse && nr > 0 {
			out = unionRanges(out, []PartitionRanges{{Source: source, Partition: int32(partition), Coarse: true}})
		}
	}
	return out
}

// appendSummary appends the feature's summary (version 2 of the state).
func (f *featureState) appendSummary(buf []byte) ([]byte, error) {
	raw := f.sumRaw
	if f.sum != nil {
		var err error
		if raw, err = f.sum.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("monitor: encode the summary of %q: %w", f.name, err)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(raw)))
	buf = append(buf, raw...)
	return append(buf, boolByte(f.partial)), nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// decodeWindow reads a window state written by encode.
func decodeWindow(model string, stage Stage, data []byte) (*window, error) {
	d := &decoder{b: data}
	version := d.byte1()
	if version < 1 || version > stateVersion {
		return nil, fmt.Errorf("window state version %d (this normguard reads 1 to %d): %w", version, stateVersion, errCorrupt)
	}
	start, end := int64(d.u64()), int64(d.u64())
	k := d.uvarint()
	if k > math.MaxInt32 {
		d.fail("sample size")
	}
	w := newWindow(model, stage, start, end-start, int(k))
	w.rows = int64(d.uvarint())
	w.closed = d.byte1() == 1
	nf := d.count(8)
	for i := 0; i < nf && d.err == nil; i++ {
		kind := d.byte1()
		f := w.feature(d.str(), kind == kindNumeric)
		f.rows, f.missing, f.oor = int64(d.uvarint()), int64(d.uvarint()), int64(d.uvarint())
		f.unseen, f.seen = int64(d.uvarint()), int64(d.uvarint())
		f.rng = d.u64()
		f.alerted = d.byte1() == 1
		if !f.numeric {
			f.str = make([]string, d.count(1))
			for j := range f.str {
				f.str[j] = d.str()
			}
			f.readSummary(d, version)
			continue
		}
		f.moments.N = int64(d.uvarint())
		f.moments.Min, f.moments.Max = d.f64(), d.f64()
		for _, s := range []*stats.Sum{&f.moments.Sum, &f.moments.SumSq} {
			b := d.bytes(d.count(1))
			if d.err == nil {
				if err := s.UnmarshalBinary(b); err != nil {
					d.fail("moments: " + err.Error())
				}
			}
		}
		f.num = make([]float64, d.count(8))
		for j := range f.num {
			f.num[j] = d.f64()
		}
		f.readSummary(d, version)
	}
	if version >= 3 {
		w.offsets = d.readPartitionRanges()
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("bytes left over")
	}
	if d.err != nil {
		return nil, fmt.Errorf("window state: %w", d.err)
	}
	return w, nil
}

// readSummary reads what appendSummary wrote (version 2); a version 1
// feature has none and is partial.
func (f *featureState) readSummary(d *decoder, version byte) {
	if version < 2 {
		f.partial = f.rows > 0
		return
	}
	if raw := d.bytes(d.count(1)); len(raw) > 0 {
		f.sumRaw = append([]byte(nil), raw...)
	}
	f.partial = d.byte1() == 1
}
