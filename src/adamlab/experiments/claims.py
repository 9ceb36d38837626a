"""The paper's claims about its figures, as criteria a set of results can decide.

One set of rules for every claim:

- Two optimizers are compared on their best settings' seeds, by two statistics of each seed's
  cost curve: the cost after the last epoch ("at the end") and the mean cost over epochs 1..E
  ("over the run": the area under the curve, how fast it comes down). For each statistic, A is
  *tied* with B when their means over seeds differ by at most ``TOLERANCE`` (1%) of the larger,
  *ahead* of B (lower) or *behind* it when every seed of one is below every seed of the other,
  and *not separated* from B when the seed ranges overlap.
- "A faster than B" holds when A is ahead over the run and ahead or tied at the end; it fails
  when A is behind on either, or tied over the run. "A about as good as B" holds when they are
  tied on both; it fails when either is ahead on either. Anything else is inconclusive.
- A verdict names its scale. At the paper's scale (its data, epochs and protocol) it is
  "reproduced", "not reproduced" or "inconclusive". At a reduced scale it says how reduced and
  what the runs show ("at 1/28 of the paper's steps on 16% of its data: Adam behind
  SGDNesterov"), and it never enters the tally of the paper's claims; nor does a comparison
  with a stand-in (full-batch L-BFGS for SFO in Fig. 2b), which says so.
- "not tested at this scale" for runs too small to compare (a best rate at the edge of its
  grid, fewer than three seeds, too few steps), "not decided yet" for a sweep with planned runs
  missing.

The experiment chapters and the conclusion call the same functions, so a claim gets one verdict
wherever it is read.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from . import plot

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
OUTCOMES = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)
TOO_SMALL = "not tested at this scale"
MIN_SEEDS = 3
TOLERANCE = 0.01   # "equal": means within 1% of the larger, for every claim
LBFGS = "L-BFGS (SFO stand-in)"
STAND_IN = "against a stand-in (full-batch L-BFGS, not the paper's SFO)"
# the paper's "after a few epochs" (Section 6.3), as steps: three epochs of 50,000 CIFAR-10
# images in minibatches of 128, the span of its Fig. 3 left panel
FEW_EPOCHS_STEPS = 3 * math.ceil(50_000 / 128)
# the training-set sizes of the paper's datasets
DATASET_SIZE = {"mnist": 60_000, "imdb": 25_000, "cifar10": 50_000}
# how a relation reads in a sentence: "Adam ahead of AdaGrad"
WORDS = {"ahead": "ahead of", "behind": "behind", "tied": "tied with",
         "overlapping": "not separated from"}


@dataclass
class Verdict:
    text: str                                   # what a reader sees: the verdict in words
    facts: dict = field(default_factory=dict)   # the numbers behind it, for the chapter to show
    outcome: str = ""                           # reproduced / not reproduced / inconclusive by
                                                # the rule, or why undecided (any scale)
    scale: str = "paper"
    stand_in: bool = False                      # compared with a stand-in, not the paper's method

    @property
    def counts(self) -> bool:
        """Whether it enters the tally of the paper's claims: a paper-scale verdict on the
        paper's own methods."""
        return self.scale == "paper" and not self.stand_in and self.outcome in OUTCOMES

    def __str__(self) -> str:
        return self.text


def steps(name: str, scale: str, curve: str | None = None) -> int:
    """Optimizer steps of one run of ``curve`` (default: the figure's first) at ``scale``."""
    from . import specs
    fig = specs.get(name)
    c = next(c for c in fig.curves if curve in (None, c.label))
    sc = fig.scales[scale]
    n = sc.n_train or DATASET_SIZE[fig.dataset]
    batch = c.batch_size or fig.batch_size
    per_epoch = n // batch if sc.last_batch == "merge" else math.ceil(n / batch)
    return max(per_epoch, 1) * (c.epochs or {}).get(scale, sc.epochs)


def reduction(name: str, scale: str) -> str:
    """How much smaller than the paper's a scale is, in words ("" for the paper scale):
    "at 1/28 of the paper's steps on 16% of its data"."""
    from . import specs
    if scale == "paper":
        return ""
    fig = specs.get(name)
    full = DATASET_SIZE[fig.dataset]
    n = fig.scales[scale].n_train or full
    ratio = steps(name, "paper") / steps(name, scale)
    out = "at " + (f"1/{ratio:.0f} of the paper's steps" if ratio >= 1.5
                   else "the paper's number of steps")
    if n < full:
        out += f" on {100 * n / full:.0f}% of its data"
    return out


