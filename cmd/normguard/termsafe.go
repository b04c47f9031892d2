package main

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// terminalSafe returns text for a terminal with the characters that
// would act on it instead of showing written as \u escapes: control
// characters other than newline and tab (ESC starts a colour or cursor
// sequence) and the invisible format characters, bidirectional overrides
// among them (U+202E shows what follows reversed). Artifacts hold names
// and category values as the data gave them (attack run 9: a category
// recoloured inspect's output); invalid UTF-8 is written as \x escapes.
func terminalSafe(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if unsafeRune(r, n) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = fmt.Appendf(out, `\x%02x`, b[i])
		case unsafeRune(r, n):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// unsafeRune reports whether r (n bytes) is written escaped.
func unsafeRune(r rune, n int) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return r == utf8.RuneError && n == 1 || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
