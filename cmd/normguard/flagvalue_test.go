package main

import (
	"strings"
	"testing"
)

// TestFlagValueWorded: a flag value its type cannot parse is named with
// what the flag wants, not with the Go parser's error (attack run 30 F7:
// `strconv.ParseInt: parsing "1GiB": invalid syntax`), exit 2; a bad model
// link given to fit is refused naming the flag, not at push (run 30 F10).
func TestFlagValueWorded(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--registry", t.TempDir(), "--max-body", "1GiB"}, `invalid value "1GiB" for --max-body: want a whole number of bytes, written out (1073741824 for 1 GiB)`},
		{[]string{"serve", "--registry", t.TempDir(), "--max-body", "99999999999999999999"}, `invalid value "99999999999999999999" for --max-body: want a whole number of bytes, written out (1073741824 for 1 GiB), within its type's range`},
		// A count is not told about bytes (attack run 32 F8).
		{[]string{"serve", "--registry", t.TempDir(), "--max-rows", "1e3"}, `invalid value "1e3" for --max-rows: want a whole number, written out (1000, not 1e3)`},
		{[]string{"fit", "--spec", "x.yaml", "--data", "x.csv", "--out", "o.json", "--model", "../x"}, `--model: invalid name: "../x" starts with '.'`},
		{[]string{"fit", "--spec", "x.yaml", "--data", "x.csv", "--out", "o.json", "--model", "m", "--model-version", "1/../x"}, `--model-version: invalid name: "1/../x" contains '/'`},
		{[]string{"fit", "--spec", "x.yaml", "--data", "x.csv", "--out", "o.json", "--model", "m", "--model-version", "current"}, `--model-version: "current" is reserved`},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "strconv") {
			t.Errorf("%s: exit %d, %q; want exit 2 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}
