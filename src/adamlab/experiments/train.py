"""One training loop for every experiment of the paper.

The data sit on the device as two tensors; each epoch draws one random permutation and takes
minibatches by index. Losses stay on the device until the end of the epoch, so a step never
waits for the host. After each epoch the loop evaluates the training cost, checks for NaN/inf,
and writes a checkpoint (model, optimizer, schedule, every random-number state, history) so that
a run killed at any moment resumes and ends with exactly the numbers it would have produced.
The result of a run is one JSON file, written atomically, with its provenance.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import models

__all__ = ["RunConfig", "train", "pick_device", "make_optimizer", "write_json_atomic",
           "read_result", "provenance", "make_schedule",
           "run_epoch"]


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one training run (and therefore its id)."""

    figure: str                      # the spec it belongs to, e.g. "fig1-mnist"
    label: str                       # the curve it draws, e.g. "Adam"
    dataset: str                     # "mnist", "imdb", "cifar10" (or a test dataset)
    model: str                       # a key of models.MODELS
    optimizer: str                   # a class of adamlab.optim, or "LBFGS" (torch.optim)
    epochs: int
    seed: int = 0
    batch_size: int = 128
    model_kw: dict = field(default_factory=dict)
    opt_kw: dict = field(default_factory=dict)
    schedule: str | None = None      # None or "inv_sqrt" (alpha_t = alpha / sqrt(t))
    n_train: int | None = None       # a fixed random subset of the training set (None: all)
    eval_n: int | None = None        # examples of the training set used for the epoch's cost
    points_per_epoch: int = 0        # minibatch-loss points logged per epoch (for early curves)
    log_vhat: bool = False           # log median sqrt(v_hat) per layer (Adam's state)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        return cls(**d)

    @property
    def run_id(self) -> str:
        """Readable and stable: the curve and its hyperparameters, plus a hash of everything."""
        digest = hashlib.sha1(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:8]
        hyper = "-".join(f"{k}{_short(v)}" for k, v in sorted(self.opt_kw.items()))
        label = "".join(c if c.isalnum() else "_" for c in self.label)
        return f"{label}-{hyper}-s{self.seed}-{digest}".replace("--", "-")


# ----------------------------------------------------------------------------- helpers

def _short(v) -> str:
    if isinstance(v, bool):
        return "T" if v else "F"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "_".join(_short(u) for u in v)
    return str(v)


def pick_device(device: str | None = None) -> torch.device:
    """``None`` or "auto": cuda, then mps, then cpu. Anything else is passed to torch."""
    if device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device; "
                         "use --device cpu or leave --device out to choose automatically")
    return dev


def make_optimizer(name: str, params, **kw) -> torch.optim.Optimizer:
    """Our optimizers (adamlab.optim); L-BFGS, the stand-in for SFO, comes from torch.optim."""
    if name == "LBFGS":
        return torch.optim.LBFGS(params, **kw)
    from .. import optim
    if not hasattr(optim, name):
        raise ValueError(f"unknown optimizer {name!r}; adamlab.optim has "
                         f"{[n for n in dir(optim) if n[:1].isupper() and not n.startswith('_')]}")
    return getattr(optim, name)(params, **kw)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=1, allow_nan=True)  # serialize first: a failure leaves no trace
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a result is meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_atomic(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_result(path: str | os.PathLike) -> dict:
    with open(path) as f:
        return json.load(f)


def _git_commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + ("+dirty" if dirty else "")) or "unknown"


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "mps"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def provenance(device: torch.device) -> dict:
    import numpy

    from .. import __name__ as pkg
    return {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "git_commit": _git_commit(),
        "device": _device_name(device),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": numpy.__version__, pkg: _package_version()},
        "platform": platform.platform(),
    }


def _package_version() -> str:
    try:
        from importlib.metadata import version
        return version("adamlab")
    except Exception:  # an uninstalled checkout
        return "unknown"


def _select(n: int, k: int | None, seed: int) -> torch.Tensor | None:
    """A fixed random subset of k indices out of n (the same for every run that asks)."""
    if k is None or k >= n:
        return None
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[:k].sort().values


