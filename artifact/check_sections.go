package artifact

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/spec"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// sectionCheck runs Check's rules one section of the artifact at a time,
// in the order the sections appear in an artifact file (spec, inputs,
// groups, passthrough, outputs, training, profile, embeddings), so that a
// streamed reading (Verify) can check each group, output, profile column
// and embedding as it is decoded and then drop it. It keeps only what the
// later rules compare with: the spec, the inputs, the passthrough, the
// vector columns' dimension names, and of each output column (at most
// MaxOutputs) a 64-bit hash: of the name and type the steps give it, and
// of the name the outputs list gives it. Names are not kept; the rare
// refusals that quote one read it again (source).
//
// Check feeds it a whole artifact the same way, so both readings apply
// one implementation of the rules. finish returns the error Check has
// always returned: the first failing rule in Check's order (spec, group
// count, input and output schemas, training rows, groups, passthrough,
// outputs against the steps, profile, quantile transformers' n_quantiles_
// against the training rows, embeddings), whatever the order in
// which the sections revealed them.
//
// The hashes are seeded at random for each check, so no file can be
// made to collide them: two different columns pass for one with
// probability about 2^-64 a comparison (below 2^-44 for a million
// columns). Two equal hashes among the output names are confirmed by
// reading the names again before one is called a duplicate.
type sectionCheck struct {
	spec *spec.Spec
	// specErr is the spec's version or remainder refused; specRulesErr
	// the first of the spec's other rules (spec.Validate) it fails.
	specErr, specRulesErr error
	// selfChecked: the steps passed their own rules as they were decoded.
	selfChecked bool
	// source reads again the groups and output names not kept.
	source sectionSource
	seed   maphash.Seed

	inputs     []Field
	inputTypes map[string]string
	inputsErr  error

	groups   int
	groupErr error
	// produced holds columnHash of each column the groups and
	// passthrough produce; groupEnds the count after each group.
	produced  []uint64
	groupEnds []int
	pass      []string

	passErr error

	outputs int
	// outNames holds nameHash of outputs' names up to outLocalAt.
	outNames []uint64
	// outLocalErr is the first error of an output found on its own
	// (empty name, unknown type, too many), at index outLocalAt.
	outLocalErr error
	outLocalAt  int
	// mismatchAt is the first output that differs from produced (-1),
	// mismatch that output.
	mismatchAt   int
	mismatch     Field
	trainingRows int64
	// quantiles holds each quantile transformer's n_quantiles_, checked
	// against training.rows (check_quantiles.go).
	quantiles []quantileCount
	// qtReads holds the quantile transformers whose quantiles_ rows the
	// profile pins, qtColumns the profile of the inputs they read
	// (check_quantile_rows.go).
	qtReads   []qtRead
	qtColumns map[string]*qtProfile
	// pinGroups holds the numeric groups whose fitted statistics the
	// profile pins, pinCols the profile of their inputs
	// (check_fitted_profile.go).
	pinGroups []int
	pinCols   map[string]*pinProfile
	// pinCatGroups and pinCats: the same for categorical groups that
	// start with a most_frequent imputer.
	pinCatGroups []int
	pinCats      map[string]*profile.Counts

	hasProfile bool
	sides      [2]profileSide // inputs, outputs

	// train holds the profile's numeric inputs for the training push
	// (check_push.go).
	train trainingInputs
	// trainCats holds the kept categories of each ordinary categorical
	// input of the profile, by name (checkEncoderCategories).
	trainCats map[string][]string
	// trainMissing holds those of them that had missing cells in fit
	// (an imputer before the encoder fills them in).
	trainMissing map[string]bool

	embeddings    int
	embeddingSeen map[string]bool
	embeddingErr  error
	vectorDims    map[string]VectorDim
}

// MaxOutputs bounds the output columns of an artifact (the columns its
// groups and passthrough produce, which its outputs list): a one-hot
// encoder gives one per category. It keeps what a check holds of them
// (two 8-byte hashes each, 16 MiB at most) a constant; fit refuses a spec
// that would produce more.
const MaxOutputs = 1 << 20

// maxOutputs is MaxOutputs, lowered by tests.
var maxOutputs = MaxOutputs

