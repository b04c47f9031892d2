package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
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
// Decode runs it on every artifact it accepts; Verify runs the same rules
// (sectionCheck) on a file section by section.
func Check(a *Artifact) error {
	return checkArtifact(a, false)
}

// checkArtifact is Check; selfChecked says the steps passed their own
// rules as they were decoded (Decode's decodeStep).
func checkArtifact(a *Artifact, selfChecked bool) error {
	c := newSectionCheck(wholeSource{a})
	c.selfChecked = selfChecked
	c.setSpec(a.Spec)
	c.setInputs(a.Inputs)
	for gi := range a.Groups {
		c.group(gi, &a.Groups[gi])
	}
	c.setPassthrough(a.Passthrough)
	for i, o := range a.Outputs {
		c.output(i, o)
	}
	c.setTraining(a.Training)
	if a.Profile != nil {
		c.startProfile()
		for side, feats := range [][]profile.Feature{a.Profile.Inputs, a.Profile.Outputs} {
			for i := range feats {
				c.profileFeature(side, i, &feats[i])
			}
		}
	}
	for i := range a.Embeddings {
		c.embedding(i, &a.Embeddings[i])
	}
	return c.finish()
}

// columnList is the columns a group's step takes or gives: held, or
// produced one at a time by a fitted step that does not keep them (a
// one-hot encoder Verify read with many outputs: step.StreamedOutputs),
// so that a check does not hold them.
type columnList struct {
	fields []table.Field
	from   step.Fitted // when not nil, the step producing the columns
	n      int
}

// outputsOf returns the output columns of fitted step f.
func outputsOf(f step.Fitted) columnList {
	if n, ok := step.StreamedOutputs(f); ok {
		return columnList{from: f, n: n}
	}
	fs := f.Outputs()
	return columnList{fields: fs, n: len(fs)}
}

func (l columnList) len() int { return l.n }

// each calls fn with each column, in order.
func (l columnList) each(fn func(k int, f table.Field)) error {
	if l.from == nil {
		for k, f := range l.fields {
			fn(k, f)
		}
		return nil
	}
	k := 0
	return step.EachOutput(l.from, func(f table.Field) {
		fn(k, f)
		k++
	})
}

// at returns column k (ok false when it could not be read).
func (l columnList) at(k int) (f table.Field, ok bool) {
	if k < 0 || k >= l.n {
		return f, false
	}
	if l.from == nil {
		return l.fields[k], true
	}
	err := l.each(func(i int, c table.Field) {
		if i == k {
			f, ok = c, true
		}
	})
	return f, ok && err == nil
}

