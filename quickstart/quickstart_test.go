package quickstart

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := Run(context.Background(), dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Load(filepath.Join(dir, Files.Artifact))
	if err != nil {
		t.Fatalf("the quickstart artifact does not verify: %v", err)
	}
	if a.Training.Rows != res.TrainRows || res.TrainRows == 0 {
		t.Errorf("training rows: artifact says %d, run says %d", a.Training.Rows, res.TrainRows)
	}
	f, err := os.Open(filepath.Join(dir, Files.Features))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int64(len(recs)-1), res.LaterRows; got != want {
		t.Errorf("feature rows: got %d, want %d", got, want)
	}
	if got, want := len(recs[0]), len(a.Outputs); got != want {
		t.Errorf("feature columns: got %d, want %d", got, want)
	}
	// January+February and June are disjoint months of the embedded sample.
	if res.TrainRows+res.LaterRows >= 100000 {
		t.Errorf("train %d + later %d rows: the months overlap", res.TrainRows, res.LaterRows)
	}
	// The broken pipeline's two planted bugs are named, the rest is ok.
	for _, v := range res.Diagnosis.Features {
		want := "ok"
		switch v.Name {
		case "delay":
			want = "not_normalized"
		case "distance":
			want = "per_batch_statistics"
		}
		if v.Verdict != want {
			t.Errorf("diagnosis of %s: got %s, want %s", v.Name, v.Verdict, want)
		}
	}
	if len(res.Drift.Features) != len(a.Inputs) {
		t.Errorf("drift step compared %d features, want %d", len(res.Drift.Features), len(a.Inputs))
	}
	for _, w := range []string{Files.Artifact, "normguard inspect", a.Digest} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report does not mention %q:\n%s", w, out.String())
		}
	}
}
