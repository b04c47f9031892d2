package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/onnx"
)

type bundleOptions struct {
	artifact, model, out string
	quiet                bool
}

func newBundleCmd() *cobra.Command {
	var o bundleOptions
	cmd := &cobra.Command{
		Use:   "bundle --artifact A --model M.onnx --out S.onnx",
		Short: "Prepend the fitted transform to an ONNX model: one file for normalization and model",
		Long: `bundle writes one ONNX model that takes the raw columns (as normguard export's
graph does) and returns the model's outputs, plus "unknown_categories" when
the artifact encodes categories. The model must have one [batch, features]
float or double input whose width is the artifact's feature count; when the
model declares feature names (metadata_props "feature_names"), they must be
the artifact's, in order. A mismatch is refused with what differs. A float
model input gets the features rounded to float32 by a Cast. The model keeps
its opset (13 or later); its names are prefixed with "model/" but its
outputs'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "artifact", "model", "out"); err != nil {
				return err
			}
			return runBundle(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "artifact written by normguard fit")
	f.StringVar(&o.model, "model", "", "ONNX model taking the artifact's features")
	f.StringVar(&o.out, "out", "", "bundled model file to write (.onnx; - for stdout)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	return cmd
}

func runBundle(cmd *cobra.Command, o bundleOptions) error {
	a, err := artifact.Load(o.artifact)
	if err != nil {
		return err
	}
	m, err := onnx.ReadModel(o.model)
	if err != nil {
		return err
	}
	b, err := onnx.Bundle(a, m, versionString())
	if err != nil {
		return err
	}
	if err := writeModel(cmd, o.out, b.Model); err != nil {
		return err
	}
	if o.quiet {
		return nil
	}
	w := cmd.ErrOrStderr()
	cast := "float64"
	if b.Cast {
		cast = "cast to float32"
	}
	fmt.Fprintf(w, "bundled %d features (%s) -> %s -> %s\n  artifact %s; ai.onnx opset %d, IR version %d\n",
		len(b.Features), cast, o.model, outName(o.out), a.Digest, b.Opset, b.IRVersion)
	if len(b.Unknown) > 0 {
		fmt.Fprintf(w, "  unknown_categories flags %s\n", strings.Join(b.Unknown, ", "))
	}
	for _, c := range b.Dropped {
		fmt.Fprintf(w, "  note: text passthrough column %q is not in the features (a double tensor cannot hold text)\n", c)
	}
	for _, n := range b.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	return nil
}
