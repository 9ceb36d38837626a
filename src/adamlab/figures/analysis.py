"""Measurements behind the Adam chapters: each claim of the paper as a small computation.

The functions here run the update rules of :mod:`adamlab.rules` on chosen gradient
sequences and return what the chapters plot and the tests check: the size of a step after a
burst of zeros, the effective epsilon of the Section 2 form, the L^p moment whose limit is
AdaMax's u, Reddi et al.'s counterexample, and the two ways of adding weight decay to Adam.
Closed forms sit next to the simulations so that each can check the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .. import landscapes, rules
from ..rules import RULES, Rule


def _check_betas(beta1: float, beta2: float) -> None:
    for name, b in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {b!r}")


def trace_updates(step, init, grads, **hyper) -> np.ndarray:
    """Feed the gradients ``grads`` (axis 0 is time) to one rule; return the updates, same shape."""
    grads = np.asarray(grads, dtype=float)
    state = init(grads[0])
    out = np.empty_like(grads)
    for i, g in enumerate(grads):
        out[i], state = step(g, state, **hyper)
    return out


# --------------------------------------------------------------------------------------
# Section 2: the efficient form and its epsilon-hat
# --------------------------------------------------------------------------------------


def effective_eps(eps_hat: float, beta2: float, t) -> np.ndarray:
    """The epsilon of Algorithm 1 that a *constant* eps_hat amounts to at step t.

    alpha_t m / (sqrt(v) + eps_hat) = alpha m_hat / (sqrt(v_hat) + eps_hat / sqrt(1 - beta2^t)).
    """
    _check_betas(0.0, beta2)
    return eps_hat / np.sqrt(1.0 - beta2 ** np.asarray(t, dtype=float))


def equivalent_eps_hat(eps: float, beta2: float, t) -> np.ndarray:
    """The eps_hat with which the Section 2 form equals Algorithm 1 at step t: eps sqrt(1-b2^t)."""
    _check_betas(0.0, beta2)
    return eps * np.sqrt(1.0 - beta2 ** np.asarray(t, dtype=float))


# --------------------------------------------------------------------------------------
# Section 2.1: the size of a step
# --------------------------------------------------------------------------------------


def sparse_case_bound(beta1: float = 0.9, beta2: float = 0.999) -> float:
    """The paper's bound on |Delta| / alpha: (1 - beta1) / sqrt(1 - beta2) if above 1, else 1."""
    _check_betas(beta1, beta2)
    return max((1 - beta1) / math.sqrt(1 - beta2), 1.0)


def spike_ratio(t: int, beta1: float = 0.9, beta2: float = 0.999) -> float:
    """|m_hat / sqrt(v_hat)| at step t when step t carries the only non-zero gradient so far.

    m_t = (1 - beta1) g and v_t = (1 - beta2) g^2, so the ratio is
    (1 - beta1) / sqrt(1 - beta2) * sqrt(1 - beta2^t) / (1 - beta1^t), whatever g is.
    """
    _check_betas(beta1, beta2)
    return (1 - beta1) / math.sqrt(1 - beta2) * math.sqrt(1 - beta2**t) / (1 - beta1**t)


def spike_experiment(
    n_zero: int, beta1: float = 0.9, beta2: float = 0.999, g: float = 1.0, lr: float = 1e-3
):
    """Run Adam on ``n_zero`` zero gradients, then on ``g``; return |Delta| / lr of every step."""
    grads = np.zeros((n_zero + 1, 1))
    grads[-1] = g
    # eps = 0 would make the zero steps 0/0; a tiny eps keeps them at exactly 0 and leaves the
    # spike step unchanged to 1e-300 relative.
    upd = trace_updates(
        rules.adam, rules.adam_init, grads, lr=lr, beta1=beta1, beta2=beta2, eps=1e-300
    )
    return np.abs(upd[:, 0]) / lr


