"""Build the student and autograder versions of the assignments with otter-grader.

    python assignments/build.py [hw1_ema ...] [--out dist] [--no-run-tests]

Each master ``assignments/<name>/<name>.md`` (a MyST notebook) is copied with its support
files to a scratch folder, converted to ``.ipynb`` with jupytext, and given to
``otter assign``, which writes ``<out>/<name>/student/`` (hand this out) and
``<out>/<name>/autograder/`` (the solution notebook and the autograder zip; keep it private).
``otter assign`` also executes the solution and runs every test against it, so a build that
succeeds is a solution that passes.

The autograder carries everything grading needs beyond its Python packages (listed in
``requirements-grader.txt``, which otter puts in the zip's environment): the hidden tests hold
their own reference computations, and Assignment 4's zip holds the four MNIST files, copied from
``--data-dir`` (default ``$ADAMLAB_DATA``) after their checksums are verified.
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
MNIST = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
GRADER_REQUIREMENTS = HERE / "requirements-grader.txt"


def copy_mnist(data_root: Path, dest: Path, verify: bool = True) -> None:
    """Copy the four MNIST files into ``dest/mnist``, checking each against its published sha256
    (``verify=False`` is for stand-in data in the tests)."""
    source = Path(data_root).expanduser() / "mnist"
    missing = [name for name in MNIST if not (source / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"hw4_logreg's autograder carries MNIST, but {source} lacks {', '.join(missing)}: pass "
            "--data-dir (or set ADAMLAB_DATA) to the folder that holds mnist/*.gz; "
            "`adamlab data check` says what is there")
    if verify:
        from adamlab.experiments.data import files

        for name in MNIST:
            raw = next(r for r in files.FILES.values() if r.relpath == f"mnist/{name}")
            files.verify(raw, source / name)
    (dest / "mnist").mkdir(parents=True)
    for name in MNIST:
        shutil.copy2(source / name, dest / "mnist" / name)


def masters() -> list[Path]:
    return sorted(p / f"{p.name}.md" for p in HERE.glob("hw*") if (p / f"{p.name}.md").exists())


def build(master: Path, out: Path, env: dict | None = None, run_tests: bool = True,
          data_root: str | os.PathLike | None = None, verify_data: bool = True) -> dict:
    """Build one master into ``out`` (replaced if present); returns the paths of the results.

    ``data_root`` (default ``$ADAMLAB_DATA`` of ``env``) is where an assignment that needs data
    finds it; the autograder gets its own copy."""
    import jupytext
    import nbformat

    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix=f"{master.stem}-") as scratch:
        work = Path(scratch) / master.stem
        shutil.copytree(master.parent, work,
                        ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", "README.md",
                                                      "planted_bugs.py", "tune_rates.py"))
        shutil.copy2(GRADER_REQUIREMENTS, work / "requirements.txt")  # otter reads it from there
        if master.stem in NEEDS_DATA:
            root = data_root or (env if env is not None else os.environ).get("ADAMLAB_DATA")
            if not root:
                raise FileNotFoundError(
                    f"{master.stem}'s autograder carries MNIST: pass --data-dir or set ADAMLAB_DATA "
                    "to the folder that holds mnist/*.gz")
            copy_mnist(Path(root), work, verify=verify_data)
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
    parser.add_argument("--data-dir", default=os.environ.get("ADAMLAB_DATA"),
                        help="folder holding mnist/*.gz, for hw4_logreg (default: $ADAMLAB_DATA)")
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
    if not args.data_dir and any(m.stem in NEEDS_DATA for m in chosen):
        sys.exit("hw4_logreg's autograder carries MNIST: pass --data-dir or set ADAMLAB_DATA to "
                 "the folder that holds mnist/*.gz (or build the others: name them)")
    for master in chosen:
        try:
            result = build(master, Path(args.out) / master.stem, run_tests=not args.no_run_tests,
                           data_root=args.data_dir)
        except Exception as error:  # a data problem (DataError, missing file) or otter's failure
            sys.exit(f"{master.stem}: {error}")
        print(f"{master.stem}: hand out {result['student'].parent}/, "
              f"grade with {result['zip']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
