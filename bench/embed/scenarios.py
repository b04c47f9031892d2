#!/usr/bin/python3
"""Held-out scenarios for the embedding verdicts (issue 14), run as a user would.

The repository's tests build their scenarios from GloVe. This script builds them from vectors
that are not GloVe-like, runs `normguard fit`, `validate`, `drift` and `diagnose` on .npy, JSON
Lines and Parquet files, and compares each verdict with the one that follows from how the
scenario was built:

  /usr/bin/python3 bench/embed/scenarios.py --bin /tmp/normguard --work /tmp/scen [--quick]

It writes results.json and results.md (the scenario x verdict table) into --work. numpy 1.24;
every generator is seeded, so a run is reproducible. Parquet files are written by
bench/embed/npy2parquet (built by this script with `go build`).

Vector families (float32):
  sent384u, sent768u, sent1536u  unit-length, sentence-embedding-like: a positive mean direction,
                                 32 dominant directions of decaying scale, isotropic noise;
                                 cosine between random pairs about 0.3 (0.7 for 1536-d)
  raw768                         the same kind of model before normalization (norms about 6-9)
  glove384                       GloVe 100-d projected to 384-d by a Gaussian matrix (raw)
  lowrank384                     rank-8 vectors in 384-d, no noise (raw)
  const384                       raw768-like in 384-d with two constant dimensions (0 and 0.25)
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GLOVE = os.path.join(HERE, "..", "..", "..", "shared", "datasets", "glove", "glove100d_20k.npy")


# ---------------------------------------------------------------- vector models

class Model:
    """A sentence-embedding-like model: x = mu + (z * s) @ W^T + sigma * e, z, e ~ N(0, 1)."""

    def __init__(self, d, seed, pair_cos=0.3, k=32, top_share=0.6, raw_norm=None, rank_only=False):
        rng = np.random.default_rng(seed)
        self.d = d
        w, _ = np.linalg.qr(rng.normal(size=(d, k)))
        s = np.arange(1, k + 1) ** -0.5
        s *= np.sqrt(top_share / np.sum(s ** 2))  # the k directions hold top_share of tr(Sigma) = 1
        self.ws = w * s
        self.sigma = 0.0 if rank_only else np.sqrt((1 - top_share) / d)
        mu = np.abs(rng.normal(size=d))
        # after normalization, cos(x, y) ~ |mu|^2 / (|mu|^2 + tr Sigma)
        self.mu = mu / np.linalg.norm(mu) * np.sqrt(pair_cos / (1 - pair_cos))
        self.raw_norm = raw_norm

    def raw(self, n, rng):
        x = self.mu + rng.normal(size=(n, self.ws.shape[1])) @ self.ws.T
        if self.sigma:
            x += self.sigma * rng.normal(size=(n, self.d))
        if self.raw_norm:  # a raw model's output: norms spread around raw_norm
            x *= self.raw_norm * np.exp(0.1 * rng.normal(size=(n, 1))) / np.sqrt(np.sum(self.mu ** 2) + 1)
        return x


def unit(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n == 0, 1, n)


def f32(x):
    return np.ascontiguousarray(x, dtype=np.float32)


def bfloat16(x):
    """Round float32 values to bfloat16 (nearest even), kept as float32."""
    b = f32(x).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


def int8_rescaled(x):
    """Symmetric per-vector int8 quantization (scale max|x|/127), de-quantized to float32."""
    s = np.max(np.abs(x), axis=1, keepdims=True) / 127
    return f32(np.round(x / s) * s)


def rotation(d, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


class Family:
    """A base of vectors: fresh(n, rng) draws new vectors of the contract's population."""

    def __init__(self, name, fresh, unit_len, metric, raw=None, other=None, d=None):
        self.name, self.fresh, self.unit, self.metric = name, fresh, unit_len, metric
        self.raw = raw          # unit families: the same vectors before normalization
        self.other = other      # another model of the same dimension and norm distribution
        self.d = d


