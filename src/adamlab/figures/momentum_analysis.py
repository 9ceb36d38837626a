"""Gradient descent and heavy-ball momentum on a quadratic, one eigen-direction at a time.

On f(x) = x^T H x / 2 the coordinates along the eigenvectors of H do not interact. Along an
eigenvector with eigenvalue lam, heavy-ball momentum (Polyak 1964) in Sutskever's form,
v <- mu v - eta lam x, x <- x + v, is the linear recursion

    x_{t+1} = (1 + mu - eta lam) x_t - mu x_{t-1},

whose 2 x 2 matrix acts on (x_t, x_{t-1}). Its spectral radius is the factor by which the
error along that direction shrinks per step. With mu = 0 this is gradient descent.
Used by book/related/momentum.md and checked in tests/test_momentum_analysis.py.
"""

from __future__ import annotations

import math

import numpy as np


def iteration_matrices(eta_lam, mu: float) -> np.ndarray:
    """The matrices [[1 + mu - eta lam, -mu], [1, 0]], one per value of eta * lam: (..., 2, 2)."""
    h = np.asarray(eta_lam, dtype=float)
    out = np.zeros(h.shape + (2, 2))
    out[..., 0, 0] = 1.0 + mu - h
    out[..., 0, 1] = -mu
    out[..., 1, 0] = 1.0
    return out


def rate(eta_lam, mu: float = 0.0) -> np.ndarray:
    """Spectral radius of the iteration matrix for each eta * lam (mu = 0: gradient descent)."""
    return np.abs(np.linalg.eigvals(iteration_matrices(eta_lam, mu))).max(axis=-1)


def worst_rate(eta: float, mu: float, lam_min: float, lam_max: float, n: int = 2001) -> float:
    """The rate of the slowest direction when the eigenvalues fill [lam_min, lam_max]."""
    lams = np.geomspace(lam_min, lam_max, n)
    return float(rate(eta * lams, mu).max())


def gd_tuned(lam_min: float, lam_max: float) -> tuple[float, float]:
    """Gradient descent's best step 2 / (lam_min + lam_max) and its rate (kappa-1)/(kappa+1)."""
    kappa = float(lam_max) / float(lam_min)
    return 2.0 / (float(lam_min) + float(lam_max)), (kappa - 1.0) / (kappa + 1.0)


def polyak(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """Polyak's heavy-ball settings and the rate they give.

    eta = (2 / (sqrt(lam_max) + sqrt(lam_min)))^2, mu = ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2,
    rate = sqrt(mu) = (sqrt(kappa)-1)/(sqrt(kappa)+1).
    """
    root_kappa = math.sqrt(lam_max / lam_min)
    eta = (2.0 / (math.sqrt(lam_max) + math.sqrt(lam_min))) ** 2
    r = (root_kappa - 1.0) / (root_kappa + 1.0)
    return eta, r**2, r


def measured_rate(distances: np.ndarray, t1: int, t2: int) -> float:
    """The average factor per step by which the distance shrank from step t1 to step t2."""
    return float((distances[t2] / distances[t1]) ** (1.0 / (t2 - t1)))
