#!/usr/bin/env bash
# Benchmarks normguard-beam on Prism against the local `normguard fit` on
# the same rows (default 1,000,000 rows of 20 columns, every step kind,
# 16 CSV shards), and checks that both artifacts are byte-identical.
#   beam/bench.sh [ROWS] [SHARDS]
set -euo pipefail
cd "$(dirname "$0")"
rows=${1:-1000000}
shards=${2:-16}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd .. && go build -o "$work/normguard" ./cmd/normguard)
go build -o "$work/normguard-beam" ./cmd/normguard-beam
go test -count=1 -run '^TestGenerate$' ./beamfit -args -gen-dir "$work/data" -gen-rows "$rows" -gen-shards "$shards" >/dev/null
echo "data: $rows rows, $shards shards, $(du -sh "$work/data/all.csv" | cut -f1) of CSV; $(nproc) cores"

measure() { # name, command...
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
  read -r secs kb <"$work/time"
  printf '%-34s %7.1f s  %6d MB max RSS\n' "$name" "$secs" $((kb / 1024))
}
measure "normguard fit (local)" "$work/normguard" fit --spec "$work/data/spec.yaml" --data "$work/data/all.csv" --out "$work/local.json"
measure "normguard-beam fit --runner prism" "$work/normguard-beam" fit --spec "$work/data/spec.yaml" --data "$work/data/shards/*.csv" --out "$work/beam.json" --runner prism
cmp "$work/local.json" "$work/beam.json"
echo "artifacts byte-identical: $(grep -m1 '"digest"' "$work/local.json" | tr -d ' ,')"