// sectionSource reads again, on the error paths whose messages quote
// them, what a sectionCheck does not keep.
type sectionSource interface {
	// groupAgain returns groups[gi], its steps fit for Outputs.
	groupAgain(gi int) (*Group, error)
	// outputNamesAgain returns the names of the outputs at the indices
	// idx (ascending).
	outputNamesAgain(idx []int) ([]string, error)
	// categoryLists returns the lists of categories_ of the encoder
	// groups[gi].steps[si].
	categoryLists(gi, si int) (step.CategorySource, error)
	// quantileEntries calls fn with each entry of each row of quantiles_
	// of the quantile transformer groups[gi].steps[si], in order (a null
	// row has none), until fn returns false.
	quantileEntries(gi, si int, fn func(row, k int, x float64) bool) error
}

// readAgainError is the refusal when a rule that reads groups[gi] again
// cannot: the first reading checked what the group holds, so this is the
// file changing or failing under the check, and the rule did not run (it
// was skipped as a pass).
func readAgainError(gi int, err error) error {
	return fmt.Errorf("groups[%d]: reading it again for the checks against the training profile failed, so they did not run (is something writing the file?): %w", gi, err)
}

// wholeSource is the sectionSource of an artifact in memory.
type wholeSource struct{ a *Artifact }

func (w wholeSource) groupAgain(gi int) (*Group, error) { return &w.a.Groups[gi], nil }

func (w wholeSource) categoryLists(gi, si int) (step.CategorySource, error) {
	return heldLists(&w.a.Groups[gi], si)
}

func (w wholeSource) quantileEntries(gi, si int, fn func(row, k int, x float64) bool) error {
	q, ok := w.a.Groups[gi].Steps[si].Fitted.(*step.QuantileTransformer)
	if !ok {
		return fmt.Errorf("groups[%d].steps[%d] is not a quantile transformer", gi, si)
	}
	for j, r := range q.Quantiles {
		for k, x := range r {
			if !fn(j, k, x) {
				return nil
			}
		}
	}
	return nil
}

func (w wholeSource) outputNamesAgain(idx []int) ([]string, error) {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = w.a.Outputs[i].Name
	}
	return out, nil
}

func newSectionCheck(source sectionSource) *sectionCheck {
	seed := maphash.MakeSeed()
	return &sectionCheck{
		source:        source,
		seed:          seed,
		inputTypes:    map[string]string{},
		mismatchAt:    -1,
		embeddingSeen: map[string]bool{},
		vectorDims:    map[string]VectorDim{},
		sides:         [2]profileSide{{name: "inputs", seed: seed}, {name: "outputs", seed: seed}},
	}
}

// columnHash hashes a column's name and type ("numeric", "categorical";
// written first, so that no two pairs write the same bytes).
func (c *sectionCheck) columnHash(name, typ string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(typ)
	h.WriteByte(0)
	h.WriteString(name)
	return h.Sum64()
}

// nameHash hashes an output's name.
func (c *sectionCheck) nameHash(name string) uint64 {
	return maphash.String(c.seed, name) & nameHashMask
}

// nameHashMask is all ones; tests clear bits to make names collide.
var nameHashMask = ^uint64(0)

// produce records columns produced, refusing (under path) more than
// maxOutputs in all.
func (c *sectionCheck) produce(path string, fs columnList) error {
	if n := len(c.produced) + fs.len(); n > maxOutputs {
		return bad(path, "gives %d output columns, %d with the ones before, more than the %d an artifact may have; refit with fewer: give a one-hot encoder max_categories or min_frequency, or encode the column with ordinal_encoder", fs.len(), n, maxOutputs)
	}
	start := len(c.produced)
	err := fs.each(func(_ int, f table.Field) {
		c.produced = append(c.produced, c.columnHash(f.Name, spec.TypeOf(f.Kind)))
	})
	if err != nil || len(c.produced)-start != fs.len() {
		c.produced = c.produced[:start]
		return bad(path, "its output columns could not be read again: %v", err)
	}
	return nil
}

// producedField returns the column produced at i, read again from its
// group (or the passthrough); ok is false if it could not be.
func (c *sectionCheck) producedField(i int) (f Field, ok bool) {
	gi := sort.SearchInts(c.groupEnds, i+1)
	if gi == len(c.groupEnds) {
		k := i - c.groupsProduced()
		if k < 0 || k >= len(c.pass) {
			return Field{}, false
		}
		return Field{Name: c.pass[k], Type: c.inputTypes[c.pass[k]]}, true
	}
	if c.source == nil {
		return Field{}, false
	}
	g, err := c.source.groupAgain(gi)
	if err != nil {
		return Field{}, false
	}
	cur, err := checkGroup(gi, g, &c.spec.Columns[gi], c.inputTypes, true)
	start := 0
	if gi > 0 {
		start = c.groupEnds[gi-1]
	}
	if err != nil {
		return Field{}, false
	}
	tf, ok := cur.at(i - start)
	if !ok {
		return Field{}, false
	}
	return FieldOf(tf), true
}

