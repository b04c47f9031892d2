package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"text/tabwriter"

	"github.com/normguard/normguard/embed"
)

// VectorDrift is the drift of one vector column: its current vectors
// against a reference (the contract's stored sample and mean vector, or
// another data set's vectors), by embed.Drift's methods.
type VectorDrift struct {
	// Column is the vector column.
	Column string `json:"column"`
	// Reference names what the vectors were compared with.
	Reference string `json:"reference"`
	// Result holds MMD², its p-value, the drifted-dimension share, the
	// mean-vector distances, the domain classifier's AUC and the sample
	// sizes (see package embed).
	Result embed.DriftResult `json:"result"`
}

// VectorDriftTable writes one row per vector column: the MMD test, the
// share of drifted dimensions, the distances between mean vectors and the
// domain classifier's AUC, then the verdict.
func VectorDriftTable(w io.Writer, vs []VectorDrift, color bool) error {
	if len(vs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VECTOR\tDIM\tSAMPLES (REF/CUR)\tMMD²\tP-VALUE\tDRIFTED DIMS\tMEAN DIST (L2/COS)\tDOMAIN AUC\tVERDICT")
	for _, v := range vs {
		r := v.Result
		verdict := "ok"
		if r.Drift {
			verdict = "DRIFT"
			if color {
				verdict = "\x1b[31;1m" + verdict + "\x1b[0m"
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%s\t%s\t%d (%s)\t%s / %s\t%s\t%s\n", v.Column, r.Dimension, r.RefSize, r.CurSize,
			num(r.MMD2), num(r.MMDPValue), r.DriftedDims, num(r.DriftedDimShare), num(r.MeanEuclidean), num(r.MeanCosine), num(r.DomainAUC), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "vectors: MMD² with an RBF kernel (bandwidth: median heuristic), p from %d seeded permutations; drift when p < alpha\n\n", vs[0].Result.Permutations)
	return err
}

// AddVectorsJSON returns the JSON object doc (a report as DriftJSON or
// CheckedDriftJSON writes it) with a "vectors" member holding vs added
// last, indented alike. doc is returned as it is when vs is empty.
func AddVectorsJSON(doc []byte, vs []VectorDrift) ([]byte, error) {
	if len(vs) == 0 {
		return doc, nil
	}
	body := bytes.TrimRight(doc, " \n")
	if len(body) < 2 || body[len(body)-1] != '}' {
		return nil, fmt.Errorf("report: vectors: the report is not a JSON object")
	}
	enc, err := json.MarshalIndent(vs, "  ", "  ")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(bytes.TrimRight(body[:len(body)-1], " \n"))
	if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
		b.WriteString(",")
	}
	b.WriteString("\n  \"vectors\": ")
	b.Write(enc)
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

// VectorDriftHTML returns the section of a drift page about vector
// columns: a table of the same numbers as VectorDriftTable, each
// explained.
func VectorDriftHTML(vs []VectorDrift) (template.HTML, error) {
	if len(vs) == 0 {
		return "", nil
	}
	type row struct {
		Column, Reference                            string
		Dim, Ref, Cur, Perms, DriftedDims            int
		MMD2, P, Share, Euclid, Cosine, AUC, Bandwid string
		Drift                                        bool
	}
	rows := make([]row, len(vs))
	for i, v := range vs {
		r := v.Result
		rows[i] = row{Column: v.Column, Reference: v.Reference, Dim: r.Dimension, Ref: r.RefSize, Cur: r.CurSize, Perms: r.Permutations,
			DriftedDims: r.DriftedDims, MMD2: htmlNum(r.MMD2), P: htmlNum(r.MMDPValue), Share: htmlNum(r.DriftedDimShare),
			Euclid: htmlNum(r.MeanEuclidean), Cosine: htmlNum(r.MeanCosine), AUC: htmlNum(r.DomainAUC), Bandwid: htmlNum(r.Bandwidth), Drift: r.Drift}
	}
	var b bytes.Buffer
	if err := vectorHTML.Execute(&b, rows); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

var vectorHTML = template.Must(template.New("vectors").Parse(`
<h2 id="vectors">Vector columns</h2>
<table>
<thead><tr><th scope="col">Vector</th><th scope="col">Reference</th><th scope="col">Dim</th><th scope="col">Samples (ref / cur)</th><th scope="col">MMD²</th><th scope="col">p-value</th><th scope="col">Drifted dimensions</th><th scope="col">Mean distance (Euclidean / cosine)</th><th scope="col">Domain AUC</th><th scope="col">Verdict</th></tr></thead>
<tbody>
{{- range .}}
<tr class="{{if .Drift}}drift{{else}}ok{{end}}"><td>{{.Column}}</td><td>{{.Reference}}</td><td class="n">{{.Dim}}</td><td class="n">{{.Ref}} / {{.Cur}}</td><td class="n">{{.MMD2}}</td><td class="n">{{.P}}</td><td class="n">{{.DriftedDims}} ({{.Share}})</td><td class="n">{{.Euclid}} / {{.Cosine}}</td><td class="n">{{.AUC}}</td><td><span class="badge {{if .Drift}}drift{{else}}ok{{end}}">{{if .Drift}}drift{{else}}ok{{end}}</span></td></tr>
{{- end}}
</tbody>
</table>
<p class="muted">MMD² is the unbiased estimate of the squared maximum mean discrepancy with an RBF kernel k(x, y) = exp(−‖x−y‖² / 2σ²), σ by the median heuristic, its p-value from seeded permutations; a dimension drifts when its Wasserstein distance over the reference's standard deviation exceeds 0.1; the domain AUC is the held-out ROC AUC of a classifier telling current from reference vectors (0.5: indistinguishable). The column drifts when the MMD test's p-value is below alpha.</p>
`))
