"""The training pipeline on small synthetic data: resume after SIGKILL, divergence, atomic
results, sharding, skipping finished runs, the models and the specs."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
import torch

from adamlab.experiments import models, plot, specs, sweep
from adamlab.experiments.train import (
    RunConfig,
    batch_bounds,
    make_schedule,
    provenance,
    train,
    write_json_atomic,
)


def synthetic(n=600, d=20, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g)
    w = torch.randn(d, classes, generator=g)
    y = (x @ w).argmax(1)
    return SimpleNamespace(x_train=x, y_train=y, info={"name": "synthetic"})


def cfg(**kw):
    base = dict(figure="t", label="Adam", dataset="syn", model="mlp", optimizer="Adam",
                epochs=3, batch_size=32,
                model_kw={"d_in": 20, "hidden": 16, "n_classes": 3, "input_dropout": 0.1,
                          "hidden_dropout": 0.3},
                opt_kw={"lr": 1e-2}, points_per_epoch=4, log_vhat=True)
    base.update(kw)
    return RunConfig(**base)


# ----------------------------------------------------------------- kill -9 and resume

SCRIPT = textwrap.dedent("""
    import sys, time, torch
    torch.set_num_threads(1)
    sys.path.insert(0, {tests!r})
    from test_train import synthetic, cfg
    from adamlab.experiments.train import train
    out, kill_at = sys.argv[1], sys.argv[2]
    def callback(epoch, step):
        if kill_at != "none" and (epoch, step) == tuple(map(int, kill_at.split(","))):
            print("MID", flush=True)
            time.sleep(600)
    r = train(cfg(epochs=4), synthetic(), out, progress=False, callback=callback)
    print("DONE", r["status"], flush=True)
""")


def _start(tmp_path, out, kill_at):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(tests=os.path.dirname(__file__)))
    return subprocess.Popen([sys.executable, str(script), str(out), kill_at],
                            stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_gives_identical_results(tmp_path):
    ref = _start(tmp_path, tmp_path / "ref", "none")
    assert "DONE done" in ref.communicate(timeout=300)[0]

    killed = _start(tmp_path, tmp_path / "cut", "3,5")  # epoch 3, after its 6th step
    assert killed.stdout.readline().strip() == "MID"
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    cut = tmp_path / "cut"
    assert not list(cut.glob("*.json")), "a killed run left a result behind"
    (ckpt,) = (cut / "checkpoints").glob("*.pt")
    assert torch.load(ckpt, weights_only=False)["epoch"] == 2  # epochs 1 and 2 were saved

    resumed = _start(tmp_path, cut, "none")
    assert "DONE done" in resumed.communicate(timeout=300)[0]
    (a,), (b,) = (tmp_path / "ref").glob("*.json"), cut.glob("*.json")
    ha, hb = json.loads(a.read_text())["history"], json.loads(b.read_text())["history"]
    for key in ("epoch", "train_loss", "batch_loss", "batch_epoch", "sqrt_vhat"):
        assert ha[key] == hb[key], key  # bit for bit, dropout masks and permutations included
    assert not list((cut / "checkpoints").glob("*.pt")), "the checkpoint outlived its run"


POOL_SCRIPT = textwrap.dedent("""
    import concurrent.futures as cf, multiprocessing as mp, os, sys, time
    sys.path.insert(0, {src!r})
    from adamlab.experiments import sweep
    if __name__ == "__main__":
        ctx = mp.get_context("spawn")
        with cf.ProcessPoolExecutor(2, mp_context=ctx, initializer=sweep._die_with_parent,
                                    initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(time.sleep, 120) for _ in range(4)]
            time.sleep(3)
            print(" ".join(map(str, pool._processes)), flush=True)
            time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_pool_workers_end_when_their_sweep_is_killed(tmp_path):
    """A sweep killed with SIGKILL cannot stop its pool: the workers must end by themselves
    instead of training on (and writing results) after the sweep was stopped."""
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT.format(src=str(Path(__file__).resolve().parents[1] / "src")))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert len(workers) == 2 and all(_alive(p) for p in workers)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "pool workers outlived their killed sweep"


