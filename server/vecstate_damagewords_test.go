package server

import (
	"os"
	"strings"
	"testing"
)

// TestVecstateSnapshotDamageWords (attack run 32 F5): a damaged snapshot
// was described in Go's decoder terms ("json: cannot unmarshal array into
// Go value of type server.vectorStateEnvelope", "unexpected end of JSON
// input"); it is described in the file's.
func TestVecstateSnapshotDamageWords(t *testing.T) {
	f := newJournalFixture(t, 0)
	f.post("reader", f.rest[:20])
	for _, c := range []struct{ name, data, want string }{
		{"empty", ``, "the file is empty (0 bytes)"},
		{"blank", " \n", "the file holds only blank space (2 bytes)"},
		{"an array", `[]`, `it is not a normguard vector state: it starts with "[]" (2 bytes)`},
		{"an opening brace", `{`, "it is cut short after 1 byte:"},
		{"cut short", `{"format":"normguard-vector-state/3","crc32c":"00`, "it is cut short after 49 bytes:"},
		{"not JSON", `{"format" "x"}`, "it is not valid JSON at byte 11 of 14"}, // the 11th byte is the second quote
		{"two objects", `{"format":"x"} {}`, "it goes on after its JSON object ends at byte 14 of 17"},
		{"a number format", `{"format":3}`, `its field "format" holds a JSON number, where a vector state holds a string`},
		{"no format", `{"state":{}}`, `it is a JSON object without a "format"`},
		{"another format", `{"format":"normguard-vector-state/9"}`, `its format is "normguard-vector-state/9"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(f.state, []byte(c.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := f.restart(false)
			if err == nil {
				t.Fatal("the damaged snapshot was taken")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, f.state) {
				t.Errorf("got %q, want it to name the file and say %q", msg, c.want)
			}
			for _, goTerm := range []string{"json:", "Go value", "unexpected end of JSON input", "vectorStateEnvelope"} {
				if strings.Contains(msg, goTerm) {
					t.Errorf("the message names the decoder's %q: %s", goTerm, msg)
				}
			}
		})
	}
}
