// Package chromium runs Debian's headless Chromium for the browser tests
// of the HTML reports, the dashboard and the server.
package chromium

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Path returns the chromium binary's path. Without one the test is
// skipped, except in CI (CI=true, where .ci/run installs it), where it
// fails.
func Path(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "true" {
			t.Skip("chromium is not on PATH (CI installs it; apt-get install chromium)")
		}
		t.Fatalf("chromium is not on PATH in CI: %v", err)
	}
	return bin
}

// Run runs headless Chromium on a fresh profile, without network extras
// (this machine refuses them), and returns its standard output.
func Run(t testing.TB, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.WaitDelay = 5 * time.Second // helpers holding the pipes open
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.String()
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		t.Fatalf("chromium %v: %v\n%s", args, err, msg)
	}
	return stdout.String()
}
