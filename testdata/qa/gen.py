#!/usr/bin/python3
"""Writes the QA fixtures of testdata/qa from the project's shipped tables.

Run from the repository root:
    /usr/bin/python3 testdata/qa/gen.py /work/shared/datasets
Each fixture is a small subset of a shipped table (see README.md), changed
as its name says; the counts the tests expect are printed here from the
rows themselves (pandas), never from normguard.
"""
import os
import sys

import numpy as np
import pandas as pd

SRC = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/datasets'
OUT = os.path.dirname(os.path.abspath(__file__))


def write(df, name):
    df.to_csv(os.path.join(OUT, name), index=False)


def diamonds_text():
    """diamonds: 400 reference rows, 300 current rows of which 3 have depth
    written with a unit ("61.5 mm")."""
    d = pd.read_csv(os.path.join(SRC, 'diamonds.csv'), dtype=str, keep_default_na=False)
    d = d[['carat', 'depth', 'cut']]
    rng = np.random.default_rng(20261204)
    idx = rng.permutation(len(d))
    ref = d.iloc[idx[:400]]
    cur = d.iloc[idx[400:700]].copy()
    bad = rng.choice(len(cur), 3, replace=False)
    cur.iloc[bad, cur.columns.get_loc('depth')] = cur.iloc[bad]['depth'] + ' mm'
    write(ref, 'diamonds_ref.csv')
    write(cur, 'diamonds_depth_units.csv')
    n = pd.to_numeric(cur['depth'], errors='coerce').isna().sum()
    print('diamonds_depth_units.csv: depth values that are not numbers:', n, 'of', len(cur))


if __name__ == '__main__':
    diamonds_text()
