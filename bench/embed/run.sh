#!/usr/bin/env bash
# Embedding benchmark: times the embed package (check, MMD, drift, fit) on
# synthetic 768-d unit vectors and, with --numpy, the same MMD test in
# numpy on the same samples (see README.md). Prints a markdown table of
# medians.
#
# usage: bench/embed/run.sh [--reps R] [--numpy]
#   --reps R   timings of each operation (default 3)
#   --numpy    also time mmd_numpy.py (needs /usr/bin/python3 with numpy; ~700 MB)
# environment: BENCHDATA (default /tmp/normguard-bench-embed) holds the samples.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${BENCHDATA:-/tmp/normguard-bench-embed}
REPS=3
NUMPY=0
PY=/usr/bin/python3

while [ $# -gt 0 ]; do
	case $1 in
	--reps) REPS=$2; shift 2 ;;
	--numpy) NUMPY=1; shift ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

mkdir -p "$DATA"
echo "# building bench/embed" >&2
(cd "$REPO" && go build -o "$DATA/normguard-embed-bench" ./bench/embed)
OUT="$DATA/timings.jsonl"
echo "# timing normguard ($REPS reps)" >&2
"$DATA/normguard-embed-bench" "$DATA" "$REPS" >"$OUT"
if [ "$NUMPY" = 1 ]; then
	echo "# timing numpy ($REPS reps)" >&2
	"$PY" "$HERE/mmd_numpy.py" "$DATA" "$REPS" >>"$OUT"
fi

"$PY" - "$OUT" "$REPS" <<'PYEOF'
import json, os, platform, statistics, sys

recs = [json.loads(l) for l in open(sys.argv[1])]
times, cpus, last, info = {}, {}, {}, {}
for r in recs:
    if "ms" in r:
        times.setdefault((r["tool"], r["op"]), []).append(r["ms"])
        if "cpu_ms" in r:
            cpus.setdefault((r["tool"], r["op"]), []).append(r["cpu_ms"])
        last[(r["tool"], r["op"])] = r
    else:
        info[(r["tool"], r["op"])] = r
cpu = platform.processor()
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except (OSError, StopIteration):
    pass
v = info[("normguard", "version")]
print(f"Machine: {cpu}, {os.cpu_count()} CPUs; {v['version']} (GOMAXPROCS {v['gomaxprocs']}); "
      f"medians of {sys.argv[2]} timings; load average at the end {os.getloadavg()[0]:.1f}.")
print()
print("| workload | tool | wall (ms) | CPU, all threads (ms) | result |")
print("|---|---|---:|---:|---|")
labels = {
    "check_100k_768": "Check 100,000 x 768 against a contract (batches of 10,000)",
    "mmd2_only_2000_768": "MMD² with median heuristic, 2 x 2,000 x 768 (no permutations)",
    "drift_2000_768": "Drift 2 x 2,000 x 768: MMD² + 200 permutations + dimension share + domain AUC",
    "mmd_perm200_2000_768": "MMD² + 200 permutations, 2 x 2,000 x 768",
    "mmd2_only_2000_100": "MMD² with median heuristic, 2 x 2,000 x 100 (no permutations)",
    "drift_2000_100": "Drift 2 x 2,000 x 100: MMD² + 200 permutations + dimension share + domain AUC",
    "fit_20k_768": "Fit a contract on 20,000 x 768",
}
def result(r):
    parts = [f"{k} {r[k]:.6g}" for k in ("mmd2", "p_value", "auc", "h") if k in r]
    if "findings" in r:
        parts.append(f"{r['findings']} findings")
    return ", ".join(parts)
for (tool, op), ts in sorted(times.items(), key=lambda kv: (list(labels).index(kv[0][1]) if kv[0][1] in labels else 99, kv[0][0])):
    cpu = f"{statistics.median(cpus[(tool, op)]):.0f}" if (tool, op) in cpus else ""
    print(f"| {labels.get(op, op)} | {tool} | {statistics.median(ts):.0f} | {cpu} | {result(last[(tool, op)])} |")
for op in ("max_rss_after_check", "max_rss_end"):
    if ("normguard", op) in info:
        print(f"\n{op.replace('_', ' ')}: {info[('normguard', op)]['mb']:.0f} MB", end="")
print()
PYEOF
