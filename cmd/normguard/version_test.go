package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	const rev = "6295967beb9d989e7f7b39942842026f065e448f"
	info := func(mainVersion string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/normguard/normguard", Version: mainVersion}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	for _, tc := range []struct {
		name, ldflags string
		info          *debug.BuildInfo
		ok            bool
		want          string
	}{
		{"no build info", "dev", nil, false, "dev"},
		{"ldflags, no build info", "v1.2.3", nil, false, "v1.2.3"},
		{"module version and clean tree", "dev",
			info("v1.4.0", "vcs.revision", rev, "vcs.modified", "false"), true,
			"v1.4.0 (revision " + rev + ")"},
		{"pseudo-version, modified tree", "dev",
			info("v0.0.0-20261125225141-6295967beb9d+dirty", "vcs.revision", rev, "vcs.modified", "true"), true,
			"v0.0.0-20261125225141-6295967beb9d+dirty (revision " + rev + ", modified)"},
		{"ldflags win over the module version", "v2.0.0",
			info("v0.0.0-20261125225141-6295967beb9d", "vcs.revision", rev, "vcs.modified", "false"), true,
			"v2.0.0 (revision " + rev + ")"},
		{"built without VCS", "dev", info("(devel)"), true, "(devel) (no VCS revision recorded: build with `go build -buildvcs=true` in a git checkout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatVersion(tc.ldflags, tc.info, tc.ok); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVersionFlag checks that --version prints what versionString reports
// (the test binary's own build info), after cobra's "normguard version ".
func TestVersionFlag(t *testing.T) {
	code, out, errOut := runCLI(t, "--version")
	if code != ExitOK {
		t.Fatalf("--version: exit %d, stderr %s", code, errOut)
	}
	if want := "normguard version " + versionString() + "\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if strings.Contains(out, "version dev") && version == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			t.Errorf("--version printed the placeholder %q though the build info has %q", out, bi.Main.Version)
		}
	}
}
