"""Quantities that more than one chapter states, each computed in one place and in one unit.

A page that quotes one of these glues it under the name given in ``SHARED`` with the function
given there, so that the same quantity never reaches the reader as two numbers (a Hessian in
terabytes on one page and in tebibytes on another, or a training cost in CPU-hours on one and
in wall-clock minutes on the next). ``tests/test_shared_quantities.py`` checks that every page
does so and that no page glues such a quantity under another name.

Units: bytes are counted in powers of 1000 (1 TB = 10^12 bytes), as memory and disks are sold;
training time is processor time, in CPU-hours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from .figures.secondorder import book_networks, hessian_bytes

__all__ = ["SHARED", "TB", "MLP", "CNN", "hessian_tb", "mlp_hessian_tb", "cnn_hessian_tb",
           "training_cpu_hours", "training_wall_hours", "shared_quantity", "check_shared"]

TB = 1e12  # bytes in a terabyte

MLP = "MLP, MNIST (784-1000-1000-10)"
CNN = "CNN, CIFAR-10 (c64-c64-c128-1000)"


def hessian_tb(n: int) -> float:
    """Terabytes of a dense n x n Hessian in float32: 4 n^2 bytes over 10^12."""
    return hessian_bytes(n, 4) / TB


def mlp_hessian_tb() -> float:
    """The float32 Hessian of the paper's MLP (784-1000-1000-10), in TB."""
    return hessian_tb(book_networks()[MLP])


def cnn_hessian_tb() -> float:
    """The float32 Hessian of the paper's CNN (c64-c64-c128-1000), in TB."""
    return hessian_tb(book_networks()[CNN])


def training_cpu_hours(results: Iterable[dict]) -> float:
    """Processor time of a set of training runs (all threads), in hours; a run that did not
    record its processor time counts with its wall-clock time."""
    return sum(r.get("cpu_time_s", r["wall_time_s"]) for r in results) / 3600


def training_wall_hours(results: Iterable[dict]) -> float:
    """Wall-clock time of a set of training runs, added up, in hours."""
    return sum(r["wall_time_s"] for r in results) / 3600


# glue name -> (the function here that computes it, what it is, patterns of the other glue
# names a page might give the same quantity)
SHARED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "mlp_hessian_tb": ("mlp_hessian_tb", "the MLP's float32 Hessian in TB",
                       (r"mlp.*hess", r"hess.*mlp", r"^conc_hessian_tb$")),
    "cnn_hessian_tb": ("cnn_hessian_tb", "the CNN's float32 Hessian in TB",
                       (r"cnn.*hess", r"hess.*cnn")),
}


def shared_quantity(name: str) -> str | None:
    """The ``SHARED`` name that the glue name ``name`` denotes (itself or another name for it)."""
    if name in SHARED:
        return name
    for canonical, (_, _, patterns) in SHARED.items():
        if any(re.search(pattern, name) for pattern in patterns):
            return canonical
    return None


def check_shared(name: str, value) -> None:
    """Fail if ``name`` denotes a shared quantity and ``value`` is not its one value.

    ``adamlab.pages.glue`` calls this for every value a chapter stores, so a page that computes a
    shared quantity in another unit or from another count, under its own name or another,
    stops with a message instead of printing a second number for it.
    """
    canonical = shared_quantity(name)
    if canonical is None:
        return
    function, what, _ = SHARED[canonical]
    expected = globals()[function]()
    try:
        same = math.isclose(float(value), expected, rel_tol=1e-12)
    except (TypeError, ValueError):
        same = False
    if not same:
        under = "" if name == canonical else f" (glued as {name!r})"
        raise ValueError(
            f"{canonical}{under} is {what}, shared by several pages: it is {expected!r}, computed "
            f"by adamlab.quantities.{function}(), not {value!r}"
        )
