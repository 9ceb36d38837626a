"""Bytes of optimizer state per parameter, measured from the optimizer objects themselves.

    python benchmarks/optimizer_memory.py

For each optimizer of the book (adamlab.optim, the reference path) and each network of the
paper, take one step and add up the bytes of every tensor the optimizer keeps in its state.
Next to it: the bytes a full second-order method would need for the Hessian alone (n^2
entries for n parameters). Writes benchmarks/results/optimizer_memory.json.

The CNN follows the assumptions of the book's CIFAR-10 chapter: 5x5 convolutions with padding
2, 3x3 max pooling with stride 2 and padding 1 (32 -> 16 -> 8 -> 4), so the fully connected
layer sees 128 * 4 * 4 = 2048 inputs.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn

from adamlab import optim

RESULTS = Path(__file__).resolve().parent / "results"


def networks() -> dict[str, nn.Module]:
    def pool():
        return nn.MaxPool2d(3, stride=2, padding=1)

    return {
        "logistic regression 784x10": nn.Linear(784, 10),
        "MLP 784-1000-1000-10": nn.Sequential(
            nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 1000), nn.ReLU(), nn.Linear(1000, 10)
        ),
        "CNN c64-c64-c128-1000": nn.Sequential(
            nn.Conv2d(3, 64, 5, padding=2), nn.ReLU(), pool(),
            nn.Conv2d(64, 64, 5, padding=2), nn.ReLU(), pool(),
            nn.Conv2d(64, 128, 5, padding=2), nn.ReLU(), pool(),
            nn.Flatten(), nn.Linear(2048, 1000), nn.ReLU(), nn.Linear(1000, 10),
        ),  # fmt: skip
    }


OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=1e-2),
    "Momentum": lambda ps: optim.SGD(ps, lr=1e-2, momentum=0.9),
    "Nesterov": lambda ps: optim.SGD(ps, lr=1e-2, momentum=0.9, nesterov=True),
    "AdaGrad": lambda ps: optim.Adagrad(ps),
    "RMSProp": lambda ps: optim.RMSprop(ps),
    "RMSProp (centered, momentum)": lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True),
    "AdaDelta": lambda ps: optim.Adadelta(ps),
    "Adam": lambda ps: optim.Adam(ps),
    "AMSGrad": lambda ps: optim.Adam(ps, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps),
    "AdaMax": lambda ps: optim.Adamax(ps),
}


def state_bytes(opt: torch.optim.Optimizer) -> int:
    """Every byte held in tensors of ``opt.state``, the step counters included."""
    total = 0
    for per_param in opt.state.values():
        for value in per_param.values():
            if torch.is_tensor(value):
                total += value.numel() * value.element_size()
    return total


def measure(dtype: torch.dtype = torch.float32) -> dict:
    out = {}
    for net_name, net in networks().items():
        net = net.to(dtype)
        params = list(net.parameters())
        n = sum(p.numel() for p in params)
        itemsize = params[0].element_size()
        per_opt = {}
        for opt_name, make in OPTIMIZERS.items():
            for p in params:
                p.grad = torch.full_like(p, 1e-3)
            opt = make(params)
            opt.step()
            b = state_bytes(opt)
            per_opt[opt_name] = {"state_bytes": b, "bytes_per_param": b / n}
        out[net_name] = {
            "n_params": n,
            "n_tensors": len(params),
            "param_bytes": n * itemsize,
            "hessian_bytes": n * n * itemsize,
            "hessian_bytes_per_param": n * itemsize,
            "optimizers": per_opt,
        }
    return out


def main() -> None:
    record = {
        "benchmark": "optimizer_memory",
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/optimizer_memory.py",
        "torch": torch.__version__,
        "dtype": "float32",
        "networks": measure(torch.float32),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "optimizer_memory.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    for net, r in record["networks"].items():
        print(f"{net}: {r['n_params']:,} parameters; Hessian {r['hessian_bytes'] / 1e9:,.3f} GB")
        for name, o in r["optimizers"].items():
            print(f"  {name:30s} {o['bytes_per_param']:6.2f} bytes/param")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
