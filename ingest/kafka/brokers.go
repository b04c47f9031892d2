package kafka

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// brokers is what the consumer knows of its connections: for each broker
// address, whether the last attempt to connect to it worked. The client
// connects lazily and keeps connections open, so a healthy broker is
// seen once and a dead one at every retry; an address never tried is
// not listed.
type brokers struct {
	mu    sync.Mutex
	state map[string]BrokerState
}

// BrokerState is the outcome of the last attempt to connect to a broker.
type BrokerState struct {
	Address string `json:"address"`
	// Up is false when the last attempt failed.
	Up bool `json:"up"`
	// Since is when the broker last changed between up and down.
	Since time.Time `json:"since"`
	// Error is the last attempt's error when it failed.
	Error string `json:"error,omitempty"`
}

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (b *brokers) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	addr := net.JoinHostPort(meta.Host, fmt.Sprint(meta.Port))
	now := time.Now().UTC()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == nil {
		b.state = map[string]BrokerState{}
	}
	old, seen := b.state[addr]
	s := BrokerState{Address: addr, Up: err == nil, Since: old.Since}
	if !seen || old.Up != s.Up {
		s.Since = now
	}
	if err != nil {
		s.Error = err.Error()
	}
	b.state[addr] = s
}

// snapshot returns the brokers by address.
func (b *brokers) snapshot() []BrokerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BrokerState, 0, len(b.state))
	for _, s := range b.state {
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y BrokerState) int { return strings.Compare(x.Address, y.Address) })
	return out
}

// up is 1 when at least one broker was reached and none is down now, 0
// otherwise (nothing tried yet counts as down: the consumer has not
// reached the cluster).
func (b *brokers) up() float64 {
	ss := b.snapshot()
	if len(ss) == 0 {
		return 0
	}
	for _, s := range ss {
		if !s.Up {
			return 0
		}
	}
	return 1
}

// Problem describes why the consumer is not receiving from the cluster
// or not all it receives is checked, or is "" when all is well:
// partitions stalled at a batch, offsets the client passed over left
// unchecked, a client reset below the consumer's position, a partition
// waiting behind an open transaction, no broker reached yet, or brokers
// whose last connection attempt failed. A fatal error of the consumer (its offsets
// unreadable) stops the server instead.
func (s Stats) Problem() string {
	msgs := s.consumerProblems()
	if len(msgs) == 0 {
		msgs = s.brokerProblems()
	}
	// A --kafka-model missing from the registry hides no other problem:
	// it is found with no broker reached too.
	if s.NoModel != "" {
		msgs = append(msgs, s.NoModel)
	}
	if len(msgs) == 0 {
		return ""
	}
	return "kafka: " + strings.Join(msgs, "; ")
}

// consumerProblems are the problems of the consumer's partitions, group
// and topic.
func (s Stats) consumerProblems() []string {
	var msgs []string
	if s.Fenced != "" {
		msgs = append(msgs, s.Fenced)
	}
	if s.JoinRefused != "" {
		msgs = append(msgs, s.JoinRefused)
	}
	if s.Missing != "" {
		msgs = append(msgs, s.Missing)
	}
	if s.recreatedRecent {
		msgs = append(msgs, s.Recreated)
	}
	for _, m := range []map[int32]string{s.Truncated, s.Skipped, s.Behind, s.Stalled, s.Stuck, s.Reset, s.Waiting, s.Unchecked} {
		for _, p := range slices.Sorted(maps.Keys(m)) {
			msgs = append(msgs, m[p])
		}
	}
	for _, m := range slices.Sorted(maps.Keys(s.OverBudget)) {
		msgs = append(msgs, s.OverBudget[m])
	}
	for _, m := range slices.Sorted(maps.Keys(s.ModelErrors)) {
		msgs = append(msgs, s.ModelErrors[m])
	}
	return msgs
}

// brokerProblems are no broker reached yet, or the brokers whose last
// connection attempt failed.
func (s Stats) brokerProblems() []string {
	if len(s.Brokers) == 0 {
		if s.LastError != nil {
			return []string{fmt.Sprintf("no broker reached yet (last error at %s: %s)", s.LastError.At.Format(time.RFC3339), s.LastError.Error)}
		}
		return []string{"no broker reached yet"}
	}
	var down []string
	for _, b := range s.Brokers {
		if !b.Up {
			down = append(down, fmt.Sprintf("%s unreachable since %s (%s)", b.Address, b.Since.Format(time.RFC3339), b.Error))
		}
	}
	return down
}
