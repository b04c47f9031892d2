#!/usr/bin/python3
"""Check that normguard's CSV output holds the same numbers as scikit-learn's.

Usage: /usr/bin/python3 bench/compare_outputs.py NORMGUARD.csv SKLEARN.csv

Both files are parsed with float_precision='round_trip' (exact). The check
passes when the headers are identical, non-numeric columns are identical,
missing cells coincide, and every numeric cell satisfies

    |ng - sk| <= REL_TOL * max(|sk|, 1)

(a relative tolerance, turned absolute for values below 1 in magnitude:
standardized values cluster around 0, where a purely relative difference is
meaningless). Prints one line: PASS/FAIL, max abs diff, max rel diff,
and the number of cells bit-identical. Exit status 0 on PASS, 1 on FAIL.
"""
import sys

import numpy as np
import pandas as pd

REL_TOL = 1e-9


def main(ng_path, sk_path):
    ng = pd.read_csv(ng_path, float_precision="round_trip", keep_default_na=False, na_values=[""])
    sk = pd.read_csv(sk_path, float_precision="round_trip", keep_default_na=False, na_values=[""])
    problems = []
    if list(ng.columns) != list(sk.columns):
        problems.append(f"headers differ: {list(ng.columns)} vs {list(sk.columns)}")
    if len(ng) != len(sk):
        problems.append(f"row counts differ: {len(ng)} vs {len(sk)}")
    max_abs = max_rel = 0.0
    cells = same = 0
    if not problems:
        for c in sk.columns:
            a, b = ng[c], sk[c]
            if b.dtype.kind != "f" and b.dtype.kind != "i":
                if not a.astype(str).equals(b.astype(str)):
                    problems.append(f"column {c}: values differ")
                continue
            a = a.to_numpy(dtype=np.float64)
            b = b.to_numpy(dtype=np.float64)
            na, nb = np.isnan(a), np.isnan(b)
            if not np.array_equal(na, nb):
                problems.append(f"column {c}: missing cells differ ({na.sum()} vs {nb.sum()})")
                continue
            a, b = a[~na], b[~nb]
            d = np.abs(a - b)
            cells += a.size
            same += int((a == b).sum())
            if d.size:
                max_abs = max(max_abs, float(d.max()))
                max_rel = max(max_rel, float((d / np.maximum(np.abs(b), np.finfo(float).tiny)).max()))
                bad = d > REL_TOL * np.maximum(np.abs(b), 1.0)
                if bad.any():
                    i = int(np.argmax(bad))
                    problems.append(f"column {c}: {int(bad.sum())} cells off, first row {i}: {a[i]!r} vs {b[i]!r}")
    verdict = "PASS" if not problems else "FAIL"
    print(f"{verdict}: {len(sk)} rows x {len(sk.columns)} columns; numeric cells {cells}, "
          f"bit-identical {same} ({100.0 * same / max(cells, 1):.4f}%); "
          f"max abs diff {max_abs:.3g}; max rel diff {max_rel:.3g} (tolerance {REL_TOL:g} relative)")
    for p in problems[:10]:
        print("  " + p)
    return 0 if not problems else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: compare_outputs.py NORMGUARD.csv SKLEARN.csv")
    sys.exit(main(sys.argv[1], sys.argv[2]))
