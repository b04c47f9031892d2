package drift

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/table"
)

// TestNewCategoriesNotUTF8Escaped: new categories that are not UTF-8
// (Latin-1 "Torg\xe9rsen", "Torg\xe8rsen") are listed escaped as
// validate's descriptions write them, so the JSON tells them apart
// instead of writing both as U+FFFD (attack run 35 F4).
func TestNewCategoriesNotUTF8Escaped(t *testing.T) {
	var ref, cur []string
	for i := 0; i < 60; i++ {
		ref = append(ref, []string{"Biscoe", "Dream", "Torgersen"}[i%3])
		cur = append(cur, []string{"Biscoe", "Dream", "Torg\xe9rsen", "Torg\xe8rsen"}[i%4])
	}
	a := table.Column{Name: "island", Kind: table.String, Str: ref, Null: make([]bool, len(ref))}
	b := table.Column{Name: "island", Kind: table.String, Str: cur, Null: make([]bool, len(cur))}
	want := []string{`Torg\xe8rsen`, `Torg\xe9rsen`}
	rep, err := Compare([]table.Column{a}, []table.Column{b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prep, err := CompareProfile(profile.Columns([]table.Column{a}, 1), []table.Column{b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Report{"reference": rep, "artifact": prep} {
		got := slices.Clone(r.Features[0].NewCategories)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got new categories %q, want %q", name, got, want)
		}
		js, err := json.Marshal(r.Features[0].NewCategories)
		if err != nil {
			t.Fatal(err)
		}
		var back []string
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if len(back) == 2 && back[0] == back[1] {
			t.Errorf("%s: JSON %s lists two categories alike", name, js)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"Biscoe", "Biscoe"}, {"café", "café"}, {"caf\xe9", `caf\xe9`}, {"a\x00b", `a\x00b`},
	} {
		if got := ShownText(tc.in); got != tc.want {
			t.Errorf("ShownText(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
