package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/normguard/normguard/artifact"
	pb "github.com/normguard/normguard/onnx/onnxpb"
	"github.com/normguard/normguard/step"
	"github.com/normguard/normguard/table"
)

// Names of the exported graph's outputs.
const (
	// FeaturesOutput is the [N, outputs] tensor of features, in the
	// artifact's output order.
	FeaturesOutput = "features"
	// UnknownOutput is the [N, k] int64 tensor holding 1 where the value of
	// the k-th encoded categorical column is a category the encoder never
	// saw in fit (a missing value included when missing was not a training
	// category), 0 elsewhere. It is absent when the artifact encodes no
	// categorical column.
	UnknownOutput = "unknown_categories"
)

// Keys of the exported model's metadata_props.
const (
	MetaDigest       = "normguard.artifact_digest"
	MetaModelName    = "normguard.model_name"
	MetaModelVersion = "normguard.model_version"
	MetaFeatures     = "normguard.features"           // JSON list of the feature names
	MetaUnknown      = "normguard.unknown_categories" // JSON list of the columns counted
	MetaMissingText  = "normguard.missing_text"       // how a missing categorical value is fed
	MetaDType        = "normguard.dtype"
	MetaDropped      = "normguard.dropped_passthrough" // JSON list of text passthrough columns left out
)

// ErrUnsupported is wrapped by export errors about an artifact the ONNX
// graph cannot represent.
var ErrUnsupported = errors.New("cannot be exported to ONNX")

// ExportOptions configures Export. The zero value exports float64 features.
type ExportOptions struct {
	// DType is the element type of the features output: "float64" (or
	// "") or "float32". The transform is computed in float64 either way;
	// float32 rounds the finished features once.
	DType string
	// Producer is recorded as the model's producer_version.
	Producer string
}

