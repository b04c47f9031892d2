// Package modelcheck judges the normalization layers inside a trained
// model's graph: BatchNorm exported in training mode or with its running
// statistics as outputs, running statistics never trained (every mean 0,
// every variance 1), variances that are negative, NaN or far below
// epsilon, an epsilon that is another framework's default, statistics
// computed over the batch inside the graph, and the LayerNorm,
// InstanceNorm and GroupNorm layers. Given the artifact whose outputs the
// model is fed, it also checks the model's input width and names and
// whether the first normalization layer's running statistics fit the
// artifact's features (trained_on_unscaled, normalization_mismatch) —
// directly on the inputs, or through the weights of a first Linear — and
// whether stored constants scale the inputs a second time or undo the
// scaler.
//
// The checks read a Graph of plain values; package onnxgraph builds one
// from an ONNX file. Features are followed from the model's inputs through
// the graph, so the checks do not assume where a layer sits.
package modelcheck