def worst_case_ratio(beta1: float = 0.9, beta2: float = 0.999) -> float:
    """sup |m_hat / sqrt(v_hat)| as t -> infinity, by Cauchy-Schwarz (needs beta1^2 < beta2).

    |sum_k beta1^k g_k| <= sqrt(sum_k beta2^k g_k^2) sqrt(sum_k (beta1^2 / beta2)^k), with equality
    for g_k proportional to (beta1 / beta2)^k (k steps back), hence
    (1 - beta1) / sqrt(1 - beta2) / sqrt(1 - beta1^2 / beta2).
    """
    _check_betas(beta1, beta2)
    if beta1**2 >= beta2:
        raise ValueError(
            f"the ratio is unbounded unless beta1^2 < beta2, got beta1={beta1}, beta2={beta2}"
        )
    return (1 - beta1) / math.sqrt(1 - beta2) / math.sqrt(1 - beta1**2 / beta2)


def worst_case_gradients(
    t: int, burst: int, beta1: float = 0.9, beta2: float = 0.999
) -> np.ndarray:
    """t gradients: zeros, then ``burst`` growing by beta2 / beta1 per step (the equality case).

    The burst is scaled so that its last gradient is 1 (the ratio does not depend on scale).
    """
    if not 0 < burst <= t:
        raise ValueError(f"burst must lie in 1..t, got burst={burst}, t={t}")
    g = np.zeros(t)
    k = np.arange(burst)[::-1]  # steps back from t
    g[t - burst :] = (beta1 / beta2) ** k
    return g


