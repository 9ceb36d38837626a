"""Figures in the paper's layout from a results store: mean over seeds with the min-max band.

For every curve (optimizer) the hyperparameter setting with the lowest final training cost,
averaged over seeds, is the one drawn: the paper's "results are reported using the best
hyper-parameter setting". A diverged run counts as an infinite cost.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from collections import defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np

from ..quantities import training_cpu_hours, training_wall_hours
from .sweep import device_of, load_results

COLORS = {"Adam": "#d62728", "AdaGrad": "#1f77b4", "SGDNesterov": "#2ca02c", "RMSProp": "#9467bd",
          "AdaDelta": "#8c564b", "L-BFGS": "#ff7f0e"}


def color(label: str) -> str:
    """The optimizer's colour: the label's first name ("AdaGrad+dropout, no decay" -> AdaGrad)."""
    return COLORS.get(re.match(r"[\w-]*", label).group(), "#555555")


def _ablation_ls(label: str, default: str) -> str:
    """The schedule ablation ("AdaGrad, no decay") is dotted beside the curve it varies."""
    return ":" if "no decay" in label else default


def _key(r: dict) -> str:
    return json.dumps(r["config"]["opt_kw"], sort_keys=True)


def _final(r: dict, metric: str = "train_loss") -> float:
    v = r["history"][metric][-1] if r["history"][metric] else math.inf
    return v if r["status"] == "done" and math.isfinite(v) else math.inf


def group(results: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """label -> setting (JSON of opt_kw) -> the runs (one per seed)."""
    out: dict = defaultdict(lambda: defaultdict(list))
    for r in results:
        out[r["config"]["label"]][_key(r)].append(r)
    return out


def _mean_final(runs: list[dict], metric: str, seeds: set) -> float:
    on = [r for r in runs if r["config"]["seed"] in seeds] or runs
    return float(np.mean([_final(r, metric) for r in on]))


def best_settings(results: list[dict], metric: str = "train_loss") -> dict[str, dict]:
    """For each label, the setting whose mean final cost is lowest, over the seeds that every
    setting of the label has run: after ``tune`` (seed 0 on the grid) and ``run --tuned`` (more
    seeds at the chosen setting) that is still seed 0, so the extra seeds cannot unmake the
    choice they were run for. ``final`` is the chosen setting's mean over all its seeds."""
    best = {}
    for label, by_setting in group(results).items():
        shared = set.intersection(*({r["config"]["seed"] for r in runs}
                                    for runs in by_setting.values()))
        scored = sorted((_mean_final(runs, metric, shared), key)
                        for key, runs in by_setting.items())
        key = scored[0][1]
        final = float(np.mean([_final(r, metric) for r in by_setting[key]]))
        best[label] = {"setting": json.loads(key), "final": final,
                       "seeds": len(by_setting[key]), "grid": [json.loads(k) for _, k in scored],
                       "grid_final": [f for f, _ in scored]}
    return best


def cost_at(results: list[dict], epochs, labels=None) -> dict[str, list[float]]:
    """label -> the mean cost over seeds of its best setting after each of ``epochs``
    (inf where a run diverged before that epoch)."""
    best, groups = best_settings(results), group(results)
    out = {}
    for label in labels or sorted(groups):
        if label not in groups:
            continue
        runs = groups[label][json.dumps(best[label]["setting"], sort_keys=True)]
        row = []
        for e in epochs:
            costs = [r["history"]["train_loss"][r["history"]["epoch"].index(e)]
                     if e in r["history"]["epoch"] else math.inf for r in runs]
            row.append(float(np.mean(costs)))
        out[label] = row
    return out


def mean_cost(results: list[dict], labels=None) -> dict[str, float]:
    """label -> the cost of its best setting averaged over epochs 1..E (and over seeds): the
    area under the curve, a measure of how fast a curve comes down, with no epoch to choose.

    The window is the runs' planned length: a diverged grid point (which stops early) must not
    shorten every curve's window; a best setting that diverged averages to inf."""
    last = max(r["config"]["epochs"] for r in results)
    return {label: float(np.mean(row))
            for label, row in cost_at(results, range(1, last + 1), labels).items()}


