package monitor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecoverWarnsRecreatedStream (attack run 19 F3): a Kafka topic read
// to offset 9, deleted and created again and read to 2 there (the
// consumer stores position 3, the new topic's ID and RecreatedTag); the
// position is damaged: Recover sets it past the windows' ranges, which
// are the old topic's, passing over the new one's 3..9 without a word,
// and listed the topic ID's tag as four partition positions. It warns,
// naming the offsets and what to do, and lists no tag.
func TestRecoverWarnsRecreatedStream(t *testing.T) {
	opt := testOptions(newClock(t0))
	path := filepath.Join(t.TempDir(), "m.db")
	m := openTest(t, path, opt)
	observeRead(t, m, "m", normalRows(1, 20, trainMean), 20, OffsetRange{Partition: 0, First: 0, Last: 9}, OffsetRange{Partition: 1, First: 0, Last: 4})
	if _, err := m.ObserveAt(context.Background(), nil, []Offset{
		{Source: "kafka:g/t", Partition: 0, Next: 3}, {Source: "kafka:g/t", Partition: 1, Next: 0},
		{Source: "kafka:g/t#topic-id", Partition: 0, Next: 123456}, {Source: "kafka:g/t#topic-id", Partition: 1, Next: 7},
		{Source: "kafka:g/t" + RecreatedTag, Partition: 0, Next: 1_800_000_000},
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	damageStoredOffset(t, path, "kafka:g/t", 1)
	rep, err := Recover(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.String()
	if strings.Contains(s, "#topic-id") || strings.Contains(s, RecreatedTag) {
		t.Errorf("report:\n%s\nlists tags as positions", s)
	}
	var notes int
	for _, o := range rep.Offsets {
		if o.From == "ranges" {
			if !strings.Contains(o.Note, "replaced under the same name") || !strings.Contains(o.Note, "--kafka-group") {
				t.Errorf("partition %d moved to %d with note %q; want the recreation named, what to do", o.Partition, o.Next, o.Note)
			}
			notes++
		}
	}
	if notes == 0 || !strings.Contains(s, "warning: its stream was replaced") || !strings.Contains(s, "offsets 3..9 of the new one") {
		t.Errorf("report:\n%s\nwant partition 0's move past 3..9 warned", s)
	}
	m = openTest(t, path, opt)
	if got := offsetsOf(t, m, "kafka:g/t#topic-id"); got[0] != 123456 || got[1] != 7 {
		t.Errorf("topic ID tag after the recovery %v; want it kept", got)
	}
}
