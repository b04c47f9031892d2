// Package errtext shortens what an error message quotes of the input: a
// value the user gave may be megabytes long (a category, a header of
// millions of columns), and an error that repeats it whole floods a
// terminal, a log or an HTTP response. A message quotes a short prefix of
// a value with its length, and the first few names of a long list with
// how many more there are.
package errtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuoted is the most bytes of a value Quote shows.
const MaxQuoted = 64

// MaxNames is the most names List shows.
const MaxNames = 20

// Quote returns s quoted as strconv.Quote does (%q) when it is at most
// MaxQuoted bytes long; a longer s is shown as its first MaxQuoted bytes
// (cut at a UTF-8 boundary), quoted, then "... (N bytes)":
//
//	"AAAAAAAA…AAAA"... (104857600 bytes)
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(prefix(s)) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// QuoteBytes is Quote for a byte slice; it copies at most MaxQuoted bytes
// of b.
func QuoteBytes(b []byte) string {
	if len(b) <= MaxQuoted {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(prefix(string(b[:MaxQuoted+1]))) + "... (" + strconv.Itoa(len(b)) + " bytes)"
}

// prefix returns the first MaxQuoted bytes of s (len(s) > MaxQuoted), less
// a rune the cut would split.
func prefix(s string) string {
	n := MaxQuoted
	for n > MaxQuoted-utf8.UTFMax && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// List returns names for a message, each quoted by Quote, joined by ", ":
// the first MaxNames of them, then ", and N more" when there are more.
func List(names []string) string {
	return ListN(names, MaxNames)
}

// ListN is List showing at most show names.
func ListN(names []string, show int) string { return list(names, show, Quote) }

// list joins the first show names, each written by format, then ", and N
// more" when there are more.
func list(names []string, show int, format func(string) string) string {
	var sb strings.Builder
	for i, n := range names {
		if i == show {
			sb.WriteString(", and ")
			sb.WriteString(strconv.Itoa(len(names) - show))
			sb.WriteString(" more")
			break
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(format(n))
	}
	return sb.String()
}

// Shorten returns s unchanged when it is at most MaxQuoted bytes long,
// else its first MaxQuoted bytes (cut at a UTF-8 boundary) followed by
// "... (N bytes)": for a value kept to be shown later unquoted (an
// example in a report).
func Shorten(s string) string {
	if len(s) <= MaxQuoted {
		return s
	}
	return prefix(s) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// ListPlain is List without quotes: names shortened by Shorten, the first
// MaxNames of them, then ", and N more". A name holding a control
// character (a NUL, a line feed) is quoted as Quote writes it, escaped:
// it was printed raw (attack run 21: a JSON Lines key "x\u0000").
func ListPlain(names []string) string {
	return list(names, MaxNames, func(s string) string {
		if strings.ContainsFunc(s, unicode.IsControl) {
			return Quote(s)
		}
		return Shorten(s)
	})
}