def relation(a, b, tolerance: float = TOLERANCE) -> str:
    """How ``a`` stands against ``b``, each a list of per-seed costs (lower is better): "tied"
    (means within ``tolerance`` of the larger), "ahead" or "behind" (the seed ranges apart),
    else "overlapping". A diverged seed counts as an infinite cost."""
    a, b = [float(x) for x in a], [float(x) for x in b]
    ma, mb = float(np.mean(a)), float(np.mean(b))
    if ma == mb or (math.isfinite(ma) and math.isfinite(mb)
                    and abs(ma - mb) <= tolerance * max(abs(ma), abs(mb))):
        return "tied"
    if max(a) < min(b):
        return "ahead"
    if min(a) > max(b):
        return "behind"
    return "overlapping"


def faster(rel: dict) -> str:
    """The outcome of "A converges faster than B" from ``{"run": ..., "end": ...}``."""
    if rel["run"] == "ahead" and rel["end"] in ("ahead", "tied"):
        return REPRODUCED
    if "behind" in rel.values() or rel["run"] == "tied":
        return NOT_REPRODUCED
    return INCONCLUSIVE


def as_good(rel: dict) -> str:
    """The outcome of "A about as good as B"."""
    if rel["run"] == rel["end"] == "tied":
        return REPRODUCED
    if {"ahead", "behind"} & set(rel.values()):
        return NOT_REPRODUCED
    return INCONCLUSIVE


def not_worse(rel: dict) -> str:
    """The outcome of "A marginally better than B": ahead or tied on both, never behind."""
    if set(rel.values()) <= {"ahead", "tied"}:
        return REPRODUCED
    if "behind" in rel.values():
        return NOT_REPRODUCED
    return INCONCLUSIVE


def all_of(outcomes) -> str:
    """A claim made of several comparisons: reproduced when all are, not when any is not."""
    outcomes = list(outcomes)
    if all(o == REPRODUCED for o in outcomes):
        return REPRODUCED
    if NOT_REPRODUCED in outcomes:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def phrase(a: str, b: str, rel: dict) -> str:
    """A comparison in words: "Adam behind RMSProp over the run, not separated from it at the
    end", or "Adam ahead of AdaGrad" when both statistics agree."""
    if rel["run"] == rel["end"]:
        return f"{a} {WORDS[rel['run']]} {b}"
    return f"{a} {WORDS[rel['run']]} {b} over the run, {WORDS[rel['end']]} it at the end"


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
    for label, finals in seed_costs(results, "end").items():
        out[label] = (float(np.mean(finals)), float(min(finals)), float(max(finals)))
    return out


def seed_costs(results: list[dict], stat: str) -> dict[str, list[float]]:
    """label -> per seed of its best setting: the final cost (``stat`` "end") or the mean cost
    over epochs 1..E, E the runs' planned length ("run"); inf for a seed that diverged."""
    last = max(r["config"]["epochs"] for r in results)
    out = {}
    for label, runs in best_runs(results).items():
        vals = []
        for r in runs:
            h = r["history"]
            if stat == "end":
                vals.append(h["train_loss"][-1] if r["status"] == "done" else math.inf)
                continue
            costs = [h["train_loss"][h["epoch"].index(e)] if e in h["epoch"] else math.inf
                     for e in range(1, last + 1)]
            vals.append(float(np.mean(costs)) if all(map(math.isfinite, costs)) else math.inf)
        out[label] = [float(v) if math.isfinite(v) else math.inf for v in vals]
    return out


def compare(results: list[dict], a: str, b: str) -> dict:
    """``{"run": ..., "end": ...}``: how curve ``a`` stands against ``b`` (``relation``)."""
    return {stat: relation(s[a], s[b]) for stat in ("run", "end")
            for s in [seed_costs(results, stat)]}


def _too_small(results: list[dict]) -> tuple[str | None, dict]:
    edges = plot.grid_edges(results)
    seeds = min(len(runs) for runs in best_runs(results).values())
    return (TOO_SMALL if edges or seeds < MIN_SEEDS else None), {"edges": edges, "seeds": seeds}