@pytest.mark.skipif(not os.environ.get("ADAMLAB_DATA"), reason="needs MNIST (ADAMLAB_DATA)")
def test_a_sweep_with_two_workers_trains_every_run(tmp_path):
    """The pool path of run_sweep: spawned workers, shared device slots, one result per run."""
    configs = [cfg(label="LR", dataset="mnist", model="logreg", optimizer="SGD", epochs=1,
                   model_kw={"d_in": 784, "n_classes": 10}, opt_kw={"lr": lr}, n_train=256,
                   log_vhat=False, points_per_epoch=0) for lr in (0.1, 0.3)]
    results = sweep.run_sweep(configs, tmp_path, jobs=2, threads=1, log=lambda s: None)
    assert sorted(r["id"] for r in results) == sorted(c.run_id for c in configs)
    assert all(r["status"] == "done" and r["n_train"] == 256 for r in results)


def test_resume_in_process_matches(tmp_path):
    """The same, without a subprocess: stop after epoch 1 by raising, then resume."""
    class Stop(Exception):
        pass

    def stop(epoch, step):
        if (epoch, step) == (2, 3):
            raise Stop

    data = synthetic()
    full = train(cfg(), data, tmp_path / "a", progress=False)
    with pytest.raises(Stop):
        train(cfg(), data, tmp_path / "b", progress=False, callback=stop)
    resumed = train(cfg(), data, tmp_path / "b", progress=False)
    assert resumed["history"]["train_loss"] == full["history"]["train_loss"]
    assert resumed["history"]["batch_loss"] == full["history"]["batch_loss"]


# ----------------------------------------------------------------- divergence and sweeps

def test_diverging_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    bad = cfg(label="SGD", optimizer="SGD", opt_kw={"lr": 1e30}, log_vhat=False)
    good = cfg(opt_kw={"lr": 1e-2})
    data = synthetic()
    results = sweep.run_sweep([bad, good], tmp_path, loader=lambda name: data,
                              progress=False, log=lambda s: None)
    assert [r["status"] for r in results] == ["diverged", "done"]
    assert results[0]["history"]["epoch"][-1] < bad.epochs
    assert not math.isfinite(results[0]["history"]["train_loss"][-1])
    assert math.isinf(plot.best_settings([results[0]])["SGD"]["final"])


def test_finished_runs_are_skipped(tmp_path):
    data = synthetic()
    runs = [cfg(opt_kw={"lr": lr}) for lr in (1e-2, 3e-2)]
    sweep.run_sweep(runs, tmp_path, loader=lambda n: data, progress=False, log=lambda s: None)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.json")}
    assert len(stamps) == 2
    lines = []

    def no_data(name):
        raise AssertionError("a finished run asked for its data again")

    sweep.run_sweep(runs, tmp_path, loader=no_data, progress=False, log=lines.append)
    assert "2 already finished, 0 to run" in lines[0]
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.json")} == stamps
    assert set(sweep.status(runs, tmp_path).values()) == {"done"}


def test_shards_partition_the_runs():
    runs = specs.get("fig4").runs("paper")
    assert len(runs) == 2 * 6 * 5 * 3  # (with, without) x betas x alphas x seeds
    slices = [sweep.shard(runs, i, 7) for i in range(7)]
    ids = [c.run_id for s in slices for c in s]
    assert sorted(ids) == sorted(c.run_id for c in runs)  # every run exactly once
    assert len(set(ids)) == len(ids)
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    assert sweep.shard(list(reversed(runs)), 2, 7) == slices[2]  # the order given does not matter
    assert sweep.parse_shard("2/7") == (2, 7)
    for bad in ("7/7", "-1/3", "a/b", "3"):
        with pytest.raises(ValueError, match="--shard"):
            sweep.parse_shard(bad)


def test_run_ids_are_stable_and_distinct():
    a, b = cfg(), cfg(opt_kw={"lr": 1e-2})
    assert a.run_id == b.run_id == RunConfig.from_dict(json.loads(json.dumps(a.as_dict()))).run_id
    assert cfg(seed=1).run_id != a.run_id
    assert cfg(opt_kw={"lr": 3e-2}).run_id != a.run_id
    all_ids = [c.run_id for f in specs.FIGURES.values() for s in f.scales for c in f.runs(s)]
    assert len(all_ids) == len(set(all_ids))


