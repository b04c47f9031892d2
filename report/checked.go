package report

import (
	"encoding/json"
	"io"

	"github.com/normguard/normguard/drift"
	"github.com/normguard/normguard/validate"
)

// CheckedDriftJSON writes a drift report compared against an artifact,
// with the data anomalies found first by normguard validate's rules: the
// drift JSON plus "anomalies" (an empty list when none was found, so a
// reader can tell the check ran).
func CheckedDriftJSON(w io.Writer, r *drift.Report, anomalies []validate.Anomaly) error {
	if anomalies == nil {
		anomalies = []validate.Anomaly{}
	}
	b, err := json.MarshalIndent(struct {
		*drift.Report
		Anomalies []validate.Anomaly `json:"anomalies"`
	}{r, anomalies}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
