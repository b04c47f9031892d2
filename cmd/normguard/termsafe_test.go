package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerminalSafe: control and format characters are written as
// escapes, everything else as it is (exact strings).
func TestTerminalSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain é 日本\n\tx":     "plain é 日本\n\tx",
		"a\x1b[31mred":        `a\u001b[31mred`,
		"abc\u202edef":        `abc\u202edef`,
		"zero\u200bwidth\r":   `zero\u200bwidth\u000d`,
		"bad\xffutf8\u0085c1": `bad\xffutf8\u0085c1`,
	} {
		if got := string(terminalSafe([]byte(in))); got != want {
			t.Errorf("terminalSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestInspectEscapesCategories: a category holding ESC and U+202E is
// shown escaped by inspect and diff (attack run 9, F5: inspect's "top"
// line wrote them raw, recolouring or reversing the terminal's text).
func TestInspectEscapesCategories(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	os.WriteFile(spec, []byte("version: 1\ncolumns:\n  - name: c\n    type: categorical\n    steps:\n      - one_hot_encoder: {}\n"), 0o644)
	for k, v := range []string{"k\u202e\x1b[31m", "k\u202e\x1b[32m"} {
		data := filepath.Join(dir, "d"+string(rune('0'+k))+".csv")
		os.WriteFile(data, []byte("c\n\""+v+"\"\nplain\n"), 0o644)
		mustRun(t, "fit", "--spec", spec, "--data", data, "--out", filepath.Join(dir, "a"+string(rune('0'+k))+".json"))
	}
	out := mustRun(t, "inspect", filepath.Join(dir, "a0.json"))
	_, diff, _ := runCLI(t, "diff", filepath.Join(dir, "a0.json"), filepath.Join(dir, "a1.json"))
	for name, text := range map[string]string{"inspect": out, "diff": diff} {
		if strings.ContainsAny(text, "\x1b\u202e") || !strings.Contains(text, `\u202e`) {
			t.Errorf("%s writes the raw characters or drops them:\n%s", name, text)
		}
	}
}
