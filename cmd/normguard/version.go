package main

import (
	"fmt"
	"runtime/debug"
)

// version is the normguard version, set at build time with
// -ldflags "-X main.version=v1.2.3"; left at "dev", the module version
// recorded in the build info is used instead.
var version = "dev"

// versionString is what `normguard --version` prints after "normguard
// version ": the version (the -ldflags value, else the main module's
// version from the build info), then the VCS revision and whether the
// working tree had uncommitted changes, when the build recorded them:
//
//	v0.0.0-20261204143000-6295967abcde+dirty (revision 6295967abcdef..., modified)
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	return formatVersion(version, info, ok)
}

// formatVersion builds versionString from the ldflags value v and the
// build info (ok false when the binary has none).
func formatVersion(v string, info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return v
	}
	if v == "dev" || v == "" {
		if mv := info.Main.Version; mv != "" {
			v = mv // "(devel)" when built without VCS or module version
		}
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		if v == "(devel)" {
			// go run, or go build with -buildvcs=false or outside a
			// checkout: say why there is no revision.
			return v + " (no VCS revision recorded: build with `go build -buildvcs=true` in a git checkout)"
		}
		return v
	}
	if modified == "true" {
		return fmt.Sprintf("%s (revision %s, modified)", v, rev)
	}
	return fmt.Sprintf("%s (revision %s)", v, rev)
}
