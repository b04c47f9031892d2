package diagnose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
)

func TestZZSweep(t *testing.T) {
	root := os.Getenv("SWEEP_DIR")
	if root == "" {
		t.Skip()
	}
	paths, _ := filepath.Glob(filepath.Join(root, "*", "expected.json"))
	sort.Strings(paths)
	tally := map[string]int{}
	for _, path := range paths {
		dir := filepath.Dir(path)
		var want struct {
			Paired   bool              `json:"paired"`
			Verdicts map[string]string `json:"verdicts"`
			Partners map[string]string `json:"partners"`
			Kinds    map[string]string `json:"kinds"`
			Logs     map[string]bool   `json:"logs"`
			Table    string            `json:"table"`
		}
		json.Unmarshal(readVariantFile(t, path), &want)
		a := fitVariant(t, dir, "train.csv")
		obs := readAllNumeric(t, filepath.Join(dir, "observed.csv"))
		var rep *Report
		var err error
		if (want.Paired || os.Getenv("SWEEP_PAIRED") != "") && os.Getenv("SWEEP_UNPAIRED") == "" {
			raw := readVariantCSV(t, filepath.Join(dir, "raw.csv"), artifact.TableFields(a.Inputs))
			var cands []Candidate
			if _, err := os.Stat(filepath.Join(dir, "candidate_spec.json")); err == nil {
				cands = append(cands, Candidate{Artifact: fitSpec(t, dir, "candidate_spec.json", "candidate_train.csv", fit.Options{Model: "m", ModelVersion: "2"}), File: "c.json"})
			}
			rep, err = Paired(a, raw, obs, cands)
		} else {
			var cands []Candidate
			if _, err := os.Stat(filepath.Join(dir, "candidate_spec.json")); err == nil {
				cands = append(cands, Candidate{Artifact: fitSpec(t, dir, "candidate_spec.json", "candidate_train.csv", fit.Options{Model: "m", ModelVersion: "2"}), File: "c.json"})
			}
			rep, err = Unpaired(a, obs, UnpairedOptions{Candidates: cands})
		}
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if len(rep.Features) != len(want.Verdicts) {
			t.Logf("%s: got %d features, want %d", dir, len(rep.Features), len(want.Verdicts))
		}
		for _, v := range rep.Features {
			w := want.Verdicts[v.Name]
			key := w + " -> " + v.Verdict
			tally[key]++
			bad := w != v.Verdict
			if p, ok := want.Partners[v.Name]; ok && v.Verdict == w {
				got, _ := v.Evidence["partner"].(string)
				if w == WrongTransform {
					got, _ = v.Evidence["transform"].(string)
				}
				if got != p {
					bad = true
					tally["wrong name"]++
				}
			}
			if bad {
				t.Logf("%s %s [%s %s log=%v]: want %s (%s) got %s: %v %.150s", filepath.Base(dir), want.Table, v.Name, want.Kinds[v.Name], want.Logs[v.Name], w, want.Partners[v.Name], v.Verdict, v.Evidence["dbg"], v.Explanation)
			}
		}
	}
	keys := make([]string, 0, len(tally))
	for k := range tally {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-40s %d", k, tally[k])
	}
}
