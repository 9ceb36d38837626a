"""The trajectory explorer: every rule in ``RULES`` on the toy landscapes, one knob set for all.

A reader picks an optimizer, a learning rate and two betas. Not every rule calls them that:
momentum's beta1 is ``mu``, RMSProp's beta2 is ``alpha``, AdaDelta's is ``rho``, and SGD
and AdaGrad have no beta at all. ``hyperparameters`` does that translation (and says which
knobs a rule ignores), ``trajectory`` runs the path, ``draw_paths`` draws contours and paths.
The widgets in the book are thin wrappers around these plain, tested functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..landscapes import LANDSCAPES, Landscape, run
from ..rules import RULES, Rule

# What each knob is called inside each rule, in order of preference.
KNOB_NAMES = {"beta1": ("beta1", "mu"), "beta2": ("beta2", "alpha", "rho")}

# One colour per rule, stable across figures (Okabe-Ito and Tol's colour-blind-safe sets).
COLORS = {
    "SGD": "#000000", "Momentum": "#E69F00", "Nesterov": "#999933", "AdaGrad": "#D55E00",
    "RMSProp": "#009E73", "AdaDelta": "#56B4E9", "Adam": "#0072B2",
    "Adam (no bias correction)": "#EE3377", "Adam (efficient form)": "#332288",
    "AMSGrad": "#882255", "AdamW": "#117733", "AdaMax": "#AA4499",
}


def get_rule(optimizer: str) -> Rule:
    try:
        return RULES[optimizer]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; choose one of {sorted(RULES)}"
        ) from None


def get_landscape(landscape: str | Landscape) -> Landscape:
    if isinstance(landscape, Landscape):
        return landscape
    try:
        return LANDSCAPES[landscape]()
    except KeyError:
        raise ValueError(
            f"unknown landscape {landscape!r}; choose one of {sorted(LANDSCAPES)}"
        ) from None


def knob_names(optimizer: str) -> dict[str, str]:
    """Map the explorer's knobs ('lr', 'beta1', 'beta2') to the rule's own argument names.

    Knobs the rule does not have are left out: SGD gives {'lr': 'lr'}.
    """
    rule = get_rule(optimizer)
    names = {"lr": "lr"}
    for knob, candidates in KNOB_NAMES.items():
        for name in candidates:
            if name in rule.defaults:
                names[knob] = name
                break
    return names


def hyperparameters(optimizer: str, lr: float, beta1: float, beta2: float) -> dict:
    """The keyword arguments that run ``optimizer`` with learning rate lr and the given betas.

    The rule's other defaults (eps, weight decay, the Nesterov switch) are kept. Betas a rule
    does not use are ignored, so one setting of the form drives every rule.
    """
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    for knob, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{knob} must lie in [0, 1), got {beta!r}")
    hp = dict(get_rule(optimizer).defaults)
    values = {"lr": float(lr), "beta1": float(beta1), "beta2": float(beta2)}
    for knob, name in knob_names(optimizer).items():
        hp[name] = values[knob]
    return hp


def trajectory(
    optimizer: str,
    landscape: str | Landscape,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    steps: int = 200,
) -> np.ndarray:
    """The path of ``optimizer`` on ``landscape`` from its start point, shape (steps + 1, 2).

    A path that overflows is cut there and filled with NaN (see ``landscapes.run``).
    """
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    land = get_landscape(landscape)
    hp = hyperparameters(optimizer, lr, beta1, beta2)
    return run(get_rule(optimizer), land.grad, land.start, int(steps), project=land.project, **hp)


def summarize(path: np.ndarray, landscape: str | Landscape) -> dict:
    """Final loss gap f - f(min), distance to the minimizer, and the step at which it diverged."""
    land = get_landscape(landscape)
    finite = np.all(np.isfinite(path), axis=1)
    diverged_at = None if finite.all() else int(np.argmin(finite))
    last = path[finite][-1]
    with np.errstate(over="ignore", invalid="ignore"):  # the last finite point may be huge
        gap = land.f(last) - land.f(land.minimum)
        distance = float(np.linalg.norm(last - land.minimum))
    return {
        "gap": gap,
        "distance": distance,
        "diverged_at": diverged_at,
    }


def best_lr(
    optimizer: str,
    landscape: str | Landscape,
    lrs: Sequence[float],
    beta1: float = 0.9,
    beta2: float = 0.999,
    steps: int = 200,
) -> float:
    """The learning rate in ``lrs`` with the lowest final loss after ``steps`` (diverged = worst).

    Ties (within 1e-12) go to the smaller learning rate: the safer choice.
    """
    if len(lrs) == 0:
        raise ValueError("best_lr needs at least one learning rate to try")
    land = get_landscape(landscape)
    scores = []
    for lr in sorted(lrs):
        s = summarize(trajectory(optimizer, land, lr, beta1, beta2, steps), land)
        scores.append((math.inf if s["diverged_at"] is not None else s["gap"], lr))
    best = min(score for score, _ in scores)
    return next(lr for score, lr in scores if score <= best + 1e-12)


_GRIDS: dict = {}


def _log_gap_grid(land: Landscape, n: int):
    """log10 of f - f(min) on an n x n grid over the bounds, cached: the figures redraw it often.

    The key holds f's values at a few points, so two landscapes that share a name but not a
    function (quadratic(1, 20) and quadratic(1, 50)) never share a grid.
    """
    (x0, x1), (y0, y1) = land.bounds
    probes = tuple(land.f(np.array(p, dtype=float)) for p in
                   [land.start, land.minimum, (x0, y0), (x1, y1), (x0, y1), (x1, y0)])
    key = (land.name, land.bounds, n, probes)
    if key not in _GRIDS:
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        Z = np.vectorize(lambda x, y: land.f(np.array([x, y])))(X, Y) - land.f(land.minimum)
        logZ = np.log10(np.maximum(Z, 1e-12) + 1e-3 * (Z.max() - Z.min()))
        _GRIDS[key] = (X, Y, logZ)
    return _GRIDS[key]


def _contour(ax, land: Landscape, n: int = 120) -> None:
    (x0, x1), (y0, y1) = land.bounds
    X, Y, logZ = _log_gap_grid(land, n)
    levels = np.unique(np.quantile(logZ, np.linspace(0.0, 1.0, 16)))
    # No antialiasing on the contours: it halves the size of every PNG frame the site embeds.
    ax.contourf(X, Y, logZ, levels=levels, cmap="Greys_r", alpha=0.45, antialiased=False)
    ax.contour(X, Y, logZ, levels=levels, colors="0.72", linewidths=0.5, antialiased=False)
    ax.plot(*land.minimum, marker="*", color="black", markersize=11, linestyle="none")
    ax.plot(*land.start, marker="o", color="black", markersize=5, linestyle="none")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")


def draw_paths(ax, landscape: str | Landscape, paths: dict[str, np.ndarray], title: str = "",
               legend: bool = True) -> None:
    """Contours of ``landscape`` (log scale, star = minimum, dot = start) and one line per path.

    A path that diverged is drawn up to its last finite point and marked so in the legend.
    """
    land = get_landscape(landscape)
    _contour(ax, land)
    for name, path in paths.items():
        finite = np.all(np.isfinite(path), axis=1)
        label = name if finite.all() else f"{name} (diverged)"
        ax.plot(path[finite, 0], path[finite, 1], "-o", markersize=1.6, linewidth=1.3,
                color=COLORS.get(name), label=label)
    if title:
        ax.set_title(title, fontsize=10)
    if legend and paths:
        ax.legend(fontsize=7, loc="best", framealpha=0.85)


def draw_settings(fig, settings: dict) -> None:
    """The live explorer's callback.

    ``settings`` holds landscape, optimizers (a list of rule names), lr, beta1, beta2, steps.
    """
    required = {"landscape", "optimizers", "lr", "beta1", "beta2", "steps"}
    missing = required - set(settings)
    if missing:
        raise ValueError(f"draw_settings is missing {sorted(missing)}; it needs {sorted(required)}")
    land = get_landscape(settings["landscape"])
    paths = {
        name: trajectory(name, land, settings["lr"], settings["beta1"], settings["beta2"],
                         settings["steps"])
        for name in settings["optimizers"]
    }
    ax = fig.add_subplot(1, 1, 1)
    draw_paths(ax, land, paths, title=(
        f"{land.name}: lr={settings['lr']:.3g}, beta1={settings['beta1']}, "
        f"beta2={settings['beta2']}, {settings['steps']} steps"))
    fig.tight_layout()


def live_explorer(optimizers: Sequence[str] = ("SGD", "Momentum", "RMSProp", "Adam", "AdaMax")):
    """The ipywidgets form of the explorer (needs a running kernel to redraw)."""
    import ipywidgets as widgets

    from .interactive import live_slider

    style = {"description_width": "initial"}
    controls = dict(
        landscape=widgets.Dropdown(options=sorted(LANDSCAPES), value="rosenbrock",
                                   description="landscape"),
        optimizers=widgets.SelectMultiple(options=list(RULES), value=tuple(optimizers), rows=6,
                                          description="optimizers"),
        lr=widgets.FloatLogSlider(value=0.05, base=10, min=-4, max=0, step=0.25,
                                  description="learning rate", style=style),
        beta1=widgets.SelectionSlider(options=[0.0, 0.5, 0.8, 0.9, 0.95, 0.99], value=0.9,
                                      description="beta1 (mu)", style=style),
        beta2=widgets.SelectionSlider(options=[0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999],
                                      value=0.999, description="beta2 (alpha, rho)", style=style),
        steps=widgets.IntSlider(value=300, min=10, max=1000, step=10, description="steps"),
    )
    return live_slider(draw_settings, figsize=(6.5, 4.5), **controls)


def sweep(
    landscape: str | Landscape,
    optimizers: Sequence[str],
    knob: str,
    values: Sequence[float],
    lr: float = 0.05,
    beta1: float = 0.9,
    beta2: float = 0.999,
    steps: int = 200,
) -> list[dict[str, np.ndarray]]:
    """Paths for each value of one knob ('lr', 'beta1' or 'beta2'), the others held fixed.

    Returns one {optimizer: path} dict per value: the frames of a precomputed slider.
    """
    if knob not in ("lr", "beta1", "beta2"):
        raise ValueError(f"knob must be 'lr', 'beta1' or 'beta2', got {knob!r}")
    land = get_landscape(landscape)
    frames = []
    for value in values:
        setting = {"lr": lr, "beta1": beta1, "beta2": beta2, knob: value}
        frames.append({name: trajectory(name, land, steps=steps, **setting) for name in optimizers})
    return frames


def static_sweep(landscape, optimizers, knob, values, steps=200, dpi=60, alt=None, **fixed):
    """A kernel-free slider over one knob: every frame is precomputed (see ``sweep``).

    ``alt`` describes the figure for readers who cannot see it; a generic one is made if absent.
    """
    from .interactive import static_slider

    land = get_landscape(landscape)
    frames = sweep(land, optimizers, knob, values, steps=steps, **fixed)
    fixed_text = ", ".join(f"{k}={v}" for k, v in fixed.items() if k != knob)

    def draw(fig, i):
        ax = fig.add_subplot(1, 1, 1)
        draw_paths(ax, land, frames[i], title=f"{land.name}: {knob} = {values[i]:g}"
                   + (f" ({fixed_text})" if fixed_text else ""))
        fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.91)  # fixed: fast

    if alt is None:
        alt = (f"Contour plot of the {land.name} landscape with the paths of "
               f"{', '.join(optimizers)}; a slider steps {knob} through "
               f"{', '.join(f'{v:g}' for v in values)}.")
    # A small canvas at a moderate dpi: readable labels, few bytes per frame.
    return static_slider(draw, list(range(len(values))), figsize=(5.2, 3.5), dpi=dpi, alt=alt)


def tour(
    lrs: Sequence[float] = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0),
    landscapes: Sequence[str] = ("quadratic", "rosenbrock", "beale", "saddle"),
    steps: int = 300,
    beta1: float = 0.9,
    beta2: float = 0.999,
) -> dict[str, dict[str, tuple[float, np.ndarray]]]:
    """Every rule on every landscape at its best learning rate from ``lrs``.

    Returns {rule: {landscape: (lr, path)}}.
    """
    out = {}
    for name in RULES:
        out[name] = {}
        for land_name in landscapes:
            lr = best_lr(name, land_name, lrs, beta1, beta2, steps)
            out[name][land_name] = (lr, trajectory(name, land_name, lr, beta1, beta2, steps))
    return out


def draw_tour(fig, name: str, result: dict) -> None:
    """One frame of the tour: rule ``name`` on each landscape (2 x 2 panels)."""
    lands = list(result[name])
    for k, land_name in enumerate(lands):
        ax = fig.add_subplot(2, 2, k + 1)
        lr, path = result[name][land_name]
        draw_paths(ax, land_name, {name: path}, title=f"{land_name}, lr={lr:g}", legend=False)
        # The shapes carry the story; without ticks (and tight_layout, which measures them)
        # a frame draws several times faster.
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(name, fontsize=12, color=COLORS.get(name))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.88, wspace=0.06, hspace=0.16)


def static_tour(result: dict, dpi: int = 60, alt: str | None = None):
    """A kernel-free slider over the rules, each drawn on every landscape (see ``tour``)."""
    from .interactive import static_slider

    names = list(result)
    if alt is None:
        alt = (f"Four contour plots ({', '.join(next(iter(result.values())))}) with one "
               f"optimizer's path on each; a slider steps through {', '.join(names)}.")
    return static_slider(lambda fig, i: draw_tour(fig, names[i], result), list(range(len(names))),
                         figsize=(7.0, 5.6), dpi=dpi, alt=alt)
