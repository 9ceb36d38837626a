"""Run a sweep: many independent runs, each with a stable id, all writing into one store.

Finished runs are read back, unfinished ones resume from their checkpoint, so a sweep can be
stopped and restarted at will. ``shard=(i, n)`` keeps every n-th run (by sorted id), which lets a
job-array scheduler (SLURM's ``--array``) give one slice to each job; ``jobs`` runs several at
once on one machine: each run takes a free device slot when a worker starts it (every GPU
offers ``runs_per_device`` slots) and gives it back when it ends.

Where results live (:func:`results_root`, printed by every ``adamlab`` command):
``$ADAMLAB_RESULTS`` when set; else ``results/`` of the adamlab project that holds the working
directory (the first folder upward with the project's ``pyproject.toml``), which is where the
book reads them; else that of the checkout the package itself runs from (an editable install,
wherever the command is run); else ``./results``. Quick runs go to ``runs/`` beside that folder.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.managers import SyncManager
from pathlib import Path

import torch

from ..quantities import training_cpu_hours, training_wall_hours
from .train import RunConfig, RunLocked, read_result, train


def parse_shard(text: str | None) -> tuple[int, int]:
    """'i/n' with 0 <= i < n (SLURM: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)."""
    if text is None:
        return (0, 1)
    try:
        i, n = (int(p) for p in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected 'i/n' with integers, e.g. 0/4") from None
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard {text!r}: need n >= 1 and 0 <= i < n (shards are 0-based)")
    return (i, n)


def shard(configs: list[RunConfig], i: int, n: int) -> list[RunConfig]:
    """Every n-th run, counting from i, in the order of their ids (the same on every machine)."""
    ordered = sorted(configs, key=lambda c: c.run_id)
    return ordered[i::n]


def store_dir(out: str | os.PathLike, figure: str, scale: str) -> Path:
    return Path(out) / figure / scale


def status(configs: list[RunConfig], folder: str | os.PathLike) -> dict[str, str]:
    """'done', 'diverged', 'partial' (a checkpoint exists) or 'todo', per run id."""
    folder = Path(folder)
    out = {}
    for c in configs:
        res, ck = folder / f"{c.run_id}.json", folder / "checkpoints" / f"{c.run_id}.pt"
        out[c.run_id] = read_result(res)["status"] if res.exists() else (
            "partial" if ck.exists() else "todo")
    return out


@lru_cache(maxsize=4)
def _load(name: str, root: str | None):
    from . import data
    return data.load(name, root=root)


def device_slots(device: str | None = None, runs_per_device: int = 1) -> list[str | None]:
    """The device slots a sweep fills: every visible GPU ``runs_per_device`` times when
    ``device`` is auto or "cuda" (several small runs keep a large GPU busier than one), an
    explicit device ("cuda:1", "mps") that many times, and one CPU slot otherwise."""
    if runs_per_device < 1:
        raise ValueError(f"runs per device must be >= 1, got {runs_per_device}")
    if device in (None, "auto", "cuda") and torch.cuda.is_available():
        gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        return [g for _ in range(runs_per_device) for g in gpus]
    if _on_cpu(device):
        return [device]
    return [device] * runs_per_device


def _on_cpu(device: str | None) -> bool:
    """Whether ``device`` means the CPU (auto without a GPU: MPS is shared like the CPU)."""
    return device in (None, "auto") or str(device).startswith("cpu")


def worker_threads(jobs: int, threads: int | None = None) -> int:
    """CPU threads per worker: as asked, else the cores shared evenly among the workers
    (each worker taking every core would make ``jobs`` processes fight over them)."""
    return threads if threads else max(1, (os.cpu_count() or 1) // jobs)


def _die_with_parent(parent: int) -> None:
    """Make this pool process end when the sweep that started it dies (Linux).

    A sweep stopped with SIGTERM or SIGKILL cannot shut its pool down, and its workers would go
    on training the runs already handed to them, and writing their results, after the sweep was
    stopped. They are killed instead; the last checkpoint of their run stays, so nothing is lost.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)


def _worker(cfg: RunConfig, folder: str, slots, root: str | None, threads: int,
            progress: bool, deterministic: bool) -> dict | None:
    """One run in a pool process: take a free device slot, train, give the slot back."""
    torch.set_num_threads(threads)
    device = slots.get()  # blocks until a slot is free: no two runs too many on one device
    try:
        return train(cfg, _load(cfg.dataset, root), folder, device=device, progress=progress,
                     deterministic=deterministic)
    except RunLocked:
        return None
    finally:
        slots.put(device)


