#!/usr/bin/env bash
# Builds and tests the Beam module (normguard-beam); .ci/run calls it.
# The tests run the pipelines on Prism, in process (and build the normguard
# CLI as the reference of validate and drift): about two minutes on two
# cores, plus the first download of Beam's modules.
set -euo pipefail
cd "$(dirname "$0")"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
# Beam's loopback workers leave empty folders in TMPDIR: keep them in ours.
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT

echo "== beam: go vet"
go vet ./...

echo "== beam: gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi

echo "== beam: build normguard-beam"
go build -o /dev/null ./cmd/normguard-beam

echo "== beam: tests (Prism, 1/3/17 shards: fit, transform, validate, drift equal the local commands)"
go test -count=1 ./...
