package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedRegistry503: files of the registry folder edited, replaced
// or removed by hand are the registry's fault, answered 503
// registry_damaged naming the file (attack run 11 F3: a 500 internal for
// some, a 400 for others), and one damaged model does not hide the
// others from GET /v1/models.
func TestDamagedRegistry503(t *testing.T) {
	type damage struct {
		name string
		do   func(t *testing.T, dir string)
		// paths answered 503, and whether the listing still answers
		paths  []string
		listOK bool
		// otherToo: the damage reaches the other model too (every blob)
		otherToo bool
	}
	write := func(rel, body string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, rel), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []damage{
		{"garbage current.json", write("models/fraud/current.json", "{garbage"),
			[]string{"/v1/models/fraud", "/v1/models/fraud/versions/current/artifact"}, true, false},
		{"current.json names no valid version", write("models/fraud/current.json", `{"version": "../x"}`),
			[]string{"/v1/models/fraud", "/v1/models/fraud/versions/current/artifact"}, true, false},
		{"garbage version file", write("models/fraud/versions/1.json", "not json"),
			[]string{"/v1/models/fraud", "/v1/models/fraud/versions/1/artifact"}, true, false},
		{"version file with a bad digest", write("models/fraud/versions/1.json", `{"digest": "md5:1"}`),
			[]string{"/v1/models/fraud", "/v1/models/fraud/versions/1/artifact"}, true, false},
		{"version file replaced by a folder", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "models/fraud/current.json")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"/v1/models/fraud", "/v1/models/fraud/versions/current/artifact"}, true, false},
		{"blobs removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "blobs")); err != nil {
				t.Fatal(err)
			}
		}, []string{"/v1/models/fraud/versions/1/artifact", "/v1/models/other/versions/current/artifact"}, true, true},
		{"blob cut short", func(t *testing.T, dir string) {
			ms, _ := filepath.Glob(filepath.Join(dir, "blobs/sha256/*.json"))
			for _, m := range ms {
				if err := os.Truncate(m, 100); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{"/v1/models/fraud/versions/1/artifact"}, true, true},
		// attack run 16: a current.json naming a version without a version
		// file answered 404 not_found, and /healthz and the listing said
		// nothing.
		{"current.json names a missing version", write("models/fraud/current.json", `{"version": "9"}`),
			[]string{"/v1/models/fraud", "/v1/models/fraud/versions/current/artifact"}, true, false},
		{"versions folder removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "models/fraud/versions")); err != nil {
				t.Fatal(err)
			}
		}, []string{"/v1/models/fraud", "/v1/models/fraud/versions/current/artifact"}, true, false},
		// attack run 15: a version file copied from another model's
		// folder served that model under this name.
		{"version file of another model", func(t *testing.T, dir string) {
			other, err := os.ReadFile(filepath.Join(dir, "models/other/versions/1.json"))
			if err != nil {
				t.Fatal(err)
			}
			write("models/fraud/versions/1.json", string(other))(t, dir)
		}, []string{"/v1/models/fraud/versions/1/artifact", "/v1/models/fraud/versions/current/artifact"}, true, false},
		{"models folder removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "models")); err != nil {
				t.Fatal(err)
			}
		}, []string{"/v1/models"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, dir := openTemp(t)
			ctx := context.Background()
			for _, m := range []string{"fraud", "other"} {
				if _, _, err := l.Put(ctx, m, "1", fitArtifact(t, m, "1", 1), PutOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			c.do(t, dir)
			// A fresh store sees the folder as it is now (no cache); Open
			// would make the models folder again.
			l2 := l
			if c.listOK {
				var err error
				if l2, err = Open(dir); err != nil {
					t.Fatal(err)
				}
			}
			srv := newTestHandler(t, l2)
			for _, p := range c.paths {
				var body errorBody
				get(t, srv.URL+p, http.StatusServiceUnavailable, &body)
				if body.Error.Code != CodeDamaged || body.Error.Message == "" {
					t.Errorf("GET %s: %+v, want code %s with a message", p, body, CodeDamaged)
				}
			}
			if !c.listOK {
				return
			}
			var list listBody
			get(t, srv.URL+"/v1/models", http.StatusOK, &list)
			var names []string
			for _, m := range list.Models {
				names = append(names, m.Name)
				if m.Name == "other" && !c.otherToo && (m.Damaged != "" || m.Current != "1") {
					t.Errorf("the undamaged model is listed as %+v", m)
				}
				if (m.Name == "fraud" || c.otherToo) && m.Damaged == "" {
					t.Errorf("the damaged model is listed as %+v, want it marked damaged", m)
				}
			}
			if strings.Join(names, ",") != "fraud,other" {
				t.Errorf("listed %v, want both models", names)
			}
			// Through the Store interface the kind survives a remote.
			_, err := Dial(srv.URL, "", srv.Client()).Resolve(ctx, "fraud", "1")
			if _, lerr := l2.Resolve(ctx, "fraud", "1"); errors.Is(lerr, ErrDamaged) && !errors.Is(err, ErrDamaged) {
				t.Errorf("remote Resolve: %v, want ErrDamaged as the local store's %v", err, lerr)
			}
		})
	}
}

func newTestHandler(t *testing.T, l *Local) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(l))
	t.Cleanup(srv.Close)
	return srv
}

// TestLinkedModelFolderListed: a model folder that is a link to a folder
// is listed, as it is served (attack run 16: GET /v1/models/m answered 200
// for a model GET /v1/models left out).
func TestLinkedModelFolderListed(t *testing.T) {
	l, dir := openTemp(t)
	ctx := context.Background()
	if _, _, err := l.Put(ctx, "fraud", "1", fitArtifact(t, "fraud", "1", 1), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "fraud")
	if err := os.Rename(filepath.Join(dir, "models/fraud"), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "models/fraud")); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := l2.List(ctx)
	if err != nil || len(ms) != 1 || ms[0].Name != "fraud" || ms[0].Current != "1" || ms[0].Damaged != "" {
		t.Fatalf("listing %+v, %v; want fraud with current 1", ms, err)
	}
}
