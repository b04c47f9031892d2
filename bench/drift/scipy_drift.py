#!/usr/bin/python3
"""scipy side of bench/drift (see README.md).

usage:
  scipy_drift.py gen DIR     write the benchmark samples to DIR as raw
                             little-endian float64 files
  scipy_drift.py time DIR R  time scipy on them (R repetitions each) and
                             print one JSON object per timing
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy import stats

N = 1_000_000
FEATURES = 20


def gen(d):
    rng = np.random.default_rng(20230214)
    rng.standard_normal(N).astype("<f8").tofile(f"{d}/ref.f64")
    (0.05 + 1.1 * rng.standard_normal(N)).astype("<f8").tofile(f"{d}/cur_drift.f64")
    rng.standard_normal(N).astype("<f8").tofile(f"{d}/cur_same.f64")
    # 20 features: column-major, feature k is rows [k*N, (k+1)*N). A mix of
    # shapes; every fourth feature drifts (shift of 0.3 sd), the rest are
    # fresh draws from the reference's distribution.
    ref, cur = [], []
    for k in range(FEATURES):
        shift = 0.3 if k % 4 == 0 else 0.0
        kind = k % 3
        if kind == 0:
            ref.append(rng.normal(0, 1, N)); cur.append(rng.normal(shift, 1, N))
        elif kind == 1:
            ref.append(rng.lognormal(0, 0.5, N)); cur.append(rng.lognormal(shift * 0.5, 0.5, N))
        else:
            ref.append(rng.poisson(5, N).astype(float)); cur.append(rng.poisson(5 + shift * 5**0.5, N).astype(float))
    np.concatenate(ref).astype("<f8").tofile(f"{d}/ref20.f64")
    np.concatenate(cur).astype("<f8").tofile(f"{d}/cur20.f64")


def emit(op, seconds, **kw):
    print(json.dumps({"tool": "scipy", "op": op, "ms": seconds * 1e3, **kw}), flush=True)


def timed(f, *args):
    t0 = time.perf_counter()
    r = f(*args)
    return time.perf_counter() - t0, r


def auto(ref, cur):
    """The numeric rule of normguard's auto method, in scipy: ks_2samp
    (method auto) plus wasserstein_distance / std(ref)."""
    out = []
    for k in range(FEATURES):
        r, c = ref[k * N:(k + 1) * N], cur[k * N:(k + 1) * N]
        ks = stats.ks_2samp(r, c)
        w = stats.wasserstein_distance(r, c) / np.std(r)
        out.append(bool(ks.pvalue < 0.05 and w > 0.1))
    return out


def time_all(d, reps):
    ref = np.fromfile(f"{d}/ref.f64", "<f8")
    drift = np.fromfile(f"{d}/cur_drift.f64", "<f8")
    same = np.fromfile(f"{d}/cur_same.f64", "<f8")
    ref20 = np.fromfile(f"{d}/ref20.f64", "<f8")
    cur20 = np.fromfile(f"{d}/cur20.f64", "<f8")
    for _ in range(reps):
        s, r = timed(stats.ks_2samp, ref, drift)
        emit("ks_drift", s, statistic=float(r.statistic), p_value=float(r.pvalue))
        s, r = timed(stats.ks_2samp, ref, same)
        emit("ks_same", s, statistic=float(r.statistic), p_value=float(r.pvalue))
        s, r = timed(stats.wasserstein_distance, ref, drift)
        emit("wasserstein", s, statistic=float(r))
        s, r = timed(auto, ref20, cur20)
        emit("auto20", s, drifting=int(sum(r)))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "time":
        print(json.dumps({"tool": "scipy", "op": "version", "version": scipy.__version__, "numpy": np.__version__}))
        time_all(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