# ----------------------------------------------------------------- atomic results

def test_results_are_never_half_written(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})  # cannot be serialized
    assert json.loads(path.read_text()) == {"a": 1}

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


# ----------------------------------------------------------------- pieces of the loop

def test_inverse_sqrt_schedule():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.3)
    sched = make_schedule(opt, "inv_sqrt")
    for t in range(1, 6):  # the t-th step uses alpha / sqrt(t)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.3 / math.sqrt(t), rel=1e-12)
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="schedule"):
        make_schedule(opt, "cosine")


def test_schedule_reaches_the_optimizer_in_a_run(tmp_path):
    """Full-batch SGD on logistic regression: step t must be -alpha/sqrt(t) * gradient."""
    data = synthetic(n=64)
    c = cfg(label="SGD", model="logreg", optimizer="SGD", epochs=3, batch_size=64,
            model_kw={"d_in": 20, "n_classes": 3, "l2": 1e-3}, opt_kw={"lr": 0.5},
            schedule="inv_sqrt", log_vhat=False, points_per_epoch=0)
    r = train(c, data, tmp_path, progress=False)
    m = models.build("logreg", d_in=20, n_classes=3, l2=1e-3)
    want = [math.log(3)]
    for t in (1, 2, 3):
        m.zero_grad()
        (m.objective(data.x_train, data.y_train).mean() + m.penalty()).backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= 0.5 / math.sqrt(t) * p.grad
            want.append(float(m.objective(data.x_train, data.y_train).mean() + m.penalty()))
    assert r["history"]["train_loss"] == pytest.approx(want, rel=1e-5)


def test_batch_bounds_cover_each_example_once_and_merge_only_a_small_remainder():
    for n, b in [(8068, 128), (10_000, 128), (100, 32), (96, 32), (20, 32), (50, 32)]:
        for mode in (None, "merge"):
            bounds = batch_bounds(n, b, mode)
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(e == s for (_, e), (s, _) in zip(bounds, bounds[1:]))
            assert all(e - s <= b for s, e in bounds[:-1])
    assert batch_bounds(8068, 128)[-1] == (8064, 8068)           # a 4-image step
    assert batch_bounds(8068, 128, "merge")[-1] == (7936, 8068)  # 132 images, 63 steps
    assert len(batch_bounds(8068, 128, "merge")) == 63
    assert batch_bounds(100, 32, "merge")[-1] == (64, 100)       # 4 < 16: merged
    assert batch_bounds(80, 32, "merge")[-1] == (64, 80)         # 16 is half a batch: kept
    assert batch_bounds(20, 32, "merge") == [(0, 20)]            # one batch, nothing to merge
    with pytest.raises(ValueError, match="last_batch"):
        batch_bounds(100, 32, "drop")
    with pytest.raises(ValueError, match="last_batch"):
        cfg(last_batch="drop")
    assert "last_batch" not in cfg().as_dict()                   # earlier runs keep their ids
    assert cfg(last_batch="merge").run_id != cfg().run_id


def test_a_merged_last_batch_is_one_step_on_the_leftover_and_its_batch(tmp_path):
    """Plain SGD, one epoch of 100 examples in batches of 32: three steps, the last on 36."""
    data = synthetic(n=100)
    c = cfg(label="SGD", model="logreg", optimizer="SGD", epochs=1, batch_size=32,
            model_kw={"d_in": 20, "n_classes": 3, "l2": 0.0}, opt_kw={"lr": 0.5},
            log_vhat=False, points_per_epoch=0, last_batch="merge", seed=3)
    r = train(c, data, tmp_path, progress=False)
    assert r["steps_per_epoch"] == 3
    torch.manual_seed(3)
    m = models.build("logreg", d_in=20, n_classes=3, l2=0.0)
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(3))
    for start, end in [(0, 32), (32, 64), (64, 100)]:
        idx = perm[start:end]
        m.zero_grad()
        m.objective(data.x_train[idx], data.y_train[idx]).mean().backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= 0.5 * p.grad
    want = float(m.objective(data.x_train, data.y_train).mean())
    assert r["history"]["train_loss"][-1] == pytest.approx(want, rel=1e-6)