@torch.no_grad()
def evaluate(model: models._Model, x: torch.Tensor, y: torch.Tensor,
             chunk: int | None = None) -> float:
    """Mean objective over (x, y) in eval mode (no dropout), plus the penalty."""
    if chunk is None:  # on a CPU, chunks that stay in cache (IMDB: 4x faster than 2048 rows)
        chunk = 512 if x.device.type == "cpu" else 4096
    was_training = model.training
    model.eval()
    total = torch.zeros((), device=x.device, dtype=torch.float64)
    for i in range(0, len(x), chunk):
        total += model.objective(x[i:i + chunk], y[i:i + chunk]).double().sum()
    model.train(was_training)
    return float(total / len(x) + model.penalty().double())


def _median_sqrt_vhat(model: torch.nn.Module, opt: torch.optim.Optimizer) -> dict[str, float]:
    """Median of sqrt(v_hat) per weight tensor, v_hat = v / (1 - beta2^t): the paper's §6.3 look."""
    out = {}
    beta2 = opt.param_groups[0].get("betas", (0.9, 0.999))[1]
    for name, p in model.named_parameters():
        st = opt.state.get(p, {})
        if not name.endswith("weight") or "exp_avg_sq" not in st:
            continue
        t = float(st["step"])
        vhat = st["exp_avg_sq"] / (1.0 - beta2 ** t)
        out[name] = float(vhat.sqrt().median())
    return out


def _inv_sqrt(k: int) -> float:
    return 1.0 / math.sqrt(k + 1)


def make_schedule(opt: torch.optim.Optimizer, name: str | None):
    """None, or "inv_sqrt": the t-th step (t = 1, 2, ...) uses alpha_t = alpha / sqrt(t) (§6.1)."""
    if name is None:
        return None
    if name == "inv_sqrt":  # after k scheduler steps the factor is 1 / sqrt(k + 1)
        return torch.optim.lr_scheduler.LambdaLR(opt, _inv_sqrt)
    raise ValueError(f"unknown schedule {name!r}; use None or 'inv_sqrt'")


# ----------------------------------------------------------------------------- the loop

def run_epoch(model: models._Model, opt: torch.optim.Optimizer, x: torch.Tensor,
              y: torch.Tensor, perm: torch.Tensor, batch_size: int, sched=None,
              closure_step: bool = False,
              on_step: Callable[[int], object] | None = None) -> torch.Tensor:
    """One pass over (x, y) in the order ``perm``, minibatches by index; the per-step losses
    stay on the device (no host synchronization inside the epoch)."""
    steps = math.ceil(len(perm) / batch_size)
    losses = torch.empty(steps, device=x.device)
    penalty = model.l2 != 0
    for i in range(steps):
        idx = perm[i * batch_size:(i + 1) * batch_size]
        xb, yb = x[idx], y[idx]

        def closure(xb=xb, yb=yb):
            opt.zero_grad(set_to_none=True)
            loss = model.objective(xb, yb).mean()
            if penalty:
                loss = loss + model.penalty()
            loss.backward()
            return loss

        if closure_step:
            loss = opt.step(closure)
        else:
            loss = closure()
            opt.step()
        losses[i] = loss.detach()
        if sched is not None:
            sched.step()
        if on_step is not None:
            on_step(i)
    return losses


