package onnxgraph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/normguard/normguard/modelcheck"
	pb "github.com/normguard/normguard/onnx/onnxpb"
)

// The model is decoded straight from the protobuf wire format into the
// plain graph values, field numbers as onnx-ml.proto gives them. Decoding
// into the generated message types first costs some 100 bytes per message
// however small its encoding: a 38 MB file of 30,000 inputs with 150 axes
// each took 1.2 GB. Read this way, memory is the file, the graph values
// (at most a few times the bytes they are read from) and the float64
// copies of the stored tensors, which a budget keeps within twice the
// file (see valueBudget).

// MaxElements bounds the graph elements a model may have: nodes, graph
// inputs, outputs and initializers, node attributes, the tensor names
// nodes read and write, and metadata entries. Each costs up to a few
// hundred bytes in memory, in the graph and in the checks' tables,
// however few bytes encode it (an empty node is 2), so a bound on the
// count, not only on the file size, keeps memory bounded. A large
// exported transformer has a few hundred thousand.
const MaxElements = 1_000_000

// MaxRank is the most axes a graph input's or output's shape is read
// with (numpy's own limit); a longer shape is read as of unknown rank.
const MaxRank = 64

// ErrTooLarge marks a model with more elements than MaxElements.
var ErrTooLarge = errors.New("too many graph elements")

// minValueBudget is the number of tensor values read whatever the file
// size (8 MB of float64).
const minValueBudget = 1 << 20

// Field numbers of onnx-ml.proto.
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14

	opsetDomain  = 1
	opsetVersion = 2

	entryKey   = 1
	entryValue = 2

	graphNode        = 1
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDomain    = 7

	attrName   = 1
	attrF      = 2
	attrI      = 3
	attrS      = 4
	attrT      = 5
	attrFloats = 7
	attrInts   = 8

	tensorDims         = 1
	tensorDataType     = 2
	tensorFloatData    = 4
	tensorInt32Data    = 5
	tensorInt64Data    = 7
	tensorName         = 8
	tensorRawData      = 9
	tensorDoubleData   = 10
	tensorDataLocation = 14

	valueName = 1
	valueType = 2

	typeTensor = 1

	tensorTypeElem  = 1
	tensorTypeShape = 2

	shapeDim = 1

	dimValue = 1
	dimParam = 2
)

// decoder holds the state of one Decode.
type decoder struct {
	g *modelcheck.Graph
	// elements counts what MaxElements bounds.
	elements int
	// values is the number of tensor values still to be converted to
	// float64: a quarter of the file plus minValueBudget, so the copies
	// take at most twice the file plus 8 MB. A tensor stored in 4 bytes or
	// more per value always fits; narrower encodings (float16, 8-bit
	// integers, small varints) past the budget are left unread (Values
	// nil), as external data is.
	values int64
	// initNames are the initializers' names, to tell them from runtime
	// inputs (IR < 4 lists them as inputs too).
	initNames map[string]bool
	inputs    []modelcheck.Value
	// interned holds op types, domains and axis names, few and repeated.
	interned map[string]string
	opsets   int
	hasGraph bool
}

// errWire is returned for bytes that are not protobuf.
var errWire = errors.New("cannot parse invalid wire-format data")

func decodeModel(b []byte) (*modelcheck.Graph, error) {
	d := &decoder{
		g: &modelcheck.Graph{
			Constants: map[string]modelcheck.Tensor{},
			Metadata:  map[string]string{},
		},
		values:    int64(len(b))/4 + minValueBudget,
		initNames: map[string]bool{},
		interned:  map[string]string{},
	}
	if err := d.model(b); err != nil {
		return nil, err
	}
	return d.g, nil
}

// fields calls f for each field of message b; f returns the bytes it
// consumed of the value, or -1 to have the field skipped.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte) (int, error)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errWire
		}
		b = b[n:]
		m, err := f(num, typ, b)
		if err != nil {
			return err
		}
		if m < 0 {
			m = protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return errWire
			}
		}
		b = b[m:]
	}
	return nil
}