def test_models_shapes_and_objectives():
    torch.manual_seed(0)
    cnn = models.build("cnn", input_dropout=0.2, fc_dropout=0.5)
    assert cnn.classifier[1].in_features == 128 * 4 * 4
    assert cnn(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    mlp = models.build("mlp")
    assert [m.out_features for m in mlp.net if isinstance(m, torch.nn.Linear)] == [1000, 1000, 10]
    lr = models.build("logreg", d_in=784, n_classes=10, l2=1e-4)
    x = torch.rand(5, 784)
    y = torch.arange(5)
    assert torch.allclose(lr.objective(x, y), torch.full((5,), math.log(10)))  # zero init
    with torch.no_grad():
        lr.linear.weight.fill_(0.5)
        lr.linear.bias.fill_(3.0)  # biases are not penalized
    assert float(lr.penalty().detach()) == pytest.approx(0.5 * 1e-4 * 784 * 10 * 0.25)
    vae = models.build("vae")
    assert vae.mu.out_features == 50 and vae.enc.out_features == 500
    xb = torch.rand(4, 784)
    assert vae.objective(xb).shape == (4,)
    with pytest.raises(ValueError, match="unknown model"):
        models.build("resnet")


def test_sparse_bag_of_words_path_matches_the_dense_one():
    torch.manual_seed(0)
    m = models.build("logreg", d_in=50, n_classes=2, input_dropout=0.5)
    torch.nn.init.normal_(m.linear.weight)
    torch.nn.init.normal_(m.linear.bias)
    x = (torch.rand(64, 50) < 0.1).to(torch.uint8) * torch.randint(1, 4, (64, 50), dtype=torch.uint8)
    x[3] = 0  # an empty review
    m.eval()  # evaluation takes the dense path; the sparse one must give the same function
    assert torch.allclose(m._sparse_forward(x), m(x.float()), atol=1e-5)
    assert torch.allclose(m(x), m(x.float()), atol=1e-5)
    m.train()  # dropout: each non-zero kept with probability 1/2 and doubled; mean unchanged
    with torch.no_grad():
        draws = torch.stack([m(x) for _ in range(4000)])
        m.eval()
        err = (draws.mean(0) - m(x.float())).abs()
    assert (err <= 5 * draws.std(0) / 4000**0.5 + 1e-6).all()
    assert (draws.std(0)[3] == 0).all()  # nothing to drop in an empty row


def test_vae_objective_is_the_negative_elbo():
    """With the encoder at mu=0, log var=0 the KL term vanishes and z ~ N(0, I): check both."""
    torch.manual_seed(0)
    vae = models.build("vae", d_in=6, hidden=5, latent=3)
    with torch.no_grad():
        for lin in (vae.mu, vae.logvar):
            lin.weight.zero_()
            lin.bias.zero_()
    x = torch.rand(2, 6)
    torch.manual_seed(1)
    got = vae.objective(x)
    torch.manual_seed(1)
    z = torch.randn(2, 3)
    p = torch.sigmoid(vae.dec(z))
    want = -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)
    assert torch.allclose(got, want, atol=1e-5)


