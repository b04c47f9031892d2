package registry

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest model or version name.
const MaxNameLen = 128

// ValidName checks a model or version name: 1 to 128 characters of ASCII
// letters, digits, '.', '_' and '-', starting with a letter or digit,
// with no "..". Names become file names and URL path segments, so nothing
// else (no '/', '%', NUL, spaces or non-ASCII letters) is accepted. The
// error wraps ErrInvalidName.
func ValidName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: the name is empty; use letters, digits, '.', '_' and '-'", ErrInvalidName)
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("%w: %q is %d bytes long, at most %d are allowed", ErrInvalidName, s[:32]+"...", len(s), MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == '-':
			if i == 0 {
				return fmt.Errorf("%w: %q starts with %q; start with a letter or digit", ErrInvalidName, s, c)
			}
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return fmt.Errorf("%w: %q contains %q; use only letters, digits, '.', '_' and '-'", ErrInvalidName, s, r)
		}
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf("%w: %q contains \"..\"", ErrInvalidName, s)
	}
	return nil
}

// validVersion checks a version name for storing: a valid name that is
// not the alias for the current version.
func validVersion(s string) error {
	if s == CurrentAlias {
		return fmt.Errorf("%w: %q is reserved for the current version; pick another version name", ErrInvalidName, s)
	}
	return ValidName(s)
}
