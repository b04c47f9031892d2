package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// ErrInvalid is wrapped, together with ErrCorrupt, by errors for artifacts
// whose bytes match their digest but whose content is inconsistent: an
// array of the wrong length, an unsorted grid, a scale of 0, ... Such a
// file was damaged or edited and re-digested; a fit never writes one.
var ErrInvalid = errors.New("invalid artifact")

// FieldError names the field of an artifact that fails the meaning check
// by its JSON path ("groups[0].steps[1].fitted.scale_[3]") and says what
// is wrong with it.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// refitHint ends every meaning-check refusal.
const refitHint = "the artifact was damaged or edited after it was fitted; refit it with normguard fit, or restore it from the registry or a backup"

func bad(path, format string, args ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// underStep places a step's error below the step's path.
func underStep(prefix string, err error) error {
	pe := step.Under(prefix, err)
	return &FieldError{Path: pe.Path, Msg: pe.Msg}
}

// Check validates the meaning of an artifact, beyond its digest: that the
// spec, the groups, their steps, the input and output schemas and the
// training profile agree with one another, and that every fitted
// parameter and profile array is one a transform, drift check or
// diagnosis can use (lengths, order, ranges, counts). The error is a
// *FieldError naming the first field that fails, by its JSON path.
// Decode runs it on every artifact it accepts.
func Check(a *Artifact) error {
	if a.Spec == nil {
		return bad("spec", "is missing")
	}
	if len(a.Spec.Columns) != len(a.Groups) {
		return bad("groups", "has %d entries, the spec's columns %d", len(a.Groups), len(a.Spec.Columns))
	}
	if err := checkFields("inputs", a.Inputs); err != nil {
		return err
	}
	if err := checkFields("outputs", a.Outputs); err != nil {
		return err
	}
	if a.Training.Rows < 0 {
		return bad("training.rows", "must be >= 0, got %d", a.Training.Rows)
	}
	inputs := map[string]string{}
	for _, f := range a.Inputs {
		inputs[f.Name] = f.Type
	}
	var produced []table.Field
	for gi, g := range a.Groups {
		gp := fmt.Sprintf("groups[%d]", gi)
		if g.Type != spec.TypeNumeric && g.Type != spec.TypeCategorical {
			return bad(gp+".type", "must be %q or %q, got %q", spec.TypeNumeric, spec.TypeCategorical, g.Type)
		}
		if sn := a.Spec.Columns[gi].Names; !equalStrings(sn, g.Columns) {
			return bad(gp+".columns", "%q differs from the spec's names %q", g.Columns, sn)
		}
		if len(g.Columns) == 0 {
			return bad(gp+".columns", "is empty")
		}
		cur := make([]table.Field, len(g.Columns))
		for ci, c := range g.Columns {
			t, ok := inputs[c]
			if !ok {
				return bad(fmt.Sprintf("%s.columns[%d]", gp, ci), "%q is not an input", c)
			}
			if t != g.Type {
				return bad(fmt.Sprintf("%s.columns[%d]", gp, ci), "%q is %s in inputs, the group is %s", c, t, g.Type)
			}
			cur[ci] = Field{Name: c, Type: t}.TableField()
		}
		if len(g.Steps) != len(a.Spec.Columns[gi].Steps) {
			return bad(gp+".steps", "has %d entries, the spec's group %d", len(g.Steps), len(a.Spec.Columns[gi].Steps))
		}
		for si, s := range g.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", gp, si)
			if s.Fitted == nil || s.Params == nil {
				return bad(sp, "has no fitted parameters")
			}
			if want := a.Spec.Columns[gi].Steps[si].Name; s.Name != want {
				return bad(sp+".step", "is %q, the spec says %q", s.Name, want)
			}
			if !sameJSON(s.Params, a.Spec.Columns[gi].Steps[si].Params) {
				return bad(sp+".params", "differ from the spec's columns[%d].steps[%d]", gi, si)
			}
			if len(s.Inputs) != len(cur) {
				return bad(sp+".inputs", "lists %d columns, the previous step gives %d", len(s.Inputs), len(cur))
			}
			for k, n := range s.Inputs {
				if n != cur[k].Name {
					return bad(fmt.Sprintf("%s.inputs[%d]", sp, k), "is %q, the previous step gives %q", n, cur[k].Name)
				}
			}
			if err := s.Fitted.Check(len(s.Inputs)); err != nil {
				return underStep(sp+".fitted", err)
			}
			cur = s.Fitted.Outputs()
		}
		produced = append(produced, cur...)
	}
	seenPass := map[string]bool{}
	for i, c := range a.Passthrough {
		t, ok := inputs[c]
		if !ok {
			return bad(fmt.Sprintf("passthrough[%d]", i), "%q is not an input", c)
		}
		if seenPass[c] {
			return bad(fmt.Sprintf("passthrough[%d]", i), "%q is listed twice", c)
		}
		seenPass[c] = true
		produced = append(produced, Field{Name: c, Type: t}.TableField())
	}
	if len(produced) != len(a.Outputs) {
		return bad("outputs", "lists %d columns, the groups and passthrough give %d", len(a.Outputs), len(produced))
	}
	for i, f := range produced {
		if o := a.Outputs[i]; o.Name != f.Name || o.TableField().Kind != f.Kind {
			return bad(fmt.Sprintf("outputs[%d]", i), "is %q (%s), the steps give %q (%s)", o.Name, o.Type, f.Name, spec.TypeOf(f.Kind))
		}
	}
	if a.Profile != nil {
		if err := checkProfileSet("profile", a.Profile, a.Inputs, a.Outputs, a.Training.Rows, a.VectorInputs()); err != nil {
			return err
		}
	}
	return checkEmbeddings(a)
}

