"""``adamlab plan FIGURE --scale paper``: what a figure's sweep will run, what it needs, and
whether its grids can decide the paper's claims, before a GPU-hour is spent.

It prints the runs the protocol makes (the grid on the first seed, then each curve's chosen
setting on the other seeds; Fig. 4 its grid on every seed), the data each needs and whether it
is present, the device-hours estimated from the speeds the last ``adamlab selftest`` measured,
and refuses (exit status 2) a spec whose grids cannot decide: a tuned grid of fewer than four
rates, a best rate of a smaller committed scale not strictly inside it, or fewer than three
seeds.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from . import claims, specs

MIN_RATES = 4
# the files each dataset needs, as alternatives (any one of a tuple will do); the paper scale
# needs the complete data, a smaller scale may use the offline subset
NEEDS = {"mnist": (("mnist-train-images",), ("mnist-train-labels",)),
         "imdb": (("imdb-full", "imdb-labeled"),),
         "cifar10": (("cifar10-full",),)}
SUBSET_OK = {"cifar10": (("cifar10-full", "cifar10-subset"),)}


def speeds_path() -> Path:
    """Where ``adamlab selftest`` keeps the speeds it measured: ``$ADAMLAB_SELFTEST``, else
    ``~/.cache/adamlab/selftest.json``."""
    env = os.environ.get("ADAMLAB_SELFTEST")
    return Path(env) if env else Path.home() / ".cache" / "adamlab" / "selftest.json"


def problems(fig: specs.Figure, scale: str, results_root=None) -> list[str]:
    """Why the figure's grids at ``scale`` cannot decide its claims (empty when they can)."""
    from . import sweep
    out = []
    sc = fig.scales[scale]
    if len(sc.seeds) < claims.MIN_SEEDS:
        out.append(f"{len(sc.seeds)} seeds; the claims need {claims.MIN_SEEDS}")
    smaller = [s for s in sweep.COMMITTED_SCALES if s != scale and s in fig.scales]
    for c in fig.curves:
        rates = sorted(c.grid.get(scale, {}).get("lr", ()))
        if not c.runs_at(scale) or len(rates) <= 1:
            continue  # a fixed rate (AdaDelta's 1.0, L-BFGS's line search): nothing to tune
        if len(rates) < MIN_RATES:
            out.append(f"{c.label}: {len(rates)} rates in its grid; at least {MIN_RATES} needed")
        for s in smaller:
            tuned = Path(results_root or sweep.results_root()[0]) / fig.name / s / "tuned.json"
            if not tuned.exists():
                continue
            best = json.loads(tuned.read_text()).get(c.label, {}).get("setting", {}).get("lr")
            if best is not None and not rates[0] < best < rates[-1]:
                out.append(f"{c.label}: the {s} scale chose lr={best:g}, not strictly inside "
                           f"the grid {', '.join(f'{r:g}' for r in rates)}")
    return out


def data_rows(fig: specs.Figure, scale: str, root=None) -> list[tuple[str, bool]]:
    """(the files needed, in words, present?) for the figure at ``scale``."""
    from .data import files
    needs = SUBSET_OK.get(fig.dataset, NEEDS[fig.dataset]) if scale != "paper" \
        else NEEDS[fig.dataset]
    rows = []
    for alternatives in needs:
        where = " or ".join(str(files.data_dir(root) / files.FILES[k].relpath)
                            for k in alternatives)
        rows.append((where, any(files.present(k, root) for k in alternatives)))
    return rows


def report(name: str, scale: str = "paper", data_root=None, results_root=None) -> tuple[str, int]:
    """The plan in words, and the exit status: 2 when the grids cannot decide, else 0."""
    from . import selftest
    fig = specs.get(name)
    if scale not in fig.scales:
        raise ValueError(f"{name}: unknown scale {scale!r}; use one of {sorted(fig.scales)}")
    runs = selftest.planned_runs(fig, scale)
    lines = [f"{fig.name} at the {scale} scale: {fig.title}"]
    per = Counter((r.label, r.epochs) for r in runs)
    lines.append(f"runs: {len(runs)} (" + "; ".join(
        f"{label}: {n} of {epochs} epochs" for (label, epochs), n in per.items()) + ")")
    sc = fig.scales[scale]
    lines.append("protocol: " + ("the grid on every seed; " if sc.report_epochs else
                                 "the grid on seed 0 (`adamlab tune`), then each curve's best "
                                 "setting on the other seeds (`adamlab run --tuned`); ")
                 + f"seeds {', '.join(map(str, sc.seeds))}")
    for where, ok in data_rows(fig, scale, data_root):
        lines.append(f"data: {where}: {'present' if ok else 'MISSING'}")
    path = speeds_path()
    speed = json.loads(path.read_text()).get("speeds", {}).get(name) if path.exists() else None
    if speed:
        hours = selftest.estimate_hours(fig, speed["steps_per_s"], speed["rows_per_s"], scale)
        lines.append(f"estimate: {hours:.1f} device-hours, one run at a time, at the speeds "
                     f"`adamlab selftest` measured on {json.loads(path.read_text())['device']} "
                     f"({path})")
    else:
        lines.append(f"estimate: none yet; run `adamlab selftest` on the machine that will train "
                     f"(it keeps its speeds in {path})")
    bad = problems(fig, scale, results_root)
    if bad:
        lines.append("REFUSED: these grids cannot decide the figure's claims:")
        lines += [f"  - {b}" for b in bad]
        return "\n".join(lines), 2
    lines.append("grids: every tuned grid holds at least "
                 f"{MIN_RATES} rates and every smaller scale's best strictly inside")
    return "\n".join(lines), 0
