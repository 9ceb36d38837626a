"""Second-order optimization and what it costs: Newton's method, diagonal preconditioning,
and the size of the Hessian of the networks the book trains.

The Background chapter "First- vs second-order optimization" calls these functions; every
formula it states is one of them and is checked in ``tests/test_background.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

# ---------------------------------------------------------------------------------------------
# Newton's method and preconditioned gradient descent on small problems
# ---------------------------------------------------------------------------------------------


def rosenbrock_hessian(p, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """The exact Hessian of f(x, y) = (a - x)^2 + b (y - x^2)^2 at p = (x, y)."""
    x, y = np.asarray(p, dtype=float)
    return np.array([[2 - 4 * b * (y - x * x) + 8 * b * x * x, -4 * b * x], [-4 * b * x, 2 * b]])


def numerical_hessian(grad: Callable, x, h: float = 1e-5) -> np.ndarray:
    """The Hessian from central differences of the gradient, symmetrized: 2d gradient calls."""
    x = np.asarray(x, dtype=float)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(grad(x + e)) - np.asarray(grad(x - e))) / (2 * h))
    hess = np.stack(cols, axis=1)
    return 0.5 * (hess + hess.T)


def newton_step(g, hessian) -> np.ndarray:
    """The Newton update -H^{-1} g (solved, never inverted); H must be positive definite."""
    hessian = np.asarray(hessian, dtype=float)
    eig = np.linalg.eigvalsh(hessian)
    if eig[0] <= 0:
        raise ValueError(
            f"the Hessian is not positive definite (smallest eigenvalue {eig[0]:.3g}): a Newton "
            "step would head for a saddle or a maximum; use damped_newton_step instead"
        )
    return -np.linalg.solve(hessian, np.asarray(g, dtype=float))


def damped_newton_step(g, hessian, damping: float = 0.0) -> np.ndarray:
    """-(H + lambda I)^{-1} g with lambda raised just enough to make H + lambda I positive definite.

    ``damping`` is added on top; this is the Levenberg-Marquardt fix for an indefinite Hessian.
    """
    hessian = np.asarray(hessian, dtype=float)
    smallest = np.linalg.eigvalsh(hessian)[0]
    lam = damping + max(0.0, -smallest + 1e-8 * max(1.0, abs(smallest)))
    return newton_step(g, hessian + lam * np.eye(len(hessian)))


def newton_path(grad: Callable, hess: Callable, x0, steps: int, damping: float = 0.0):
    """Iterate x <- x + damped_newton_step(grad(x), hess(x)); return the path (steps + 1, d)."""
    x = np.asarray(x0, dtype=float)
    path = [x]
    for _ in range(steps):
        x = x + damped_newton_step(grad(x), hess(x), damping)
        path.append(x)
    return np.array(path)


def preconditioned_gd_path(grad: Callable, x0, steps: int, lr: float, precond=None) -> np.ndarray:
    """x <- x - lr * P g for a fixed matrix or vector (diagonal) preconditioner P; None: P = I."""
    x = np.asarray(x0, dtype=float)
    p = None if precond is None else np.asarray(precond, dtype=float)
    path = [x]
    for _ in range(steps):
        g = np.asarray(grad(x), dtype=float)
        step = g if p is None else (p * g if p.ndim == 1 else p @ g)
        x = x - lr * step
        path.append(x)
    return np.array(path)


def rotated_quadratic(a: float = 1.0, b: float = 20.0, angle_deg: float = 0.0):
    """H = R diag(a, b) R^T for a rotation by ``angle_deg``; returns (H, f, grad)."""
    th = math.radians(angle_deg)
    rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    hess = rot @ np.diag([a, b]) @ rot.T
    return hess, (lambda x: 0.5 * float(x @ hess @ x)), (lambda x: hess @ np.asarray(x, float))


def gd_contraction(kappa: float) -> float:
    """Per-step error factor of gradient descent on a quadratic with the best fixed step
    2 / (lambda_min + lambda_max): (kappa - 1) / (kappa + 1)."""
    if kappa < 1:
        raise ValueError(f"a condition number is at least 1, got {kappa}")
    return (kappa - 1) / (kappa + 1)


def gd_steps_needed(kappa: float, tol: float) -> int:
    """Steps for that error factor to shrink the distance to the minimum by ``tol``."""
    if not 0 < tol < 1:
        raise ValueError(f"tol is the fraction of the distance left, in (0, 1); got {tol}")
    rho = gd_contraction(kappa)
    return 1 if rho == 0 else math.ceil(math.log(tol) / math.log(rho))


def steps_to_reach(path, minimum, tol: float) -> int | None:
    """The first t with |x_t - x*| <= tol * |x_0 - x*|, or None if the path never gets there."""
    path = np.asarray(path, dtype=float)
    dist = np.linalg.norm(path - np.asarray(minimum, dtype=float), axis=1)
    hit = np.flatnonzero(dist <= tol * dist[0])
    return int(hit[0]) if hit.size else None


# ---------------------------------------------------------------------------------------------
# How big is the Hessian of the networks the book trains?
# ---------------------------------------------------------------------------------------------


def dense_params(sizes) -> int:
    """Weights and biases of dense layers sizes[0] -> sizes[1] -> ...: sum n_in * n_out + n_out."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"need at least an input and an output size, all positive; got {sizes}")
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:], strict=True))