// bytesField consumes a length-delimited value.
func bytesField(v []byte) ([]byte, int, error) {
	s, n := protowire.ConsumeBytes(v)
	if n < 0 {
		return nil, 0, errWire
	}
	return s, n, nil
}

func varintField(v []byte) (uint64, int, error) {
	x, n := protowire.ConsumeVarint(v)
	if n < 0 {
		return 0, 0, errWire
	}
	return x, n, nil
}

func (d *decoder) count(n int) error {
	d.elements += n
	if d.elements > MaxElements {
		return fmt.Errorf("%w: the model has more than %d nodes, inputs, outputs, initializers, attributes and tensor names of node inputs and outputs together, the most normguard reads; check a model exported without unrolled loops or one input per feature", ErrTooLarge, MaxElements)
	}
	return nil
}

// numbers takes n attribute numbers or tensor dimensions from the values
// budget: each is 8 bytes in memory and may be 1 in the file.
func (d *decoder) numbers(n int) error {
	if int64(n) > d.values {
		return fmt.Errorf("%w: the model's attribute lists and tensor dimensions hold more numbers than a quarter of the file size plus %d, the most normguard reads", ErrTooLarge, minValueBudget)
	}
	d.values -= int64(n)
	return nil
}

func (d *decoder) intern(b []byte) string {
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.interned) < 1<<16 {
		d.interned[s] = s
	}
	return s
}

func (d *decoder) model(b []byte) error {
	g := d.g
	var ir int64
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		switch {
		case num == modelIRVersion && typ == protowire.VarintType:
			x, n, err := varintField(v)
			ir = int64(x)
			return n, err
		case (num == modelProducerName || num == modelProducerVersion) && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			if num == modelProducerName {
				g.Producer = string(s)
			} else {
				g.ProducerVersion = string(s)
			}
			return n, err
		case num == modelGraph && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			if err != nil {
				return 0, err
			}
			d.hasGraph = true
			return n, d.graph(s)
		case num == modelOpsetImport && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			if err != nil {
				return 0, err
			}
			d.opsets++
			return n, d.opset(s)
		case num == modelMetadataProps && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			if err != nil {
				return 0, err
			}
			if err := d.count(1); err != nil {
				return 0, err
			}
			var key, val string
			err = fields(s, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
				if (num == entryKey || num == entryValue) && typ == protowire.BytesType {
					s, n, err := bytesField(v)
					if num == entryKey {
						key = string(s)
					} else {
						val = string(s)
					}
					return n, err
				}
				return -1, nil
			})
			g.Metadata[key] = val
			return n, err
		}
		return -1, nil
	})
	if err != nil {
		return err
	}
	g.IRVersion = ir
	if !d.hasGraph || ir <= 0 || d.opsets == 0 {
		return errNoGraph
	}
	inputs := d.inputs[:0] // filtered in place
	for _, in := range d.inputs {
		if !d.initNames[in.Name] {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) > 0 {
		g.Inputs = inputs
	}
	for i := range g.Nodes {
		node := &g.Nodes[i]
		if node.Op == "Constant" && (node.Domain == "" || node.Domain == "ai.onnx") && len(node.Outputs) == 1 {
			if c, ok := constantValue(node.Attrs); ok {
				g.Constants[node.Outputs[0]] = c
			}
		}
	}
	return nil
}

var errNoGraph = errors.New("no graph, IR version or operator set in the file")

func (d *decoder) opset(b []byte) error {
	var domain []byte
	var version int64
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		switch {
		case num == opsetDomain && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			domain = s
			return n, err
		case num == opsetVersion && typ == protowire.VarintType:
			x, n, err := varintField(v)
			version = int64(x)
			return n, err
		}
		return -1, nil
	})
	if err != nil {
		return err
	}
	if ds := string(domain); ds == "" || ds == "ai.onnx" {
		d.g.Opset = version
	}
	return nil
}

