"""Train the tiny models of normguard's bundle tests and export them to ONNX.

Run with Debian's python3-torch 1.13:

    normguard quickstart --dir qs
    normguard transform --artifact qs/flights.normguard.json --in qs/train_jan_feb.csv --out qs/train_features.csv
    /usr/bin/python3 make_models.py qs/train_features.csv 0 21

It reads the quickstart artifact's features of the training months (every
column but the text passthrough 'date', in the artifact's output order),
trains a 26-16-1 MLP to tell flights more than 15 minutes late (the label
is the robust-scaled delay above (15 - center_) / scale_; pass the
artifact's center_ and scale_ of 'delay', 0 and 21) and writes:

    mlp_f32.onnx   float32 weights and input, ai.onnx opset 17
    mlp_f64.onnx   the same network in float64, ai.onnx opset 13
"""
import csv
import sys

import torch

FEATURES = 26


def main(path, center, scale):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    cols = [i for i, h in enumerate(header) if h != "date"]
    assert len(cols) == FEATURES, (len(cols), header)
    x = torch.tensor([[float(r[i]) for i in cols] for r in rows], dtype=torch.float32)
    delay = header.index("delay")
    y = (x[:, delay] > (15.0 - center) / scale).float().unsqueeze(1)

    torch.manual_seed(7)
    net = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1), torch.nn.Sigmoid()
    )
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = torch.nn.BCELoss()
    for _ in range(300):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
    net.eval()
    acc = ((net(x) > 0.5).float() == y).float().mean().item()
    print(f"training loss {loss.item():.4f}, accuracy {acc:.3f}")

    axes = {"features": {0: "batch"}, "late": {0: "batch"}}
    torch.onnx.export(net, x[:2], "mlp_f32.onnx", input_names=["features"], output_names=["late"],
                      dynamic_axes=axes, opset_version=17)
    net64 = net.double()
    torch.onnx.export(net64, x[:2].double(), "mlp_f64.onnx", input_names=["features"], output_names=["late"],
                      dynamic_axes=axes, opset_version=13)


if __name__ == "__main__":
    # The robust_scaler's center_ and scale_ of 'delay' in the quickstart
    # artifact (normguard inspect qs/flights.normguard.json).
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