def _verdict(outcome: str, findings: str, name: str, scale: str, facts: dict,
             stand_in: bool = False) -> Verdict:
    """The verdict's words: the outcome at the paper scale; at a reduced scale, or against a
    stand-in, what the runs show and at what scale."""
    if outcome == TOO_SMALL and scale != "paper":
        text = f"not tested {reduction(name, scale)}"
    elif outcome in OUTCOMES and (scale != "paper" or stand_in):
        where = ", ".join(w for w in (STAND_IN if stand_in else "", reduction(name, scale)) if w)
        text = f"{where}: {findings}"
    else:
        text = outcome
    return Verdict(text, {**facts, "findings": findings}, outcome, scale, stand_in)


# Fig. 1: "Adam yields similar convergence as SGD with Nesterov momentum and both converge
# faster than AdaGrad" (MNIST); on IMDB, Adam as fast as AdaGrad, both ahead of SGD + Nesterov.
FIG1 = {"fig1-mnist": ("Adam", "SGDNesterov", "AdaGrad"),
        "fig1-imdb": ("Adam+dropout", "AdaGrad+dropout", "SGDNesterov+dropout")}


def fig1(results: list[dict], name: str, scale: str = "paper",
         labels: tuple[str, str, str] | None = None) -> dict[str, Verdict]:
    """Fig. 1's two claims, split: "similar" (A about as good as B) and "faster" (A and B both
    faster than C); ``labels`` (A, B, C) replaces the panel's (the no-decay AdaGrad, say)."""
    a, b, c = labels or FIG1[name]
    results = [r for r in results if r["config"]["label"] in (a, b, c)]
    small, facts = _too_small(results)
    rel = {(x, y): compare(results, x, y) for x, y in ((a, b), (a, c), (b, c))}
    facts = {**facts, "final": final_spread(results), "rel": rel}
    similar = as_good(rel[(a, b)])
    fast = all_of(faster(rel[(x, c)]) for x in (a, b))
    return {"similar": _verdict(small or similar, phrase(a, b, rel[(a, b)]), name, scale, facts),
            "faster": _verdict(small or fast, "; ".join(phrase(x, c, rel[(x, c)]) for x in (a, b)),
                               name, scale, facts)}


def fig2a(results: list[dict], scale: str = "paper") -> Verdict:
    """Fig. 2a: "Adam shows better convergence than other methods" with dropout: Adam faster
    than every other optimizer (over the run, and ahead or tied at the end)."""
    small, facts = _too_small(results)
    rivals = [k for k in best_runs(results) if k != "Adam"]
    rel = {k: compare(results, "Adam", k) for k in rivals}
    outcome = small or all_of(faster(rel[k]) for k in rivals)
    findings = "; ".join(phrase("Adam", k, rel[k]) for k in rivals)
    return _verdict(outcome, findings, "fig2-dropout", scale,
                    {**facts, "final": final_spread(results), "rel": rel})


def costs_within(runs: list[dict], axis: str, budget: float) -> list[float]:
    """Per run, the last cost logged at or before ``budget`` on ``axis`` (inf if none)."""
    costs = []
    for r in runs:
        h = r["history"]
        ok = [c for c, v in zip(h["train_loss"], h[axis], strict=True) if v <= budget + 1e-9]
        costs.append(ok[-1] if ok else math.inf)
    return costs


def cost_within(runs: list[dict], axis: str, budget: float) -> float:
    """Mean over runs of the last cost logged at or before ``budget`` on ``axis``."""
    return float(np.mean(costs_within(runs, axis, budget)))


