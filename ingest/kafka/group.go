package kafka

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/normguard/normguard/monitor"
)

// checkGroup refuses to read topic under group into a state that read it
// under another group and never under this one (attack run 23 F1): the
// state keeps its positions per group, so the new group would read the
// topic again from its start (or from its own committed offsets) into
// the same windows, and count every record the state counted already a
// second time, without a word. newGroup (Config.NewGroup) lets it: for a
// topic deleted and created again, whose records are all new to the
// windows, when the topic's ID cannot tell (see topic.go).
func checkGroup(mon *monitor.Monitor, group, topic string, newGroup bool) error {
	sources, err := mon.Sources()
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	var others []string
	for _, src := range sources {
		g, ok := groupOf(src, topic)
		switch {
		case !ok:
		case g == group:
			return nil // this group read it before: it resumes from its positions
		default:
			others = append(others, g)
		}
	}
	if len(others) == 0 || newGroup {
		return nil
	}
	var read []string
	for _, g := range others {
		held, err := mon.Offsets(Source(g, topic))
		if err != nil {
			return fmt.Errorf("kafka: %w", err)
		}
		desc := fmt.Sprintf("group %q", g)
		if len(held) > 0 {
			var parts []string
			for _, p := range slices.Sorted(maps.Keys(held)) {
				parts = append(parts, fmt.Sprintf("%d up to offset %d", p, held[p]))
			}
			desc += " (partition " + strings.Join(parts, ", ") + ")"
		}
		read = append(read, desc)
	}
	return fmt.Errorf("kafka: the state file holds the positions of topic %q read by consumer %s, and none read by group %q: "+
		"the state keeps positions per group, so group %q would read the topic again from its start (or from its own committed offsets) into the same windows, "+
		"counting a second time every record the state counted already. Restart with --kafka-group %q to go on where it stopped, "+
		"or give --state another file to count the topic afresh under group %q. "+
		"Only if the topic was deleted and created again since (its records are all new to these windows), add --kafka-new-group to read it under group %q into this state",
		topic, strings.Join(read, " and "), group, group, others[0], group, group)
}

// groupOf returns the group of source when it is topic's as a group reads
// it (Source), not a tag kept beside the positions.
func groupOf(source, topic string) (string, bool) {
	rest, ok := strings.CutPrefix(source, "kafka:")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "/"+topic)
}
