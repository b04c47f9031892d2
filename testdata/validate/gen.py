#!/usr/bin/python3
"""Builds the validation cases of testdata/validate from the shipped tables
and writes, per case, the anomalies the documented rule gives (expected.json).

The expected anomalies are computed here, independently of normguard: the
counts straight from the CSV rows, Fisher's exact test by scipy
(scipy.stats.fisher_exact), the range exceedance probability with exact
fractions, Cohen's h with math, the settled categories' Poisson bar by
scipy.stats.poisson.isf. Run from the repository root:

    /usr/bin/python3 testdata/validate/gen.py /work/shared/datasets

Needs python3-scipy (Debian 12: scipy 1.10.1).
"""
import csv
import gzip
import json
import math
import os
import sys
from fractions import Fraction

from scipy.stats import fisher_exact, poisson

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets"
HERE = os.path.dirname(os.path.abspath(__file__))
ALPHA, MIN_H = 0.05, 0.2
NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
      "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
TOP = 100  # profile.TopCategories


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        return list(csv.DictReader(f))


def write(name, rows, header):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        w = csv.DictWriter(f, header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def is_num(s):
    try:
        float(s.strip(" \t"))
        return True
    except ValueError:
        return False


def h(p1, p2):
    return abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2)))


def fisher(a, n1, c, n2):
    return fisher_exact([[a, n1 - a], [c, n2 - c]], alternative="two-sided")[1]


def exceedance(k, n, m):
    """P(K >= k): k of m new values outside the range of n earlier ones."""
    if k == 0:
        return 1.0
    N = n + m

    def P(j):
        p = Fraction(1)
        for i in range(j):
            p *= Fraction(m - i, N - i)
        return p

    return float((k + 1) * P(k) - k * P(k + 1))


def parses_time(s):
    from datetime import datetime
    try:
        datetime.strptime(s, "%Y-%m-%d %H:%M")
        return True
    except ValueError:
        return False


