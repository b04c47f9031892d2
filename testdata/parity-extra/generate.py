#!/usr/bin/python3
"""Writes the extra scikit-learn parity cases in this folder.

Run with Debian 12's /usr/bin/python3 (scikit-learn 1.2.1, pandas 1.5.3, numpy 1.24.2):
    cd testdata/parity-extra && /usr/bin/python3 generate.py
Each case folder has the layout of ../peer-vectors (see its README): spec.json (written by
json.dump, so characters above U+FFFF appear as surrogate-pair escapes), train.csv, test.csv,
expected.csv (scikit-learn's fit(train).transform(test), header get_feature_names_out(), floats
as Python repr) and case.json. The CSVs are read back with pandas.read_csv, so a column holds
what a pandas user would have (int64 for integer codes).
"""
import json
import os

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer


def cell(v):
    if isinstance(v, float) and np.isnan(v):
        return ""
    return repr(float(v))


def write_case(name, spec, train, test, make, group_cols, note, rtol=0.0, atol=0.0):
    os.makedirs(name, exist_ok=True)
    with open(os.path.join(name, "spec.json"), "w") as f:
        json.dump(spec, f)
    train.to_csv(os.path.join(name, "train.csv"), index=False)
    test.to_csv(os.path.join(name, "test.csv"), index=False)
    # Read back exactly as a pandas user would.
    tr = pd.read_csv(os.path.join(name, "train.csv"))
    te = pd.read_csv(os.path.join(name, "test.csv"))
    ct = ColumnTransformer([("g", make(), group_cols)], remainder="drop",
                           verbose_feature_names_out=False)
    out = ct.fit(tr).transform(te)
    names = [str(n) for n in ct.get_feature_names_out()]
    with open(os.path.join(name, "expected.csv"), "w") as f:
        f.write(",".join(names) + "\n")
        for row in np.asarray(out, dtype=float):
            f.write(",".join(cell(v) for v in row) + "\n")
    with open(os.path.join(name, "case.json"), "w") as f:
        json.dump({"name": name, "sklearn": repr(make()), "note": note, "rtol": rtol,
                   "atol": atol, "expect_error": False,
                   "sklearn_version": sklearn.__version__}, f, indent=1)


def cases():
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(15)

    # 1. A column named with an emoji: spec.json carries "\ud83d\ude00".
    col = "\U0001F600 score"
    train = pd.DataFrame({col: rng.normal(10, 3, 40).round(3)})
    test = pd.DataFrame({col: rng.normal(10, 3, 10).round(3)})
    write_case("json_surrogate_name",
               {"version": 1, "columns": [{"names": [col], "type": "numeric",
                                           "steps": ["standard_scaler"]}]},
               train, test, StandardScaler, [col],
               "json.dump escapes U+1F600 as a surrogate pair; the spec is valid JSON",
               rtol=1e-15)


if __name__ == "__main__":
    cases()
