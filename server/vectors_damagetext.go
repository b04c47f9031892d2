package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/normguard/normguard/internal/errtext"
)

// A damaged snapshot was described in Go's decoder terms ("json: cannot
// unmarshal array into Go value of type server.vectorStateEnvelope",
// "unexpected end of JSON input"): it is described as the file is, as the
// journal's damage is (attack run 32 F5).

// snapshotJSONProblem says, in the terms of the file rather than of Go's
// decoder, what keeps data (a snapshot file) from reading as a vector
// state's envelope; err is json.Unmarshal's error.
func snapshotJSONProblem(data []byte, err error) string {
	body := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(data) == 0:
		return "the file is empty (0 bytes); it was truncated or replaced"
	case len(body) == 0:
		return fmt.Sprintf("the file holds only blank space (%d bytes); it was truncated or replaced", len(data))
	case body[0] != '{':
		return fmt.Sprintf("it is not a normguard vector state: it starts with %s (%d bytes), where a vector state is a JSON object "+
			"starting with {", errtext.QuoteBytes(body[:min(len(body), 16)]), len(data))
	}
	return stateJSONProblem(data, err)
}

// stateJSONProblem says what keeps data, a JSON object, from reading as a
// vector state: where it is cut short or is not JSON, or which field holds
// what a vector state does not; err is the decoder's error.
func stateJSONProblem(data []byte, err error) string { return jsonProblem(data, err, "vector state") }

// markerJSONProblem says, in the terms of the file rather than of Go's
// decoder, what keeps data (a vector marker) from reading as one; err is
// json.Unmarshal's error. A damaged marker was described as "json: cannot
// unmarshal array into Go value of type server.vectorMarker" (attack run
// 36 F8).
func markerJSONProblem(data []byte, err error) string {
	switch body := bytes.TrimLeft(data, " \t\r\n"); {
	case len(data) == 0:
		return "it is empty (0 bytes); it was truncated or replaced"
	case len(body) == 0:
		return fmt.Sprintf("it holds only blank space (%d bytes); it was truncated or replaced", len(data))
	}
	return jsonProblem(data, err, "vector marker")
}

// jsonProblem says what keeps data from reading as a JSON object of the
// kind what names ("vector state"): where it is cut short or is not JSON,
// or which field holds what such an object does not; err is the
// decoder's error.
func jsonProblem(data []byte, err error, what string) string {
	d := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	derr := d.Decode(&v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(derr, io.EOF) || errors.Is(derr, io.ErrUnexpectedEOF):
		return fmt.Sprintf("it is cut short after %s: its JSON ends before the object is closed (the file was truncated, or "+
			"its write was cut off)", byteCount(len(data)))
	case errors.As(derr, &syn):
		off := int(syn.Offset)
		return fmt.Sprintf("it is not valid JSON at byte %d of %d (%s, near %s)", off, len(data), syn.Error(),
			errtext.QuoteBytes(data[max(off-12, 0):min(off+12, len(data))]))
	case derr == nil && len(bytes.TrimSpace(data[d.InputOffset():])) > 0:
		return fmt.Sprintf("it goes on after its JSON object ends at byte %d of %d (two writes mixed, or text appended)", d.InputOffset(), len(data))
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("it is not a normguard %s: its field %q holds a JSON %s, where a %s holds %s", what, typ.Field, typ.Value, what, errtext.JSONKind(typ.Type))
	case errors.As(err, &typ):
		return fmt.Sprintf("it is not a normguard %s: it is a JSON %s, where a %s is %s", what, typ.Value, what, errtext.JSONKind(typ.Type))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "it is not a normguard " + what + ": it holds a field " + name + " that a " + what + " does not have"
	}
	return err.Error()
}

// byteCount says n bytes.
func byteCount(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}