def train(cfg: RunConfig, data, out_dir: str | os.PathLike, device: str | None = None,
          progress: bool | None = None,
          callback: Callable[[int, int], None] | None = None) -> dict:
    """Train one run; return its result (also written to ``out_dir/<run_id>.json``).

    A finished run is not redone: its result is read back. An unfinished one resumes from its
    last checkpoint (``out_dir/checkpoints/<run_id>.pt``). ``data`` is an
    ``adamlab.experiments.data.Dataset`` (tensors ``x_train``, ``y_train``). ``callback(epoch,
    step)`` is called after every optimizer step (for progress reports, or tests).
    """
    out_dir = Path(out_dir)
    rid = cfg.run_id
    result_path = out_dir / f"{rid}.json"
    ckpt_path = out_dir / "checkpoints" / f"{rid}.pt"
    if result_path.exists():
        return read_result(result_path)
    dev = pick_device(device)

    x, y = data.x_train, data.y_train
    if len(x) != len(y):
        raise ValueError(f"dataset {cfg.dataset!r}: {len(x)} inputs but {len(y)} labels")
    sub = _select(len(x), cfg.n_train, seed=1234)
    if sub is not None:
        x, y = x[sub], y[sub]
    x, y = x.to(dev), y.to(dev)
    n = len(x)
    ev = _select(n, cfg.eval_n, seed=4321)
    x_eval, y_eval = (x, y) if ev is None else (x[ev.to(dev)], y[ev.to(dev)])

    # the same initial parameters for every optimizer with the same seed (paper §6)
    torch.manual_seed(cfg.seed)
    model = models.build(cfg.model, **cfg.model_kw).to(dev)
    opt = make_optimizer(cfg.optimizer, model.parameters(), **cfg.opt_kw)
    sched = make_schedule(opt, cfg.schedule)
    gen_device = dev if dev.type == "cuda" else torch.device("cpu")
    gen = torch.Generator(device=gen_device)
    gen.manual_seed(cfg.seed)

    steps = math.ceil(n / cfg.batch_size)
    history: dict[str, Any] = {"epoch": [], "train_loss": [], "wall": [], "batch_loss": [],
                               "batch_epoch": [], "sqrt_vhat": {}, "passes": []}
    start_epoch, elapsed, cpu_time, status = 0, 0.0, 0.0, "running"

    if ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=dev, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        if sched is not None:
            sched.load_state_dict(ck["scheduler"])
        gen.set_state(ck["generator"])
        torch.set_rng_state(ck["rng_cpu"])
        if dev.type == "cuda" and ck.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(ck["rng_cuda"], dev)
        start_epoch, elapsed, history = ck["epoch"], ck["elapsed"], ck["history"]
        cpu_time = ck.get("cpu_time", 0.0)
    else:
        history["epoch"].append(0)
        history["train_loss"].append(evaluate(model, x_eval, y_eval))
        history["wall"].append(0.0)
        history["passes"].append(0.0)

    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm
    bar = tqdm(total=cfg.epochs * steps, initial=start_epoch * steps, disable=not progress,
               desc=rid[:40], leave=False, unit="step")
    use_closure = cfg.optimizer == "LBFGS"

    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        perm = torch.randperm(n, generator=gen, device=gen_device).to(dev)

        def on_step(i, epoch=epoch):
            bar.update(1)
            if callback is not None:
                callback(epoch, i)

        losses = run_epoch(model, opt, x, y, perm, cfg.batch_size, sched=sched,
                           closure_step=use_closure, on_step=on_step)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        elapsed += time.perf_counter() - t0
        cpu_time += time.process_time() - c0

        losses = losses.double().cpu()  # one transfer per epoch
        train_loss = evaluate(model, x_eval, y_eval)
        history["epoch"].append(epoch)
        history["train_loss"].append(train_loss)
        history["wall"].append(elapsed)
        history.setdefault("passes", []).append(_passes(opt, epoch, use_closure))
        if cfg.points_per_epoch:
            for j, chunk in enumerate(losses.tensor_split(cfg.points_per_epoch)):
                history["batch_loss"].append(float(chunk.mean()))
                history["batch_epoch"].append(epoch - 1 + (j + 1) / cfg.points_per_epoch)
        if cfg.log_vhat:
            for name, val in _median_sqrt_vhat(model, opt).items():
                history["sqrt_vhat"].setdefault(name, []).append(val)
        bar.set_postfix(loss=f"{train_loss:.4g}")
        if not (math.isfinite(train_loss) and bool(torch.isfinite(losses).all())):
            status = "diverged"
            break
        if epoch < cfg.epochs:
            _save_atomic({
                "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict() if sched is not None else None,
                "generator": gen.get_state(), "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state(dev) if dev.type == "cuda" else None,
                "epoch": epoch, "elapsed": elapsed, "cpu_time": cpu_time, "history": history,
            }, ckpt_path)
    bar.close()
    if status == "running":
        status = "done"

    result = {"id": rid, "status": status, "config": cfg.as_dict(), "history": history,
              "steps_per_epoch": steps, "n_train": n, "wall_time_s": elapsed,
              "cpu_time_s": cpu_time,
              "data_info": _json_safe(getattr(data, "info", {})),
              "provenance": provenance(dev), "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                         time.gmtime())}
    write_json_atomic(result_path, result)
    ckpt_path.unlink(missing_ok=True)
    return result


def _passes(opt: torch.optim.Optimizer, epoch: int, full_batch: bool) -> float:
    """Gradient evaluations so far, in passes over the training set: one per epoch for a
    minibatch method; for full-batch L-BFGS, every evaluation its line search made."""
    if not full_batch:
        return float(epoch)
    params = opt.param_groups[0]["params"]
    return float(opt.state[params[0]].get("func_evals", epoch))


def _json_safe(info: dict) -> dict:
    scalar = (str, int, float, bool, type(None))
    return {k: v for k, v in dict(info).items() if isinstance(v, scalar)}
