package validate

import "github.com/normguard/normguard/profile"

// isIdentifier reports whether the training profile marks the feature as
// identifier-like (nearly every value distinct): new values are expected
// there, so unseen categories are not an anomaly.
func isIdentifier(p *profile.Feature) bool {
	return p.Kind == profile.KindIdentifier
}

// timeOf returns the time layout of a time-like feature and its training
// counts of values that parsed and did not; ok is false for other features.
func timeOf(p *profile.Feature) (layout string, parsed, unparsed int64, ok bool) {
	if p.Kind != profile.KindTime || p.Time == nil {
		return "", 0, 0, false
	}
	return p.Time.Layout, p.Time.Parsed, p.Time.Unparsed, true
}

// parsesAsTime reports whether s reads as a time in layout.
func parsesAsTime(layout, s string) bool {
	_, ok := profile.ParseTime(layout, s)
	return ok
}
