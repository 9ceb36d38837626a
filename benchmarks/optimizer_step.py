"""Time one Adam step: adamlab's paths next to torch.optim.Adam's three, side by side.

    python benchmarks/optimizer_step.py                # CPU, and CUDA when present
    python benchmarks/optimizer_step.py --rounds 21 --sets mlp,large --devices cpu
    python benchmarks/optimizer_step.py --sets small --cold-cache   # first steps, nothing cached

Parameter sets: the paper's MLP (784-1000-1000-10, 6 tensors), 400 tensors of 64x64, one
4096x4096 tensor, and 300 small tensors of 1 to 1,000 elements (as a network's biases and
norms are). Every variant owns its optimizer state; all of them step the same parameters
with the same (fixed) gradients. In each round the variants run in a fresh random order, each
for a block of steps, so a slow spell of a shared machine lands on all of them; the figure
reported is the median over rounds of the time per step.

Next to the times: the effective bandwidth of each step (an Adam step reads p, g, m, v and
writes p, m, v: 28 bytes per float32 parameter) as a fraction of the bandwidth of a STREAM-like
triad a = b + s*c, timed in the same rounds over the same number of bytes with all the threads
torch uses (`--threads`). Each variant also records its first step (state creation and, for
the compiled and flat paths, building the kernel; `--cold-cache` starts from empty compile
caches) and, where `adamlab.fast.op_census` can see its operations, the bytes it moves per
parameter. Results go to benchmarks/results/optimizer_step-<device>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from adamlab import fast
from adamlab import flat as flat_step
from adamlab import optim as ours

RESULTS = Path(__file__).resolve().parent / "results"
BYTES_PER_PARAM = 28  # read p, g, m, v; write p, m, v; 4 bytes each
TRIAD_BYTES_PER_ELEMENT = 12  # read b, c; write a (STREAM's count, no write-allocate)

SETS = {
    "mlp": [(1000, 784), (1000,), (1000, 1000), (1000,), (10, 1000), (10,)],
    "many": [(64, 64)] * 400,
    "large": [(4096, 4096)],
    # sizes spread over 1..1000 by a fixed rule (337 and 1000 share no factor): 146,750 elements
    "small": [(1 + (k * 337) % 1000,) for k in range(300)],
}
SET_LABELS = {
    "mlp": "paper's MLP 784-1000-1000-10",
    "many": "400 tensors of 64x64",
    "large": "one 4096x4096 tensor",
    "small": "300 tensors of 1-1,000 elements",
}

VARIANTS = {
    "adamlab reference": lambda ps: ours.Adam(ps, impl="reference"),
    "adamlab inplace": lambda ps: ours.Adam(ps, impl="inplace"),
    "adamlab foreach": lambda ps: ours.Adam(ps, impl="foreach"),
    "adamlab compiled": lambda ps: ours.Adam(ps, impl="compiled"),
    "adamlab flat": lambda ps: ours.Adam(ps, impl="flat"),
    "torch foreach=False": lambda ps: torch.optim.Adam(ps, foreach=False),
    "torch foreach=True": lambda ps: torch.optim.Adam(ps, foreach=True),
    "torch fused=True": lambda ps: torch.optim.Adam(ps, fused=True),
}


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def machine(device: str) -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        info["cpu"] = names[0] if names else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
    return info


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def bench_set(name: str, device: str, rounds: int, block_s: float, seed: int,
              variants: list[str]) -> dict:  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=gen).to(device).requires_grad_() for s in SETS[name]]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen).to(device) * 1e-2
    n = sum(p.numel() for p in params)

    # the triad moves as many bytes as one Adam step
    n_triad = -(-BYTES_PER_PARAM * n // TRIAD_BYTES_PER_ELEMENT)
    a, b, c = (torch.rand(n_triad, generator=gen).to(device) for _ in range(3))

    def triad():
        torch.add(b, c, alpha=3.0, out=a)  # runs on torch's intra-op threads

    steppers, setup_s, census, builds = {}, {}, {}, {}
    for label in variants:
        opt = VARIANTS[label](params)
        builds[label] = label == "adamlab flat" and flat_step._LIB is None
        sync(device)
        t0 = time.perf_counter()
        opt.step()  # the first step creates the state (and builds the kernel: compiled, flat)
        sync(device)
        setup_s[label] = time.perf_counter() - t0
        for _ in range(2):
            opt.step()
        steppers[label] = opt.step
        if label not in ("adamlab compiled", "adamlab flat"):  # the census sees no further in
            census[label] = fast.op_census(opt.step)["bytes_moved"] / n
    steppers["triad"] = triad

    # steps per block: enough that one block lasts about block_s
    per_block = {}
    for label, fn in steppers.items():
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        per_block[label] = max(1, min(200, int(block_s / max(time.perf_counter() - t0, 1e-6))))

    samples = {label: [] for label in steppers}
    order = list(steppers)
    rng = random.Random(seed)
    load_before = load_average()
    for _ in range(rounds):
        rng.shuffle(order)
        for label in order:
            fn, k = steppers[label], per_block[label]
            sync(device)
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            sync(device)
            samples[label].append((time.perf_counter() - t0) / k)
    load_after = load_average()

    triad_s = statistics.median(samples["triad"])
    triad_bw = TRIAD_BYTES_PER_ELEMENT * n_triad / triad_s
    floor_s = BYTES_PER_PARAM * n / triad_bw
    fused = "torch fused=True" if "torch fused=True" in samples else None
    out = {}
    for label in variants:
        xs = sorted(samples[label])
        med = statistics.median(xs)
        bw = BYTES_PER_PARAM * n / med
        out[label] = {
            "median_ms": med * 1e3,
            "q1_ms": xs[len(xs) // 4] * 1e3,
            "q3_ms": xs[(3 * len(xs)) // 4] * 1e3,
            # the ratio in each round, then its median: robust to slow spells between rounds
            "ratio_to_fused": (statistics.median(x / f for x, f in zip(samples[label], samples[fused]))
                               if fused else None),  # fmt: skip
            "bandwidth_GBps": bw / 1e9,
            "fraction_of_triad": bw / triad_bw,
            "ratio_to_floor": med / floor_s,
            "first_step_s": setup_s[label],
            "steps_per_block": per_block[label],
            "samples_ms": [x * 1e3 for x in samples[label]],
        }
        if label in census:
            out[label]["census_bytes_per_param"] = census[label]
        if label == "adamlab flat":
            # the C loop reads p, g, m, v and writes p, m, v once; per tensor it reads its row of
            # the table (its start and four addresses, 40 bytes), reads and writes its step count
            # (8) and writes and reads its two bias corrections (16): 64 bytes
            out[label]["kernel_bytes_per_param"] = BYTES_PER_PARAM + 64 * len(params) / n
            out[label]["first_step_includes_kernel_build"] = builds[label]
    return {
        "label": SET_LABELS[name],
        "n_params": n,
        "n_tensors": len(params),
        "bytes_per_step": BYTES_PER_PARAM * n,
        "triad": {"median_ms": triad_s * 1e3, "bandwidth_GBps": triad_bw / 1e9,
                  "elements": n_triad},  # fmt: skip
        "floor_ms": floor_s * 1e3,
        "variants": out,
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def report(r: dict) -> None:
    print(f"  {r['label']}: {r['n_params']:,} parameters in {r['n_tensors']} tensors; "
          f"triad {r['triad']['bandwidth_GBps']:.1f} GB/s; "
          f"load {r['load_average_before']} -> {r['load_average_after']}")  # fmt: skip
    for label, v in r["variants"].items():
        ratio = "" if v["ratio_to_fused"] is None else f"x{v['ratio_to_fused']:6.2f}"
        print(f"    {label:22s} {v['median_ms']:9.3f} ms  {ratio}  {v['ratio_to_floor']:5.2f} x floor  "
              f"(first step {v['first_step_s']:.2f} s)")  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default="cpu,cuda", help="comma list; cuda is skipped if absent")
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma list of {', '.join(SETS)}")
    ap.add_argument("--rounds", type=int, default=15, help="rounds per set (median over rounds)")
    ap.add_argument("--block", type=float, default=0.05, help="seconds per timed block")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (default: torch's choice, all cores); on a "
                         "machine shared with other jobs, 1 avoids threads waiting on each other")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma list of the paths to time (default: all)")
    ap.add_argument("--cold-cache", action="store_true",
                    help="compile into fresh, empty caches (torch.compile's and adamlab.flat's), "
                         "so that first steps include building every kernel")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.cold_cache:
        import tempfile

        fresh = tempfile.mkdtemp(prefix="optimizer_step_cache_")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = fresh  # read when torch.compile first compiles
        os.environ["ADAMLAB_CACHE_DIR"] = os.path.join(fresh, "adamlab")
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    sets = args.sets.split(",")
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        ap.error(f"unknown set(s) {unknown}; choose from {list(SETS)}")
    devices = [d for d in args.devices.split(",") if d != "cuda" or torch.cuda.is_available()]
    for device in devices:
        stamp = datetime.now(timezone.utc)
        print(f"{device}: median time of one step (x ratio to torch fused; % of triad bandwidth)")
        results = {}
        path = args.out / f"optimizer_step-{device}-{stamp:%Y%m%dT%H%M%S}.json"
        for s in sets:
            results[s] = bench_set(s, device, args.rounds, args.block, args.seed, variants)
            report(results[s])
            save(path, device, stamp, args, argv, results)  # after every set: a partial run counts
        print(f"wrote {path}")


def save(path: Path, device: str, stamp: datetime, args, argv, results: dict) -> None:
    record = {
        "benchmark": "optimizer_step",
        "device": device,
        "machine": machine(device),
        "date_utc": stamp.isoformat(timespec="seconds"),
        "command": "python benchmarks/optimizer_step.py " + " ".join(argv or []),
        "rounds": args.rounds,
        "cold_cache": args.cold_cache,
        "block_s": args.block,
        "sets": results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