def families():
    out = []
    for d, cos, metric in [(384, 0.3, "cosine"), (768, 0.3, "dot"), (1536, 0.7, "cosine")]:
        m = Model(d, 1000 + d, pair_cos=cos)
        m2 = Model(d, 2000 + d, pair_cos=cos)
        out.append(Family(f"sent{d}u", lambda n, r, m=m: f32(unit(m.raw(n, r))), True, metric,
                          raw=lambda n, r, m=m: f32(m.raw(n, r) * 7),
                          other=lambda n, r, m=m2: f32(unit(m.raw(n, r))), d=d))
    m = Model(768, 3768, raw_norm=7.5)
    m2 = Model(768, 4768, raw_norm=7.5)
    out.append(Family("raw768", lambda n, r: f32(m.raw(n, r)), False, "cosine",
                      other=lambda n, r: f32(m2.raw(n, r)), d=768))
    if os.path.exists(GLOVE):
        g = np.load(GLOVE).astype(np.float64)
        p1 = np.random.default_rng(5384).normal(size=(100, 384)) / np.sqrt(384)
        p2 = np.random.default_rng(6384).normal(size=(100, 384)) / np.sqrt(384)

        def glove_rows(n, r):
            return g[r.choice(len(g), size=n, replace=n > len(g))]
        out.append(Family("glove384", lambda n, r: f32(glove_rows(n, r) @ p1), False, "cosine",
                          other=lambda n, r: f32(glove_rows(n, r) @ p2), d=384))
    lr = Model(384, 7384, k=8, top_share=1.0, rank_only=True, raw_norm=3.0)
    lr2 = Model(384, 8384, k=8, top_share=1.0, rank_only=True, raw_norm=3.0)
    out.append(Family("lowrank384", lambda n, r: f32(lr.raw(n, r)), False, "cosine",
                      other=lambda n, r: f32(lr2.raw(n, r)), d=384))
    cm = Model(384, 9384, raw_norm=7.5)
    cm2 = Model(384, 9385, raw_norm=7.5)

    def const(x):
        x[:, 0], x[:, 1] = 0, 0.25
        return f32(x)
    out.append(Family("const384", lambda n, r: const(cm.raw(n, r)), False, "cosine",
                      other=lambda n, r: const(cm2.raw(n, r)), d=384))
    return out


# ---------------------------------------------------------------- scenarios

def scenarios(f, rng, n=1000):
    """Yield (name, vectors, expected codes) for family f; vectors are fresh draws."""
    dot = f.metric == "dot"
    mm = ["metric_mismatch"] if dot else []
    x = f.fresh(n, rng)
    yield "scaled x3", f32(x * 3), ["not_normalized"] + mm
    if f.unit:
        yield "raw, not normalized", f.raw(n, rng), ["not_normalized"] + mm
        for pct in (10, 1):
            y = f.fresh(n, rng)
            k = n * pct // 100
            y[:k] = f.raw(k, rng)
            yield f"mixed {100 - pct}/{pct} (unit/raw)", y, ["mixed_normalization"] + mm
    else:
        yield "L2-normalized", f32(unit(f.fresh(n, rng))), ["normalized_unexpectedly"]
        for pct in (10, 1):
            y = f.fresh(n, rng)
            k = n * pct // 100
            y[:k] = unit(y[:k])
            yield f"mixed {100 - pct}/{pct} (raw/unit)", y, ["mixed_normalization"]
    yield "float16", f32(f.fresh(n, rng).astype(np.float16)), ["precision_loss"]
    yield "bfloat16", bfloat16(f.fresh(n, rng)), ["precision_loss"]
    yield "int8 re-scaled", int8_rescaled(f.fresh(n, rng)), []
    if f.d >= 768:
        y = f.fresh(n, rng)[:, :256]
        yield "Matryoshka 256, not renormalized", f32(y), \
            ["dimension_mismatch", "truncated_not_renormalized"] if f.unit else ["dimension_mismatch"]
        yield "Matryoshka 256, renormalized", f32(unit(y)), \
            ["dimension_mismatch"] if f.unit else ["dimension_mismatch", "normalized_unexpectedly"]
    yield "another dimension (2d)", f32(np.hstack([f.fresh(n, rng), f.fresh(n, rng)]) / np.sqrt(2)), \
        ["dimension_mismatch"]
    for m in (n, 200, 50):
        yield f"rotated (n={m})", f32(f.fresh(m, rng) @ rotation(f.d, 11).T), ["model_swapped"]
        yield f"another model (n={m})", f.other(m, rng), ["model_swapped"]
    y = f.fresh(n, rng)
    y[[3, 500]] = 0
    yield "zero vectors", y, ["zero_vectors"]
    y = f.fresh(n, rng)
    y[7, 5] = np.nan
    yield "NaN", y, ["nan_vectors"]


# ---------------------------------------------------------------- running normguard