def grid_edges(results: list[dict], hyper: str = "lr") -> dict[str, str]:
    """Curves whose best ``hyper`` is the largest or smallest value of their grid.

    A best setting at the edge of the grid means a wider grid might do better, so the
    comparison is not settled: label -> "largest" or "smallest" (curves with one value, or
    with the best inside the grid, are left out).
    """
    out = {}
    for label, b in best_settings(results).items():
        values = sorted({g[hyper] for g in b["grid"] if hyper in g})
        if len(values) < 2 or hyper not in b["setting"]:
            continue
        if b["setting"][hyper] == values[-1]:
            out[label] = "largest"
        elif b["setting"][hyper] == values[0]:
            out[label] = "smallest"
    return out


def matches_best(a: float, b: float, c: float, k: float = 0.5) -> bool:
    """The paper's "A is about as good as B, both better than C", made testable: A and B end
    below C, and the A-B gap is less than k times the smaller of their leads over C."""
    return a < c and b < c and abs(a - b) < k * min(c - a, c - b)


def curve(runs: list[dict], x: str = "epoch", y: str = "train_loss"):
    """x, mean, min, max over the runs (seeds), cut to the shortest (a diverged run ends early)."""
    n = min(len(r["history"][y]) for r in runs)
    ys = np.array([r["history"][y][:n] for r in runs], dtype=float)
    xs = np.array(runs[0]["history"][x][:n], dtype=float)
    if x in ("wall", "passes"):  # differs per seed (L-BFGS's line search): average it too
        xs = np.array([r["history"][x][:n] for r in runs], dtype=float).mean(0)
    return xs, ys.mean(0), ys.min(0), ys.max(0)


def _plain(chooser: mticker.LogFormatter) -> mticker.Formatter:
    """Label the ticks ``chooser`` labels, as plain numbers: "0.02", not "2e-02"."""
    class Plain(mticker.FuncFormatter):
        def set_axis(self, axis):
            super().set_axis(axis)
            chooser.set_axis(axis)

        def set_locs(self, locs):
            chooser.set_locs(locs)

    return Plain(lambda y, pos: f"{y:g}" if chooser(y, pos) else "")


