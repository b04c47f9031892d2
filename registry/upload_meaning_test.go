package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/step"
)

// TestPutRefusesAnArtifactWithoutMeaning uploads artifacts whose bytes
// match their digest but whose content no fit writes (a scale of 0, a
// profile's counts one entry short): the store refuses them as invalid,
// naming the field, and keeps nothing.
func TestPutRefusesAnArtifactWithoutMeaning(t *testing.T) {
	good := fitArtifact(t, "fraud", "1", 1)
	cases := []struct {
		edit func(a *artifact.Artifact)
		want string
	}{
		{func(a *artifact.Artifact) {
			a.Groups[0].Steps[1].Fitted.(*step.StandardScaler).Scale[0] = 0
		}, "groups[0].steps[1].fitted.scale_[0]: must be a finite number > 0, got 0"},
		{func(a *artifact.Artifact) {
			c := a.Profile.Inputs[1].Categories
			c.Counts = c.Counts[:len(c.Counts)-1]
		}, "profile.inputs[1].categories.counts: has 2 entries, values 3"},
		{func(a *artifact.Artifact) {
			p := &a.Profile.Outputs[0]
			p.Count = -1
		}, "profile.outputs[0].count: must be >= 0, got -1"},
	}
	for _, c := range cases {
		a, err := artifact.Decode(good, "good")
		if err != nil {
			t.Fatal(err)
		}
		c.edit(a)
		data, err := artifact.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		local, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = local.Put(context.Background(), "fraud", "2", data, PutOptions{})
		if !errors.Is(err, ErrInvalidArtifact) || !errors.Is(err, artifact.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Put: got %v, want ErrInvalidArtifact naming %q", err, c.want)
		}
		if _, _, err := local.Get(context.Background(), "fraud", "2"); err == nil {
			t.Errorf("the refused artifact was stored")
		}
		// Over HTTP the refusal is a 4xx, not a 5xx.
		ts := httptest.NewServer(Handler(local))
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/v1/models/fraud/versions/2", strings.NewReader(string(data)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ts.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("PUT: status %d, want a 4xx", resp.StatusCode)
		}
	}
}
