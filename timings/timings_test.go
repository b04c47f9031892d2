package timings

import (
	"strings"
	"testing"
	"time"
)

func TestRecorder(t *testing.T) {
	r := New()
	r.Add("parse", 2*time.Second)
	r.Add("write", time.Second)
	r.Add("parse", time.Second)
	got := r.Stages()
	want := []Stage{{"parse", 3 * time.Second}, {"write", time.Second}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	var sb strings.Builder
	r.Write(&sb)
	if out := sb.String(); !strings.Contains(out, "timings: parse              3.000 s") || !strings.Contains(out, "timings: wall") {
		t.Errorf("got %q, want a parse line of 3.000 s and a wall line", out)
	}
}

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Add("parse", time.Second)
	r.Since("parse", time.Now())
	if got := r.Stages(); got != nil {
		t.Errorf("got %v from a nil Recorder, want nil", got)
	}
	var sb strings.Builder
	r.Write(&sb)
	if sb.Len() != 0 {
		t.Errorf("a nil Recorder wrote %q, want nothing", sb.String())
	}
}
