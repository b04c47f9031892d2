"""Reference values for the embed package's tests, computed with numpy,
scipy and scikit-learn (Debian's python3-numpy 1.24, python3-scipy 1.10,
python3-sklearn 1.2; run with /usr/bin/python3 from embed/testdata):

    /usr/bin/python3 reference.py > reference.json

Input: glove100d_2k.npy (see README.md). Every number is computed here
from the data and the definitions in embed/doc.go, never taken from the
Go code's output.
"""
import json

import numpy as np
from scipy.spatial.distance import pdist, squareform
from scipy.stats import wasserstein_distance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

X = np.load("glove100d_2k.npy").astype(np.float64)
probs = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]


def mmd_case(name, ref, cur):
    z = np.vstack([ref, cur])
    d2 = pdist(z, "sqeuclidean")  # distinct pairs i < j
    h = float(np.quantile(d2, 0.5))
    k = np.exp(-squareform(d2) / h)  # diagonal: exp(0) = 1, excluded below
    m, n = len(ref), len(cur)
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    mmd2 = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.sum() / (m * n))
    mr, mc = ref.mean(0), cur.mean(0)
    wn = [wasserstein_distance(ref[:, a], cur[:, a]) / ref[:, a].std() for a in range(ref.shape[1])]
    return {
        "name": name, "h": h, "bandwidth": float(np.sqrt(h / 2)), "mmd2": float(mmd2),
        "mean_euclidean": float(np.linalg.norm(mr - mc)),
        "mean_cosine": float(1 - mr @ mc / (np.linalg.norm(mr) * np.linalg.norm(mc))),
        "wasserstein_normed": [float(v) for v in wn],
        "drifted_dims": int(sum(v > 0.1 for v in wn)),
    }


def sel(spec):
    a, b, s = spec
    return X[a:b:s]


mmd_specs = [
    ("frequent_vs_rare", (0, 300, 1), (1700, 2000, 1)),
    ("clean_even_odd", (0, 400, 2), (1, 400, 2)),
]
mmd = []
for name, r, c in mmd_specs:
    case = mmd_case(name, sel(r), sel(c))
    case["ref"], case["cur"] = list(r), list(c)
    mmd.append(case)


def auc_case(name, r, c):
    ref, cur = sel(r), sel(c)
    train = np.vstack([ref[0::2], cur[0::2]])
    ytrain = np.r_[np.zeros(len(ref[0::2])), np.ones(len(cur[0::2]))]
    test = np.vstack([ref[1::2], cur[1::2]])
    ytest = np.r_[np.zeros(len(ref[1::2])), np.ones(len(cur[1::2]))]
    mu, sd = train.mean(0), train.std(0)
    sd[sd == 0] = 1
    clf = LogisticRegression(C=1.0, solver="newton-cg", tol=1e-13, max_iter=100000)
    clf.fit((train - mu) / sd, ytrain)
    scores = clf.decision_function((test - mu) / sd)
    return {"name": name, "ref": list(r), "cur": list(c),
            "coef": [float(v) for v in clf.coef_[0]], "intercept": float(clf.intercept_[0]),
            "scores": [float(v) for v in scores], "auc": float(roc_auc_score(ytest, scores))}


auc = [auc_case("frequent_vs_rare", (0, 400, 1), (1600, 2000, 1)),
       auc_case("clean_even_odd", (0, 800, 2), (1, 800, 2))]

# Profile of all 2,000 vectors. The Go Fit finds the principal directions
# on the rows with an even index (its sample holds up to 2,000 of them, so
# here all 1,000) and measures their variance share on the odd rows.
norms = np.linalg.norm(X, axis=1)
even, odd = X[0::2], X[1::2]
c = np.cov(even.T, bias=True)
w, v = np.linalg.eigh(c)
order = np.argsort(w)[::-1][:10]
dirs = []
for i in order:
    u = v[:, i]
    if u[np.argmax(np.abs(u))] < 0:
        u = -u
    dirs.append([float(t) for t in u])
V = v[:, order]
oc = odd - odd.mean(0)
share = ((oc @ V) ** 2).sum() / (oc ** 2).sum()
profile = {
    "mean": [float(t) for t in X.mean(0)], "std": [float(t) for t in X.std(0)],
    "norm_quantiles": [float(t) for t in np.quantile(norms, probs)],
    "norm_mean": float(norms.mean()), "norm_std": float(norms.std()),
    "variances": [float(w[i]) for i in order], "directions": dirs,
    "total_variance": float(np.trace(c)), "component_share": float(share),
}

print(json.dumps({"mmd": mmd, "auc": auc, "profile": profile}, indent=1))
