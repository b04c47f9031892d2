#!/usr/bin/python3
"""Make the ONNX fixtures of `normguard model check` (package modelcheck).

Small tabular networks with normalization layers are trained with PyTorch
(Debian's python3-torch 1.13) on the project's shipped tables and exported
with torch.onnx.export, each with a known normalization problem planted the
way it happens in practice (or none, for the clean models).

Features are standardized with scikit-learn's StandardScaler (and
OneHotEncoder for diamonds' cut) fitted on the training split, the same
spec that `normguard fit` fits on the training CSV written here, so that
`model check --artifact` can be checked against the artifacts made by

    go run ./cmd/normguard fit --spec testdata/models/penguins.yaml \
        --data testdata/models/penguins_train.csv --out testdata/models/penguins.artifact.json
    (likewise wine and diamonds)

Run from the repository root:  /usr/bin/python3 testdata/models/make_models.py
Needs python3-torch, python3-sklearn, python3-pandas, python3-onnx (Debian).
"""
import json
import os

import numpy as np
import onnx
import pandas as pd
import torch
import torch.nn as nn
from onnx import numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("NORMGUARD_DATASETS", os.path.join(HERE, "..", "..", "..", "shared", "datasets"))

PENGUIN_NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
WINE_NUM = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
            "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
            "od280/od315_of_diluted_wines", "proline"]
DIAMOND_NUM = ["carat", "depth", "table", "x", "y", "z"]


def spec_yaml(num, cat=None):
    s = "version: 1\nremainder: drop\ncolumns:\n"
    s += "  - names: [%s]\n    type: numeric\n    steps:\n      - standard_scaler: {}\n" % ", ".join(
        '"%s"' % n for n in num)
    if cat:
        s += "  - names: [%s]\n    type: categorical\n    steps:\n      - one_hot_encoder: {handle_unknown: ignore}\n" % ", ".join(cat)
    return s


def split(name, df, target, num, cat=None, seed=0):
    """Training split (written with the spec for normguard fit) and the fitted sklearn transform."""
    train, _ = train_test_split(df, test_size=0.2, random_state=seed, stratify=df[target] if df[target].dtype == object or df[target].nunique() < 10 else None)
    train = train.reset_index(drop=True)
    train.to_csv(os.path.join(HERE, name + "_train.csv"), index=False)
    with open(os.path.join(HERE, name + ".yaml"), "w") as f:
        f.write(spec_yaml(num, cat))
    parts = [("num", StandardScaler(), num)]
    if cat:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat))
    ct = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False).fit(train)
    return train, ct


class MLP(nn.Module):
    """BatchNorm on the inputs, Linear, BatchNorm, ReLU, Linear."""

    def __init__(self, d_in, d_out, hidden=16, eps=1e-5, pre=None):
        super().__init__()
        torch.manual_seed(0)  # the same initial weights whatever ran before
        self.pre = pre
        self.bn_in = nn.BatchNorm1d(d_in, eps=eps)
        self.fc1 = nn.Linear(d_in, hidden)
        self.bn1 = nn.BatchNorm1d(hidden, eps=eps)
        self.fc2 = nn.Linear(hidden, d_out)

    def forward(self, x):
        if self.pre is not None:
            x = self.pre(x)
        return self.fc2(torch.relu(self.bn1(self.fc1(self.bn_in(x)))))


