package fit

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/table"
)

// CheckArtifact runs on a fitted artifact the meaning check every reader
// runs (artifact.Check), so that fit never returns, and so never writes,
// an artifact a reader refuses as damaged. Fit checks each step as it is
// fitted (step.CheckFit); this check covers the rest (schemas, profiles)
// and stands for the readers' whole verdict. A failure is fit's own:
// the error names the spec's step and columns the failing field belongs
// to. beam's fit, which assembles its artifact itself, should call it
// before writing too.
func CheckArtifact(a *artifact.Artifact, source string) error {
	return checkArtifact(a, source, nil)
}

// checkArtifact is CheckArtifact given the columns fit read (nil: not
// known), which name the column and row of text that is not UTF-8.
func checkArtifact(a *artifact.Artifact, source string, cols []table.Column) error {
	if path, value := artifact.InvalidText(a); path != "" {
		return invalidTextError(source, cols, path, value)
	}
	err := artifact.Check(a)
	if err == nil {
		return nil
	}
	path, msg := "", err.Error()
	if fe, ok := errors.AsType[*artifact.FieldError](err); ok {
		path, msg = fe.Path, fe.Msg
	}
	return fmt.Errorf("fit %s: the fit produced an invalid %s%s (%s); nothing was written, since every reader of the artifact would refuse it. This is a fault of normguard's fit, not of an edit: please report it with the spec and the data",
		source, path, fittedFrom(a, path), msg)
}

// groupStepPath matches the path of a fitted step's field.
var groupStepPath = regexp.MustCompile(`^groups\[(\d+)\]\.steps\[(\d+)\]`)

// fittedFrom names the spec input an artifact field comes from: for a
// step's field, the spec's step and the group's columns.
func fittedFrom(a *artifact.Artifact, path string) string {
	m := groupStepPath.FindStringSubmatch(path)
	if m == nil {
		return ""
	}
	gi, _ := strconv.Atoi(m[1])
	si, _ := strconv.Atoi(m[2])
	if gi >= len(a.Groups) || si >= len(a.Groups[gi].Steps) {
		return ""
	}
	st := a.Groups[gi].Steps[si]
	return fmt.Sprintf(", of spec columns[%d].steps[%d].%s fitted on %s", gi, si, st.Name, errtext.List(st.Inputs))
}