def fig2b(results: list[dict], scale: str = "paper") -> Verdict:
    """Fig. 2b: Adam makes faster progress than the second-order method per iteration and per
    second: ahead (``relation``) both at the largest number of passes over the data and at the
    longest wall-clock time that every run reached (an L-BFGS evaluation is one pass).
    The second-order method is a stand-in for SFO, and the verdict says so at every scale."""
    runs = best_runs(results)
    seeds = min(len(rs) for rs in runs.values())
    x = "passes" if all(r["history"].get("passes") for r in results) else "epoch"
    # the budgets every run reached (not only its longest seed)
    shared = {axis: min(r["history"][axis][-1] for rs in runs.values() for r in rs)
              for axis in (x, "wall")}
    cost = {(label, axis): cost_within(rs, axis, shared[axis]) for label, rs in runs.items()
            for axis in (x, "wall")}
    rel = {axis: relation(costs_within(runs["Adam"], axis, shared[axis]),
                          costs_within(runs[LBFGS], axis, shared[axis])) for axis in (x, "wall")}
    if all(v == "ahead" for v in rel.values()):
        outcome = REPRODUCED
    elif {"behind", "tied"} & set(rel.values()):
        outcome = NOT_REPRODUCED
    else:
        outcome = INCONCLUSIVE
    per_pass = {label: float(np.mean([r["wall_time_s"] / r["history"][x][-1] for r in rs]))
                for label, rs in runs.items()}
    findings = (f"Adam {WORDS[rel[x]]} L-BFGS per pass and per second" if rel[x] == rel["wall"]
                else f"Adam {WORDS[rel[x]]} L-BFGS per pass, {WORDS[rel['wall']]} it per second")
    return _verdict(TOO_SMALL if seeds < MIN_SEEDS else outcome, findings, "fig2-deterministic",
                    scale, {"x": x, "shared": shared, "cost": cost, "per_pass": per_pass,
                            "seeds": seeds, "rel": rel}, stand_in=True)


def fig3(results: list[dict], eps: float = 1e-8, few_epochs_steps: int = FEW_EPOCHS_STEPS,
         scale: str = "paper") -> dict[str, Verdict]:
    """Fig. 3's claims, split, each without and with dropout: "faster" (Adam and SGD with
    Nesterov momentum both converge faster than AdaGrad), "marginal" (Adam marginally better
    than SGD: ahead or tied, never behind); and "vhat": the median sqrt(v-hat) of some weight
    layer of the Adam run (no dropout, seed 0, chosen rate) falls below eps; a run of fewer
    steps than the paper's "few epochs" that does not get there cannot refute it."""
    small, facts = _too_small(results)
    facts = {**facts, "final": final_spread(results)}
    out = {}
    for suffix in ("", "+dropout"):
        adam, sgd, ada = ("Adam" + suffix, "SGDNesterov" + suffix, "AdaGrad" + suffix)
        rel = {(x, y): compare(results, x, y) for x, y in ((adam, ada), (sgd, ada), (adam, sgd))}
        fast = all_of(faster(rel[(x, ada)]) for x in (adam, sgd))
        out["faster" + suffix] = _verdict(
            small or fast, "; ".join(phrase(x, ada, rel[(x, ada)]) for x in (adam, sgd)),
            "fig3", scale, {**facts, "rel": rel})
        out["marginal" + suffix] = _verdict(
            small or not_worse(rel[(adam, sgd)]), phrase(adam, sgd, rel[(adam, sgd)]),
            "fig3", scale, {**facts, "rel": rel})
    run = adam_vhat_run(results)
    last = {k: v[-1] for k, v in run["history"]["sqrt_vhat"].items()}
    n_steps = run["steps_per_epoch"] * run["config"]["epochs"]
    below = [k for k, v in last.items() if v < eps]
    if below:
        outcome, findings = REPRODUCED, f"√v̂ below ε in {', '.join(below)}"
    else:
        outcome = TOO_SMALL if n_steps < few_epochs_steps else NOT_REPRODUCED
        findings = f"√v̂ above ε in every layer after {n_steps} steps"
    out["vhat"] = _verdict(outcome, findings, "fig3", scale,
                           {"run": run, "last": last, "steps": n_steps})
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


def fig4_seeds(results: list[dict], epoch: int) -> dict:
    """(beta1, beta2, bias_correction, log10 alpha) -> the seeds' losses at ``epoch`` (inf where
    a seed diverged before it)."""
    out: dict = {}
    for r in results:
        kw, h = r["config"]["opt_kw"], r["history"]
        c = h["train_loss"][h["epoch"].index(epoch)] if epoch in h["epoch"] else math.inf
        key = (kw["betas"][0], kw["betas"][1], kw["bias_correction"], math.log10(kw["lr"]))
        out.setdefault(key, []).append(float(c) if math.isfinite(c) else math.inf)
    return dict(sorted(out.items()))


