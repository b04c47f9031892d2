package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/internal/tempfile"
	"github.com/normguard/normguard/registry"
)

type pullOptions struct {
	registry, out string
}

func newPullCmd() *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull NAME[@VERSION] --registry DIR|URL --out FILE",
		Short: "Fetch a model's artifact (the current version unless @VERSION) from a registry",
		Long: `pull fetches model NAME's artifact from a registry folder or a running
normguard server: version VERSION, or the current version when @VERSION is
absent (or @current). The download is streamed into a temporary file and
verified there (digest, canonical form and meaning, as verify checks a file,
in memory that does not grow with the artifact) before it is renamed,
atomically, onto --out (- writes it to stdout once verified). A download
past the 1 GiB an artifact may hold is refused as it arrives.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "registry", "out"); err != nil {
				return err
			}
			return runPull(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.registry, "registry", "", "registry folder or server URL (http://HOST:PORT)")
	f.StringVar(&o.out, "out", "", "artifact file to write (- for stdout)")
	return cmd
}

func runPull(cmd *cobra.Command, ref string, o pullOptions) error {
	model, version, _ := strings.Cut(ref, "@")
	s, err := openRegistry(o.registry, false)
	if err != nil {
		return err
	}
	g, ok := s.(registry.FileGetter)
	if !ok {
		return fmt.Errorf("pull %s from %s: this registry cannot write an artifact to a file", ref, o.registry)
	}
	// The artifact is streamed into a file and verified there (as
	// `normguard verify` reads a file), never held in memory whole: a
	// regular --out gets it in its temporary file, renamed into place
	// once verified; standard output, a device or a FIFO gets it from an
	// unnamed scratch file once verified. A refused download leaves
	// nothing behind.
	stream := o.out == "-"
	var dest tempfile.Destination
	if !stream {
		if dest, err = tempfile.Resolve(o.out); err != nil {
			return fmt.Errorf("pull %s: %w", ref, err)
		}
		stream = dest.Stream != nil || dest.InPlace
	}
	var f *os.File
	var out *tempfile.Output
	if stream {
		sf, done, err := tempfile.Scratch("normguard-pull")
		if err != nil {
			return fmt.Errorf("pull %s: a temporary file for the download: %w", ref, err)
		}
		defer done()
		f = sf
	} else {
		if out, err = tempfile.CreateOutput(o.out); err != nil {
			return fmt.Errorf("pull %s: write %s: %w", ref, o.out, err)
		}
		defer out.Discard() // a no-op once committed
		f = out.File()
	}
	v, err := g.GetTo(cmd.Context(), model, version, f)
	if errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("pull %s from %s: %w; `normguard list --registry %s` shows what it holds", ref, o.registry, err, o.registry)
	}
	if err != nil {
		return fmt.Errorf("pull %s from %s: %w", ref, o.registry, err)
	}
	msg := cmd.OutOrStdout()
	switch {
	case o.out == "-":
		if err := copyVerified(cmd.OutOrStdout(), f); err != nil {
			return err
		}
		msg = cmd.ErrOrStderr()
	case stream:
		if dest.Stream == os.Stdout {
			msg = cmd.ErrOrStderr() // --out /dev/stdout: the artifact alone, as with -
		}
		o2, err := tempfile.CreateOutput(o.out)
		if err != nil {
			return fmt.Errorf("pull %s: write %s: %w", ref, o.out, err)
		}
		if err := copyVerified(o2.File(), f); err != nil {
			o2.Discard()
			return fmt.Errorf("pull %s: write %s: %w", ref, o.out, err)
		}
		if err := o2.Commit(); err != nil {
			return fmt.Errorf("pull %s: write %s: %w", ref, o.out, err)
		}
	default:
		if err := out.Commit(); err != nil {
			return fmt.Errorf("pull %s: write %s: %w", ref, o.out, err)
		}
	}
	_, err = fmt.Fprintf(msg, "pulled %s@%s %s -> %s\n", v.Model, v.Version, v.Digest, o.out)
	return err
}

// copyVerified copies the verified download in f, from its start, to w.
func copyVerified(w io.Writer, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = io.Copy(w, io.NewSectionReader(f, 0, st.Size()))
	return err
}
