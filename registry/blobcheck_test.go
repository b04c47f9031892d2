package registry

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestGetChecksTheStoredArtifact: a blob in the registry folder replaced
// by another version's artifact, or cut short, is not served under the
// version's digest (an attack run got 200 and the other version's numbers
// from /transform): Get refuses it naming the version and the repair.
func TestGetChecksTheStoredArtifact(t *testing.T) {
	ctx := context.Background()
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := mustPut(t, l, "m1", "1", fitArtifact(t, "m1", "1", 1), PutOptions{})
	v2, _ := mustPut(t, l, "m1", "2", fitArtifact(t, "m1", "2", 2), PutOptions{})
	if v1.Digest == v2.Digest {
		t.Fatal("the two versions have one digest")
	}
	if _, _, err := l.Get(ctx, "m1", "2"); err != nil {
		t.Fatalf("an intact version: %v", err)
	}
	p1, _ := l.blobPath(v1.Digest)
	p2, _ := l.blobPath(v2.Digest)
	one, err := os.ReadFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	two, err := os.ReadFile(p2)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"replaced by version 1's": {one, "not the " + v2.Digest + " the version records (the file was replaced)"},
		"cut short":               {two[:len(two)/2], "the stored artifact " + p2 + " is damaged"},
	} {
		if err := os.WriteFile(p2, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		data, _, err := l.Get(ctx, "m1", "2")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "m1@2") {
			t.Errorf("%s: Get gave %d bytes, err %v; want a refusal with %q", name, len(data), err, c.want)
		}
	}
}