def _report(log, k: int, total: int, cfg: RunConfig, r: dict | None) -> None:
    if r is None:
        log(f"[{k}/{total}] {cfg.run_id}: skipped, another process is training it")
        return
    log(f"[{k}/{total}] {cfg.run_id}: {r['status']}, final cost "
        f"{r['history']['train_loss'][-1]:.4g}, {r['wall_time_s']:.1f} s")


def run_sweep(configs: list[RunConfig], folder: str | os.PathLike, *, device: str | None = None,
              jobs: int | None = 1, data_root: str | None = None, progress: bool | None = None,
              loader: Callable[[str], object] | None = None,
              log: Callable[[str], None] = print, runs_per_device: int = 1,
              threads: int | None = None, deterministic: bool = True) -> list[dict]:
    """Train every config (skipping finished ones); return the finished results in the given
    order (a run another process holds is skipped and left out).

    ``jobs`` worker processes share the device slots of :func:`device_slots` (None: one per
    slot); a worker takes a slot when it starts a run and frees it when the run ends, so a GPU
    never idles while another holds two runs. ``threads``: CPU threads per worker (None: the
    cores divided among the workers).
    """
    folder = str(folder)
    todo = [c for c in configs if not (Path(folder) / f"{c.run_id}.json").exists()]
    slots = device_slots(device, runs_per_device)
    jobs = len(slots) if jobs is None else jobs
    log(f"{len(configs)} runs, {len(configs) - len(todo)} already finished, "
        f"{len(todo)} to run in {folder}")
    if jobs <= 1 or len(todo) <= 1:
        if threads:
            torch.set_num_threads(threads)
        for k, c in enumerate(todo, 1):
            data = loader(c.dataset) if loader else _load(c.dataset, data_root)
            try:
                r = train(c, data, folder, device=slots[0], progress=progress,
                          deterministic=deterministic)
            except RunLocked:
                r = None
            _report(log, k, len(todo), c, r)
    else:
        if loader is not None:
            raise ValueError("a custom loader works with jobs=1 only (workers load by name)")
        shared = len(slots) == 1 and _on_cpu(slots[0])  # the CPU: every worker at once
        if jobs > len(slots) and not shared:
            log(f"{jobs} workers for {len(slots)} device slots: the others wait for a free slot")
        per = worker_threads(jobs, threads)
        # cuBLAS reads its workspace setting when a process first uses it (see
        # train.set_deterministic); the spawned workers inherit it from here
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        ctx = mp.get_context("spawn")  # safe with CUDA and with threads
        manager = SyncManager(ctx=ctx)
        manager.start(_die_with_parent, (os.getpid(),))
        with manager, cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_die_with_parent,
                                             initargs=(os.getpid(),)) as pool:
            free = manager.Queue()
            for s in slots * jobs if shared else slots:
                free.put(s)
            futs = {pool.submit(_worker, c, folder, free, data_root, per, False,
                                deterministic): c for c in todo}
            for k, f in enumerate(cf.as_completed(futs), 1):
                _report(log, k, len(todo), futs[f], f.result())
    done = [Path(folder) / f"{c.run_id}.json" for c in configs]
    return [read_result(p) for p in done if p.exists()]


def load_results(folder: str | os.PathLike) -> list[dict]:
    """Every finished result in a store folder (checkpoints and temporary files ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [read_result(p) for p in sorted(folder.glob("*.json")) if not p.name.startswith(".")
            and p.name != "tuned.json"]


# the folder this module was imported from: inside a checkout (an editable install) the project
# is found above it; in site-packages (an ordinary install) it is not, and nothing is assumed
_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root(start: str | os.PathLike | None = None) -> Path | None:
    """The adamlab project holding ``start`` (default: the working directory): the first folder
    upward whose ``pyproject.toml`` names the project ``adamlab``; None outside one."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        toml = folder / "pyproject.toml"
        try:
            if toml.is_file() and re.search(r'(?m)^name\s*=\s*"adamlab"', toml.read_text()):
                return folder
        except OSError:
            continue
    return None


