package kafka

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/normguard/normguard/monitor"
)

// storeError is Run's error when a poll's n records, to end at offs,
// could not be stored (attack run 23 F7: serve stopped, rightly, saying
// neither that nothing was lost nor what to do). Neither the rows nor
// the offsets were written and nothing was committed to the group: a
// restart reads the records again from the state's positions.
func (c *Consumer) storeError(n int, offs []monitor.Offset, err error) error {
	slices.SortFunc(offs, func(a, b monitor.Offset) int { return int(a.Partition - b.Partition) })
	var parts []string
	for _, o := range offs {
		parts = append(parts, fmt.Sprintf("%d up to offset %d", o.Partition, o.Next-1))
	}
	what := "restart serve once the cause is fixed"
	if errors.Is(err, monitor.ErrNotSaved) {
		what = "free space on the state file's disk, or fix its folder (permissions, a read-only or full file system, a file size limit), then restart serve"
	}
	return fmt.Errorf("kafka: storing %d records of %s (partition %s): %w. Nothing of them was stored nor committed to group %q, so nothing is lost while the topic keeps them: serve stops, and restarted it reads them again from the state's positions. To go on, %s",
		n, c.cfg.Topic, strings.Join(parts, ", "), err, c.cfg.Group, what)
}
