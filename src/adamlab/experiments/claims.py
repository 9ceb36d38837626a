"""The paper's claims about its figures, as criteria a set of results can decide.

Each function returns a verdict, "reproduced" or "not reproduced", or says why the results cannot
decide: "not tested at this scale" for runs too small (a best rate at the edge of its grid, fewer
than three seeds, too few steps), or "not decided yet" for a sweep with planned runs missing.
The experiment chapters and the conclusion call the same functions, so a figure gets one verdict
wherever it is read.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from . import plot

REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
TOO_SMALL = "not tested at this scale"
MIN_SEEDS = 3
LBFGS = "L-BFGS (SFO stand-in)"
# the paper's "after a few epochs" (Section 6.3), as steps: three epochs of 50,000 CIFAR-10
# images in minibatches of 128, the span of its Fig. 3 left panel
FEW_EPOCHS_STEPS = 3 * math.ceil(50_000 / 128)


@dataclass
class Verdict:
    text: str                                   # reproduced / not reproduced / why undecided
    facts: dict = field(default_factory=dict)   # the numbers behind it, for the chapter to show

    def __str__(self) -> str:
        return self.text


def unfinished(shown) -> str | None:
    """The verdict of a sweep whose protocol is not complete, else None."""
    if shown.missing:
        return (f"not decided yet: {len(shown.missing)} of the {len(shown.planned)} planned runs "
                "are still to run")
    return None


def best_runs(results: list[dict]) -> dict[str, list[dict]]:
    """label -> the runs (seeds) of its best setting."""
    groups = plot.group(results)
    return {label: groups[label][json.dumps(b["setting"], sort_keys=True)]
            for label, b in plot.best_settings(results).items()}


def final_spread(results: list[dict]) -> dict[str, tuple[float, float, float]]:
    """label -> (mean, min, max) over seeds of its best setting's final cost; inf if diverged."""
    out = {}
    for label, runs in best_runs(results).items():
        finals = [r["history"]["train_loss"][-1] if r["status"] == "done" else math.inf
                  for r in runs]
        out[label] = (float(np.mean(finals)), float(min(finals)), float(max(finals)))
    return out


def _too_small(results: list[dict]) -> tuple[str | None, dict]:
    edges = plot.grid_edges(results)
    seeds = min(len(runs) for runs in best_runs(results).values())
    return (TOO_SMALL if edges or seeds < MIN_SEEDS else None), {"edges": edges, "seeds": seeds}


def fig1(results: list[dict], adam: str, partner: str, third: str) -> Verdict:
    """Fig. 1: Adam about as good as ``partner``, both below ``third``, by final cost."""
    results = [r for r in results if r["config"]["label"] in (adam, partner, third)]
    small, facts = _too_small(results)
    s = final_spread(results)
    ok = plot.matches_best(s[adam][0], s[partner][0], s[third][0])
    return Verdict(small or (REPRODUCED if ok else NOT_REPRODUCED), {**facts, "final": s})


def fig2a(results: list[dict]) -> Verdict:
    """Fig. 2a: Adam converges best with dropout: the lowest mean final cost, and its worst seed
    below every other optimizer's best seed."""
    small, facts = _too_small(results)
    s = final_spread(results)
    lowest = s["Adam"][0] == min(v[0] for v in s.values())
    clear = all(s["Adam"][2] < v[1] for k, v in s.items() if k != "Adam")
    return Verdict(small or (REPRODUCED if lowest and clear else NOT_REPRODUCED),
                   {**facts, "final": s})


def cost_within(runs: list[dict], axis: str, budget: float) -> float:
    """Mean over runs of the last cost logged at or before ``budget`` on ``axis``."""
    costs = []
    for r in runs:
        h = r["history"]
        ok = [c for c, v in zip(h["train_loss"], h[axis], strict=True) if v <= budget + 1e-9]
        costs.append(ok[-1] if ok else math.inf)
    return float(np.mean(costs))


def fig2b(results: list[dict]) -> Verdict:
    """Fig. 2b: Adam makes faster progress than the second-order method per iteration and per
    second: a lower cost both at the largest number of passes over the data the two share and
    at the longest wall-clock time they share (an L-BFGS evaluation is one pass)."""
    runs = best_runs(results)
    seeds = min(len(rs) for rs in runs.values())
    x = "passes" if all(r["history"].get("passes") for r in results) else "epoch"
    shared = {axis: min(max(r["history"][axis][-1] for r in rs) for rs in runs.values())
              for axis in (x, "wall")}
    cost = {(label, axis): cost_within(rs, axis, shared[axis]) for label, rs in runs.items()
            for axis in (x, "wall")}
    faster = all(cost[("Adam", a)] < cost[(LBFGS, a)] for a in (x, "wall"))
    per_pass = {label: float(np.mean([r["wall_time_s"] / r["history"][x][-1] for r in rs]))
                for label, rs in runs.items()}
    text = TOO_SMALL if seeds < MIN_SEEDS else (REPRODUCED if faster else NOT_REPRODUCED)
    return Verdict(text, {"x": x, "shared": shared, "cost": cost, "per_pass": per_pass,
                          "seeds": seeds})


