package artifact

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/profile"
)

// TestTimeProfileRefused edits the time section of a fitted artifact's
// profile as the attack run did (a min that is no time, min after max, a
// layout that does not read min and max, time on a column of
// identifiers), re-encodes it with a valid digest and requires Decode
// and the streamed Verify (uploads) to refuse it with the same message
// naming the JSON path.
func TestTimeProfileRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(a *Artifact)
		want string
	}{
		{"min garbage", func(a *Artifact) { a.Profile.Inputs[1].Time.Min = "garbage" },
			`profile.inputs[1].time.min: "garbage" is not a time in the layout "2006-01-02 15:04"`},
		{"max garbage on the outputs", func(a *Artifact) { a.Profile.Outputs[1].Time.Max = "2024-13-01 00:00" },
			`profile.outputs[1].time.max: "2024-13-01 00:00" is not a time in the layout "2006-01-02 15:04"`},
		{"min after max", func(a *Artifact) { a.Profile.Inputs[1].Time.Min = "2027-01-01 00:00" },
			`profile.inputs[1].time.min: "2027-01-01 00:00" is after max "2024-01-28 `},
		{"date layout with hours", func(a *Artifact) { a.Profile.Inputs[1].Time.Layout = "2006-01-02" },
			`profile.inputs[1].time.hours: must be absent for the date-only layout "2006-01-02"`},
		{"date layout", func(a *Artifact) { tm := a.Profile.Inputs[1].Time; tm.Layout, tm.Hours = "2006-01-02", nil },
			`profile.inputs[1].time.min: "2024-01-01 00:00" is not a time in the layout "2006-01-02"`},
		{"layout with a T", func(a *Artifact) { a.Profile.Inputs[1].Time.Layout = "2006-01-02T15:04" },
			`profile.inputs[1].time.min: "2024-01-01 00:00" is not a time in the layout "2006-01-02T15:04"`},
		{"value outside the range", func(a *Artifact) { tm := a.Profile.Inputs[1].Time; tm.Min = tm.Max },
			`is before time.min "2024-01-28 `},
		{"time on a column of identifiers", func(a *Artifact) {
			c := a.Profile.Inputs[1].Categories
			for i := range c.Values {
				c.Values[i] = fmt.Sprintf("u%08d", 7919*i)
			}
		}, `profile.inputs[1].categories.values[0]: "u00000000" is not a time in the layout "2006-01-02 15:04"`},
		{"time on an identifier", func(a *Artifact) { a.Profile.Inputs[1].Kind = profile.KindIdentifier },
			`profile.inputs[1].time: must be absent for kind "identifier"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := profiled(t)
			tc.edit(a)
			data, err := Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			_, decErr := Decode(data, "m.json")
			if decErr == nil || !strings.Contains(decErr.Error(), tc.want) || !errors.Is(decErr, ErrInvalid) {
				t.Fatalf("Decode: got %v, want an ErrInvalid with %q", decErr, tc.want)
			}
			for _, fallback := range []int64{0, decodeFallbackSize} {
				restore := SetDecodeFallbackSizeForTest(fallback)
				_, err := Verify(bytes.NewReader(data), int64(len(data)), "m.json")
				restore()
				if err == nil || err.Error() != decErr.Error() {
					t.Errorf("Verify (fallback size %d):\n got %v\nwant %v", fallback, err, decErr)
				}
			}
		})
	}
	// The unedited artifact loads both ways.
	data, err := Encode(profiled(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(data, "m.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(bytes.NewReader(data), int64(len(data)), "m.json"); err != nil {
		t.Fatal(err)
	}
}
