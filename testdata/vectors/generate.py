"""Builds testdata/vectors from ../shared/datasets/glove and scikit-learn.

Run with Debian's python3 (numpy 1.24, scikit-learn 1.2):
    /usr/bin/python3 testdata/vectors/generate.py /work/shared/datasets/glove/glove100d_20k.npy
"""
import json
import sys

import numpy as np
from sklearn.preprocessing import Normalizer, StandardScaler

src = np.load(sys.argv[1])  # (20000, 100) float32, C order
out = "testdata/vectors/"

# 200 rows spread over the frequency order (every 100th word), float32.
np.save(out + "glove200.npy", np.ascontiguousarray(src[::100]))

# 40 rows (every 500th word) plus one zero vector, as JSON Lines. The float32
# values are written as the shortest text of their float64 value, so the
# JSONL and the .npy hold the same numbers.
rows = src[::500].astype(np.float64)
rows = np.vstack([rows, np.zeros((1, rows.shape[1]))])
with open(out + "glove41.jsonl", "w") as f:
    for i, v in enumerate(rows):
        f.write(json.dumps({"id": i, "emb": [float(x) for x in v]}) + "\n")

# scikit-learn on the matrix whose rows are the vectors.
refs = {
    "normalizer_l2": Normalizer(norm="l2").fit_transform(rows),
    "normalizer_l1": Normalizer(norm="l1").fit_transform(rows),
    "normalizer_max": Normalizer(norm="max").fit_transform(rows),
    "standard_scaler": StandardScaler().fit_transform(rows),
    "normalizer_l2_standard_scaler": StandardScaler().fit_transform(Normalizer().fit_transform(rows)),
}
for name, m in refs.items():
    np.save(out + "ref_" + name + ".npy", np.ascontiguousarray(m, dtype="<f8"))

# Small arrays of every layout the .npy reader takes, and their values.
small = (np.arange(15, dtype=np.float64).reshape(5, 3) - 7) / 4 + 1 / 3
layouts = {
    "small_f8_le_c.npy": small.astype("<f8"),
    "small_f8_be_c.npy": small.astype(">f8"),
    "small_f4_le_f.npy": np.asfortranarray(small.astype("<f4")),
    "small_f4_be_f.npy": np.asfortranarray(small.astype(">f4")),
    "small_f2_le_c.npy": small.astype("<f2"),
}
expect = {}
for name, a in layouts.items():
    np.save(out + name, a)
    expect[name] = [[float(x) for x in row] for row in a.astype(np.float64)]
np.save(out + "small_i4.npy", np.arange(6, dtype="<i4").reshape(2, 3))
np.save(out + "small_1d.npy", np.arange(4, dtype="<f4"))
with open(out + "small_expected.json", "w") as f:
    json.dump(expect, f, indent=1)
    f.write("\n")