class Affine(nn.Module):
    """A fixed per-feature affine map y = (x - center) / scale, or its inverse."""

    def __init__(self, center, scale, inverse=False):
        super().__init__()
        self.register_buffer("center", torch.tensor(center, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.inverse = inverse

    def forward(self, x):
        if self.inverse:
            return x * self.scale + self.center
        return (x - self.center) / self.scale


class BatchStandardize(nn.Module):
    """Standardizes each feature with the batch's own mean and std: the in-graph per-batch pitfall."""

    def forward(self, x):
        return (x - x.mean(0, keepdim=True)) / x.std(0, keepdim=True)


class OtherNorms(nn.Module):
    """LayerNorm, GroupNorm and InstanceNorm on hidden units (no BatchNorm)."""

    def __init__(self, d_in, d_out):
        super().__init__()
        torch.manual_seed(0)  # the same initial weights whatever ran before
        self.fc1 = nn.Linear(d_in, 16)
        self.ln = nn.LayerNorm(16)
        self.gn = nn.GroupNorm(4, 16)
        self.inorm = nn.InstanceNorm1d(2, affine=True)
        self.fc2 = nn.Linear(16, d_out)

    def forward(self, x):
        h = torch.relu(self.ln(self.fc1(x)))
        h = self.gn(h.unsqueeze(-1)).squeeze(-1)  # GroupNorm on [N, C, 1]: 1.13 cannot export it on [N, C]
        h = self.inorm(h.reshape(-1, 2, 8)).reshape(-1, 16)
        return self.fc2(h)


class SingleValueNorms(nn.Module):
    """GroupNorm(16, 16) on [N, 16, 1]: groups of one value (PyTorch trains it; it refuses
    InstanceNorm1d on a length-1 axis in training)."""

    def __init__(self, d_in, d_out):
        super().__init__()
        torch.manual_seed(0)  # the same initial weights whatever ran before
        self.fc1 = nn.Linear(d_in, 16)
        self.gn = nn.GroupNorm(16, 16)
        self.fc2 = nn.Linear(16, d_out)

    def forward(self, x):
        h = torch.relu(self.fc1(x)).unsqueeze(-1)
        h = self.gn(h)
        return self.fc2(h.squeeze(-1))


class TwoInputs(nn.Module):
    """Numeric and one-hot features as two inputs; BatchNorm on the numeric ones only."""

    def __init__(self, d_num, d_cat, d_out):
        super().__init__()
        torch.manual_seed(0)  # the same initial weights whatever ran before
        self.bn_num = nn.BatchNorm1d(d_num)
        self.fc = nn.Linear(d_num + d_cat, 16)
        self.bn = nn.BatchNorm1d(16)
        self.out = nn.Linear(16, d_out)

    def forward(self, num, cat):
        h = torch.cat([self.bn_num(num), cat], dim=1)
        return self.out(torch.relu(self.bn(self.fc(h))))


class PerFeature(nn.Module):
    """One [N, 1] input per feature, concatenated, then the MLP."""

    def __init__(self, mlp):
        super().__init__()
        self.mlp = mlp

    def forward(self, *cols):
        return self.mlp(torch.cat(cols, dim=1))


class ConvNet(nn.Module):
    """Features as a 1-channel sequence: Conv1d, BatchNorm1d over conv channels, Linear."""

    def __init__(self, d_in, d_out):
        super().__init__()
        torch.manual_seed(0)  # the same initial weights whatever ran before
        self.conv = nn.Conv1d(1, 6, kernel_size=2)
        self.bn = nn.BatchNorm1d(6)
        self.fc = nn.Linear(6 * (d_in - 1), d_out)

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x.unsqueeze(1))))
        return self.fc(h.flatten(1))


def train(model, xs, y, classify, epochs=60, batch=32, seed=0):
    torch.manual_seed(seed)
    xs = [torch.tensor(x, dtype=torch.float32) for x in xs]
    y = torch.tensor(y, dtype=torch.long if classify else torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss() if classify else nn.MSELoss()
    n = len(y)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n - batch + 1, batch):  # whole batches only
            idx = perm[i:i + batch]
            out = model(*[x[idx] for x in xs])
            loss = loss_fn(out.squeeze(-1) if not classify else out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def export(model, widths, name, training=False, opset=15, input_names=None, dynamic=True):
    input_names = input_names or ["features"]
    args = tuple(torch.zeros(4, w) for w in widths)
    path = os.path.join(HERE, name + ".onnx")
    mode = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL
    if training:
        model.train()
    torch.onnx.export(model, args, path, input_names=input_names, output_names=["output"],
                      dynamic_axes={n: {0: "N"} for n in input_names + ["output"]} if dynamic else None,
                      opset_version=opset, training=mode, do_constant_folding=not training)
    model.eval()
    return path


def edit_initializers(path, out, edits):
    """Rewrites named initializers: edits maps a name to a function of its numpy array."""
    m = onnx.load(path)
    for init in m.graph.initializer:
        if init.name in edits:
            a = numpy_helper.to_array(init).copy()
            a = edits[init.name](a)
            init.CopyFrom(numpy_helper.from_array(a.astype(np.float32), init.name))
    onnx.save(m, out)


def bn_stat_names(path):
    """Initializer names of each BatchNormalization's mean and variance, in node order."""
    m = onnx.load(path)
    return [(n.input[3], n.input[4]) for n in m.graph.node if n.op_type == "BatchNormalization"]


def bn_arrays(path):
    """Each BatchNormalization's name, epsilon, running mean and variance, as stored."""
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in m.graph.initializer}
    out = []
    for n in m.graph.node:
        if n.op_type == "BatchNormalization":
            eps = [a.f for a in n.attribute if a.name == "epsilon"]
            out.append((n.name, eps[0] if eps else 1e-5, inits.get(n.input[3]), inits.get(n.input[4])))
    return out


