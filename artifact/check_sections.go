package artifact

import (
	"fmt"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/table"
)

// sectionCheck runs Check's rules one section of the artifact at a time,
// in the order the sections appear in an artifact file (spec, inputs,
// groups, passthrough, outputs, training, profile, embeddings), so that a
// streamed reading (Verify) can check each group, output, profile column
// and embedding as it is decoded and then drop it. It keeps only what the
// later rules compare with: the spec, the inputs, the columns the steps
// produce, and the vector columns' dimension names.
//
// Check feeds it a whole artifact the same way, so both readings apply
// one implementation of the rules. finish returns the error Check has
// always returned: the first failing rule in Check's order (spec, group
// count, input and output schemas, training rows, groups, passthrough,
// outputs against the steps, profile, embeddings), whatever the order in
// which the sections revealed them.
type sectionCheck struct {
	spec *spec.Spec
	// selfChecked: the steps passed their own rules as they were decoded.
	selfChecked bool

	inputs     []Field
	inputTypes map[string]string
	inputsErr  error

	groups   int
	groupErr error
	produced []table.Field

	passErr error

	outputs      int
	outputNames  fieldSet
	outputsErr   error // the output schema itself (checkFields' rules)
	producedErr  error // the first output that differs from produced
	trainingRows int64

	hasProfile bool
	sides      [2]profileSide // inputs, outputs

	embeddings    int
	embeddingSeen map[string]bool
	embeddingErr  error
	vectorDims    map[string]VectorDim
}

func newSectionCheck() *sectionCheck {
	return &sectionCheck{
		inputTypes:    map[string]string{},
		outputNames:   fieldSet{path: "outputs", seen: map[string]bool{}},
		embeddingSeen: map[string]bool{},
		vectorDims:    map[string]VectorDim{},
		sides:         [2]profileSide{{name: "inputs"}, {name: "outputs"}},
	}
}

// setSpec records the spec (nil when the artifact has none).
func (c *sectionCheck) setSpec(s *spec.Spec) { c.spec = s }

// setInputs checks the input schema and records it.
func (c *sectionCheck) setInputs(fs []Field) {
	c.inputs = fs
	c.inputsErr = checkFields("inputs", fs)
	for _, f := range fs {
		c.inputTypes[f.Name] = f.Type
	}
}

// group checks groups[gi] against the spec and the inputs and records the
// columns it produces. Groups past the spec's columns are only counted:
// the group count's rule reports them.
func (c *sectionCheck) group(gi int, g *Group) {
	c.groups = max(c.groups, gi+1)
	if c.groupErr != nil || c.spec == nil || gi >= len(c.spec.Columns) {
		return
	}
	cur, err := checkGroup(gi, g, &c.spec.Columns[gi], c.inputTypes, c.selfChecked)
	if err != nil {
		c.groupErr = err
		return
	}
	c.produced = append(c.produced, cur...)
}

// setPassthrough checks the passthrough columns and records them as
// produced.
func (c *sectionCheck) setPassthrough(pass []string) {
	seen := map[string]bool{}
	for i, name := range pass {
		t, ok := c.inputTypes[name]
		if !ok {
			c.passErr = bad(fmt.Sprintf("passthrough[%d]", i), "%q is not an input", name)
			return
		}
		if seen[name] {
			c.passErr = bad(fmt.Sprintf("passthrough[%d]", i), "%q is listed twice", name)
			return
		}
		seen[name] = true
		c.produced = append(c.produced, Field{Name: name, Type: t}.TableField())
	}
}

// output checks outputs[i]: as a schema entry, and against the column the
// groups and passthrough produce at i. Outputs are not kept: once they
// match produced, produced is the output schema.
func (c *sectionCheck) output(i int, o Field) {
	c.outputs = i + 1
	if c.outputsErr == nil {
		c.outputsErr = c.outputNames.add(i, o)
	}
	if c.producedErr == nil && i < len(c.produced) {
		if f := c.produced[i]; o.Name != f.Name || o.TableField().Kind != f.Kind {
			c.producedErr = bad(fmt.Sprintf("outputs[%d]", i), "is %q (%s), the steps give %q (%s)", o.Name, o.Type, f.Name, spec.TypeOf(f.Kind))
		}
	}
}

// setTraining records the training facts the profile is checked against.
func (c *sectionCheck) setTraining(t Training) { c.trainingRows = t.Rows }

// startProfile records that the artifact has a profile.
func (c *sectionCheck) startProfile() { c.hasProfile = true }

// profileFeature checks the profile of column i of the inputs (side 0) or
// outputs (side 1).
func (c *sectionCheck) profileFeature(side, i int, f *profile.Feature) {
	s := &c.sides[side]
	s.count = i + 1
	if s.done {
		return
	}
	var schema Field
	if side == 0 {
		if i >= len(c.inputs) {
			return // the length rule reports it
		}
		schema = c.inputs[i]
	} else {
		if i >= len(c.produced) {
			return
		}
		schema = FieldOf(c.produced[i])
	}
	s.check(i, f, schema, c.trainingRows)
}

// embedding checks embeddings[i] and records its dimension columns.
func (c *sectionCheck) embedding(i int, e *Embedding) {
	c.embeddings = i + 1
	e.addVectorDims(c.vectorDims)
	if c.embeddingErr == nil {
		c.embeddingErr = checkEmbedding(i, e, c.embeddingSeen, c.inputTypes)
	}
}

