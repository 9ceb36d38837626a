"""Build the student and autograder versions of the assignments with otter-grader.

    python assignments/build.py [hw1_ema ...] [--out dist] [--no-run-tests]

Each master ``assignments/<name>/<name>.md`` (a MyST notebook) is copied with its support
files to a scratch folder, converted to ``.ipynb`` with jupytext, and given to
``otter assign``, which writes ``<out>/<name>/student/`` (hand this out) and
``<out>/<name>/autograder/`` (the solution notebook and the autograder zip; keep it private).
``otter assign`` also executes the solution and runs every test against it, so a build that
succeeds is a solution that passes. Assignment 4 reads MNIST from ``$ADAMLAB_DATA/mnist``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEEDS_DATA = {"hw4_logreg"}


def masters() -> list[Path]:
    return sorted(p / f"{p.name}.md" for p in HERE.glob("hw*") if (p / f"{p.name}.md").exists())


def build(master: Path, out: Path, env: dict | None = None, run_tests: bool = True) -> dict:
    """Build one master into ``out`` (replaced if present); returns the paths of the results."""
    import jupytext
    import nbformat

    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix=f"{master.stem}-") as scratch:
        work = Path(scratch) / master.stem
        shutil.copytree(master.parent, work,
                        ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", "README.md",
                                                      "planted_bugs.py"))
        notebook = work / f"{master.stem}.ipynb"
        nbformat.write(jupytext.read(work / master.name), notebook)
        cmd = [sys.executable, "-m", "otter", "assign", notebook.name, str(out)]
        if not run_tests:
            cmd.append("--no-run-tests")
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"otter assign failed for {master.name} (exit {proc.returncode}):\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return {
        "dist": out,
        "student": out / "student" / f"{master.stem}.ipynb",
        "solution": out / "autograder" / f"{master.stem}.ipynb",
        "zip": next((out / "autograder").glob("*.zip")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    parser.add_argument("--out", default="dist", help="output folder (default: dist)")
    parser.add_argument("--no-run-tests", action="store_true",
                        help="skip executing the solution (faster; nothing is checked)")
    args = parser.parse_args(argv)
    try:
        import otter  # noqa: F401
    except ImportError:
        sys.exit("otter-grader is not installed: run `make assign-deps` "
                 "(pip install -r requirements-assign.txt)")
    chosen = masters()
    if args.names:
        unknown = set(args.names) - {m.stem for m in chosen}
        if unknown:
            sys.exit(f"no assignment named {sorted(unknown)}; there are {[m.stem for m in chosen]}")
        chosen = [m for m in chosen if m.stem in args.names]
    if not args.no_run_tests and "ADAMLAB_DATA" not in os.environ and any(
            m.stem in NEEDS_DATA for m in chosen):
        sys.exit("hw4_logreg executes on MNIST: set ADAMLAB_DATA to the folder that holds "
                 "mnist/*.gz, or pass --no-run-tests to build without executing the solution")
    for master in chosen:
        result = build(master, Path(args.out) / master.stem, run_tests=not args.no_run_tests)
        print(f"{master.stem}: hand out {result['student'].parent}/, "
              f"grade with {result['zip']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
