"""``adamlab``: run the paper's experiments from the command line.

    adamlab list
    adamlab run fig1-mnist --scale quick
    adamlab tune fig1-imdb --scale paper            # the grid on one seed; keeps the best
    adamlab run fig1-imdb --scale paper --tuned     # then every seed at the chosen settings
    adamlab run fig3 --scale paper --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
    adamlab plot fig1-mnist --scale quick --save fig1.png
    adamlab data check
"""

from __future__ import annotations

import argparse
import json
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
    """Paper- and cpu-scale summaries go to results/ (committed); quick runs to runs/ (ignored)."""
    return Path(args.out) if args.out else Path("runs" if args.scale == "quick" else "results")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("figure", nargs="+", help="figure panels (see `adamlab list`), or 'all'")
    p.add_argument("--scale", choices=("quick", "cpu", "paper"), default="quick",
                   help="quick (minutes, CI), cpu (Figs. 2-4: hours on a CPU), paper")
    p.add_argument("--out", help="results store (default: results/ for paper, runs/ for quick)")
    p.add_argument("--data-dir", help="data directory (default: $ADAMLAB_DATA or the cache)")


def _figures(names):
    from .experiments import specs
    names = list(specs.FIGURES) if names == ["all"] else names
    return [specs.get(n) for n in names]


def _set_threads(n):
    if n:
        import torch
        torch.set_num_threads(n)


def cmd_list(args) -> int:
    from .experiments import specs, sweep
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


def _tuned(folder: Path) -> dict | None:
    path = folder / "tuned.json"
    if not path.exists():
        raise ValueError(f"{path} not found; run `adamlab tune` for this figure first")
    return {k: v["setting"] for k, v in json.loads(path.read_text()).items()}


def cmd_run(args) -> int:
    from .experiments import sweep
    _set_threads(args.threads)
    i, n = sweep.parse_shard(args.shard)
    for fig in _figures(args.figure):
        folder = sweep.store_dir(_out(args), fig.name, args.scale)
        only = None
        if args.tuned or args.tuned_from:
            scale = args.tuned_from or args.scale
            src = Path(args.tuned_dir) if args.tuned_dir else _out(
                argparse.Namespace(out=args.out, scale=scale))
            only = _tuned(sweep.store_dir(src, fig.name, scale))
        cfgs = sweep.shard(fig.runs(args.scale, seeds=args.seeds, only=only), i, n)
        print(f"{fig.name} ({args.scale}, shard {i}/{n}):", end=" ")
        sweep.run_sweep(cfgs, folder, device=args.device, jobs=args.jobs,
                        data_root=args.data_dir, progress=None if not args.quiet else False)
    return 0


def cmd_tune(args) -> int:
    from .experiments import plot, sweep
    from .experiments.train import write_json_atomic
    _set_threads(args.threads)
    for fig in _figures(args.figure):
        folder = sweep.store_dir(_out(args), fig.name, args.scale)
        cfgs = fig.runs(args.scale, seeds=(args.seed,))
        results = sweep.run_sweep(cfgs, folder, device=args.device, jobs=args.jobs,
                                  data_root=args.data_dir)
        best = plot.best_settings(results)
        write_json_atomic(folder / "tuned.json", best)
        for label, b in best.items():
            print(f"  {label:<28} best {b['setting']}  final cost {b['final']:.4g}")
    return 0


def cmd_plot(args) -> int:
    from .experiments import plot
    for fig in _figures(args.figure):
        folder = Path(_out(args)) / fig.name / args.scale
        figure = plot.plot_figure(fig.name, folder)
        target = args.save or f"{fig.name}-{args.scale}.png"
        if len(args.figure) > 1 and args.save:
            target = str(Path(args.save).with_stem(f"{Path(args.save).stem}-{fig.name}"))
        figure.savefig(target, dpi=120, bbox_inches="tight")
        print(f"wrote {target}")
    return 0


def cmd_data(args) -> int:
    from .experiments import data
    rows = data.check(args.data_dir, hash=not args.no_hash)
    print(data.format_check(rows, args.data_dir))
    return 1 if any(r["status"] not in ("ok", "size ok", "missing") for r in rows) else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="adamlab",
                                 description="The experiments of Kingma & Ba (2015).")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help=(
        "the figure panels, their scales, the runs planned (Fig. 4: its grid on every seed; "
        "the others: the grid on seed 0, then the best on every seed), how many are done and "
        "the time they took"))
    p.add_argument("--out", help="results store (default: results/ for paper, runs/ for quick)")
    p.add_argument("--markdown", action="store_true",
                   help="a Markdown table of the finished sweeps and their measured times")
    p.set_defaults(func=cmd_list)

    commands = (("run", cmd_run, "run (or resume) a figure's sweep"),
                ("tune", cmd_tune, "run a figure's grid on one seed, keep the best"))
    for name, func, helptext in commands:
        p = sub.add_parser(name, help=helptext)
        _common(p)
        p.add_argument("--device", default="auto",
                       help="auto (cuda, then mps, then cpu), cpu, cuda:1")
        p.add_argument("--jobs", type=_positive, default=1, help="runs at once on this machine")
        p.add_argument("--threads", type=_positive, help="torch CPU threads per process")
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

    p = sub.add_parser("plot", help="draw a figure in the paper's layout from a results store")
    _common(p)
    p.add_argument("--save", help="PNG path (default: FIGURE-SCALE.png)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("data", help="the datasets")
    dsub = p.add_subparsers(dest="data_command", required=True)
    c = dsub.add_parser("check", help="what is present, what is missing, checksums")
    c.add_argument("--data-dir", help="data directory (default: $ADAMLAB_DATA or the cache)")
    c.add_argument("--no-hash", action="store_true", help="check sizes only (faster)")
    c.set_defaults(func=cmd_data)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .experiments.data import DataError
    try:
        return args.func(args)
    except (ValueError, DataError) as err:  # bad input or data: what is wrong and the fix
        print(f"adamlab: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