func (d *decoder) graph(b []byte) error {
	g := d.g
	// count the elements first, to refuse too many before reading them
	// and to allocate the lists once
	var nodes, inputs, outputs, inits int
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		if typ == protowire.BytesType {
			switch num {
			case graphNode:
				nodes++
			case graphInput:
				inputs++
			case graphOutput:
				outputs++
			case graphInitializer:
				inits++
			}
		}
		return -1, nil
	})
	if err != nil {
		return err
	}
	if err := d.count(nodes + inputs + outputs + inits); err != nil {
		return err
	}
	g.Nodes = slices.Grow(g.Nodes, nodes)
	d.inputs = slices.Grow(d.inputs, inputs)
	g.Outputs = slices.Grow(g.Outputs, outputs)
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		if typ != protowire.BytesType {
			return -1, nil
		}
		switch num {
		case graphNode, graphInitializer, graphInput, graphOutput:
		default:
			return -1, nil
		}
		s, n, err := bytesField(v)
		if err != nil {
			return 0, err
		}
		switch num {
		case graphNode:
			node, err := d.node(s)
			if err != nil {
				return 0, err
			}
			g.Nodes = append(g.Nodes, node)
		case graphInitializer:
			name, t, err := d.tensor(s)
			if err != nil {
				return 0, err
			}
			g.Constants[name] = t
			d.initNames[name] = true
		case graphInput, graphOutput:
			val, err := d.value(s)
			if err != nil {
				return 0, err
			}
			if num == graphInput {
				d.inputs = append(d.inputs, val)
			} else {
				g.Outputs = append(g.Outputs, val)
			}
		}
		return n, nil
	})
}

func (d *decoder) node(b []byte) (modelcheck.Node, error) {
	var node modelcheck.Node
	// count the names first, to allocate the lists once
	var nin, nout int
	_ = fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		if typ == protowire.BytesType && num == nodeInput {
			nin++
		} else if typ == protowire.BytesType && num == nodeOutput {
			nout++
		}
		return -1, nil
	})
	if err := d.count(nin + nout); err != nil {
		return node, err
	}
	if nin > 0 {
		node.Inputs = make([]string, 0, nin)
	}
	if nout > 0 {
		node.Outputs = make([]string, 0, nout)
	}
	node.Attrs = map[string]modelcheck.Attr{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		if typ != protowire.BytesType {
			return -1, nil
		}
		switch num {
		case nodeInput, nodeOutput, nodeName, nodeOpType, nodeDomain:
			s, n, err := bytesField(v)
			switch num {
			case nodeInput:
				node.Inputs = append(node.Inputs, string(s))
			case nodeOutput:
				node.Outputs = append(node.Outputs, string(s))
			case nodeName:
				node.Name = string(s)
			case nodeOpType:
				node.Op = d.intern(s)
			case nodeDomain:
				node.Domain = d.intern(s)
			}
			return n, err
		case nodeAttribute:
			s, n, err := bytesField(v)
			if err != nil {
				return 0, err
			}
			if err := d.count(1); err != nil {
				return 0, err
			}
			name, a, err := d.attr(s)
			if err != nil {
				return 0, err
			}
			node.Attrs[name] = a
			return n, nil
		}
		return -1, nil
	})
	return node, err
}

func (d *decoder) attr(b []byte) (string, modelcheck.Attr, error) {
	var name string
	var a modelcheck.Attr
	var f float32
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		switch {
		case num == attrName && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			name = string(s)
			return n, err
		case num == attrF && typ == protowire.Fixed32Type:
			x, n := protowire.ConsumeFixed32(v)
			if n < 0 {
				return 0, errWire
			}
			f = math.Float32frombits(x)
			return n, nil
		case num == attrI && typ == protowire.VarintType:
			x, n, err := varintField(v)
			a.Int = int64(x)
			return n, err
		case num == attrS && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			a.String = string(s)
			return n, err
		case num == attrT && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			if err != nil {
				return 0, err
			}
			_, t, err := d.tensor(s)
			if err != nil {
				return 0, err
			}
			if a.Tensor == nil {
				a.Tensor = &t
			} else {
				// a repeated message field merges; a second value is
				// not something an exporter writes: keep the last
				*a.Tensor = t
			}
			return n, nil
		case num == attrFloats && (typ == protowire.Fixed32Type || typ == protowire.BytesType):
			var seg wireSeg
			n, err := seg.consume(typ, v)
			if err == nil {
				err = seg.fixed(4)
			}
			if err != nil {
				return 0, err
			}
			k := seg.fixedCount(4)
			if err := d.numbers(k); err != nil {
				return 0, err
			}
			for i := 0; i < k; i++ {
				a.Floats = append(a.Floats, decimal(math.Float32frombits(binary.LittleEndian.Uint32(seg.b[4*i:]))))
			}
			return n, nil
		case num == attrInts && (typ == protowire.VarintType || typ == protowire.BytesType):
			var seg wireSeg
			n, err := seg.consume(typ, v)
			if err != nil {
				return 0, err
			}
			if err := d.numbers(seg.varintCount()); err != nil {
				return 0, err
			}
			if err := seg.eachVarint(func(x uint64) { a.Ints = append(a.Ints, int64(x)) }); err != nil {
				return 0, err
			}
			return n, nil
		}
		return -1, nil
	})
	a.Float = decimal(f)
	return name, a, err
}

