package artifact

import (
	"bytes"
	"testing"
)

// FuzzDecodeArtifact checks that no input makes Decode panic and that an
// accepted artifact re-encodes to the same bytes.
func FuzzDecodeArtifact(f *testing.F) {
	good, err := Encode(sample(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data, "fuzz.json")
		if err != nil {
			return
		}
		again, err := Encode(a)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted artifact does not re-encode to its bytes (err %v)", err)
		}
	})
}