def adam_ratio_trace(
    grad: Callable,
    x0,
    steps: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
):
    """Run Adam on ``grad``; return the path (steps + 1, d) and m_hat / sqrt(v_hat), (steps, d).

    The ratio is the paper's "signal-to-noise ratio": near an optimum the mean gradient vanishes
    while its spread does not, so the ratio, and with it the step, shrinks by itself.
    """
    x = np.array(x0, dtype=float)
    state = rules.adam_init(x)
    path, snr = [x.copy()], []
    for _ in range(steps):
        update, state = rules.adam(grad(x), state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        t = state.t
        m_hat, v_hat = state.m / (1 - beta1**t), state.v / (1 - beta2**t)
        snr.append(m_hat / (np.sqrt(v_hat) + eps))
        x = x + update
        path.append(x.copy())
    return np.array(path), np.array(snr)


# --------------------------------------------------------------------------------------
# Section 3: bias correction
# --------------------------------------------------------------------------------------


def first_step_uncorrected(beta1: float, beta2: float) -> float:
    """|Delta_1| / alpha without bias correction: (1 - beta1) g / sqrt((1 - beta2) g^2)."""
    _check_betas(beta1, beta2)
    return (1 - beta1) / math.sqrt(1 - beta2)


# --------------------------------------------------------------------------------------
# Section 7: AdaMax and temporal averaging
# --------------------------------------------------------------------------------------


def lp_moment_root(grads: Sequence[float], p: float, beta2: float) -> float:
    """v_t^(1/p) for the L^p generalization v_t = beta2^p v_{t-1} + (1 - beta2^p) |g_t|^p, v_0 = 0.

    Unrolled, v_t = (1 - beta2^p) sum_i (beta2^(t-i) |g_i|)^p. Computed relative to the largest
    term, so that p = 1000 neither overflows nor underflows.
    """
    _check_betas(0.0, beta2)
    if p < 1:
        raise ValueError(f"p must be at least 1 for an L^p norm, got {p}")
    g = np.abs(np.asarray(grads, dtype=float))
    t = g.size
    terms = beta2 ** (t - 1 - np.arange(t)) * g
    top = terms.max()
    if top == 0:
        return 0.0
    return float((1 - beta2**p) ** (1 / p) * top * np.sum((terms / top) ** p) ** (1 / p))


def infinity_norm_limit(grads: Sequence[float], beta2: float) -> float:
    """lim_{p -> inf} v_t^(1/p) = max_i beta2^(t-i) |g_i| (eq. 11 of the paper)."""
    g = np.abs(np.asarray(grads, dtype=float))
    return float(np.max(beta2 ** (g.size - 1 - np.arange(g.size)) * g))


def adamax_step_bound(t, beta1: float = 0.9, beta2: float = 0.999):
    """The largest |Delta_t| / alpha AdaMax can take at step t (eps = 0); slightly above 1.

    u_t >= beta2^k |g_{t-k}| bounds every past gradient, so
    |m_t| <= (1 - beta1) u_t sum_{k<t} (beta1 / beta2)^k, and the step is at most
    (1 - beta1) (1 - r^t) / ((1 - r)(1 - beta1^t)) with r = beta1 / beta2: about 1.009 with the
    defaults. Equality holds for same-sign gradients that shrink by beta2 per step.
    """
    _check_betas(beta1, beta2)
    if beta1 >= beta2:
        raise ValueError(f"the bound needs beta1 < beta2, got beta1={beta1}, beta2={beta2}")
    r = beta1 / beta2
    t = np.asarray(t, dtype=float)
    return (1 - beta1) * (1 - r**t) / ((1 - r) * (1 - beta1**t))


def adamax_worst_gradients(t: int, beta2: float = 0.999) -> np.ndarray:
    """The t gradients that reach ``adamax_step_bound``: g_i = beta2^-(t-i), ending at 1."""
    return (1.0 / beta2) ** np.arange(t)[::-1]


def averaged_run(
    rule: Rule | str, grad: Callable, x0, steps: int, beta_avg: float = 0.999, **hyper
):
    """Run a rule and, alongside, the Section 7.2 exponential average of its iterates.

    Returns (path, averaged path), each (steps + 1, d); the averaged path starts at x0 and is
    bias-corrected (``rules.param_ema``). The optimizer's own path is left unchanged.
    """
    if isinstance(rule, str):
        rule = RULES[rule]
    hp = {**rule.defaults, **hyper}
    x = np.array(x0, dtype=float)
    state, avg_state = rule.init(x), rules.param_ema_init(x)
    path, avg_path = [x.copy()], [x.copy()]
    for _ in range(steps):
        update, state = rule.step(grad(x), state, **hp)
        x = x + update
        avg, avg_state = rules.param_ema(x, avg_state, beta2=beta_avg)
        path.append(x.copy())
        avg_path.append(avg)
    return np.array(path), np.array(avg_path)


# --------------------------------------------------------------------------------------
# Beyond the paper: online convergence (Reddi, Kale & Kumar 2018)
# --------------------------------------------------------------------------------------


def run_online(
    rule: Rule | str,
    online_grad: Callable,
    x0,
    steps: int,
    lr: float,
    decay: str = "sqrt",
    project: Callable | None = None,
    **hyper,
) -> np.ndarray:
    """Projected online optimization with step size lr_t = lr / sqrt(t) (``decay="sqrt"``) or lr.

    ``online_grad(x, t)`` gives the gradient of the loss f_t, t = 1, 2, ... Returns the path of
    shape (steps + 1, d): x_0, then the iterate after each step (``landscapes.run``).
    """
    if decay not in ("sqrt", "none"):
        raise ValueError(f"decay must be 'sqrt' (lr / sqrt(t)) or 'none', got {decay!r}")
    schedule = (lambda t: 1.0 / math.sqrt(t)) if decay == "sqrt" else None
    return landscapes.run(
        rule,
        online_grad,
        x0,
        steps,
        project=project,
        online=True,
        lr_schedule=schedule,
        lr=lr,
        **hyper,
    )


def gamma_increments(grads, method: str, lr: float = 0.5, beta2: float = 0.1) -> np.ndarray:
    """Gamma_t = sqrt(s_t) / lr_t - sqrt(s_{t-1}) / lr_{t-1}, t = 2..T, for a 1-D gradient sequence.

    s_t is the second-moment estimate that divides the step and lr_t the step size:
    "adam": bias-corrected EMA of g^2, lr_t = lr / sqrt(t); "amsgrad": running maximum of the
    uncorrected EMA (Reddi et al.'s Algorithm 2), lr_t = lr / sqrt(t); "adagrad": sum of g^2,
    lr_t = lr. Kingma & Ba's convergence proof needs Gamma_t >= 0 (Reddi et al., 2018).
    """
    g2 = np.asarray(grads, dtype=float) ** 2
    t = np.arange(1, g2.size + 1)
    if method == "adagrad":
        s, lr_t = np.cumsum(g2), np.full(g2.size, lr)
    elif method in ("adam", "amsgrad"):
        _check_betas(0.0, beta2)
        v = np.empty_like(g2)
        acc = 0.0
        for i, x in enumerate(g2):
            acc = beta2 * acc + (1 - beta2) * x
            v[i] = acc
        s = v / (1 - beta2**t) if method == "adam" else np.maximum.accumulate(v)
        lr_t = lr / np.sqrt(t)
    else:
        raise ValueError(f"method must be 'adam', 'amsgrad' or 'adagrad', got {method!r}")
    inv = np.sqrt(s) / lr_t
    return np.diff(inv)


def synthetic_grad(
    big: float = 1010.0,
    small: float = -10.0,
    period: int = 101,
    stochastic: bool = False,
    seed: int = 0,
) -> Callable:
    """Reddi et al.'s synthetic losses f_t(x) = big * x once per period, small * x otherwise.

    With ``stochastic`` the big gradient comes with probability 1 / period instead, independently
    per coordinate (so a d-dimensional x runs d independent copies at once).
    """
    rng = np.random.default_rng(seed)

    def online_grad(x, t):
        x = np.asarray(x, dtype=float)
        if stochastic:
            hit = rng.random(x.shape) < 1.0 / period
        else:
            hit = np.full(x.shape, t % period == 1)
        return np.where(hit, big, small)

    return online_grad


def linear_regret(path: np.ndarray, grads: np.ndarray, x_star) -> np.ndarray:
    """Cumulative regret of linear losses f_t(x) = g_t . x: sum_t g_t . (x_t - x*), for t = 1..T.

    ``path`` is (T + 1, d) with path[t - 1] the point played at step t; ``grads`` is (T, d).
    """
    played = path[:-1]
    return np.cumsum(np.sum(grads * (played - np.asarray(x_star, dtype=float)), axis=1))


# --------------------------------------------------------------------------------------
# Beyond the paper: L2 inside Adam vs decoupled weight decay (Loshchilov & Hutter 2019)
# --------------------------------------------------------------------------------------


def weight_decay_run(
    sigmas: Sequence[float],
    steps: int,
    mode: str,
    lr: float = 1e-3,
    weight_decay: float = 0.1,
    w0: float = 1.0,
    copies: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """Weights that the loss does not constrain: each gradient is pure noise, N(0, sigma_i^2).

    ``mode="l2"`` adds weight_decay * w to the gradient before Adam (torch's Adam(weight_decay));
    ``mode="decoupled"`` is AdamW (torch's AdamW). Every sigma runs ``copies`` independent times
    and the result is the mean weight over the copies, (steps + 1, len(sigmas)): the noise of
    Adam's random walk averages out and the decay remains.
    """
    if mode not in ("l2", "decoupled"):
        raise ValueError(
            f"mode must be 'l2' (decay inside the gradient) or 'decoupled' (AdamW), got {mode!r}"
        )
    if copies < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    rng = np.random.default_rng(seed)
    sig = np.asarray(sigmas, dtype=float)[None, :] * np.ones((copies, 1))
    w = np.full(sig.shape, float(w0))
    state = rules.adam_init(w)
    out = np.empty((steps + 1, sig.shape[1]))
    out[0] = w.mean(axis=0)
    for t in range(1, steps + 1):
        g = sig * rng.standard_normal(sig.shape)
        if mode == "l2":
            update, state = rules.adam(g + weight_decay * w, state, lr=lr)
        else:
            update, state = rules.adamw(g, state, w, lr=lr, weight_decay=weight_decay)
        w = w + update
        out[t] = w.mean(axis=0)
    return out


def steps_to_fraction(trace: np.ndarray, fraction: float = 0.5) -> np.ndarray:
    """Per column of a trace: the first step at ``fraction`` of its start or below (-1: never)."""
    below = trace <= fraction * trace[0]
    first = np.argmax(below, axis=0)
    return np.where(below.any(axis=0), first, -1)


# --------------------------------------------------------------------------------------
# Beyond the paper: reading torch.optim.Adam's state
# --------------------------------------------------------------------------------------


def adam_state_from_torch(optimizer, param) -> rules.AdamState:
    """The (t, m, v) that ``torch.optim.Adam`` (or adamlab's drop-in) keeps for ``param``, as NumPy.

    torch names them 'step', 'exp_avg' and 'exp_avg_sq'; a parameter that never had a gradient
    has no state yet, which is t = 0 with zero moments.
    """
    st = optimizer.state.get(param, {})
    if not st:
        z = np.zeros(tuple(param.shape))
        return rules.AdamState(0, z, z.copy())
    return rules.AdamState(
        int(st["step"]),
        st["exp_avg"].detach().cpu().numpy().astype(float),
        st["exp_avg_sq"].detach().cpu().numpy().astype(float),
    )


# --------------------------------------------------------------------------------------
# Figures with a slider (kernel-free on the site, live in a notebook)
# --------------------------------------------------------------------------------------


def bias_correction_gradients(steps: int = 3000, seed: int = 0) -> np.ndarray:
    """The noisy gradients of the bias-correction figure: mean 1, sd 0.5, so E[g^2] = 1.25."""
    return 1.0 + 0.5 * np.random.default_rng(seed).standard_normal(steps)


def bias_correction_curves(beta2: float, beta1: float = 0.9, steps: int = 3000, seed: int = 0):
    """What the bias-correction slider draws, as data.

    Returns step numbers t, the raw and corrected EMA of g^2 for noisy gradients
    (mean 1, sd 0.5, so E[g^2] = 1.25), and |Delta_t| / alpha for a constant gradient with and
    without the correction.
    """
    _check_betas(beta1, beta2)
    g = bias_correction_gradients(steps, seed)
    t = np.arange(1, steps + 1)
    raw = np.empty(steps)
    acc = 0.0
    for i, x in enumerate(g * g):
        acc = beta2 * acc + (1 - beta2) * x
        raw[i] = acc
    ones = np.ones((steps, 1))
    hp = dict(lr=1.0, beta1=beta1, beta2=beta2, eps=0.0)
    uncorrected = np.abs(trace_updates(rules.adam_no_bias_correction, rules.adam_init, ones, **hp))
    corrected = np.abs(trace_updates(rules.adam, rules.adam_init, ones, **hp))
    return t, raw, raw / (1 - beta2**t), uncorrected[:, 0], corrected[:, 0]


def draw_bias_correction(fig, beta2: float, beta1: float = 0.9, steps: int = 3000) -> None:
    """Two panels for one beta2: the second moment with and without correction, and the steps."""
    t, raw, corr, unc_step, cor_step = bias_correction_curves(beta2, beta1, steps)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.semilogx(t, raw, label="uncorrected $v_t$")
    ax1.semilogx(t, corr, label=r"corrected $\hat v_t$")
    ax1.axhline(1.25, color="k", ls="--", lw=1, label=r"$\mathbb{E}[g^2]$")
    ax1.set_ylim(0, 2.5)
    ax1.set_xlabel("step t")
    ax1.set_title(rf"second moment, $\beta_2$ = {beta2}", fontsize=10)
    ax1.legend(fontsize=8, loc="upper right")
    ax2.loglog(t, unc_step, label="no correction")
    ax2.loglog(t, cor_step, "k--", label="with correction")
    ax2.set_ylim(0.3, 300)
    ax2.set_xlabel("step t")
    ax2.set_ylabel(r"$|\Delta_t| / \alpha$")
    ax2.set_title(rf"step on a constant gradient, $\beta_1$ = {beta1}", fontsize=10)
    ax2.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
