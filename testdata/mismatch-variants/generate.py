#!/usr/bin/python3
"""Generate variants of the normalization-mismatch scenarios.

Each variant is a folder shaped like ../mismatch-scenarios/<kind>: spec.json,
train.csv, raw.csv (paired kinds), observed.csv, old_train.csv (when a column
has stale parameters) and expected.json. The pipeline is scikit-learn 1.2.1's
SimpleImputer(strategy="median") then StandardScaler on every column; the
bugs are planted the way the original scenarios plant them:

  not_normalized        the imputed raw values, never scaled
  double_normalized     the scaler applied to its own output
  per_batch_statistics  each block of `block` imputed rows standardized by a
                        StandardScaler fitted on that block
  stale_parameters      the pipeline fitted on old_train.csv (a shifted draw)
  wrong_parameters      (x - (mean + a sd)) / (b sd), x the imputed raw value
  wrong_transform       a MinMaxScaler fitted on the imputed training data
  impute_order          missing raw values filled with 0, then scaled
  precision_loss        the correct output rounded to float32 and back
  columns_swapped       two columns of the correct output exchanged
  drift (unpaired)      the correct pipeline on rows drawn from a moved
                        distribution

Seeds, row counts, block sizes, column counts and names, which column gets
which bug, each column's distribution (normal, lognormal, uniform,
integer-valued) and its missing rate (0 to 20%) vary with the seed.

The committed variants were made with (run from the repository root):

  /usr/bin/python3 testdata/mismatch-variants/generate.py \
      --out testdata/mismatch-variants --small \
      --variant paired_all_bugs:14 --variant paired_all_bugs:24 \
      --variant paired_columns_swapped:5 --variant paired_columns_swapped:24 \
      --variant paired_clean:23 --variant unpaired_distribution:1 \
      --variant unpaired_distribution:4 --variant unpaired_distribution:14 \
      --variant unpaired_distribution:22 --variant unpaired_distribution:23

and a sweep of 40 variants per kind (not committed) with:

  /usr/bin/python3 testdata/mismatch-variants/generate.py --out /tmp/variants --count 40
"""

import argparse
import json
import os
import string

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, StandardScaler

KINDS = ["paired_all_bugs", "paired_columns_swapped", "paired_clean", "unpaired_distribution"]
PAIRED_BUGS = ["ok", "not_normalized", "per_batch_statistics", "stale_parameters", "wrong_parameters",
               "double_normalized", "impute_order", "wrong_transform", "precision_loss"]
UNPAIRED_BUGS = ["ok", "not_normalized", "per_batch_statistics", "drift"]


class Dist:
    """One column's distribution: kind, its parameters and a missing rate."""

    def __init__(self, rng):
        self.kind = rng.choice(["normal", "lognormal", "uniform", "integer"])
        self.loc = float(10 ** rng.uniform(0.3, 2.7))
        self.rel = float(rng.uniform(0.08, 0.4))  # spread relative to loc
        self.missing = float(rng.choice([0.0, rng.uniform(0.01, 0.2)], p=[0.15, 0.85]))

    def moved(self, rng, strength):
        """A copy whose location and spread moved by about strength."""
        d = Dist.__new__(Dist)
        d.kind, d.missing = self.kind, self.missing
        d.loc = self.loc * (1 + strength * rng.uniform(0.5, 1.0) * self.rel * 2)
        d.rel = self.rel * rng.uniform(0.7, 1.1)
        return d

    def draw(self, rng, n):
        sd = self.loc * self.rel
        if self.kind == "normal":
            x = rng.normal(self.loc, sd, n)
        elif self.kind == "lognormal":
            x = np.exp(rng.normal(np.log(self.loc), self.rel * 1.2, n))
        elif self.kind == "uniform":
            x = rng.uniform(self.loc - 1.7 * sd, self.loc + 1.7 * sd, n)
        else:
            x = np.round(rng.normal(self.loc, max(sd, 1.5), n))
        x = x.astype(np.float64)
        x[rng.random(n) < self.missing] = np.nan
        return x


