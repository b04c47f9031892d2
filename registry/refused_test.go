package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// blobNames lists the entries of a registry's blobs/sha256 folder,
// temporary files included, sorted.
func blobNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// blobName is the file name the registry keeps an artifact under.
func blobName(t *testing.T, data []byte) string {
	t.Helper()
	return strings.TrimPrefix(digestOf(t, data), "sha256:") + ".json"
}

// uploadPaths are the ways an artifact reaches a registry folder: `normguard
// push --registry DIR` (Put), a server's PUT (PutFrom), and a push to a
// server (Remote, whose handler calls PutFrom). Each returns the Store to
// push to and the folder the artifacts land in.
var uploadPaths = []struct {
	name string
	open func(t *testing.T) (Store, string)
}{
	{"folder Put", func(t *testing.T) (Store, string) {
		l, dir := openTemp(t)
		return l, dir
	}},
	{"folder PutFrom", func(t *testing.T) (Store, string) {
		l, dir := openTemp(t)
		return streamed{l}, dir
	}},
	{"server", func(t *testing.T) (Store, string) {
		srv, l, _ := newServer(t)
		return Dial(srv.URL, testToken, srv.Client()), l.Dir()
	}},
}

// streamed is a Local whose Put streams the bytes, as the server does.
type streamed struct{ *Local }

func (s streamed) Put(ctx context.Context, model, version string, data []byte, opt PutOptions) (Version, bool, error) {
	return s.PutFrom(ctx, model, version, bytes.NewReader(data), opt)
}

// TestRefusedUploadKeepsNothing (attack run 30 F9): each upload refused
// with a conflict (another artifact under an existing version) left its
// artifact in blobs/sha256 for good, up to the artifact size limit each.
// A refused upload leaves no file behind, and an artifact another version
// names stays.
func TestRefusedUploadKeepsNothing(t *testing.T) {
	ctx := context.Background()
	art := func(seed int) []byte { return fitArtifact(t, "m", "", seed) }
	for _, path := range uploadPaths {
		t.Run(path.name, func(t *testing.T) {
			s, dir := path.open(t)
			mustPut(t, s, "m", "1", art(1), PutOptions{})
			want := []string{blobName(t, art(1))}
			if got := blobNames(t, dir); !slices.Equal(got, want) {
				t.Fatalf("blobs after the first upload: got %q, want %q", got, want)
			}

			before := files(t, dir)
			for seed := 2; seed <= 6; seed++ {
				if _, _, err := s.Put(ctx, "m", "1", art(seed), PutOptions{}); !errors.Is(err, ErrConflict) {
					t.Fatalf("artifact %d as m@1: got %v, want ErrConflict", seed, err)
				}
			}
			if got := blobNames(t, dir); !slices.Equal(got, want) {
				t.Errorf("blobs after 5 conflicting uploads: got %q, want %q", got, want)
			}
			if after := files(t, dir); !slices.Equal(after, before) {
				t.Errorf("files after 5 conflicting uploads:\ngot  %q\nwant %q", after, before)
			}

			// An artifact that another version names is refused as m@1
			// and stays, readable, for that version.
			mustPut(t, s, "m", "2", art(7), PutOptions{KeepCurrent: true})
			want = []string{blobName(t, art(1)), blobName(t, art(7))}
			slices.Sort(want)
			if _, _, err := s.Put(ctx, "m", "1", art(7), PutOptions{}); !errors.Is(err, ErrConflict) {
				t.Fatalf("m@2's artifact as m@1: got %v, want ErrConflict", err)
			}
			if got := blobNames(t, dir); !slices.Equal(got, want) {
				t.Errorf("blobs after a conflict with a shared artifact: got %q, want %q", got, want)
			}
			for version, seed := range map[string]int{"1": 1, "2": 7} {
				data, _, err := s.Get(ctx, "m", version)
				if err != nil || !bytes.Equal(data, art(seed)) {
					t.Errorf("Get(m@%s) after the conflicts: %v; want artifact %d's bytes", version, err, seed)
				}
			}
		})
	}
}

// TestUploadOverVersionFolderKeepsNothing: an upload refused because a
// folder stands where its version file belongs (a push cannot repair that)
// left its artifact in blobs/sha256 as well.
func TestUploadOverVersionFolderKeepsNothing(t *testing.T) {
	ctx := context.Background()
	art := fitArtifact(t, "m", "", 1)
	for _, path := range uploadPaths {
		t.Run(path.name, func(t *testing.T) {
			s, dir := path.open(t)
			vdir := filepath.Join(dir, "models", "m", "versions")
			if err := os.MkdirAll(filepath.Join(vdir, "1.json"), 0o755); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.Put(ctx, "m", "1", art, PutOptions{})
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "move the folder aside") {
				t.Fatalf("upload over a folder in the version file's place: got %v, want ErrDamaged saying to move the folder", err)
			}
			if got := blobNames(t, dir); len(got) != 0 {
				t.Errorf("blobs after the refused upload: got %q, want none", got)
			}
		})
	}
}

// TestSharedArtifactSurvivesConcurrentConflicts: one artifact uploaded
// at once as two new versions and, refused, as a version holding another
// artifact. Both new versions keep their bytes: a refused upload must not
// take away a blob another version names.
func TestSharedArtifactSurvivesConcurrentConflicts(t *testing.T) {
	ctx := context.Background()
	art := func(seed int) []byte { return fitArtifact(t, "m", "", seed) }
	for _, path := range uploadPaths {
		t.Run(path.name, func(t *testing.T) {
			s, dir := path.open(t)
			mustPut(t, s, "m", "1", art(1), PutOptions{})
			shared := art(2)
			const rounds = 5
			var wg sync.WaitGroup
			errs := make(chan error, 4*rounds)
			for r := range rounds {
				for _, version := range []string{"1", fmt.Sprintf("a%d", r), fmt.Sprintf("b%d", r), "1"} {
					wg.Go(func() {
						_, _, err := s.Put(ctx, "m", version, shared, PutOptions{KeepCurrent: true})
						if version == "1" {
							if !errors.Is(err, ErrConflict) {
								errs <- fmt.Errorf("shared artifact as m@1: got %v, want ErrConflict", err)
							}
						} else if err != nil {
							errs <- fmt.Errorf("shared artifact as m@%s: %v", version, err)
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for r := range rounds {
				for _, version := range []string{fmt.Sprintf("a%d", r), fmt.Sprintf("b%d", r)} {
					data, _, err := s.Get(ctx, "m", version)
					if err != nil || !bytes.Equal(data, shared) {
						t.Errorf("Get(m@%s): %v; want the shared artifact's bytes", version, err)
					}
				}
			}
			want := []string{blobName(t, art(1)), blobName(t, shared)}
			slices.Sort(want)
			if got := blobNames(t, dir); !slices.Equal(got, want) {
				t.Errorf("blobs: got %q, want %q", got, want)
			}
		})
	}
}
