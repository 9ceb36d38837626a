"""Small objective functions to watch optimizers on, and a loop that records their paths.

Each landscape is an object with ``f(x)`` and ``grad(x)`` for a point x of shape (d,), a
sensible start point, and the minimizer where one is known. Everything is NumPy float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .rules import RULES, Rule


@dataclass
class Landscape:
    name: str
    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    start: np.ndarray
    minimum: np.ndarray | None = None
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((-2.0, 2.0), (-2.0, 2.0))
    project: Callable[[np.ndarray], np.ndarray] | None = None
    info: dict = field(default_factory=dict)


def quadratic(a: float = 1.0, b: float = 20.0) -> Landscape:
    """f(x, y) = (a x^2 + b y^2) / 2: an ill-conditioned valley with condition number b / a."""
    h = np.array([a, b], dtype=float)
    return Landscape(
        "quadratic",
        lambda x: 0.5 * float(np.dot(h, np.asarray(x) ** 2)),
        lambda x: h * np.asarray(x, dtype=float),
        start=np.array([-1.8, 0.6]),
        minimum=np.zeros(2),
        bounds=((-2.0, 2.0), (-1.0, 1.0)),
        info={"hessian": np.diag(h), "condition_number": b / a},
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """f(x, y) = (a - x)^2 + b (y - x^2)^2: a curved, flat-bottomed valley; minimum at (a, a^2)."""

    def f(p):
        x, y = p
        return float((a - x) ** 2 + b * (y - x * x) ** 2)

    def grad(p):
        x, y = p
        return np.array([-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])

    return Landscape(
        "rosenbrock", f, grad, start=np.array([-1.5, 2.0]), minimum=np.array([a, a * a]),
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
    )


def beale() -> Landscape:
    """Beale's function: steep walls and a flat floor; minimum at (3, 0.5)."""
    c = np.array([1.5, 2.25, 2.625])

    def terms(p):
        x, y = p
        k = np.arange(1, 4)
        return c - x + x * y**k, k

    def f(p):
        r, _ = terms(p)
        return float(np.sum(r**2))

    def grad(p):
        x, y = p
        r, k = terms(p)
        return np.array([np.sum(2 * r * (y**k - 1)), np.sum(2 * r * x * k * y ** (k - 1))])

    return Landscape(
        "beale", f, grad, start=np.array([1.0, 1.5]), minimum=np.array([3.0, 0.5]),
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
    )


def saddle() -> Landscape:
    """f(x, y) = x^2 - y^2 (plus a quartic wall so it is bounded below): a saddle at the origin."""

    def f(p):
        x, y = p
        return float(x * x - y * y + 0.25 * y**4)

    def grad(p):
        x, y = p
        return np.array([2 * x, -2 * y + y**3])

    return Landscape(
        "saddle", f, grad, start=np.array([-1.5, 1e-3]), minimum=np.array([0.0, np.sqrt(2.0)]),
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
    )


def sparse_features(n_features: int = 2, frequencies=(1.0, 0.05), seed: int = 0) -> Landscape:
    """A linear-regression problem where feature i is present with probability frequencies[i].

    The loss is the mean over a fixed sample; ``noisy_gradients`` turns it into one example
    per step. Rare features receive few, large gradients: the case AdaGrad was built for.
    """
    rng = np.random.default_rng(seed)
    n = 2000
    freq = np.asarray(frequencies, dtype=float)[:n_features]
    X = (rng.random((n, n_features)) < freq).astype(float)
    w_true = np.ones(n_features)
    y = X @ w_true

    def f(w):
        return float(0.5 * np.mean((X @ w - y) ** 2))

    def grad(w):
        return X.T @ (X @ w - y) / n

    def sample_grad(w, rng):
        i = rng.integers(n)
        return X[i] * (X[i] @ w - y[i])

    return Landscape(
        "sparse", f, grad, start=np.zeros(n_features), minimum=w_true,
        bounds=((-0.5, 1.5), (-0.5, 1.5)),
        info={"frequencies": freq, "sample_grad": sample_grad, "X": X, "y": y},
    )


def reddi(C: float = 3.0) -> Landscape:
    """Reddi, Kale & Kumar (2018), Theorem 1: f_t(x) = C x if t mod 3 == 1 else -x, on [-1, 1].

    The regret is minimized at x = -1 (the average loss is (C - 2) x / 3 with C > 2). The
    gradient depends on the step t, so use ``online_grad(x, t)``; ``f`` and ``grad`` give
    the average over a period.
    """
    if C <= 2:
        raise ValueError(f"C must exceed 2 for the counterexample, got {C}")

    def online_grad(x, t):
        return np.full_like(np.asarray(x, dtype=float), C if t % 3 == 1 else -1.0)

    return Landscape(
        "reddi",
        lambda x: float((C - 2) / 3 * np.asarray(x)[0]),
        lambda x: np.full_like(np.asarray(x, dtype=float), (C - 2) / 3),
        start=np.array([0.0]),
        minimum=np.array([-1.0]),
        bounds=((-1.0, 1.0), (-1.0, 1.0)),
        project=lambda x: np.clip(x, -1.0, 1.0),
        info={"online_grad": online_grad, "C": C},
    )


LANDSCAPES = {"quadratic": quadratic, "rosenbrock": rosenbrock, "beale": beale, "saddle": saddle}


def noisy(grad: Callable, sigma: float, seed: int = 0) -> Callable:
    """Wrap a gradient with additive Gaussian noise of standard deviation ``sigma`` per coordinate."""
    rng = np.random.default_rng(seed)
    return lambda x: grad(x) + sigma * rng.standard_normal(np.shape(x))


def run(
    rule: Rule | str,
    grad: Callable,
    x0,
    steps: int,
    project: Callable | None = None,
    online: bool = False,
    lr_schedule: Callable[[int], float] | None = None,
    **hyper,
) -> np.ndarray:
    """Run ``rule`` from ``x0`` for ``steps`` steps; return the path, shape (steps + 1, d).

    ``grad(x)`` gives the gradient, or ``grad(x, t)`` with t = 1, 2, ... when ``online``.
    ``project`` maps each iterate back into the feasible set. ``lr_schedule(t)`` multiplies the
    learning rate at step t (e.g. ``lambda t: t ** -0.5`` for alpha_t = alpha / sqrt(t)).
    Hyperparameters override the
    rule's defaults. A path that leaves the floats (overflow) is cut there, filled with NaN.
    """
    if isinstance(rule, str):
        rule = RULES[rule]
    unknown = set(hyper) - set(rule.defaults) - {"nesterov"}
    if unknown:
        raise TypeError(
            f"{rule.name} has no hyperparameter {sorted(unknown)}; it takes {sorted(rule.defaults)}"
        )
    hp = {**rule.defaults, **hyper}
    x = np.array(x0, dtype=float)
    state = rule.init(x)
    path = np.full((steps + 1, x.size), np.nan)
    path[0] = x
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = grad(x, t) if online else grad(x)
            hp_t = hp if lr_schedule is None else {**hp, "lr": hp["lr"] * lr_schedule(t)}
            if rule.needs_param:
                update, state = rule.step(g, state, x, **hp_t)
            else:
                update, state = rule.step(g, state, **hp_t)
            x = x + update
            if project is not None:
                x = project(x)
            if not np.all(np.isfinite(x)):
                break
            path[t] = x
    return path
