"""The three optimizers of Section 6.1 as pure NumPy functions, for Assignment 4.

Each optimizer is a pair: ``init(param)`` makes a fresh state for one parameter array, and
``step(g, state, lr=..., **hyper)`` returns ``(update, new_state)``; the caller adds ``update``
to the parameter. A step never changes its inputs. The state carries the step counter ``t``,
advanced before its first use (Algorithm 1 of Kingma & Ba, 2015).

These are the same rules you wrote in Assignments 2 and 3 (and the book's library ``adamlab``
has), so that this notebook needs nothing but NumPy.
"""

from __future__ import annotations

import numpy as np


def adam_init(param):
    return {"t": 0, "m": np.zeros_like(param, dtype=float), "v": np.zeros_like(param, dtype=float)}


def adam(g, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Algorithm 1: moving averages of g and g**2, each divided by its 1 - beta**t."""
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return -lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def momentum_init(param):
    return {"t": 0, "velocity": np.zeros_like(param, dtype=float)}


def momentum(g, state, lr=1e-2, mu=0.9, nesterov=False):
    """Sutskever et al. (2013): v <- mu v - lr g. With ``nesterov`` the parameters held are the
    look-ahead point, so the update is mu v_new - lr g (Bengio et al., 2013)."""
    v = mu * state["velocity"] - lr * g
    update = mu * v - lr * g if nesterov else v
    return update, {"t": state["t"] + 1, "velocity": v}


def adagrad_init(param):
    return {"t": 0, "sum": np.zeros_like(param, dtype=float)}


def adagrad(g, state, lr=1e-2, eps=1e-10):
    """Duchi et al. (2011): divide by the root of the sum of every squared gradient so far."""
    G = state["sum"] + g * g
    return -lr * g / (np.sqrt(G) + eps), {"t": state["t"] + 1, "sum": G}
