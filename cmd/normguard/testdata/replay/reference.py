#!/usr/bin/python3
"""Reference values for TestReplayKSAgainstScipy (monitor_replay_test.go).

Reads the shipped flights sample (quickstart/flights_2001h1_sample.csv.gz),
takes January and February as the training rows, groups every row into
ISO weeks (7-day windows starting Mondays 00:00 UTC: multiples of 7 days
since Monday 1970-01-05),
and writes, per window, scipy.stats.ks_2samp of the window's `delay` values
against the training `delay` values (method auto; missing values dropped).

Run from the repository root with Debian's Python:
    /usr/bin/python3 cmd/normguard/testdata/replay/reference.py > cmd/normguard/testdata/replay/ks_delay_by_week.json
"""
import json

import numpy as np
import pandas as pd
import scipy
from scipy import stats

df = pd.read_csv("quickstart/flights_2001h1_sample.csv.gz")
t = pd.to_datetime(df["date"], format="%Y-%m-%d %H:%M")
monday = pd.Timestamp("1970-01-05")  # the first Monday after the epoch
days = (t - monday).dt.days
week = (days // 7) * 7
start = monday + pd.to_timedelta(week, unit="D")
assert (start.dt.dayofweek == 0).all()  # pandas: Monday is 0
train = df.loc[df["date"] < "2001-03", "delay"].dropna().to_numpy(dtype=float)
out = {"scipy": scipy.__version__, "numpy": np.__version__, "windows": []}
for s in sorted(start.unique()):
    cur = df.loc[start == s, "delay"].dropna().to_numpy(dtype=float)
    r = stats.ks_2samp(train, cur)
    out["windows"].append({
        "start": pd.Timestamp(s).strftime("%Y-%m-%d"),
        "rows": int((start == s).sum()),
        "ks": float(r.statistic),
        "p_value": float(r.pvalue),
    })
print(json.dumps(out, indent=1))
