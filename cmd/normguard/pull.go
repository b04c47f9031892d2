package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
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
absent (or @current). The download is verified (digest and canonical form)
before it is written, atomically, to --out (- writes it to stdout).`,
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
	data, v, err := s.Get(cmd.Context(), model, version)
	if errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("pull %s from %s: %w; `normguard list --registry %s` shows what it holds", ref, o.registry, err, o.registry)
	}
	if err != nil {
		return fmt.Errorf("pull %s from %s: %w", ref, o.registry, err)
	}
	a, err := artifact.Decode(data, fmt.Sprintf("%s@%s from %s", v.Model, v.Version, o.registry))
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	if a.Digest != v.Digest {
		return fmt.Errorf("pull %s: the registry lists %s@%s as %s but sent artifact %s; the registry is damaged, push the artifact again", ref, v.Model, v.Version, v.Digest, a.Digest)
	}
	msg := cmd.OutOrStdout()
	if o.out == "-" {
		if _, err := cmd.OutOrStdout().Write(data); err != nil {
			return err
		}
		msg = cmd.ErrOrStderr()
	} else {
		if d, err := tempfile.Resolve(o.out); err == nil && d.Stream == os.Stdout {
			msg = cmd.ErrOrStderr() // --out /dev/stdout: the artifact alone, as with -
		}
		if err := artifact.WriteFileAtomic(o.out, data); err != nil {
			return fmt.Errorf("pull %s: write %s: %w", ref, o.out, err)
		}
	}
	_, err = fmt.Fprintf(msg, "pulled %s@%s %s -> %s\n", v.Model, v.Version, v.Digest, o.out)
	return err
}
