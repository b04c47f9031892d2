package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/monitor"
	"github.com/normguard/normguard/registry"
	"github.com/normguard/normguard/server"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/transform"
)

// The starting artifacts: every step kind normguard fits, on small real
// tables (testdata/mutate/README.md).
const mutatePenguinsSpec = `version: 1
remainder: drop
columns:
  - name: bill_length_mm
    type: numeric
    steps: [{simple_imputer: {strategy: mean, add_indicator: true}}, standard_scaler]
  - name: bill_depth_mm
    type: numeric
    steps: [{simple_imputer: {strategy: median}}, min_max_scaler]
  - name: flipper_length_mm
    type: numeric
    steps: [{simple_imputer: {strategy: median}}, {quantile_transformer: {n_quantiles: 40, output_distribution: normal}}]
  - name: body_mass_g
    type: numeric
    steps: [{simple_imputer: {strategy: median}}, power_transformer, robust_scaler]
  - names: [year]
    type: numeric
    steps: [max_abs_scaler]
  - name: species
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: infrequent_if_exist, min_frequency: 30}}]
  - name: island
    type: categorical
    steps: [{ordinal_encoder: {handle_unknown: use_encoded_value, unknown_value: -1}}]
  - name: sex
    type: categorical
    steps: [{simple_imputer: {strategy: most_frequent}}, {one_hot_encoder: {handle_unknown: ignore, drop: if_binary}}]
`

const mutateFlightsSpec = `version: 1
remainder: passthrough
columns:
  - name: delay
    type: numeric
    steps: [{binarizer: {threshold: 15}}]
  - name: distance
    type: numeric
    steps: [{kbins_discretizer: {n_bins: 4, encode: ordinal, strategy: quantile}}]
  - names: [delay_min, distance_km]
    type: numeric
    steps: [{normalizer: {norm: l2}}]
  - name: distance_log
    type: numeric
    steps: [log1p]
  - name: origin
    type: categorical
    steps: [{one_hot_encoder: {handle_unknown: infrequent_if_exist, max_categories: 4}}]
`

// mutationBase is a valid artifact to mutate, with the data it was fitted on.
type mutationBase struct {
	name     string
	art      []byte // canonical artifact
	tree     any    // its JSON, decoded with UseNumber
	data     string // training CSV
	outCSV   string // the training data transformed by the valid artifact
	rows     []map[string]any
	rowsJSON []byte // {"rows": [...]} of the first rows
}

