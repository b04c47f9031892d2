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


def write_case(name, spec, train, test, make, group_cols, note, rtol=0.0, atol=0.0, fitted=None):
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
                   "sklearn_version": sklearn.__version__,
                   "fitted": fitted(ct.named_transformers_["g"]) if fitted else None}, f, indent=1)


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

    # 2. Integer codes: pandas reads int64, scikit-learn sorts numerically.
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
    codes = np.array([1, 2, 12, 3, 25, 100, -4, 7])
    train = pd.DataFrame({"store": rng.choice(codes, 60), "code": rng.choice(codes[:5], 60)})
    test = pd.DataFrame({"store": rng.choice(codes, 15), "code": rng.choice(codes[:5], 15)})
    write_case("one_hot_encoder__int_codes",
               {"version": 1, "columns": [{"names": ["store", "code"], "type": "categorical",
                                           "steps": ["one_hot_encoder"]}]},
               train, test, lambda: OneHotEncoder(sparse_output=False), ["store", "code"],
               "integer categories sort numerically (x_1, x_2, x_12), as np.unique on int64")
    write_case("ordinal_encoder__int_codes",
               {"version": 1, "columns": [{"names": ["store", "code"], "type": "categorical",
                                           "steps": ["ordinal_encoder"]}]},
               train, test, OrdinalEncoder, ["store", "code"],
               "integer categories get codes in numeric order")

    # 3. Ties in frequency: the infrequent ones are the first in category order.
    vals = [1, 2, 12, 3, 25, 100]
    counts = [4, 4, 4, 4, 9, 9]
    store = np.repeat(vals, counts)
    rng.shuffle(store)
    train = pd.DataFrame({"store": store})
    test = pd.DataFrame({"store": np.array(vals * 2)})
    write_case("one_hot_encoder__int_max_categories_ties",
               {"version": 1, "columns": [{"names": ["store"], "type": "categorical",
                                           "steps": [{"one_hot_encoder": {
                                               "max_categories": 4,
                                               "handle_unknown": "infrequent_if_exist"}}]}]},
               train, test,
               lambda: OneHotEncoder(sparse_output=False, max_categories=4,
                                     handle_unknown="infrequent_if_exist"),
               ["store"], "ties in count are broken by numeric category order")
    write_case("one_hot_encoder__int_min_frequency_drop_first",
               {"version": 1, "columns": [{"names": ["store"], "type": "categorical",
                                           "steps": [{"one_hot_encoder": {
                                               "min_frequency": 5, "drop": "first",
                                               "handle_unknown": "infrequent_if_exist"}}]}]},
               train, test,
               lambda: OneHotEncoder(sparse_output=False, min_frequency=5, drop="first",
                                     handle_unknown="infrequent_if_exist"),
               ["store"], "drop=first drops the numerically smallest frequent category")

    # 4. Decimal values (a float64 column without integers): numeric order, names as repr.
    fvals = np.array([0.5, 10.25, -3.75, 2.5, 100.125, 1.5])
    train = pd.DataFrame({"rate": rng.choice(fvals, 40)})
    test = pd.DataFrame({"rate": rng.choice(fvals, 10)})
    write_case("one_hot_encoder__float_values",
               {"version": 1, "columns": [{"names": ["rate"], "type": "categorical",
                                           "steps": [{"one_hot_encoder": {"handle_unknown": "ignore"}}]}]},
               train, test, lambda: OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
               ["rate"], "float categories sort numerically; names are repr of the float")

    # 5. simple_imputer with a placeholder for missing values.
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    a = rng.normal(5, 2, 50).round(2)
    a[rng.random(50) < 0.2] = 0
    b = rng.integers(-1, 6, 50).astype(float)
    train = pd.DataFrame({"a": a, "b": b})
    ta = rng.normal(5, 2, 12).round(2)
    ta[[1, 4, 7]] = 0
    test = pd.DataFrame({"a": ta, "b": rng.integers(-1, 6, 12).astype(float)})
    for strategy in ["mean", "median", "most_frequent"]:
        write_case("simple_imputer__missing_values_0_" + strategy,
                   {"version": 1, "columns": [{"names": ["a", "b"], "type": "numeric",
                                               "steps": [{"simple_imputer": {
                                                   "missing_values": 0, "strategy": strategy,
                                                   "add_indicator": True}}]}]},
                   train, test,
                   lambda: SimpleImputer(missing_values=0, strategy=strategy, add_indicator=True),
                   ["a", "b"], "0 stands for a missing value in fit and transform, indicator included",
                   rtol=1e-15)
    write_case("simple_imputer__missing_values_minus1_constant",
               {"version": 1, "columns": [{"names": ["b"], "type": "numeric",
                                           "steps": [{"simple_imputer": {
                                               "missing_values": -1, "strategy": "constant",
                                               "fill_value": 99, "add_indicator": True}}]}]},
               train, test,
               lambda: SimpleImputer(missing_values=-1, strategy="constant", fill_value=99,
                                     add_indicator=True),
               ["b"], "-1 is replaced by fill_value")
    cities = np.array(["oslo", "rome", "?", "lima", "rome", "?"])
    train = pd.DataFrame({"city": rng.choice(cities, 40)})
    test = pd.DataFrame({"city": np.array(["?", "oslo", "lima", "rome", "?"])})
    write_case("simple_imputer__missing_values_text_then_one_hot",
               {"version": 1, "columns": [{"names": ["city"], "type": "categorical",
                                           "steps": [{"simple_imputer": {
                                               "missing_values": "?", "strategy": "most_frequent"}},
                                               "one_hot_encoder"]}]},
               train, test,
               lambda: make_pipeline(SimpleImputer(missing_values="?", strategy="most_frequent"),
                                     OneHotEncoder(sparse_output=False)),
               ["city"], "a text placeholder is replaced by the most frequent other value")

    # 6. kbins_discretizer strategy kmeans.
    from sklearn.preprocessing import KBinsDiscretizer
    train = pd.DataFrame({"a": np.r_[rng.normal(0, 1, 60), rng.normal(6, 0.5, 30)].round(3),
                          "b": rng.exponential(2.0, 90).round(3),
                          "c": rng.integers(0, 4, 90).astype(float)})
    test = pd.DataFrame({"a": rng.normal(2, 3, 20).round(3), "b": rng.exponential(2.0, 20).round(3),
                         "c": rng.integers(0, 4, 20).astype(float)})
    for n_bins, encode in [(3, "ordinal"), (5, "onehot-dense"), (8, "ordinal")]:
        write_case("kbins_discretizer__kmeans_%d_%s" % (n_bins, encode),
                   {"version": 1, "columns": [{"names": ["a", "b", "c"], "type": "numeric",
                                               "steps": [{"kbins_discretizer": {
                                                   "n_bins": n_bins, "strategy": "kmeans",
                                                   "encode": encode}}]}]},
                   train, test,
                   lambda: KBinsDiscretizer(n_bins=n_bins, strategy="kmeans", encode=encode),
                   ["a", "b", "c"], "1-D KMeans from uniform-midpoint centers; edges at center midpoints",
                   fitted=lambda k: {"bin_edges_": [[float(v) for v in e] for e in k.bin_edges_]})

    # 7. Integer codes with empty cells: the CSV says 1, 12, ... but pandas reads float64
    #    (NaN needs a float), so scikit-learn names the outputs store_1.0, store_12.0, store_nan;
    #    a column without empty cells stays int64 (code_3, code_10).
    rng7 = np.random.default_rng(7)
    ids = np.array([1, 2, 12, 7, 30])
    store = rng7.choice(ids, 60).astype(object)
    store[rng7.random(60) < 0.15] = None
    tstore = rng7.choice(ids, 12).astype(object)
    tstore[[2, 9]] = None
    train = pd.DataFrame({"store": pd.array(store, dtype="Int64"),
                          "code": rng7.choice([3, 10, 25], 60)})
    test = pd.DataFrame({"store": pd.array(tstore, dtype="Int64"),
                         "code": rng7.choice([3, 10, 25], 12)})
    write_case("one_hot_encoder__int_codes_with_missing",
               {"version": 1, "columns": [{"names": ["store", "code"], "type": "categorical",
                                           "steps": [{"one_hot_encoder": {"handle_unknown": "ignore"}}]}]},
               train, test, lambda: OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
               ["store", "code"], "integer text with empty cells is float64 in pandas: names as repr of the float")


if __name__ == "__main__":
    cases()