def test_specs_follow_the_paper():
    f = specs.FIGURES
    assert {"fig1-mnist", "fig1-imdb", "fig2-dropout", "fig2-deterministic", "fig3",
            "fig4"} <= set(f)
    for fig in f.values():
        assert {"paper", "quick"} <= set(fig.scales) <= {"paper", "cpu", "quick"}
        assert len(fig.scales["paper"].seeds) >= 3
        assert fig.stated and fig.assumed
        if "cpu" in fig.scales:  # the CPU scale says what differs and runs 3 seeds
            assert fig.scales["cpu"].differs and len(fig.scales["cpu"].seeds) >= 3
            assert all(c.grid.get("cpu") for c in fig.curves if c.runs_at("cpu"))
    assert {n for n, fig in f.items() if "cpu" in fig.scales} == {
        "fig2-dropout", "fig2-deterministic", "fig3", "fig4"}
    # Fig. 4 at the CPU scale is the paper's 10-epoch panel: the whole grid, all of MNIST
    cpu4, paper4 = f["fig4"].scales["cpu"], f["fig4"].scales["paper"]
    assert cpu4.n_train is None and cpu4.epochs == paper4.report_epochs[0] == 10
    assert all(c.grid["cpu"] == c.grid["paper"] for c in f["fig4"].curves)
    # Adam's CNN grid holds the default rate 1e-3
    assert all(1e-3 in c.grid["cpu"]["lr"] for c in f["fig3"].curves if c.optimizer == "Adam")
    assert f["fig1-mnist"].scales["paper"].epochs == 45
    assert f["fig1-imdb"].scales["paper"].epochs == 160
    assert f["fig1-imdb"].model_kw["input_dropout"] == 0.5
    assert f["fig1-mnist"].schedule == f["fig1-imdb"].schedule == "inv_sqrt"
    assert {c.label for c in f["fig2-dropout"].curves} == {
        "AdaGrad", "RMSProp", "SGDNesterov", "AdaDelta", "Adam"}
    assert f["fig4"].batch_size == 100 and f["fig4"].scales["paper"].report_epochs == (10, 100)
    assert len(f["fig3"].curves) == 6
    # the schedule ablation: AdaGrad without the 1/sqrt(t) decay, paper scale only, not drawn
    # among the paper's curves
    for name in ("fig1-mnist", "fig1-imdb"):
        fig = f[name]
        extra = [r for r in fig.runs("paper") if "no decay" in r.label]
        assert extra and all(r.schedule is None and r.optimizer == "Adagrad" for r in extra)
        assert all(r.schedule == "inv_sqrt" for r in fig.runs("paper") if r not in extra)
        assert not [r for r in fig.runs("quick") if "no decay" in r.label]
        assert not [label for label in fig.paper_labels() if "no decay" in label]
    assert f["fig1-imdb"].paper_labels() == [
        "Adam+dropout", "AdaGrad+dropout", "RMSProp+dropout", "SGDNesterov+dropout"]
    with pytest.raises(ValueError, match="adamlab list"):
        specs.get("fig9")


def test_plot_best_setting_and_band(tmp_path):
    data = synthetic()
    runs = [cfg(opt_kw={"lr": lr}, seed=s, log_vhat=False) for lr in (1e-4, 3e-2) for s in (0, 1)]
    res = sweep.run_sweep(runs, tmp_path, loader=lambda n: data, progress=False, log=lambda s: 0)
    best = plot.best_settings(res)
    assert best["Adam"]["setting"] == {"lr": 3e-2} and best["Adam"]["seeds"] == 2
    xs, mean, lo, hi = plot.curve([r for r in res if r["config"]["opt_kw"]["lr"] == 3e-2])
    assert (lo <= mean).all() and (mean <= hi).all() and list(xs) == [0, 1, 2, 3]
    fig = plot.plot_figure("fig1-mnist", res)
    assert fig.axes[0].get_lines()
    assert "4 runs (0 diverged)" in plot.provenance_line(res)
    assert plot.grid_edges(res) == {"Adam": "largest"}
    at = plot.cost_at(res, [0, 3, 9])
    runs = [r for r in res if r["config"]["opt_kw"]["lr"] == 3e-2]
    assert len(runs) == 2
    for k, epoch in enumerate((0, 3)):
        want = sum(r["history"]["train_loss"][epoch] for r in runs) / 2
        assert at["Adam"][k] == pytest.approx(want)
    assert math.isinf(at["Adam"][2])  # the runs have 3 epochs
    want = sum(sum(r["history"]["train_loss"][1:]) for r in runs) / 6
    assert plot.mean_cost(res)["Adam"] == pytest.approx(want)
    # a diverged grid point that stopped after one epoch leaves the window at 3 epochs
    stopped = json.loads(json.dumps(res[0]))
    stopped["status"], stopped["config"]["opt_kw"] = "diverged", {"lr": 10.0}
    for key in ("epoch", "train_loss"):
        stopped["history"][key] = stopped["history"][key][:2]
    assert plot.mean_cost([*res, stopped])["Adam"] == pytest.approx(want)


def _result(label, lr, final, seed=0, status="done"):
    return {"config": {"label": label, "opt_kw": {"lr": lr}, "seed": seed}, "status": status,
            "history": {"train_loss": [1.0, final]}}


