"""The paper-scale grids can decide: enough rates, and every smaller scale's best strictly inside.

A best at the edge of its grid says only that the best may lie further out, so `tune` flags it
and the figure's claims stay undecided. The paper scale is the last word, so its grid must be
wide enough to contain what the smaller scales already chose.
"""
import json
from pathlib import Path

import pytest

from adamlab.experiments.specs import FIGURES

RESULTS = Path(__file__).resolve().parents[1] / "results"
SMALLER = ("cpu",)  # committed scales below the paper's (quick is never committed)


def _tuned_curves():
    for fig in FIGURES.values():
        for curve in fig.curves:
            if curve.runs_at("paper") and len(curve.grid.get("paper", {}).get("lr", ())) > 1:
                yield fig, curve


@pytest.mark.parametrize("fig,curve", list(_tuned_curves()),
                         ids=lambda x: getattr(x, "name", None) or getattr(x, "label", None))
def test_paper_grid_has_four_rates(fig, curve):
    assert len(curve.grid["paper"]["lr"]) >= 4, (fig.name, curve.label, curve.grid["paper"])


def _committed_bests():
    for scale in SMALLER:
        for path in sorted(RESULTS.glob(f"*/{scale}/tuned.json")):
            fig = FIGURES[path.parts[-3]]
            for label, entry in json.loads(path.read_text()).items():
                yield fig, scale, label, entry["setting"].get("lr")


@pytest.mark.parametrize("fig,scale,label,lr", list(_committed_bests()),
                         ids=lambda x: str(getattr(x, "name", x)))
def test_paper_grid_holds_smaller_scales_best_inside(fig, scale, label, lr):
    curve = next(c for c in fig.curves if c.label == label)
    rates = sorted(curve.grid["paper"]["lr"])
    if len(rates) == 1:  # a fixed rate (AdaDelta's 1.0, L-BFGS's line search): nothing to tune
        assert rates == [lr]
        return
    assert rates[0] < lr < rates[-1], (
        f"{fig.name} {label}: the {scale} scale chose lr={lr}, not strictly inside the paper grid {rates}")
    assert any(abs(r - lr) <= 1e-12 * lr for r in rates), f"{fig.name} {label}: {lr} not in {rates}"


def test_grids_checked_exist():
    # the scan above must see the committed cpu-scale choices, or it checks nothing
    assert len(list(_committed_bests())) >= 10
