// Package jsontest holds oracles the tests of the hand-written JSON
// decoders share: what encoding/json sees of a value, the slow obvious way.
package jsontest

import (
	"bytes"
	"encoding/json"
)

// KeyTwice reports whether the JSON object obj names one of names twice
// at its top level, reading it with encoding/json's tokens (a map cannot
// show a repeated key). It reports false for what is not an object.
func KeyTwice(obj []byte, names []string) bool {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if key, _ := tok.(string); want[key] {
			if seen[key] {
				return true
			}
			seen[key] = true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}
