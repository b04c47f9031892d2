package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/internal/errtext"
	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// MinOpsetONNX is the oldest ai.onnx opset the exported graph is valid in:
// every operator it uses has kept its semantics from opset 13 on, so a
// bundle runs the transform in the model's own opset.
const MinOpsetONNX = 13

// modelPrefix is prepended to every name of the model's graph in a bundle
// (but its outputs), so that nothing collides with the transform's names.
const modelPrefix = "model/"

// featuresTensor is the name of the transform's features inside a bundle.
const featuresTensor = "normguard/features"

// ErrMismatch is wrapped by bundle errors about a model whose input does
// not take the artifact's features.
var ErrMismatch = errors.New("model input does not match the artifact's features")

// MetaFeatureNames is a metadata_props key a model may carry to declare
// the names of its input features, in order (a JSON list of strings);
// Bundle then checks them against the artifact's features one by one.
const MetaFeatureNames = "feature_names"

// Bundled is a bundle and what Bundle did to make it.
type Bundled struct {
	Model *pb.ModelProto
	// Features are the features fed to the model, in order.
	Features []string
	// Unknown are the columns of the bundle's UnknownOutput.
	Unknown []string
	// Dropped are text passthrough columns left out of the features.
	Dropped []string
	// Cast is set when the features are rounded to float32 for a float
	// model input.
	Cast bool
	// Opset and IRVersion are the bundle's ai.onnx opset and IR version.
	Opset, IRVersion int64
	// Notes say what Bundle could not check.
	Notes []string
}

