package monitor

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Offset ranges tell, per window, which records of a partitioned log
// (Kafka) its rows were read from. Replicas of one consumer group each
// read their own partitions, so their windows' ranges are disjoint; a
// replica stopped after storing a poll but before committing it to the
// group has that poll read again by the replica that takes the partition
// over, and the two windows then hold the same records. Merging refuses
// such exports (ErrOverlap) instead of counting those records twice.
// Replicas given different consumer groups each read every partition of
// the topic: ranges of one topic read under two groups are compared as
// one stream (Stream), and refused the same way.
//
// The ranges ride on the records of the log (record.go) and the window
// checkpoints (window.go), so they are written in the transaction that
// stores the rows, sealed like them, and a recovery keeps exactly the
// ranges of the rows it keeps.

// OffsetRange is a run of records of one partition of a source: offsets
// First to Last, both included.
type OffsetRange struct {
	// Source names the log as Offset.Source does ("kafka:<group>/<topic>").
	Source    string
	Partition int32
	First     int64
	Last      int64
}

// check reports a range that cannot be stored.
func (r OffsetRange) check() error {
	if r.Source == "" || strings.IndexByte(r.Source, 0) >= 0 || r.Partition < 0 || r.First < 0 || r.Last < r.First || r.Last == math.MaxInt64 {
		return fmt.Errorf("monitor: offset range %+v: the source must be non-empty without NUL bytes, the partition non-negative and 0 <= first <= last: %w", r, ErrInvalid)
	}
	return nil
}

// MaxOffsetRanges is the most separate ranges a window keeps per source
// partition. Each poll adds one range, joined to the previous one when
// they touch, so a window usually holds one per partition; a partition
// that moves away and back, or event-time windows fed by scattered late
// records, add more. Past the cap the two closest ranges are joined and
// the partition is marked Coarse: its ranges may then cover records the
// window did not read.
const MaxOffsetRanges = 64

// PartitionRanges is what a window read of one partition of a source:
// sorted, disjoint ranges [first, last] that do not touch.
type PartitionRanges struct {
	Source    string     `json:"source"`
	Partition int32      `json:"partition"`
	Ranges    [][2]int64 `json:"ranges"`
	// Coarse is set when more than MaxOffsetRanges separate ranges were
	// read: the closest were joined, so Ranges may cover offsets that
	// were not read.
	Coarse bool `json:"coarse,omitempty"`
}

// addRange adds the offsets first..last of source and partition to list
// (sorted by source, then partition) and returns it.
func addRange(list []PartitionRanges, source string, partition int32, first, last int64) []PartitionRanges {
	i, found := slices.BinarySearchFunc(list, PartitionRanges{Source: source, Partition: partition}, comparePartitions)
	if !found {
		list = slices.Insert(list, i, PartitionRanges{Source: source, Partition: partition})
	}
	list[i].add(first, last)
	return list
}

