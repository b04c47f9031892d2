package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/modelcheck"
	"github.com/normguard/normguard/modelcheck/onnxgraph"
	"github.com/normguard/normguard/report"
)

func newModelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Check the normalization layers inside a trained model (see `model check`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("model: name a subcommand: normguard model check MODEL.onnx (see `normguard model --help`)")
		},
	}
	cmd.AddCommand(newModelCheckCmd())
	return cmd
}

type modelCheckOptions struct {
	artifact, format, out string
}

func newModelCheckCmd() *cobra.Command {
	var o modelCheckOptions
	cmd := &cobra.Command{
		Use:   "check MODEL.onnx [--artifact A]",
		Short: "Normalization layers inside an ONNX model: BatchNorm mode and statistics, in-graph batch statistics, fit to A's features (exit 1 when found)",
		Long: `Check the normalization layers inside an ONNX model, as exported by
torch.onnx.export, tf2onnx or another converter. Features are followed from
the model's inputs through the graph, wherever the layers sit. Each finding
has a stable code, the node, its numbers and a fix.

Exit status 0: nothing found (info-level facts alone), 1: an error or a
warning found, 2: the file is unreadable or not an ONNX model, or the
artifact does not load.

Codes (severity):
  batchnorm_training_mode   BatchNormalization exported in training mode (error)
  running_stats_as_outputs  BatchNormalization with running statistics as
                            outputs, the form of a training graph (warning)
  untrained_running_stats   every running mean 0 and variance 1, or no stored
                            statistics at all (track_running_stats=False) (error)
  statistics_unread         running mean or variance not readable from the file
                            (external data, a graph input): not checked (warning)
  nonpositive_variance      a running variance < 0 (error), or exactly 0 with
                            a non-zero mean (warning)
  nan_statistics            NaN or infinite mean, variance, scale or bias (error)
  variance_below_epsilon    a running variance below epsilon, so that
                            epsilon sets the scale (warning)
  foreign_epsilon           an epsilon that is another framework's default:
                            1e-3 Keras/TensorFlow, 1e-5 PyTorch, 2e-5 Chainer,
                            judged against the producer recorded in the file
                            (warning)
  batch_statistics_in_graph a mean, variance, min or max reduced over the batch
                            axis inside the graph, e.g. x - x.mean(0) (error)
  constant_normalization    a LayerNorm, InstanceNorm or GroupNorm over axes of
                            size 1: it outputs its bias whatever the input
                            (warning)
  layer_norm, group_norm, instance_norm, dead_channels, input_normalization,
  input_scaling             facts (info)
With --artifact (the artifact whose outputs the model is fed):
  input_width_mismatch      the model's input width is not the artifact's
                            number of outputs (error)
  input_names_mismatch      one input per feature whose names are not the
                            artifact's outputs, or feature names declared in the
                            model's metadata (feature_names) in another order
                            (error)
  trained_on_unscaled       the first BatchNorm on the inputs learned the raw
                            training profile, not the scaled features; or a
                            BatchNorm after a first Linear of the inputs has the
                            running means the raw features give through the
                            Linear's weights (error)
  normalization_mismatch    it learned neither (warning)
  doubled_scaling           stored constants scale the inputs again with the
                            artifact's own parameters, or the first BatchNorm
                            learned features scaled twice (error)
  undone_scaling            stored constants invert the artifact's scaling
                            (warning)
  input_binding, fits_artifact  facts (info); a model bundled by normguard
                            bundle takes raw columns and is not held to the
                            artifact's outputs

Features are followed from the inputs through identity, cast, reshapes that
add axes, column slices, concatenation and arithmetic with stored constants,
so the checks do not depend on where the layers sit.

Running statistics fit a feature profile (mean μ, standard deviation σ)
when |mean − μ| ≤ T_m·σ and |ln(var/σ²)| ≤ T_v, with T_m = 0.3 and T_v =
ln 3 at PyTorch's momentum 0.1 (5 and 4 standard deviations of the running
average's sampling noise over batches of 16 rows; wider for a larger
momentum). Stored constants (x − c)/s match the artifact's scaling within
0.25 standard deviations in location and 25% in scale.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("model check: name one model file, got %d arguments: normguard model check MODEL.onnx [--artifact A]", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := runModelCheck(args[0], o)
			if err != nil {
				return err
			}
			if err := writeModelCheck(cmd, o, rep); err != nil {
				return err
			}
			if rep.Found() {
				return errFound
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "artifact whose outputs the model is fed: check input width, names and the first normalization layer against its profile")
	f.StringVar(&o.format, "format", "table", "output format: table, json or html")
	f.StringVar(&o.out, "out", "", "write the report to this file instead of standard output")
	return cmd
}

func runModelCheck(path string, o modelCheckOptions) (*modelcheck.Report, error) {
	if o.format != "table" && o.format != "json" && o.format != "html" {
		return nil, fmt.Errorf("model check: --format must be table, json or html, got %q", o.format)
	}
	opt := modelcheck.Options{Model: path}
	if o.artifact != "" {
		a, err := artifact.Load(o.artifact)
		if err != nil {
			return nil, err
		}
		opt.Artifact = a
	}
	g, err := onnxgraph.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model check: %w", err)
	}
	return modelcheck.Check(g, opt), nil
}

func writeModelCheck(cmd *cobra.Command, o modelCheckOptions, rep *modelcheck.Report) error {
	var buf bytes.Buffer
	var err error
	switch o.format {
	case "json":
		err = report.ModelCheckJSON(&buf, rep)
	case "html":
		meta := report.ModelCheckMeta{Model: rep.Model}
		if o.artifact != "" {
			meta.Artifact = o.artifact + " (" + rep.Artifact + ")"
		}
		err = report.ModelCheckHTML(&buf, rep, meta)
	default:
		err = report.ModelCheckTable(&buf, rep, colorOutput(cmd, o.out))
	}
	if err != nil {
		return err
	}
	return writeOutput(cmd, o.out, buf.Bytes())
}