def fig4_compare(results: list[dict], epoch: int, tolerance: float = TOLERANCE):
    """Each setting (beta1, beta2, log10 alpha) with and without correction at ``epoch``:
    (settings where the corrected run is behind, settings where both blew up on every seed
    (they compare nothing), settings compared, settings where the seeds do not separate them)."""
    seeds = fig4_seeds(results, epoch)
    worse, both, n, open_ = [], 0, 0, []
    for (b1, b2, bc, x), costs in seeds.items():
        if not bc or (b1, b2, False, x) not in seeds:
            continue
        n += 1
        other = seeds[(b1, b2, False, x)]
        if not any(map(math.isfinite, costs + other)):
            both += 1
            continue
        rel = relation(costs, other, tolerance)
        if rel == "behind":
            worse.append((b1, b2, x))
        elif rel == "overlapping":
            open_.append((b1, b2, x))
    return worse, both, n, open_


def fig4(results: list[dict], epochs: tuple[int, ...], scale: str = "paper") -> dict:
    """Fig. 4's three claims at the first and last reported epochs (see the VAE chapter)."""
    e1, e2 = epochs[0], epochs[-1]
    blow = {(b2, bc): fig4_blowups(results, e1, b2, bc)
            for b2 in (0.99, 0.999, 0.9999) for bc in (True, False)}
    unstable = (blow[(0.9999, False)][0] > blow[(0.9999, True)][0]
                and blow[(0.9999, False)][0] > blow[(0.99, False)][0])
    worse, both, n, open_ = fig4_compare(results, e2)
    seeds_at = fig4_seeds(results, e2)
    means = {k: float(np.mean(v)) for k, v in seeds_at.items()}
    best = min(means, key=means.get, default=(0, 0, False, 0))
    # the claim's group (correction, beta2 >= 0.999) against the best setting outside it
    group = {k: m for k, m in means.items() if k[2] and k[1] >= 0.999}
    rest = {k: m for k, m in means.items() if k not in group}
    g_best = min(group, key=group.get, default=None)
    r_best = min(rest, key=rest.get, default=None)
    best_rel = (relation(seeds_at[g_best], seeds_at[r_best])
                if g_best is not None and r_best is not None else "overlapping")
    seeds = len({r["config"]["seed"] for r in results})
    small = TOO_SMALL if seeds < MIN_SEEDS else None
    b1, b2, bc, x = best
    facts = {"blow": blow, "worse": worse, "both": both, "compared": n, "open": open_,
             "best": best, "best_loss": float(means.get(best, math.nan)), "e1": e1, "e2": e2,
             "group_best": g_best, "rest_best": r_best, "best_rel": best_rel}
    k = {key: blow[key][0] for key in blow}
    m = blow[(0.9999, False)][1]
    unstable_words = (f"without correction, β2 = 0.9999 blew up in {k[(0.9999, False)]} of {m} "
                      f"runs by epoch {e1}, against {k[(0.9999, True)]} with correction and "
                      f"{k[(0.99, False)]} at β2 = 0.99")
    equal_words = (f"of {n} settings, with correction behind in {len(worse)}, not separated by "
                   f"the seeds in {len(open_)}, tied or ahead in {n - len(worse) - len(open_) - both}"
                   + (f", both versions blown up in {both}" if both else ""))
    best_words = (f"the best setting with correction and β2 ≥ 0.999 {WORDS[best_rel]} the best "
                  "setting outside that group")
    if worse:
        equal = NOT_REPRODUCED
    else:
        equal = INCONCLUSIVE if open_ else REPRODUCED
    best_outcome = {"ahead": REPRODUCED, "tied": REPRODUCED, "behind": NOT_REPRODUCED,
                    "overlapping": INCONCLUSIVE}[best_rel]

    def say(outcome, words):
        return _verdict(small or outcome, words, "fig4", scale, facts)
    return {"unstable": say(REPRODUCED if unstable else NOT_REPRODUCED, unstable_words),
            "equal": say(equal, equal_words), "best": say(best_outcome, best_words)}