// Bundle prepends the artifact's exported transform to model: the result
// takes the raw columns as Export's graph does and returns the model's
// outputs, plus UnknownOutput when the artifact encodes categories.
//
// The model must have one data input (initializers aside) of rank 2,
// [batch, width], holding float or double. Its width must equal the
// number of features (a symbolic width is accepted with a note); when the
// model declares its feature names (metadata_props "feature_names" or
// "normguard.features"), they must be the artifact's, in order. Anything
// else is refused with what differs. A float input gets the features
// rounded to float32 by a Cast; a double input gets them as computed.
//
// The model keeps its ai.onnx opset (at least MinOpsetONNX, whose
// operators the transform uses unchanged) and ai.onnx.ml's is raised to 2
// when lower; the IR version is the higher of the two graphs'. Every name
// in the model's graph, subgraphs included, but its outputs is prefixed
// with "model/", so nothing collides.
func Bundle(a *artifact.Artifact, model *pb.ModelProto, producer string) (*Bundled, error) {
	mg := model.GetGraph()
	if mg == nil {
		return nil, fmt.Errorf("bundle: %w: the model has no graph", ErrNotModel)
	}
	init := map[string]bool{}
	for _, t := range mg.GetInitializer() {
		init[t.GetName()] = true
	}
	var data []*pb.ValueInfoProto
	for _, in := range mg.GetInput() {
		if !init[in.GetName()] {
			data = append(data, in)
		}
	}
	if len(data) != 1 {
		names := make([]string, len(data))
		for i, in := range data {
			names[i] = in.GetName()
		}
		return nil, fmt.Errorf("bundle: %w: the model has %d data inputs (%s), bundle feeds exactly one [batch, features] tensor; export the model with one input",
			ErrMismatch, len(data), errtext.List(names))
	}
	input := data[0]
	tt := input.GetType().GetTensorType()
	if tt == nil {
		return nil, fmt.Errorf("bundle: %w: model input %q is not a tensor", ErrMismatch, input.GetName())
	}
	var dtype string
	switch pb.TensorProto_DataType(tt.GetElemType()) {
	case pb.TensorProto_FLOAT:
		dtype = "float32"
	case pb.TensorProto_DOUBLE:
		dtype = "float64"
	default:
		return nil, fmt.Errorf("bundle: %w: model input %q holds %s, the features are float64 (or float32); export the model with a float or double input",
			ErrMismatch, input.GetName(), pb.TensorProto_DataType(tt.GetElemType()))
	}
	ex, err := Export(a, ExportOptions{DType: dtype, Producer: producer})
	if err != nil {
		return nil, err
	}
	res := &Bundled{Features: ex.Features, Unknown: ex.Unknown, Dropped: ex.Dropped, Cast: dtype == "float32"}
	if err := matchShape(input, tt, len(ex.Features), res); err != nil {
		return nil, err
	}
	if err := matchNames(model, ex.Features); err != nil {
		return nil, err
	}

	opset, mlOpset := int64(0), int64(0)
	var others []*pb.OperatorSetIdProto
	for _, o := range model.GetOpsetImport() {
		switch o.GetDomain() {
		case "", "ai.onnx":
			opset = o.GetVersion()
		case domainML:
			mlOpset = o.GetVersion()
		default:
			others = append(others, o)
		}
	}
	if opset < MinOpsetONNX {
		return nil, fmt.Errorf("bundle: the model uses ai.onnx opset %d, the transform needs %d or later; export the model again with opset_version=%d or later (torch.onnx.export, tf2onnx --opset)",
			opset, MinOpsetONNX, MinOpsetONNX)
	}
	mlOpset = max(mlOpset, 2)
	res.Opset, res.IRVersion = opset, max(model.GetIrVersion(), IRVersion)

	prep := ex.Model.GetGraph()
	prepNames := graphNames(prep)
	// The transform's features output becomes the model's input.
	for _, n := range prep.GetNode() {
		for i, o := range n.GetOutput() {
			if o == FeaturesOutput {
				n.Output[i] = featuresTensor
			}
		}
	}
	keep := map[string]bool{}
	for _, o := range mg.GetOutput() {
		keep[o.GetName()] = true
		if prepNames[o.GetName()] || o.GetName() == featuresTensor {
			return nil, fmt.Errorf("bundle: model output %q has the name of an input or output of the transform; rename the model's output", o.GetName())
		}
	}
	rename := func(n string) string {
		switch {
		case n == "" || keep[n]:
			return n
		case n == input.GetName():
			return featuresTensor
		}
		return modelPrefix + n
	}
	g := proto.Clone(mg).(*pb.GraphProto)
	renameGraph(g, rename, func(n string) string { return modelPrefix + n })
	for n := range graphNames(g) {
		if prepNames[n] && !keep[n] {
			return nil, fmt.Errorf("bundle: name %q is used by both the transform and the model", n)
		}
	}
	var inputs []*pb.ValueInfoProto
	for _, in := range g.GetInput() {
		if in.GetName() != featuresTensor {
			inputs = append(inputs, in) // initializers listed as inputs (IR < 4)
		}
	}
	out := &pb.GraphProto{
		Name:              proto.String("normguard_bundle"),
		Node:              append(append([]*pb.NodeProto{}, prep.GetNode()...), g.GetNode()...),
		Initializer:       append(append([]*pb.TensorProto{}, prep.GetInitializer()...), g.GetInitializer()...),
		SparseInitializer: g.GetSparseInitializer(),
		Input:             append(append([]*pb.ValueInfoProto{}, prep.GetInput()...), inputs...),
		Output:            g.GetOutput(),
		ValueInfo:         g.GetValueInfo(),
		DocString:         proto.String(prep.GetDocString() + "; then " + mg.GetName()),
	}
	for _, o := range prep.GetOutput() {
		if o.GetName() == UnknownOutput {
			out.Output = append(out.Output, o)
		}
	}
	out.ValueInfo = append(out.ValueInfo, tensorInfoLike(featuresTensor, tt))
	imports := []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}, {Domain: proto.String(domainML), Version: proto.Int64(mlOpset)}}
	meta := append([]*pb.StringStringEntryProto{}, ex.Model.GetMetadataProps()...)
	meta = append(meta, entry("normguard.bundled_model", strings.TrimSpace(model.GetProducerName()+" "+model.GetProducerVersion()+" "+mg.GetName())))
	for _, m := range model.GetMetadataProps() {
		if !strings.HasPrefix(m.GetKey(), "normguard.") {
			meta = append(meta, m)
		}
	}
	res.Model = &pb.ModelProto{
		IrVersion:       proto.Int64(res.IRVersion),
		OpsetImport:     append(imports, others...),
		ProducerName:    proto.String("normguard"),
		ProducerVersion: proto.String(producer),
		Domain:          model.Domain,
		ModelVersion:    model.ModelVersion,
		DocString:       proto.String(ex.Model.GetDocString() + ", bundled with " + strings.TrimSpace(model.GetProducerName()+" model "+mg.GetName())),
		Graph:           out,
		MetadataProps:   meta,
		Functions:       model.GetFunctions(),
	}
	return res, nil
}

