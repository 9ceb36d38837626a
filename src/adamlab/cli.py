"""``adamlab``: run the paper's experiments from the command line.

    adamlab selftest                                # first, on any new machine (a minute)
    adamlab list
    adamlab claims                                  # the paper's claims and their verdicts
    adamlab plan fig3 --scale paper                 # runs, data, estimated hours; refuses a
                                                    # grid that cannot decide
    adamlab run fig1-mnist --scale quick
    adamlab tune fig1-imdb --scale paper            # the grid on one seed; keeps the best
    adamlab run fig1-imdb --scale paper --tuned     # then every seed at the chosen settings
    adamlab run fig3 --scale paper --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
    adamlab plot fig1-mnist --scale quick --save fig1.png
    adamlab data check
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds {text!r}: expected integers like 0,1,2") from None


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return n


def _out(args) -> Path:
    """Paper- and cpu-scale results go to the results store (committed), quick runs to runs/
    beside it (ignored); see ``sweep.results_root`` for the rule."""
    from .experiments import sweep
    return sweep.store_root(args.scale, args.out)


def _say_store(args, file=None) -> None:
    from .experiments import sweep
    print(sweep.describe_store(getattr(args, "scale", None), args.out), file=file or sys.stdout)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("figure", nargs="+", help="figure panels (see `adamlab list`), or 'all'")
    p.add_argument("--scale", choices=("quick", "cpu", "paper"), default="quick",
                   help="quick (minutes, CI), cpu (Figs. 2-4: hours on a CPU), paper")
    p.add_argument("--out", help=_OUT_HELP)
    p.add_argument("--data-dir", help="data directory (default: $ADAMLAB_DATA or the cache)")


_OUT_HELP = ("results store (default: $ADAMLAB_RESULTS, else results/ of the adamlab project "
             "above the working directory, else ./results; quick runs in runs/ beside it)")


def _figures(names):
    from .experiments import specs
    names = list(specs.FIGURES) if names == ["all"] else names
    return [specs.get(n) for n in names]


def cmd_list(args) -> int:
    from .experiments import specs, sweep
    _say_store(args, file=sys.stderr if args.markdown else None)
    rows = []
    for fig in specs.FIGURES.values():
        for scale in fig.scales:
            store = sweep.store_dir(_out(argparse.Namespace(out=args.out, scale=scale)),
                                    fig.name, scale)
            rows.append((fig, scale, sweep.progress(fig.name, scale, store)))
    if args.markdown:
        print("| figure | scale | runs planned | finished | training time (wall) | per run "
              "(median) |\n|---|---|---|---|---|---|")
        for fig, scale, p in rows:
            if p["finished"] and scale in sweep.COMMITTED_SCALES:
                print(f"| {fig.name} | {scale} | {p['planned']} | {p['finished']} | "
                      f"{p['hours']:.1f} h | {p['median_min']:.1f} min |")
        return 0
    for i, (fig, scale, p) in enumerate(rows):
        if i == 0 or rows[i - 1][0] is not fig:
            print(f"{fig.name:<20} {fig.title}")
        timing = (f"; {p['hours']:.1f} h of training, {p['median_min']:.1f} min per run "
                  "(median)" if p["finished"] else "")
        print(f"    {scale:<6} {p['planned']:>4} runs planned, {p['finished']} finished{timing}")
    return 0


def cmd_claims(args) -> int:
    from .experiments import claims, sweep
    _say_store(args, file=sys.stderr)
    root = args.out or sweep.results_root()[0]
    print(claims.verdicts_markdown(root))
    return 0


def cmd_plan(args) -> int:
    from .experiments import plan, sweep
    _say_store(args)
    status = 0
    for fig in _figures(args.figure):
        text, code = plan.report(fig.name, args.scale, args.data_dir,
                                 args.out or sweep.results_root()[0])
        print(text + "\n")
        status = max(status, code)
    return status


def _tuned(folder: Path) -> dict | None:
    from .experiments.train import read_result
    path = folder / "tuned.json"
    if not path.exists():
        raise ValueError(f"{path} not found; run `adamlab tune` for this figure first")
    return {k: v["setting"] for k, v in read_result(path).items()}


def _labels(text: str) -> list[str]:
    labels = [t.strip() for t in text.split(",") if t.strip()]
    if not labels:
        raise argparse.ArgumentTypeError("give at least one label, e.g. --labels Adam")
    return labels


def _only_labels(cfgs, fig, args):
    """The runs of the curves --labels names; an unknown label is an error that lists them."""
    if not getattr(args, "labels", None):
        return cfgs
    known = [c.label for c in fig.curves]
    unknown = [label for label in args.labels if label not in known]
    if unknown:
        raise ValueError(f"{fig.name} has no curve {', '.join(map(repr, unknown))}; its curves "
                         f"are {', '.join(known)}")
    return [c for c in cfgs if c.label in args.labels]


def _on_subset(fig, args) -> bool:
    """--allow-subset, this figure's data are only part of the dataset, and some run of the
    scale asks for more than is present: its runs then carry data="subset" (new ids) and live
    in '<scale>-subset' (never paper scale). A scale that fits the part present (Fig. 3's cpu
    scale on the offline CIFAR-10 subset) keeps its own store and ids."""
    if not args.allow_subset:
        return False
    from .experiments import sweep
    data = sweep._load(fig.dataset, args.data_dir)
    if data.info.get("complete", True) is not False:
        return False
    n = len(data.x_train)
    return any(c.n_train is None or c.n_train > n for c in fig.runs(args.scale))


def _subset_runs(cfgs, fig, args):
    from .experiments import sweep
    n = len(sweep._load(fig.dataset, args.data_dir).x_train)
    return [dataclasses.replace(c, data="subset") if c.n_train is None or c.n_train > n else c
            for c in cfgs]


def _sweep_kw(args) -> dict:
    return dict(device=args.device, jobs=args.jobs, data_root=args.data_dir,
                runs_per_device=args.runs_per_device, threads=args.threads,
                deterministic=not args.nondeterministic)


def cmd_run(args) -> int:
    from .experiments import sweep
    _say_store(args)
    i, n = sweep.parse_shard(args.shard)
    for fig in _figures(args.figure):
        subset = _on_subset(fig, args)
        scale_dir = args.scale + ("-subset" if subset else "")
        folder = sweep.store_dir(_out(args), fig.name, scale_dir)
        only = None
        if args.tuned or args.tuned_from:
            scale = args.tuned_from or args.scale
            src = Path(args.tuned_dir) if args.tuned_dir else _out(
                argparse.Namespace(out=args.out, scale=scale))
            only = _tuned(sweep.store_dir(src, fig.name, args.tuned_from or scale_dir))
        cfgs = _only_labels(fig.runs(args.scale, seeds=args.seeds, only=only), fig, args)
        cfgs = sweep.shard(_subset_runs(cfgs, fig, args) if subset else cfgs, i, n)
        print(f"{fig.name} ({scale_dir}, shard {i}/{n}):", end=" ")
        sweep.run_sweep(cfgs, folder, progress=None if not args.quiet else False,
                        **_sweep_kw(args))
    return 0


def cmd_tune(args) -> int:
    from .experiments import plot, sweep
    from .experiments.train import write_json_atomic
    _say_store(args)
    for fig in _figures(args.figure):
        subset = _on_subset(fig, args)
        folder = sweep.store_dir(_out(args), fig.name, args.scale + ("-subset" if subset else ""))
        grid = fig.runs(args.scale, seeds=(args.seed,))
        grid = _subset_runs(grid, fig, args) if subset else grid
        sweep.run_sweep(_only_labels(grid, fig, args), folder, **_sweep_kw(args))
        # tuned.json holds every curve tuned so far, whichever --labels ran them
        grid = {c.run_id for c in grid}
        results = [r for r in sweep.load_results(folder) if r["id"] in grid]
        best = plot.best_settings(results)
        write_json_atomic(folder / "tuned.json", best)
        edges = plot.grid_edges(results)
        for label, b in best.items():
            # a best on the grid's edge may not be the best rate: the grid must grow before use
            edge = (f"  <- the {edges[label]} rate of its grid: widen the grid"
                    if label in edges else "")
            print(f"  {label:<28} best {b['setting']}  final cost {b['final']:.4g}{edge}")
    return 0


def cmd_plot(args) -> int:
    from .experiments import plot
    _say_store(args)
    for fig in _figures(args.figure):
        folder = Path(_out(args)) / fig.name / args.scale
        figure = plot.plot_figure(fig.name, folder)
        target = args.save or f"{fig.name}-{args.scale}.png"
        if len(args.figure) > 1 and args.save:
            target = str(Path(args.save).with_stem(f"{Path(args.save).stem}-{fig.name}"))
        figure.savefig(target, dpi=120, bbox_inches="tight")
        print(f"wrote {target}")
    return 0


def cmd_selftest(args) -> int:
    from .experiments import selftest
    return selftest.main(device=args.device, runs_per_device=args.runs_per_device,
                         devices=args.devices, quick=args.quick,
                         compile=not (args.no_compile or args.quick))


def cmd_data(args) -> int:
    from .experiments import data, vendor
    rows = data.check(args.data_dir, hash=not args.no_hash)
    print(data.format_check(rows, args.data_dir))
    print()
    print(vendor.format_check(args.vendor_dir))
    rows.append(vendor.check(args.vendor_dir))
    return 1 if any(r["status"] not in ("ok", "size ok", "missing") for r in rows) else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="adamlab",
                                 description="The experiments of Kingma & Ba (2015).")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help=(
        "the figure panels, their scales, the runs planned (Fig. 4: its grid on every seed; "
        "the others: the grid on seed 0, then the best on every seed), how many are done and "
        "the time they took"))
    p.add_argument("--out", help=_OUT_HELP)
    p.add_argument("--markdown", action="store_true",
                   help="a Markdown table of the finished sweeps and their measured times")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("claims", help=(
        "the paper's claims, each with its verdict read from the largest committed scale of "
        "its figure (a Markdown table; the conclusion and the README show the same)"))
    p.add_argument("--out", help=_OUT_HELP)
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser("plan", help=(
        "what a figure's sweep will run at a scale, the data it needs and whether it is "
        "present, the device-hours estimated from the last `adamlab selftest`; refuses (exit "
        "status 2) grids that cannot decide the figure's claims"))
    _common(p)
    p.set_defaults(func=cmd_plan)

    commands = (("run", cmd_run, "run (or resume) a figure's sweep"),
                ("tune", cmd_tune, "run a figure's grid on one seed, keep the best"))
    for name, func, helptext in commands:
        p = sub.add_parser(name, help=helptext)
        _common(p)
        p.add_argument("--device", default="auto",
                       help="auto (cuda, then mps, then cpu), cpu, cuda:1")
        p.add_argument("--jobs", type=_positive, help=(
            "runs at once on this machine (default: one per device slot, i.e. GPUs x "
            "--runs-per-device; 1 on a CPU)"))
        p.add_argument("--runs-per-device", type=_positive, default=1, help=(
            "runs sharing one GPU at once (small models leave a large GPU mostly idle; "
            "`adamlab selftest --runs-per-device K` measures what K gains)"))
        p.add_argument("--threads", type=_positive, help=(
            "torch CPU threads per run (default: the cores divided among the --jobs)"))
        p.add_argument("--allow-subset", action="store_true", help=(
            "when only part of a dataset is present (the offline CIFAR-10 subset), run on it "
            "anyway: such runs get ids ending in -subset and a store '<scale>-subset', never "
            "shown as that scale"))
        p.add_argument("--nondeterministic", action="store_true", help=(
            "on CUDA, allow nondeterministic kernels (faster convolutions; a resumed run is "
            "then no longer bit-identical)"))
        p.add_argument("--labels", type=_labels, help=(
            "comma-separated curve labels (see `adamlab list`): only their runs, e.g. "
            "'Adam,Adam+dropout' to tune the optimizer of interest first on a small machine; "
            "the figure's claims wait for every curve"))
        if name == "run":
            p.add_argument("--seeds", type=_seeds,
                           help="comma-separated seeds (default: the scale's)")
            p.add_argument("--shard", help="i/n: run the i-th of n slices (0-based)")
            p.add_argument("--tuned", action="store_true",
                           help="only the settings `tune` chose")
            p.add_argument("--tuned-from", choices=("quick", "cpu", "paper"),
                           help="use the settings `tune` chose at this scale (with --tuned-dir)")
            p.add_argument("--tuned-dir", help="the store holding that tuned.json")
            p.add_argument("--quiet", action="store_true", help="no progress bars")
        else:
            p.add_argument("--seed", type=int, default=0)
        p.set_defaults(func=func)

    p = sub.add_parser("selftest", help=(
        "the first thing to run on a new machine: every figure's model and optimizers on the "
        "device, a killed-and-resumed run, no silent CPU or float64, steps/s, and the "
        "estimated wall time of each figure at the paper scale"))
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda:1")
    p.add_argument("--runs-per-device", type=_positive, default=1,
                   help="estimate (and measure) with this many runs sharing the device")
    p.add_argument("--devices", type=_positive, help="devices the sweeps would use "
                   "(default: every visible GPU, or 1)")
    p.add_argument("--quick", action="store_true",
                   help="fewer steps and no torch.compile (for CI; seconds, not a minute)")
    p.add_argument("--no-compile", action="store_true", help="skip the compiled Adam path")
    p.set_defaults(func=cmd_selftest)

    p = sub.add_parser("plot", help="draw a figure in the paper's layout from a results store")
    _common(p)
    p.add_argument("--save", help="PNG path (default: FIGURE-SCALE.png)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("data", help="the datasets")
    dsub = p.add_subparsers(dest="data_command", required=True)
    c = dsub.add_parser("check", help="what is present, what is missing, checksums")
    c.add_argument("--data-dir", help="data directory (default: $ADAMLAB_DATA or the cache)")
    c.add_argument("--no-hash", action="store_true", help="check sizes only (faster)")
    c.add_argument("--vendor-dir", help="third-party code such as SFO's sfo.py (default: "
                   "$ADAMLAB_VENDOR or the cache)")
    c.set_defaults(func=cmd_data)
    return ap


def main(argv: list[str] | None = None) -> int:
    # cuBLAS reads its workspace setting once per process, before any GPU work: set it first,
    # so that CUDA runs can be deterministic (see experiments.train.set_deterministic)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    args = build_parser().parse_args(argv)
    from .experiments.data import DataError
    try:
        return args.func(args)
    except (ValueError, DataError) as err:  # bad input or data: what is wrong and the fix
        print(f"adamlab: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
