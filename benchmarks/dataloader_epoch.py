"""One training epoch on MNIST: our loop (tensors in memory, minibatches by permuted index)
against the usual ``torch.utils.data.DataLoader`` loop, for logistic regression and the MLP.

Both loops train the same model with the same optimizer (``adamlab.optim.Adam``, as the
experiments do, or ``torch.optim.Adam`` with ``--optimizer torch``, which leaves a larger share
of the time to the loop itself) from the same initial weights; only the way minibatches are
formed differs.
The two are measured side by side, alternating, and the median over rounds is reported.

    ADAMLAB_DATA=../shared/datasets python benchmarks/dataloader_epoch.py [--rounds 3] [--threads 1]
        [--models logreg,mlp]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from adamlab import optim
from adamlab.experiments import data, models
from adamlab.experiments.train import run_epoch


def ours(model, opt, x, y, gen):
    perm = torch.randperm(len(x), generator=gen)
    losses = run_epoch(model, opt, x, y, perm, 128)
    return float(losses.mean())  # the one host transfer, as in the training loop


def dataloader(model, opt, x, y, gen):
    loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True, generator=gen)
    total = torch.zeros(())
    for xb, yb in loader:
        opt.zero_grad(set_to_none=True)
        loss = model.objective(xb, yb).mean() + (model.penalty() if model.l2 else 0.0)
        loss.backward()
        opt.step()
        total += loss.detach()
    return float(total / len(loader))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--models", default="logreg,mlp", help="comma-separated: logreg, mlp")
    ap.add_argument("--optimizer", choices=("adamlab", "torch"), default="adamlab",
                    help="adamlab.optim.Adam (as in the experiments) or torch.optim.Adam")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    d = data.load("mnist")
    x, y = d.x_train, d.y_train
    print(f"MNIST {tuple(x.shape)}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.optimizer} Adam, {args.rounds} rounds (median seconds per epoch)")
    setups = {"logistic regression": ("logreg", {"d_in": 784, "n_classes": 10, "l2": 1e-4}),
              "MLP 784-1000-1000-10": ("mlp", {})}
    wanted = args.models.split(",")
    for name, (kind, kw) in setups.items():
        if kind not in wanted:
            continue
        times = {"ours": [], "DataLoader": []}
        for r in range(args.rounds):
            for loop_name, loop in (("ours", ours), ("DataLoader", dataloader)):
                torch.manual_seed(0)
                model = models.build(kind, **kw)
                adam = optim.Adam if args.optimizer == "adamlab" else torch.optim.Adam
                opt = adam(model.parameters(), lr=1e-3)
                gen = torch.Generator().manual_seed(r)
                t0 = time.perf_counter()
                loop(model, opt, x, y, gen)
                times[loop_name].append(time.perf_counter() - t0)
        a, b = statistics.median(times["ours"]), statistics.median(times["DataLoader"])
        print(f"{name:<22} ours {a:7.2f} s   DataLoader {b:7.2f} s   ratio {b / a:5.2f}x")


if __name__ == "__main__":
    main()
