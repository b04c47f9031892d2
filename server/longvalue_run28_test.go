package server

import (
	"strings"
	"testing"

	"github.com/normguard/normguard/internal/errtext"
)

// TestRowsBodyLongValueQuotedShort (attack run 28 F3): a 20 MB string in
// a numeric feature came back whole in the 400's message (a 20 MB
// response). The message quotes a short prefix and the value's length.
func TestRowsBodyLongValueQuotedShort(t *testing.T) {
	d := newRowsBody(testFields, false, 100)
	for _, bad := range []string{`"` + strings.Repeat("a", 1<<20) + `"`, `"-` + strings.Repeat("9", 1<<20) + `"`, "1" + strings.Repeat("7", 1<<20)} {
		_, _, err := d.decode([]byte(`{"rows":[{"age":` + bad + `,"city":"a"}]}`))
		if err == nil {
			t.Fatalf("age %.20s...: accepted", bad)
		}
		if n := len(err.Error()); n > 300+errtext.MaxQuoted || !strings.Contains(err.Error(), "bytes)") {
			t.Errorf("age %.20s...: a %d-byte message; want the value quoted short with its length: %.300s", bad, n, err)
		}
	}
}