def test_grid_edges_flags_a_best_rate_at_either_end_of_its_grid():
    res = [_result("top", lr, f) for lr, f in ((0.1, 0.5), (0.3, 0.4), (1.0, 0.3))]
    res += [_result("bottom", lr, f) for lr, f in ((0.1, 0.3), (0.3, 0.4))]
    res += [_result("inside", lr, f) for lr, f in ((0.1, 0.5), (0.3, 0.2), (1.0, 0.4))]
    res += [_result("single", 0.1, 0.2)]
    # a diverged run at the top counts as infinitely bad: the best is then inside
    res += [_result("diverged", lr, f, status=s) for lr, f, s in
            ((0.1, 0.5, "done"), (0.3, 0.2, "done"), (1.0, 0.1, "diverged"))]
    assert plot.grid_edges(res) == {"top": "largest", "bottom": "smallest"}
    fig, ax = plt.subplots()
    plot.draw_grid(ax, res)
    inside = [ln for ln in ax.get_lines() if ln.get_label() == "inside"][0]
    assert list(inside.get_xdata()) == [0.1, 0.3, 1.0]
    assert list(inside.get_ydata()) == [0.5, 0.2, 0.4]
    plt.close(fig)


def test_draw_finals_shows_every_seed_of_each_chosen_setting():
    res = [_result("Adam", 1e-3, f, seed=s) for s, f in ((0, 0.10), (1, 0.12), (2, 0.11))]
    res += [_result("Adam", 1e-2, 0.5), _result("SGD", 0.1, 0.05)]
    res += [_result("SGD", 0.1, 0.2, seed=1, status="diverged")]
    fig, ax = plt.subplots()
    finals = plot.draw_finals(ax, res)
    assert finals["Adam"] == [0.10, 0.12, 0.11]
    assert finals["SGD"][0] == 0.05 and math.isinf(finals["SGD"][1])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Adam", "SGD"]  # lowest mean first
    crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
    assert len(crosses) == 1 and crosses[0].get_ydata()[0] > 0.12  # the diverged seed, on top
    assert " ".join(ax.get_title().split()).endswith(
        "(bar: mean of 2 to 3 seeds, while runs are missing)")
    plt.close(fig)
    # as the right third of a figure as wide as Fig. 3's, the title stays inside its panel
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.9), width_ratios=(1, 1, 0.75))
    plot.draw_finals(axes[2], res)
    fig.canvas.draw()
    title = axes[2].title.get_window_extent()
    assert title.x1 <= fig.bbox.x1 and title.width <= 1.3 * axes[2].get_window_extent().width
    plt.close(fig)
    fig, ax = plt.subplots()
    plot.draw_finals(ax, res[:3])
    assert " ".join(ax.get_title().split()).endswith("(bar: mean of 3 seeds)")
    plt.close(fig)


def test_the_tuning_seed_alone_chooses_the_setting():
    """Settings are compared on the seeds they share (seed 0 after tune), so the extra seeds
    run at the chosen rate cannot hand the choice to a rate that has one seed."""
    res = [_result("Adam", 1e-3, 0.10), _result("Adam", 3e-4, 0.12)]
    res += [_result("Adam", 1e-3, 0.16, seed=s) for s in (1, 2)]  # worse seeds at the choice
    best = plot.best_settings(res)["Adam"]
    assert best["setting"] == {"lr": 1e-3} and best["seeds"] == 3
    assert best["final"] == pytest.approx(0.14)  # the chosen rate's mean over all its seeds
    assert best["grid_final"] == pytest.approx([0.10, 0.12])  # compared on seed 0


def test_scale_table_says_which_figures_have_paper_scale_results(tmp_path):
    data = synthetic()
    c = cfg(figure="fig1-mnist", log_vhat=False)
    sweep.run_sweep([c], sweep.store_dir(tmp_path, "fig1-mnist", "paper"), loader=lambda n: data,
                    progress=False, log=lambda s: 0)
    rows = {line.split(" | ")[0].strip("| "): line for line in
            sweep.scale_table(tmp_path).splitlines()[2:]}
    assert len(rows) == len(specs.FIGURES)
    mnist = rows[specs.get("fig1-mnist").title]
    planned = len(sweep.Shown("fig1-mnist", "paper", [], committed=True).planned)
    assert "| paper scale |" in mnist and f"1 of {planned} planned runs" in mnist
    assert "cpu" in mnist
    assert "quick scale only" in rows[specs.get("fig3").title]