// wireSeg is the encoded values of one occurrence of a repeated scalar
// field: a packed run, or one unpacked value.
type wireSeg struct {
	b      []byte
	packed bool
}

// consume reads the value of a field of wire type typ from v.
func (s *wireSeg) consume(typ protowire.Type, v []byte) (int, error) {
	if typ == protowire.BytesType {
		b, n, err := bytesField(v)
		s.b, s.packed = b, true
		return n, err
	}
	n := protowire.ConsumeFieldValue(0, typ, v)
	if n < 0 {
		return 0, errWire
	}
	s.b = v[:n]
	return n, nil
}

// fixedCount is the number of size-byte values in s.
func (s *wireSeg) fixedCount(size int) int { return len(s.b) / size }

// fixed checks that a packed run of size-byte values has no partial one.
func (s *wireSeg) fixed(size int) error {
	if len(s.b)%size != 0 {
		return errWire
	}
	return nil
}

// varintCount is the number of varints in s.
func (s *wireSeg) varintCount() int {
	k := 0
	for _, c := range s.b {
		if c < 0x80 {
			k++
		}
	}
	return k
}

func (s *wireSeg) eachVarint(f func(uint64)) error {
	b := s.b
	for len(b) > 0 {
		x, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return errWire
		}
		f(x)
		b = b[n:]
	}
	return nil
}

// tensor decodes a TensorProto and converts its numbers to float64, from
// the typed fields or raw_data (little-endian). Values stays nil for
// external data, types other than float, double, float16 and the
// integers, data whose length does not match the dimensions, and values
// past the decoder's budget.
func (d *decoder) tensor(b []byte) (string, modelcheck.Tensor, error) {
	var name string
	var out modelcheck.Tensor
	var dt int32
	var external bool
	var raw []byte
	var hasRaw bool
	var floats, int32s, int64s, doubles []wireSeg
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		switch {
		case num == tensorDims && (typ == protowire.VarintType || typ == protowire.BytesType):
			var seg wireSeg
			n, err := seg.consume(typ, v)
			if err != nil {
				return 0, err
			}
			k := seg.varintCount()
			if err := d.numbers(k); err != nil {
				return 0, err
			}
			if out.Dims == nil {
				out.Dims = make([]int64, 0, k)
			}
			return n, seg.eachVarint(func(x uint64) { out.Dims = append(out.Dims, int64(x)) })
		case num == tensorDataType && typ == protowire.VarintType:
			x, n, err := varintField(v)
			dt = int32(x)
			return n, err
		case num == tensorDataLocation && typ == protowire.VarintType:
			x, n, err := varintField(v)
			external = int32(x) == int32(pb.TensorProto_EXTERNAL)
			return n, err
		case num == tensorName && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			name = string(s)
			return n, err
		case num == tensorRawData && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			raw, hasRaw = s, true
			return n, err
		case num == tensorFloatData && (typ == protowire.Fixed32Type || typ == protowire.BytesType),
			num == tensorDoubleData && (typ == protowire.Fixed64Type || typ == protowire.BytesType),
			(num == tensorInt32Data || num == tensorInt64Data) && (typ == protowire.VarintType || typ == protowire.BytesType):
			var seg wireSeg
			n, err := seg.consume(typ, v)
			if err == nil && num == tensorFloatData {
				err = seg.fixed(4)
			} else if err == nil && num == tensorDoubleData {
				err = seg.fixed(8)
			} else if err == nil {
				err = seg.eachVarint(func(uint64) {}) // well-formed, as protobuf requires
			}
			if err != nil {
				return 0, err
			}
			switch num {
			case tensorFloatData:
				floats = append(floats, seg)
			case tensorDoubleData:
				doubles = append(doubles, seg)
			case tensorInt32Data:
				int32s = append(int32s, seg)
			default:
				int64s = append(int64s, seg)
			}
			return n, nil
		}
		return -1, nil
	})
	if err != nil {
		return "", out, err
	}
	out.Type = elemType(dt)
	if external {
		return name, out, nil
	}
	n := int64(1)
	for _, x := range out.Dims {
		n *= x
	}
	vals, err := d.convert(pb.TensorProto_DataType(dt), n, raw, hasRaw, floats, doubles, int32s, int64s)
	if err != nil {
		return "", out, err
	}
	out.Values = vals
	return name, out, nil
}