class Runner:
    def __init__(self, binary, work):
        self.bin, self.work = binary, work
        self.p2p = None

    def run(self, *args):
        p = subprocess.run([self.bin, *args], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    def write(self, x, sub, fmt):
        """Write vectors as column 'emb' in fmt (npy, jsonl, parquet); return the path."""
        d = os.path.join(self.work, sub)
        os.makedirs(d, exist_ok=True)
        npy = os.path.join(d, "emb.npy")
        np.save(npy, x)
        if fmt == "npy":
            return npy
        if fmt == "jsonl":
            p = os.path.join(d, "emb.jsonl")
            with open(p, "w") as out:
                for i, v in enumerate(x):
                    vals = ",".join("null" if np.isnan(a) else repr(float(a)) for a in v)
                    out.write('{"id": %d, "emb": [%s]}\n' % (i, vals))
            return p
        p = os.path.join(d, "emb.parquet")
        subprocess.run([self.parquet_tool(), npy, p], check=True)
        return p

    def parquet_tool(self):
        if self.p2p is None:
            self.p2p = os.path.join(self.work, "npy2parquet")
            subprocess.run(["go", "build", "-o", self.p2p, "./bench/embed/npy2parquet"], check=True,
                           cwd=os.path.join(HERE, "..", ".."),
                           env=dict(os.environ, GOFLAGS="-buildvcs=false"))
        return self.p2p

    def fit(self, f, x, sub, fmt="npy", steps=""):
        d = os.path.join(self.work, sub)
        os.makedirs(d, exist_ok=True)
        spec = os.path.join(d, "spec.yaml")
        with open(spec, "w") as out:
            out.write(f"version: 1\ncolumns:\n  - name: emb\n    type: vector\n    metric: {f.metric}\n{steps}")
        data = self.write(x, sub, fmt)
        art = os.path.join(d, "a.json")
        rc, so, se = self.run("fit", "--spec", spec, "--data", data, "--out", art, "-q")
        if rc != 0:
            raise RuntimeError(f"fit {sub}: exit {rc}: {se}")
        return art

    def validate(self, art, x, sub, fmt="npy"):
        data = self.write(x, sub, fmt)
        rc, so, se = self.run("validate", "--artifact", art, "--data", data, "--format", "json")
        if rc == 2:
            return rc, None, se.strip()
        rep = json.loads(so)
        return rc, [a["code"] for a in rep.get("anomalies") or [] if a.get("column") == "emb"], rep

    def drift(self, art, x, sub, fmt="npy"):
        data = self.write(x, sub, fmt)
        rc, so, se = self.run("drift", "--artifact", art, "--current", data, "--format", "json")
        if rc == 2:
            return rc, None, se.strip()
        rep = json.loads(so)
        v = [r for r in rep.get("vectors") or [] if r["column"] == "emb"]
        return rc, v[0]["result"] if v else None, rep


def fmt_codes(c):
    if c is None:
        return "error"
    return ", ".join(c) if c else "none"


def table(rows, clean, before=None):
    """The scenario x verdict table and the clean-split false-alarm rates, in Markdown."""
    prev = {}
    if before:
        for r in before["scenarios"]:
            prev[(r["family"], r["scenario"])] = r
    out = ["| family (format) | scenario | expected | got |" + (" before |" if before else ""),
           "|---|---|---|---|" + ("---|" if before else "")]
    for r in rows:
        line = f"| {r['family']} ({r['format']}) | {r['scenario']} | {fmt_codes(r['want'])} | " \
               f"{fmt_codes(r['got'])}{'' if r['ok'] else ' **(wrong)**'} |"
        if before:
            b = prev.get((r["family"], r["scenario"]))
            line += f" {fmt_codes(b['got']) if b else 'not run'}{'' if not b or b['ok'] else ' **(wrong)**'} |"
        out.append(line)
    if clean:
        out += ["", "Clean splits (fresh vectors of the contract's population; every finding is a false alarm):", "",
                "| family | fit / check vectors | runs | runs with a finding | findings seen | MMD drift (p < 0.05) |",
                "|---|---|---:|---:|---|---:|"]
        groups = {}
        for c in clean:
            groups.setdefault((c["family"], c["fit"], c["check"]), []).append(c)
        for (fam, nf, nc), cs in groups.items():
            alarms = [c for c in cs if c["got"] != []]
            seen = {}
            for c in alarms:
                for code in c["got"] or ["error"]:
                    seen[code] = seen.get(code, 0) + 1
            dr = [c["drift"] for c in cs if c.get("drift") is not None]
            out.append(f"| {fam} | {nf:,} / {nc:,} | {len(cs)} | {len(alarms)} | "
                       f"{', '.join(f'{k} ({v})' for k, v in seen.items()) or 'none'} | "
                       f"{f'{sum(dr)} of {len(dr)}' if dr else ''} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--only", default="", help="comma-separated families")
    ap.add_argument("--skip-clean", action="store_true")
    ap.add_argument("--skip-drift", action="store_true")
    ap.add_argument("--before", help="results.json of an earlier run, for a before column")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    r = Runner(os.path.abspath(args.bin), args.work)
    fams = families()
    if args.only:
        fams = [f for f in fams if f.name in args.only.split(",")]
    rows, clean = [], []
    fmts = {"sent384u": "jsonl", "glove384": "parquet"}
    t0 = time.time()
    for f in fams:
        fmt = fmts.get(f.name, "npy")
        rng = np.random.default_rng(abs(hash(f.name)) % 2**32 if False else sum(map(ord, f.name)))
        art = r.fit(f, f.fresh(5000, rng), f"{f.name}/fit", fmt)
        for name, x, want in scenarios(f, rng):
            rc, got, rep = r.validate(art, x, f"{f.name}/cur", fmt)
            ok = got is not None and sorted(got) == sorted(want)
            row = {"family": f.name, "format": fmt, "scenario": name, "want": want, "got": got,
                   "exit": rc, "ok": ok}
            if got is None:
                row["error"] = rep
            elif not ok:
                row["messages"] = [a["description"] for a in rep.get("anomalies") or []]
            rows.append(row)
            print(("ok  " if ok else "BAD ") + f"{f.name:11s} {name:36s} want {want} got {got}"
                  + ("" if got is not None else f" ({rep})"), flush=True)
            if not args.skip_drift and name.startswith(("rotated (n=1000", "another model (n=1000")):
                rc, res, rep = r.drift(art, x, f"{f.name}/cur", fmt)
                rows.append({"family": f.name, "format": fmt, "scenario": name + " [drift]",
                             "want": ["drift"], "got": ["drift"] if res and res["drift"] else [],
                             "exit": rc, "ok": bool(res and res["drift"]), "drift": res})
                print(f"    drift {name}: {res and res['drift']} p={res and res['mmd_p_value']}", flush=True)
        if args.skip_clean:
            continue
        # Clean splits: a fresh contract per seed, fitted on 50, 200 or 2,000 vectors, and fresh
        # vectors of the same population checked against it; also 50,000 once.
        for seed in range(args.seeds):
            srng = np.random.default_rng([seed, sum(map(ord, f.name))])
            for nfit, ncheck in [(2000, 1000), (2000, 200), (2000, 50), (200, 200), (50, 50)]:
                sub = f"{f.name}/clean"
                a = r.fit(f, f.fresh(nfit, srng), sub + "/fit", fmt)
                rc, got, rep = r.validate(a, f.fresh(ncheck, srng), sub + "/cur", fmt)
                c = {"family": f.name, "seed": seed, "fit": nfit, "check": ncheck, "got": got, "exit": rc}
                if got is None:
                    c["error"] = rep
                if got:
                    c["messages"] = [x["description"] for x in rep.get("anomalies") or []]
                if not args.skip_drift and nfit == 2000 and ncheck == 200:
                    rc, res, rep = r.drift(a, f.fresh(200, srng), sub + "/cur", fmt)
                    c["drift"] = res["drift"] if res else None
                    c["drift_p"] = res["mmd_p_value"] if res else None
                clean.append(c)
                if got != []:
                    print(f"CLEAN {f.name} seed {seed} fit {nfit} check {ncheck}: {got}", flush=True)
        if f.name in ("sent768u", "raw768"):
            srng = np.random.default_rng([99, sum(map(ord, f.name))])
            a = r.fit(f, f.fresh(2000, srng), f"{f.name}/big/fit", fmt)
            rc, got, rep = r.validate(a, f.fresh(50000, srng), f"{f.name}/big/cur", fmt)
            clean.append({"family": f.name, "seed": 99, "fit": 2000, "check": 50000, "got": got, "exit": rc})
            print(f"clean 50,000 {f.name}: {got}", flush=True)
    with open(os.path.join(args.work, "results.json"), "w") as out:
        json.dump({"scenarios": rows, "clean": clean}, out, indent=1, default=float)
    before = None
    if args.before:
        with open(args.before) as f:
            before = json.load(f)
    with open(os.path.join(args.work, "results.md"), "w") as out:
        out.write(table(rows, clean, before))
    bad = [x for x in rows if not x["ok"]]
    alarms = [c for c in clean if c["got"]]
    print(f"{len(rows)} scenarios, {len(bad)} wrong; {len(clean)} clean checks, {len(alarms)} with a finding; "
          f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
