package table

import (
	"errors"
	"strings"
	"testing"
)

// TestJSONLBooleanInNumericColumn: a JSON boolean in a numeric column is
// refused, naming the file, line, column and value, as the CSV cell
// "true" is, not read as 1 or 0 (attack run 35 F8).
func TestJSONLBooleanInNumericColumn(t *testing.T) {
	tests := []struct {
		name, input string
		line        string
		value       string
	}{
		{"true", "{\"x\":1.5}\n{\"x\":true}\n", "data.jsonl:2:", "true"},
		{"false", "{\"x\":false}\n{\"x\":2}\n", "data.jsonl:1:", "false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readJSONL(t, tc.input, []Field{{"x", Numeric}}, JSONLOptions{}, 0)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			msg := err.Error()
			for _, want := range []string{tc.line, `column "x"`, "boolean " + tc.value, "as a number"} {
				if !strings.Contains(msg, want) {
					t.Errorf("got %q, want it to contain %q", msg, want)
				}
			}
		})
	}
}
