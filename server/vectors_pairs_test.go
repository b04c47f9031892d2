package server

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

// noisyVectors returns n vectors of base with a little seeded noise.
func noisyVectors(base [][]float64, n int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float64, n)
	for i := range out {
		v := append([]float64(nil), base[i%len(base)]...)
		for k := range v {
			v[k] += rng.NormFloat64() * 0.01
		}
		out[i] = v
	}
	return out
}

// TestVectorPairsOutsideLock: a vector observation sent while GET
// .../vectors compares producers is answered before the GET is (attack
// run 36 F10: the comparisons ran under the vector state's lock, and a
// POST waited for all of them).
func TestVectorPairsOutsideLock(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	_, ts := vf.serve(t)
	for k := range 8 {
		postVectors(t, ts, fmt.Sprintf("p%d", k), noisyVectors(vf.rest, 400, uint64(k)))
	}
	getDone := make(chan time.Time, 1)
	go func() {
		resp, err := http.Get(ts.URL + "/v1/models/store/vectors")
		if err == nil {
			resp.Body.Close()
		}
		getDone <- time.Now()
	}()
	time.Sleep(300 * time.Millisecond) // the GET is comparing (28 pairs of 400 vectors take seconds)
	select {
	case <-getDone:
		t.Skip("the GET ended within 300 ms: nothing to post during it on this machine")
	default:
	}
	postVectors(t, ts, "p1", noisyVectors(vf.rest, 10, 99))
	posted := time.Now()
	got := <-getDone
	if !posted.Before(got) {
		t.Errorf("the POST was answered %v after the GET: it waited for the comparisons", posted.Sub(got))
	}
}

// TestVectorPairsBudget: a report compares pairs within its budget (here
// one pair each: the write timeout is 3 ms) and says the others are
// pending; the next reports compare the rest, keep what was compared,
// and give what one report with time for all gives; a producer taking
// more vectors has its pairs compared again.
func TestVectorPairsBudget(t *testing.T) {
	vf := newVectorFixture(t, "monitor.db.vectors.json")
	serve := func(wt time.Duration) *httptest.Server {
		s, err := New(Config{Registry: vf.store, Token: "t", VectorWindow: time.Hour, WriteTimeout: wt})
		if err != nil {
			t.Fatal(err)
		}
		s.vectors.now = func() time.Time { return vf.now }
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		return ts
	}
	slow, full := serve(3*time.Millisecond), serve(time.Hour)
	for k := range 4 {
		vs := noisyVectors(vf.rest, 60, uint64(k))
		postVectors(t, slow, fmt.Sprintf("p%d", k), vs)
		postVectors(t, full, fmt.Sprintf("p%d", k), vs)
	}
	pending := func(ts *httptest.Server) (int, vectorsResponse) {
		t.Helper()
		got, _ := getVectors(t, ts)
		n := 0
		for _, p := range got.Columns[0].Pairs {
			if p.Pending {
				n++
				if p.Drift != nil || p.Skipped == "" {
					t.Errorf("pending pair %s-%s: drift %v, skipped %q; want no drift and a reason", p.A, p.B, p.Drift, p.Skipped)
				}
			} else if p.Drift == nil {
				t.Errorf("pair %s-%s: no drift (%q)", p.A, p.B, p.Skipped)
			}
		}
		return n, got
	}
	want, _ := getVectors(t, full)
	if n := len(want.Columns[0].Pairs); n != 6 {
		t.Fatalf("%d pairs, want 6", n)
	}
	for i, wantPending := range []int{5, 4, 3, 2, 1, 0, 0} {
		if n, _ := pending(slow); n != wantPending {
			t.Fatalf("GET %d: %d pairs pending, want %d", i+1, n, wantPending)
		}
	}
	_, got := pending(slow)
	if !reflect.DeepEqual(got.Columns[0].Pairs, want.Columns[0].Pairs) {
		t.Errorf("pairs compared over 6 reports:\n%+v\nwant those of one report:\n%+v", got.Columns[0].Pairs, want.Columns[0].Pairs)
	}
	// p1 takes more vectors: its 3 pairs are compared again, one per GET.
	postVectors(t, slow, "p1", noisyVectors(vf.rest, 5, 42))
	for i, wantPending := range []int{2, 1, 0} {
		if n, _ := pending(slow); n != wantPending {
			t.Fatalf("after p1's new vectors, GET %d: %d pairs pending, want %d", i+1, n, wantPending)
		}
	}
}
