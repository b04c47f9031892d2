#!/usr/bin/env bash
# Benchmarks normguard-beam on Prism against the local commands on the
# same rows (default 1,000,000 rows of 20 columns, every step kind, 16 CSV
# shards): fit (artifacts byte-identical), transform (the shards
# concatenated equal the local output), validate and drift (same JSON).
# Then validate and drift of a vector column (GloVe vectors with noise,
# default 200,000 rows of 100 dimensions in 16 JSON Lines shards): the
# same anomaly codes, MMD² and p-value as the local command.
#   beam/bench.sh [ROWS] [SHARDS]
#   beam/bench.sh vectors [ROWS] [SHARDS]     # the vector part only
set -euo pipefail
cd "$(dirname "$0")"
only_vectors=
if [ "${1:-}" = vectors ]; then
  only_vectors=1
  shift
fi
rows=${1:-1000000}
shards=${2:-16}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd .. && go build -o "$work/normguard" ./cmd/normguard)
go build -o "$work/normguard-beam" ./cmd/normguard-beam
measure() { # name, command...
  local name=$1
  shift
  local status=0
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/log" || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then cat "$work/log" >&2; exit 1; fi # 1: found
  read -r secs kb < <(tail -n 1 "$work/time") # time prints "Command exited with non-zero status 1" first
  printf '%-34s %7.1f s  %6d MB max RSS\n' "$name" "$secs" $((kb / 1024))
}

vectors() { # rows, shards
  local v="$work/vec"
  go test -count=1 -run '^TestGenerateVectors$' ./beamcheck -args -gen-vec-dir "$v" -gen-vec-rows "$1" -gen-vec-shards "$2" >/dev/null
  echo "vectors: $1 rows x 100 dimensions, $2 shards, $(du -sh "$v/all.jsonl" | cut -f1) of JSON Lines"
  "$work/normguard" fit --spec "$v/spec.yaml" --data "$v/train.jsonl" --out "$v/a.json" -q
  measure "normguard validate vectors (local)" "$work/normguard" validate --artifact "$v/a.json" --data "$v/all.jsonl" --format json
  grep -o '"code": *"[a-z_]*"' "$work/stdout" >"$v/codes-local"
  measure "normguard-beam validate vectors" "$work/normguard-beam" validate --artifact "$v/a.json" --data "$v/shards/*.jsonl" --format json --runner prism
  grep -o '"code": *"[a-z_]*"' "$work/stdout" | cmp - "$v/codes-local"
  echo "vector anomalies: the same codes ($(tr '\n' ' ' <"$v/codes-local"))"
  measure "normguard drift vectors (local)" "$work/normguard" drift --artifact "$v/a.json" --current "$v/all.jsonl" --format json
  grep -E -o '"mmd(2|_p_value)": *[^,]*' "$work/stdout" >"$v/mmd-local"
  measure "normguard-beam drift vectors" "$work/normguard-beam" drift --artifact "$v/a.json" --current "$v/shards/*.jsonl" --format json --runner prism
  grep -E -o '"mmd(2|_p_value)": *[^,]*' "$work/stdout" | cmp - "$v/mmd-local"
  echo "vector drift: the same MMD² and p-value ($(tr "\n" " " <"$v/mmd-local"))"
}
if [ -n "$only_vectors" ]; then
  vectors "${1:-200000}" "$shards"
  exit 0
fi

go test -count=1 -run '^TestGenerate$' ./beamfit -args -gen-dir "$work/data" -gen-rows "$rows" -gen-shards "$shards" >/dev/null
echo "data: $rows rows, $shards shards, $(du -sh "$work/data/all.csv" | cut -f1) of CSV; $(nproc) cores"

measure "normguard fit (local)" "$work/normguard" fit --spec "$work/data/spec.yaml" --data "$work/data/all.csv" --out "$work/local.json"
measure "normguard-beam fit --runner prism" "$work/normguard-beam" fit --spec "$work/data/spec.yaml" --data "$work/data/shards/*.csv" --out "$work/beam.json" --runner prism
cmp "$work/local.json" "$work/beam.json"
echo "artifacts byte-identical: $(grep -m1 '"digest"' "$work/local.json" | tr -d ' ,')"

# transform: the one CSV cut into byte ranges, and the 16 shards.
mkdir -p "$work/t1" "$work/t2"
measure "normguard transform (local)" "$work/normguard" transform --artifact "$work/local.json" --in "$work/data/all.csv" --out "$work/local.csv"
measure "normguard-beam transform (ranges)" "$work/normguard-beam" transform --artifact "$work/local.json" --in "$work/data/all.csv" --out "$work/t1/part.csv" --split-bytes 16000000 --runner prism
cat "$work"/t1/part-*.csv | cmp - "$work/local.csv"
measure "normguard-beam transform (shards)" "$work/normguard-beam" transform --artifact "$work/local.json" --in "$work/data/shards/*.csv" --out "$work/t2/part.csv" --split-bytes 0 --runner prism
cat "$work"/t2/part-*.csv | cmp - "$work/local.csv"
echo "transform shards concatenated: byte-identical to the local output ($(ls "$work"/t1 | wc -l) and $(ls "$work"/t2 | wc -l) shards)"

# validate and drift of the shards against the artifact (report as JSON).
for cmd in validate drift; do
  flag=--data
  [ "$cmd" = drift ] && flag=--current
  measure "normguard $cmd (local)" "$work/normguard" "$cmd" --artifact "$work/local.json" "$flag" "$work/data/all.csv" --format json
  cp "$work/stdout" "$work/$cmd-local.json"
  measure "normguard-beam $cmd (shards)" "$work/normguard-beam" "$cmd" --artifact "$work/local.json" "$flag" "$work/data/shards/*.csv" --format json --runner prism
  cmp "$work/stdout" "$work/$cmd-local.json"
done
echo "validate and drift reports: identical JSON"
vectors 200000 "$shards"