def random_names(rng, k):
    names = []
    while len(names) < k:
        n = int(rng.integers(1, 9))
        first = rng.choice(list(string.ascii_lowercase))
        rest = "".join(rng.choice(list(string.ascii_lowercase + string.digits + "_"), n))
        if first + rest not in names:
            names.append(first + rest)
    return names


def spec_for(rng, names):
    """One group of every column, or several groups (the layout varies)."""
    steps = [{"simple_imputer": {"strategy": "median"}}, {"standard_scaler": {}}]
    if rng.random() < 0.5 or len(names) < 2:
        groups = [names]
    else:
        cut = sorted(rng.choice(range(1, len(names)), size=min(2, len(names) - 1), replace=False))
        groups = [g for g in np.split(np.array(names), cut) if len(g)]
        groups = [list(map(str, g)) for g in groups]
    cols = []
    for g in groups:
        if len(g) == 1:
            cols.append({"name": g[0], "type": "numeric", "steps": steps})
        else:
            cols.append({"names": g, "type": "numeric", "steps": steps})
    return {"version": 1, "columns": cols}


def frame(names, cols):
    return pd.DataFrame({n: c for n, c in zip(names, cols)})


def write_csv(df, path):
    df.to_csv(path, index=False)  # shortest round-trip repr, missing as empty


def per_batch(x, block):
    out = np.empty_like(x)
    for s in range(0, len(x), block):
        out[s:s + block] = StandardScaler().fit_transform(x[s:s + block, None])[:, 0]
    return out