def expected(train, cur, header_cur, spec):
    """The anomalies of cur against a fit of spec on train, by the rule of
    package validate. spec: dict with numeric, categorical (encoded),
    passthrough_cat (not encoded), time, remainder."""
    out = []
    inputs = spec["numeric"] + spec["categorical"] + spec.get("plain", []) + spec.get("time", [])
    order = [c for c in spec["order"]]
    n_rows = len(cur)
    for col in order:
        tr = [r[col] for r in train]
        tr_present = [v for v in tr if v not in NA]
        tr_missing = len(tr) - len(tr_present)
        if col not in header_cur:
            out.append({"column": col, "code": "missing_column"})
            continue
        cu = [r[col] for r in cur]
        cu_present = [v for v in cu if v not in NA]
        cu_missing = len(cu) - len(cu_present)
        numeric = col in spec["numeric"]
        bad = []
        if numeric:
            bad = [v for v in cu_present if not is_num(v)]
            if bad:
                out.append({"column": col, "code": "type_change", "current_count": len(bad)})
        if col in spec.get("time", []):
            bad = [v for v in cu_present if not parses_time(v)]
            tr_bad = sum(1 for v in tr_present if not parses_time(v))
            if bad:
                p = fisher(tr_bad, len(tr_present), len(bad), len(cu_present))
                e = h(tr_bad / len(tr_present), len(bad) / len(cu_present))
                if p < ALPHA and e >= MIN_H:
                    out.append({"column": col, "code": "type_change", "current_count": len(bad), "p_value": p})
        good = [v for v in cu_present if v not in bad]
        if not good and not bad:
            if tr_present:
                m = tr_missing / len(tr)
                if m ** n_rows < ALPHA:
                    out.append({"column": col, "code": "empty_column"})
            continue
        p = fisher(tr_missing, len(tr), cu_missing, len(cu))
        e = h(tr_missing / len(tr), cu_missing / len(cu))
        if p < ALPHA and e >= MIN_H:
            out.append({"column": col, "code": "missing_rate_change", "training_count": tr_missing,
                        "current_count": cu_missing, "p_value": p, "effect_size": e})
        if numeric:
            xs = [float(v) for v in tr_present]
            lo, hi = min(xs), max(xs)
            ys = [float(v) for v in good]
            k = sum(1 for y in ys if y < lo or y > hi)
            if k:
                p = exceedance(k, len(xs), len(ys))
                e = h(0, k / len(ys))
                if p < ALPHA and e >= MIN_H:
                    out.append({"column": col, "code": "out_of_range", "current_count": k, "p_value": p, "effect_size": e})
        elif col in spec.get("time", []):
            pass
        else:
            counts = {}
            for v in tr_present:
                counts[v] = counts.get(v, 0) + 1
            complete = col in spec["categorical"] or len(counts) <= TOP
            if complete:
                known = set(counts)
                f1 = sum(1 for n in counts.values() if n == 1)
                unseen = [v for v in good if v not in known]
                if unseen:
                    p = fisher(f1, len(tr_present), len(unseen), len(good))
                    e = h(f1 / len(tr_present), len(unseen) / len(good))
                    if p < ALPHA and e >= MIN_H and len(unseen) / len(good) > f1 / len(tr_present):
                        out.append({"column": col, "code": "unseen_categories", "current_count": len(unseen),
                                    "p_value": p, "effect_size": e})
            else:
                # Values outside the settled top categories: those whose
                # count k is clearly above what luck gives a category of an
                # ordinary count lam, the cut (the smallest kept count) or
                # the mean count outside the settled ones where higher:
                # P(Poisson(lam) >= k) <= 0.01 / distinct, repeated with
                # the new mean until no more are settled. Those nearer the
                # cut were kept for their luck in the training rows, so a
                # new sample of the same distribution has more values
                # outside them.
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
                cut, d, outside = top[-1][1], len(counts), len(tr_present)
                settled = 0
                while True:
                    lam = max(cut, outside / (d - settled))
                    bar = poisson.isf(0.01 / d, lam) + 1
                    more = sum(1 for _, n in top if n >= bar)
                    if more == settled:
                        break
                    outside -= sum(n for _, n in top[settled:more])
                    settled = more
                topset = {v for v, _ in top[:settled]}
                other_tr = len(tr_present) - sum(counts[v] for v in topset)
                other = sum(1 for v in good if v not in topset)
                if other and topset:
                    p = fisher(other_tr, len(tr_present), other, len(good))
                    e = h(other_tr / len(tr_present), other / len(good))
                    if p < ALPHA and e >= MIN_H and other / len(good) > other_tr / len(tr_present):
                        out.append({"column": col, "code": "other_categories", "current_count": other,
                                    "p_value": p, "effect_size": e})
        # constant: categorical columns only in these cases (numeric ones
        # need the profile's quantile grid for the bound)
        if not numeric and col not in spec.get("time", []) and len(set(good)) == 1 and len(good) >= 2:
            counts = {}
            for v in tr_present:
                counts[v] = counts.get(v, 0) + 1
            if len(counts) >= 2:
                pmax = max(counts.values()) / len(tr_present)
                if pmax ** (len(good) - 1) < ALPHA:
                    out.append({"column": col, "code": "constant_column"})
    extra = [c for c in header_cur if c not in inputs]
    missing = [a["column"] for a in out if a["code"] == "missing_column"]
    for c in extra:
        near = [m for m in missing if m.lower().replace("_", "") == c.lower().replace("_", "")]
        if spec["remainder"] == "passthrough" or near:
            out.append({"column": c, "code": "unexpected_column"})
    return out


def every(rows, k, offset=0):
    return [r for i, r in enumerate(rows) if i % k == offset]


cases = {}

# gapminder: 1960-64 vs 1985-89 (missing shares of infant_mortality and gdp
# fall), and a clean split of 1960-64 (even rows vs odd rows).
gap = read(os.path.join(SRC, "gapminder.csv"))
gh = ["country", "year", "infant_mortality", "life_expectancy", "fertility", "gdp", "continent"]
gap = [{k: r[k] for k in gh} for r in gap]
g60 = [r for r in gap if 1960 <= int(r["year"]) <= 1964]
g85 = [r for r in gap if 1985 <= int(r["year"]) <= 1989]
write("gapminder_1960_64.csv", g60, gh)
write("gapminder_1985_89.csv", g85, gh)
write("gapminder_1960_64_even.csv", every(g60, 2, 0), gh)
write("gapminder_1960_64_odd.csv", every(g60, 2, 1), gh)
gspec = {"numeric": ["infant_mortality", "life_expectancy", "fertility", "gdp"], "categorical": ["continent"],
         "remainder": "drop", "order": ["infant_mortality", "life_expectancy", "fertility", "gdp", "continent"]}
cases["gapminder_decades"] = ("gapminder.yaml", "gapminder_1960_64.csv", "gapminder_1985_89.csv",
                              expected(g60, g85, gh, gspec))