// checkFields checks a schema: names present and unique, types known.
func checkFields(path string, fs []Field) error {
	seen := make(map[string]bool, len(fs))
	for i, f := range fs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if f.Name == "" {
			return bad(p+".name", "is empty")
		}
		if seen[f.Name] {
			return bad(p+".name", "%q is listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Type != spec.TypeNumeric && f.Type != spec.TypeCategorical {
			return bad(p+".type", "must be %q or %q, got %q", spec.TypeNumeric, spec.TypeCategorical, f.Type)
		}
	}
	return nil
}

// sameJSON reports whether two step parameter values encode alike.
func sameJSON(a, b step.Params) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkProfileSet checks a training profile against the schemas: the same
// columns in the same order, each profile internally consistent, and
// every column's present and missing counts adding up to rows.
func checkProfileSet(path string, p *profile.Set, inputs, outputs []Field, rows int64, vectorDims map[string]VectorDim) error {
	for _, s := range []struct {
		name   string
		feats  []profile.Feature
		schema []Field
	}{{"inputs", p.Inputs, inputs}, {"outputs", p.Outputs, outputs}} {
		sp := path + "." + s.name
		if len(s.feats) != len(s.schema) {
			return bad(sp, "has %d columns, the schema's %s %d", len(s.feats), s.name, len(s.schema))
		}
		for i := range s.feats {
			fp := fmt.Sprintf("%s[%d]", sp, i)
			f := &s.feats[i]
			if f.Name != s.schema[i].Name || f.Type != s.schema[i].Type {
				return bad(fp, "is %q (%s), the schema's %s[%d] is %q (%s)", f.Name, f.Type, s.name, i, s.schema[i].Name, s.schema[i].Type)
			}
			_, dim := vectorDims[f.Name]
			if err := checkColumnProfile(fp, f, dim); err != nil {
				return err
			}
			if f.Count+f.Missing != rows {
				return bad(fp+".count", "%d present and %d missing values make %d rows, training.rows is %d", f.Count, f.Missing, f.Count+f.Missing, rows)
			}
		}
	}
	return nil
}

// CheckFeatures checks a list of column profiles (as a monitor keeps
// them) with CheckFeature; path names the list in errors.
func CheckFeatures(path string, fs []profile.Feature) error {
	seen := make(map[string]bool, len(fs))
	for i := range fs {
		fp := fmt.Sprintf("%s[%d]", path, i)
		if seen[fs[i].Name] {
			return bad(fp+".name", "%q is listed twice", fs[i].Name)
		}
		seen[fs[i].Name] = true
		if err := CheckFeature(fp, &fs[i]); err != nil {
			return err
		}
	}
	return nil
}

// locateStepError finds, after the decoder refused data, the fitted step
// that refused itself and returns its error under the step's JSON path
// (the decoder reports an Unmarshaler's error without one). It returns
// nil when no single step fails on its own.
func locateStepError(data []byte) error {
	var shadow struct {
		Groups []struct {
			Steps []json.RawMessage `json:"steps"`
		} `json:"groups"`
	}
	// A document that does not parse even with raw steps leaves shadow
	// partly filled; the steps it holds are still tried.
	_ = json.Unmarshal(data, &shadow)
	for gi, g := range shadow.Groups {
		for si, raw := range g.Steps {
			var fs step.FittedStep
			if err := json.Unmarshal(raw, &fs); err != nil {
				return underStep(fmt.Sprintf("groups[%d].steps[%d]", gi, si), err)
			}
		}
	}
	return nil
}

var (
	yamlColumns = regexp.MustCompile(`(?m)^columns\s*:`)
	yamlVersion = regexp.MustCompile(`(?m)^version\s*:`)
)

// looksLikeSpec reports whether data is a normguard spec (YAML or JSON):
// a top-level columns and version, and no digest or format.
func looksLikeSpec(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) == nil {
		_, cols := top["columns"]
		_, ver := top["version"]
		_, dig := top["digest"]
		_, form := top["format"]
		return cols && ver && !dig && !form
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return false
	}
	return yamlColumns.Match(data) && yamlVersion.Match(data) && !strings.Contains(string(data), `"digest"`)
}

// specError says that name is a spec, with the command that fits it.
func specError(name string) error {
	return fmt.Errorf("load artifact %s: %w: %s is a spec, not an artifact: fit it first with `normguard fit --spec %s --data TRAIN.csv --out ARTIFACT.json` and pass the artifact",
		name, ErrForeign, name, name)
}