def make_variant(kind, seed, small):
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    if kind == "paired_all_bugs":
        k = int(rng.integers(9, 13))
        bugs = list(PAIRED_BUGS) + list(rng.choice(PAIRED_BUGS, k - 9))
    elif kind == "unpaired_distribution":
        k = int(rng.integers(4, 8))
        bugs = list(UNPAIRED_BUGS) + list(rng.choice(UNPAIRED_BUGS, k - 4))
    else:
        k = int(rng.integers(3, 9))
        bugs = ["ok"] * k
    rng.shuffle(bugs)
    bugs = [str(b) for b in bugs]
    names = random_names(rng, k)
    dists = [Dist(rng) for _ in range(k)]
    if small:
        n_train, n = int(rng.integers(600, 901)), int(rng.integers(300, 701))
    else:
        n_train, n = int(rng.integers(1000, 5001)), int(rng.integers(300, 5001))
    block = int(rng.integers(16, 1001))
    if kind == "unpaired_distribution":
        block = int(rng.integers(16, max(17, min(1000, n // 3))))
        if rng.random() < 0.5:
            n = max(2, n // block) * block  # whole batches, as the original
    train = np.column_stack([d.draw(rng, n_train) for d in dists])
    imp = SimpleImputer(strategy="median").fit(train)
    sc = StandardScaler().fit(imp.transform(train))
    spec = spec_for(rng, names)
    out = {"spec": spec, "train": frame(names, train.T)}
    verdicts = {}
    if kind == "unpaired_distribution":
        moved = [d.moved(rng, 1.0) if b == "drift" else d for d, b in zip(dists, bugs)]
        raw = np.column_stack([d.draw(rng, n) for d in moved])
        R = imp.transform(raw)
        exp = sc.transform(R)
        obs = exp.copy()
        for j, b in enumerate(bugs):
            if b == "not_normalized":
                obs[:, j] = R[:, j]
            elif b == "per_batch_statistics":
                obs[:, j] = per_batch(R[:, j], block)
            verdicts[names[j]] = b
        out["observed"] = frame(names, obs.T)
        out["expected"] = {"paired": False, "batch_size": block, "seed": seed,
                           "note": "generated by generate.py; rows arrive in batches of %d" % block,
                           "verdicts": verdicts}
        return out
    raw = np.column_stack([d.draw(rng, n) for d in dists])
    for j, b in enumerate(bugs):  # impute_order needs missing values to show
        if b == "impute_order" and not np.isnan(raw[:, j]).any():
            raw[rng.choice(n, max(3, n // 50), replace=False), j] = np.nan
    R = imp.transform(raw)
    exp = sc.transform(R)
    obs = exp.copy()
    if "stale_parameters" in bugs:
        old = np.column_stack([d.moved(rng, 0.3).draw(rng, n_train) for d in dists])
        oimp = SimpleImputer(strategy="median").fit(old)
        osc = StandardScaler().fit(oimp.transform(old))
        stale = osc.transform(oimp.transform(raw))
        out["old_train"] = frame(names, old.T)
    minmax = MinMaxScaler().fit(imp.transform(train)).transform(R)
    twice = sc.transform(exp)
    zero = sc.transform(np.nan_to_num(raw, nan=0.0))
    for j, b in enumerate(bugs):
        x = R[:, j]
        if b == "not_normalized":
            obs[:, j] = x
        elif b == "per_batch_statistics":
            obs[:, j] = per_batch(x, block)
        elif b == "stale_parameters":
            obs[:, j] = stale[:, j]
        elif b == "wrong_parameters":
            a = rng.uniform(0.3, 1.0) * rng.choice([-1, 1])
            s = rng.choice([rng.uniform(0.4, 0.8), rng.uniform(1.3, 2.5)])
            obs[:, j] = (x - (sc.mean_[j] + a * sc.scale_[j])) / (s * sc.scale_[j])
        elif b == "double_normalized":
            obs[:, j] = twice[:, j]
        elif b == "impute_order":
            obs[:, j] = zero[:, j]
        elif b == "wrong_transform":
            obs[:, j] = minmax[:, j]
        elif b == "precision_loss":
            obs[:, j] = exp[:, j].astype(np.float32).astype(np.float64)
        verdicts[names[j]] = b
    if kind == "paired_columns_swapped":
        pairs = 1 if k < 6 or rng.random() < 0.6 else 2
        pick = rng.choice(k, 2 * pairs, replace=False)
        for p in range(pairs):
            i, j = pick[2 * p], pick[2 * p + 1]
            obs[:, [i, j]] = obs[:, [j, i]]
            verdicts[names[i]] = verdicts[names[j]] = "columns_swapped"
    out["raw"] = frame(names, raw.T)
    out["observed"] = frame(names, obs.T)
    out["expected"] = {"paired": True, "batch_size": None, "seed": seed,
                       "block": block if "per_batch_statistics" in bugs else None,
                       "note": "generated by generate.py", "verdicts": verdicts}
    return out


def write_variant(v, path):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "spec.json"), "w") as f:
        json.dump(v["spec"], f, indent=1)
        f.write("\n")
    with open(os.path.join(path, "expected.json"), "w") as f:
        json.dump(v["expected"], f, indent=1)
        f.write("\n")
    for name in ["train", "old_train", "raw", "observed"]:
        if name in v:
            write_csv(v[name], os.path.join(path, name + ".csv"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory to write variant folders into")
    ap.add_argument("--count", type=int, default=0, help="variants per kind, seeds 0..count-1")
    ap.add_argument("--variant", action="append", default=[], help="kind:seed (repeatable)")
    ap.add_argument("--small", action="store_true", help="at most 900 training and 700 observed rows (committed test data)")
    args = ap.parse_args()
    todo = [(k, s) for k in KINDS for s in range(args.count)]
    for v in args.variant:
        k, s = v.split(":")
        todo.append((k, int(s)))
    for k, s in todo:
        write_variant(make_variant(k, s, args.small), os.path.join(args.out, "%s_%d" % (k, s)))


if __name__ == "__main__":
    main()
