"""numpy counterpart of normguard's MMD test, for bench/embed/run.sh.

    /usr/bin/python3 mmd_numpy.py DIR REPS

Reads DIR/mmd_x.f64 and DIR/mmd_y.f64 (2,000 x 768 float64 each, written
by bench/embed's Go timer) and times, with time.perf_counter around the
computation only (and time.process_time for the CPU time): the pooled squared distances (BLAS Gram matrix), the
median-heuristic h, the unbiased MMD² and a 200-permutation p-value with
the permutation statistic computed from the full kernel matrix by index
sums (the way Alibi Detect's permutation test does it). Prints one JSON
line per timing.
"""
import json
import sys
import time

import numpy as np

d = 768
path, reps = sys.argv[1], int(sys.argv[2])
x = np.fromfile(f"{path}/mmd_x.f64", dtype="<f8").reshape(-1, d)
y = np.fromfile(f"{path}/mmd_y.f64", dtype="<f8").reshape(-1, d)
print(json.dumps({"tool": "numpy", "op": "version", "version": np.__version__}))


def mmd2_of(k, ys, m, n):
    inx = np.ones(m + n, bool)
    inx[ys] = False
    kxx = k[np.ix_(inx, inx)]
    kyy = k[np.ix_(~inx, ~inx)]
    kxy = k[np.ix_(inx, ~inx)]
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.sum() / (m * n))


for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    z = np.vstack([x, y])
    sq = (z * z).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * z @ z.T, 0)
    iu = np.triu_indices(len(z), 1)
    h = float(np.quantile(d2[iu], 0.5))
    k = np.exp(-d2 / h)
    m, n = len(x), len(y)
    obs = mmd2_of(k, np.arange(m, m + n), m, n)
    t1, c1 = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(1)
    count = 0
    for b in range(200):
        ys = rng.permutation(m + n)[:n]
        if mmd2_of(k, ys, m, n) >= obs:
            count += 1
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"tool": "numpy", "op": "mmd2_only_2000_768", "ms": (t1 - t0) * 1000, "cpu_ms": (c1 - c0) * 1000, "mmd2": float(obs), "h": h}))
    print(json.dumps({"tool": "numpy", "op": "mmd_perm200_2000_768", "ms": (t2 - t0) * 1000, "cpu_ms": (c2 - c0) * 1000, "mmd2": float(obs),
                      "p_value": (1 + count) / 201}))
