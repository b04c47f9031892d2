package artifact

import (
	"bytes"
	"testing"
)

// FuzzDecodeArtifact checks that no input makes Decode or Verify panic,
// that Verify (its streamed reading alone, without the whole-decoding
// fallback) accepts exactly what Decode accepts, and that an accepted
// artifact re-encodes to the same bytes.
func FuzzDecodeArtifact(f *testing.F) {
	good, err := Encode(sample(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data, "fuzz.json")
		old := decodeFallbackSize
		decodeFallbackSize = 0
		v, verr := Verify(bytes.NewReader(data), int64(len(data)), "fuzz.json")
		decodeFallbackSize = old
		if (err == nil) != (verr == nil) {
			t.Fatalf("Decode says %v, Verify %v", err, verr)
		}
		if err != nil {
			return
		}
		if v.Digest != a.Digest {
			t.Fatalf("Verify's digest %s, Decode's %s", v.Digest, a.Digest)
		}
		again, err := Encode(a)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted artifact does not re-encode to its bytes (err %v)", err)
		}
	})
}
