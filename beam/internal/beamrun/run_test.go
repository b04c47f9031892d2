package beamrun

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

// TestRunLeavesNoPlaceholder: a pipeline run on prism (loopback) left an
// empty beamloopbackworker-* file in the temp folder each time; Run
// removes the ones its run made and leaves others alone.
func TestRunLeavesNoPlaceholder(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	other := filepath.Join(tmp, "beamloopbackworker-other")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	stats.Sum(s, beam.Create(s, 1, 2, 3))
	if _, err := Run(context.Background(), "prism", p); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(tmp, placeholderGlob))
	if len(names) != 1 || names[0] != other {
		t.Errorf("temp folder holds %v after the run; want only the placeholder that was there before", names)
	}
}