def draw(ax, results: list[dict], x: str = "epoch", y: str = "train_loss", xmax=None,
         log: bool = False, labels=None) -> None:
    """One panel: each label's best setting, mean line and min-max band over seeds."""
    best = best_settings(results)
    groups = group(results)
    for label in labels or sorted(groups):
        if label not in groups:
            continue
        runs = groups[label][json.dumps(best[label]["setting"], sort_keys=True)]
        xs, mean, lo, hi = curve(runs, x, y)
        if xmax is not None:
            keep = xs <= xmax + 1e-9
            xs, mean, lo, hi = xs[keep], mean[keep], lo[keep], hi[keep]
        dashed = "dropout" not in label and any("dropout" in k for k in groups)
        ls = _ablation_ls(label, "--" if dashed else "-")
        lr = best[label]["setting"].get("lr")
        name = f"{label} (α={lr:g})" if lr is not None else label
        ax.plot(xs, mean, color=color(label), ls=ls, lw=1.6, label=name)
        if len(runs) > 1:
            ax.fill_between(xs, lo, hi, color=color(label), alpha=0.2, lw=0)
    if log:
        ax.set_yscale("log")
        # plain numbers ("2", "0.02") rather than "2 x 10^0" on the ticks of a short log range
        ax.yaxis.set_major_formatter(_plain(mticker.LogFormatter()))
        ax.yaxis.set_minor_formatter(_plain(mticker.LogFormatter(labelOnlyBase=False,
                                                                 minor_thresholds=(1, 0.5))))
    ax.set_xlabel({"epoch": "epochs", "wall": "wall-clock seconds", "batch_epoch": "epochs",
                   "passes": "passes over the training set (gradient evaluations)"}[x])
    ax.set_ylabel("training cost")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_finals(ax, results: list[dict], metric: str = "train_loss") -> dict[str, list[float]]:
    """One panel: each label's final cost at its best setting, one dot per seed and a bar at
    their mean, lowest mean first; a diverged seed is drawn at the top as a cross. Returns
    label -> the finals drawn, in seed order."""
    best, groups = best_settings(results, metric), group(results)
    finals = {}
    for label in groups:
        runs = sorted(groups[label][json.dumps(best[label]["setting"], sort_keys=True)],
                      key=lambda r: r["config"]["seed"])
        finals[label] = [_final(r, metric) for r in runs]
    order = sorted(finals, key=lambda k: np.mean(finals[k]))
    finite = [v for vs in finals.values() for v in vs if math.isfinite(v)]
    top = max(finite) * 1.5 if finite else 1.0
    for i, label in enumerate(order):
        vs = finals[label]
        ok = [v for v in vs if math.isfinite(v)]
        ax.plot([i] * len(ok), ok, "o", color=color(label), ms=5, alpha=0.8)
        if len(ok) < len(vs):
            ax.plot([i] * (len(vs) - len(ok)), [top] * (len(vs) - len(ok)), "x",
                    color=color(label), ms=7)
        if ok and len(ok) == len(vs):
            ax.plot([i - 0.25, i + 0.25], [np.mean(ok)] * 2, color=color(label), lw=2)
    ax.set_xticks(range(len(order)), order, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("final training cost")
    for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
        axis(mticker.FormatStrFormatter("%.3g"))
    counts = sorted({len(v) for v in finals.values()})
    seeds = (f"{counts[0]} seed" + "s" * (counts[0] != 1) if len(counts) == 1
             else f"{counts[0]} to {counts[-1]} seeds, while runs are missing")
    # wrapped: one line is wider than the last panel of a three-panel figure
    ax.set_title(textwrap.fill(f"final cost, a dot per seed (bar: mean of {seeds})", 34),
                 fontsize=9)
    ax.grid(alpha=0.3, axis="y", which="both")
    return finals


def draw_grid(ax, results: list[dict], hyper: str = "lr", seed: int = 0,
              log: bool = True) -> None:
    """The tuning curves: final cost of each setting of ``hyper`` on one seed, per curve.

    The best setting is ringed; a diverged run is drawn as a cross at the top of the axis.
    """
    runs = [r for r in results if r["config"]["seed"] == seed and hyper in r["config"]["opt_kw"]]
    best = best_settings(runs)
    finite = [f for r in runs if math.isfinite(f := _final(r))]
    top = max(finite) if finite else 1.0
    for label, by_setting in sorted(group(runs).items()):
        pts = sorted((json.loads(k)[hyper], _final(rs[0])) for k, rs in by_setting.items())
        xs = np.array([x for x, _ in pts], dtype=float)
        ys = np.array([y for _, y in pts], dtype=float)
        ok = np.isfinite(ys)
        ax.plot(xs[ok], ys[ok], "o", ls=_ablation_ls(label, "-"),
                color=color(label), ms=4, lw=1.4, label=label)
        ax.plot(xs[~ok], np.full((~ok).sum(), top), "x", color=color(label), ms=7)
        b = best[label]["setting"][hyper]
        ax.plot([b], [best[label]["final"]], "o", ms=11, mfc="none", color=color(label))
    ax.set_xscale("log")
    if log:  # the costs near the best rates differ in the second digit, the worst by 2-5x
        ax.set_yscale("log")
        for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            axis(mticker.FormatStrFormatter("%g"))
    ax.set_xlabel({"lr": "base step size α"}.get(hyper, hyper))
    ax.set_ylabel(f"final training cost (seed {seed})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _load(source) -> list[dict]:
    if isinstance(source, (str, os.PathLike)):
        results = load_results(source)
        if not results:
            raise ValueError(f"no results in {source}; run `adamlab run` for this figure first")
        return results
    return list(source)


def plot_figure(name: str, source, report_epochs=None):
    """The figure for one spec name, from a store folder or a list of results."""
    results = _load(source)
    if name == "fig2-dropout":
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=(1.6, 1))
        draw(axes[0], results, log=True)
        axes[0].set_title(results[0]["config"]["figure"])
        draw_finals(axes[1], results)
    elif name.startswith("fig1"):
        fig, ax = plt.subplots(figsize=(5.2, 3.8))
        draw(ax, results)
        ax.set_title(results[0]["config"]["figure"])
        if name == "fig1-mnist":  # the paper's range: the first epoch's drop from ln 10 is off-chart
            ax.set_ylim(top=min(ax.get_ylim()[1], 0.8))
    elif name == "fig2-deterministic":
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        if all(r["history"].get("passes") for r in results):  # fair: cost per gradient pass
            draw(axes[0], results, x="passes", log=True)
        else:  # results from before passes were logged
            draw(axes[0], results, log=True)
            axes[0].set_xlabel("epochs (L-BFGS: full-batch iterations)")
        draw(axes[1], results, x="wall", log=True)
    elif name == "fig3":
        fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.9), width_ratios=(1, 1, 0.75))
        draw(axes[0], results, x="batch_epoch", y="batch_loss", xmax=3, log=True)
        axes[0].set_title("first 3 epochs (minibatch cost)")
        draw(axes[1], results, log=True)
        axes[1].set_title("all epochs (training cost)")
        draw_finals(axes[2], results)
    elif name == "fig4":
        fig = plot_fig4(results, report_epochs)
    else:
        raise ValueError(f"no figure layout for {name!r}")
    fig.tight_layout()
    return fig


