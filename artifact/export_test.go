package artifact

// StreamCanonicalForTest exposes streamCanonical to the external tests.
var StreamCanonicalForTest = streamCanonical

// WholeCanonicalForTest exposes wholeCanonical, streamCanonical's fallback.
var WholeCanonicalForTest = wholeCanonical
