package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tourCommand is one command of the README's tour: its text (continuation
// lines included) and the exit statuses its "# exit" note allows.
type tourCommand struct {
	text       string
	want       []string // "0" when the note is silent
	background bool     // ends with &: started, not waited for
}

// tourBlock is one ```sh block of the tour.
type tourBlock struct {
	commands []tourCommand
	service  bool // starts `normguard serve`
}

// exitNote reads "exit 1" or "exit 0 or 1" in a command's trailing comment.
var exitNote = regexp.MustCompile(`exit (\d)(?:,? or (\d))?`)

// readTour extracts the ```sh blocks of README.md's "A five-minute tour"
// section.
func readTour(t *testing.T, readme string) []tourBlock {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## A five-minute tour")
	if start < 0 {
		t.Fatalf("%s has no section \"## A five-minute tour\"", readme)
	}
	section := text[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []tourBlock
	for {
		i := strings.Index(section, "```sh\n")
		if i < 0 {
			break
		}
		section = section[i+len("```sh\n"):]
		j := strings.Index(section, "```")
		if j < 0 {
			t.Fatalf("%s: an unclosed ```sh block in the tour", readme)
		}
		blocks = append(blocks, parseTourBlock(section[:j]))
		section = section[j+3:]
	}
	return blocks
}

func parseTourBlock(body string) tourBlock {
	var blk tourBlock
	var cur []string
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if len(cur) == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		cur = append(cur, line)
		code, _ := splitComment(line)
		if strings.HasSuffix(strings.TrimSpace(code), `\`) {
			continue // the command goes on on the next line
		}
		cmd := tourCommand{text: strings.Join(cur, "\n"), want: []string{"0"}}
		_, comment := splitComment(line)
		if m := exitNote.FindStringSubmatch(comment); m != nil {
			cmd.want = []string{m[1]}
			if m[2] != "" {
				cmd.want = append(cmd.want, m[2])
			}
		}
		cmd.background = strings.HasSuffix(strings.TrimSpace(code), "&")
		blk.service = blk.service || strings.Contains(code, "normguard serve")
		blk.commands = append(blk.commands, cmd)
		cur = nil
	}
	return blk
}

// splitComment splits a shell line at its first # that starts a comment
// (after white space, outside quotes).
func splitComment(line string) (code, comment string) {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i], line[i:]
		}
	}
	return line, ""
}

// tourScript is one bash script running the blocks in order, checking
// each command's exit status, and stopping background jobs at the end.
func tourScript(blocks []tourBlock) (string, []tourCommand) {
	var b strings.Builder
	b.WriteString("set -u\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n")
	b.WriteString(`check() { case " $2 " in *" $1 "*) ;; *) echo "tour command $3: exit $1, want $2" >&2; exit 99;; esac; }` + "\n")
	var all []tourCommand
	for _, blk := range blocks {
		for _, c := range blk.commands {
			all = append(all, c)
			n := len(all)
			fmt.Fprintf(&b, "echo '>>> tour command %d' >&2\n%s\n", n, c.text)
			if !c.background {
				fmt.Fprintf(&b, "check $? %q %d\n", strings.Join(c.want, " "), n)
			}
		}
	}
	return b.String(), all
}

// TestReadmeTour runs the README's five-minute tour as written, in order,
// in an empty folder, with a freshly built normguard first on PATH, and
// checks every command's exit status against its "# exit" note (0 when
// there is none). The only rewrite: the service block listens on a free
// port instead of 8080. It needs bash; without curl the service block is
// left out (and the test says so).
func TestReadmeTour(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("the tour's blocks are shell: bash not found")
	}
	blocks := readTour(t, filepath.Join("..", "..", "README.md"))
	if len(blocks) < 3 {
		t.Fatalf("the tour has %d sh blocks; want the quickstart, fit/inspect/diff, drift and diagnose ones", len(blocks))
	}
	if _, err := exec.LookPath("curl"); err != nil {
		kept := blocks[:0]
		for _, b := range blocks {
			if !b.service {
				kept = append(kept, b)
			}
		}
		t.Logf("curl not found: the service block is not run")
		blocks = kept
	}

	bin := t.TempDir()
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", filepath.Join(bin, "normguard"), ".")
	vcs := true
	if out, err := build.CombinedOutput(); err != nil {
		// Not a VCS checkout git can read (a tarball, another owner).
		build = exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(bin, "normguard"), ".")
		if out2, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s\n%s", err, out, out2)
		}
		vcs = false
	}
	checkVersion(t, filepath.Join(bin, "normguard"), vcs)

	script, cmds := tourScript(blocks)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	script = strings.ReplaceAll(script, "127.0.0.1:8080", addr)

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	t.Logf("the tour's %d commands ran in %v", len(cmds), time.Since(start).Round(time.Millisecond))
	if err != nil {
		failed := "?"
		if m := regexp.MustCompile(`tour command (\d+): exit`).FindStringSubmatch(stderr.String()); m != nil {
			var n int
			fmt.Sscan(m[1], &n)
			failed = cmds[n-1].text
		}
		t.Fatalf("the tour failed (%v) at:\n%s\nstderr (tail):\n%s", err, failed, tail(stderr.String(), 3000))
	}
	if testing.Verbose() {
		t.Logf("the tour's output (tail):\n%s", tail(stdout.String(), 2500))
	}
	// The files the tour says it writes are there.
	for _, f := range []string{"flights.json", "june.json", "june_features.parquet", "drift.json", "drift.html", "why.html",
		"normguard-quickstart/received.csv", "normguard-quickstart/fed.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("the tour should leave %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout.String(), "one-hot category") {
		t.Errorf("the tour's diff does not name one-hot categories:\n%s", tail(stdout.String(), 3000))
	}
}

// checkVersion runs normguard --version: it names the module version, and
// the checkout's git revision when the build recorded VCS information.
func checkVersion(t *testing.T, bin string, vcs bool) {
	t.Helper()
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("normguard --version: %v", err)
	}
	if !strings.HasPrefix(string(out), "normguard version ") {
		t.Errorf("--version: got %q, want \"normguard version ...\"", out)
	}
	if !vcs {
		return
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return // no git to compare with
	}
	if want := "(revision " + strings.TrimSpace(string(rev)); !strings.Contains(string(out), want) {
		t.Errorf("--version: got %q, want it to contain %q", out, want)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