// groupsProduced is the count of columns the groups produce.
func (c *sectionCheck) groupsProduced() int {
	if len(c.groupEnds) == 0 {
		return 0
	}
	return c.groupEnds[len(c.groupEnds)-1]
}

// setSpec records the spec (nil when the artifact has none) and checks
// it: its version (only spec.Version exists) and remainder policy, then
// the rules a spec is held to when it is fitted (spec.Validate: columns
// named once, the impute -> transform order, each group's steps taking
// its declared type).
func (c *sectionCheck) setSpec(s *spec.Spec) {
	c.spec = s
	if s == nil {
		return
	}
	switch {
	case s.Version != spec.Version:
		c.specErr = bad("spec.version", "is %d; only spec version %d exists (this normguard reads version %d)", s.Version, spec.Version, spec.Version)
	case s.Remainder != spec.RemainderDrop && s.Remainder != spec.RemainderPassthrough:
		c.specErr = bad("spec.remainder", "must be %q or %q, got %q", spec.RemainderDrop, spec.RemainderPassthrough, s.Remainder)
	default:
		c.specRulesErr = specRulesError(s)
	}
}

// specRulesError returns spec.Validate's verdict on s as a FieldError
// under "spec".
func specRulesError(s *spec.Spec) error {
	err := s.Validate()
	if err == nil {
		return nil
	}
	se, ok := errors.AsType[*spec.Error](err)
	if !ok {
		return bad("spec", "%v", err)
	}
	path := "spec"
	if se.Field != "" {
		path += "." + se.Field
	}
	msg := se.Err.Error()
	if rest, ok := strings.CutPrefix(msg, spec.ErrInvalid.Error()+": "); ok {
		msg = rest
	}
	return bad(path, "%s", msg)
}

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
	if err == nil {
		err = c.produce(fmt.Sprintf("groups[%d]", gi), cur)
	}
	if err != nil {
		c.groupErr = err
		return
	}
	c.groupEnds = append(c.groupEnds, len(c.produced))
	c.noteQuantiles(gi, g)
	c.noteQuantileReads(gi, g)
	c.notePinned(gi, g)
}

// setPassthrough checks the passthrough columns and records them as
// produced.
func (c *sectionCheck) setPassthrough(pass []string) {
	seen := map[string]bool{}
	var fs []table.Field
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
		fs = append(fs, Field{Name: name, Type: t}.TableField())
	}
	if c.passErr = c.passthroughSpecError(pass); c.passErr != nil {
		return
	}
	if c.groupErr != nil {
		return // produced is not the groups' (finish reports groupErr first)
	}
	if err := c.produce("passthrough", columnList{fields: fs, n: len(fs)}); err != nil {
		c.passErr = err
		return
	}
	c.pass = pass
}

// passthroughSpecError holds the passthrough to what a fit of the spec
// writes: with remainder drop nothing (the outputs would hold a column
// the spec drops), with remainder passthrough the inputs no group of the
// spec reads (unreadInput refuses one left out). nil without a spec: its
// absence is reported first.
func (c *sectionCheck) passthroughSpecError(pass []string) error {
	if c.spec == nil || len(pass) == 0 {
		return nil
	}
	if c.spec.Remainder == spec.RemainderDrop {
		more := ""
		if len(pass) > 1 {
			more = fmt.Sprintf(" and %d more", len(pass)-1)
		}
		return bad("passthrough", "lists %q%s, but spec.remainder is %q: a fit passes no column through, and the transform would output columns the spec drops",
			pass[0], more, c.spec.Remainder)
	}
	group := map[string]int{}
	for gi, g := range c.spec.Columns {
		for _, n := range g.Names {
			group[n] = gi
		}
	}
	for i, name := range pass {
		if gi, ok := group[name]; ok {
			return bad(fmt.Sprintf("passthrough[%d]", i), "%q is a column of the spec's columns[%d]: with remainder %q a fit passes through only the inputs no group reads",
				name, gi, c.spec.Remainder)
		}
	}
	return nil
}

// output checks outputs[i]: as a schema entry, and against the column the
// groups and passthrough produce at i. Outputs are not kept: once they
// match produced, produced is the output schema.
func (c *sectionCheck) output(i int, o Field) {
	c.outputs = i + 1
	if c.outLocalErr == nil {
		c.addOutput(i, o)
	}
	if c.mismatchAt < 0 && i < len(c.produced) {
		if c.columnHash(o.Name, spec.TypeOf(o.TableField().Kind)) != c.produced[i] {
			c.mismatchAt, c.mismatch = i, o
		}
	}
}

