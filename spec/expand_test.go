package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestAliasExpansionIsBounded parses a 540-byte spec whose categories
// nest YAML aliases six levels deep (ten million values): it is refused,
// naming the step and what to do, once its parameters pass maxExpanded,
// instead of being expanded whole.
func TestAliasExpansionIsBounded(t *testing.T) {
	v := "&a0 [aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa, aaaaaaaaaa]"
	for i := 1; i < 7; i++ {
		v = fmt.Sprintf("&a%d [%s%s]", i, v, strings.Repeat(fmt.Sprintf(", *a%d", i-1), 9))
	}
	text := "version: 1\ncolumns:\n  - names: [c]\n    type: categorical\n    steps:\n      - ordinal_encoder: {categories: [" + v + "]}\n"
	_, err := Parse(strings.NewReader(text), "laughs.yaml")
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "columns[0].steps[0].ordinal_encoder") ||
		!strings.Contains(err.Error(), fmt.Sprintf("expand to more than %d bytes", maxExpanded)) {
		t.Fatalf("a %d-byte spec of nested aliases: got %v, want its expansion refused", len(text), err)
	}
	// Aliases that expand to little are read as before.
	small := "version: 1\ncolumns:\n  - names: [c]\n    type: categorical\n    steps:\n      - ordinal_encoder: {categories: &cats [[a, b]]}\n  - names: [d]\n    type: categorical\n    steps:\n      - ordinal_encoder: {categories: *cats}\n"
	if _, err := Parse(strings.NewReader(small), "small.yaml"); err != nil {
		t.Fatalf("a spec sharing its categories by an alias: %v", err)
	}
}
