package step

import (
	"strings"
	"testing"
)

// TestValueErrorQuotesShort: a value of megabytes is quoted by its first
// bytes and its length (attack run 4, F10: a 100 MB category made a 100
// MB message on stderr and in an HTTP 400 body).
func TestValueErrorQuotesShort(t *testing.T) {
	e := &ValueError{Step: "one_hot_encoder", Column: "species", Row: 3, Value: strings.Repeat("A", 1<<20), Err: ErrUnknownCategory}
	msg := e.Error()
	if len(msg) > 300 || !strings.Contains(msg, `"AAAA`) || !strings.Contains(msg, "... (1048576 bytes)") {
		t.Errorf("message of %d bytes: %.300s", len(msg), msg)
	}
}
