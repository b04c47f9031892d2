//go:build linux

package server

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVectorJournalFullHealth (attack run 18 F5): while the vector
// journal could not be written, every vector observation got 500
// state_not_saved but /healthz said "ok" and no metric said anything.
// Now /healthz is "degraded" naming the journal and the error, and
// normguard_vector_state_failing is 1, until room comes back: then, with
// no vector request (a drained replica), both clear within seconds, and
// the vectors acknowledged before and after are all counted.
//
// The disk is filled with RLIMIT_FSIZE (no file may grow past the
// journal's size), in a child process, since the limit holds for the
// whole process.
func TestVectorJournalFullHealth(t *testing.T) {
	if ranInFsizeChild(t) {
		return
	}
	vf := newVectorFixture(t, "m.db.vectors.json")
	_, ts := vf.serve(t)
	url := ts.URL + "/v1/models/store/observations?producer=w"
	health := func() (string, []string) { return healthOf(t, ts) }
	metric := func() float64 { return metricOf(t, ts, "normguard_vector_state_failing") }
	if status, resp := send(t, "POST", url, "", vectorBody(vf.rest[:20])); status != http.StatusOK {
		t.Fatalf("first post: %d %s", status, resp)
	}
	if st, _ := health(); st != "ok" || metric() != 0 {
		t.Fatalf("/healthz before: %s", st)
	}
	room := fillTo(t, vf.state+".journal")
	status, resp := send(t, "POST", url, "", vectorBody(vf.rest[20:40]))
	if status != http.StatusInternalServerError || errorCode(resp) != "state_not_saved" {
		room()
		t.Fatalf("post on a full disk: %d %s, want 500 state_not_saved", status, resp)
	}
	st, problems := health()
	if st != "degraded" || len(problems) != 1 || !strings.Contains(problems[0], vf.state+".journal") ||
		!strings.Contains(problems[0], "too large") || !strings.Contains(problems[0], "since ") {
		t.Errorf("/healthz on a full disk: %s %q, want degraded naming the journal, since when and the error", st, problems)
	}
	if got := metric(); got != 1 {
		t.Errorf("normguard_vector_state_failing = %v on a full disk, want 1", got)
	}
	time.Sleep(1100 * time.Millisecond) // a probe is tried, and fails
	if st, _ := health(); st != "degraded" {
		t.Errorf("/healthz a second later on a full disk: %s, want degraded (the probe fails)", st)
	}
	if err := room(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st, _ := health(); st == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz still degraded 5 s after room came back, with no vector request")
		}
	}
	if got := metric(); got != 0 {
		t.Errorf("normguard_vector_state_failing = %v after room came back, want 0", got)
	}
	if status, resp := send(t, "POST", url, "", vectorBody(vf.rest[40:50])); status != http.StatusOK {
		t.Fatalf("post after room came back: %d %s", status, resp)
	}
	got, _ := getVectors(t, ts)
	if ps := got.Columns[0].Producers; len(ps) != 1 || ps[0].Rows != 30 {
		t.Errorf("producers %+v, want w with 30 vectors (20 + 10 acknowledged; the refused 20 not counted)", ps)
	}
}
