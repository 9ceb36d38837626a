"""``adamlab selftest``: the first thing to run on a new machine.

On the chosen device, in about a minute, it

1. builds every figure's model (each curve's variant, at the paper's sizes) and takes a few real
   optimizer steps with each optimizer of the specs; Adam also through its fast paths
   (``foreach``, and ``compiled`` where ``torch.compile`` works), which must agree with the
   reference rule;
2. checks that parameters, gradients, optimizer state and losses stay on the device and in
   float32 (no silent fall-back to the CPU or to float64);
3. interrupts a short run (a small CNN with dropout, so convolutions and random masks are
   involved), scrambles every random-number generator, resumes it from its checkpoint, and
   requires the result to be bit-identical to an uninterrupted run;
4. measures training steps per second and evaluation rows per second for each figure's model
   (with ``runs_per_device`` runs sharing the device at once, measured in as many processes),
   and prints for each figure at the paper scale the number of runs its protocol plans and the
   estimated wall time on this machine.

The data are synthetic tensors of the real datasets' shapes and sizes (the datasets need not be
present; ``adamlab data check`` checks those). It exits non-zero on any failure and says what
failed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from . import models, specs
from .train import (
    RunConfig,
    batch_bounds,
    evaluate,
    make_optimizer,
    pick_device,
    run_epoch,
    set_deterministic,
)

# training-set sizes of the complete datasets (what the paper scale trains on)
SIZES = {"mnist": 60_000, "imdb": 25_000, "cifar10": 50_000}


def synthetic(dataset: str, n: int, device: torch.device, seed: int = 0):
    """``n`` examples shaped and typed like ``dataset``'s tensors (the values are random)."""
    g = torch.Generator().manual_seed(seed)
    if dataset == "mnist":
        x, classes = torch.rand(n, 784, generator=g), 10
    elif dataset == "imdb":  # binary bag-of-words, about 1% of the 10,000 words present
        x, classes = (torch.rand(n, 10_000, generator=g) < 0.01).to(torch.uint8), 2
    elif dataset == "cifar10":  # whitened images: about zero mean, unit scale
        x, classes = torch.randn(n, 3, 32, 32, generator=g), 10
    else:
        raise ValueError(f"no synthetic stand-in for {dataset!r}")
    y = torch.randint(0, classes, (n,), generator=g)
    return x.to(device), y.to(device)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    out: Callable[[str], None] = print

    def ok(self, text: str) -> None:
        self.lines.append(f"ok    {text}")
        self.out(f"ok    {text}")

    def fail(self, text: str) -> None:
        self.failures.append(text)
        self.lines.append(f"FAIL  {text}")
        self.out(f"FAIL  {text}")


# ----------------------------------------------------------------------------- placement

def misplaced(model: torch.nn.Module, opt: torch.optim.Optimizer, device: torch.device) -> list[str]:
    """Every tensor of the model and its optimizer state not on ``device`` or not float32.

    Scalar ``step`` counters are exempt: torch keeps them on the CPU on purpose.
    """
    bad = []

    def check(name, t):
        if not torch.is_tensor(t) or t.numel() <= 1:
            return
        if t.device.type != device.type:
            bad.append(f"{name} on {t.device}")
        elif t.is_floating_point() and t.dtype != torch.float32:
            bad.append(f"{name} is {t.dtype}")

    for name, p in model.named_parameters():
        check(name, p)
        check(f"{name}.grad", p.grad)
    names = {id(p): n for n, p in model.named_parameters()}
    for p, st in opt.state.items():
        for k, v in st.items():
            check(f"state[{names.get(id(p), '?')}][{k}]", v)
    return bad