// finish returns the first failing rule in Check's order, or nil.
func (c *sectionCheck) finish() error {
	if c.spec == nil {
		return bad("spec", "is missing")
	}
	if len(c.spec.Columns) != c.groups {
		return bad("groups", "has %d entries, the spec's columns %d", c.groups, len(c.spec.Columns))
	}
	if c.inputsErr != nil {
		return c.inputsErr
	}
	if c.outputsErr != nil {
		return c.outputsErr
	}
	if c.trainingRows < 0 {
		return bad("training.rows", "must be >= 0, got %d", c.trainingRows)
	}
	if c.groupErr != nil {
		return c.groupErr
	}
	if c.passErr != nil {
		return c.passErr
	}
	if len(c.produced) != c.outputs {
		return bad("outputs", "lists %d columns, the groups and passthrough give %d", c.outputs, len(c.produced))
	}
	if c.producedErr != nil {
		return c.producedErr
	}
	if c.hasProfile {
		for k, want := range []int{len(c.inputs), len(c.produced)} {
			if err := c.sides[k].finish(want, c.vectorDims, c.trainingRows); err != nil {
				return err
			}
		}
	}
	return c.embeddingErr
}

// fieldSet applies checkFields' rules to a schema one field at a time.
type fieldSet struct {
	path string
	seen map[string]bool
}

// add checks the field at index i; the error names its path.
func (s *fieldSet) add(i int, f Field) error {
	p := fmt.Sprintf("%s[%d]", s.path, i)
	if f.Name == "" {
		return bad(p+".name", "is empty")
	}
	if s.seen[f.Name] {
		return bad(p+".name", "%q is listed twice", f.Name)
	}
	s.seen[f.Name] = true
	if f.Type != spec.TypeNumeric && f.Type != spec.TypeCategorical {
		return bad(p+".type", "must be %q or %q, got %q", spec.TypeNumeric, spec.TypeCategorical, f.Type)
	}
	return nil
}

// profileSide checks one side (inputs or outputs) of the training profile
// column by column. Whether a column may carry counts only depends on the
// embeddings, which an artifact file holds after the profile: such a
// column's verdict waits in pending (its name and counts, all
// checkColumnProfile reads of it) until finish.
type profileSide struct {
	name    string
	count   int
	pending []pendingDim
	err     error // the first error that does not depend on the embeddings
	done    bool  // every later column is past an error
}

// pendingDim is a counts-only column profile whose verdict depends on
// whether it is a vector column's dimension.
type pendingDim struct {
	index          int
	name           string
	count, missing int64
}

func (s *profileSide) path(i int) string { return fmt.Sprintf("profile.%s[%d]", s.name, i) }

// check checks column i, f, against its schema entry and the row count.
func (s *profileSide) check(i int, f *profile.Feature, schema Field, rows int64) {
	fp := s.path(i)
	if f.Name != schema.Name || f.Type != schema.Type {
		s.fail(bad(fp, "is %q (%s), the schema's %s[%d] is %q (%s)", f.Name, f.Type, s.name, i, schema.Name, schema.Type))
		return
	}
	if countsOnly(f) {
		if CheckFeature(fp, f) != nil {
			// An error unless f is a dimension column; rowsError is
			// the one after it either way.
			s.pending = append(s.pending, pendingDim{index: i, name: f.Name, count: f.Count, missing: f.Missing})
			s.done = rowsError(fp, f.Count, f.Missing, rows) != nil
			return
		}
	} else if err := CheckFeature(fp, f); err != nil {
		s.fail(err)
		return
	}
	if err := rowsError(fp, f.Count, f.Missing, rows); err != nil {
		s.fail(err)
	}
}

func (s *profileSide) fail(err error) {
	s.err, s.done = err, true
}

// finish returns the side's first error now that the vector columns'
// dimensions are known; want is the schema's length.
func (s *profileSide) finish(want int, dims map[string]VectorDim, rows int64) error {
	if s.count != want {
		return bad("profile."+s.name, "has %d columns, the schema's %s %d", s.count, s.name, want)
	}
	for _, p := range s.pending {
		f := VectorDimProfile(p.name, p.count, p.missing)
		if err := checkColumnProfile(s.path(p.index), &f, isVectorDim(dims, p.name)); err != nil {
			return err
		}
		if err := rowsError(s.path(p.index), p.count, p.missing, rows); err != nil {
			return err
		}
	}
	return s.err
}

func isVectorDim(dims map[string]VectorDim, name string) bool {
	_, ok := dims[name]
	return ok
}

// countsOnly reports whether checkColumnProfile's verdict on f depends on
// whether f is a vector column's dimension.
func countsOnly(f *profile.Feature) bool {
	return f.Name != "" && f.Count >= 0 && f.Missing >= 0 && IsVectorDimProfile(f)
}

// rowsError checks that a column's present and missing counts make the
// training rows.
func rowsError(path string, count, missing, rows int64) error {
	if count+missing != rows {
		return bad(path+".count", "%d present and %d missing values make %d rows, training.rows is %d", count, missing, count+missing, rows)
	}
	return nil
}
