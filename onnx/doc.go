// Package onnx writes normguard's fitted transforms as ONNX graphs and
// bundles them in front of ONNX models, so that one model file carries the
// normalization it was trained with and any ONNX runtime applies exactly
// it. It reads and writes the ONNX protobuf format through the types in
// onnxpb, generated from ONNX's published onnx-ml.proto; it is the only
// package that imports protobuf.
package onnx
