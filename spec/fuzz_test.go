package spec

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseSpec checks that no input makes Parse panic, and that every
// accepted spec survives an encode/parse round trip unchanged.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(yamlSpec))
	f.Add([]byte(jsonSpec))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := Parse(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			return
		}
		b, err := json.Marshal(sp)
		if err != nil {
			t.Fatalf("accepted spec does not encode: %v", err)
		}
		back, err := Parse(bytes.NewReader(b), "back.json")
		if err != nil {
			t.Fatalf("encoded spec does not parse: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(back)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the spec:\n%s\n%s", b, b2)
		}
	})
}