// addOutput applies checkFields' rules to outputs[i] but the names'
// uniqueness, which finish checks from their hashes.
func (c *sectionCheck) addOutput(i int, o Field) {
	p := fmt.Sprintf("outputs[%d]", i)
	switch {
	case i >= maxOutputs:
		c.outLocalErr = bad("outputs", "lists more than %d columns, the most an artifact may have; refit with fewer: give a one-hot encoder max_categories or min_frequency, or encode the column with ordinal_encoder", maxOutputs)
	case o.Name == "":
		c.outLocalErr = bad(p+".name", "is empty")
	default:
		c.outNames = append(c.outNames, c.nameHash(o.Name))
		if o.Type != spec.TypeNumeric && o.Type != spec.TypeCategorical {
			c.outLocalErr = bad(p+".type", "must be %q or %q, got %q", spec.TypeNumeric, spec.TypeCategorical, o.Type)
		}
	}
	if c.outLocalErr != nil {
		c.outLocalAt = i
	}
}

// outputsError returns the first output, in order, that fails
// checkFields' rules: the first name listed before (its hash seen before
// and the names confirmed equal), unless an error found on its own comes
// first.
func (c *sectionCheck) outputsError() error {
	sorted := slices.Clone(c.outNames)
	slices.Sort(sorted)
	dup := map[uint64][]int{} // hash listed more than once -> indices seen
	for k := 1; k < len(sorted); k++ {
		if sorted[k] == sorted[k-1] {
			dup[sorted[k]] = nil
		}
	}
	sorted = nil
	if len(dup) > 0 {
		for i, h := range c.outNames {
			before, ok := dup[h]
			if !ok {
				continue
			}
			if len(before) > 0 {
				if name, ok := c.sameName(before, i); ok {
					return bad(fmt.Sprintf("outputs[%d].name", i), "%q is listed twice", name)
				}
			}
			dup[h] = append(before, i)
		}
	}
	return c.outLocalErr
}

// sameName reports whether output i has the name of one of the outputs
// before (whose names hash alike), and returns it.
func (c *sectionCheck) sameName(before []int, i int) (string, bool) {
	names, err := c.source.outputNamesAgain(append(slices.Clone(before), i))
	if err != nil {
		// Not read again: the hashes alone decide.
		return "", false
	}
	for _, n := range names[:len(before)] {
		if n == names[len(before)] {
			return n, true
		}
	}
	return "", false
}

// producedError words the first output that differs from the column the
// steps give.
func (c *sectionCheck) producedError() error {
	o := c.mismatch
	p := fmt.Sprintf("outputs[%d]", c.mismatchAt)
	f, ok := c.producedField(c.mismatchAt)
	if !ok {
		return bad(p, "is %q (%s), the steps give another column", o.Name, o.Type)
	}
	return bad(p, "is %q (%s), the steps give %q (%s)", o.Name, o.Type, f.Name, f.Type)
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
	if side == 0 {
		if i >= len(c.inputs) {
			return // the length rule reports it
		}
		schema := c.inputs[i]
		s.check(i, f, f.Name == schema.Name && f.Type == schema.Type, func() (Field, bool) { return schema, true }, c.trainingRows)
		c.train.add(f)
		c.noteQuantileProfile(f)
		c.notePinnedProfile(f)
		if f.Type == spec.TypeCategorical && f.Kind == "" && f.Categories != nil && len(f.Categories.Values) > 0 {
			if c.trainCats == nil {
				c.trainCats = map[string][]string{}
			}
			c.trainCats[f.Name] = f.Categories.Values
			if f.Missing > 0 {
				if c.trainMissing == nil {
					c.trainMissing = map[string]bool{}
				}
				c.trainMissing[f.Name] = true
			}
		}
		return
	}
	if i >= len(c.produced) {
		return
	}
	same := c.columnHash(f.Name, f.Type) == c.produced[i]
	s.check(i, f, same, func() (Field, bool) { return c.producedField(i) }, c.trainingRows)
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
	if c.specErr != nil {
		return c.specErr
	}
	if len(c.spec.Columns) != c.groups {
		return bad("groups", "has %d entries, the spec's columns %d", c.groups, len(c.spec.Columns))
	}
	if c.inputsErr != nil {
		return c.inputsErr
	}
	if err := c.outputsError(); err != nil {
		return err
	}
	if c.trainingRows < 0 {
		return bad("training.rows", "must be >= 0, got %d", c.trainingRows)
	}
	if c.groupErr != nil {
		return c.groupErr
	}
	if c.specRulesErr != nil {
		return c.specRulesErr
	}
	if c.passErr != nil {
		return c.passErr
	}
	if err := c.unreadInput(); err != nil {
		return err
	}
	if len(c.produced) != c.outputs {
		return bad("outputs", "lists %d columns, the groups and passthrough give %d", c.outputs, len(c.produced))
	}
	if c.mismatchAt >= 0 {
		return c.producedError()
	}
	if c.hasProfile {
		for k, want := range []int{len(c.inputs), len(c.produced)} {
			if err := c.sides[k].finish(want, c.vectorDims, c.trainingRows); err != nil {
				return err
			}
		}
	}
	// After the profile's counts, which name an edited training.rows.
	if err := c.quantilesError(); err != nil {
		return err
	}
	if c.hasProfile {
		if err := pushError(c.spec, c.groups, c.source, c.train); err != nil {
			return err
		}
		if err := encoderCategoriesError(c.spec, c.groups, c.source, c.trainCats, c.trainMissing); err != nil {
			return err
		}
		if err := c.quantileRowsError(); err != nil {
			return err
		}
		if err := c.pinnedError(); err != nil {
			return err
		}
	}
	return c.embeddingErr
}

