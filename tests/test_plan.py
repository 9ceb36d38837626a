"""`adamlab plan`: the runs, the data, the estimate, and a refusal of grids that cannot decide."""

import dataclasses
import json

import pytest

from adamlab import cli
from adamlab.experiments import plan, selftest, specs


@pytest.mark.parametrize("name", list(specs.FIGURES))
def test_every_paper_scale_spec_can_decide(name):
    assert plan.problems(specs.get(name), "paper") == []


def test_a_two_rate_grid_and_a_best_outside_it_are_refused(monkeypatch, tmp_path):
    fig = specs.get("fig3")
    narrow = [dataclasses.replace(c, grid={**c.grid, "paper": {"lr": (1e-2, 3e-2)}})
              if c.label == "Adam" else c for c in fig.curves]
    monkeypatch.setitem(specs.FIGURES, "fig3", dataclasses.replace(fig, curves=tuple(narrow)))
    (tmp_path / "fig3" / "cpu").mkdir(parents=True)
    (tmp_path / "fig3" / "cpu" / "tuned.json").write_text(
        json.dumps({"Adam": {"setting": {"lr": 1e-3}}}))
    bad = plan.problems(specs.get("fig3"), "paper", tmp_path)
    assert any("Adam: 2 rates" in b for b in bad)
    assert any("Adam: the cpu scale chose lr=0.001, not strictly inside" in b for b in bad)
    text, code = plan.report("fig3", "paper", tmp_path, tmp_path)
    assert code == 2 and "REFUSED" in text


def test_the_plan_names_the_runs_the_data_and_the_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAMLAB_SELFTEST", str(tmp_path / "speeds.json"))
    text, code = plan.report("fig3", "paper", tmp_path / "nodata")
    assert code == 0
    assert f"runs: {len(selftest.planned_runs(specs.get('fig3')))} " in text
    assert "cifar-10-python.tar.gz: MISSING" in text and "run `adamlab selftest`" in text
    (tmp_path / "speeds.json").write_text(json.dumps({
        "device": "cuda:0 (a GPU)", "speeds": {"fig3": {"steps_per_s": 100.0,
                                                         "rows_per_s": 10_000.0}}}))
    text, _ = plan.report("fig3", "paper", tmp_path / "nodata")
    hours = selftest.estimate_hours(specs.get("fig3"), 100.0, 10_000.0)
    assert f"estimate: {hours:.1f} device-hours" in text and "cuda:0 (a GPU)" in text
    # a smaller scale may use the offline subset
    text, _ = plan.report("fig3", "cpu", tmp_path / "nodata")
    assert "cifar10_subset.npz" in text


def test_plan_command_prints_the_store_and_exits_0(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ADAMLAB_SELFTEST", str(tmp_path / "none.json"))
    assert cli.main(["plan", "fig4", "--scale", "paper", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "results store:" in out and "runs: 180" in out
