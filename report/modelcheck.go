package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/normguard/normguard/modelcheck"
)

// ModelCheckJSON writes a model check as indented JSON: {"model",
// "producer", "opset", "inputs", "artifact", "layers": [...], "findings":
// [{"code", "severity", "node", "description", "fix", "evidence"}],
// "errors", "warnings", "infos", "rule"}.
func ModelCheckJSON(w io.Writer, r *modelcheck.Report) error {
	if r == nil {
		return fmt.Errorf("report: no model check to write")
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: model check to JSON: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ModelCheckTable writes the normalization layers (node, kind, epsilon,
// statistics), then one line per finding (severity, code, node, fix), each
// finding's description, and a one-line verdict. color adds ANSI colours
// to the codes.
func ModelCheckTable(w io.Writer, r *modelcheck.Report, color bool) error {
	if r == nil {
		return fmt.Errorf("report: no model check to write")
	}
	fmt.Fprintf(w, "model %s (%s, opset %d), inputs %s\n\n", r.Model, orUnknown(r.Producer), r.Opset, inputsText(r.Inputs))
	if len(r.Layers) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LAYER\tKIND\tEPSILON\tCHANNELS\tRUNNING MEAN\tRUNNING VAR\tREADS")
		for _, l := range r.Layers {
			kind := l.Kind
			if l.TrainingMode {
				kind += " (training mode)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%g\t%s\t%s\t%s\t%s\n", oneLineOf(l.Node), kind, l.Epsilon, channels(l.Channels),
				span(l.MeanRange), span(l.VarRange), oneLineOf(strings.Join(l.ReadsInputs, ", ")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(r.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tFINDING\tNODE\tFIX")
		for _, f := range r.Findings {
			code := f.Code
			if color {
				c := map[string]string{modelcheck.SeverityError: "31;1", modelcheck.SeverityWarning: "33"}[f.Severity]
				if c == "" {
					c = "36"
				}
				code = "\x1b[" + c + "m" + code + "\x1b[0m"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, code, oneLineOf(f.Node), oneLineOf(f.Fix))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		for _, f := range r.Findings {
			fmt.Fprintf(w, "%s: %s\n", f.Code, oneLineOf(f.Description))
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, modelVerdict(r))
	return err
}

// modelVerdict is the one-line summary of a model check.
func modelVerdict(r *modelcheck.Report) string {
	layers := fmt.Sprintf("%d normalization %s", len(r.Layers), plural(len(r.Layers), "layer", "layers"))
	if !r.Found() {
		return "nothing found: " + layers + " checked" + infosText(r.Infos)
	}
	return fmt.Sprintf("%d %s, %d %s in %s%s", r.Errors, plural(r.Errors, "error", "errors"), r.Warnings,
		plural(r.Warnings, "warning", "warnings"), layers, infosText(r.Infos))
}

func infosText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d %s)", n, plural(n, "fact", "facts"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orUnknown(s string) string {
	if s == "" {
		return "producer unknown"
	}
	return s
}

func inputsText(vs []modelcheck.Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = oneLineOf(v.Name) + " " + v.Type + shapeText(v.Shape)
	}
	return strings.Join(parts, ", ")
}

func shapeText(s []int64) string {
	if s == nil {
		return ""
	}
	d := make([]string, len(s))
	for i, x := range s {
		d[i] = fmt.Sprint(x)
		if x < 0 {
			d[i] = "N"
			if i > 0 {
				d[i] = "?"
			}
		}
	}
	return "[" + strings.Join(d, ", ") + "]"
}

func channels(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func span(r []float64) string {
	if len(r) != 2 {
		return ""
	}
	if r[0] == r[1] {
		return num(r[0])
	}
	return fmt.Sprintf("%.4g … %.4g", r[0], r[1])
}
