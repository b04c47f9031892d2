package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/registry"
)

// tokenEnv names the environment variable holding the server's token.
const tokenEnv = "NORMGUARD_TOKEN"

type pushOptions struct {
	registry            string
	model, modelVersion string
	keepCurrent         bool
}

func newPushCmd() *cobra.Command {
	var o pushOptions
	cmd := &cobra.Command{
		Use:   "push ARTIFACT --registry DIR|URL",
		Short: "Store an artifact in a registry as a model version and make it current",
		Long: `push stores an artifact in a registry folder or on a running normguard server
as model@version, and makes it the model's current version (unless
--keep-current). The model and version default to the ones the artifact was
fitted for (fit --model --model-version). Versions are immutable: pushing the
same artifact again is a no-op, another artifact under an existing version
is refused. Writes to a server send the token in $NORMGUARD_TOKEN.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "registry"); err != nil {
				return err
			}
			return runPush(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.registry, "registry", "", "registry folder (created if missing) or server URL (http://HOST:PORT)")
	f.StringVar(&o.model, "model", "", "model name (default: the artifact's)")
	f.StringVar(&o.modelVersion, "model-version", "", "version name (default: the artifact's model version)")
	f.BoolVar(&o.keepCurrent, "keep-current", false, "do not make this version current (a model's first version becomes current anyway)")
	return cmd
}

func runPush(cmd *cobra.Command, path string, o pushOptions) error {
	data, a, err := readArtifact(path)
	if err != nil {
		return err
	}
	model, version := o.model, o.modelVersion
	if a.Model != nil {
		if model == "" {
			model = a.Model.Name
		}
		if version == "" {
			version = a.Model.Version
		}
	}
	if model == "" {
		return fmt.Errorf("push %s: the artifact names no model; pass --model NAME (or fit with --model)", path)
	}
	if version == "" {
		return fmt.Errorf("push %s: the artifact names no model version; pass --model-version V (or fit with --model-version)", path)
	}
	s, err := openRegistry(o.registry, true)
	if err != nil {
		return err
	}
	v, created, err := s.Put(cmd.Context(), model, version, data, registry.PutOptions{KeepCurrent: o.keepCurrent})
	if err != nil {
		return fmt.Errorf("push %s as %s@%s to %s: %w", path, model, version, o.registry, err)
	}
	var notes []string
	if !created {
		notes = append(notes, "already there")
	}
	if v.Current {
		notes = append(notes, "current")
	} else {
		notes = append(notes, "not current")
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "pushed %s@%s %s (%s)\n", v.Model, v.Version, v.Digest, strings.Join(notes, ", "))
	return err
}

// readArtifact reads and verifies an artifact file, returning its bytes
// too.
func readArtifact(path string) ([]byte, *artifact.Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load artifact: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, artifact.MaxSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("load artifact %s: %w", path, err)
	}
	if len(data) > artifact.MaxSize {
		return nil, nil, fmt.Errorf("load artifact %s: %w: larger than %d bytes", path, artifact.ErrCorrupt, artifact.MaxSize)
	}
	a, err := artifact.Decode(data, path)
	if err != nil {
		return nil, nil, err
	}
	return data, a, nil
}

// openRegistry opens a registry folder or server. A folder that does not
// exist is created for writes and refused for reads, so that a mistyped
// --registry is not silently an empty registry.
func openRegistry(target string, write bool) (registry.Store, error) {
	if !write && !registry.IsURL(target) {
		st, err := os.Stat(target)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("registry folder %s does not exist; check --registry (push creates it)", target)
		case err != nil:
			return nil, fmt.Errorf("registry folder %s: %w", target, err)
		case !st.IsDir():
			return nil, fmt.Errorf("registry %s is a file, not a folder; pass a registry folder or a server URL", target)
		}
	}
	return registry.OpenTarget(target, os.Getenv(tokenEnv))
}