// matchShape checks the model input's shape against the feature count.
func matchShape(input *pb.ValueInfoProto, tt *pb.TypeProto_Tensor, width int, res *Bundled) error {
	dims := tt.GetShape().GetDim()
	if tt.GetShape() == nil {
		res.Notes = append(res.Notes, fmt.Sprintf("model input %q declares no shape: its width could not be checked against the %d features", input.GetName(), width))
		return nil
	}
	if len(dims) != 2 {
		return fmt.Errorf("bundle: %w: model input %q has rank %d, the features are [batch, %d]; export the model with a 2-d input",
			ErrMismatch, input.GetName(), len(dims), width)
	}
	if w, ok := dims[1].GetValue().(*pb.TensorShapeProto_Dimension_DimValue); ok {
		if w.DimValue != int64(width) {
			return fmt.Errorf("bundle: %w: model input %q takes %d features, the artifact produces %d; fit the model on this artifact's features or bundle the artifact it was trained with",
				ErrMismatch, input.GetName(), w.DimValue, width)
		}
	} else {
		res.Notes = append(res.Notes, fmt.Sprintf("model input %q has a symbolic width: it could not be checked against the %d features", input.GetName(), width))
	}
	if n, ok := dims[0].GetValue().(*pb.TensorShapeProto_Dimension_DimValue); ok {
		res.Notes = append(res.Notes, fmt.Sprintf("model input %q has a fixed batch size %d: the bundle takes exactly %d rows", input.GetName(), n.DimValue, n.DimValue))
	}
	return nil
}

// matchNames checks the feature names a model declares, if any.
func matchNames(model *pb.ModelProto, features []string) error {
	for _, m := range model.GetMetadataProps() {
		if m.GetKey() != MetaFeatureNames && m.GetKey() != MetaFeatures {
			continue
		}
		var names []string
		if err := json.Unmarshal([]byte(m.GetValue()), &names); err != nil {
			return fmt.Errorf("bundle: model metadata %q is not a JSON list of names: %v", m.GetKey(), err)
		}
		if len(names) != len(features) {
			return fmt.Errorf("bundle: %w: the model declares %d feature names (metadata %q), the artifact produces %d features",
				ErrMismatch, len(names), m.GetKey(), len(features))
		}
		for i := range names {
			if names[i] != features[i] {
				msg := fmt.Sprintf("feature %d is %q for the model, %q in the artifact", i+1, names[i], features[i])
				for j := range features {
					if features[j] == names[i] {
						msg += fmt.Sprintf(" (the artifact has %q at %d: the order differs)", names[i], j+1)
					}
				}
				return fmt.Errorf("bundle: %w: %s; bundle the artifact the model was trained with", ErrMismatch, msg)
			}
		}
	}
	return nil
}

// tensorInfoLike describes a tensor of the model input's type.
func tensorInfoLike(name string, tt *pb.TypeProto_Tensor) *pb.ValueInfoProto {
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: proto.Clone(tt).(*pb.TypeProto_Tensor)}}}
}

// graphNames returns every tensor name a graph (with its subgraphs)
// defines or reads.
func graphNames(g *pb.GraphProto) map[string]bool {
	names := map[string]bool{}
	renameGraph(proto.Clone(g).(*pb.GraphProto), func(n string) string {
		if n != "" {
			names[n] = true
		}
		return n
	}, func(n string) string { return n })
	return names
}

// renameGraph applies f to every tensor name and node to every node name
// of g and of the subgraphs in its nodes' attributes.
func renameGraph(g *pb.GraphProto, f, node func(string) string) {
	vi := func(vs []*pb.ValueInfoProto) {
		for _, v := range vs {
			v.Name = proto.String(f(v.GetName()))
		}
	}
	vi(g.Input)
	vi(g.Output)
	vi(g.ValueInfo)
	for _, t := range g.Initializer {
		t.Name = proto.String(f(t.GetName()))
	}
	for _, s := range g.SparseInitializer {
		if s.Values != nil {
			s.Values.Name = proto.String(f(s.Values.GetName()))
		}
	}
	for _, a := range g.QuantizationAnnotation {
		a.TensorName = proto.String(f(a.GetTensorName()))
	}
	for _, n := range g.Node {
		for i := range n.Input {
			n.Input[i] = f(n.Input[i])
		}
		for i := range n.Output {
			n.Output[i] = f(n.Output[i])
		}
		if n.Name != nil {
			n.Name = proto.String(node(n.GetName()))
		}
		for _, at := range n.Attribute {
			if at.G != nil {
				renameGraph(at.G, f, node)
			}
			for _, sg := range at.Graphs {
				renameGraph(sg, f, node)
			}
		}
	}
}
