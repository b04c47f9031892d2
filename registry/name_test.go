package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	valid := []string{"a", "A", "0", "fraud", "fraud-model_v2.1", "2001.1", "v1.json", "a.b-c_d", strings.Repeat("z", MaxNameLen), "current"}
	for _, s := range valid {
		if err := ValidName(s); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range hostileNames {
		err := ValidName(s)
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", s, err)
		}
	}
}

func TestValidNameMessageShowsTheCharacter(t *testing.T) {
	cases := []struct{ name, want string }{
		{"a/b", `'/'`},
		{"ünï", `'ü'`},
		{"con\x00", `'\x00'`},
		{"", "empty"},
		{"a..b", `".."`},
		{strings.Repeat("a", 300), "300 bytes"},
	}
	for _, tc := range cases {
		err := ValidName(tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidName(%q) = %v, want a message containing %s", tc.name, err, tc.want)
		}
	}
}

func TestCurrentIsReservedAsVersion(t *testing.T) {
	if err := validVersion("current"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("validVersion(current) = %v, want ErrInvalidName", err)
	}
}