def fig4_table(results: list[dict], epoch: int):
    """(beta1, beta2, bias_correction) -> (log10 alpha values, mean cost at ``epoch``)."""
    table: dict = defaultdict(list)
    for r in results:
        kw = r["config"]["opt_kw"]
        h = r["history"]
        cost = h["train_loss"][h["epoch"].index(epoch)] if epoch in h["epoch"] else math.inf
        table[(kw["betas"][0], kw["betas"][1], kw["bias_correction"], kw["lr"])].append(cost)
    out: dict = defaultdict(lambda: ([], []))
    for (b1, b2, bc, lr), costs in sorted(table.items()):
        xs, ys = out[(b1, b2, bc)]
        xs.append(math.log10(lr))
        ys.append(float(np.mean(costs)) if all(map(math.isfinite, costs)) else math.inf)
    return dict(out)


def fig4_spread(results: list[dict], epoch: int):
    """(beta1, beta2, bias_correction) -> (log10 alpha values, min and max cost over seeds at
    ``epoch``, inf where a seed diverged before it)."""
    table: dict = defaultdict(list)
    for r in results:
        kw, h = r["config"]["opt_kw"], r["history"]
        cost = h["train_loss"][h["epoch"].index(epoch)] if epoch in h["epoch"] else math.inf
        table[(kw["betas"][0], kw["betas"][1], kw["bias_correction"], kw["lr"])].append(
            cost if math.isfinite(cost) else math.inf)
    out: dict = defaultdict(lambda: ([], [], []))
    for (b1, b2, bc, lr), costs in sorted(table.items()):
        xs, lo, hi = out[(b1, b2, bc)]
        xs.append(math.log10(lr))
        lo.append(float(min(costs)))
        hi.append(float(max(costs)))
    return dict(out)


