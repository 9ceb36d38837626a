"""The coarse search behind the base learning rates of Assignment 4 (``LEARNING_RATES``).

    ADAMLAB_DATA=/path/to/data python assignments/hw4_logreg/tune_rates.py

Runs the master's own solution (``loss_and_grad``, ``OPTIMIZERS`` and ``train``, taken from
``hw4_logreg.md``) for three epochs on all 60,000 MNIST training images with seed 0, for every
rate of ``GRID``, and prints the training cost of each and the best rate per optimizer. The
project's tests run :func:`search` when MNIST is present and check that its best rates are the
ones the assignment hands out, and that none lies at an edge of its grid.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GRID = {
    "Adam": (0.003, 0.01, 0.03, 0.1, 0.3),
    "SGDNesterov": (0.1, 0.3, 1.0, 3.0),
    "AdaGrad": (0.01, 0.03, 0.1, 0.3),
}
EPOCHS, SEED = 3, 0


def solution() -> dict:
    """The namespace of the master's solution cells that define the loss, the optimizers, the
    training loop and the learning rates (the data cell is left out: the search uses all images)."""
    import jupytext

    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import optimizers

    names = ("def loss_and_grad(", "OPTIMIZERS = {", "def train(", "LEARNING_RATES = {")
    namespace: dict = {"np": np, "optimizers": optimizers}
    for cell in jupytext.read(HERE / "hw4_logreg.md").cells:
        if cell.cell_type == "code" and any(name in cell.source for name in names):
            exec(compile(cell.source, "hw4_logreg.md", "exec"), namespace)
    return namespace


def search(X=None, y=None) -> dict:
    """{optimizer: {rate: training cost after EPOCHS epochs}} on (X, y), all of MNIST by default."""
    if X is None:
        if str(HERE) not in sys.path:
            sys.path.insert(0, str(HERE))
        from mnist_idx import load_mnist

        X, y = load_mnist("train")
    train = solution()["train"]
    return {name: {lr: float(train(name, lr, SEED, X, y, EPOCHS)[-1]) for lr in rates}
            for name, rates in GRID.items()}


def best(costs: dict) -> dict:
    """The rate with the lowest cost, per optimizer."""
    return {name: min(by_rate, key=by_rate.get) for name, by_rate in costs.items()}


if __name__ == "__main__":
    costs = search()
    for name, by_rate in costs.items():
        print(name, "  ".join(f"{lr:g}: {c:.4f}" for lr, c in by_rate.items()))
    print("best:", best(costs), " handed out:", solution()["LEARNING_RATES"])
