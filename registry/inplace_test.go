package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// changeInPlace changes one digit of the file at path, the first at or
// after offset at, in place (same size), and puts its modification time
// back: the file keeps its identity (inode, size, modification time), as
// bit rot or a restore tool that keeps times leaves it. It returns the
// changed bytes.
func changeInPlace(t *testing.T, path string, at int) []byte {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data := mustRead(t, path)
	i := at + bytes.IndexAny(data[at:], "123456789")
	if i < at {
		t.Fatalf("no digit in %s past %d", path, at)
	}
	data[i] = '0' + (data[i]-'0')%9 + 1 // another non-zero digit
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data[i:i+1], int64(i)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil || !sameFile(st, after) {
		t.Fatalf("the file did not keep its identity: %v", err)
	}
	return data
}

// TestDownloadOfAFileChangedInPlaceIsCut (attack run 18, F1): an artifact
// file that verified, then changed in place keeping its size and
// modification time, was downloaded 200 whole under the version's
// digest. Its bytes are now hashed as they are sent: the answer is cut
// before its last piece (the client reads fewer bytes than the
// Content-Length and an unexpected EOF, never a complete answer; an
// artifact of one piece is not begun at all), and the
// file is marked damaged, so the next download is 503 registry_damaged,
// the listing marks the model and Problems names it. For a small
// artifact (one piece) and a 1 MiB one changed near its start and near
// its end.
func TestDownloadOfAFileChangedInPlaceIsCut(t *testing.T) {
	big := bigArtifact(t, 1)
	for _, c := range []struct {
		name string
		data []byte
		at   func(n int) int
	}{
		{"small", fitArtifact(t, "m", "1", 1), func(n int) int { return n / 2 }},
		{"1 MiB, near the start", big, func(n int) int { return 200 }},
		{"1 MiB, near the end", big, func(n int) int { return n - 200 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			l, _ := openTemp(t)
			v, _ := mustPut(t, l, "m", "1", c.data, PutOptions{})
			blob, _ := l.blobPath(v.Digest)
			age(t, blob)
			srv := httptest.NewServer(Handler(noGet{l, t}))
			defer srv.Close()
			u := srv.URL + "/v1/models/m/versions/1/artifact"
			get := func() (*http.Response, []byte, error) {
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				return resp, b, err
			}
			if resp, b, err := get(); err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(b, c.data) {
				t.Fatalf("the intact artifact: %d, %d bytes, %v", resp.StatusCode, len(b), err)
			}
			changeInPlace(t, blob, c.at(len(c.data)))

			resp, b, err := get()
			if len(c.data) <= sendChunk {
				// One piece, held back whole: nothing of the answer was
				// sent, not even its head, so Go's client sends the GET
				// again on a new connection and gets the 503 below (curl
				// reports an empty reply).
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("the changed file: %d, %d bytes; want the answer closed before its head, then 503", resp.StatusCode, len(b))
				}
			} else {
				last := len(c.data) % sendChunk
				if last == 0 {
					last = sendChunk
				}
				if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(c.data)) {
					t.Fatalf("the changed file: %d, Content-Length %d (%.300s); want the answer begun as 200 with the version's %d bytes", resp.StatusCode, resp.ContentLength, b, len(c.data))
				}
				if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) > len(c.data)-last {
					t.Errorf("the changed file: %d of %d bytes read, %v; want the answer cut before its last %d bytes (unexpected EOF)", len(b), len(c.data), err, last)
				}
			}
			resp, b, _ = get()
			var eb errorBody
			json.Unmarshal(b, &eb)
			if resp.StatusCode != http.StatusServiceUnavailable || eb.Error.Code != CodeDamaged || !strings.Contains(eb.Error.Message, "read m@1: the stored artifact "+blob) || !strings.Contains(eb.Error.Message, "push m@1 again") {
				t.Errorf("the next download: %d %s; want 503 %s naming m@1, the file and the repair", resp.StatusCode, b, CodeDamaged)
			}
			if strings.Contains(eb.Error.Message, "refit or fetch it again") {
				t.Errorf("the next download: %s; the advice for an artifact file does not fit the registry's copy", eb.Error.Message)
			}
			ms, err := l.List(ctx)
			if err != nil || len(ms) != 1 || !strings.Contains(ms[0].Damaged, "read m@1") {
				t.Errorf("listing: %+v, %v; want m marked damaged", ms, err)
			}
			if p := l.Problems(ctx); len(p) != 1 || !strings.Contains(p[0], "registry model m:") || !strings.Contains(p[0], blob) {
				t.Errorf("Problems: %q; want m's damaged artifact named once", p)
			}
		})
	}
}

