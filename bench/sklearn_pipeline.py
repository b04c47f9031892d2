#!/usr/bin/python3
"""The scikit-learn side of the normguard benchmark: the same pipeline as
bench/gendata's spec.yaml, done the usual pandas + scikit-learn way.

    read_csv -> ColumnTransformer([SimpleImputer(median) -> StandardScaler] on
    the 20 numeric columns, remainder='passthrough') -> fit_transform -> to_csv

Usage: /usr/bin/python3 bench/sklearn_pipeline.py IN.csv OUT.csv
Stage times are printed to stderr; the whole process is what run.sh times.
"""
import sys
import time

t_start = time.perf_counter()
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

NUMERIC = ([f"norm_{i}" for i in range(5)] + [f"lognorm_{i}" for i in range(5)]
           + [f"unif_{i}" for i in range(5)] + [f"count_{i}" for i in range(5)])


def main(src, dst):
    t_import = time.perf_counter()
    df = pd.read_csv(src)
    t_read = time.perf_counter()
    ct = ColumnTransformer(
        [("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    ct.set_output(transform="pandas")
    out = ct.fit_transform(df)
    t_fit = time.perf_counter()
    out.to_csv(dst, index=False)
    t_write = time.perf_counter()
    print(f"stages: import {t_import - t_start:.3f}s read_csv {t_read - t_import:.3f}s "
          f"fit_transform {t_fit - t_read:.3f}s to_csv {t_write - t_fit:.3f}s "
          f"total {t_write - t_start:.3f}s", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: sklearn_pipeline.py IN.csv OUT.csv")
    main(sys.argv[1], sys.argv[2])