// convert returns the n values of a tensor of type dt as float64, or nil
// when they are not all there, of a type not read, or over the budget.
func (d *decoder) convert(dt pb.TensorProto_DataType, n int64, raw []byte, hasRaw bool, floats, doubles, int32s, int64s []wireSeg) ([]float64, error) {
	size := map[pb.TensorProto_DataType]int{pb.TensorProto_FLOAT: 4, pb.TensorProto_DOUBLE: 8, pb.TensorProto_FLOAT16: 2,
		pb.TensorProto_INT64: 8, pb.TensorProto_INT32: 4, pb.TensorProto_INT16: 2, pb.TensorProto_INT8: 1,
		pb.TensorProto_UINT8: 1, pb.TensorProto_UINT16: 2, pb.TensorProto_BOOL: 1}[dt]
	if size == 0 {
		return nil, nil
	}
	// the number of values present, before anything is allocated
	var count int64
	var segs []wireSeg
	fixed := 0 // bytes per value of a fixed-width typed field, 0 for varints
	if hasRaw {
		count = int64(len(raw) / size)
	} else {
		switch dt {
		case pb.TensorProto_FLOAT:
			segs, fixed = floats, 4
		case pb.TensorProto_DOUBLE:
			segs, fixed = doubles, 8
		case pb.TensorProto_INT64:
			segs = int64s
		default:
			segs = int32s
		}
		for i := range segs {
			if fixed > 0 {
				count += int64(segs[i].fixedCount(fixed))
			} else {
				count += int64(segs[i].varintCount())
			}
		}
	}
	if count != n {
		return nil, nil // truncated or inconsistent data: unknown, not wrong numbers
	}
	if count > d.values {
		return nil, nil // over the budget: unread, as external data
	}
	d.values -= count
	vals := make([]float64, 0, count)
	if hasRaw {
		for i := 0; i+size <= len(raw); i += size {
			var x float64
			switch dt {
			case pb.TensorProto_FLOAT:
				x = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
			case pb.TensorProto_DOUBLE:
				x = math.Float64frombits(binary.LittleEndian.Uint64(raw[i:]))
			case pb.TensorProto_FLOAT16:
				x = half(binary.LittleEndian.Uint16(raw[i:]))
			case pb.TensorProto_INT64:
				x = float64(int64(binary.LittleEndian.Uint64(raw[i:])))
			case pb.TensorProto_INT32:
				x = float64(int32(binary.LittleEndian.Uint32(raw[i:])))
			case pb.TensorProto_INT16:
				x = float64(int16(binary.LittleEndian.Uint16(raw[i:])))
			case pb.TensorProto_UINT16:
				x = float64(binary.LittleEndian.Uint16(raw[i:]))
			case pb.TensorProto_INT8:
				x = float64(int8(raw[i]))
			default:
				x = float64(raw[i])
			}
			vals = append(vals, x)
		}
		return vals, nil
	}
	for i := range segs {
		s := &segs[i]
		switch fixed {
		case 4:
			for k := 0; k+4 <= len(s.b); k += 4 {
				vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(s.b[k:]))))
			}
		case 8:
			for k := 0; k+8 <= len(s.b); k += 8 {
				vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(s.b[k:])))
			}
		default:
			err := s.eachVarint(func(x uint64) {
				switch dt {
				case pb.TensorProto_INT64:
					vals = append(vals, float64(int64(x)))
				case pb.TensorProto_FLOAT16:
					vals = append(vals, half(uint16(int32(x))))
				default:
					vals = append(vals, float64(int32(x)))
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return vals, nil
}

// value decodes a ValueInfoProto: name, element type and shape.
func (d *decoder) value(b []byte) (modelcheck.Value, error) {
	var out modelcheck.Value
	var typeMsgs [][]byte // TypeProto occurrences, merged in order
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		if typ != protowire.BytesType || (num != valueName && num != valueType) {
			return -1, nil
		}
		s, n, err := bytesField(v)
		if num == valueName {
			out.Name = string(s)
		} else {
			typeMsgs = append(typeMsgs, s)
		}
		return n, err
	})
	if err != nil {
		return out, err
	}
	// TypeProto's value is a oneof: the last member set wins; tensor_type
	// occurrences merge.
	var tensorMsgs [][]byte
	for _, tm := range typeMsgs {
		err := fields(tm, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
			switch num {
			case 1, 4, 5, 8, 9: // tensor_type, sequence_type, map_type, sparse_tensor_type, optional_type
			default:
				return -1, nil
			}
			if typ != protowire.BytesType {
				return -1, nil
			}
			s, n, err := bytesField(v)
			if num == typeTensor {
				tensorMsgs = append(tensorMsgs, s)
			} else {
				tensorMsgs = nil
			}
			return n, err
		})
		if err != nil {
			return out, err
		}
	}
	if tensorMsgs == nil {
		out.Type = "non-tensor"
		return out, nil
	}
	var elem int32
	var shapes [][]byte
	for _, tm := range tensorMsgs {
		err := fields(tm, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
			switch {
			case num == tensorTypeElem && typ == protowire.VarintType:
				x, n, err := varintField(v)
				elem = int32(x)
				return n, err
			case num == tensorTypeShape && typ == protowire.BytesType:
				s, n, err := bytesField(v)
				shapes = append(shapes, s)
				return n, err
			}
			return -1, nil
		})
		if err != nil {
			return out, err
		}
	}
	out.Type = elemType(elem)
	if shapes == nil {
		return out, nil
	}
	// count the axes first, to allocate once
	rank := 0
	for _, sh := range shapes {
		err := fields(sh, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
			if num == shapeDim && typ == protowire.BytesType {
				rank++
			}
			return -1, nil
		})
		if err != nil {
			return out, err
		}
	}
	if rank > MaxRank {
		return out, nil // unknown rank
	}
	out.Shape = make([]int64, 0, rank)
	var names []string // up to the last named axis
	for _, sh := range shapes {
		err := fields(sh, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
			if num != shapeDim || typ != protowire.BytesType {
				return -1, nil
			}
			s, n, err := bytesField(v)
			if err != nil {
				return 0, err
			}
			size, name, err := d.dim(s)
			if err != nil {
				return 0, err
			}
			if name != "" {
				for len(names) < len(out.Shape) {
					names = append(names, "")
				}
				names = append(names, name)
			}
			out.Shape = append(out.Shape, size)
			return n, nil
		})
		if err != nil {
			return out, err
		}
	}
	out.DimNames = names
	return out, nil
}

// dim decodes a TensorShapeProto.Dimension: its size, or -1 for a
// symbolic or unknown one, and its symbolic name.
func (d *decoder) dim(b []byte) (int64, string, error) {
	size, name := int64(-1), ""
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		switch {
		case num == dimValue && typ == protowire.VarintType:
			x, n, err := varintField(v)
			size, name = -1, ""
			if int64(x) >= 0 {
				size = int64(x)
			}
			return n, err
		case num == dimParam && typ == protowire.BytesType:
			s, n, err := bytesField(v)
			size, name = -1, d.intern(s)
			return n, err
		}
		return -1, nil
	})
	return size, name, err
}
