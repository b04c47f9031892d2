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

// SetMaxSpecBytesForTest sets the bound on an artifact's spec section,
// returning a function restoring it.
func SetMaxSpecBytesForTest(n int64) (restore func()) {
	old := maxSpecBytes
	maxSpecBytes = n
	return func() { maxSpecBytes = old }
}

// SetMaxOutputsForTest sets the bound on an artifact's output columns,
// returning a function restoring it.
func SetMaxOutputsForTest(n int) (restore func()) {
	old := maxOutputs
	maxOutputs = n
	return func() { maxOutputs = old }
}

// SetNameHashMaskForTest masks the hashes an output name check keeps of
// the names (a mask of few bits makes different names collide),
// returning a function restoring it.
func SetNameHashMaskForTest(mask uint64) (restore func()) {
	old := nameHashMask
	nameHashMask = mask
	return func() { nameHashMask = old }
}

// SetMaxStringBytesForTest sets the bound on an artifact's strings,
// returning a function restoring it.
func SetMaxStringBytesForTest(n int64) (restore func()) {
	old := maxStringBytes
	maxStringBytes = n
	return func() { maxStringBytes = old }
}

// SetMaxNamesBytesForTest sets the bound on an artifact's lists of
// names, returning a function restoring it.
func SetMaxNamesBytesForTest(n int64) (restore func()) {
	old := maxNamesBytes
	maxNamesBytes = n
	return func() { maxNamesBytes = old }
}

// SetMaxSampleBytesForTest sets the bound on an embedding's sample,
// returning a function restoring it.
func SetMaxSampleBytesForTest(n int64) (restore func()) {
	old := maxSampleBytes
	maxSampleBytes = n
	return func() { maxSampleBytes = old }
}

// SetMaxColumnBytesForTest sets the bound on a profile column or output
// field, returning a function restoring it.
func SetMaxColumnBytesForTest(n int64) (restore func()) {
	old := maxColumnBytes
	maxColumnBytes = n
	return func() { maxColumnBytes = old }
}
