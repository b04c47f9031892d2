package beamfit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/fit"
	"github.com/normguard/normguard/profile"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// writeFn assembles the artifact from every stage's result and writes it
// to Plan.Out; it emits the artifact's digest.
type writeFn struct {
	P Plan
	l *loaded
}

func (f *writeFn) Setup() (err error) {
	f.l, err = f.P.load()
	return err
}

func (f *writeFn) ProcessElement(ctx context.Context, _ []byte, offsets []int64, kindInts []int, fp fingerprint,
	fitted func(*FittedMsg) bool, inProf, outProf func(*ProfileMsg) bool, emit func(string)) error {
	kinds := make([]table.Kind, len(kindInts))
	for j, k := range kindInts {
		kinds[j] = table.Kind(k)
	}
	steps, err := decodeFitted(fitted)
	if err != nil {
		return err
	}
	ins, err := decodeProfiles(inProf)
	if err != nil {
		return err
	}
	outs, err := decodeProfiles(outProf)
	if err != nil {
		return err
	}
	a, err := assemble(f.l, offsets[len(offsets)-1], kinds, fp, steps, ins, outs)
	if err != nil {
		return err
	}
	// What the fit produced is checked as every reader checks it (an
	// infinite scale_ from values near the float64 limit, a bin grid
	// left empty), as the CLI's fit checks it: refused naming the step
	// and column, never written.
	if err := fit.CheckArtifact(a, f.l.Source); err != nil {
		return err
	}
	// Refused, naming the field, when every reader would refuse it (a
	// string past artifact.MaxStringBytes, a list of names past
	// MaxNamesBytes), as fit's Save refuses it: never written.
	data, err := artifact.EncodeChecked(a)
	if err != nil {
		return fmt.Errorf("fit %s: %w", f.l.Source, err)
	}
	if err := writeFile(ctx, f.P.Out, data, artifact.WriteFileAtomic); err != nil {
		return fmt.Errorf("save artifact: %w", err)
	}
	slog.Info("normguard-beam: artifact written", "out", f.P.Out, "rows", a.Training.Rows, "digest", a.Digest)
	emit(a.Digest)
	return nil
}

func decodeProfiles(next func(*ProfileMsg) bool) (map[int]profile.Feature, error) {
	m := map[int]profile.Feature{}
	var msg ProfileMsg
	for next(&msg) {
		var p profile.Feature
		if err := json.Unmarshal(msg.JSON, &p); err != nil {
			return nil, fmt.Errorf("decode profile %d: %w", msg.Key, err)
		}
		m[msg.Key] = p
	}
	return m, nil
}

// assemble builds the artifact fit.FitTransform builds from the same
// results: resolved spec, inputs, fitted groups, passthrough, outputs,
// training rows and fingerprint, profile.
func assemble(l *loaded, rows int64, kinds []table.Kind, fp fingerprint, steps map[[2]int]step.FittedStep,
	ins, outs map[int]profile.Feature) (*artifact.Artifact, error) {
	source := l.Source
	cols := make([]table.Column, len(l.Fields)) // names and kinds: what the fingerprint hashes
	byName := map[string]table.Kind{}
	inAt := map[string]int{}
	for j, fd := range l.Fields {
		cols[j] = table.Column{Name: fd.Name, Kind: kinds[j]}
		byName[fd.Name] = kinds[j]
		inAt[fd.Name] = j
	}
	a := &artifact.Artifact{Spec: fit.ResolveSpec(l.spec, byName)}
	if l.Model != "" || l.ModelVersion != "" {
		a.Model = &artifact.Model{Name: l.Model, Version: l.ModelVersion}
	}
	for _, c := range cols {
		a.Inputs = append(a.Inputs, artifact.FieldOf(table.Field{Name: c.Name, Kind: c.Kind}))
	}
	prof := &profile.Set{}
	for j := range cols {
		p, ok := ins[j]
		if !ok {
			return nil, fmt.Errorf("beamfit: no profile for input column %q", cols[j].Name)
		}
		prof.Inputs = append(prof.Inputs, p)
	}
	seenOut := map[string]string{}
	addOutput := func(f table.Field, p profile.Feature, by string) error {
		if prev, dup := seenOut[f.Name]; dup {
			if by == "" {
				return fmt.Errorf("fit %s: passthrough column %q clashes with an output of %s; rename it or name it in the spec", source, f.Name, prev)
			}
			return fmt.Errorf("fit %s: %s gives output column %q, which %s gives too; rename a column so output names are unique", source, by, f.Name, prev)
		}
		seenOut[f.Name] = by
		a.Outputs = append(a.Outputs, artifact.FieldOf(f))
		prof.Outputs = append(prof.Outputs, p)
		return nil
	}
	for g, grp := range a.Spec.Columns {
		path := fmt.Sprintf("columns[%d]", g)
		group := artifact.Group{Columns: grp.Names, Type: grp.Type}
		for si := range grp.Steps {
			fs, ok := steps[[2]int{g, si}]
			if !ok {
				return nil, fmt.Errorf("beamfit: %s.steps[%d] was not fitted", path, si)
			}
			group.Steps = append(group.Steps, fs)
		}
		if len(grp.Steps) == 0 {
			for _, n := range grp.Names {
				j := inAt[n]
				if err := addOutput(table.Field{Name: n, Kind: kinds[j]}, ins[j], path); err != nil {
					return nil, err
				}
			}
		} else {
			for j, f := range group.Steps[len(group.Steps)-1].Fitted.Outputs() {
				p, ok := outs[outKey(g, j)]
				if !ok {
					return nil, fmt.Errorf("beamfit: no profile for output column %q", f.Name)
				}
				if err := addOutput(f, p, path); err != nil {
					return nil, err
				}
			}
		}
		a.Groups = append(a.Groups, group)
	}
	a.Passthrough = []string{}
	for _, n := range l.Pass {
		j := inAt[n]
		if err := addOutput(table.Field{Name: n, Kind: kinds[j]}, ins[j], ""); err != nil {
			return nil, err
		}
		a.Passthrough = append(a.Passthrough, n)
	}
	acc := fit.FingerprintAcc{Rows: fp.Rows, Lane1: fp.Lane1, Lane2: fp.Lane2}
	a.Training = artifact.Training{Rows: rows, Fingerprint: acc.Sum(cols)}
	a.Profile = prof
	// The bounds every reader of an artifact holds it to, as fit.FitTransform checks them.
	if err := artifact.CheckSpecSize(a.Spec); err != nil {
		return nil, fmt.Errorf("fit %s: %w", source, err)
	}
	if n := len(a.Outputs); n > artifact.MaxOutputs {
		return nil, fmt.Errorf("fit %s: the spec gives %d output columns, more than the %d an artifact may hold; give a one-hot encoder max_categories or min_frequency, or encode the column with ordinal_encoder", source, n, artifact.MaxOutputs)
	}
	return a, nil
}