// TestProblemsReverifyOnASlowCycle (attack run 18, F1): /healthz and the
// listing trusted a verified file's identity forever, so a file changed
// in place keeping it was reported fine until a restart. The registry
// check (Problems) now reads each remembered file whole again once its
// last verification is older than reverifyEvery, oldest first, within
// reverifyBudget bytes a check but at least one file; it names damaged
// files of versions that are not current too, and pushing the version
// again repairs the file (the push replaces a stored file that does not
// verify).
func TestProblemsReverifyOnASlowCycle(t *testing.T) {
	defer func(e, tr time.Duration, b int64) { reverifyEvery, reverifyTrust, reverifyBudget = e, tr, b }(reverifyEvery, reverifyTrust, reverifyBudget)
	ctx := context.Background()
	l, _ := openTemp(t)
	one, two := fitArtifact(t, "m", "1", 1), fitArtifact(t, "m", "2", 2)
	v1, _ := mustPut(t, l, "m", "1", one, PutOptions{})
	v2, _ := mustPut(t, l, "m", "2", two, PutOptions{}) // current
	p1, _ := l.blobPath(v1.Digest)
	p2, _ := l.blobPath(v2.Digest)
	age(t, p1)
	age(t, p2)
	for _, v := range []string{"1", "2"} {
		f, _, _, err := l.OpenArtifact(ctx, "m", v)
		if err != nil {
			t.Fatalf("m@%s: %v", v, err)
		}
		f.Close()
	}
	if p := l.Problems(ctx); len(p) != 0 {
		t.Fatalf("an intact registry: %q", p)
	}
	changeInPlace(t, p1, len(one)/2)
	time.Sleep(10 * time.Millisecond)
	changeInPlace(t, p2, len(two)/2)

	// Within the cycle the identity vouches.
	if p := l.Problems(ctx); len(p) != 0 {
		t.Fatalf("within the cycle: %q; want the identities trusted", p)
	}
	// Past it, one file a check when the budget holds one: the older
	// verification (version 1's, verified first) goes first.
	reverifyEvery, reverifyBudget = 0, 1
	p := l.Problems(ctx)
	if len(p) != 1 || !strings.HasPrefix(p[0], "registry: ") || !strings.Contains(p[0], "read m@1: the stored artifact "+p1) {
		t.Fatalf("first check past the cycle: %q; want version 1's file alone named (it is not current)", p)
	}
	p = l.Problems(ctx)
	if len(p) != 2 || !strings.Contains(strings.Join(p, "\n"), "registry model m: registry damaged: read m@2: the stored artifact "+p2) {
		t.Fatalf("second check: %q; want version 2's file named too, as model m's current version", p)
	}
	ms, err := l.List(ctx)
	if err != nil || len(ms) != 1 || !strings.Contains(ms[0].Damaged, "read m@2") {
		t.Errorf("listing: %+v, %v; want m marked damaged", ms, err)
	}
	for _, v := range []string{"1", "2"} {
		if _, _, _, err := l.OpenArtifact(ctx, "m", v); !errors.Is(err, ErrDamaged) {
			t.Errorf("download of m@%s: %v; want ErrDamaged", v, err)
		}
	}

	// Pushing each version again repairs its file.
	reverifyBudget = 64 << 20
	mustPut(t, l, "m", "1", one, PutOptions{KeepCurrent: true})
	if p := l.Problems(ctx); len(p) != 1 || !strings.Contains(p[0], "read m@2") {
		t.Errorf("version 1 pushed again: %q; want version 2 alone still damaged", p)
	}
	mustPut(t, l, "m", "2", two, PutOptions{})
	if p := l.Problems(ctx); len(p) != 0 {
		t.Errorf("both pushed again: %q; want none", p)
	}
	for v, want := range map[string][]byte{"1": one, "2": two} {
		if !bytes.Equal(mustRead(t, map[string]string{"1": p1, "2": p2}[v]), want) {
			t.Errorf("m@%s's stored file is not its artifact after the push", v)
		}
	}

	// With the check not run, a request no longer trusts an identity
	// verified more than reverifyTrust ago.
	reverifyEvery, reverifyTrust = time.Hour, 0
	age(t, p2)
	if _, _, _, err := l.OpenArtifact(ctx, "m", "2"); err != nil {
		t.Fatal(err)
	}
	changeInPlace(t, p2, len(two)/2)
	if _, _, _, err := l.OpenArtifact(ctx, "m", "2"); !errors.Is(err, ErrDamaged) {
		t.Errorf("past reverifyTrust: %v; want the file verified again and refused", err)
	}
}

