"""`adamlab` on the command line: list, run (skip, resume, shard, tuned), tune, plot, data check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from adamlab import cli
from adamlab.experiments import specs, sweep
from adamlab.experiments.specs import Curve, Figure, Scale


@pytest.fixture
def tiny(monkeypatch):
    """A two-optimizer figure on synthetic data, registered for the duration of a test."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(300, 10, generator=g)
    data = SimpleNamespace(x_train=x, y_train=(x[:, 0] > 0.5).long(), info={})
    monkeypatch.setattr(sweep, "_load", lambda name, root: data)
    fig = Figure(
        name="tiny", title="tiny", dataset="syn", model="logreg",
        model_kw={"d_in": 10, "n_classes": 2, "l2": 1e-4}, schedule="inv_sqrt", batch_size=50,
        curves=(Curve("Adam", "Adam", grid={"quick": {"lr": (1e-3, 1e-1)}}),
                Curve("AdaGrad", "Adagrad", grid={"quick": {"lr": (1e-1,)}})),
        scales={"quick": Scale(epochs=2, seeds=(0, 1))})
    monkeypatch.setitem(specs.FIGURES, "tiny", fig)
    return fig


def test_list(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("fig1-mnist", "fig1-imdb", "fig2-dropout", "fig2-deterministic", "fig3", "fig4"):
        assert name in out
    assert "paper" in out and "quick" in out


def test_run_skip_shard_tune_plot(tiny, tmp_path, capsys):
    out = str(tmp_path)
    assert cli.main(["run", "tiny", "--out", out, "--shard", "0/2", "--quiet"]) == 0
    store = tmp_path / "tiny" / "quick"
    assert len(list(store.glob("*.json"))) == 3  # half of the 6 runs
    assert cli.main(["run", "tiny", "--out", out, "--shard", "1/2", "--quiet"]) == 0
    assert len(list(store.glob("*.json"))) == 6
    capsys.readouterr()
    assert cli.main(["run", "tiny", "--out", out, "--quiet"]) == 0
    assert "6 already finished, 0 to run" in capsys.readouterr().out

    assert cli.main(["tune", "tiny", "--out", out]) == 0
    tuned = json.loads((store / "tuned.json").read_text())
    assert tuned["Adam"]["setting"] == {"lr": 0.1} and tuned["AdaGrad"]["setting"] == {"lr": 0.1}
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines() if "best" in ln}
    assert "the largest rate of its grid: widen the grid" in lines["Adam"]  # 0.1 of (1e-3, 0.1)
    assert "widen" not in lines["AdaGrad"]  # a grid of one rate has no edge to flag
    assert cli.main(["run", "tiny", "--out", out, "--tuned", "--seeds", "0,1,2", "--quiet"]) == 0
    assert "6 runs, 4 already finished, 2 to run" in capsys.readouterr().out

    png = tmp_path / "tiny.png"
    assert cli.main(["plot", "fig1-mnist", "--out", out, "--save", str(png)]) == 2  # no results
    (tmp_path / "fig1-mnist").symlink_to(tmp_path / "tiny")
    assert cli.main(["plot", "fig1-mnist", "--out", out, "--save", str(png)]) == 0
    assert png.stat().st_size > 10_000


def test_labels_tune_one_curve_at_a_time(tiny, tmp_path, capsys):
    out = str(tmp_path)
    store = tmp_path / "tiny" / "quick"
    assert cli.main(["tune", "tiny", "--out", out, "--labels", "AdaGrad"]) == 0
    assert [p.name.split("-")[0] for p in store.glob("*-s0-*.json")] == ["AdaGrad"]
    assert set(json.loads((store / "tuned.json").read_text())) == {"AdaGrad"}
    assert cli.main(["tune", "tiny", "--out", out, "--labels", "Adam"]) == 0
    assert set(json.loads((store / "tuned.json").read_text())) == {"Adam", "AdaGrad"}
    capsys.readouterr()
    assert cli.main(["run", "tiny", "--out", out, "--tuned", "--seeds", "0,1", "--quiet",
                     "--labels", "Adam"]) == 0
    assert "2 runs, 1 already finished, 1 to run" in capsys.readouterr().out
    assert cli.main(["tune", "tiny", "--out", out, "--labels", "Adam,RMSProp"]) == 2
    err = capsys.readouterr().err
    assert "no curve 'RMSProp'" in err and "Adam, AdaGrad" in err


def test_bad_input_gets_a_clear_message(tiny, tmp_path, capsys):
    assert cli.main(["run", "fig9", "--out", str(tmp_path)]) == 2
    assert "adamlab list" in capsys.readouterr().err
    assert cli.main(["run", "tiny", "--shard", "2/2", "--out", str(tmp_path)]) == 2
    assert "0 <= i < n" in capsys.readouterr().err
    assert cli.main(["run", "tiny", "--scale", "paper", "--out", str(tmp_path)]) == 2
    assert "unknown scale" in capsys.readouterr().err
    assert cli.main(["run", "tiny", "--tuned", "--out", str(tmp_path)]) != 0
    with pytest.raises(SystemExit):
        cli.main(["run", "tiny", "--seeds", "a,b"])


def test_data_check_on_an_empty_directory(tmp_path, capsys):
    assert cli.main(["data", "check", "--data-dir", str(tmp_path), "--no-hash"]) == 0
    out = capsys.readouterr().out
    assert "missing" in out and str(tmp_path) in out


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "adamlab.cli", "--help"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "run" in r.stdout and "tune" in r.stdout


def test_the_readmes_table_of_runs_is_what_the_results_record(capsys):
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    start, end = "<!-- adamlab list --markdown -->\n", "\n<!-- end of adamlab list -->"
    quoted = readme[readme.index(start) + len(start):readme.index(end)]
    assert cli.main(["list", "--markdown", "--out", str(root / "results")]) == 0
    assert quoted.strip() == capsys.readouterr().out.strip(), (
        "README's table of runs is stale: paste the output of `adamlab list --markdown`")


def test_the_readmes_verdicts_are_what_the_results_decide(capsys):
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    start, end = "<!-- adamlab claims -->\n", "\n<!-- end of adamlab claims -->"
    quoted = readme[readme.index(start) + len(start):readme.index(end)]
    assert cli.main(["claims", "--out", str(root / "results")]) == 0
    assert quoted.strip() == capsys.readouterr().out.strip(), (
        "README's table of verdicts is stale: paste the output of `adamlab claims`")


def test_progress_counts_the_protocol_and_the_recorded_time(tmp_path):
    p = sweep.progress("fig4", "cpu", tmp_path)
    assert p == {"planned": len(specs.get("fig4").runs("cpu")), "finished": 0, "hours": 0.0,
                 "median_min": 0.0}