def _curve_kw(fig: specs.Figure, curve: specs.Curve) -> tuple[dict, dict]:
    grid = curve.grid.get("paper", {})
    setting = {k: vals[len(vals) // 2] for k, vals in grid.items()}
    return {**fig.model_kw, **curve.model_kw}, {**curve.fixed, **setting}


def _steps(model, opt, x, y, batch, closure=False):
    perm = torch.arange(len(x), device=x.device)
    return run_epoch(model, opt, x, y, perm, batch, closure_step=closure)


def check_figure(fig: specs.Figure, device: torch.device, rep: Report, steps: int,
                 impls: tuple[str, ...]) -> None:
    """Each curve's model and optimizer: a few steps on the device, finite, nothing misplaced;
    Adam's fast paths must agree with its reference rule."""
    batch = 16
    x, y = synthetic(fig.dataset, batch * steps, device)
    for curve in fig.curves:
        if not curve.runs_at("paper"):
            continue
        model_kw, opt_kw = _curve_kw(fig, curve)
        what = f"{fig.name} / {curve.label} ({curve.optimizer})"
        try:
            torch.manual_seed(0)
            model = models.build(fig.model, **model_kw).to(device)
            opt = make_optimizer(curve.optimizer, model.parameters(), **opt_kw)
            losses = _steps(model, opt, x, y, batch, closure=curve.optimizer == "LBFGS")
            finite = bool(torch.isfinite(losses).all())
            bad = misplaced(model, opt, device)
            if losses.device.type != device.type:
                bad.append(f"losses on {losses.device}")
            if not finite:
                rep.fail(f"{what}: non-finite loss {losses.tolist()}")
            elif bad:
                rep.fail(f"{what}: " + "; ".join(bad[:4]))
            else:
                rep.ok(f"{what}: {steps} steps on {device.type}, float32")
            if curve.optimizer == "Adam" and opt_kw.get("bias_correction", True):
                _compare_impls(fig, model_kw, opt_kw, x, y, batch, device, rep, impls)
        except Exception as err:  # a failure is reported, and the other checks still run
            rep.fail(f"{what}: {type(err).__name__}: {err}")
            traceback.print_exc(limit=3)


def _compare_impls(fig, model_kw, opt_kw, x, y, batch, device, rep, impls) -> None:
    """The same steps through each implementation of Adam: the same parameters (to rounding)."""
    kw = {**model_kw, **{k: 0.0 for k in model_kw if k.endswith("dropout")}}  # no random masks
    final = {}
    for impl in impls:
        torch.manual_seed(0)
        model = models.build(fig.model, **kw).to(device)
        opt = make_optimizer("Adam", model.parameters(), **{**opt_kw, "impl": impl})
        _steps(model, opt, x, y, batch)
        final[impl] = torch.cat([p.detach().flatten() for p in model.parameters()])
    ref = final.pop("reference")
    for impl, p in final.items():
        err = float((p - ref).abs().max())
        scale = float(ref.abs().max())
        if not err <= 1e-5 * max(scale, 1.0):
            rep.fail(f"{fig.name}: Adam impl={impl} differs from the reference by {err:.3g}")
        else:
            rep.ok(f"{fig.name}: Adam impl={impl} agrees with the reference ({err:.1g})")


# ----------------------------------------------------------------------------- kill and resume

def check_resume(device: torch.device, rep: Report) -> None:
    """A short CNN run with dropout, interrupted mid-epoch and resumed after scrambling every
    random-number generator, must end bit-identical to the same run uninterrupted."""
    from .train import train

    class Stop(Exception):
        pass

    x, y = synthetic("cifar10", 96, torch.device("cpu"), seed=1)
    data = type("D", (), {"x_train": x, "y_train": y, "info": {"name": "synthetic"}})()
    cfg = RunConfig(figure="selftest", label="Adam", dataset="synthetic", model="cnn",
                    optimizer="Adam", epochs=3, batch_size=32,
                    model_kw={"channels": (8, 8, 16), "fc": 32, "input_dropout": 0.2,
                              "fc_dropout": 0.5},
                    opt_kw={"lr": 1e-3}, points_per_epoch=3, log_vhat=True)

    def stop(epoch, step):
        if (epoch, step) == (2, 1):
            raise Stop

    with tempfile.TemporaryDirectory(prefix="adamlab-selftest-") as tmp:
        try:
            ref = train(cfg, data, f"{tmp}/ref", device=str(device), progress=False)
            try:
                train(cfg, data, f"{tmp}/cut", device=str(device), progress=False, callback=stop)
                rep.fail("resume: the interruption did not happen")
                return
            except Stop:
                pass
            torch.manual_seed(12345)  # a new process would start from other states
            if device.type == "cuda":
                torch.cuda.manual_seed_all(12345)
            got = train(cfg, data, f"{tmp}/cut", device=str(device), progress=False)
        except Exception as err:
            rep.fail(f"resume on {device}: {type(err).__name__}: {err}")
            traceback.print_exc(limit=3)
            return
    keys = ("train_loss", "batch_loss", "sqrt_vhat", "passes")
    diff = [k for k in keys if ref["history"][k] != got["history"][k]]
    placed = ref["provenance"]["device"].split(":")[0]
    if diff:
        rep.fail(f"resume on {device}: interrupted and resumed run differs from the "
                 f"uninterrupted one in {diff} (deterministic algorithms: "
                 f"{torch.are_deterministic_algorithms_enabled()})")
    elif placed != device.type:
        rep.fail(f"resume: the run recorded device {ref['provenance']['device']!r}, not {device}")
    else:
        rep.ok(f"resume on {device}: interrupted at epoch 2, RNGs scrambled, resumed: "
               "bit-identical to the uninterrupted run")


# ----------------------------------------------------------------------------- speed

def _speed_model(fig: specs.Figure):
    """The curve whose speed stands for the figure: its (first) Adam curve, else its first."""
    curve = next((c for c in fig.curves if c.optimizer == "Adam"), fig.curves[0])
    return (curve.optimizer, *_curve_kw(fig, curve))


def measure(fig: specs.Figure, device: torch.device, steps: int,
            barrier=None) -> tuple[float, float]:
    """(training steps per second at the figure's batch size, evaluation rows per second)."""
    from .train import _synchronize
    name, model_kw, opt_kw = _speed_model(fig)
    bs = fig.batch_size
    x, y = synthetic(fig.dataset, bs * (steps + 1), device)
    torch.manual_seed(0)
    model = models.build(fig.model, **model_kw).to(device)
    opt = make_optimizer(name, model.parameters(), **opt_kw)
    _steps(model, opt, x[:bs], y[:bs], bs)  # warm-up: allocations, kernel choice
    evaluate(model, x[:bs], y[:bs])
    _synchronize(device)
    if barrier is not None:
        barrier.wait()
    t0 = time.perf_counter()
    _steps(model, opt, x[bs:], y[bs:], bs)
    _synchronize(device)
    sps = steps / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    evaluate(model, x, y)  # evaluate returns a Python float: it has synchronized
    rps = len(x) / (time.perf_counter() - t0)
    return sps, rps


def _concurrent(args) -> dict:
    names, device, steps, barrier, threads = args
    torch.set_num_threads(threads)
    dev = torch.device(device)
    set_deterministic(dev)
    out = {}
    for name in names:
        barrier.wait()
        out[name] = measure(specs.get(name), dev, steps, barrier=barrier)[0]
    return out


def measure_shared(names: list[str], device: torch.device, steps: int, k: int) -> dict:
    """Total training steps/s per figure with ``k`` processes on the device at once."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Manager().Barrier(k)
    threads = max(1, (os.cpu_count() or 1) // k)
    with ctx.Pool(k) as pool:
        parts = pool.map(_concurrent, [(names, str(device), steps, barrier, threads)] * k)
    return {n: sum(p[n] for p in parts) for n in names}


def planned_runs(fig: specs.Figure, scale: str = "paper") -> list[RunConfig]:
    """The protocol's runs: Fig. 4 its whole grid on every seed; the others the grid on the
    first seed, then one setting per curve on each other seed (stood in for by the middle of
    its grid, as the best is not known yet)."""
    sc = fig.scales[scale]
    if sc.report_epochs:
        return fig.runs(scale)
    grid = fig.runs(scale, seeds=sc.seeds[:1])
    middle = {c.label: {k: vals[len(vals) // 2] for k, vals in c.grid.get(scale, {}).items()}
              for c in fig.curves if c.runs_at(scale)}
    return grid + fig.runs(scale, seeds=sc.seeds[1:], only=middle)


def estimate_hours(fig: specs.Figure, sps: float, rps: float, scale: str = "paper") -> float:
    """Device-hours of the figure's planned runs at ``sps`` steps/s and ``rps`` rows/s.

    Each run: its epochs of minibatch steps plus one evaluation pass over the training set
    per epoch. Full-batch L-BFGS: each "epoch" costs up to ``max_eval`` passes of forward and
    backward (an upper bound, counted at the minibatch rate).
    """
    total = 0.0
    for c in planned_runs(fig, scale):
        n = c.n_train or SIZES[fig.dataset]
        if c.optimizer == "LBFGS":
            passes = c.opt_kw.get("max_eval", 10) * c.epochs
            train_s = passes * n / (sps * fig.batch_size)
        else:
            train_s = c.epochs * len(batch_bounds(n, c.batch_size, c.last_batch)) / sps
        total += train_s + c.epochs * (c.eval_n or n) / rps
    return total / 3600


# ----------------------------------------------------------------------------- the command

def main(device: str | None = "auto", runs_per_device: int = 1, devices: int | None = None,
         quick: bool = False, compile: bool = True, out: Callable[[str], None] = print) -> int:
    """Run every check; print what passed, what failed and the estimates; 0 only if all pass."""
    from .. import fast
    t_start = time.perf_counter()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    rep = Report(out=out)
    try:
        dev = pick_device(device)
    except (ValueError, RuntimeError) as err:
        out(f"FAIL  device {device!r}: {err}")
        return 1
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    det = set_deterministic(dev)
    name = (torch.cuda.get_device_name(dev) if dev.type == "cuda" else
            "Apple GPU" if dev.type == "mps" else f"CPU, {torch.get_num_threads()} threads")
    out(f"adamlab selftest on {dev} ({name}); torch {torch.__version__}; deterministic "
        f"algorithms {'on' if det else 'off'}")
    if device in (None, "auto") and dev.type == "cpu":
        out("note  no GPU found: torch " + torch.__version__ + " sees no CUDA or MPS device")

    impls = ["reference", "foreach"]
    if compile and fast.compile_available():
        impls.append("compiled")
    elif not quick:
        out("note  torch.compile unavailable here (no C++ compiler / Triton): compiled Adam "
            "not checked")
    steps = 2 if quick else 4
    for i, fig in enumerate(specs.FIGURES.values()):
        # compiling takes seconds per model: one figure shows that the toolchain works here
        check_figure(fig, dev, rep, steps, tuple(m for m in impls if m != "compiled" or i == 0))
    check_resume(dev, rep)

    timed = 2 if quick else 20
    speed = {}
    for fig in specs.FIGURES.values():
        try:
            speed[fig.name] = measure(fig, dev, timed)
        except Exception as err:
            rep.fail(f"{fig.name}: speed: {type(err).__name__}: {err}")
    if dev.type == "cuda" and det and speed:
        # what the deterministic kernels cost: the same measurement with them off
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.benchmark = True
        try:
            free = {n: measure(specs.get(n), dev, timed)[0] for n in speed}
            out("deterministic kernels, steps/s as a fraction of the nondeterministic ones: "
                + ", ".join(f"{n} {speed[n][0] / free[n]:.2f}" for n in speed))
        finally:
            torch.backends.cudnn.benchmark = False
            set_deterministic(dev)
    gain = {n: 1.0 for n in speed}
    if runs_per_device > 1 and speed:
        try:
            shared = measure_shared(list(speed), dev, timed, runs_per_device)
            gain = {n: shared[n] / speed[n][0] for n in speed}
        except Exception as err:
            rep.fail(f"{runs_per_device} runs sharing {dev}: {type(err).__name__}: {err}")
    n_dev = devices or (torch.cuda.device_count() if dev.type == "cuda" else 1)

    out("")
    out(f"paper scale on {n_dev} x {dev.type}"
        + (f", {runs_per_device} runs per device" if runs_per_device > 1 else "")
        + (" (timings from 2 steps: rough)" if quick else ""))
    out(f"{'figure':<20} {'steps/s':>9} {'x shared':>9} {'runs':>5} {'device-h':>9} "
        f"{'wall h':>8}")
    for fig in specs.FIGURES.values():
        if fig.name not in speed:
            continue
        sps, rps = speed[fig.name]
        hours = estimate_hours(fig, sps, rps)
        wall = hours / (n_dev * gain[fig.name])
        out(f"{fig.name:<20} {sps:>9.1f} {gain[fig.name]:>9.2f} "
            f"{len(planned_runs(fig)):>5} {hours:>9.1f} {wall:>8.1f}")
    if speed:
        from .plan import speeds_path
        if quick:
            out("speeds not kept (--quick timings are rough); `adamlab plan` estimates from a "
                "full self-test")
        else:
            path = speeds_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({
                "device": f"{dev} ({name})", "torch": torch.__version__,
                "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "speeds": {n: {"steps_per_s": v[0], "rows_per_s": v[1]}
                           for n, v in speed.items()}}, indent=1))
            out(f"speeds kept in {path} (`adamlab plan FIGURE --scale paper` reads them)")
    out(f"(device-h: one run at a time on one device; wall h: on {n_dev} device(s)"
        + (f" with {runs_per_device} runs each, at the measured gain" if runs_per_device > 1
           else "") + ". L-BFGS counted at its most evaluations per iteration.)")
    out(f"\n{len(rep.failures)} failure(s) in {time.perf_counter() - t_start:.0f} s")
    for f in rep.failures:
        out(f"  - {f}")
    return 1 if rep.failures else 0
