package registry

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidName checks that every name ValidName accepts stays one plain
// file name inside the registry folder, and matches the documented rule.
func FuzzValidName(f *testing.F) {
	for _, s := range append(hostileNames, "fraud", "v1.2", "a-b_c", "current") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidName(s) != nil {
			return
		}
		if len(s) == 0 || len(s) > MaxNameLen || strings.Contains(s, "..") {
			t.Fatalf("ValidName(%q) accepted a name of length %d or with \"..\"", s, len(s))
		}
		if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || strings.ContainsAny(s[:1], "._-") {
			t.Fatalf("ValidName(%q) accepted a character outside the rule", s)
		}
		p := filepath.Join("/reg/models", s)
		if filepath.Dir(p) != "/reg/models" || filepath.Base(p) != s {
			t.Fatalf("ValidName(%q) accepted a name that leaves its folder: %s", s, p)
		}
	})
}