def fig3(results: list[dict], eps: float = 1e-8, few_epochs_steps: int = FEW_EPOCHS_STEPS) -> dict:
    """Fig. 3's two claims. "plain" and "dropout": Adam and SGD with Nesterov momentum about
    equal, both below AdaGrad (``plot.matches_best`` on final costs). "vhat": the median
    sqrt(v-hat) of some weight layer of the Adam run (no dropout, seed 0, chosen rate) falls
    below eps; a run of fewer steps than the paper's "few epochs" that does not get there
    cannot refute it."""
    small, facts = _too_small(results)
    s = final_spread(results)
    out = {}
    for tag, suffix in (("plain", ""), ("dropout", "+dropout")):
        ok = plot.matches_best(s["Adam" + suffix][0], s["SGDNesterov" + suffix][0],
                               s["AdaGrad" + suffix][0])
        out[tag] = Verdict(small or (REPRODUCED if ok else NOT_REPRODUCED), {**facts, "final": s})
    run = adam_vhat_run(results)
    last = {k: v[-1] for k, v in run["history"]["sqrt_vhat"].items()}
    steps = run["steps_per_epoch"] * run["config"]["epochs"]
    if any(v < eps for v in last.values()):
        text = REPRODUCED
    else:
        text = TOO_SMALL if steps < few_epochs_steps else NOT_REPRODUCED
    out["vhat"] = Verdict(text, {"run": run, "last": last, "steps": steps})
    return out


def adam_vhat_run(results: list[dict]) -> dict:
    """The seed-0 run of Adam without dropout at its chosen rate: the one whose v-hat is read."""
    best = plot.best_settings(results)["Adam"]["setting"]
    return [r for r in results if r["config"]["label"] == "Adam" and r["config"]["seed"] == 0
            and all(r["config"]["opt_kw"].get(k) == v for k, v in best.items())][0]


def fig4_blowups(results: list[dict], epoch: int, beta2: float, corrected: bool):
    """(runs blown up, runs) with this beta2, with or without correction, at ``epoch``: a run
    blows up when it diverged or its loss is above its starting loss."""
    runs = [r for r in results if r["config"]["opt_kw"]["betas"][1] == beta2
            and r["config"]["opt_kw"]["bias_correction"] == corrected]

    def blew(r):
        h = r["history"]
        if epoch not in h["epoch"]:
            return True  # diverged earlier
        c = h["train_loss"][h["epoch"].index(epoch)]
        return not math.isfinite(c) or c > h["train_loss"][0]
    return sum(map(blew, runs)), len(runs)


def fig4_compare(results: list[dict], epoch: int, tolerance: float = 0.01):
    """Settings (beta1, beta2, log10 alpha) where the corrected run is worse than the uncorrected
    one (its worst seed above their best seed by more than ``tolerance``), the number of settings
    where both blew up on every seed (they compare nothing), and the settings compared."""
    spread = plot.fig4_spread(results, epoch)
    worse, both, n = [], 0, 0
    for (b1, b2, bc), (xs, lo, hi) in spread.items():
        if not bc or (b1, b2, False) not in spread:
            continue
        xs_no, lo_no, _ = spread[(b1, b2, False)]
        uncorrected = dict(zip(xs_no, lo_no, strict=True))
        for x, lo_c, hi_c in zip(xs, lo, hi, strict=True):
            if x not in uncorrected:
                continue
            n += 1
            if math.isinf(lo_c) and math.isinf(uncorrected[x]):
                both += 1
            elif hi_c > uncorrected[x] * (1 + tolerance):
                worse.append((b1, b2, x))
    return worse, both, n


def fig4(results: list[dict], epochs: tuple[int, ...]) -> dict:
    """Fig. 4's three claims at the first and last reported epochs (see the VAE chapter)."""
    e1, e2 = epochs[0], epochs[-1]
    blow = {(b2, bc): fig4_blowups(results, e1, b2, bc)
            for b2 in (0.99, 0.999, 0.9999) for bc in (True, False)}
    unstable = (blow[(0.9999, False)][0] > blow[(0.9999, True)][0]
                and blow[(0.9999, False)][0] > blow[(0.99, False)][0])
    worse, both, n = fig4_compare(results, e2)
    table = plot.fig4_table(results, e2)
    loss, (b1, b2, bc), x = min(((y, key, x) for key, (xs, ys) in table.items()
                                 for x, y in zip(xs, ys, strict=True)),
                                default=(math.nan, (0, 0, False), 0))
    seeds = len({r["config"]["seed"] for r in results})
    small = TOO_SMALL if seeds < MIN_SEEDS else None
    facts = {"blow": blow, "worse": worse, "both": both, "compared": n,
             "best": (b1, b2, bc, x), "best_loss": float(loss), "e1": e1, "e2": e2}

    def say(ok):
        return Verdict(small or (REPRODUCED if ok else NOT_REPRODUCED), facts)
    return {"unstable": say(unstable), "equal": say(not worse),
            "best": say(bool(bc) and b2 >= 0.999)}