def main():
    np.random.seed(0)
    # What each fixture must show, computed here from the plant, for the Go tests.
    # "problems": codes that must be reported (error or warning); [] means nothing may be.
    expected = {}

    def expect(name, artifact, problems, **facts):
        expected.setdefault(name, []).append(dict(artifact=artifact, problems=problems, **facts))

    # penguins: 4 numeric features, 3 species.
    p = pd.read_csv(os.path.join(DATA, "penguins.csv")).dropna(subset=PENGUIN_NUM + ["species"])
    p = p[PENGUIN_NUM + ["species"]]
    ptrain, pct = split("penguins", p, "species", PENGUIN_NUM)
    classes = sorted(ptrain.species.unique())
    py = ptrain.species.map({c: i for i, c in enumerate(classes)}).values
    px = pct.transform(ptrain)
    praw = ptrain[PENGUIN_NUM].values.astype(np.float64)

    # (a) clean: trained on standardized features, exported in eval mode.
    m = train(MLP(4, 3), [px], py, True)
    export(m, [4], "penguins_clean")
    expect("penguins_clean", None, [])
    expect("penguins_clean", "penguins", [], fits_artifact="/bn_in/BatchNormalization")
    expect("penguins_clean", "wine", ["input_width_mismatch"], model_width=4, artifact_outputs=13)
    # (b) the same model exported in training mode.
    export(m, [4], "penguins_training_mode", training=True)
    expect("penguins_training_mode", None, ["batchnorm_training_mode", "running_stats_as_outputs"],
           nodes=["/bn_in/BatchNormalization", "/bn1/BatchNormalization"])
    # (b) the same, at opset 12: no training_mode attribute, the statistics as extra outputs.
    export(m, [4], "penguins_training_mode_opset12", training=True, opset=12)
    expect("penguins_training_mode_opset12", None, ["batchnorm_training_mode", "running_stats_as_outputs"],
           nodes=["/bn_in/BatchNormalization", "/bn1/BatchNormalization"])
    # one input per feature, named as the artifact's outputs.
    export(PerFeature(m), [1, 1, 1, 1], "penguins_per_feature_inputs", input_names=PENGUIN_NUM)
    expect("penguins_per_feature_inputs", "penguins", [], fits_artifact="/mlp/bn_in/BatchNormalization")
    expect("penguins_per_feature_inputs", "wine", ["input_names_mismatch"], missing=WINE_NUM, unexpected=PENGUIN_NUM)
    # (c) running statistics never tracked: track_running_stats=False normalizes with batch statistics.
    m = MLP(4, 3)
    m.bn_in = nn.BatchNorm1d(4, track_running_stats=False)
    m = train(m, [px], py, True)
    # (1.13 exports it only for a fixed batch size: the batch's shape goes into a Reshape)
    export(m, [4], "penguins_no_running_stats", dynamic=False)
    expect("penguins_no_running_stats", None, ["batchnorm_training_mode", "running_stats_as_outputs", "batch_statistics_in_graph",
                                               "untrained_running_stats"])
    # (c) running statistics never trained: reset to mean 0, variance 1.
    m = train(MLP(4, 3), [px], py, True)
    for bn in (m.bn_in, m.bn1):
        bn.reset_running_stats()
    export(m, [4], "penguins_untrained_stats")
    expect("penguins_untrained_stats", None, ["untrained_running_stats"],
           nodes=["/bn_in/BatchNormalization", "/bn1/BatchNormalization"])
    # (d) trained on unscaled features: the input BatchNorm learned the raw profile.
    m = train(MLP(4, 3), [praw], py, True)
    path = export(m, [4], "penguins_unscaled")
    expect("penguins_unscaled", None, [], input_mean=bn_arrays(path)[0][2].tolist())
    expect("penguins_unscaled", "penguins", ["trained_on_unscaled"], node="/bn_in/BatchNormalization",
           running_mean=bn_arrays(path)[0][2].tolist(), running_var=bn_arrays(path)[0][3].tolist(),
           raw_mean=praw.mean(0).tolist(), raw_std=praw.std(0).tolist(), features=PENGUIN_NUM)
    # (d) the same after one epoch (8 updates): the running averages are still on their way
    # from (0, 1) to the raw profile.
    m = train(MLP(4, 3), [praw], py, True, epochs=1)
    export(m, [4], "penguins_unscaled_brief")
    expect("penguins_unscaled_brief", None, [])
    expect("penguins_unscaled_brief", "penguins", ["trained_on_unscaled"], node="/bn_in/BatchNormalization", features=PENGUIN_NUM,
           convergence=1 - 0.9 ** (len(py) // 32))  # the weight of the raw profile after len//32 updates
    # (g) trained on features scaled twice (the scaler applied to its own output): the input
    # BatchNorm learned means −mean/std and variances 1/std².
    ptwice = (px - praw.mean(0)) / praw.std(0)
    m = train(MLP(4, 3), [ptwice], py, True)
    export(m, [4], "penguins_scaled_twice")
    # body_mass_g scaled twice has variance 1/779.5² = 1.6e-6, below the epsilon 1e-5: a real
    # consequence, reported as well
    expect("penguins_scaled_twice", None, ["variance_below_epsilon"], variance_below_epsilon=["/bn_in/BatchNormalization", [3]])
    expect("penguins_scaled_twice", "penguins", ["doubled_scaling", "variance_below_epsilon"], node="/bn_in/BatchNormalization",
           features=PENGUIN_NUM, variance_below_epsilon=["/bn_in/BatchNormalization", [3]])
    # (h) a Keras-style epsilon in a PyTorch model.
    m = train(MLP(4, 3, eps=1e-3), [px], py, True)
    path = export(m, [4], "penguins_keras_epsilon")
    change = max(float(np.max(np.abs(np.sqrt((v + 1e-3) / (v + 1e-5)) - 1))) for _, _, _, v in bn_arrays(path))
    expect("penguins_keras_epsilon", None, ["foreign_epsilon"], epsilon=1e-3, typical_of="Keras/TensorFlow",
           max_output_change=change)
    # (h) broken statistics: negative variance, NaN mean, variance far below epsilon.
    src = os.path.join(HERE, "penguins_clean.onnx")
    (mean_in, var_in), (mean1, var1) = bn_stat_names(src)

    def neg(a):
        a[1] = -0.5
        return a

    def tiny(a):
        a[3] = 1e-9
        return a

    def nan(a):
        a[2] = np.nan
        return a

    edit_initializers(src, os.path.join(HERE, "penguins_bad_statistics.onnx"), {var_in: neg, var1: tiny, mean1: nan})
    expect("penguins_bad_statistics", None, ["nonpositive_variance", "nan_statistics", "variance_below_epsilon"],
           nonpositive_variance=["/bn_in/BatchNormalization", [1]], nan_statistics=["/bn1/BatchNormalization", [2]],
           variance_below_epsilon=["/bn1/BatchNormalization", [3]])
    # Conv1d + BatchNorm (eval export fuses the BatchNorm into the convolution).
    m = train(ConvNet(4, 3), [px], py, True)
    export(m, [4], "penguins_conv_clean")
    expect("penguins_conv_clean", None, [])
    expect("penguins_conv_clean", "penguins", [])

    # wine: 13 numeric features, 3 classes.
    w = pd.read_csv(os.path.join(DATA, "wine.csv"))
    w["target"] = w["target"].astype(str)
    wtrain, wct = split("wine", w, "target", WINE_NUM)
    wy = wtrain.target.astype(int).values
    wx = wct.transform(wtrain)
    wraw = wtrain[WINE_NUM].values.astype(np.float64)
    mu, sd = wraw.mean(0), wraw.std(0)
    # (e) mean and std computed from the batch inside the graph.
    torch.manual_seed(0)
    m = train(nn.Sequential(BatchStandardize(), nn.Linear(13, 16), nn.ReLU(), nn.Linear(16, 3)), [wraw], wy, True)
    path = export(m, [13], "wine_batch_statistics")
    reduce_means = [n.name for n in onnx.load(path).graph.node if n.op_type == "ReduceMean"]
    expect("wine_batch_statistics", None, ["batch_statistics_in_graph"], nodes=reduce_means)
    # (f) LayerNorm, GroupNorm, InstanceNorm.
    m = train(OtherNorms(13, 3), [wx], wy, True)
    export(m, [13], "wine_other_norms", opset=17)
    expect("wine_other_norms", None, [], facts=["layer_norm", "group_norm", "instance_norm"])
    # the same at PyTorch 1.13's default opset 14: LayerNorm decomposed into ReduceMean, Sub, Pow, ...
    export(m, [13], "wine_other_norms_opset14", opset=14)
    expect("wine_other_norms_opset14", None, [], facts=["layer_norm", "group_norm", "instance_norm"])
    # (f) GroupNorm over groups of one value: outputs independent of the input.
    m = train(SingleValueNorms(13, 3), [wx], wy, True)
    path = export(m, [13], "wine_single_value_norms")
    expect("wine_single_value_norms", None, ["constant_normalization"], facts=["group_norm"],
           nodes=[n.name for n in onnx.load(path).graph.node if n.op_type == "InstanceNormalization"])
    # (g) the model standardizes its inputs itself with the raw training mean/std: behind the
    # artifact the scaling is applied twice.
    m = train(MLP(13, 3, pre=Affine(mu, sd)), [wraw], wy, True)
    export(m, [13], "wine_double_scaling")
    expect("wine_double_scaling", None, [], facts=["input_scaling"])
    expect("wine_double_scaling", "wine", ["doubled_scaling"], center=mu.tolist(), scale=sd.tolist())
    # (g) the model undoes the scaler: maps standardized features back to raw values, then a
    # BatchNorm trained on raw values.
    m = train(MLP(13, 3), [wraw], wy, True)
    m.pre = Affine(mu, sd, inverse=True)
    export(m, [13], "wine_undo_scaling")
    expect("wine_undo_scaling", None, [], facts=["input_scaling"])
    expect("wine_undo_scaling", "wine", ["undone_scaling"], multiplier=sd.tolist(), offset=mu.tolist())
    # clean: BatchNorm only after a Linear, deeper in the net.
    torch.manual_seed(0)
    m = train(nn.Sequential(nn.Linear(13, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)), [wx], wy, True)
    export(m, [13], "wine_deep_clean")
    expect("wine_deep_clean", None, [])
    expect("wine_deep_clean", "wine", [])
    # (d) the same trained on raw features: the first BatchNorm (after the first Linear) learned
    # the raw features through the layer's weights.
    torch.manual_seed(0)
    m = train(nn.Sequential(nn.Linear(13, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)), [wraw], wy, True)
    path = export(m, [13], "wine_deep_unscaled")
    _, _, bn_mean, bn_var = bn_arrays(path)[0]
    fc = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in fc.graph.initializer}
    w1, b1 = inits["0.weight"], inits["0.bias"]
    # distances of the running means from W·E[x] + b for raw and for standardized (mean 0) inputs
    z_raw = np.abs(bn_mean - (w1 @ mu + b1)) / np.sqrt(bn_var)
    z_scaled = np.abs(bn_mean - b1) / np.sqrt(bn_var)
    expect("wine_deep_unscaled", None, [])
    expect("wine_deep_unscaled", "wine", ["trained_on_unscaled"], node="/1/BatchNormalization", features=WINE_NUM,
           median_z_raw=float(np.median(z_raw)), median_z_artifact=float(np.median(z_scaled)))

    # diamonds: 6 numeric + cut one-hot (5), log price regression; a 3000-row sample.
    d = pd.read_csv(os.path.join(DATA, "diamonds.csv")).sample(3000, random_state=0)
    d = d[DIAMOND_NUM + ["cut", "price"]]
    dtrain, dct = split("diamonds", d, "price", DIAMOND_NUM, ["cut"])
    dy = np.log(dtrain.price.values).astype(np.float32)
    dy = (dy - dy.mean()) / dy.std()
    dx = dct.transform(dtrain)
    m = train(MLP(11, 1), [dx], dy, False, epochs=15)
    export(m, [11], "diamonds_clean")
    expect("diamonds_clean", None, [])
    expect("diamonds_clean", "diamonds", [], fits_artifact="/bn_in/BatchNormalization")
    expect("diamonds_clean", "penguins", ["input_width_mismatch"], model_width=11, artifact_outputs=4)
    m = train(TwoInputs(6, 5, 1), [dx[:, :6], dx[:, 6:]], dy, False, epochs=15)
    export(m, [6, 5], "diamonds_two_inputs_clean", input_names=["numeric", "cut"])
    expect("diamonds_two_inputs_clean", None, [])
    expect("diamonds_two_inputs_clean", "diamonds", [], fits_artifact="/bn_num/BatchNormalization")
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
