"""The exponential-moving-average chapter's numbers and its explorer over beta and t.

``explorer_state`` is the explorer's callback: a plain function of (beta, t, inputs) that the
live ipywidgets form and the precomputed static form both draw through ``draw_explorer``.
"""

from __future__ import annotations

import numpy as np

from ..ema import _check_beta, ema, ema_weights, half_life, window


def squared_gradients(steps: int, mean: float = 1.0, std: float = 1.0, seed: int = 0):
    """A stationary gradient stream g_t ~ N(mean, std^2), its squares, E[g^2] = mean^2 + std^2."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    g = mean + std * np.random.default_rng(seed).standard_normal(steps)
    return g, g * g, mean * mean + std * std


def expected_raw_average(beta: float, t, second_moment: float):
    """E[v_t] = E[g^2] (1 - beta^t) for a stationary stream started from v_0 = 0 (zeta = 0)."""
    _check_beta(beta)
    return second_moment * (1.0 - beta ** np.asarray(t, dtype=float))


def mean_age(beta: float) -> float:
    """Mean age of the inputs of a long-running EMA: sum_k k (1 - beta) beta^k = beta / (1 - beta).

    It is also how many steps the EMA trails behind a steadily rising (linear) input.
    """
    _check_beta(beta)
    return beta / (1.0 - beta)


def noise_ratio(beta: float) -> float:
    """Standard deviation of a long-running EMA of white noise over that of the noise itself:
    sqrt((1 - beta) / (1 + beta)), since Var = (1 - beta)^2 sum_k beta^(2k) sigma^2."""
    _check_beta(beta)
    return float(np.sqrt((1.0 - beta) / (1.0 + beta)))


def explorer_state(beta: float, t: int, xs) -> dict:
    """Everything the explorer shows at step t of an EMA with decay ``beta`` over inputs ``xs``.

    Returns the weight of each input x_1..x_t in v_t (oldest first), the weight left on the
    zero start (beta^t), the raw and bias-corrected averages of every step up to t, and the
    window and half-life of beta.
    """
    xs = np.asarray(xs, dtype=float)
    if not 1 <= t <= len(xs):
        raise ValueError(f"t must be between 1 and the number of inputs ({len(xs)}), got {t}")
    raw = ema(xs[:t], beta)
    corrected = ema(xs[:t], beta, bias_correction=True)
    weights = ema_weights(beta, t)[::-1]  # weights[i] multiplies x_{i+1}
    return {
        "beta": beta,
        "t": t,
        "weights": weights,
        "zero_start_weight": beta**t,
        "raw": raw,
        "corrected": corrected,
        "window": window(beta),
        "half_life": half_life(beta),
    }


def draw_explorer(fig, beta: float, t: int, xs, truth: float, t_max: int | None = None) -> None:
    """Two panels: the weights v_t gives its inputs, and raw vs corrected averages up to step t."""
    s = explorer_state(beta, t, xs)
    t_max = t_max or len(xs)
    ax_w, ax_v = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    steps = np.arange(1, t + 1)
    if t <= 60:  # one bar per input while they can be told apart
        ax_w.bar(steps, s["weights"], width=1.0, color="tab:blue")
    else:  # the same shape, drawn as one polygon: a thousand bars per frame is slow
        ax_w.fill_between(steps, s["weights"], step="mid", color="tab:blue", lw=0)
    ax_w.set_xlim(0.5, max(t, 10) + 0.5)
    ax_w.set_ylim(0, max(1.05 * s["weights"].max(), 1e-3))
    ax_w.set_xlabel("input i")
    ax_w.set_ylabel("weight of $g_i^2$ in $v_t$")
    ax_w.set_title(
        f"weights sum to {1 - s['zero_start_weight']:.3f};\n"
        f"{s['zero_start_weight']:.3f} sits on $v_0 = 0$",
        fontsize=9,
    )
    ax_v.plot(steps, np.asarray(xs)[:t], ".", ms=2, color="0.7", label="$g_t^2$ so far")
    ax_v.axhline(truth, color="k", lw=1, ls=":", label=r"$E[g^2]$")
    ax_v.plot(steps, s["raw"], color="tab:red", label="$v_t$ (raw)")
    ax_v.plot(steps, s["corrected"], color="tab:green", label=r"$\hat v_t$ (corrected)")
    ax_v.set_xlim(0, t_max)
    ax_v.set_ylim(0, 2.5 * truth)
    ax_v.set_xlabel("step t")
    ax_v.set_title(
        rf"$\beta$ = {beta}, t = {t}: $v_t$ = {s['raw'][-1]:.2f}, "
        rf"$\hat v_t$ = {s['corrected'][-1]:.2f}",
        fontsize=9,
    )
    ax_v.legend(fontsize=7, loc="upper right", ncol=2)
    # Fixed margins: tight_layout would cost about a second per precomputed frame.
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.16, top=0.82, wspace=0.3)