def _committed_run(tmp_path, figure, scale, complete):
    """One finished run in a store, its data marked complete or a subset."""
    data = synthetic()
    c = cfg(figure=figure, log_vhat=False)
    folder = sweep.store_dir(tmp_path, figure, scale)
    r = sweep.run_sweep([c], folder, loader=lambda n: data, progress=False, log=lambda s: 0)[0]
    r["data_info"]["complete"] = complete
    write_json_atomic(folder / f"{c.run_id}.json", r)


def test_chapters_show_the_largest_committed_scale_and_name_a_subset(tmp_path, monkeypatch):
    assert sweep.committed("fig3", tmp_path) is None
    _committed_run(tmp_path, "fig3", "cpu", complete=False)
    shown = sweep.committed("fig3", tmp_path)
    assert shown.scale == "cpu" and shown.subset and shown.committed
    assert shown.label == "cpu scale, on a subset of the data" and "8,068" in shown.differs
    assert shown.cpu_hours > 0
    row = [ln for ln in sweep.scale_table(tmp_path).splitlines() if "Fig. 3" in ln][0]
    assert "subset" in row
    _committed_run(tmp_path, "fig3", "paper", complete=True)
    # neither sweep complete (one run each): the larger is shown
    assert sweep.committed("fig3", tmp_path).scale == "paper"
    with monkeypatch.context() as m:
        # a complete cpu sweep and one paper-scale run of the dozens the protocol plans: the
        # chapter keeps the cpu sweep and names the paper sweep as in progress
        m.setattr(sweep.Shown, "missing",
                  property(lambda self: [] if self.scale == "cpu" else ["a planned run"]))
        assert sweep.committed("fig3", tmp_path).scale == "cpu"
        partial = sweep.in_progress("fig3", tmp_path)
        assert partial.scale == "paper" and len(partial.results) == 1
        # once every planned paper run is in, the paper scale
        m.setattr(sweep.Shown, "missing", property(lambda self: []))
        assert sweep.committed("fig3", tmp_path).scale == "paper"
        assert sweep.in_progress("fig3", tmp_path) is None


def test_a_subset_run_is_never_called_paper_scale(tmp_path):
    _committed_run(tmp_path, "fig3", "paper", complete=False)
    with pytest.raises(ValueError, match="never paper scale"):
        sweep.committed("fig3", tmp_path)


def _vae_result(b2, bc, lr, seed, costs, status="done"):
    return {"config": {"label": "Adam", "seed": seed, "epochs": 2,
                       "opt_kw": {"lr": lr, "betas": [0.9, b2], "bias_correction": bc}},
            "status": status,
            "history": {"epoch": list(range(len(costs))), "train_loss": costs}}


def test_fig4_spread_is_the_range_over_seeds_and_a_blow_up_is_inf():
    res = [_vae_result(0.999, True, 1e-3, s, [9.0, 5.0, c]) for s, c in ((0, 2.0), (1, 3.0))]
    # seed 1 at the larger rate blew up in its first epoch: no cost at epoch 2
    res += [_vae_result(0.999, True, 1e-2, 0, [9.0, 4.0, 1.0]),
            _vae_result(0.999, True, 1e-2, 1, [9.0, math.nan], status="diverged")]
    xs, lo, hi = plot.fig4_spread(res, 2)[(0.9, 0.999, True)]
    assert xs == pytest.approx([-3.0, -2.0])
    assert lo == [2.0, 1.0] and hi[0] == 3.0 and math.isinf(hi[1])
    fig = plot.plot_fig4(res, report_epochs=(2,))
    assert fig.axes[0].collections, "two seeds: the spread is drawn"
    plt.close(fig)


def test_curve_averages_the_x_of_passes_over_seeds():
    runs = [{"history": {"passes": [0, p, 2 * p], "train_loss": [3.0, 2.0, 1.0]}}
            for p in (2.0, 4.0)]
    xs, mean, lo, hi = plot.curve(runs, x="passes")
    assert list(xs) == [0.0, 3.0, 6.0] and list(mean) == [3.0, 2.0, 1.0]


