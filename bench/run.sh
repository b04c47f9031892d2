#!/usr/bin/env bash
# End-to-end benchmark: normguard vs pandas + scikit-learn on the same
# pipeline (median imputation then standardization of 20 numeric columns,
# two categorical columns passed through), CSV -> CSV, plus normguard
# Parquet -> Parquet when normguard reads Parquet. See bench/README.md.
#
# usage: bench/run.sh [--rounds N] [--rss-2gb]
#   --rounds N   timed rounds, contenders alternating (default 5, or $ROUNDS)
#   --rss-2gb    instead: peak RSS of `normguard transform` on a ~2 GB CSV
# environment: BENCHDATA (default /tmp/normguard-bench) holds data and outputs;
#   NG_BIN runs that normguard binary instead of building the checkout.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
DATA=${BENCHDATA:-/tmp/normguard-bench}
ROUNDS=${ROUNDS:-5}
MODE=compare
PY=/usr/bin/python3
RSS_TARGET_MB=200
ROWS_2GB=12000000

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--rss-2gb) MODE=rss2gb; shift ;;
	-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

log() { echo "# $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
	log "installing $* with apt-get"
	as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

[ -x /usr/bin/time ] || apt_install time
if [ "$MODE" = compare ] && ! "$PY" -c 'import sklearn, pandas' 2>/dev/null; then
	apt_install python3-sklearn python3-pandas
fi

mkdir -p "$DATA/bin" "$DATA/out"
if [ -n "${NG_BIN:-}" ]; then
	# A binary built elsewhere (e.g. from a clean export of one commit,
	# when the checkout holds other work in progress).
	NG=$NG_BIN
	log "using normguard $NG"
else
	NG=$DATA/bin/normguard
	log "building normguard -> $NG"
	(cd "$REPO" && go build -o "$NG" ./cmd/normguard)
fi

if [ ! -f "$DATA/data.csv" ] || [ ! -f "$DATA/spec.yaml" ]; then
	log "generating $DATA/data.csv (1,000,000 rows)"
	(cd "$REPO" && go run ./bench/gendata -out "$DATA" >&2)
fi

# Other processes share this machine (builds, tests). Before each run we
# wait, up to $QUIET_WAIT seconds, until they use less than $QUIET_CORES of
# a core, and each measurement records the CPU they used while it ran.
QUIET_WAIT=${QUIET_WAIT:-120}
QUIET_CORES=${QUIET_CORES:-0.25}
CLK=$(getconf CLK_TCK)
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
wait_quiet() {
	local waited=0 b0 b1
	while :; do
		b0=$(busy_ticks)
		sleep 1
		b1=$(busy_ticks)
		awk -v d=$((b1 - b0)) -v c="$CLK" -v q="$QUIET_CORES" 'BEGIN { exit !(d / c < q) }' && return
		waited=$((waited + 1))
		if [ "$waited" -ge "$QUIET_WAIT" ]; then
			log "machine still busy after ${QUIET_WAIT}s ($(cut -d' ' -f1-3 /proc/loadavg)); measuring anyway"
			return
		fi
	done
}

# measure LABEL CMD...: runs CMD under GNU time and appends
# "LABEL wall_us rss_kb other_cores" to $RESULTS. Wall time is taken with
# date around the process; other_cores is the CPU time other processes used
# during the run divided by its wall time.
measure() {
	local label=$1 t0 t1 b0 b1 rss usr sys
	shift
	wait_quiet
	b0=$(busy_ticks)
	t0=$(date +%s%N)
	if ! /usr/bin/time -f '%M %U %S' -o "$DATA/out/time.txt" "$@" >"$DATA/out/last.log" 2>&1; then
		echo "run.sh: failed: $*" >&2
		cat "$DATA/out/last.log" >&2
		exit 1
	fi
	t1=$(date +%s%N)
	b1=$(busy_ticks)
	read -r rss usr sys < <(tail -n 1 "$DATA/out/time.txt")
	LAST_US=$(((t1 - t0) / 1000))
	LAST_OTHER=$(awk -v d=$((b1 - b0)) -v c="$CLK" -v u="$usr" -v s="$sys" -v w="$LAST_US" \
		'BEGIN { o = (d / c - u - s) / (w / 1e6); printf "%.2f", (o < 0 ? 0 : o) }')
	echo "$label $LAST_US $rss $LAST_OTHER" >>"$RESULTS"
}

# total LABEL US1 OTHER1 US2 OTHER2: records the sum of two measurements.
total() {
	echo "$1 $(($2 + $4)) 0 $(awk -v a="$2" -v oa="$3" -v b="$4" -v ob="$5" 'BEGIN { printf "%.2f", (a * oa + b * ob) / (a + b) }')" >>"$RESULTS"
}

# summary LABEL FIELD: "median min max n" of FIELD (2 = wall s, 3 = RSS MB,
# 4 = other processes' cores).
summary() {
	awk -v l="$1" -v f="$2" '$1 == l { print $f }' "$RESULTS" | sort -g | awk -v f="$2" '
		{ v[NR] = (f == 2) ? $1 / 1e6 : (f == 3) ? $1 / 1024 : $1 }
		END {
			if (NR == 0) { print "- - - 0"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			fmt = (f == 2) ? "%.3f %.3f %.3f %d\n" : (f == 3) ? "%.1f %.1f %.1f %d\n" : "%.2f %.2f %.2f %d\n"
			printf fmt, m, v[1], v[NR], NR
		}'
}

machine_info() {
	local cpu mem pyv
	cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
	mem=$(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
	echo "| fact | value |"
	echo "|---|---|"
	echo "| CPU | $cpu, $(nproc) CPUs (nproc) |"
	echo "| memory | $mem |"
	echo "| kernel | $(uname -sr) |"
	echo "| Go | $(go version | awk '{ print $3 }') |"
	echo "| normguard | $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (+ working tree) |"
	if [ "$MODE" = compare ]; then
		pyv=$("$PY" -c 'import sys, numpy, pandas, sklearn; print(f"{sys.version.split()[0]}; numpy {numpy.__version__}, pandas {pandas.__version__}, scikit-learn {sklearn.__version__}")')
		echo "| Python | $pyv |"
	fi
	echo "| load average before / after | $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) |"
}

mb() { awk -v b="$(stat -c %s "$1" 2>/dev/null || wc -c <"$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$DATA/out/results-$STAMP.txt
: >"$RESULTS"

if [ "$MODE" = rss2gb ]; then
	big=$DATA/2gb
	if [ ! -f "$big/data.csv" ]; then
		log "generating $big/data.csv ($ROWS_2GB rows, ~2 GB)"
		(cd "$REPO" && go run ./bench/gendata -rows "$ROWS_2GB" -out "$big" >&2)
	fi
	log "fitting on $DATA/data.csv"
	measure fit "$NG" fit --spec "$DATA/spec.yaml" --data "$DATA/data.csv" --out "$DATA/out/pipeline.json"
	cat "$big/data.csv" >/dev/null
	log "transforming $big/data.csv"
	measure transform_2gb "$NG" transform --artifact "$DATA/out/pipeline.json" --in "$big/data.csv" --out "$big/out.csv"
	size=$(mb "$big/data.csv")
	rm -f "$big/out.csv"
	read -r wall _ _ _ < <(summary transform_2gb 2)
	read -r rss _ _ _ < <(summary transform_2gb 3)
	read -r other _ _ _ < <(summary transform_2gb 4)
	verdict=PASS
	awk -v r="$rss" -v t="$RSS_TARGET_MB" 'BEGIN { exit !(r < t) }' || verdict=FAIL
	{
		echo "## normguard transform, ${size} MB CSV ($ROWS_2GB rows x 22 columns) -> CSV"
		echo
		echo "| measure | value |"
		echo "|---|---:|"
		echo "| wall time | ${wall} s |"
		echo "| throughput (input) | $(awk -v s="$size" -v w="$wall" 'BEGIN { printf "%.0f", s / w }') MB/s |"
		echo "| peak RSS (GNU time, maximum resident set size) | **${rss} MB** |"
		echo "| target | < ${RSS_TARGET_MB} MB: **$verdict** |"
		echo "| other processes during the run | $other cores |"
		echo
		machine_info
	} | tee "$DATA/out/rss2gb-$STAMP.md"
	exit 0
fi

# Parquet: convert data.csv with normguard itself (identity spec: every
# column, no steps). Skipped with a message when normguard refuses Parquet.
PARQUET=0
log "checking Parquet support"
"$NG" fit --spec "$DATA/spec_identity.yaml" --data "$DATA/data.csv" --out "$DATA/out/identity.json" >/dev/null 2>&1
if "$NG" transform --artifact "$DATA/out/identity.json" --in "$DATA/data.csv" --out "$DATA/data.parquet" \
	>"$DATA/out/parquet.log" 2>&1; then
	PARQUET=1
else
	PARQUET_WHY=$(tail -n 1 "$DATA/out/parquet.log")
	log "Parquet skipped: normguard transform refused .parquet: $PARQUET_WHY"
	rm -f "$DATA/data.parquet"
fi

run_ng() {
	measure ng_fit "$NG" fit --spec "$DATA/spec.yaml" --data "$DATA/data.csv" --out "$DATA/out/pipeline.json"
	local f=$LAST_US fo=$LAST_OTHER
	measure ng_transform "$NG" transform --artifact "$DATA/out/pipeline.json" --in "$DATA/data.csv" --out "$DATA/out/normguard.csv"
	total ng_total "$f" "$fo" "$LAST_US" "$LAST_OTHER"
	# fit_transform in one process, reading the data once (what the
	# scikit-learn script does).
	measure ng_ft "$NG" fit --spec "$DATA/spec.yaml" --data "$DATA/data.csv" --out "$DATA/out/pipeline_ft.json" --transform-out "$DATA/out/normguard_ft.csv"
}
run_sklearn() {
	measure sklearn "$PY" "$HERE/sklearn_pipeline.py" "$DATA/data.csv" "$DATA/out/sklearn.csv"
	SKLEARN_STAGES=$(tail -n 1 "$DATA/out/last.log")
}
run_parquet() {
	measure pq_fit "$NG" fit --spec "$DATA/spec.yaml" --data "$DATA/data.parquet" --out "$DATA/out/pipeline_pq.json"
	local f=$LAST_US fo=$LAST_OTHER
	measure pq_transform "$NG" transform --artifact "$DATA/out/pipeline_pq.json" --in "$DATA/data.parquet" --out "$DATA/out/normguard.parquet"
	total pq_total "$f" "$fo" "$LAST_US" "$LAST_OTHER"
	measure pq_ft "$NG" fit --spec "$DATA/spec.yaml" --data "$DATA/data.parquet" --out "$DATA/out/pipeline_pq_ft.json" --transform-out "$DATA/out/normguard_ft.parquet"
}

contenders=(run_ng run_sklearn)
[ "$PARQUET" = 1 ] && contenders+=(run_parquet)

log "warming the page cache and Python's imports"
cat "$DATA"/data.* >/dev/null
"$PY" -c 'import pandas, sklearn.compose, sklearn.impute, sklearn.preprocessing'

for ((r = 0; r < ROUNDS; r++)); do
	n=${#contenders[@]}
	order=()
	for ((i = 0; i < n; i++)); do order+=("${contenders[(r + i) % n]}"); done
	log "round $((r + 1))/$ROUNDS: ${order[*]}"
	for c in "${order[@]}"; do "$c"; done
done

log "checking that the outputs agree"
AGREE=$("$PY" "$HERE/compare_outputs.py" "$DATA/out/normguard.csv" "$DATA/out/sklearn.csv" || true)
if [ "$PARQUET" = 1 ]; then
	"$NG" transform --artifact "$DATA/out/identity.json" --in "$DATA/out/normguard.parquet" \
		--out "$DATA/out/normguard_parquet.csv" >/dev/null 2>&1 &&
		AGREE_PQ=$("$PY" "$HERE/compare_outputs.py" "$DATA/out/normguard_parquet.csv" "$DATA/out/sklearn.csv" || true) ||
		AGREE_PQ="could not convert normguard.parquet back to CSV"
fi

row() { # LABEL NAME
	local m lo hi n rm om _
	read -r m lo hi n < <(summary "$1" 2)
	read -r rm _ _ _ < <(summary "$1" 3)
	read -r om _ _ _ < <(summary "$1" 4)
	[ "$rm" = "0.0" ] && rm="" || rm="$rm MB"
	echo "| $2 | **$m** | $lo | $hi | $n | $rm | $om |"
}
ratio() { awk -v a="$(summary "$1" 2 | cut -d' ' -f1)" -v b="$(summary "$2" 2 | cut -d' ' -f1)" 'BEGIN { printf "%.1f", a / b }'; }
# target LABEL NAME MIN: a table row with the ratio of scikit-learn's median to
# LABEL's and whether it reaches MIN (issue 15's targets).
target() {
	local r
	r=$(ratio sklearn "$1")
	echo "| $2 | **${r}x** | >= $3x | $(awk -v r="$r" -v t="$3" 'BEGIN { print (r >= t) ? "met" : "NOT met" }') |"
}
# digest FILE: the artifact's digest field.
digest() { sed -n 's/^  "digest": "\(.*\)",*$/\1/p' "$1" | head -n 1; }

log "one more run of each with --timings (busy seconds per stage)"
TIMINGS=$("$NG" fit --timings -q --spec "$DATA/spec.yaml" --data "$DATA/data.csv" --out "$DATA/out/pipeline.json" 2>&1 | sed 's/^/    fit (CSV)        /'
	"$NG" transform --timings -q --artifact "$DATA/out/pipeline.json" --in "$DATA/data.csv" --out "$DATA/out/normguard.csv" 2>&1 | sed 's/^/    transform (CSV)  /'
	"$NG" fit --timings -q --spec "$DATA/spec.yaml" --data "$DATA/data.csv" --out "$DATA/out/pipeline_ft.json" --transform-out "$DATA/out/normguard_ft.csv" 2>&1 | sed 's/^/    fit --transform-out (CSV) /')
if [ "$PARQUET" = 1 ]; then
	TIMINGS="$TIMINGS
$("$NG" fit --timings -q --spec "$DATA/spec.yaml" --data "$DATA/data.parquet" --out "$DATA/out/pipeline_pq.json" 2>&1 | sed 's/^/    fit (Parquet)        /'
	"$NG" transform --timings -q --artifact "$DATA/out/pipeline_pq.json" --in "$DATA/data.parquet" --out "$DATA/out/normguard.parquet" 2>&1 | sed 's/^/    transform (Parquet)  /')"
fi

{
	echo "## normguard vs pandas + scikit-learn: read CSV, median-impute + standardize 20 numeric columns, write CSV"
	echo
	echo "Input: \`data.csv\` $(mb "$DATA/data.csv") MB, $(($(wc -l <"$DATA/data.csv") - 1)) rows x 22 columns. $ROUNDS rounds, contenders alternating; wall time of whole processes (page cache warm)."
	echo
	echo "| contender | median s | min s | max s | n | peak RSS (median) | other procs (cores, median) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	row ng_ft "normguard fit --transform-out (fit_transform), CSV -> CSV"
	row ng_total "normguard fit, then transform, CSV -> CSV"
	row ng_fit "&nbsp;&nbsp;normguard fit"
	row ng_transform "&nbsp;&nbsp;normguard transform"
	row sklearn "pandas + scikit-learn (\`sklearn_pipeline.py\`)"
	if [ "$PARQUET" = 1 ]; then
		row pq_ft "normguard fit --transform-out (fit_transform), Parquet -> Parquet"
		row pq_total "normguard fit, then transform, Parquet -> Parquet"
		row pq_fit "&nbsp;&nbsp;normguard fit (Parquet)"
		row pq_transform "&nbsp;&nbsp;normguard transform (Parquet)"
	fi
	echo
	echo "| ratio (medians) | value |"
	echo "|---|---:|"
	echo "| scikit-learn / normguard CSV, fit_transform in one process | **$(ratio sklearn ng_ft)x** |"
	echo "| scikit-learn / normguard CSV, fit then transform (two processes) | $(ratio sklearn ng_total)x |"
	echo "| scikit-learn / normguard CSV transform only | $(ratio sklearn ng_transform)x |"
	if [ "$PARQUET" = 1 ]; then
		echo "| scikit-learn / normguard Parquet, fit_transform in one process | **$(ratio sklearn pq_ft)x** |"
		echo "| scikit-learn / normguard Parquet, fit then transform | $(ratio sklearn pq_total)x |"
	fi
	echo
	echo "Targets (issue 15), scikit-learn's median over normguard's:"
	echo
	echo "| pipeline | ratio | target | |"
	echo "|---|---:|---:|---|"
	target ng_total "CSV -> CSV, \`fit\` then \`transform\` (two processes)" 10
	target ng_ft "CSV -> CSV, \`fit --transform-out\` (one process)" 12
	if [ "$PARQUET" = 1 ]; then
		target pq_total "Parquet -> Parquet, \`fit\` then \`transform\`" 25
		target pq_ft "Parquet -> Parquet, \`fit --transform-out\`" 25
	fi
	echo
	echo "Artifact digests (compare with another commit's run on the same data.csv): CSV $(digest "$DATA/out/pipeline.json"); fit --transform-out $(digest "$DATA/out/pipeline_ft.json")"
	[ "$PARQUET" = 1 ] && echo "; Parquet $(digest "$DATA/out/pipeline_pq.json")"
	echo
	echo "Stage timings, one run each (\`--timings\`; busy seconds per stage, stages of a transform overlap):"
	echo
	echo '```'
	echo "$TIMINGS"
	echo '```'
	echo
	echo "Same numbers? normguard CSV vs scikit-learn CSV: $AGREE"
	if [ "$PARQUET" = 1 ]; then
		echo
		echo "normguard Parquet output (converted to CSV by normguard) vs scikit-learn CSV: $AGREE_PQ"
	else
		echo
		echo "Parquet: skipped, normguard transform refused .parquet ($PARQUET_WHY)."
	fi
	echo
	echo "scikit-learn stages (last round): ${SKLEARN_STAGES:-}"
	echo
	machine_info
} | tee "$DATA/out/compare-$STAMP.md"
log "raw measurements: $RESULTS"
