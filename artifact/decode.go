package artifact

import (
	"encoding/json"
	"fmt"

	"github.com/normguard/normguard/step"
)

// Decode reads the fitted steps through decodeStep rather than
// step.FittedStep's own UnmarshalJSON. That one is strict (it refuses
// unknown fields) and so decodes through json.Decoder, which copies its
// input: a step, its "fitted" object, and that object again, each in a
// buffer grown by doubling. A 300 MB artifact whose bulk is one encoder's
// categories took 2.5 GB to decode. decodeStep reads the step's bytes in
// place; what strictness gave — no unknown, misspelled or duplicate field —
// Decode's canonical comparison gives, since a re-encoding never holds
// such a field. The step's own checks (Params.Validate, Fitted.Check) run
// as they do in UnmarshalJSON, and a step that fails is decoded again the
// strict way (locateStepError) to name its field.

// decodeArtifact is an Artifact whose groups are read through decodeGroup;
// every other field, including ones added later, is the Artifact's own.
type decodeArtifact struct {
	*Artifact
	Groups []decodeGroup `json:"groups"`
}

// decodeGroup is a Group whose steps are read through decodeStep.
type decodeGroup struct {
	*Group
	Steps []decodeStep `json:"steps"`
}

// decodeStep is a step.FittedStep read in place.
type decodeStep struct {
	step.FittedStep
}

// inPlace is a JSON value kept as the bytes it was read from, without the
// copy json.RawMessage makes. It is valid only during the UnmarshalJSON
// call that reads it.
type inPlace []byte

// UnmarshalJSON implements json.Unmarshaler.
func (r *inPlace) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// UnmarshalJSON reads a step as step.FittedStep.UnmarshalJSON does,
// without its copies (see above).
func (d *decodeStep) UnmarshalJSON(data []byte) error {
	var j struct {
		Step   string   `json:"step"`
		Params inPlace  `json:"params"`
		Inputs []string `json:"inputs"`
		Fitted inPlace  `json:"fitted"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	def, ok := step.Lookup(j.Step)
	if !ok {
		return fmt.Errorf("unknown step %q", j.Step)
	}
	params := def.NewParams()
	if err := json.Unmarshal(j.Params, params); err != nil {
		return fmt.Errorf("%s params: %w", j.Step, err)
	}
	fitted := def.NewFitted()
	if err := json.Unmarshal(j.Fitted, fitted); err != nil {
		return fmt.Errorf("%s fitted parameters: %w", j.Step, err)
	}
	if err := params.Validate(); err != nil {
		return step.Under("params", err)
	}
	if err := fitted.Check(len(j.Inputs)); err != nil {
		return step.Under("fitted", err)
	}
	d.FittedStep = step.FittedStep{Name: j.Step, Params: params, Inputs: j.Inputs, Fitted: fitted}
	return nil
}

// unmarshalInPlace decodes data into a, reading the steps in place.
func unmarshalInPlace(data []byte, a *Artifact) error {
	d := decodeArtifact{Artifact: a}
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	a.Groups = nil
	if d.Groups != nil {
		a.Groups = make([]Group, len(d.Groups))
	}
	for i, g := range d.Groups {
		a.Groups[i] = g.group()
	}
	return nil
}

// group returns the Group read.
func (d decodeGroup) group() Group {
	var g Group
	if d.Group != nil {
		g = *d.Group
	}
	g.Steps = nil
	if d.Steps != nil {
		g.Steps = make([]step.FittedStep, len(d.Steps))
		for k, s := range d.Steps {
			g.Steps[k] = s.FittedStep
		}
	}
	return g
}
