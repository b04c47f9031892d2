package kafka

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/internal/errtext"
)

// TestLongValueQuotedShort (attack run 28 F3): a bad value was quoted
// whole in the record's error, which the consumer logs (once a second):
// a 20 MB string in a numeric column made a 20 MB log line. The error
// quotes a short prefix and the length, whatever the kind of bad value.
func TestLongValueQuotedShort(t *testing.T) {
	long := strings.Repeat("7", 1<<20)
	for _, value := range []string{
		`{"x": "` + strings.Repeat("a", 1<<20) + `"}`,  // text, not a number
		`{"x": "-` + strings.Repeat("9", 1<<20) + `"}`, // text, infinite
		`{"x": 1` + long + `}`,                         // a literal past float64
	} {
		r := newRows(decodeFields)
		err := r.add([]byte(value), time.Time{})
		var re *rowError
		if !errors.As(err, &re) || re.reason != ReasonWrongType {
			t.Fatalf("%.40s...: got %v, want wrong_type", value, err)
		}
		if n := len(re.Error()); n > 200+errtext.MaxQuoted {
			t.Errorf("%.40s...: the error is %d bytes long; want the value quoted short: %.300s", value, n, re.Error())
		}
		if !strings.Contains(re.Error(), "bytes)") {
			t.Errorf("%.40s...: the error does not say the value's length: %.300s", value, re.Error())
		}
	}
}
