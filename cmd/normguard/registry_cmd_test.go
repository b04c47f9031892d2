package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/registry"
)

const registryTestToken = "t0ken"

// registryArtifacts fits three artifacts into dir: fraud@1, fraud@2 (other
// training data) and one linked to no model.
func registryArtifacts(t *testing.T, dir string) (a1, a2, anon string) {
	t.Helper()
	a1, a2, anon = filepath.Join(dir, "a1.json"), filepath.Join(dir, "a2.json"), filepath.Join(dir, "anon.json")
	train2 := filepath.Join(dir, "train2.csv")
	if err := os.WriteFile(train2, []byte("age,income,city\n20,1000,rome\n30,2000,oslo\n40,,rome\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "fit", "-q", "--spec", bad("good.yaml"), "--data", bad("train.csv"), "--out", a1, "--model", "fraud", "--model-version", "1")
	mustRun(t, "fit", "-q", "--spec", bad("good.yaml"), "--data", train2, "--out", a2, "--model", "fraud", "--model-version", "2")
	mustRun(t, "fit", "-q", "--spec", bad("good.yaml"), "--data", train2, "--out", anon)
	return a1, a2, anon
}

// registryServer serves a fresh registry folder over HTTP; writes need
// registryTestToken, as `normguard serve` requires.
func registryServer(t *testing.T) string {
	t.Helper()
	l, err := registry.Open(filepath.Join(t.TempDir(), "served"))
	if err != nil {
		t.Fatal(err)
	}
	h := registry.Handler(l)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.Header.Get("Authorization") != "Bearer "+registryTestToken {
			registry.WriteError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

var pushedLine = regexp.MustCompile(`^pushed (\S+)@(\S+) (sha256:[0-9a-f]{64}) \((.*)\)\n$`)

func TestPushPullList(t *testing.T) {
	dir := t.TempDir()
	a1, a2, anon := registryArtifacts(t, dir)
	d1, d2 := artifactDigest(t, a1), artifactDigest(t, a2)
	t.Setenv(tokenEnv, registryTestToken)
	targets := map[string]string{
		"folder": filepath.Join(t.TempDir(), "reg", "nested"), // created by the first push
		"server": registryServer(t),
	}
	for name, reg := range targets {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			pushes := []struct {
				args                      []string
				model, version, digest, n string
			}{
				{[]string{a1}, "fraud", "1", d1, "current"},
				{[]string{a1}, "fraud", "1", d1, "already there, current"},
				{[]string{a2, "--keep-current"}, "fraud", "2", d2, "not current"},
				{[]string{anon, "--model", "churn", "--model-version", "2024-01"}, "churn", "2024-01", artifactDigest(t, anon), "current"},
			}
			for _, p := range pushes {
				got := mustRun(t, append([]string{"push", "--registry", reg}, p.args...)...)
				m := pushedLine.FindStringSubmatch(got)
				if m == nil || m[1] != p.model || m[2] != p.version || m[3] != p.digest || m[4] != p.n {
					t.Errorf("push %v: got %q, want \"pushed %s@%s %s (%s)\"", p.args, got, p.model, p.version, p.digest, p.n)
				}
			}

			pulls := []struct{ ref, want string }{
				{"fraud", a1},
				{"fraud@current", a1},
				{"fraud@2", a2},
				{"churn@2024-01", anon},
			}
			for _, p := range pulls {
				file := filepath.Join(out, strings.ReplaceAll(p.ref, "@", "_")+".json")
				got := mustRun(t, "pull", p.ref, "--registry", reg, "--out", file)
				if !bytes.Equal(readFile(t, file), readFile(t, p.want)) {
					t.Errorf("pull %s: the file differs from %s", p.ref, p.want)
				}
				if !strings.HasPrefix(got, "pulled ") || !strings.Contains(got, artifactDigest(t, p.want)) {
					t.Errorf("pull %s: got %q, want \"pulled ... %s -> ...\"", p.ref, got, artifactDigest(t, p.want))
				}
			}
			code, stdout, _ := runCLI(t, "pull", "fraud@2", "--registry", reg, "--out", "-")
			if code != ExitOK || stdout != string(readFile(t, a2)) {
				t.Errorf("pull --out -: exit %d, want 0 and the artifact on stdout", code)
			}

			var listed struct{ Models []registry.Model }
			if err := json.Unmarshal([]byte(mustRun(t, "list", "--registry", reg, "--format", "json")), &listed); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range listed.Models {
				for _, v := range m.Versions {
					got = append(got, strings.Join([]string{v.Model, v.Version, v.Digest, map[bool]string{true: "current"}[v.Current]}, " "))
				}
			}
			want := []string{"churn 2024-01 " + artifactDigest(t, anon) + " current", "fraud 1 " + d1 + " current", "fraud 2 " + d2 + " "}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("list --format json:\ngot  %q\nwant %q", got, want)
			}

			table := mustRun(t, "list", "--registry", reg)
			lines := strings.Split(strings.TrimSpace(table), "\n")
			wantRows := []string{
				"MODEL VERSION CURRENT DIGEST CREATED",
				"churn 2024-01 * " + artifactDigest(t, anon)[:19],
				"fraud 1 * " + d1[:19],
				"fraud 2 " + d2[:19],
			}
			if len(lines) != len(wantRows) {
				t.Fatalf("list table: got\n%s\nwant %d lines", table, len(wantRows))
			}
			for i, l := range lines {
				if f := strings.Join(strings.Fields(l), " "); !strings.HasPrefix(f, wantRows[i]) {
					t.Errorf("list table line %d: got %q, want it to start with %q", i, f, wantRows[i])
				}
			}
		})
	}
}

func artifactDigest(t *testing.T, path string) string {
	t.Helper()
	a, err := artifact.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return a.Digest
}

func TestRegistryCommandErrors(t *testing.T) {
	dir := t.TempDir()
	a1, a2, anon := registryArtifacts(t, dir)
	t.Setenv(tokenEnv, registryTestToken)
	folder := filepath.Join(t.TempDir(), "reg")
	server := registryServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	for _, reg := range []string{folder, server} {
		mustRun(t, "push", a1, "--registry", reg)
	}
	out := filepath.Join(dir, "out.json")
	corrupt := filepath.Join(dir, "corrupt.json")
	os.WriteFile(corrupt, readFile(t, a1)[:200], 0o644)

	type errCase struct {
		name string
		args []string
		want string
	}
	cases := []errCase{
		{"missing registry flag", []string{"push", a1}, "--registry is required"},
		{"missing out flag", []string{"pull", "fraud", "--registry", folder}, "--out is required"},
		{"anonymous artifact", []string{"push", anon, "--registry", folder}, "pass --model NAME"},
		{"no version", []string{"push", anon, "--registry", folder, "--model", "x"}, "pass --model-version V"},
		{"corrupt artifact file", []string{"push", corrupt, "--registry", folder}, "corrupt artifact"},
		{"missing artifact file", []string{"push", filepath.Join(dir, "nope.json"), "--registry", folder}, "no such file"},
		{"other model", []string{"push", a1, "--registry", folder, "--model", "churn"}, `fitted for model "fraud", not "churn"`},
		{"missing folder for pull", []string{"pull", "fraud", "--registry", filepath.Join(dir, "typo"), "--out", out}, "does not exist"},
		{"missing folder for list", []string{"list", "--registry", filepath.Join(dir, "typo")}, "does not exist"},
		{"bad format", []string{"list", "--registry", folder, "--format", "xml"}, "--format must be table or json"},
		{"unreachable server", []string{"list", "--registry", down}, "cannot reach"},
		{"unreachable server push", []string{"push", a1, "--registry", down}, "cannot reach"},
	}
	for _, reg := range []string{folder, server} {
		cases = append(cases,
			errCase{"unknown model " + reg, []string{"pull", "nope", "--registry", reg, "--out", out}, `no model "nope"`},
			errCase{"unknown version " + reg, []string{"pull", "fraud@9", "--registry", reg, "--out", out}, `has no version "9"`},
			errCase{"conflict " + reg, []string{"push", a2, "--registry", reg, "--model-version", "1"}, "conflict"},
			errCase{"bad model name " + reg, []string{"push", a1, "--registry", reg, "--model", "../x"}, "invalid name"},
			errCase{"bad version name " + reg, []string{"pull", "fraud@a/b", "--registry", reg, "--out", out}, "invalid name"},
			errCase{"reserved version " + reg, []string{"push", a1, "--registry", reg, "--model-version", "current"}, "reserved"},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != ExitError || !strings.Contains(errOut, tc.want) {
				t.Errorf("normguard %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errOut, ExitError, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("failed pulls left %s behind (stat: %v)", out, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !os.IsNotExist(err) {
		t.Errorf("pull/list created the mistyped registry folder (stat: %v)", err)
	}
}

func TestPushNeedsToken(t *testing.T) {
	dir := t.TempDir()
	a1, _, _ := registryArtifacts(t, dir)
	server := registryServer(t)
	for _, tok := range []string{"", "wrong"} {
		t.Setenv(tokenEnv, tok)
		code, _, errOut := runCLI(t, "push", a1, "--registry", server)
		if code != ExitError || !strings.Contains(errOut, "unauthorized") || !strings.Contains(errOut, tokenEnv) {
			t.Errorf("push with token %q: exit %d, stderr %q; want exit 2 saying unauthorized and naming %s", tok, code, errOut, tokenEnv)
		}
	}
	// Reads need none.
	t.Setenv(tokenEnv, "")
	if got := mustRun(t, "list", "--registry", server); !strings.Contains(got, "no models in") {
		t.Errorf("list without a token: got %q, want \"no models in ...\"", got)
	}
}
