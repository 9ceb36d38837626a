"""Exponential moving averages: the building block of momentum, RMSProp and Adam."""

from __future__ import annotations

import math

import numpy as np


def ema(xs, beta: float, bias_correction: bool = False, initial: float = 0.0) -> np.ndarray:
    """Run m_t = beta * m_{t-1} + (1 - beta) * x_t over the first axis of ``xs``, from m_0 = initial.

    With ``bias_correction`` each m_t is divided by (1 - beta^t), t = 1, 2, ... (which is
    exact only for ``initial = 0``, the case Adam uses).
    """
    _check_beta(beta)
    xs = np.asarray(xs, dtype=float)
    out = np.empty_like(xs)
    m = np.full(xs.shape[1:], float(initial))
    for t, x in enumerate(xs, start=1):
        m = beta * m + (1 - beta) * x
        out[t - 1] = m / (1 - beta**t) if bias_correction else m
    return out


def ema_weights(beta: float, t: int) -> np.ndarray:
    """The weight (1 - beta) * beta^k that m_t gives the input k steps back, k = 0..t-1.

    They sum to 1 - beta^t, not to 1: the missing mass beta^t sits on the initial value 0,
    which is exactly the bias that Adam's correction removes.
    """
    _check_beta(beta)
    return (1 - beta) * beta ** np.arange(t)


def bias_correction_factor(beta: float, t):
    """1 / (1 - beta^t): how much the zero-initialized average must be scaled up at step t."""
    _check_beta(beta)
    return 1.0 / (1.0 - beta ** np.asarray(t, dtype=float))


def window(beta: float) -> float:
    """The effective number of inputs an EMA averages over, 1 / (1 - beta)."""
    _check_beta(beta)
    return 1.0 / (1.0 - beta)


def half_life(beta: float) -> float:
    """Steps until an input's weight has halved: beta^h = 1/2, so h = ln 2 / (-ln beta)."""
    _check_beta(beta)
    if beta == 0:
        return 0.0
    return math.log(2) / -math.log(beta)


def _check_beta(beta: float) -> None:
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must lie in [0, 1), got {beta!r}: beta = 1 would never forget the zero start")