// TestFolderInPlaceOfTheArtifact (attack run 20 F5): a folder where a
// stored artifact file belongs was reported with "push the version again
// to repair", and that push failed with a bare "rename ...: file exists".
// Both now name the folder and say to move it aside; once it is, the push
// repairs the version.
func TestFolderInPlaceOfTheArtifact(t *testing.T) {
	ctx := context.Background()
	l, _ := openTemp(t)
	one := fitArtifact(t, "m", "1", 1)
	v, _ := mustPut(t, l, "m", "1", one, PutOptions{})
	blob, _ := l.blobPath(v.Digest)
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(blob, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := blob + " is a folder, where the stored artifact file belongs"
	if p := l.Problems(ctx); len(p) != 1 || !strings.Contains(p[0], want) || !strings.Contains(p[0], "move the folder aside") {
		t.Fatalf("problems: %q; want the folder named with its repair", p)
	}
	_, _, err := l.Put(ctx, "m", "1", one, PutOptions{})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "then push the version again") {
		t.Fatalf("push over the folder: %v; want ErrDamaged naming the folder and what to do", err)
	}
	if err := os.RemoveAll(blob); err != nil {
		t.Fatal(err)
	}
	mustPut(t, l, "m", "1", one, PutOptions{})
	if p := l.Problems(ctx); len(p) != 0 {
		t.Fatalf("after moving the folder and pushing again: %q", p)
	}
	if got := mustRead(t, blob); !bytes.Equal(got, one) {
		t.Fatal("the pushed artifact is not the stored file")
	}
}

// TestFolderInPlaceOfAVersionFile (attack run 21 F3): a folder where a
// version file belongs made push refuse with "restore the file, or push
// the version again", the command that had just failed. It says to move
// the folder aside first; once it is, the push repairs the version.
func TestFolderInPlaceOfAVersionFile(t *testing.T) {
	ctx := context.Background()
	first, dir := openTemp(t)
	one := fitArtifact(t, "m", "1", 1)
	mustPut(t, first, "m", "1", one, PutOptions{})
	vf := first.versionPath("m", "1")
	// Another process (the next push's), which has not read the version.
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	putFolderAt(t, vf)
	_, _, err = l.Put(ctx, "m", "1", one, PutOptions{})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "move the folder aside") {
		t.Fatalf("push over a folder in the version file's place: %v; want ErrDamaged saying to move the folder aside", err)
	}
	mustRemove(t, vf)
	mustPut(t, l, "m", "1", one, PutOptions{})
	if v := mustResolve(t, l, "m", "1"); v.Version != "1" {
		t.Fatalf("after moving the folder and pushing again: %+v", v)
	}
}

