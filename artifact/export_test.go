package artifact

// StreamCanonicalForTest exposes streamCanonical to the external tests.
var StreamCanonicalForTest = streamCanonical