# The paper's claims, one row each: figure, the claim in a few words, how to read it from the
# results of a scale. The conclusion, the README (``adamlab claims --markdown``) and the tests
# read this one list.
CLAIMS = (
    ("fig1-mnist", "Adam about as good as SGD + Nesterov",
     lambda r, sc: fig1(r, "fig1-mnist", sc)["similar"]),
    ("fig1-mnist", "Adam and SGD + Nesterov both faster than AdaGrad",
     lambda r, sc: fig1(r, "fig1-mnist", sc)["faster"]),
    ("fig1-imdb", "Adam about as good as AdaGrad (dropout)",
     lambda r, sc: fig1(r, "fig1-imdb", sc)["similar"]),
    ("fig1-imdb", "Adam and AdaGrad both faster than SGD + Nesterov (dropout)",
     lambda r, sc: fig1(r, "fig1-imdb", sc)["faster"]),
    ("fig2-dropout", "Adam converges faster than every other optimizer (dropout)",
     lambda r, sc: fig2a(r, sc)),
    ("fig2-deterministic", "Adam faster than SFO, per iteration and per second",
     lambda r, sc: fig2b(r, sc)),
    ("fig3", "Adam and SGD + Nesterov both faster than AdaGrad (no dropout)",
     lambda r, sc: fig3(r, scale=sc)["faster"]),
    ("fig3", "the same with dropout", lambda r, sc: fig3(r, scale=sc)["faster+dropout"]),
    ("fig3", "Adam marginally better than SGD + Nesterov (no dropout)",
     lambda r, sc: fig3(r, scale=sc)["marginal"]),
    ("fig3", "the same with dropout", lambda r, sc: fig3(r, scale=sc)["marginal+dropout"]),
    ("fig3", "$\\hat v_t$ falls below $\\epsilon$ after a few epochs",
     lambda r, sc: fig3(r, scale=sc)["vhat"]),
    ("fig4", "no correction at $\\beta_2 = 0.9999$ is unstable",
     lambda r, sc: fig4(r, _report_epochs(sc), sc)["unstable"]),
    ("fig4", "with correction equal or better in every setting",
     lambda r, sc: fig4(r, _report_epochs(sc), sc)["equal"]),
    ("fig4", "best loss with correction and $\\beta_2 \\ge 0.999$",
     lambda r, sc: fig4(r, _report_epochs(sc), sc)["best"]),
)


def _report_epochs(scale: str) -> tuple[int, ...]:
    from . import specs
    return specs.get("fig4").scales[scale].report_epochs


def verdicts(root=None) -> list[tuple[str, str, str, Verdict]]:
    """Each claim of ``CLAIMS`` read from the largest committed scale of its figure:
    (figure name, claim, scale shown, verdict)."""
    from . import sweep
    out, cache = [], {}
    for name, claim, decide in CLAIMS:
        if name not in cache:
            cache[name] = sweep.committed(name, root)
        shown = cache[name]
        if shown is None:
            out.append((name, claim, "quick scale only",
                        Verdict(TOO_SMALL, outcome=TOO_SMALL, scale="quick")))
            continue
        pending = unfinished(shown)
        v = (Verdict(pending, outcome=pending, scale=shown.scale) if pending
             else decide(shown.results, shown.scale))
        out.append((name, claim, f"{shown.label} ({len(shown.results)} runs)", v))
    return out


def tally(rows) -> dict[str, int]:
    """How many of the paper's claims each outcome has, counting paper-scale verdicts only."""
    counted = [v.outcome for *_, v in rows if v.counts]
    return {"claims": len(rows), "decided": len(counted),
            **{o: counted.count(o) for o in OUTCOMES}}


def verdicts_markdown(root=None, with_tally: bool = True) -> str:
    """The claims and their verdicts as a Markdown table (the conclusion and the README), and
    the tally of the paper-scale verdicts under it (the conclusion says it in its own words)."""
    rows = verdicts(root)
    lines = ["| claim | figure | scale | verdict |", "|---|---|---|---|"]
    lines += [f"| {claim} | {name} | {shown} | **{v.text}** |" for name, claim, shown, v in rows]
    if not with_tally:
        return "\n".join(lines)
    t = tally(rows)
    lines += ["", f"At the paper's scale: {t['decided']} of the {t['claims']} claims decided, "
              f"{t[REPRODUCED]} reproduced, {t[NOT_REPRODUCED]} not reproduced, "
              f"{t[INCONCLUSIVE]} inconclusive. A verdict at a reduced scale or against a "
              "stand-in is not counted."]
    return "\n".join(lines)
