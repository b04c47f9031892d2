#!/usr/bin/env bash
# Load test of `normguard serve` on loopback, as issue 6 asks:
#   1. single-row transform requests at 5,000/s for 60 s (p99, errors);
#   2. batches of 1,000 rows at 400 requests/s = 2M input values/s;
#   3. a soak: 2,000 single-row requests/s for 10 minutes, the server's
#      resident memory sampled every 30 s.
# Usage: bench/load/run.sh [quick|tail|5k]
#   quick: each part for 10 s (the soak 20 s)
#   tail:  only single rows, at 2,000/s then 5,000/s for 60 s each (the
#          target of issue 15: p99 < 2 ms at 5,000/s), about 2.5 minutes
#   5k:    only single rows at $RATE/s (default 5000) for $DURATION
#          (default 60s), about 70 s: several server variants fit in one
#          quiet slot
# Knobs for comparing variants (empty by default):
#   SERVE_ENV="GOMAXPROCS=1 GOGC=200"  environment of the server
#   SERVE_FLAGS="--no-monitor"         flags of normguard serve
#   SERVE_CPUS=1 LOAD_CPUS=0           pin server / generator (taskset -c)
#   LOAD_FLAGS="-dump FILE"            flags of the generator
#   SERVE_LOG=FILE                     keep the server's log (e.g. with
#                                      SERVE_ENV=GODEBUG=gctrace=1)
#   BIN=DIR                            use DIR/normguard and DIR/load as
#                                      built (A/B of two builds), not a build
#                                      of the working tree
# Run it on a quiet machine: the load generator shares the 2 cores (it runs
# with GOMAXPROCS=1 for the single-row parts so that it never takes both).
# Every part prints where the CPU went (server, generator, other processes):
# a run where other processes took a share of the cores measured them too.
# The last lines, "RESULT ...", sum each part up; the single-row parts say
# whether p99 is under 2 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
# The server flushes its monitor on SIGTERM: wait for it before removing
# its folder.
stop_server() {
	local pid
	pid=$(cat "$work/pid" 2>/dev/null) || true
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	[ -n "${SERVE_LOG:-}" ] && cp "$work/serve.log" "$SERVE_LOG"
	rm -rf "$work"
}
trap stop_server EXIT

single=60s batch=30s soak=600s
case "${1:-}" in
quick) single=10s batch=10s soak=20s ;;
tail | 5k | "") ;;
*) echo "usage: $0 [quick|tail|5k]" >&2; exit 2 ;;
esac
serve_pin=() load_pin=()
[ -n "${SERVE_CPUS:-}" ] && serve_pin=(taskset -c "$SERVE_CPUS")
[ -n "${LOAD_CPUS:-}" ] && load_pin=(taskset -c "$LOAD_CPUS")

if [ -n "${BIN:-}" ]; then
	cp "$BIN/normguard" "$BIN/load" "$work/"
else
	go build -o "$work/normguard" ./cmd/normguard
	go build -o "$work/load" ./bench/load
fi
"$work/normguard" quickstart --dir "$work/qs" >/dev/null
export NORMGUARD_TOKEN=load-test
# shellcheck disable=SC2086 # SERVE_ENV and SERVE_FLAGS are word lists
"${serve_pin[@]}" env ${SERVE_ENV:-} "$work/normguard" serve --registry "$work/reg" --addr 127.0.0.1:18181 ${SERVE_FLAGS:-} >"$work/serve.log" 2>&1 &
echo $! >"$work/pid"
echo "## server started $(date -u +%H:%M:%S.%N)"
for _ in $(seq 50); do curl -fsS http://127.0.0.1:18181/healthz >/dev/null 2>&1 && break; sleep 0.1; done
"$work/normguard" push "$work/qs/flights.normguard.json" --registry http://127.0.0.1:18181 >/dev/null
# shellcheck disable=SC2206 # LOAD_FLAGS is a word list
load=("${load_pin[@]}" env GOMAXPROCS=1 "$work/load" ${LOAD_FLAGS:-} -url http://127.0.0.1:18181 -model flight-delay -rows "$work/qs/june.csv")
status=0
# Warm up (connections, the artifact's first load) outside the measurement.
"${load[@]}" -rate 1000 -batch 1 -duration 2s >/dev/null

if [ "${1:-}" = tail ] || [ "${1:-}" = 5k ]; then
	rates="2000 5000" duration=60s
	[ "$1" = 5k ] && rates=${RATE:-5000} duration=${DURATION:-60s}
	echo "## server: ${SERVE_ENV:-} normguard serve ${SERVE_FLAGS:-}${SERVE_CPUS:+ on cpu $SERVE_CPUS}${LOAD_CPUS:+, generator on cpu $LOAD_CPUS}"
	for rate in $rates; do
		echo "## single rows, $rate requests/s for $duration"
		"${load[@]}" -rate "$rate" -batch 1 -duration "$duration" -result "single rows at $rate/s" -p99-target 2ms | tee -a "$work/rt" || status=1
		echo
	done
	echo "## machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	grep -h '^cpu\|^RESULT' "$work/rt"
	exit $status
fi

echo "## 1. single rows, 5,000 requests/s for $single"
"${load[@]}" -rate 5000 -batch 1 -duration "$single" -result "single rows at 5000/s" -p99-target 2ms | tee "$work/r1" || status=1
echo
echo "## 2. batches of 1,000 rows, 400 requests/s for $batch"
"${load[@]/GOMAXPROCS=1/GOMAXPROCS=2}" -rate 400 -batch 1000 -duration "$batch" -workers 16 -result "batches of 1000 rows at 400/s" | tee "$work/r2" || status=1
echo
echo "## 3. soak: single rows, 2,000 requests/s for $soak"
"${load[@]}" -rate 2000 -batch 1 -duration "$soak" -mem-every 30s -result "soak, single rows at 2000/s" | tee "$work/r3" || status=1
echo
echo "## machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
grep -h '^cpu\|^RESULT' "$work/r1" "$work/r2" "$work/r3"
exit $status
