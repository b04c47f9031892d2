package table

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
)

// Dialect is how a delimited text file (CSV, TSV) separates its fields.
// The zero value is the file's default: a tab for .tsv, a comma otherwise.
type Dialect struct {
	// Delimiter separates fields; 0 means the default for the file name.
	Delimiter byte
}

// ParseDelimiter reads a delimiter as a user types it: one ASCII
// character (";", "|", ","), or a tab written as a tab, `\t` or "tab".
// Quotes, CR, LF and characters beyond ASCII are refused.
func ParseDelimiter(s string) (byte, error) {
	switch strings.ToLower(s) {
	case `\t`, "tab", "\t":
		return '\t', nil
	}
	if len(s) != 1 || s[0] >= 0x80 || s[0] == '"' || s[0] == '\r' || s[0] == '\n' {
		return 0, fmt.Errorf("delimiter %q: want one character such as ';' or '|', or tab", s)
	}
	return s[0], nil
}

// dialects holds the dialects set with SetDialect, by cleaned path.
var dialects sync.Map

// SetDialect makes Open and Create read and write the delimited text file
// at path (CSV or TSV, compressed or not) with d instead of the dialect its
// extension implies, until the returned function is called. It lets a
// command line's --delimiter reach every reader of the files it names,
// including those opened by library code that only takes a path. A zero
// Dialect sets nothing.
func SetDialect(path string, d Dialect) (undo func()) {
	if d == (Dialect{}) {
		return func() {}
	}
	key := dialectKey(path)
	old, had := dialects.Swap(key, d)
	return func() {
		if had {
			dialects.Store(key, old)
		} else {
			dialects.Delete(key)
		}
	}
}

func dialectKey(path string) string {
	if path == "-" {
		return path
	}
	return filepath.Clean(path)
}

// DialectOf returns the dialect of the delimited text file at path: the
// one set with SetDialect, else a tab for a .tsv name (before any .gz or
// .zst), else a comma.
func DialectOf(path string) Dialect {
	if d, ok := dialects.Load(dialectKey(path)); ok {
		return d.(Dialect)
	}
	_, rest := CompressionOf(path)
	if strings.EqualFold(filepath.Ext(rest), ".tsv") {
		return Dialect{Delimiter: '\t'}
	}
	return Dialect{Delimiter: ','}
}

// commonDelimiters are the delimiters a header is checked against when it
// does not split as expected.
var commonDelimiters = []byte{';', '\t', '|', ','}

// delimiterName names a delimiter in prose: "semicolon-separated".
func delimiterName(c byte) string {
	switch c {
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	case '|':
		return "pipe"
	case ',':
		return "comma"
	}
	return fmt.Sprintf("%q", c)
}

// delimiterFlag spells the --delimiter argument that selects c.
func delimiterFlag(c byte) string {
	if c == '\t' {
		return "--delimiter tab"
	}
	return fmt.Sprintf("--delimiter '%c'", c)
}

// otherDelimiter returns the common delimiter other than delim that text
// holds most often, or 0.
func otherDelimiter(text string, delim byte) byte {
	best, most := byte(0), 0
	for _, c := range commonDelimiters {
		if c == delim {
			continue
		}
		if n := strings.Count(text, string(c)); n > most {
			best, most = c, n
		}
	}
	return best
}

// delimiterHint is the advice for a file whose header seems to use c;
// subject is what looks so ("it", "the header").
func delimiterHint(subject string, c byte) string {
	return fmt.Sprintf("%s looks %s-separated: pass %s", subject, delimiterName(c), delimiterFlag(c))
}

// splitDelimiter returns the common delimiter other than delim that,
// splitting the header's names, would give one of the wanted names, or 0:
// "species;island" holds "island" when split by ';'.
func splitDelimiter(header, wanted []string, delim byte) byte {
	for _, c := range commonDelimiters {
		if c == delim {
			continue
		}
		pieces := map[string]bool{}
		for _, h := range header {
			if strings.IndexByte(h, c) < 0 {
				continue
			}
			for _, p := range strings.Split(h, string(c)) {
				pieces[p] = true
			}
		}
		for _, w := range wanted {
			if pieces[w] {
				return c
			}
		}
	}
	return 0
}
