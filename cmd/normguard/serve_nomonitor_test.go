package main

import (
	"strings"
	"testing"
)

// TestServeNoMonitorRefusesMonitoringFlags: a monitoring flag beside
// --no-monitor (a --state meant to keep observations) was ignored without
// a word (attack run 18 F4); it is refused, exit 2, naming both flags.
func TestServeNoMonitorRefusesMonitoringFlags(t *testing.T) {
	reg := t.TempDir()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--state", reg + "/m.db"}, []string{"--no-monitor", "--state"}},
		{[]string{"--state-recover"}, []string{"--no-monitor", "--state-recover"}},
		{[]string{"--webhook", "http://127.0.0.1:1/x", "--time-column", "ts"}, []string{"--no-monitor", "--webhook, --time-column"}},
	} {
		// An address no listener takes: without the check, serve fails
		// there, naming neither flag, rather than serving for ever.
		args := append([]string{"serve", "--registry", reg, "--addr", "127.0.0.1:-1", "--no-monitor"}, tc.args...)
		code, _, stderr := runCLI(t, args...)
		if code != 2 {
			t.Errorf("serve %v: exit %d, stderr %q; want exit 2", tc.args, code, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("serve %v: stderr %q does not name %s", tc.args, stderr, w)
			}
		}
	}
}