// checkGroup checks groups[gi] against its spec entry and the input
// columns' types (name -> type) and returns the columns its steps
// produce.
// With selfChecked, the steps have passed their own rules (stepRules) as
// they were decoded, and are not checked again.
func checkGroup(gi int, g *Group, sc *spec.Group, inputs map[string]string, selfChecked bool) (columnList, error) {
	gp := fmt.Sprintf("groups[%d]", gi)
	if g.Type != spec.TypeNumeric && g.Type != spec.TypeCategorical {
		return columnList{}, bad(gp+".type", "must be %q or %q, got %q", spec.TypeNumeric, spec.TypeCategorical, g.Type)
	}
	if !equalStrings(sc.Names, g.Columns) {
		return columnList{}, bad(gp+".columns", "%q differs from the spec's names %q", g.Columns, sc.Names)
	}
	if len(g.Columns) == 0 {
		return columnList{}, bad(gp+".columns", "is empty")
	}
	if sc.Type != g.Type {
		return columnList{}, bad(gp+".type", "%q differs from the spec's columns[%d].type %q", g.Type, gi, sc.Type)
	}
	fs := make([]table.Field, len(g.Columns))
	for ci, c := range g.Columns {
		t, ok := inputs[c]
		if !ok {
			return columnList{}, bad(fmt.Sprintf("%s.columns[%d]", gp, ci), "%q is not an input", c)
		}
		if t != g.Type {
			return columnList{}, bad(fmt.Sprintf("%s.columns[%d]", gp, ci), "%q is %s in inputs, the group is %s", c, t, g.Type)
		}
		fs[ci] = Field{Name: c, Type: t}.TableField()
	}
	cur := columnList{fields: fs, n: len(fs)}
	// present is what is known of the current columns' values in fit
	// (nil: nothing): a NaN parameter for a column with values is refused.
	present := make([]step.Presence, len(fs))
	if len(g.Steps) != len(sc.Steps) {
		return columnList{}, bad(gp+".steps", "has %d entries, the spec's group %d", len(g.Steps), len(sc.Steps))
	}
	for si, s := range g.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", gp, si)
		if s.Fitted == nil || s.Params == nil {
			return columnList{}, bad(sp, "has no fitted parameters")
		}
		if want := sc.Steps[si].Name; s.Name != want {
			return columnList{}, bad(sp+".step", "is %q, the spec says %q", s.Name, want)
		}
		if !sameJSON(s.Params, sc.Steps[si].Params) {
			return columnList{}, bad(sp+".params", "differ from the spec's columns[%d].steps[%d]", gi, si)
		}
		if len(s.Inputs) != cur.len() {
			return columnList{}, bad(sp+".inputs", "lists %d columns, the previous step gives %d", len(s.Inputs), cur.len())
		}
		var inputErr error
		err := cur.each(func(k int, f table.Field) {
			if inputErr == nil && s.Inputs[k] != f.Name {
				inputErr = bad(fmt.Sprintf("%s.inputs[%d]", sp, k), "is %q, the previous step gives %q", s.Inputs[k], f.Name)
			}
		})
		if err != nil {
			return columnList{}, bad(sp+".inputs", "the previous step's outputs could not be read again: %v", err)
		}
		if inputErr != nil {
			return columnList{}, inputErr
		}
		if !selfChecked {
			if err := stepRules(s.Params, func() error { return step.CheckStep(s.Params, s.Fitted, len(s.Inputs)) }); err != nil {
				return columnList{}, underStep(sp, err)
			}
		}
		if err := step.CheckPresence(s.Fitted, present); err != nil {
			return columnList{}, underStep(sp+".fitted", err)
		}
		present = step.PresenceAfter(s.Fitted, present)
		cur = outputsOf(s.Fitted)
	}
	return cur, nil
}

// checkFields checks a schema: names present and unique, types known.
func checkFields(path string, fs []Field) error {
	set := fieldSet{path: path, seen: make(map[string]bool, len(fs))}
	for i, f := range fs {
		if err := set.add(i, f); err != nil {
			return err
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
		if err := locateSteps(gi, g.Steps); err != nil {
			return err
		}
	}
	return nil
}

// locateGroupStepError is locateStepError for groups[gi] alone, given as
// its bytes.
func locateGroupStepError(gi int, group []byte) error {
	var shadow struct {
		Steps []json.RawMessage `json:"steps"`
	}
	_ = json.Unmarshal(group, &shadow)
	return locateSteps(gi, shadow.Steps)
}

// locateSteps returns the error of the first of groups[gi]'s steps that
// refuses itself, under its path, or nil.
func locateSteps(gi int, steps []json.RawMessage) error {
	for si, raw := range steps {
		if err := decodeStrict(raw); err != nil {
			return underStep(fmt.Sprintf("groups[%d].steps[%d]", gi, si), err)
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

// specError says that name is a spec, with the command that fits it. A
// name that is a model's name@version (an upload to a registry or a
// service) is no file the spec could be read from: the command names a
// placeholder spec file instead, and the artifact is pushed.
func specError(name string) error {
	if isModelVersion(name) {
		return fmt.Errorf("load artifact %s: %w: the upload for %s is a spec, not an artifact: fit it first with `normguard fit --spec SPEC.yaml --data TRAIN.csv --out model.json`, then push or upload model.json (`normguard push model.json --registry URL`)",
			name, ErrForeign, name)
	}
	return fmt.Errorf("load artifact %s: %w: %s is a spec, not an artifact: fit it first with `normguard fit --spec %s --data TRAIN.csv --out ARTIFACT.json` and pass the artifact",
		name, ErrForeign, name, name)
}

// isModelVersion reports whether name reads as a model's name@version
// rather than a file: one "@" with text on both sides, no path separator
// and no spec or artifact file extension.
func isModelVersion(name string) bool {
	model, version, ok := strings.Cut(name, "@")
	if !ok || model == "" || version == "" || strings.ContainsAny(name, `/\`) || strings.Contains(version, "@") {
		return false
	}
	ext := strings.ToLower(filepath.Ext(version))
	return ext != ".yaml" && ext != ".yml" && ext != ".json"
}
