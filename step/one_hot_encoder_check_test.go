package step

import (
	"strings"
	"testing"
)

// TestOneHotInfrequentOrder pins the rule the one-walk match of
// infrequent_categories_ needs: the infrequent categories are listed in
// the categories' order (as fit writes them); reordered, doubled or
// unknown ones are refused naming the entry, and the outputs are the
// frequent categories in order, then the infrequent group.
func TestOneHotInfrequentOrder(t *testing.T) {
	s := func(v string) *string { return &v }
	cats := CategoryList{s("a"), s("b"), s("c"), s("d"), nil}
	for _, c := range []struct {
		name string
		inf  CategoryList
		want string // error substring; "" accepts
		outs string
	}{
		{"in order", CategoryList{s("b"), s("d")}, "", "x_a x_c x_nan x_infrequent_sklearn"},
		{"with the missing category", CategoryList{s("a"), nil}, "", "x_b x_c x_d x_infrequent_sklearn"},
		{"reordered", CategoryList{s("d"), s("b")}, `infrequent_categories_[0]: "b" is not a category, is listed twice or is out of the categories' order`, ""},
		{"doubled", CategoryList{s("b"), s("b")}, `"b" is not a category, is listed twice`, ""},
		{"unknown", CategoryList{s("zz")}, `"zz" is not a category`, ""},
		{"empty", CategoryList{}, "infrequent_categories_[0] is empty (write null for none)", ""},
	} {
		e := &OneHotEncoder{Names: []string{"x"}, Categories: []CategoryList{cats}, InfrequentCategories: []CategoryList{c.inf}, HandleUnknown: "ignore"}
		err := e.Check(1)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", c.name, err)
				continue
			}
			var names []string
			for _, f := range e.Outputs() {
				names = append(names, f.Name)
			}
			if got := strings.Join(names, " "); got != c.outs {
				t.Errorf("%s: outputs %q, want %q", c.name, got, c.outs)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ...%s...", c.name, err, c.want)
		}
	}
}
