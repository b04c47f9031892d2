// Package beamrun runs Beam pipelines without leaving files behind.
package beamrun

import (
	"context"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// placeholderGlob matches the empty files the SDK's universal runner
// creates in the temp folder as a worker binary's name in loopback mode,
// one a run, and never removes (apache/beam#27569).
const placeholderGlob = "beamloopbackworker-*"

// Run runs p on runner (beam.Run) and removes the empty placeholder files
// the run left in the temp folder. A placeholder of another process's
// run names a binary loopback mode never starts: removing it is harmless.
func Run(ctx context.Context, runner string, p *beam.Pipeline) (beam.PipelineResult, error) {
	before := placeholders()
	res, err := beam.Run(ctx, runner, p)
	for _, name := range matches() {
		if before[name] {
			continue
		}
		if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			os.Remove(name)
		}
	}
	return res, err
}

func matches() []string {
	names, _ := filepath.Glob(filepath.Join(os.TempDir(), placeholderGlob))
	return names
}

func placeholders() map[string]bool {
	out := map[string]bool{}
	for _, n := range matches() {
		out[n] = true
	}
	return out
}