def test_planned_runs_follow_the_protocol(tmp_path):
    fig4 = sweep.Shown("fig4", "cpu", [], committed=True)
    assert len(fig4.planned) == len(specs.get("fig4").runs("cpu")) == len(fig4.missing)
    fig2 = specs.get("fig2-dropout")
    grid = fig2.runs("cpu", seeds=(0,))
    # the grid on seed 0 is done: the best setting of each curve still needs seeds 1 and 2
    res = [{"id": c.run_id, "status": "done", "config": {
        "label": c.label, "seed": 0, "opt_kw": c.opt_kw},
        "history": {"train_loss": [2.0, 1.0 + c.opt_kw["lr"]]}} for c in grid]
    shown = sweep.Shown("fig2-dropout", "cpu", res, committed=True)
    curves = {c.label for c in grid}
    assert len(shown.missing) == 2 * len(curves)
    assert all("-s1-" in m or "-s2-" in m for m in shown.missing)
    smallest = {c.label: min(g.opt_kw["lr"] for g in grid if g.label == c.label) for c in grid}
    for m in shown.missing:
        label = next(c.label for c in grid if m.startswith(c.run_id.split("-s0-")[0] + "-"))
        assert f"lr{smallest[label]:g}-" in m


def test_provenance_names_the_cpu_that_ran_it():
    p = provenance(torch.device("cpu"))
    assert p["device"].startswith("cpu: ") and p["cpu"]
    # the SIMD level picks torch's CPU kernels, and with them how the arithmetic rounds
    assert p["cpu_capability"] in {"DEFAULT", "NO AVX", "AVX2", "AVX512", "ZVECTOR", "VSX",
                                   "SVE256", "SVE128", "SVE"}
    if Path("/proc/cpuinfo").is_file():
        models = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")]
        assert not models or p["cpu"] == models[0]


def test_provenance_is_read_when_the_run_starts_and_a_changed_tree_is_flagged(tmp_path,
                                                                              monkeypatch):
    from adamlab.experiments import train as train_mod
    states = iter([{"git_commit": "aaa", "git_dirty": False, "git_diff_sha256": None},
                   {"git_commit": "bbb+dirty", "git_dirty": True, "git_diff_sha256": "f00"}])
    monkeypatch.setattr(train_mod, "_git_state", lambda: next(states))
    r = train(cfg(epochs=1), synthetic(), tmp_path / "a", progress=False)
    assert r["provenance"]["git_commit"] == "aaa" and r["provenance"]["started"]
    assert r["provenance"]["cpu"] and r["provenance"]["device"].startswith("cpu")
    assert r["provenance_at_end"] == {"git_commit": "bbb+dirty", "git_dirty": True,
                                      "git_diff_sha256": "f00",
                                      "tree_changed_while_running": True}
    assert "1 run with its code changed while it ran" in plot.provenance_line([r])
    same = {"git_commit": "ccc", "git_dirty": False, "git_diff_sha256": None}
    monkeypatch.setattr(train_mod, "_git_state", lambda: dict(same))
    r = train(cfg(epochs=1), synthetic(), tmp_path / "b", progress=False)
    assert not r["provenance_at_end"]["tree_changed_while_running"]
    assert "changed while" not in plot.provenance_line([r])


def test_a_resumed_run_keeps_the_provenance_of_its_start(tmp_path, monkeypatch):
    from adamlab.experiments import train as train_mod

    class Stop(Exception):
        pass

    def stop(epoch, step):
        if (epoch, step) == (2, 3):
            raise Stop
    monkeypatch.setattr(train_mod, "_git_state", lambda: {
        "git_commit": "first", "git_dirty": False, "git_diff_sha256": None})
    with pytest.raises(Stop):
        train(cfg(), synthetic(), tmp_path, progress=False, callback=stop)
    monkeypatch.setattr(train_mod, "_git_state", lambda: {
        "git_commit": "second", "git_dirty": False, "git_diff_sha256": None})
    r = train(cfg(), synthetic(), tmp_path, progress=False)
    assert r["provenance"]["git_commit"] == "first"
    assert r["provenance_at_end"]["tree_changed_while_running"]
