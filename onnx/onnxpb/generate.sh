#!/bin/sh
# Regenerates onnx-ml.pb.go from onnx-ml.proto (ONNX's published interface definition).
# Needs protoc (Debian: apt-get install protobuf-compiler) and protoc-gen-go at the
# version of google.golang.org/protobuf in go.mod:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.8
set -e
cd "$(dirname "$0")"
PATH="$(go env GOPATH)/bin:$PATH" protoc --proto_path=. \
	--go_out=. --go_opt=paths=source_relative \
	--go_opt=Monnx-ml.proto=github.com/normguard/normguard/onnx/onnxpb \
	onnx-ml.proto
