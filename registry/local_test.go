package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/normguard/normguard/artifact"
)

func openTemp(t testing.TB) (*Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "reg")
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l, dir
}

// files lists every file under dir, relative, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestOpenCreatesLayout(t *testing.T) {
	_, dir := openTemp(t)
	for _, d := range []string{"blobs/sha256", "models"} {
		if st, err := os.Stat(filepath.Join(dir, d)); err != nil || !st.IsDir() {
			t.Errorf("%s: got %v, want a folder", d, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "models", "x", "..", "..", "blobs", "sha256", "x")); err != nil {
		t.Errorf("Open of a nested new folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Open(file); err == nil {
		t.Errorf("Open(a file): got nil error, want one")
	}
}

func TestLocalLayout(t *testing.T) {
	l, dir := openTemp(t)
	data := fitArtifact(t, "fraud", "1", 0)
	digest := digestOf(t, data)
	hex := strings.TrimPrefix(digest, "sha256:")
	v, created := mustPut(t, l, "fraud", "1", data, PutOptions{})
	if !created || !v.Current || v.Digest != digest || v.Model != "fraud" || v.Version != "1" || v.Created.IsZero() {
		t.Fatalf("Put: got %+v created=%v, want fraud@1 %s current, created", v, created, digest)
	}
	want := []string{"blobs/sha256/" + hex + ".json", "models/fraud/current.json", "models/fraud/versions/1.json"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files: got %v, want %v (no temporary files left)", got, want)
	}
	blob, _ := os.ReadFile(filepath.Join(dir, want[0]))
	if !bytes.Equal(blob, data) {
		t.Errorf("blob: the bytes differ from the artifact pushed")
	}
	var vf struct {
		Digest  string `json:"digest"`
		Created string `json:"created"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, want[2]))
	if err := json.Unmarshal(b, &vf); err != nil || vf.Digest != digest || vf.Created == "" {
		t.Errorf("version file %s: got %+v (%v), want digest %s and a created time", b, vf, err, digest)
	}
	var cf struct {
		Version string `json:"version"`
	}
	b, _ = os.ReadFile(filepath.Join(dir, want[1]))
	if err := json.Unmarshal(b, &cf); err != nil || cf.Version != "1" {
		t.Errorf("current.json %s: got version %q (%v), want 1", b, cf.Version, err)
	}

	// A second version with the same artifact shares the blob.
	mustPut(t, l, "fraud", "1-again", data, PutOptions{})
	if got := len(files(t, filepath.Join(dir, "blobs"))); got != 1 {
		t.Errorf("blobs after storing one artifact twice: got %d, want 1", got)
	}
}

func TestLocalImmutableVersions(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	a1, a2 := fitArtifact(t, "fraud", "", 1), fitArtifact(t, "fraud", "", 2)
	first, _ := mustPut(t, l, "fraud", "v1", a1, PutOptions{})

	again, created := mustPut(t, l, "fraud", "v1", a1, PutOptions{})
	if created || again != first {
		t.Errorf("same artifact again: got %+v created=%v, want %+v created=false", again, created, first)
	}

	before := files(t, dir)
	_, _, err := l.Put(ctx, "fraud", "v1", a2, PutOptions{})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), digestOf(t, a2)) || !strings.Contains(err.Error(), first.Digest) {
		t.Fatalf("other artifact as v1: got %v, want ErrConflict naming both digests", err)
	}
	data, v, err := l.Get(ctx, "fraud", "v1")
	if err != nil || !bytes.Equal(data, a1) || v.Digest != first.Digest {
		t.Errorf("after the conflict: Get v1 = %s (%v), want the first artifact %s", v.Digest, err, first.Digest)
	}
	// The refused upload left nothing, its blob included (attack run 30
	// F9; TestRefusedUploadKeepsNothing).
	after := files(t, dir)
	for _, f := range after {
		if !slices.Contains(before, f) {
			t.Errorf("the refused upload left %s", f)
		}
	}
}

func TestLocalCurrentVersion(t *testing.T) {
	ctx := context.Background()
	l, _ := openTemp(t)
	a := func(seed int) []byte { return fitArtifact(t, "m", "", seed) }
	steps := []struct {
		do          func() error
		wantCurrent string
	}{
		// A first version becomes current even with KeepCurrent.
		{func() error { _, _, err := l.Put(ctx, "m", "v1", a(1), PutOptions{KeepCurrent: true}); return err }, "v1"},
		{func() error { _, _, err := l.Put(ctx, "m", "v2", a(2), PutOptions{}); return err }, "v2"},
		{func() error { _, _, err := l.Put(ctx, "m", "v3", a(3), PutOptions{KeepCurrent: true}); return err }, "v2"},
		{func() error { return l.SetCurrent(ctx, "m", "v1") }, "v1"},
		// Pushing an existing version again moves current to it.
		{func() error { _, _, err := l.Put(ctx, "m", "v3", a(3), PutOptions{}); return err }, "v3"},
		{func() error { _, _, err := l.Put(ctx, "m", "v2", a(2), PutOptions{KeepCurrent: true}); return err }, "v3"},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, alias := range []string{"", "current"} {
			if v := mustResolve(t, l, "m", alias); v.Version != s.wantCurrent || !v.Current {
				t.Errorf("step %d: Resolve(m, %q) = %s current=%v, want %s current", i, alias, v.Version, v.Current, s.wantCurrent)
			}
		}
		data, v, err := l.Get(ctx, "m", "")
		if err != nil || v.Version != s.wantCurrent || digestOf(t, data) != v.Digest {
			t.Errorf("step %d: Get(m) = %s %s (%v), want %s with matching bytes", i, v.Version, v.Digest, err, s.wantCurrent)
		}
		ms, err := l.List(ctx)
		if err != nil || len(ms) != 1 || ms[0].Current != s.wantCurrent {
			t.Fatalf("step %d: List = %+v (%v), want model m with current %s", i, ms, err, s.wantCurrent)
		}
		for _, v := range ms[0].Versions {
			if v.Current != (v.Version == s.wantCurrent) {
				t.Errorf("step %d: List: %s current=%v, want %v", i, v.Version, v.Current, v.Version == s.wantCurrent)
			}
		}
	}
	if v := mustResolve(t, l, "m", "v1"); v.Current {
		t.Errorf("Resolve(m, v1) with v3 current: got current=true, want false")
	}
	if err := l.SetCurrent(ctx, "m", "v9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetCurrent to an unknown version: got %v, want ErrNotFound", err)
	}
	if err := l.SetCurrent(ctx, "nope", "v1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetCurrent of an unknown model: got %v, want ErrNotFound", err)
	}
}

func TestLocalList(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	if ms, err := l.List(ctx); err != nil || ms == nil || len(ms) != 0 {
		t.Fatalf("List of an empty registry: got %#v (%v), want an empty, non-nil list", ms, err)
	}
	mustPut(t, l, "zeta", "1", fitArtifact(t, "", "", 1), PutOptions{})
	mustPut(t, l, "alpha", "b", fitArtifact(t, "", "", 2), PutOptions{})
	mustPut(t, l, "alpha", "a", fitArtifact(t, "", "", 3), PutOptions{KeepCurrent: true})
	// Strays the listing must skip: a temporary file, a foreign file.
	os.WriteFile(filepath.Join(dir, "models", "alpha", "versions", ".c.json.tmp-123"), []byte("{"), 0o644)
	os.WriteFile(filepath.Join(dir, "models", "alpha", "versions", "notes.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "models", "README"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "models", ".trash"), 0o755)
	ms, err := l.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, "model "+m.Name+" current "+m.Current)
		for _, v := range m.Versions {
			got = append(got, fmt.Sprintf("  %s@%s current=%v", v.Model, v.Version, v.Current))
		}
	}
	want := []string{
		"model alpha current b",
		"  alpha@b current=true", // oldest first
		"  alpha@a current=false",
		"model zeta current 1",
		"  zeta@1 current=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("List:\ngot  %q\nwant %q", got, want)
	}
}

func TestLocalNotFound(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	mustPut(t, l, "m", "v1", fitArtifact(t, "", "", 1), PutOptions{})
	cases := []struct{ model, version, want string }{
		{"nope", "", `no model "nope"`},
		{"nope", "v1", `no model "nope"`},
		{"m", "v2", `model "m" has no version "v2"`},
	}
	for _, tc := range cases {
		_, err := l.Resolve(ctx, tc.model, tc.version)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%s@%s): got %v, want ErrNotFound saying %s", tc.model, tc.version, err, tc.want)
		}
		if _, _, err := l.Get(ctx, tc.model, tc.version); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s@%s): got %v, want ErrNotFound", tc.model, tc.version, err)
		}
	}
	os.Remove(filepath.Join(dir, "models", "m", "current.json"))
	if _, err := l.Resolve(ctx, "m", ""); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no current version") {
		t.Errorf("Resolve without current.json: got %v, want ErrNotFound saying no current version", err)
	}
	if v := mustResolve(t, l, "m", "v1"); v.Current {
		t.Errorf("Resolve(m@v1) without current.json: got current=true, want false")
	}
}

func TestLocalMissingBlobIsRepairedByPushingAgain(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	data := fitArtifact(t, "", "", 1)
	v, _ := mustPut(t, l, "m", "v1", data, PutOptions{})
	blob := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(v.Digest, "sha256:")+".json")
	os.Remove(blob)
	if _, _, err := l.Get(ctx, "m", "v1"); err == nil || !strings.Contains(err.Error(), "push it again") {
		t.Fatalf("Get with the blob gone: got %v, want an error saying to push it again", err)
	}
	if _, created := mustPut(t, l, "m", "v1", data, PutOptions{}); created {
		t.Errorf("pushing again: got created=true, want false (the version existed)")
	}
	if got, _, err := l.Get(ctx, "m", "v1"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("Get after pushing again: %v, want the artifact", err)
	}
}

func TestLocalHostileNames(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "reg")
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := fitArtifact(t, "", "", 1)
	mustPut(t, l, "ok", "v1", data, PutOptions{})
	before := files(t, root)
	for _, name := range hostileNames {
		calls := map[string]error{}
		_, _, calls["Put model"] = l.Put(ctx, name, "v1", data, PutOptions{})
		_, _, calls["Put version"] = l.Put(ctx, "ok", name, data, PutOptions{})
		_, calls["Resolve model"] = l.Resolve(ctx, name, "v1")
		if name != "" {
			_, calls["Resolve version"] = l.Resolve(ctx, "ok", name)
			_, _, calls["Get version"] = l.Get(ctx, "ok", name)
		}
		_, _, calls["Get model"] = l.Get(ctx, name, "")
		calls["SetCurrent model"] = l.SetCurrent(ctx, name, "v1")
		calls["SetCurrent version"] = l.SetCurrent(ctx, "ok", name)
		for call, err := range calls {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("%s %q: got %v, want ErrInvalidName", call, name, err)
			}
		}
	}
	if after := files(t, root); !slices.Equal(after, before) {
		t.Errorf("hostile names changed files:\ngot  %v\nwant %v", after, before)
	}
	if v := mustResolve(t, l, "ok", ""); v.Version != "v1" {
		t.Errorf("current after hostile calls: got %s, want v1", v.Version)
	}
}

func TestLocalRefusesInvalidArtifacts(t *testing.T) {
	ctx := context.Background()
	good := fitArtifact(t, "fraud", "1", 1)
	flipped := bytes.Clone(good)
	i := bytes.Index(flipped, []byte(`"mean_"`))
	flipped[i+20] ^= 1
	newer, err := os.ReadFile("../testdata/bad/newer_artifact.json")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := os.ReadFile("../testdata/bad/foreign_artifact.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		data  []byte
		as    string
		want  string
		alsoT error
	}{
		{"empty", nil, "fraud", "empty", artifact.ErrCorrupt},
		{"truncated", good[:len(good)/2], "fraud", "truncated", artifact.ErrCorrupt},
		{"changed byte", flipped, "fraud", "corrupt", artifact.ErrCorrupt},
		{"newer format", newer, "fraud", "format version 99", artifact.ErrNewerFormat},
		{"foreign", foreign, "fraud", "not a normguard artifact", artifact.ErrForeign},
		{"other model", good, "churn", `fitted for model "fraud", not "churn"`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, dir := openTemp(t)
			before := files(t, dir)
			_, _, err := l.Put(ctx, tc.as, "1", tc.data, PutOptions{})
			if !errors.Is(err, ErrInvalidArtifact) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalidArtifact saying %q", err, tc.want)
			}
			if tc.alsoT != nil && !errors.Is(err, tc.alsoT) {
				t.Errorf("got %v, want it to wrap %v too", err, tc.alsoT)
			}
			if after := files(t, dir); !slices.Equal(after, before) {
				t.Errorf("files after a refused upload: got %v, want %v", after, before)
			}
		})
	}
}

func TestLocalArtifactVersionNeedNotMatch(t *testing.T) {
	l, _ := openTemp(t)
	// The artifact was fitted for fraud 2001.1; the registry version is
	// the user's choice.
	v, _ := mustPut(t, l, "fraud", "prod-7", fitArtifact(t, "fraud", "2001.1", 1), PutOptions{})
	if v.Version != "prod-7" {
		t.Errorf("got version %s, want prod-7", v.Version)
	}
}

func TestLocalConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	const versions, writers = 8, 6
	type result struct {
		version string
		seed    int
		created bool
		err     error
	}
	results := make(chan result, versions*writers)
	var wg sync.WaitGroup
	for v := range versions {
		for w := range writers {
			// Writers 0-2 push seed v, writers 3-5 a conflicting seed 100+v,
			// racing for the same version; readers run meanwhile.
			seed := v
			if w >= writers/2 {
				seed = 100 + v
			}
			data := fitArtifact(t, "", "", seed)
			wg.Go(func() {
				version := fmt.Sprintf("v%d", v)
				_, created, err := l.Put(ctx, "m", version, data, PutOptions{KeepCurrent: w%2 == 0})
				results <- result{version, seed, created, err}
				l.Resolve(ctx, "m", "")
				l.List(ctx)
			})
		}
	}
	wg.Wait()
	close(results)
	created := map[string]int{}
	winner := map[string]int{}
	for r := range results {
		switch {
		case r.err == nil:
			if r.created {
				created[r.version]++
				winner[r.version] = r.seed
			}
		case errors.Is(r.err, ErrConflict):
		default:
			t.Errorf("Put %s: %v", r.version, r.err)
		}
	}
	for v := range versions {
		name := fmt.Sprintf("v%d", v)
		if created[name] != 1 {
			t.Errorf("%s: created %d times, want exactly once", name, created[name])
		}
		data, got, err := l.Get(ctx, "m", name)
		if err != nil || got.Digest != digestOf(t, fitArtifact(t, "", "", winner[name])) || digestOf(t, data) != got.Digest {
			t.Errorf("%s: Get = %s (%v), want the artifact of the Put that created it", name, got.Digest, err)
		}
	}
	for _, f := range files(t, dir) {
		if strings.Contains(f, "tmp-") {
			t.Errorf("temporary file left: %s", f)
		}
	}
}

func TestLocalSeesAnotherProcess(t *testing.T) {
	ctx := context.Background()
	writer, dir := openTemp(t)
	reader, err := Open(dir) // another process: its own caches
	if err != nil {
		t.Fatal(err)
	}
	a := func(seed int) []byte { return fitArtifact(t, "", "", seed) }
	if _, err := reader.Resolve(ctx, "m", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before any push: got %v, want ErrNotFound", err)
	}
	steps := []struct {
		write func() error
		want  string
	}{
		{func() error { _, _, err := writer.Put(ctx, "m", "v1", a(1), PutOptions{}); return err }, "v1"},
		// current.json keeps its size: only the file identity and mtime change.
		{func() error { _, _, err := writer.Put(ctx, "m", "v2", a(2), PutOptions{}); return err }, "v2"},
		{func() error { return writer.SetCurrent(ctx, "m", "v1") }, "v1"},
		{func() error { return writer.SetCurrent(ctx, "m", "v2") }, "v2"},
		{func() error { _, _, err := writer.Put(ctx, "m", "v3", a(3), PutOptions{KeepCurrent: true}); return err }, "v2"},
	}
	for i, s := range steps {
		if err := s.write(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for range 2 { // the second call comes from the cache
			if v := mustResolve(t, reader, "m", ""); v.Version != s.want {
				t.Errorf("step %d: the other Local resolves current to %s, want %s", i, v.Version, s.want)
			}
		}
		if data, v, err := reader.Get(ctx, "m", "current"); err != nil || v.Version != s.want || digestOf(t, data) != v.Digest {
			t.Errorf("step %d: the other Local gets %s (%v), want %s", i, v.Version, err, s.want)
		}
	}
	// The reader writes too; the writer sees it.
	if err := reader.SetCurrent(ctx, "m", "v3"); err != nil {
		t.Fatal(err)
	}
	if v := mustResolve(t, writer, "m", ""); v.Version != "v3" {
		t.Errorf("writer after the reader's SetCurrent: got %s, want v3", v.Version)
	}
	if _, _, err := reader.Put(ctx, "m", "v1", a(9), PutOptions{}); !errors.Is(err, ErrConflict) {
		t.Errorf("the other Local overwriting v1: got %v, want ErrConflict", err)
	}
}

func TestLocalCanceledContext(t *testing.T) {
	l, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l.Put(ctx, "m", "v1", fitArtifact(t, "", "", 1), PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: got %v, want context.Canceled", err)
	}
}

func BenchmarkResolve(b *testing.B) {
	ctx := context.Background()
	l, _ := openTemp(b)
	for i := range 20 {
		if _, _, err := l.Put(ctx, "m", fmt.Sprintf("v%d", i), fitArtifact(b, "", "", i), PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, version := range []string{"", "v3"} {
		name := "current"
		if version != "" {
			name = "version"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Resolve(ctx, "m", version); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Resolve(ctx, "m", version); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