cases["gapminder_clean_split"] = ("gapminder.yaml", "gapminder_1960_64_even.csv", "gapminder_1960_64_odd.csv",
                                  expected(every(g60, 2, 0), every(g60, 2, 1), gh, gspec))
# gapminder with remainder passthrough: country keeps its top 100 of 185
# categories. The 1985-89 rows of the countries after the 100th (by name)
# are all outside them, but every country has 5 rows in 1960-64: none of
# the kept ones stands clearly above the cut, so no other_categories (the
# profile cannot tell this mix change from luck); year is out of range.
gpspec = {"numeric": ["infant_mortality", "life_expectancy", "fertility", "gdp", "year"],
          "categorical": ["continent"], "plain": ["country"], "remainder": "passthrough",
          "order": ["infant_mortality", "life_expectancy", "fertility", "gdp", "continent", "country", "year"]}
names = sorted({r["country"] for r in g60})
late = [r for r in g85 if r["country"] in set(names[TOP:])]
write("gapminder_1985_89_late_countries.csv", late, gh)
cases["gapminder_other_categories"] = ("gapminder_passthrough.yaml", "gapminder_1960_64.csv",
                                       "gapminder_1985_89_late_countries.csv", expected(g60, late, gh, gpspec))

# flights: the quickstart sample's months, every 8th row.
fl = read(os.path.join(os.path.dirname(HERE), "..", "quickstart", "flights_2001h1_sample.csv.gz"))
fh = ["date", "delay", "distance", "origin", "destination"]
month = {m: every([r for r in fl if r["date"].startswith("2001-%s" % m)], 8) for m in ["01", "02", "06"]}
for m, rows in month.items():
    write("flights_%s.csv" % m, rows, fh)
fspec = {"numeric": ["delay", "distance"], "categorical": ["origin", "destination"], "time": ["date"],
         "remainder": "passthrough", "order": ["delay", "distance", "origin", "destination", "date"]}
for m in ["02", "06"]:
    cases["flights_clean_%s" % m] = ("flights.yaml", "flights_01.csv", "flights_%s.csv" % m,
                                     expected(month["01"], month[m], fh, fspec))
# delay written with a unit in 40 rows of February
feb = [dict(r) for r in month["02"]]
for i in range(0, 40 * 40, 40):
    feb[i]["delay"] = feb[i]["delay"] + " min"
write("flights_02_delay_units.csv", feb, fh)
cases["flights_type_change"] = ("flights.yaml", "flights_01.csv", "flights_02_delay_units.csv",
                                expected(month["01"], feb, fh, fspec))
# June dates written month first (06/15/2001 10:05) in every third row
jun = [dict(r) for r in month["06"]]
for i in range(0, len(jun), 3):
    d = jun[i]["date"]
    jun[i]["date"] = "%s/%s/%s %s" % (d[5:7], d[8:10], d[0:4], d[11:])
write("flights_06_date_layout.csv", jun, fh)
cases["flights_time_layout"] = ("flights.yaml", "flights_01.csv", "flights_06_date_layout.csv",
                                expected(month["01"], jun, fh, fspec))
# a renamed header: Distance for distance
ren = [{("Distance" if k == "distance" else k): v for k, v in r.items()} for r in month["02"]]
rh = ["date", "delay", "Distance", "origin", "destination"]
write("flights_02_renamed.csv", ren, rh)
cases["flights_renamed_header"] = ("flights.yaml", "flights_01.csv", "flights_02_renamed.csv",
                                   expected(month["01"], ren, rh, fspec))
# an extra column (the spec passed every training column through)
ext = [dict(r, delay_hours=("%.4f" % (float(r["delay"]) / 60))) for r in month["02"]]
eh = fh + ["delay_hours"]
write("flights_02_extra.csv", ext, eh)
cases["flights_unexpected_column"] = ("flights.yaml", "flights_01.csv", "flights_02_extra.csv",
                                      expected(month["01"], ext, eh, fspec))
# distance in kilometres
km = [dict(r, distance=str(round(float(r["distance"]) * 1.609344))) for r in month["06"]]
write("flights_06_km.csv", km, fh)
# (only one value leaves the training range: a unit change inside the range
# is drift's to find, not validate's)
cases["flights_units_km_inside_range"] = ("flights.yaml", "flights_01.csv", "flights_06_km.csv",
                                          expected(month["01"], km, fh, fspec))
