#!/usr/bin/env bash
# Drift benchmark: normguard's drift statistics against scipy's on the
# same data (see README.md). Generates the samples with numpy once, then
# runs the Go and Python timers in alternating order for several rounds
# and prints a markdown table of medians and ratios.
#
# usage: bench/drift/run.sh [--rounds N] [--reps R]
#   --rounds N  rounds, contenders alternating (default 5, or $ROUNDS)
#   --reps R    timings of each operation per process and round (default 3)
# environment: BENCHDATA (default /tmp/normguard-bench-drift) holds the data.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${BENCHDATA:-/tmp/normguard-bench-drift}
ROUNDS=${ROUNDS:-5}
REPS=3
PY=/usr/bin/python3

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

log() { echo "# $*" >&2; }

mkdir -p "$DATA"
if [ ! -s "$DATA/cur20.f64" ]; then
	log "generating samples in $DATA"
	"$PY" "$HERE/scipy_drift.py" gen "$DATA"
fi
log "building bench/drift"
(cd "$REPO" && go build -o "$DATA/normguard-drift-bench" ./bench/drift)

OUT="$DATA/timings.jsonl"
: >"$OUT"
for r in $(seq 1 "$ROUNDS"); do
	log "round $r of $ROUNDS"
	if [ $((r % 2)) = 1 ]; then
		"$DATA/normguard-drift-bench" "$DATA" "$REPS" >>"$OUT"
		"$PY" "$HERE/scipy_drift.py" time "$DATA" "$REPS" >>"$OUT"
	else
		"$PY" "$HERE/scipy_drift.py" time "$DATA" "$REPS" >>"$OUT"
		"$DATA/normguard-drift-bench" "$DATA" "$REPS" >>"$OUT"
	fi
done

"$PY" - "$OUT" "$ROUNDS" "$REPS" <<'PYEOF'
import json, os, platform, statistics, subprocess, sys

path, rounds, reps = sys.argv[1], sys.argv[2], sys.argv[3]
recs = [json.loads(l) for l in open(path)]
times, last, versions = {}, {}, {}
for r in recs:
    if r["op"] == "version":
        versions[r["tool"]] = r
        continue
    times.setdefault((r["tool"], r["op"]), []).append(r["ms"])
    last[(r["tool"], r["op"])] = r

def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

print(f"Machine: {cpu()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
      f"{versions['normguard']['version']} (GOMAXPROCS {versions['normguard']['gomaxprocs']}), "
      f"Python {platform.python_version()}, scipy {versions['scipy']['version']}, numpy {versions['scipy']['numpy']}.")
print(f"Medians of {rounds} rounds x {reps} timings, contenders alternating; in-process timing of the call only.")
print()
rows = [
    ("ks_drift", "KS 1M vs 1M, N(0,1) vs N(0.05, 1.1²)", "ks_2samp"),
    ("ks_same", "KS 1M vs 1M, both N(0,1)", "ks_2samp"),
    ("wasserstein", "Wasserstein 1M vs 1M, N(0,1) vs N(0.05, 1.1²)", "wasserstein_distance"),
    ("auto20", "20 features x 1M rows vs 20 x 1M (drift.Compare, auto)", "ks_2samp + wasserstein_distance/std per feature"),
]
print("| workload | normguard (ms) | scipy (ms) | scipy call | speed-up | normguard result | scipy result |")
print("|---|---:|---:|---|---:|---|---|")
def result(r):
    if "drifting" in r:
        return f"{r['drifting']} of 20 drifting"
    s = f"{r['statistic']:.6g}"
    if "p_value" in r:
        s += f", p = {r['p_value']:.6g}"
    return s
for op, label, call in rows:
    g, s = statistics.median(times[("normguard", op)]), statistics.median(times[("scipy", op)])
    print(f"| {label} | {g:.1f} | {s:.1f} | {call} | {s / g:.1f}x | {result(last[('normguard', op)])} | {result(last[('scipy', op)])} |")
PYEOF