// Export builds an ONNX model that applies the artifact's transform: one
// input per raw input column, shaped [N, 1] (numeric columns as double,
// categorical columns as string, a missing category as the empty string,
// a missing number as NaN), and the output FeaturesOutput [N, outputs],
// plus UnknownOutput when the artifact encodes categories.
//
// Each step is built from standard ai.onnx operators (opset 18), with
// ai.onnx.ml's LabelEncoder for category lookups, and reproduces the
// step's kernel in package step operation for operation, so that the
// result equals normguard transform bit for bit except where ONNX lacks an
// exact operator: log1p and expm1 (computed from Log and Exp with Kahan's
// correction), the powers of power_transformer (Exp, Log) and the normal
// quantile function (Wichura's AS 241 with Log and Sqrt). In ONNX Runtime
// 1.31 (CPU) those differ by at most 2 ulps (log1p), 1.6e-13 relative
// (power_transformer without standardize) and 4 ulps (normal quantiles);
// see bounds_test.go. Where normguard transform refuses a value
// (handle_unknown: error, a NaN into binarizer, normalizer or
// kbins_discretizer, box-cox of x <= 0, log1p of x <= -1), the graph
// cannot fail: it writes NaN into the affected features instead, and
// counts unknown categories in UnknownOutput. Infinite inputs, and finite
// ones a step takes past float64's range, which normguard transform
// refuses too, are not checked by the graph (they give ±Inf or NaN).
//
// Numeric passthrough (remainder) columns are copied. Text passthrough
// columns (an id or a date kept next to the features) cannot be part of a
// double tensor: they are left out of the features and listed in Dropped
// and the metadata. A text output of a step chain is refused, naming the
// column. Inputs no output depends on are not graph inputs.
func Export(a *artifact.Artifact, opt ExportOptions) (*Exported, error) {
	outType := pb.TensorProto_DOUBLE
	switch opt.DType {
	case "", "float64":
		opt.DType = "float64"
	case "float32":
		outType = pb.TensorProto_FLOAT
	default:
		return nil, fmt.Errorf("export onnx: dtype %q: use float64 or float32", opt.DType)
	}
	x := &exporter{b: newBuilder("normguard_transform")}
	b := x.b
	b.reserve(FeaturesOutput)
	b.reserve(UnknownOutput)
	inputs := map[string]*column{}
	for _, f := range a.Inputs {
		if f.Name == FeaturesOutput || f.Name == UnknownOutput {
			return nil, fmt.Errorf("export onnx: input column %q has the name of a graph output: %w; rename the column", f.Name, ErrUnsupported)
		}
		b.reserve(f.Name)
		inputs[f.Name] = &column{name: f.Name, field: f.Name, text: f.TableField().Kind == table.String}
	}
	vdims, err := x.splitVectors(a, inputs)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var features []*column
	for gi, g := range a.Groups {
		cols := make([]*column, len(g.Columns))
		for i, name := range g.Columns {
			c, ok := inputs[name]
			if !ok {
				return nil, fmt.Errorf("export onnx: group %d reads %q, which is not an input of the artifact", gi+1, name)
			}
			cols[i] = c
			used[name] = true
		}
		for _, s := range g.Steps {
			out, err := x.step(s, cols)
			if err != nil {
				return nil, fmt.Errorf("export onnx: %s on %s: %w", s.Name, quoteNames(cols), err)
			}
			if want := len(s.Fitted.Outputs()); len(out) != want {
				return nil, fmt.Errorf("export onnx: %s on %s: built %d outputs, the step has %d", s.Name, quoteNames(cols), len(out), want)
			}
			cols = out
		}
		features = append(features, cols...)
	}
	if len(features)+len(a.Passthrough) != len(a.Outputs) {
		return nil, fmt.Errorf("export onnx: built %d features and %d passthrough columns, the artifact has %d outputs",
			len(features), len(a.Passthrough), len(a.Outputs))
	}
	var featNames []string
	for i, c := range features {
		if c.text {
			return nil, fmt.Errorf("export onnx: output column %q is text, which a double features tensor cannot hold: %w; encode it in the spec (one_hot_encoder, ordinal_encoder) and refit",
				a.Outputs[i].Name, ErrUnsupported)
		}
		featNames = append(featNames, a.Outputs[i].Name)
	}
	var dropped []string
	for i, name := range a.Passthrough {
		c, ok := inputs[name]
		if !ok {
			return nil, fmt.Errorf("export onnx: passthrough column %q is not an input of the artifact", name)
		}
		if c.text {
			// Text kept next to the features (an id, a date) is no
			// feature a double tensor can carry: leave it out.
			dropped = append(dropped, name)
			continue
		}
		used[name] = true
		features = append(features, c)
		featNames = append(featNames, a.Outputs[len(a.Outputs)-len(a.Passthrough)+i].Name)
	}
	if len(features) == 0 {
		return nil, fmt.Errorf("export onnx: the artifact has no numeric output: %w", ErrUnsupported)
	}
	for _, f := range a.Inputs {
		c := inputs[f.Name]
		if v, ok := vdims[f.Name]; ok {
			if v.Index == 0 { // one [N, d] input per vector column
				b.g.Input = append(b.g.Input, tensorInfo(v.Column, pb.TensorProto_DOUBLE, int64(v.Dim)))
			}
			continue
		}
		if !used[f.Name] {
			continue
		}
		t := pb.TensorProto_DOUBLE
		if c.text {
			t = pb.TensorProto_STRING
		}
		b.g.Input = append(b.g.Input, tensorInfo(f.Name, t, 1))
	}
	names := make([]string, len(features))
	for i, c := range features {
		names[i] = c.name
	}
	feat := b.concat(names)
	if outType == pb.TensorProto_FLOAT {
		feat = b.cast(feat, pb.TensorProto_FLOAT)
	}
	b.opInto("Identity", FeaturesOutput, []string{feat})
	b.g.Output = append(b.g.Output, tensorInfo(FeaturesOutput, outType, int64(len(features))))
	var unknownCols []string
	if len(x.unknown) > 0 {
		flags := make([]string, len(x.unknown))
		for i, u := range x.unknown {
			flags[i], unknownCols = u.flag, append(unknownCols, u.column)
		}
		b.opInto("Identity", UnknownOutput, []string{b.concat(flags)})
		b.g.Output = append(b.g.Output, tensorInfo(UnknownOutput, pb.TensorProto_INT64, int64(len(flags))))
	}

	meta := []*pb.StringStringEntryProto{
		entry(MetaDigest, a.Digest),
		entry(MetaFeatures, jsonList(featNames)),
		entry(MetaUnknown, jsonList(unknownCols)),
		entry(MetaMissingText, `""`),
		entry(MetaDType, opt.DType),
	}
	if len(dropped) > 0 {
		meta = append(meta, entry(MetaDropped, jsonList(dropped)))
	}
	doc := "normguard transform of artifact " + a.Digest
	if a.Model != nil {
		meta = append(meta, entry(MetaModelName, a.Model.Name))
		if a.Model.Version != "" {
			meta = append(meta, entry(MetaModelVersion, a.Model.Version))
		}
		doc += " for model " + a.Model.Name
		if a.Model.Version != "" {
			doc += " " + a.Model.Version
		}
	}
	b.g.DocString = proto.String(doc + `; a missing categorical value is fed as "", a missing number as NaN`)
	m := &pb.ModelProto{
		IrVersion:       proto.Int64(IRVersion),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(OpsetONNX)}, {Domain: proto.String(domainML), Version: proto.Int64(OpsetML)}},
		ProducerName:    proto.String("normguard"),
		ProducerVersion: proto.String(opt.Producer),
		DocString:       proto.String(doc),
		Graph:           b.g,
		MetadataProps:   meta,
	}
	return &Exported{Model: m, Features: featNames, Unknown: unknownCols, Dropped: dropped}, nil
}