def results_root(start: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Where results live, and why: $ADAMLAB_RESULTS; else results/ of the adamlab project
    above the working directory; else that of the checkout this package runs from (an
    editable install); else ./results. Never a guess from the installed package's location."""
    env = os.environ.get("ADAMLAB_RESULTS")
    if env:
        return Path(env).expanduser().resolve(), "$ADAMLAB_RESULTS"
    root = project_root(start)
    if root is not None:
        return root / "results", f"the adamlab project at {root}"
    root = project_root(_PACKAGE_DIR)
    if root is not None:
        return root / "results", f"the adamlab checkout this package runs from, {root}"
    return Path(start or Path.cwd()).resolve() / "results", (
        "no adamlab project above the working directory or the package, no $ADAMLAB_RESULTS")


def store_root(scale: str, out: str | os.PathLike | None = None) -> Path:
    """The folder holding every figure's store at ``scale``: ``out`` when given; else the
    results root, or ``runs/`` beside it for the quick scale (not committed)."""
    if out is not None:
        return Path(out)
    root = results_root()[0]
    return root.parent / "runs" if scale == "quick" else root


def describe_store(scale: str | None = None, out: str | os.PathLike | None = None) -> str:
    """One line for every command to print: where results are read and written, and why."""
    root, why = results_root()
    if out is not None:
        return f"results store: {Path(out).resolve()} (--out)"
    quick = f"; quick runs in {root.parent / 'runs'}" if scale in (None, "quick") else ""
    return f"results store: {root} ({why}){quick}"


def run_figure(name: str, scale: str = "quick", out: str | os.PathLike | None = None,
               threads: int | None = None, device: str | None = None, seeds=None,
               log: Callable[[str], None] = print) -> list[dict]:
    """Run (or read back) one figure's sweep; what the chapters call at build time."""
    from . import specs
    if threads:
        torch.set_num_threads(threads)
    fig = specs.get(name)
    if out is None:
        out = store_root(scale)
    return run_sweep(fig.runs(scale, seeds=seeds), store_dir(out, name, scale), device=device,
                     progress=False, log=log)


def paper_results(name: str, root: str | os.PathLike | None = None) -> list[dict]:
    """The committed paper-scale results of a figure (empty when it was not run at that scale)."""
    return load_results(store_dir(root or results_root()[0], name, "paper"))


# the committed scales, largest first; ``quick`` is what a chapter runs when none exists
COMMITTED_SCALES = ("paper", "cpu")


def device_of(result: dict) -> str:
    """Where a run trained, as its provenance says ("cpu: x86_64, 1 thread"); results recorded
    before the string agreed in number say "1 threads"."""
    return result["provenance"]["device"].replace(", 1 threads", ", 1 thread")


@dataclass
class Shown:
    """The results a chapter shows for one figure, and how to name them."""

    name: str
    scale: str
    results: list[dict]
    committed: bool                      # read from results/ (else run while the page was built)

    @property
    def subset(self) -> bool:
        """Trained on part of a dataset (the offline CIFAR-10 subset, say): never "paper"."""
        return any(r.get("data_info", {}).get("complete") is False for r in self.results)

    @property
    def label(self) -> str:
        """'paper scale', 'cpu scale', 'cpu scale, on a subset of the data', 'quick scale'."""
        return f"{self.scale} scale" + (", on a subset of the data" if self.subset
                                         and self.scale != "quick" else "")

    @property
    def differs(self) -> str:
        from . import specs
        return specs.get(self.name).scales[self.scale].differs

    @property
    def seeds(self) -> list[int]:
        return sorted({r["config"]["seed"] for r in self.results})

    @property
    def cpu_hours(self) -> float:
        """Processor time of the training (all threads), where the runs recorded it."""
        return training_cpu_hours(self.results)

    @property
    def wall_hours(self) -> float:
        return training_wall_hours(self.results)

    @property
    def planned(self) -> list[str]:
        """The run ids the protocol needs: Fig. 4's whole grid on every seed (its figure is the
        grid); elsewhere the grid on seed 0 (``tune``), then each curve's best setting on every
        seed (``run --tuned``). Until the grid is complete, its best so far stands in."""
        from . import plot, specs
        fig = specs.get(self.name)
        sc = fig.scales[self.scale]
        if sc.report_epochs:
            return [c.run_id for c in fig.runs(self.scale)]
        grid = fig.runs(self.scale, seeds=sc.seeds[:1])
        tuned = [r for r in self.results if r["id"] in {c.run_id for c in grid}]
        best = {label: b["setting"] for label, b in plot.best_settings(tuned).items()} \
            if tuned else {}
        more = [c.run_id for c in fig.runs(self.scale, only=best) if c.label in best]
        return list(dict.fromkeys([c.run_id for c in grid] + more))

    @property
    def missing(self) -> list[str]:
        """Planned runs not finished yet: while any is missing, no claim is decided."""
        done = {r["id"] for r in self.results}
        return [rid for rid in self.planned if rid not in done]


def progress(name: str, scale: str, folder: str | os.PathLike) -> dict:
    """How far a figure's sweep at one scale is: runs the protocol plans, runs finished, and
    the wall time the finished ones took (their own record, not an estimate)."""
    results = load_results(folder)
    shown = Shown(name, scale, results, committed=True)
    planned = set(shown.planned)
    walls = [r["wall_time_s"] for r in results if r["id"] in planned]
    return {"planned": len(planned), "finished": len(walls), "hours": sum(walls) / 3600,
            "median_min": float(sorted(walls)[len(walls) // 2]) / 60 if walls else 0.0}


def committed(name: str, root: str | os.PathLike | None = None) -> Shown | None:
    """What the chapter shows of a figure's committed results: the largest scale whose sweep is
    complete; while a larger sweep is still being run and committed run by run, the smaller
    complete one. With no complete scale, the largest that has results; with none, None."""
    from . import specs
    fig = specs.get(name)
    found = []
    for scale in COMMITTED_SCALES:
        if scale in fig.scales:
            results = load_results(store_dir(root or results_root()[0], name, scale))
            if results:
                if scale == "paper" and any(r.get("data_info", {}).get("complete") is False
                                            for r in results):
                    raise ValueError(f"{name}: results/{name}/paper holds runs on a subset of "
                                     "the data; a subset run is never paper scale: move them "
                                     "to the cpu scale or rerun them on the full dataset")
                shown = Shown(name, scale, results, committed=True)
                if not shown.missing:
                    return shown
                found.append(shown)
    return found[0] if found else None


def in_progress(name: str, root: str | os.PathLike | None = None) -> Shown | None:
    """A committed sweep larger than the one the chapter shows, not yet complete (or None)."""
    shown = committed(name, root)
    if shown is None:
        return None
    from . import specs
    fig = specs.get(name)
    for scale in COMMITTED_SCALES[:COMMITTED_SCALES.index(shown.scale)]:
        if scale in fig.scales:
            results = load_results(store_dir(root or results_root()[0], name, scale))
            if results:
                return Shown(name, scale, results, committed=True)
    return None


def largest(name: str, quick_out: str | os.PathLike | None = None, threads: int | None = 1,
            root: str | os.PathLike | None = None) -> Shown:
    """What a chapter shows: the largest committed scale, else the quick scale run now."""
    found = committed(name, root)
    if found is not None:
        return found
    import tempfile
    out = quick_out or tempfile.mkdtemp(prefix=f"adamlab-{name}-")
    return Shown(name, "quick", run_figure(name, "quick", out=out, threads=threads,
                                           log=lambda s: None), committed=False)


def scale_table(root: str | os.PathLike | None = None) -> str:
    """A Markdown table: each figure of the paper, the largest scale the book shows it at (with
    the committed runs' count, devices and training time), or the quick scale only."""
    from . import specs
    lines = ["| figure | largest scale shown | runs committed |", "|---|---|---|"]
    for name, fig in specs.FIGURES.items():
        found = committed(name, root)
        if found is not None:
            devices = " / ".join(sorted({device_of(r) for r in found.results}))
            shown = found.label + (f" ({found.differs})" if found.differs else "")
            runs = (f"{len(found.results)} of {len(found.planned)} planned runs, seeds "
                    f"{', '.join(map(str, found.seeds))}; "
                    f"{found.wall_hours:.1f} h of training on {devices}")
        else:
            how = (f"`adamlab run {name} --scale paper`" if fig.scales["paper"].report_epochs
                   else f"`adamlab tune {name} --scale paper`, then `adamlab run {name} "
                   "--scale paper --tuned`")
            shown, runs = "quick scale only", f"none: {how}"
        lines.append(f"| {fig.title} | {shown} | {runs} |")
    return "\n".join(lines)
