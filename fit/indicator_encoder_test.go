package fit

import (
	"strings"
	"testing"
)

// TestIndicatorIntoEncoderRefused: a categorical group's simple_imputer
// with add_indicator: true before an encoder was refused by the encoder
// naming the imputer's missing-indicator column a bad value and telling
// the user to declare the group with type: categorical, which it was
// (attack run 32 F3). The fit now refuses naming the encoder, the
// indicator column and the imputer, and says what to write instead;
// the same imputer last in its group, or without add_indicator, fits.
func TestIndicatorIntoEncoderRefused(t *testing.T) {
	const data = "city,n\na,1\nb,2\n,3\na,4\nc,5\n"
	group := func(steps ...string) string {
		return "version: 1\ncolumns:\n  - name: city\n    type: categorical\n    steps:\n" + "      - " + strings.Join(steps, "\n      - ") + "\n"
	}
	const imputer = "simple_imputer: {strategy: most_frequent, add_indicator: true}"
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"one-hot", group(imputer, "one_hot_encoder: {handle_unknown: ignore}"),
			`fit d.csv: columns[0].steps[1].one_hot_encoder: would receive "missingindicator_city", the missing-indicator column columns[0].steps[0].simple_imputer adds (add_indicator: true)`},
		{"a second imputer before an ordinal encoder", group(imputer, "simple_imputer: {strategy: constant, fill_value: z}", "ordinal_encoder: {}"),
			`fit d.csv: columns[0].steps[1].simple_imputer: would receive "missingindicator_city", the missing-indicator column columns[0].steps[0].simple_imputer adds (add_indicator: true)`},
	} {
		_, err := fitArtifact(t, tc.spec, data)
		switch {
		case err == nil:
			t.Errorf("%s: fitted, want a refusal", tc.name)
		case !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "remove add_indicator"):
			t.Errorf("%s: got %v, want %s ... remove add_indicator", tc.name, err, tc.want)
		case strings.Contains(err.Error(), "declare the group"):
			t.Errorf("%s: got %v, which tells the user to declare a categorical group categorical", tc.name, err)
		}
	}
	for name, sp := range map[string]string{
		"indicator last":        group(imputer),
		"no indicator":          group("simple_imputer: {strategy: most_frequent}", "one_hot_encoder: {}"),
		"encoder keeps missing": group("one_hot_encoder: {}"),
	} {
		if _, err := fitArtifact(t, sp, data); err != nil {
			t.Errorf("%s: %v, want a fit", name, err)
		}
	}
}
