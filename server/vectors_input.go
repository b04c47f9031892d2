package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// checkProducer refuses a ?producer= name that is not 1 to 64 bytes of
// UTF-8 text without control characters. The name becomes a Prometheus
// label (which panics on invalid UTF-8: a refusal answered 500, attack
// run 36 F4) and a key of the state file, whose JSON turns every invalid
// byte into U+FFFD (producers %ff and %fe were two producers until a
// restart made them one); a control character (NUL, a newline) is no
// name to show on the dashboard or in a log.
func checkProducer(producer string) error {
	if producer == "" || len(producer) > 64 {
		return &apiError{http.StatusBadRequest, "bad_query",
			"query parameter producer must name the component that produced the vectors (1 to 64 bytes), e.g. ?producer=writer"}
	}
	for i := 0; i < len(producer); {
		r, size := utf8.DecodeRuneInString(producer[i:])
		if r == utf8.RuneError && size == 1 {
			return &apiError{http.StatusBadRequest, "bad_query", fmt.Sprintf(
				"query parameter producer: byte 0x%02x at offset %d is not UTF-8 (percent-encode the name's UTF-8 bytes), e.g. ?producer=writer", producer[i], i)}
		}
		if unicode.IsControl(r) {
			return &apiError{http.StatusBadRequest, "bad_query", fmt.Sprintf(
				"query parameter producer: control character %U at offset %d: name the producer with printable text, e.g. ?producer=writer", r, i)}
		}
		i += size
	}
	return nil
}

// parseObservedVector reads a vector observation's value, an array of
// finite numbers: nil when it is not one (or is empty), with the index of
// the first null element (-1: none) or why it is not one (bad: "" when it
// is one or null is the reason). encoding/json reads a null element of a
// []float64 as 0, so the elements are read one by one; an element out of
// the float64 range (1e400) is named with its index, as .../transform
// names it (attack run 36 F7: "must be an array of numbers").
func parseObservedVector(raw json.RawMessage) (vec []float64, null int, bad string) {
	var elems []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, -1, "must be an array of numbers (or null)"
	}
	if len(elems) == 0 {
		return nil, -1, "is an empty array: a vector has at least one number"
	}
	vec = make([]float64, len(elems))
	for k, e := range elems {
		if string(e) == "null" {
			return nil, k, ""
		}
		if e[0] != '-' && (e[0] < '0' || e[0] > '9') {
			return nil, -1, fmt.Sprintf("element %d of the vector is not a number (got %s): the column takes an array of numbers (or null)", k, quoteElement(e))
		}
		x, err := strconv.ParseFloat(string(e), 64)
		if err != nil || math.IsInf(x, 0) {
			return nil, -1, fmt.Sprintf("element %d: %s is out of the float64 range (about ±1.8e308): rescale the vectors", k, e)
		}
		vec[k] = x
	}
	return vec, -1, ""
}

// quoteElement shortens a JSON element to name it in an error.
func quoteElement(e json.RawMessage) string {
	if len(e) > 24 {
		return string(e[:24]) + "..."
	}
	return string(e)
}