// Exported is an exported transform and what it holds.
type Exported struct {
	Model *pb.ModelProto
	// Features are the names of the columns of FeaturesOutput, in order.
	Features []string
	// Unknown are the columns of UnknownOutput, in order.
	Unknown []string
	// Dropped are the text passthrough columns left out of the features.
	Dropped []string
}

func entry(k, v string) *pb.StringStringEntryProto {
	return &pb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(v)}
}

func jsonList(xs []string) string {
	if xs == nil {
		xs = []string{}
	}
	b, _ := json.Marshal(xs)
	return string(b)
}

// column is one [N, 1] tensor of the graph being built.
type column struct {
	name  string // tensor name
	field string // the column's name in the artifact, for messages
	text  bool   // a string tensor
	// missingAs is, for a text column an imputer has filled, the value a
	// missing entry ("" in the input) now stands for; nil while missing
	// values are still missing.
	missingAs *string
}

// unknownFlag is one column of UnknownOutput.
type unknownFlag struct {
	column string
	flag   string // int64 [N,1]
}

// exporter builds the graph of one artifact.
type exporter struct {
	b       *builder
	unknown []unknownFlag
}

func quoteNames(cols []*column) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = fmt.Sprintf("%q", c.field)
	}
	return strings.Join(q, ", ")
}

// numeric returns the tensor names of cols, refusing text columns.
func numeric(cols []*column) ([]string, error) {
	out := make([]string, len(cols))
	for i, c := range cols {
		if c.text {
			return nil, fmt.Errorf("column %q is text, the step takes numbers", c.field)
		}
		out[i] = c.name
	}
	return out, nil
}

// numCols wraps tensor names as numeric columns named after fields.
func numCols(names []string, fields []table.Field) []*column {
	out := make([]*column, len(names))
	for i, n := range names {
		out[i] = &column{name: n, field: fields[i].Name}
	}
	return out
}

// step emits one fitted step on cols and returns its output columns.
func (x *exporter) step(s step.FittedStep, cols []*column) ([]*column, error) {
	if f, ok := s.Fitted.(*step.SimpleImputer); ok {
		return x.simpleImputer(f, cols)
	}
	switch f := s.Fitted.(type) {
	case *step.OneHotEncoder:
		return x.oneHot(f, cols)
	case *step.OrdinalEncoder:
		return x.ordinal(f, cols)
	}
	in, err := numeric(cols)
	if err != nil {
		return nil, err
	}
	var out []string
	switch f := s.Fitted.(type) {
	case *step.StandardScaler:
		out = x.standardScaler(f, in)
	case *step.MinMaxScaler:
		out = x.minMaxScaler(f, in)
	case *step.MaxAbsScaler:
		out = x.maxAbsScaler(f, in)
	case *step.RobustScaler:
		out = x.robustScaler(f, in)
	case *step.Binarizer:
		out = x.binarizer(f, in)
	case *step.Log1p:
		out = x.log1pStep(in)
	case *step.Normalizer:
		out = x.normalizer(f, in)
	case *step.PowerTransformer:
		out = x.powerTransformer(f, in)
	case *step.QuantileTransformer:
		out = x.quantileTransformer(f, in)
	case *step.KBinsDiscretizer:
		out = x.kbins(f, in)
	default:
		return nil, fmt.Errorf("step %s: %w (no ONNX form yet)", s.Name, ErrUnsupported)
	}
	return numCols(out, s.Fitted.Outputs()), nil
}
