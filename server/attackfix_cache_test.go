package server

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/registry"
)

// versionsServer stores n versions of the quickstart model flight-delay
// (v1 .. vn, each a distinct artifact: digests differ), v1 current, and
// starts a server on them with cfg's cache bounds.
func versionsServer(t testing.TB, n int, cfg Config) (*Server, *httptest.Server, int64) {
	t.Helper()
	dir := t.TempDir()
	if _, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "qs", quickstart.Files.Artifact))
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Decode(data, "quickstart")
	if err != nil {
		t.Fatal(err)
	}
	store, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for i := 1; i <= n; i++ {
		a.Model = &artifact.Model{Name: "flight-delay", Version: fmt.Sprintf("v%d", i)}
		a.Digest = ""
		enc, err := artifact.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		size = int64(len(enc))
		if _, _, err := store.Put(context.Background(), "flight-delay", fmt.Sprintf("v%d", i), enc, registry.PutOptions{KeepCurrent: true}); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Registry, cfg.Token = store, "t"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, size
}

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestTransformerCacheBounded: transforming with every one of many stored
// versions (no token needed) keeps at most MaxTransformers prepared
// transformers besides the current version's, which stays loaded, and
// the heap stays flat once the cache is full; the most recently used
// stay, and a dropped version is loaded again when asked for.
func TestTransformerCacheBounded(t *testing.T) {
	const versions, most = 60, 8
	s, ts, _ := versionsServer(t, versions, Config{MaxTransformers: most})
	body := benchBody(1)
	transform := func(path string) {
		t.Helper()
		if status, resp := send(t, "POST", ts.URL+path, "", body); status != 200 {
			t.Fatalf("%s: %d %s", path, status, resp)
		}
	}
	transform("/v1/models/flight-delay/transform") // the current version, v1
	cur, err := s.cfg.Registry.Resolve(context.Background(), "flight-delay", "")
	if err != nil {
		t.Fatal(err)
	}
	var heapFull uint64
	heap0 := heapNow()
	for i := 2; i <= versions; i++ {
		transform(fmt.Sprintf("/v1/models/flight-delay/versions/v%d/transform", i))
		transform(fmt.Sprintf("/v1/models/flight-delay/versions/v%d/transform", 2)) // kept hot
		if n := s.cache.len(); n > most+1 {
			t.Fatalf("after v%d: %d transformers held, want at most %d + the current one", i, n, most)
		}
		if i == 2*most {
			heapFull = heapNow()
		}
	}
	heap1 := heapNow()
	if _, ok := s.cache.byDig.Load(cur.Digest); !ok {
		t.Error("the current version's transformer was dropped")
	}
	v2, _ := s.cfg.Registry.Resolve(context.Background(), "flight-delay", "v2")
	if _, ok := s.cache.byDig.Load(v2.Digest); !ok {
		t.Error("v2, used after every other version, was dropped")
	}
	v3, _ := s.cfg.Registry.Resolve(context.Background(), "flight-delay", "v3")
	if _, ok := s.cache.byDig.Load(v3.Digest); ok {
		t.Error("v3, used once long ago, is still held")
	}
	transform("/v1/models/flight-delay/versions/v3/transform") // loaded again
	// Once full, loading the other 44 versions adds nothing that stays.
	if heap1 > heapFull+8<<20 {
		t.Errorf("heap grew from %d (cache full, after v%d) to %d after v%d, want under 8 MiB more", heapFull, 2*most, heap1, versions)
	}
	t.Logf("heap %d before, %d with the cache full, %d after %d versions; %d transformers held", heap0, heapFull, heap1, versions, s.cache.len())
}

// TestTransformerCacheBytes: MaxTransformerBytes bounds the artifact
// bytes of the transformers held besides the current version's.
func TestTransformerCacheBytes(t *testing.T) {
	s, ts, size := versionsServer(t, 10, Config{})
	s.cache.maxBytes = 3 * size
	body := benchBody(1)
	for i := 1; i <= 10; i++ {
		if status, resp := send(t, "POST", ts.URL+fmt.Sprintf("/v1/models/flight-delay/versions/v%d/transform", i), "", body); status != 200 {
			t.Fatalf("v%d: %d %s", i, status, resp)
		}
		if n := s.cache.len(); n > 3+1 {
			t.Fatalf("after v%d: %d transformers of %d bytes each held, want at most 3 (%d bytes) + the current one", i, n, size, 3*size)
		}
	}
}
