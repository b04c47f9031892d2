package artifact_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
)

// specSpan returns the bytes of the "spec" value of an encoded artifact.
func specSpan(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.Index(data, []byte("\n  \"spec\": "))
	j := bytes.Index(data, []byte(",\n  \"inputs\": "))
	if i < 0 || j < i {
		t.Fatal("no spec section in the artifact")
	}
	return data[i+len("\n  \"spec\": ") : j]
}

// TestSpecBound holds Verify and Decode to one verdict on an artifact
// whose spec section (categories given in the spec) is just within and
// just past the bound, and CheckSpecSize to the same count of bytes.
func TestSpecBound(t *testing.T) {
	a := categoryCases(t)["one_hot_encoder given"]
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(specSpan(t, data)))

	restore := artifact.SetMaxSpecBytesForTest(n)
	if err := artifact.CheckSpecSize(a.Spec); err != nil {
		t.Errorf("CheckSpecSize at the bound: %v", err)
	}
	decodeErr, verifyErr := verdicts(data)
	if decodeErr != nil || verifyErr != nil {
		t.Errorf("a spec of %d bytes with the bound at %d: Decode %v, Verify %v; want both to accept", n, n, decodeErr, verifyErr)
	}
	restore()

	restore = artifact.SetMaxSpecBytesForTest(n - 1)
	defer restore()
	err = artifact.CheckSpecSize(a.Spec)
	if err == nil || !strings.Contains(err.Error(), "spec: ") || !strings.Contains(err.Error(), "categories: auto") {
		t.Errorf("CheckSpecSize one byte past the bound: got %v, want the spec's size refused", err)
	}
	decodeErr, verifyErr = verdicts(data)
	want := "load artifact m.json: corrupt artifact: spec: more than the"
	for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "categories: auto") {
			t.Errorf("%s of a spec one byte past the bound: got %v, want %q...", name, err, want)
		}
		if !errors.Is(err, artifact.ErrCorrupt) || !errors.Is(err, artifact.ErrInvalid) {
			t.Errorf("%s: %v is not ErrCorrupt and ErrInvalid", name, err)
		}
	}
	if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
		t.Errorf("Decode and Verify word the refusal differently:\n%v\n%v", decodeErr, verifyErr)
	}
}

// paramsSpan returns the bytes of the first step's "params" value of an
// encoded artifact.
func paramsSpan(t *testing.T, data []byte) []byte {
	t.Helper()
	groups := bytes.Index(data, []byte("\n  \"groups\": "))
	key := []byte("\"params\": ")
	i := bytes.Index(data[groups:], key)
	j := bytes.Index(data[groups:], []byte(",\n          \"inputs\": "))
	if groups < 0 || i < 0 || j < i {
		t.Fatal("no params in the artifact's first step")
	}
	return data[groups+i+len(key) : groups+j]
}

// TestStepParamsBound gives a step's parameters (an encoder's categories
// given in them) to an artifact whose spec leaves them out, re-digested:
// past the spec's bound they are refused before they are decoded, by both
// readers alike; within it, both refuse them for differing from the spec.
func TestStepParamsBound(t *testing.T) {
	cases := categoryCases(t)
	a := cases["ordinal_encoder given"]
	a.Spec = cases["ordinal_encoder auto"].Spec
	data, err := artifact.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(paramsSpan(t, data)))
	if s := int64(len(specSpan(t, data))); s >= n {
		t.Fatalf("the spec (%d bytes) is not smaller than the parameters (%d)", s, n)
	}
	for _, c := range []struct {
		bound int64
		want  string
	}{
		{n, "corrupt artifact: groups[0].steps[0].params: differ from the spec's columns[0].steps[0]; "},
		{n - 1, fmt.Sprintf("corrupt artifact: groups[0].steps[0].params: more than the %d bytes a step's parameters may hold", n-1)},
	} {
		restore := artifact.SetMaxSpecBytesForTest(c.bound)
		decodeErr, verifyErr := verdicts(data)
		restore()
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("bound %d, parameters of %d bytes: %s got %v, want %q", c.bound, n, name, err, c.want)
			}
		}
		if decodeErr != nil && verifyErr != nil && decodeErr.Error() != verifyErr.Error() {
			t.Errorf("bound %d: Decode and Verify word the refusal differently:\n%v\n%v", c.bound, decodeErr, verifyErr)
		}
	}
}

// TestSpecBoundOnOneString replaces the spec by one JSON string (with
// escaped quotes) one byte past the bound and at it: past it, both
// readers refuse the size (Verify measuring the string from the file in
// pieces rather than reading it as a token); at it, both refuse the
// string for not being a spec.
func TestSpecBoundOnOneString(t *testing.T) {
	data := outputsCase(t)
	span := specSpan(t, data)
	at := bytes.Index(data, span)
	const bound = 1 << 16
	restore := artifact.SetMaxSpecBytesForTest(bound)
	defer restore()
	for _, size := range []int{bound + 1, bound} {
		body := strings.Repeat(`\"`, (size-3)/2) + strings.Repeat("x", (size-3)%2+1)
		str := `"` + body + `"`
		if len(str) != size {
			t.Fatalf("built a string of %d bytes, want %d", len(str), size)
		}
		edited := append(append(append([]byte(nil), data[:at]...), str...), data[at+len(span):]...)
		decodeErr, verifyErr := verdicts(edited)
		for name, err := range map[string]error{"Decode": decodeErr, "Verify": verifyErr} {
			over := err != nil && strings.Contains(err.Error(), "spec: more than the 65536 bytes")
			switch {
			case err == nil:
				t.Errorf("a spec string of %d bytes: %s accepts it", size, name)
			case over != (size > bound):
				t.Errorf("a spec string of %d bytes, bound %d: %s got %v", size, bound, name, err)
			}
		}
	}
}