def plot_fig4(results: list[dict], report_epochs=None):
    epochs = report_epochs or sorted({max(r["history"]["epoch"]) for r in results})[-1:]
    betas2 = sorted({r["config"]["opt_kw"]["betas"][1] for r in results})
    betas1 = sorted({r["config"]["opt_kw"]["betas"][0] for r in results})
    fig, axes = plt.subplots(len(betas1), len(betas2) * len(epochs), sharey=True,
                             figsize=(3.0 * len(betas2) * len(epochs), 2.6 * len(betas1)),
                             squeeze=False)
    finite = [c for r in results for c in r["history"]["train_loss"] if math.isfinite(c)]
    cap = float(np.percentile(finite, 5)) * 3 if finite else 1.0  # blow-ups drawn at the top
    seeds = len({r["config"]["seed"] for r in results})
    spread = {e: fig4_spread(results, e) for e in epochs}
    for e_i, epoch in enumerate(epochs):
        table = fig4_table(results, epoch)
        for i, b1 in enumerate(betas1):
            for j, b2 in enumerate(betas2):
                ax = axes[i, e_i * len(betas2) + j]
                for bc, col, name in ((True, "red", "bias correction"), (False, "green", "no correction")):
                    if (b1, b2, bc) not in table:
                        continue
                    xs, ys = table[(b1, b2, bc)]
                    ys = np.minimum(np.array(ys, dtype=float), cap)
                    ax.plot(xs, ys, "o-", color=col, ms=3, label=name)
                    if seeds > 1:  # the spread over seeds, min to max
                        _, lo, hi = spread[epoch][(b1, b2, bc)]
                        ax.fill_between(xs, np.minimum(lo, cap), np.minimum(hi, cap),
                                        color=col, alpha=0.2, lw=0)
                ax.set_title(f"{epoch} ep · β1={b1:g} β2={b2:g}", fontsize=8)
                ax.grid(alpha=0.3)
                if i == len(betas1) - 1:
                    ax.set_xlabel("log10(α)")
                if j == 0 and e_i == 0:
                    ax.set_ylabel("loss (−ELBO)")
    axes[0, 0].legend(fontsize=7)
    axes[0, 0].set_ylim(top=cap * 1.02)
    return fig


def unstable(r: dict) -> bool:
    """A run that blew up: it diverged (NaN/inf) or ended above its starting cost."""
    h = r["history"]["train_loss"]
    return r["status"] == "diverged" or not math.isfinite(h[-1]) or h[-1] > h[0]


def provenance_line(results: list[dict]) -> str:
    """Who ran it, where, with what: one line for a figure caption."""
    ordered = sorted(results, key=lambda r: r["finished"])
    p = ordered[-1]["provenance"]
    devices = sorted({device_of(r) for r in results})
    commits = list(dict.fromkeys(r["provenance"]["git_commit"][:12] for r in ordered))
    commit = commits[0] if len(commits) == 1 else (
        f"{len(commits)} commits from {commits[0]} to {commits[-1]}")
    commands = list(dict.fromkeys(r["provenance"]["command"] for r in ordered))
    # the same CPU-hours as the figure's caption (adamlab.quantities), wall-clock time named so
    cpu, wall = training_cpu_hours(results), training_wall_hours(results)
    diverged = sum(r["status"] == "diverged" for r in results)
    changed = sum(bool(r.get("provenance_at_end", {}).get("tree_changed_while_running"))
                  for r in results)
    if changed:
        commit += (f" ({changed} run{'s' * (changed != 1)} with {'their' if changed != 1 else 'its'}"
                   f" code changed while {'they' if changed != 1 else 'it'} ran)")
    return (f"{len(results)} runs ({diverged} diverged) on {' / '.join(devices)}; code at "
            f"{commit}; torch {p['versions']['torch']}; {cpu:.1f} CPU-hours of training in "
            f"all ({wall:.1f} h wall-clock); finished {ordered[0]['finished']} to "
            f"{ordered[-1]['finished']}; commands: "
            + "; ".join(commands))


def save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