func fitMutationBases(t testing.TB, dir string) []*mutationBase {
	t.Helper()
	specs := []struct{ name, spec, data string }{
		{"penguins", mutatePenguinsSpec, "testdata/mutate/penguins.csv"},
		{"flights", mutateFlightsSpec, ""},
	}
	// flights: delay and distance again under other names (a column
	// belongs to one group), for the normalizer and log1p.
	src, err := os.ReadFile("testdata/mutate/flights.csv")
	if err != nil {
		t.Fatal(err)
	}
	var fl strings.Builder
	for i, line := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		cells := strings.Split(line, ",")
		if i == 0 {
			fl.WriteString(line + ",delay_min,distance_km,distance_log\n")
			continue
		}
		fl.WriteString(line + "," + cells[1] + "," + cells[2] + "," + cells[2] + "\n")
	}
	specs[1].data = filepath.Join(dir, "flights.csv")
	if err := os.WriteFile(specs[1].data, []byte(fl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out []*mutationBase
	for _, s := range specs {
		sp := filepath.Join(dir, s.name+".yaml")
		if err := os.WriteFile(sp, []byte(s.spec), 0o644); err != nil {
			t.Fatal(err)
		}
		ap := filepath.Join(dir, s.name+".json")
		if code, _, errOut := cliRun(t, "fit", "--spec", sp, "--data", s.data, "--out", ap); code != 0 {
			t.Fatalf("fit %s: exit %d: %s", s.name, code, errOut)
		}
		b := &mutationBase{name: s.name, data: s.data, outCSV: filepath.Join(dir, s.name+".out.csv")}
		if code, _, errOut := cliRun(t, "transform", "--artifact", ap, "--in", s.data, "--out", b.outCSV); code != 0 {
			t.Fatalf("transform %s: exit %d: %s", s.name, code, errOut)
		}
		b.art = mustReadFile(t, ap)
		dec := json.NewDecoder(bytes.NewReader(b.art))
		dec.UseNumber()
		if err := dec.Decode(&b.tree); err != nil {
			t.Fatal(err)
		}
		b.rows = mutateRows(t, s.data, 40)
		b.rowsJSON, _ = json.Marshal(map[string]any{"rows": b.rows})
		out = append(out, b)
	}
	return out
}

func cliRun(t testing.TB, args ...string) (int, string, string) {
	var so, se bytes.Buffer
	code := run(context.Background(), args, &so, &se)
	return code, so.String(), se.String()
}

func mustReadFile(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutateRows reads the first n rows of a CSV as JSON rows (numbers where the
// cell parses, null for NA).
func mutateRows(t testing.TB, path string, n int) []map[string]any {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	head := strings.Split(lines[0], ",")
	var rows []map[string]any
	for _, l := range lines[1:min(len(lines), n+1)] {
		row := map[string]any{}
		for j, c := range strings.Split(l, ",") {
			if c == "NA" {
				row[head[j]] = nil
			} else if x, err := strconv.ParseFloat(c, 64); err == nil {
				row[head[j]] = x
			} else {
				row[head[j]] = c
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// slot is a place in a JSON tree: a map key or a slice index.
type slot struct {
	path   string
	get    func() any
	set    func(any)
	remove func() // nil for slice elements
}

func collectSlots(v any, path string, get func() any, set func(any), out *[]slot) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			k := k
			*out = append(*out, slot{path: path + "." + k,
				get: func() any { return x[k] }, set: func(v any) { x[k] = v }, remove: func() { delete(x, k) }})
			collectSlots(x[k], path+"."+k, nil, nil, out)
		}
	case []any:
		for i := range x {
			i := i
			*out = append(*out, slot{path: fmt.Sprintf("%s[%d]", path, i),
				get: func() any { return x[i] }, set: func(v any) { x[i] = v }})
			collectSlots(x[i], fmt.Sprintf("%s[%d]", path, i), nil, nil, out)
		}
	}
}

// deepCopy copies a tree decoded with UseNumber.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// mutate applies one random change to the tree and describes it. Half
// the changes land in the profile, most others in the steps.
func mutate(r *rand.Rand, tree any) string {
	root := tree.(map[string]any)
	var area string
	switch k := r.Intn(20); {
	case k < 9:
		area = "profile"
	case k < 17:
		area = "groups"
	case k < 19:
		area = []string{"outputs", "inputs", "passthrough", "spec"}[r.Intn(4)]
	default:
		area = ""
	}
	var slots []slot
	if area == "" {
		collectSlots(root, "", nil, nil, &slots)
	} else {
		collectSlots(root[area], area, nil, nil, &slots)
	}
	if len(slots) == 0 {
		return "nothing to mutate"
	}
	s := slots[r.Intn(len(slots))]
	v := s.get()
	switch x := v.(type) {
	case []any:
		switch r.Intn(8) {
		case 0:
			if len(x) > 0 {
				s.set(x[:len(x)-1])
				return s.path + ": drop the last entry"
			}
			s.set(nil)
			return s.path + ": null"
		case 1:
			if len(x) > 1 {
				s.set(x[1:])
				return s.path + ": drop the first entry"
			}
			s.set([]any{})
			return s.path + ": empty"
		case 2:
			if len(x) > 0 {
				s.set(append(x, deepCopy(x[len(x)-1])))
				return s.path + ": repeat the last entry"
			}
		case 3:
			if len(x) > 1 {
				i, j := r.Intn(len(x)), r.Intn(len(x))
				x[i], x[j] = x[j], x[i]
				return fmt.Sprintf("%s: swap entries %d and %d", s.path, i, j)
			}
		case 4:
			s.set([]any{})
			return s.path + ": empty"
		case 5:
			for i, j := 0, len(x)-1; i < j; i, j = i+1, j-1 {
				x[i], x[j] = x[j], x[i]
			}
			return s.path + ": reverse"
		case 6:
			if len(x) > 1 {
				x[1] = deepCopy(x[0])
				return s.path + ": duplicate entry 0"
			}
		}
		s.set(nil)
		return s.path + ": null"
	case json.Number:
		f, _ := x.Float64()
		vals := []any{json.Number("0"), json.Number("-1"), "NaN", "Infinity", "-Infinity",
			json.Number("1e308"), json.Number("-1e308"), json.Number("0.5"), json.Number("9223372036854775807"),
			json.Number(strconv.FormatFloat(-f, 'g', -1, 64)), json.Number(strconv.FormatFloat(f+1, 'g', -1, 64)),
			json.Number(strconv.FormatFloat(f*1000, 'g', -1, 64))}
		nv := vals[r.Intn(len(vals))]
		s.set(nv)
		return fmt.Sprintf("%s: %v -> %v", s.path, x, nv)
	case string:
		vals := []any{"", "NaN", "Infinity", x + "x", "numeric", "categorical", "time"}
		nv := vals[r.Intn(len(vals))]
		s.set(nv)
		return fmt.Sprintf("%s: %q -> %v", s.path, x, nv)
	case bool:
		s.set(!x)
		return fmt.Sprintf("%s: %v -> %v", s.path, x, !x)
	case nil:
		nv := []any{json.Number("0"), []any{}, "NaN"}[r.Intn(3)]
		s.set(nv)
		return fmt.Sprintf("%s: null -> %v", s.path, nv)
	case map[string]any:
		if s.remove != nil && r.Intn(2) == 0 {
			s.remove()
			return s.path + ": removed"
		}
		s.set(nil)
		return s.path + ": null"
	}
	return "unchanged"
}

// reencode turns a mutated tree into an artifact with a valid digest, as
// an attacker who re-digests an edited file would. The steps are decoded
// into their fitted types directly, past the checks of the step decoder,
// so that the loader is what has to refuse them. ok is false when the
// tree does not even decode into the artifact's Go types (wrong JSON
// types: no such file can carry a valid digest).
func reencode(tree any) ([]byte, bool) {
	root := tree.(map[string]any)
	groups, _ := root["groups"].([]any)
	rest := make(map[string]any, len(root))
	for k, v := range root {
		if k != "groups" {
			rest[k] = v
		}
	}
	raw, err := json.Marshal(rest)
	if err != nil {
		return nil, false
	}
	var a artifact.Artifact
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, false
	}
	if root["groups"] != nil {
		a.Groups = []artifact.Group{}
	}
	for _, g := range groups {
		gm, ok := g.(map[string]any)
		if !ok {
			return nil, false
		}
		var ag artifact.Group
		cols, _ := json.Marshal(gm["columns"])
		typ, _ := gm["type"].(string)
		if json.Unmarshal(cols, &ag.Columns) != nil {
			return nil, false
		}
		ag.Type = typ
		steps, _ := gm["steps"].([]any)
		if gm["steps"] != nil {
			ag.Steps = []step.FittedStep{}
		}
		for _, st := range steps {
			sm, ok := st.(map[string]any)
			if !ok {
				return nil, false
			}
			name, _ := sm["step"].(string)
			def, ok := step.Lookup(name)
			if !ok {
				return nil, false
			}
			fs := step.FittedStep{Name: name, Params: def.NewParams(), Fitted: def.NewFitted()}
			for _, part := range []struct {
				key string
				dst any
			}{{"params", fs.Params}, {"inputs", &fs.Inputs}, {"fitted", fs.Fitted}} {
				b, _ := json.Marshal(sm[part.key])
				if json.Unmarshal(b, part.dst) != nil {
					return nil, false
				}
			}
			ag.Steps = append(ag.Steps, fs)
		}
		a.Groups = append(a.Groups, ag)
	}
	b, err := artifact.Encode(&a)
	if err != nil {
		return nil, false
	}
	return b, true
}

// mutationOutcome counts what happened to a run of mutations.
type mutationOutcome struct {
	total, undecodable, refused, accepted, panics int
}

// consumers runs every command and library entry point that reads an
// artifact on path and reports the first panic.
type consumers struct {
	t      *testing.T
	base   *mutationBase
	dir    string
	ts     *httptest.Server
	models int
}

// pushedMutants numbers the versions the mutants are pushed as.
var pushedMutants int

func (c *consumers) runAll(path string, data []byte) (failure string) {
	defer func() {
		if p := recover(); p != nil {
			failure = fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	b := c.base
	a, err := artifact.Decode(data, path)
	if err != nil {
		return ""
	}
	if tr, err := transform.New(a); err == nil {
		_, _ = tr.Rows(b.rows)
	}
	out := filepath.Join(c.dir, "out.csv")
	cmds := [][]string{
		{"transform", "--artifact", path, "--in", b.data, "--out", out},
		{"drift", "--artifact", path, "--current", b.data, "--format", "json"},
		{"drift", "--artifact", path, "--transformed", "--current", b.outCSV, "--format", "json"},
		{"diagnose", "--artifact", path, "--observed", b.outCSV, "--format", "json"},
		{"validate", "--artifact", path, "--data", b.data, "--format", "json"},
		{"inspect", path},
		{"diff", c.dir + "/base.json", path},
		{"verify", path},
		{"export", "--artifact", path, "--out", filepath.Join(c.dir, "m.onnx")},
		{"push", path, "--registry", filepath.Join(c.dir, "reg-cli"), "--model", "m", "--model-version", fmt.Sprint(pushedMutants)},
		{"pull", fmt.Sprintf("m@%d", pushedMutants), "--registry", filepath.Join(c.dir, "reg-cli"), "--out", filepath.Join(c.dir, "pulled.json")},
	}
	pushedMutants++
	for _, args := range cmds {
		var so, se bytes.Buffer
		code := run(c.t.Context(), args, &so, &se)
		if code < 0 || code > 2 {
			return fmt.Sprintf("normguard %s: exit %d", strings.Join(args, " "), code)
		}
		if strings.Contains(se.String(), "panic") {
			return fmt.Sprintf("normguard %s: %s", strings.Join(args, " "), se.String())
		}
	}
	if c.ts != nil {
		c.models++
		name := fmt.Sprintf("m%d", c.models)
		req, _ := http.NewRequest(http.MethodPut, c.ts.URL+"/v1/models/"+name+"/versions/v1", bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer t")
		for _, r := range []struct {
			req  *http.Request
			what string
		}{
			{req, "upload"},
			{mustReq(http.MethodPost, c.ts.URL+"/v1/models/"+name+"/transform", b.rowsJSON), "transform"},
			{mustReq(http.MethodPost, c.ts.URL+"/v1/models/"+name+"/observations", b.rowsJSON), "observations"},
			{mustReq(http.MethodGet, c.ts.URL+"/v1/models/"+name+"/drift?plots=1", nil), "drift"},
		} {
			resp, err := http.DefaultClient.Do(r.req)
			if err != nil {
				return fmt.Sprintf("server %s: %v (did the server die?)", r.what, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				return fmt.Sprintf("server %s: %d %s", r.what, resp.StatusCode, body)
			}
		}
	}
	return ""
}

func mustReq(method, url string, body []byte) *http.Request {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// runMutations applies n deterministic mutations (1 or 2 changes each)
// to the bases, re-digests them and feeds every accepted one to every
// consumer. serverEvery > 0 also uploads every serverEvery-th accepted
// artifact to a server and calls its transform, observations and drift.
func runMutations(t *testing.T, n int, seed int64, serverEvery int) mutationOutcome {
	dir := t.TempDir()
	bases := fitMutationBases(t, dir)
	var ts *httptest.Server
	if serverEvery > 0 {
		store, err := registry.Open(filepath.Join(dir, "reg"))
		if err != nil {
			t.Fatal(err)
		}
		mon, err := monitor.Open(filepath.Join(dir, "monitor.db"), monitor.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer mon.Close()
		s, err := server.New(server.Config{Registry: store, Monitor: mon, Token: "t"})
		if err != nil {
			t.Fatal(err)
		}
		ts = httptest.NewServer(s.Handler())
		defer ts.Close()
	}
	dump := os.Getenv("NORMGUARD_MUTATE_DUMP") // write accepted-by-encode mutants there
	r := rand.New(rand.NewSource(seed))
	var o mutationOutcome
	for i := 0; i < n; i++ {
		b := bases[i%len(bases)]
		tree := deepCopy(b.tree)
		what := mutate(r, tree)
		if r.Intn(3) == 0 {
			what += "; " + mutate(r, tree)
		}
		o.total++
		data, ok := reencode(tree)
		if !ok {
			o.undecodable++
			continue
		}
		if dump != "" {
			os.WriteFile(filepath.Join(dump, fmt.Sprintf("%s-%05d.json", b.name, i)), data, 0o644)
		}
		path := filepath.Join(dir, "m.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "base.json"), b.art, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := artifact.Decode(data, path); err != nil {
			o.refused++
			if !strings.Contains(err.Error(), "refit") && !strings.Contains(err.Error(), "fetch") {
				t.Errorf("mutation %d (%s): refusal does not say what to do: %v", i, what, err)
			}
			continue
		}
		o.accepted++
		c := &consumers{t: t, base: b, dir: dir}
		if serverEvery > 0 && o.accepted%serverEvery == 0 {
			c.ts = ts
		}
		if f := c.runAll(path, data); f != "" {
			o.panics++
			t.Errorf("mutation %d of %s (%s) was accepted and then: %s", i, b.name, what, f)
		}
	}
	return o
}

// TestMutatedArtifactsAreRefusedOrWork mutates valid artifacts a few
// thousand ways (lengths, values, NaN and infinities, order, empty and
// duplicate entries), gives each a valid digest and requires every
// consumer to refuse it cleanly or work: no panic, no 5xx.
func TestMutatedArtifactsAreRefusedOrWork(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	o := runMutations(t, n, 12, 25)
	t.Logf("%d mutations: %d not decodable, %d refused by the check, %d accepted, %d panics or 5xx",
		o.total, o.undecodable, o.refused, o.accepted, o.panics)
	if o.refused == 0 || o.accepted == 0 {
		t.Fatalf("the mutations should give both refused and accepted artifacts: %+v", o)
	}
}

// TestDamagedArtifactNamesTheField checks the refusal of hand-made
// damage: the JSON path of the field, what is wrong and what to do.
func TestDamagedArtifactNamesTheField(t *testing.T) {
	dir := t.TempDir()
	base := fitMutationBases(t, dir)[0]
	cases := []struct {
		edit func(root map[string]any)
		want string
	}{
		{func(root map[string]any) {
			st := root["groups"].([]any)[0].(map[string]any)["steps"].([]any)[1].(map[string]any)["fitted"].(map[string]any)
			st["scale_"].([]any)[1] = json.Number("0")
		}, "groups[0].steps[1].fitted.scale_[1]: must be a finite number > 0, got 0"},
		{func(root map[string]any) {
			st := root["groups"].([]any)[0].(map[string]any)["steps"].([]any)[1].(map[string]any)["fitted"].(map[string]any)
			st["scale_"].([]any)[0] = json.Number("-1")
		}, "groups[0].steps[1].fitted.scale_[0]: must be a finite number > 0, got -1"},
		{func(root map[string]any) {
			f := root["profile"].(map[string]any)["inputs"].([]any)[5].(map[string]any)["categories"].(map[string]any)
			f["counts"] = f["counts"].([]any)[1:]
		}, "profile.inputs[5].categories.counts: has 2 entries, values 3"},
		{func(root map[string]any) {
			f := root["profile"].(map[string]any)["inputs"].([]any)[0].(map[string]any)
			f["cdf"] = f["cdf"].([]any)[1:]
		}, "profile.inputs[0].cdf: has 206 entries, quantiles 207"},
		{func(root map[string]any) {
			q := root["profile"].(map[string]any)["inputs"].([]any)[0].(map[string]any)["quantiles"].([]any)
			q[10], q[100] = q[100], q[10]
		}, "profile.inputs[0].quantiles[11]:"},
		{func(root map[string]any) {
			o := root["outputs"].([]any)
			o[1] = deepCopy(o[0])
		}, `outputs[1].name: "bill_length_mm" is listed twice`},
	}
	for _, c := range cases {
		tree := deepCopy(base.tree)
		c.edit(tree.(map[string]any))
		data, ok := reencode(tree)
		if !ok {
			t.Fatalf("%s: the edited artifact does not decode", c.want)
		}
		path := filepath.Join(dir, "damaged.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{{"verify", path}, {"drift", "--artifact", path, "--current", base.data}} {
			code, _, errOut := runCLI(t, cmd...)
			if code != ExitError || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "refit it") {
				t.Errorf("normguard %s: exit %d, stderr %q; want exit 2 naming %q and saying to refit", cmd[0], code, errOut, c.want)
			}
		}
	}
}

// TestSpecPassedAsArtifact checks that a spec given where an artifact is
// expected is named as a spec, with the command that fits it.
func TestSpecPassedAsArtifact(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(yml, []byte(mutatePenguinsSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(dir, "s.json")
	if err := os.WriteFile(js, []byte(`{"version": 1, "columns": [{"name": "x", "steps": ["standard_scaler"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{yml, js} {
		for _, cmd := range [][]string{{"verify", p}, {"transform", "--artifact", p, "--in", "testdata/mutate/penguins.csv", "--out", filepath.Join(dir, "o.csv")}} {
			code, _, errOut := runCLI(t, cmd...)
			want := p + " is a spec, not an artifact: fit it first with `normguard fit --spec " + p
			if code != ExitError || !strings.Contains(errOut, want) {
				t.Errorf("normguard %s: exit %d, stderr %q; want exit 2 and %q", cmd[0], code, errOut, want)
			}
		}
	}
}

// FuzzArtifactMutation mutates the starting artifacts as the fuzzer's
// seed says (1 to 4 changes), re-digests them and runs every consumer but
// the server on what the loader accepts: none may panic.
func FuzzArtifactMutation(f *testing.F) {
	bases := fitMutationBases(f, f.TempDir())
	f.Add(int64(1), uint8(0))
	f.Add(int64(7), uint8(3))
	f.Fuzz(func(t *testing.T, seed int64, changes uint8) {
		b := bases[int(uint64(seed)%uint64(len(bases)))]
		r := rand.New(rand.NewSource(seed))
		tree := deepCopy(b.tree)
		var what []string
		for k := 0; k <= int(changes%4); k++ {
			what = append(what, mutate(r, tree))
		}
		data, ok := reencode(tree)
		if !ok {
			return
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "m.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "base.json"), b.art, 0o644); err != nil {
			t.Fatal(err)
		}
		c := &consumers{t: t, base: b, dir: dir}
		if failure := c.runAll(path, data); failure != "" {
			t.Fatalf("%s: %s", strings.Join(what, "; "), failure)
		}
	})
}