# delay in seconds
sec = [dict(r, delay=str(int(r["delay"]) * 60)) for r in month["06"]]
write("flights_06_delay_seconds.csv", sec, fh)
cases["flights_units_seconds"] = ("flights.yaml", "flights_01.csv", "flights_06_delay_seconds.csv",
                                  expected(month["01"], sec, fh, fspec))

# flights with origin passed through (157 origins, the profile keeps 100;
# 45 stand clearly above luck, 81% of January's rows). February as it is
# is clean; February's flights from origins outside January's 20 busiest
# only are other_categories.
fpspec = {"numeric": ["delay", "distance"], "categorical": ["destination"], "time": ["date"], "plain": ["origin"],
          "remainder": "passthrough", "order": ["delay", "distance", "destination", "date", "origin"]}
cases["flights_passthrough_clean_02"] = ("flights_passthrough.yaml", "flights_01.csv", "flights_02.csv",
                                         expected(month["01"], month["02"], fh, fpspec))
jan_origins = {}
for r in month["01"]:
    jan_origins[r["origin"]] = jan_origins.get(r["origin"], 0) + 1
busiest = {v for v, _ in sorted(jan_origins.items(), key=lambda kv: (-kv[1], kv[0]))[:20]}
small = [r for r in month["02"] if r["origin"] not in busiest]
write("flights_02_small_origins.csv", small, fh)
cases["flights_other_origins"] = ("flights_passthrough.yaml", "flights_01.csv", "flights_02_small_origins.csv",
                                  expected(month["01"], small, fh, fpspec))

# penguins: fitted on Biscoe and Dream; 2009 brings Torgersen.
pg = read(os.path.join(SRC, "penguins.csv"))
ph = list(pg[0].keys())
ptrain = [r for r in pg if r["island"] != "Torgersen" and r["year"] != "2009"]
pcur = [r for r in pg if r["year"] == "2009"]
pclean = [r for r in pg if r["island"] != "Torgersen" and r["year"] == "2009"]
write("penguins_2007_08_no_torgersen.csv", ptrain, ph)
write("penguins_2009.csv", pcur, ph)
write("penguins_2009_no_torgersen.csv", pclean, ph)
pspec = {"numeric": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"],
         "categorical": ["island", "sex"], "remainder": "drop",
         "order": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex"]}
cases["penguins_unseen_island"] = ("penguins.yaml", "penguins_2007_08_no_torgersen.csv", "penguins_2009.csv",
                                   expected(ptrain, pcur, ph, pspec))
cases["penguins_clean_2009"] = ("penguins.yaml", "penguins_2007_08_no_torgersen.csv",
                                "penguins_2009_no_torgersen.csv", expected(ptrain, pclean, ph, pspec))

# diamonds: every 27th row to fit; another 27th as a clean sample; the Ideal
# cut only (a filtered export): constant; depth lost: empty.
dm = read(os.path.join(SRC, "diamonds.csv"))
dh = list(dm[0].keys())
dtrain, dother = every(dm, 27, 0), every(dm, 27, 13)
dideal = [r for r in dother if r["cut"] == "Ideal"][:300]
dnodepth = [dict(r, depth="NA") for r in dother[:500]]
write("diamonds_train.csv", dtrain, dh)
write("diamonds_sample.csv", dother, dh)
write("diamonds_ideal_only.csv", dideal, dh)
write("diamonds_no_depth.csv", dnodepth, dh)
dspec = {"numeric": ["carat", "depth", "table", "price"], "categorical": ["cut", "color", "clarity"],
         "remainder": "drop", "order": ["carat", "depth", "table", "price", "cut", "color", "clarity"]}
cases["diamonds_clean"] = ("diamonds.yaml", "diamonds_train.csv", "diamonds_sample.csv",
                           expected(dtrain, dother, dh, dspec))
cases["diamonds_constant_cut"] = ("diamonds.yaml", "diamonds_train.csv", "diamonds_ideal_only.csv",
                                  expected(dtrain, dideal, dh, dspec))
cases["diamonds_empty_depth"] = ("diamonds.yaml", "diamonds_train.csv", "diamonds_no_depth.csv",
                                 expected(dtrain, dnodepth, dh, dspec))

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump({name: {"spec": s, "train": t, "data": d, "anomalies": a} for name, (s, t, d, a) in cases.items()},
              f, indent=1, sort_keys=True)
    f.write("\n")
for name, (_, _, _, a) in sorted(cases.items()):
    print(name, [(x["column"], x["code"]) for x in a])