def conv_params(in_channels: int, out_channels: int, kernel: int) -> int:
    """A 2-D convolution's weights (out * in * k * k) and biases (out)."""
    return out_channels * in_channels * kernel * kernel + out_channels


def cnn_c64_c64_c128_1000_params(
    image=(3, 32, 32), kernel: int = 5, classes: int = 10, pooled_side: int = 4
) -> int:
    """The paper's CIFAR-10 net: 5x5 convolutions with 64, 64, 128 filters, each followed by
    3x3 max pooling with stride 2 (32 -> 16 -> 8 -> 4 with padding), 1000 units, 10 outputs."""
    channels = [image[0], 64, 64, 128]
    conv = sum(conv_params(i, o, kernel) for i, o in zip(channels[:-1], channels[1:], strict=True))
    return conv + dense_params([128 * pooled_side * pooled_side, 1000, classes])


def vae_params(data: int = 784, hidden: int = 500, latent: int = 50) -> int:
    """The §6.4 VAE: encoder data -> hidden -> (mean, log-variance) of the latent; decoder
    latent -> hidden -> data (Bernoulli means)."""
    encoder = dense_params([data, hidden]) + dense_params([hidden, 2 * latent])
    decoder = dense_params([latent, hidden, data])
    return encoder + decoder


def book_networks() -> dict[str, int]:
    """Parameter counts of the models of the experiment chapters."""
    return {
        "logistic regression, MNIST (784 x 10)": dense_params([784, 10]),
        "logistic regression, IMDB (10000 x 1)": dense_params([10000, 1]),
        "MLP, MNIST (784-1000-1000-10)": dense_params([784, 1000, 1000, 10]),
        "CNN, CIFAR-10 (c64-c64-c128-1000)": cnn_c64_c64_c128_1000_params(),
        "VAE, MNIST (784-500-50)": vae_params(),
    }


def hessian_bytes(n: int, bytes_per_number: int = 4) -> int:
    """A dense n x n Hessian in float32 (4 bytes) by default: n^2 numbers."""
    return n * n * bytes_per_number


def hessian_symmetric_bytes(n: int, bytes_per_number: int = 4) -> int:
    """Storing only the upper triangle of the symmetric Hessian: n (n + 1) / 2 numbers."""
    return n * (n + 1) // 2 * bytes_per_number


def adam_state_bytes(n: int, bytes_per_number: int = 4) -> int:
    """Adam's extra memory: m and v, 2n numbers (a diagonal preconditioner is n of them)."""
    return 2 * n * bytes_per_number


def newton_solve_flops(n: int) -> float:
    """Leading cost of one Newton step with a dense Hessian: a Cholesky factorization, n^3 / 3
    multiply-adds, plus two triangular solves, 2 n^2."""
    return n**3 / 3 + 2 * n**2


def measure_cholesky_rate(n: int = 1200, repeats: int = 3, seed: int = 0) -> float:
    """Measured multiply-adds per second of ``np.linalg.cholesky`` on this machine (best of
    ``repeats``), to turn newton_solve_flops into seconds."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    spd = a @ a.T + n * np.eye(n)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.linalg.cholesky(spd)
        best = min(best, time.perf_counter() - start)
    return (n**3 / 3) / best


def hessian_cost_table(rate: float, bytes_per_number: int = 4) -> list[dict]:
    """Per book network: parameters, Hessian memory, Adam's state, one Newton solve's time."""
    rows = []
    for name, n in book_networks().items():
        rows.append(
            {
                "network": name,
                "parameters": n,
                "hessian_bytes": hessian_bytes(n, bytes_per_number),
                "adam_state_bytes": adam_state_bytes(n, bytes_per_number),
                "newton_seconds": newton_solve_flops(n) / rate,
            }
        )
    return rows


def human_bytes(n: float) -> str:
    """1500 -> '1.5 kB', in powers of 1000 (as ``adamlab.quantities`` counts bytes) up to
    exabytes."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB"):
        if abs(n) < 1000 or unit == "EB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def human_seconds(s: float) -> str:
    """Seconds in the largest unit that keeps the number readable (ms, s, min, h, days, years)."""
    for unit, size in (
        ("years", 365.25 * 86400),
        ("days", 86400),
        ("h", 3600),
        ("min", 60),
        ("s", 1),
    ):
        if s >= size:
            return f"{s / size:.1f} {unit}"
    return f"{s * 1e3:.1f} ms"