func comparePartitions(a, b PartitionRanges) int {
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// add inserts first..last, joining the ranges it overlaps or touches,
// then keeps at most MaxOffsetRanges (joining the closest pair).
func (p *PartitionRanges) add(first, last int64) {
	out := make([][2]int64, 0, len(p.Ranges)+1)
	placed := false
	for _, r := range p.Ranges {
		switch {
		case r[1] < first-1: // wholly before, not touching
			out = append(out, r)
		case r[0] > last+1: // wholly after
			if !placed {
				out = append(out, [2]int64{first, last})
				placed = true
			}
			out = append(out, r)
		default: // overlaps or touches: absorb it
			first, last = min(first, r[0]), max(last, r[1])
		}
	}
	if !placed {
		out = append(out, [2]int64{first, last})
	}
	for len(out) > MaxOffsetRanges {
		j := 0
		for k := 1; k+1 < len(out); k++ {
			if out[k+1][0]-out[k][1] < out[j+1][0]-out[j][1] {
				j = k
			}
		}
		out[j][1] = out[j+1][1]
		out = slices.Delete(out, j+1, j+2)
		p.Coarse = true
	}
	p.Ranges = out
}

// unionRanges adds every range of src to dst and returns it.
func unionRanges(dst, src []PartitionRanges) []PartitionRanges {
	for _, p := range src {
		for _, r := range p.Ranges {
			dst = addRange(dst, p.Source, p.Partition, r[0], r[1])
		}
		if p.Coarse {
			if i, ok := slices.BinarySearchFunc(dst, p, comparePartitions); ok {
				dst[i].Coarse = true
			}
		}
	}
	return dst
}

// cloneRanges returns a deep copy of list (nil when empty).
func cloneRanges(list []PartitionRanges) []PartitionRanges {
	if len(list) == 0 {
		return nil
	}
	out := make([]PartitionRanges, len(list))
	for i, p := range list {
		out[i] = p
		out[i].Ranges = slices.Clone(p.Ranges)
	}
	return out
}

// ErrOverlap is wrapped by an *OverlapError: exports to merge hold the
// same records of a source.
var ErrOverlap = errors.New("the exports hold the same source records")

// OverlapError says that two exports' windows read the same records of a
// source partition: merged, those records would be counted twice.
type OverlapError struct {
	Source    string
	Partition int32
	// First and Last are the offsets both read (the first overlap found).
	First, Last int64
	// Exports are the two exports' names (Export.Name, or "export N"),
	// Windows the starts of the windows holding the records in each.
	Exports [2]string
	Windows [2]time.Time
	// Coarse is set when one of the two windows' ranges were coarsened
	// (see MaxOffsetRanges): the overlap may then be of records only one
	// of them read.
	Coarse bool
	// OtherSource is set when Exports[1] read the records under another
	// name of the same stream than Source, Exports[0]'s: the same Kafka
	// topic read by another consumer group (see Stream).
	OtherSource string
}

func (e *OverlapError) Error() string {
	var b strings.Builder
	if e.OtherSource != "" && e.OtherSource != e.Source {
		// Two consumer groups of one topic: each reads every partition
		// (attack run 23 F1).
		g0, topic, _ := kafkaGroupTopic(e.Source)
		g1, _, _ := kafkaGroupTopic(e.OtherSource)
		fmt.Fprintf(&b, "monitor: merge: offsets %d-%d of partition %d of topic %s were read by both %s (window %s, as %s) and %s (window %s, as %s): merged, those records would be counted twice. ",
			e.First, e.Last, e.Partition, topic, e.Exports[0], e.Windows[0].Format(time.RFC3339), e.Source, e.Exports[1], e.Windows[1].Format(time.RFC3339), e.OtherSource)
		fmt.Fprintf(&b, "They read the topic under two consumer groups, %q and %q, and each group reads every partition of the topic: replicas given different --kafka-group values each count every record. Give the replicas one --kafka-group (then each reads its own partitions); ", g0, g1)
		if e.Coarse {
			fmt.Fprintf(&b, "(one of the windows read more than %d separate ranges of the partition, which were joined, so part of this overlap may be of records only one of them read) ", MaxOffsetRanges)
		}
		b.WriteString("meanwhile judge these windows from one of the two exports only (or each export on its own), or wait until they leave the replicas' history")
		return b.String()
	}
	fmt.Fprintf(&b, "monitor: merge: offsets %d-%d of partition %d of %s were read by both %s (window %s) and %s (window %s): merged, those records would be counted twice. ",
		e.First, e.Last, e.Partition, e.Source, e.Exports[0], e.Windows[0].Format(time.RFC3339), e.Exports[1], e.Windows[1].Format(time.RFC3339))
	b.WriteString("Either a replica stored them and stopped before committing them to the consumer group, and the replica that took the partition over read them again (--kafka-instance-id makes a restarted replica get its partitions back and this rarer); or the topic was deleted and created again between the two windows' reads (its offsets start from 0 again: /healthz and the log of the replica that found it say so), and the windows hold the same offsets of the old and the new topic, no record counted twice, but the offset ranges do not tell the topics apart; or one replica was started on a copy of another's state file (a cloned volume or backup), so both hold the same windows: give each replica a state of its own. ")
	if e.Coarse {
		fmt.Fprintf(&b, "(One of the windows read more than %d separate ranges of the partition, which were joined, so part of this overlap may be of records only one of them read.) ", MaxOffsetRanges)
	}
	b.WriteString("Judge those windows from one of the two exports only (or each export on its own), or wait until they leave the replicas' history")
	return b.String()
}

func (e *OverlapError) Unwrap() error { return ErrOverlap }

// Stream returns the name of the stream of records source reads: a
// Kafka source, "kafka:<group>/<topic>", reads the topic whichever group
// reads it, so that the same records read under two groups are found
// (attack run 23 F1); any other source is its own stream. A Kafka topic's
// name holds no '/', a group's may.
func Stream(source string) string {
	if _, topic, ok := kafkaGroupTopic(source); ok {
		return "kafka:" + topic
	}
	return source
}

// kafkaGroupTopic splits a Kafka source "kafka:<group>/<topic>".
func kafkaGroupTopic(source string) (group, topic string, ok bool) {
	rest, ok := strings.CutPrefix(source, "kafka:")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// exportName names export i (0-based) of a merge in messages.
func exportName(ex *Export, i int) string {
	if ex.Name != "" {
		return ex.Name
	}
	return fmt.Sprintf("export %d", i+1)
}

// CheckOverlaps returns an *OverlapError when two of exports hold windows
// that read the same offsets of a stream's partition (the first such
// overlap, by stream, partition and offset), nil otherwise. Sources of
// one stream (a Kafka topic read by two consumer groups, see Stream) are
// compared with each other. The windows of one export are not compared
// with each other: one replica reads each record once, and a poll whose
// rows fall in several windows (several models, event time) gives each
// of them its range.
func CheckOverlaps(exports []*Export) error {
	type run struct {
		first, last int64
		export      int
		window      time.Time
		coarse      bool
		source      string
	}
	type key struct {
		stream    string
		partition int32
	}
	runs := map[key][]run{}
	for i, ex := range exports {
		for _, w := range ex.Windows {
			for _, p := range w.Offsets {
				k := key{Stream(p.Source), p.Partition}
				for _, r := range p.Ranges {
					runs[k] = append(runs[k], run{r[0], r[1], i, w.Start, p.Coarse, p.Source})
				}
			}
		}
	}
	keys := make([]key, 0, len(runs))
	for k := range runs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return comparePartitions(PartitionRanges{Source: a.stream, Partition: a.partition}, PartitionRanges{Source: b.stream, Partition: b.partition})
	})
	for _, k := range keys {
		rs := runs[k]
		slices.SortStableFunc(rs, func(a, b run) int { return cmp.Compare(a.first, b.first) })
		// reach[e] is the run of export e reaching furthest so far: a
		// later run (of another export) starting before its end overlaps.
		reach := make([]*run, len(exports))
		for _, r := range rs {
			for e, prev := range reach {
				if prev != nil && e != r.export && prev.last >= r.first {
					oe := &OverlapError{Source: prev.source, Partition: k.partition, First: r.first, Last: min(r.last, prev.last),
						Exports: [2]string{exportName(exports[e], e), exportName(exports[r.export], r.export)},
						Windows: [2]time.Time{prev.window, r.window}, Coarse: prev.coarse || r.coarse}
					if r.source != prev.source {
						oe.OtherSource = r.source
					}
					return oe
				}
			}
			if prev := reach[r.export]; prev == nil || r.last > prev.last {
				reach[r.export] = &r
			}
		}
	}
	return nil
}
