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
	// What the broken pipeline received is June as it was; what it fed
	// holds a row per June row and the artifact's numeric outputs.
	if got, want := readFile(t, filepath.Join(dir, Files.Received)), readFile(t, filepath.Join(dir, Files.Later)); !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s", Files.Received, Files.Later)
	}
	fed, err := os.Open(filepath.Join(dir, Files.Fed))
	if err != nil {
		t.Fatal(err)
	}
	defer fed.Close()
	fedRecs, err := csv.NewReader(fed).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int64(len(fedRecs)-1), res.LaterRows; got != want {
		t.Errorf("%s rows: got %d, want %d", Files.Fed, got, want)
	}
	var numeric []string
	for _, o := range a.Outputs {
		if o.Type == "numeric" {
			numeric = append(numeric, o.Name)
		}
	}
	if got, want := strings.Join(fedRecs[0], ","), strings.Join(numeric, ","); got != want {
		t.Errorf("%s header: got %s, want the numeric outputs %s", Files.Fed, got, want)
	}
	// delay was fed unscaled: the raw June value, row for row.
	if fedRecs[1][0] != recsOf(t, filepath.Join(dir, Files.Later))[1][1] {
		t.Errorf("%s row 1 delay %s is not June's raw delay", Files.Fed, fedRecs[1][0])
	}
	for _, w := range []string{Files.Artifact, "normguard inspect", a.Digest, "normguard diagnose", Files.Fed} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report does not mention %q:\n%s", w, out.String())
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func recsOf(t *testing.T, path string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(readFile(t, path))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