// TestPushRepairsVersionFiles (attack run 21 F3 remainder): a process
// that had read a version (a running server) answered a push of it OK
// while a folder had taken its version file's place; and a version file
// or current.json that could not be read was reported with "push the
// version again to repair", which refused. Push reads the version file
// from the folder: a folder is named with its repair, anything else that
// cannot be read is replaced, and the version reads back.
func TestPushRepairsVersionFiles(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	one := fitArtifact(t, "m", "1", 1)
	v, _ := mustPut(t, l, "m", "1", one, PutOptions{})
	mustResolve(t, l, "m", "1") // cached
	vf := l.versionPath("m", "1")
	putFolderAt(t, vf)
	if _, _, err := l.Put(ctx, "m", "1", one, PutOptions{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "move the folder aside") {
		t.Fatalf("push by a process that cached the version, over a folder: %v; want ErrDamaged saying to move the folder aside", err)
	}
	mustRemove(t, vf)
	current := filepath.Join(dir, "models", "m", "current.json")
	for _, damage := range []struct {
		path string
		body string
	}{{vf, "garbage\n"}, {vf, ""}, {vf, `{"digest":"sha256:zz"}`}, {current, "{"}, {current, ""}} {
		if err := os.WriteFile(damage.path, []byte(damage.body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, fresh := range []bool{false, true} {
			s := l
			if fresh {
				var err error
				if s, err = Open(dir); err != nil {
					t.Fatal(err)
				}
			}
			got, _, err := s.Put(ctx, "m", "1", one, PutOptions{})
			if err != nil || got.Digest != v.Digest || !got.Current {
				t.Fatalf("push over %s holding %q (fresh %v): %+v %v; want it repaired", filepath.Base(damage.path), damage.body, fresh, got, err)
			}
			if r := mustResolve(t, s, "m", ""); r.Version != "1" || r.Digest != v.Digest {
				t.Fatalf("after the repair: %+v", r)
			}
			if p := s.Problems(ctx); len(p) != 0 {
				t.Fatalf("problems after the repair: %q", p)
			}
		}
	}
	// A different artifact under the version stays a conflict.
	two := fitArtifact(t, "m", "1", 2)
	if _, _, err := l.Put(ctx, "m", "1", two, PutOptions{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("another artifact as m@1: %v; want ErrConflict", err)
	}
}

// TestSetCurrentOverAFolderRefused (attack run 22 F10): with a folder in
// place of the current version's file, the listing advised a PUT of the
// current version, which a process that had read the version answered
// from its cache, repairing nothing. The listing names the folder and
// the repair, and SetCurrent reads the version file from the folder.
func TestSetCurrentOverAFolderRefused(t *testing.T) {
	ctx := context.Background()
	l, _ := openTemp(t)
	one := fitArtifact(t, "m", "1", 1)
	mustPut(t, l, "m", "1", one, PutOptions{})
	mustResolve(t, l, "m", "1") // cached
	vf := l.versionPath("m", "1")
	putFolderAt(t, vf)
	models, err := l.List(ctx)
	if err != nil || len(models) != 1 || !strings.Contains(models[0].Damaged, "is a folder") || !strings.Contains(models[0].Damaged, "move the folder aside") {
		t.Fatalf("listing: %+v %v; want m damaged naming the folder and its repair", models, err)
	}
	if err := l.SetCurrent(ctx, "m", "1"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "move the folder aside") {
		t.Fatalf("SetCurrent over the folder: %v; want ErrDamaged saying to move the folder aside", err)
	}
	mustRemove(t, vf)
	if err := l.SetCurrent(ctx, "m", "1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetCurrent of a version without its file: %v; want ErrNotFound", err)
	}
	mustPut(t, l, "m", "1", one, PutOptions{})
	if err := l.SetCurrent(ctx, "m", "1"); err != nil {
		t.Fatalf("SetCurrent after the repair: %v", err)
	}
}

// TestSetCurrentOverACurrentFolder (attack run 24 F4): a folder in
// place of current.json made SetCurrent fail with a bare "rename ...:
// file exists" (500 through the service). It is ErrDamaged naming the
// folder and the repair.
func TestSetCurrentOverACurrentFolder(t *testing.T) {
	ctx := context.Background()
	l, dir := openTemp(t)
	mustPut(t, l, "m", "1", fitArtifact(t, "m", "1", 1), PutOptions{})
	current := filepath.Join(dir, "models", "m", "current.json")
	putFolderAt(t, current)
	if err := l.SetCurrent(ctx, "m", "1"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "is a folder") || !strings.Contains(err.Error(), "move the folder aside") {
		t.Fatalf("SetCurrent over a folder at current.json: %v; want ErrDamaged naming the folder and its repair", err)
	}
	mustRemove(t, current)
	if err := l.SetCurrent(ctx, "m", "1"); err != nil {
		t.Fatalf("after moving the folder: %v", err)
	}
}

// TestCurrentVersionFileChangedAfterRead (attack run 24 F5): the current
// version's file overwritten with garbage after a process read it was
// never reported by that process (listing, /healthz), and its requests
// went on from the cache. The listing reads that file from the folder:
// the model is damaged, the version's requests say so, and a push of the
// same artifact repairs it.
func TestCurrentVersionFileChangedAfterRead(t *testing.T) {
	ctx := context.Background()
	l, _ := openTemp(t)
	one := fitArtifact(t, "m", "1", 1)
	mustPut(t, l, "m", "1", one, PutOptions{})
	mustResolve(t, l, "m", "") // cached
	if err := os.WriteFile(l.versionPath("m", "1"), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	models, err := l.List(ctx)
	if err != nil || len(models) != 1 || !strings.Contains(models[0].Damaged, "1.json") {
		t.Fatalf("listing: %+v %v; want m damaged naming its version file", models, err)
	}
	if p := l.Problems(ctx); len(p) != 1 || !strings.Contains(p[0], "1.json") {
		t.Fatalf("problems: %q; want the version file named", p)
	}
	if _, err := l.Resolve(ctx, "m", "1"); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Resolve after the listing found the damage: %v; want ErrDamaged", err)
	}
	mustPut(t, l, "m", "1", one, PutOptions{})
	if p := l.Problems(ctx); len(p) != 0 {
		t.Fatalf("problems after the repairing push: %q", p)
	}
}

// putFolderAt replaces the file at path with an empty folder, as a
// mistaken copy or extraction can leave one.
func putFolderAt(t *testing.T, path string) {
	t.Helper()
	mustRemove(t, path)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
