package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/quickstart"
	"github.com/normguard/normguard/registry"
)

// benchServer serves the quickstart's flights artifact as model
// flight-delay, with monitoring on.
func benchServer(b testing.TB) (*Server, func()) {
	b.Helper()
	return benchServerWith(b, monitor.Options{})
}

// benchServerWith is benchServer with the monitor opened with mopt.
func benchServerWith(b testing.TB, mopt monitor.Options) (*Server, func()) {
	b.Helper()
	dir := b.TempDir()
	if _, err := quickstart.Run(context.Background(), filepath.Join(dir, "qs"), io.Discard); err != nil {
		b.Fatal(err)
	}
	store, err := registry.Open(filepath.Join(dir, "reg"))
	if err != nil {
		b.Fatal(err)
	}
	art, err := os.ReadFile(filepath.Join(dir, "qs", quickstart.Files.Artifact))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := store.Put(context.Background(), "flight-delay", "v1", art, registry.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	store.Revalidate = 100 * time.Millisecond // as normguard serve sets it
	mon, err := monitor.Open(filepath.Join(dir, "monitor.db"), mopt)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Registry: store, Monitor: mon, Token: "t"})
	if err != nil {
		b.Fatal(err)
	}
	return s, func() { mon.Close() }
}

func benchBody(rows int) []byte {
	row := `{"date":"2001-06-01 00:05","delay":12,"distance":1235,"origin":"LAS","destination":"PHL"}`
	return []byte(`{"rows":[` + strings.TrimSuffix(strings.Repeat(row+",", rows), ",") + `]}`)
}

func benchmarkTransform(b *testing.B, rows int) {
	s, done := benchServer(b)
	defer done()
	h := s.Handler()
	body := benchBody(rows)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/v1/models/flight-delay/transform", bytes.NewReader(body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("got %d %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(rows*5)*float64(b.N)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkTransform1Row is the handler's cost for a single-row request,
// without the network.
func BenchmarkTransform1Row(b *testing.B) { benchmarkTransform(b, 1) }

// BenchmarkTransform1000Rows is the handler's cost for a batch of 1,000.
func BenchmarkTransform1000Rows(b *testing.B) { benchmarkTransform(b, 1000) }

// BenchmarkTransform1RowBallast is BenchmarkTransform1Row with the heap
// ballast Serve holds (gc.go): the difference is the collector's share of
// a small server's work.
func BenchmarkTransform1RowBallast(b *testing.B) {
	ballast := heapBallast(DefaultHeapFloor)
	defer keepBallast(ballast)
	benchmarkTransform(b, 1)
}
