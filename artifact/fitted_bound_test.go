package artifact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

// TestFittedEntriesBound holds Verify and Decode to one verdict on each
// kind of per-column fitted array (a float array, lists of int, int64 and
// *int), lengthened to the bound on entries and one past it: at the bound
// the step's own rules refuse it (one entry per input), past it the
// bound refuses it by its path, worded alike by both readers.
func TestFittedEntriesBound(t *testing.T) {
	spec := "version: 1\ncolumns:\n" +
		"  - names: [city]\n    type: categorical\n    steps: [one_hot_encoder: {drop: first}]\n" +
		"  - names: [x]\n    steps: [kbins_discretizer: {n_bins: 2, encode: ordinal, strategy: uniform}, standard_scaler]\n"
	var csv strings.Builder
	csv.WriteString("city,x\n")
	for i, c := range []string{"lyon", "nice", "paris", "lyon", "metz"} {
		fmt.Fprintf(&csv, "%s,%d\n", c, i)
	}
	const bound = 16
	for _, c := range []struct {
		path string
		grow func(a *artifact.Artifact, n int)
	}{
		{"groups[1].steps[1].fitted.scale_", func(a *artifact.Artifact, n int) {
			sc := a.Groups[1].Steps[1].Fitted.(*step.StandardScaler)
			for len(sc.Scale) < n {
				sc.Scale = append(sc.Scale, 1)
			}
		}},
		{"groups[1].steps[1].fitted.n_samples_seen_", func(a *artifact.Artifact, n int) {
			sc := a.Groups[1].Steps[1].Fitted.(*step.StandardScaler)
			for len(sc.NSamplesSeen) < n {
				sc.NSamplesSeen = append(sc.NSamplesSeen, 5)
			}
		}},
		{"groups[1].steps[0].fitted.n_bins_", func(a *artifact.Artifact, n int) {
			kb := a.Groups[1].Steps[0].Fitted.(*step.KBinsDiscretizer)
			for len(kb.NBins) < n {
				kb.NBins = append(kb.NBins, 2)
			}
		}},
		{"groups[0].steps[0].fitted.drop_idx_", func(a *artifact.Artifact, n int) {
			oh := a.Groups[0].Steps[0].Fitted.(*step.OneHotEncoder)
			for len(oh.DropIdx) < n {
				oh.DropIdx = append(oh.DropIdx, nil)
			}
		}},
	} {
		for _, n := range []int{bound, bound + 1} {
			a := fitCSV(t, spec, csv.String())
			c.grow(a, n)
			data, err := artifact.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			restore := artifact.SetMaxOutputsForTest(bound)
			decodeErr, verifyErr := verdicts(data)
			restore()
			want := fmt.Sprintf("corrupt artifact: %s: more than the %d entries a fitted array may hold", c.path, bound)
			for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
				if err == nil {
					t.Errorf("%s of %d entries: %s accepted it", c.path, n, name)
					continue
				}
				if over := strings.Contains(err.Error(), want); over != (n > bound) {
					t.Errorf("%s of %d entries, bound %d: %s got %v", c.path, n, bound, name, err)
				}
			}
			if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
				t.Errorf("%s of %d entries: Decode and Verify word the refusal differently:\n%v\n%v", c.path, n, decodeErr, verifyErr)
			}
		}
	}
}

// TestHeadTypeRefusal: a head field holding another JSON type than the
// artifact's (an edited file, or another JSON document) is refused by
// its name and the types, alike by both readers, not as invalid JSON.
func TestHeadTypeRefusal(t *testing.T) {
	data := outputsCase(t)
	for _, c := range []struct{ old, new, want string }{
		{`"format": "normguard.artifact"`, `"format": 7`, "format: a JSON number where an artifact holds a string"},
		{`"format_version": 1`, `"format_version": "1"`, "format_version: a JSON string where an artifact holds a number"},
		{`"digest": "sha256:`, `"digest": ["sha256:`, "digest: a JSON array where an artifact holds a string"},
	} {
		edited := []byte(strings.Replace(string(data), c.old, c.new, 1))
		if c.old == `"digest": "sha256:` {
			i := strings.Index(string(edited), `["sha256:`)
			j := i + strings.Index(string(edited[i:]), `",`)
			edited = []byte(string(edited[:j+1]) + "]" + string(edited[j+1:]))
		}
		if string(edited) == string(data) {
			t.Fatalf("%s is not in the artifact", c.old)
		}
		decodeErr, verifyErr := verdicts(edited)
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s -> %s: %s got %v, want %q", c.old, c.new, name, err, c.want)
			}
		}
	}
}
