"""One training loop for every experiment of the paper.

The data sit on the device as two tensors; each epoch draws one random permutation and takes
minibatches by index. Losses stay on the device until the end of the epoch, so a step never
waits for the host. After each epoch the loop evaluates the training cost, checks for NaN/inf,
and writes a checkpoint (model, optimizer, schedule, every random-number state, history) so that
a run killed at any moment resumes and ends with exactly the numbers it would have produced:
bit for bit on a CPU (with the same thread count) and on CUDA, where deterministic kernels are
switched on (:func:`set_deterministic`; ``adamlab selftest`` checks it on the device and
measures what it costs); on MPS, which has no deterministic mode, to rounding only.
The result of a run is one strict-JSON file, written atomically and durably, with its
provenance; a lock file keeps a second process off a run that is being trained.
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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import models

__all__ = ["RunConfig", "train", "pick_device", "make_optimizer", "write_json_atomic",
           "read_result", "provenance", "make_schedule", "run_epoch", "RunLocked",
           "set_deterministic", "accum_dtype", "batch_bounds"]


LAST_BATCH = (None, "merge")


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
    # "subset": the run asks for the whole dataset but was allowed to train on the part of it
    # that is present (the offline CIFAR-10 subset). None: the data are what the config says.
    data: str | None = None
    # "merge": a last minibatch smaller than half a batch joins the one before it (see
    # ``batch_bounds``). None: the last minibatch is whatever is left over.
    last_batch: str | None = None

    def __post_init__(self):
        if self.last_batch not in LAST_BATCH:
            raise ValueError(f"last_batch={self.last_batch!r}: use one of {LAST_BATCH}")

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("data", "last_batch"):  # absent when unset: the ids of earlier runs stay put
            if d[key] is None:
                del d[key]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        return cls(**d)

    @property
    def run_id(self) -> str:
        """Readable and stable: the curve and its hyperparameters, plus a hash of everything."""
        digest = hashlib.sha1(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:8]
        hyper = "-".join(f"{k}{_short(v)}" for k, v in sorted(self.opt_kw.items()))
        label = "".join(c if c.isalnum() else "_" for c in self.label)
        data = f"-{self.data}" if self.data else ""
        return f"{label}-{hyper}-s{self.seed}{data}-{digest}".replace("--", "-")


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


# Strict JSON has no NaN or infinity (Python writes the bare tokens NaN and Infinity, which
# JavaScript's and most other parsers reject). A cost that blew up is written as one of these
# strings instead, and read_result turns them back into floats.
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _finite_json(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by "NaN", "Infinity" or "-Infinity"."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, dict):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_json(v) for v in obj]
    return obj


def _revive(obj: Any) -> Any:
    """The inverse of :func:`_finite_json` (also reads files written with bare NaN tokens)."""
    if isinstance(obj, str):
        return _NONFINITE.get(obj, obj)
    if isinstance(obj, dict):
        return {k: _revive(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_revive(v) for v in obj]
    return obj


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a crash right after it must not undo it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform without directory handles (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is atomic
    finally:
        os.close(fd)


def _replace_atomic(path: Path, write: Callable[[Any], None], mode: str) -> None:
    """Write through ``write(file)`` into a temporary file beside ``path``, fsync it, rename it
    over ``path`` and fsync the folder: a reader sees the old file or the new one, whole, even
    after a crash or a power cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a result is meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write strict JSON (non-finite numbers as strings) atomically: never half a file."""
    text = json.dumps(_finite_json(obj), indent=1, allow_nan=False)  # a failure leaves no trace
    _replace_atomic(Path(path), lambda f: f.write(text), "w")


def _save_atomic(obj: Any, path: Path) -> None:
    _replace_atomic(path, lambda f: torch.save(obj, f), "wb")


def read_result(path: str | os.PathLike) -> dict:
    """A result file, with "NaN"/"Infinity" (or the bare tokens of older files) as floats."""
    with open(path) as f:
        return _revive(json.load(f))


# ----------------------------------------------------------------------------- one run at a time

class RunLocked(RuntimeError):
    """Another live process is training this run id now."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class _RunLock:
    """``<id>.lock`` created with O_EXCL: two processes never train the same run id at once.

    The file names the holder's host and pid. A lock left by a process that died (same host,
    pid gone) is stale and taken over; a lock from another host (a cluster's shared file
    system) is always respected, since its pid cannot be checked from here: delete it by hand
    if its job is known to be dead.
    """

    def __init__(self, path: Path):
        self.path = path
        self.held = False

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def _stale(self) -> bool:
        h = self._holder()
        if h is None:  # unreadable: a holder that died between creating and writing it
            try:
                return time.time() - self.path.stat().st_mtime > 60
            except FileNotFoundError:
                return True
        return h.get("host") == platform.node() and not _pid_alive(int(h.get("pid", -1)))

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale():
                    warnings.warn(f"{self.path}: stale lock of a process that is gone; taken "
                                  "over", stacklevel=2)
                    self.path.unlink(missing_ok=True)
                    continue
                raise RunLocked(f"{self.path.stem} is being trained by {self._holder()} "
                                f"(lock {self.path}); skipped here") from None
            with os.fdopen(fd, "w") as f:
                json.dump({"host": platform.node(), "pid": os.getpid(),
                           "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, f)
            self.held = True
            return self
        raise RunLocked(f"{self.path}: could not take the lock")

    def __exit__(self, *exc):
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


# ----------------------------------------------------------------------------- devices

def set_deterministic(device: torch.device, on: bool = True) -> bool:
    """On CUDA, make every kernel deterministic, so that a resumed run is bit-identical.

    cuDNN picks convolution algorithms by timing them and some backward kernels (index_add,
    scatter, embedding) add in an order that varies between runs; with deterministic
    algorithms on, torch uses reproducible ones or raises an error naming the operation. cuBLAS
    needs a fixed workspace (``CUBLAS_WORKSPACE_CONFIG``), read when its first handle is made:
    ``adamlab`` sets it at start-up, and here for a process that has not used cuBLAS yet.
    CPUs are deterministic already (for a fixed thread count); MPS offers no such mode.
    Returns whether deterministic algorithms are on.
    """
    if device.type == "cuda":
        if on:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(on)
    return torch.are_deterministic_algorithms_enabled()


def accum_dtype(device: torch.device) -> torch.dtype:
    """The dtype that sums a cost over the data: float64, except on MPS, which has none."""
    return torch.float32 if device.type == "mps" else torch.float64


def _git_state() -> dict:
    """The code a run trains with: the commit of the checkout this package runs from, whether
    its tracked files differ from it, and a hash of that difference (so that a tree edited while
    it was dirty is told apart too)."""
    here = Path(__file__).resolve().parent

    def git(*args) -> str:
        return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True,
                              timeout=30).stdout
    try:
        commit = git("rev-parse", "HEAD").strip()
        diff = git("diff", "HEAD", "--binary") if commit else ""
    except (OSError, subprocess.SubprocessError):
        commit, diff = "", ""
    if not commit:
        return {"git_commit": "unknown", "git_dirty": None, "git_diff_sha256": None}
    return {"git_commit": commit + ("+dirty" if diff else ""), "git_dirty": bool(diff),
            "git_diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None}


def _git_commit() -> str:
    return _git_state()["git_commit"]


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "mps"
    n = torch.get_num_threads()
    return f"cpu: {platform.processor() or platform.machine()}, {n} thread{'s' * (n != 1)}"


def provenance(device: torch.device) -> dict:
    import numpy

    from .. import __name__ as pkg
    return {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        **_git_state(),
        "device": _device_name(device),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": numpy.__version__, pkg: _package_version()},
        "platform": platform.platform(),
        # the same seed on another CPU can round differently (other SIMD kernels) and, over
        # hundreds of steps, end elsewhere within the spread of seeds: record what ran it
        "cpu": _cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
    acc = accum_dtype(x.device)
    total = torch.zeros((), device=x.device, dtype=acc)
    for i in range(0, len(x), chunk):
        total += model.objective(x[i:i + chunk], y[i:i + chunk]).to(acc).sum()
    model.train(was_training)
    # the division and the penalty in float64 on the host (the same numbers as on the device)
    return float(total) / len(x) + float(model.penalty())


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

def batch_bounds(n: int, batch_size: int, last_batch: str | None = None) -> list[tuple[int, int]]:
    """The [start, end) of each minibatch of an epoch over n examples.

    By default the last minibatch is the remainder, however small. With ``last_batch="merge"``
    a remainder under half a batch joins the batch before it: Adam-like rules take a step of
    about α per coordinate whatever the batch, so a step computed from a handful of examples
    (8,068 = 63·128 + 4 on the CIFAR-10 subset) is as long as any other and far noisier, and,
    being the epoch's last, it is the one the epoch's cost is measured after.
    """
    if last_batch not in LAST_BATCH:
        raise ValueError(f"last_batch={last_batch!r}: use one of {LAST_BATCH}")
    starts = list(range(0, n, batch_size))
    if last_batch == "merge" and len(starts) > 1 and n - starts[-1] < batch_size / 2:
        starts.pop()
    return [(a, b) for a, b in zip(starts, starts[1:] + [n])]


def run_epoch(model: models._Model, opt: torch.optim.Optimizer, x: torch.Tensor,
              y: torch.Tensor, perm: torch.Tensor, batch_size: int, sched=None,
              closure_step: bool = False,
              on_step: Callable[[int], object] | None = None,
              last_batch: str | None = None) -> torch.Tensor:
    """One pass over (x, y) in the order ``perm``, minibatches by index; the per-step losses
    stay on the device (no host synchronization inside the epoch)."""
    bounds = batch_bounds(len(perm), batch_size, last_batch)
    losses = torch.empty(len(bounds), device=x.device)
    penalty = model.l2 != 0
    for i, (start, end) in enumerate(bounds):
        idx = perm[start:end]
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


def check_data(cfg: RunConfig, data) -> None:
    """Refuse to train a config that asks for the whole dataset on part of it.

    A run with ``n_train=None`` (the paper scale) on the offline CIFAR-10 subset would be a
    paper-scale result in name only. It needs ``data="subset"`` in its config, which changes
    its id and the name of its scale (``adamlab run --allow-subset``).
    """
    info = getattr(data, "info", {}) or {}
    if info.get("complete", True) is not False or cfg.data == "subset":
        return
    n = len(data.x_train)
    if cfg.n_train is None or cfg.n_train > n:
        wanted = "all of it" if cfg.n_train is None else f"{cfg.n_train:,} examples"
        raise ValueError(
            f"{cfg.run_id}: the {cfg.dataset} data found hold only part of the dataset ({n:,} "
            f"training examples; {info.get('notes', 'complete=False')}) but this run asks for "
            f"{wanted}. Put the complete dataset in the data directory (`adamlab data check`), "
            "or pass --allow-subset to run on the part that is present, labelled as a subset "
            "(its ids end in -subset and it is never shown as paper scale).")


def _read_checkpoint(path: Path) -> dict | None:
    """The checkpoint at ``path``, every tensor on the CPU, or None when there is none.

    Loaded onto the CPU whatever the training device: the random-number states must be CPU
    byte tensors (``Generator.set_state``, ``torch.set_rng_state`` and
    ``torch.cuda.set_rng_state`` reject any other), and ``load_state_dict`` copies the model's
    and the optimizer's tensors to the parameters' device itself. A file that cannot be read
    (truncated, corrupt, from an incompatible version) is moved aside to ``*.corrupt`` with a
    warning, and the run starts again from scratch instead of failing on every retry.
    """
    if not path.exists():
        return None
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False)
        missing = {"model", "optimizer", "generator", "rng_cpu", "epoch", "history"} - set(ck)
        if missing:
            raise KeyError(f"no {sorted(missing)}")
        return ck
    except Exception as err:  # any unreadable checkpoint is set aside
        _set_aside(path, err)
        return None


def _set_aside(path: Path, err: BaseException) -> None:
    bad = path.with_name(path.name + ".corrupt")
    os.replace(path, bad)
    warnings.warn(f"{path}: checkpoint unreadable ({type(err).__name__}: {err}); moved to "
                  f"{bad.name}, the run starts again from epoch 0", stacklevel=3)


def train(cfg: RunConfig, data, out_dir: str | os.PathLike, device: str | None = None,
          progress: bool | None = None,
          callback: Callable[[int, int], None] | None = None,
          deterministic: bool = True) -> dict:
    """Train one run; return its result (also written to ``out_dir/<run_id>.json``).

    A finished run is not redone: its result is read back. An unfinished one resumes from its
    last checkpoint (``out_dir/checkpoints/<run_id>.pt``). ``data`` is an
    ``adamlab.experiments.data.Dataset`` (tensors ``x_train``, ``y_train``). ``callback(epoch,
    step)`` is called after every optimizer step (for progress reports, or tests). While it
    trains, ``checkpoints/<run_id>.lock`` keeps any other process off the same run
    (:class:`RunLocked`). ``deterministic``: on CUDA, deterministic kernels
    (:func:`set_deterministic`), so that a resumed run ends bit-identical.
    """
    out_dir = Path(out_dir)
    rid = cfg.run_id
    result_path = out_dir / f"{rid}.json"
    if result_path.exists():
        return read_result(result_path)
    check_data(cfg, data)
    with _RunLock(out_dir / "checkpoints" / f"{rid}.lock"):
        if result_path.exists():  # finished by another process while we waited to start
            return read_result(result_path)
        return _train(cfg, data, out_dir, device, progress, callback, deterministic)


def _train(cfg, data, out_dir, device, progress, callback, deterministic) -> dict:
    rid = cfg.run_id
    result_path = out_dir / f"{rid}.json"
    ckpt_path = out_dir / "checkpoints" / f"{rid}.pt"
    dev = pick_device(device)
    det = set_deterministic(dev, deterministic)

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

    def fresh():
        # the same initial parameters for every optimizer with the same seed (paper §6)
        torch.manual_seed(cfg.seed)
        model = models.build(cfg.model, **cfg.model_kw).to(dev)
        opt = make_optimizer(cfg.optimizer, model.parameters(), **cfg.opt_kw)
        gen = torch.Generator(device=gen_device)
        gen.manual_seed(cfg.seed)
        return model, opt, make_schedule(opt, cfg.schedule), gen

    gen_device = dev if dev.type == "cuda" else torch.device("cpu")
    model, opt, sched, gen = fresh()

    steps = len(batch_bounds(n, cfg.batch_size, cfg.last_batch))
    history: dict[str, Any] = {"epoch": [], "train_loss": [], "wall": [], "batch_loss": [],
                               "batch_epoch": [], "sqrt_vhat": {}, "passes": []}
    start_epoch, elapsed, cpu_time, status = 0, 0.0, 0.0, "running"

    ck = _read_checkpoint(ckpt_path)
    if ck is not None:
        try:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            if sched is not None:
                sched.load_state_dict(ck["scheduler"])
            gen.set_state(ck["generator"])
            torch.set_rng_state(ck["rng_cpu"])
            if dev.type == "cuda" and ck.get("rng_cuda") is not None:
                torch.cuda.set_rng_state(ck["rng_cuda"], dev)
        except Exception as err:  # a checkpoint of another model or version
            _set_aside(ckpt_path, err)
            model, opt, sched, gen = fresh()
            ck = None
    # the code and the machine, read when the run starts (a resumed run keeps its first start's)
    started = {**provenance(dev), "deterministic_algorithms": det,
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if ck is not None:
        start_epoch, elapsed, history = ck["epoch"], ck.get("elapsed", 0.0), ck["history"]
        cpu_time = ck.get("cpu_time", 0.0)
        started = ck.get("provenance", started)
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
                           closure_step=use_closure, on_step=on_step, last_batch=cfg.last_batch)
        _synchronize(dev)
        elapsed += time.perf_counter() - t0
        cpu_time += time.process_time() - c0

        losses = losses.cpu().double()  # one transfer per epoch (and MPS has no float64)
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
                "provenance": started,
            }, ckpt_path)
    bar.close()
    if status == "running":
        status = "done"

    # the code at the end: a result whose tree changed while it ran says so
    end = _git_state()
    changed = any(end[k] != started.get(k) for k in ("git_commit", "git_diff_sha256"))
    result = {"id": rid, "status": status, "config": cfg.as_dict(), "history": history,
              "steps_per_epoch": steps, "n_train": n, "wall_time_s": elapsed,
              "cpu_time_s": cpu_time,
              "data_info": _json_safe(getattr(data, "info", {})),
              "provenance": started,
              "provenance_at_end": {**end, "tree_changed_while_running": changed},
              "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_json_atomic(result_path, result)
    ckpt_path.unlink(missing_ok=True)
    return result


def _synchronize(dev: torch.device) -> None:
    """Wait for the device, so that a clock reading covers the work queued on it."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()


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
