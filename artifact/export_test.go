package artifact

// StreamCanonicalForTest exposes streamCanonical to the external tests.
var StreamCanonicalForTest = streamCanonical

// WholeCanonicalForTest exposes wholeCanonical, streamCanonical's fallback.
var WholeCanonicalForTest = wholeCanonical

// SetDecodeFallbackSizeForTest sets the size up to which Verify words a
// refusal by decoding whole, returning a function restoring it.
func SetDecodeFallbackSizeForTest(n int64) (restore func()) {
	old := decodeFallbackSize
	decodeFallbackSize = n
	return func() { decodeFallbackSize = old }
}
