package errtext

import (
	"fmt"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("A", 100<<20)
	tests := []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{"tab\there", `"tab\there"`},
		{strings.Repeat("x", MaxQuoted), `"` + strings.Repeat("x", MaxQuoted) + `"`},
		{strings.Repeat("x", MaxQuoted+1), `"` + strings.Repeat("x", MaxQuoted) + `"... (65 bytes)`},
		{long, `"` + strings.Repeat("A", MaxQuoted) + `"... (104857600 bytes)`},
		// A two-byte rune across the cut is left out whole.
		{strings.Repeat("x", MaxQuoted-1) + "é" + "yy", `"` + strings.Repeat("x", MaxQuoted-1) + `"... (67 bytes)`},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%.80q): got %.200s, want %.200s", tc.in, got, tc.want)
		}
		if got := QuoteBytes([]byte(tc.in)); got != tc.want {
			t.Errorf("QuoteBytes(%.80q): got %.200s, want %.200s", tc.in, got, tc.want)
		}
	}
}

func TestList(t *testing.T) {
	if got, want := List([]string{"a", "b"}), `"a", "b"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	names := make([]string, 2_000_000)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	got := List(names)
	if !strings.HasPrefix(got, `"c0", "c1", `) || !strings.HasSuffix(got, `"c19", and 1999980 more`) {
		t.Errorf("got %s", got)
	}
	names[0] = strings.Repeat("n", 1<<20)
	if got := ListN(names[:1], 5); len(got) > 100 {
		t.Errorf("a long name is not shortened: %d bytes", len(got))
	}
}

func TestShortenAndListPlain(t *testing.T) {
	if got := Shorten("abc"); got != "abc" {
		t.Errorf("Shorten(abc) = %q", got)
	}
	long := strings.Repeat("é", 100) // 200 bytes: the cut falls on a rune boundary
	if got, want := Shorten(long), strings.Repeat("é", 32)+"... (200 bytes)"; got != want {
		t.Errorf("Shorten(long) = %q, want %q", got, want)
	}
	names := make([]string, 25)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	if got := ListPlain(names); !strings.HasPrefix(got, "c0, c1, ") || !strings.HasSuffix(got, "c19, and 5 more") {
		t.Errorf("ListPlain = %q", got)
	}
}

// TestListPlainEscapesControls (attack run 21 F5): validate printed a
// JSON Lines key holding a NUL raw; a name with a control character is
// quoted and escaped, the others stay plain.
func TestListPlainEscapesControls(t *testing.T) {
	got := ListPlain([]string{"a", "x\x00", "b\nc", "é"})
	if want := `a, "x\x00", "b\nc", é`; got != want {
		t.Errorf("ListPlain = %q, want %q", got, want)
	}
}