// unreadInput refuses an input column that neither a group of the spec
// reads nor the passthrough copies: a fit reads only those (with
// remainder drop, the spec's columns alone).
func (c *sectionCheck) unreadInput() error {
	read := make(map[string]bool, len(c.inputs))
	for _, g := range c.spec.Columns {
		for _, n := range g.Names {
			read[n] = true
		}
	}
	for _, n := range c.pass {
		read[n] = true
	}
	for i, f := range c.inputs {
		if !read[f.Name] {
			return bad(fmt.Sprintf("inputs[%d]", i), "%q is neither a column of the spec nor passed through (remainder %q): a fit reads no such input", f.Name, c.spec.Remainder)
		}
	}
	return nil
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
// column's verdict waits in pending (a hash of its name, and its
// counts: all checkColumnProfile reads of it) until finish. A side may
// have a million such columns (MaxOutputs): their names are not kept.
type profileSide struct {
	name    string
	seed    maphash.Seed
	count   int
	pending []pendingDim
	err     error // the first error that does not depend on the embeddings
	done    bool  // every later column is past an error
}

// pendingDim is a counts-only column profile whose verdict depends on
// whether it is a vector column's dimension.
type pendingDim struct {
	index          int
	name           uint64 // maphash.String of the name, never empty
	count, missing int64
}

func (s *profileSide) path(i int) string { return fmt.Sprintf("profile.%s[%d]", s.name, i) }

// check checks column i, f, against its schema entry (same: f has its
// name and type; schema reads it, for the refusal) and the row count.
func (s *profileSide) check(i int, f *profile.Feature, same bool, schema func() (Field, bool), rows int64) {
	fp := s.path(i)
	if !same {
		if sc, ok := schema(); ok {
			s.fail(bad(fp, "is %q (%s), the schema's %s[%d] is %q (%s)", f.Name, f.Type, s.name, i, sc.Name, sc.Type))
		} else {
			s.fail(bad(fp, "is %q (%s), the schema's %s[%d] is another column", f.Name, f.Type, s.name, i))
		}
		return
	}
	if countsOnly(f) {
		if CheckFeature(fp, f) != nil {
			// An error unless f is a dimension column; rowsError is
			// the one after it either way.
			s.pending = append(s.pending, pendingDim{index: i, name: maphash.String(s.seed, f.Name), count: f.Count, missing: f.Missing})
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
	var dimNames map[uint64]bool // hashes of the dimension columns' names
	if len(s.pending) > 0 {
		dimNames = make(map[uint64]bool, len(dims))
		for name := range dims {
			dimNames[maphash.String(s.seed, name)] = true
		}
	}
	for _, p := range s.pending {
		// The rules read the name only as not empty (countsOnly).
		f := VectorDimProfile("-", p.count, p.missing)
		if err := checkColumnProfile(s.path(p.index), &f, dimNames[p.name]); err != nil {
			return err
		}
		if err := rowsError(s.path(p.index), p.count, p.missing, rows); err != nil {
			return err
		}
	}
	return s.err
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
