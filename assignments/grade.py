"""Grade submissions on your own machine (a JupyterHub, a laptop) as Gradescope would.

    python assignments/grade.py dist/hw1_ema/autograder/*.zip submissions/*/hw1_ema.ipynb

Gradescope installs an autograder zip's packages (its ``environment.yml``) into a fresh
environment and grades each notebook there, with nothing of the course's own machine on the
path. This script does the same without Docker or conda: it makes a virtual environment from the
zip's package list (once; ``--env``, default ``dist/grader-env``), then runs ``otter run`` in it
for each submission, with ``ADAMLAB_DATA``, ``PYTHONPATH`` and the user's Jupyter kernels out of
reach. It writes ``<out>/<submission>/results.json`` and prints one line per submission.

A grading that fails (the autograder is incomplete, a kernel dies) is reported as a grading
error, exit status 2, never as a score. Questions graded by hand are listed with their points.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ENV = ROOT / "dist" / "grader-env"


class GradingError(RuntimeError):
    """The grading itself failed: nothing is known about the submission."""


def requirements_of(zip_path: Path) -> list[str]:
    """The pip requirements of an otter autograder zip (the ``pip:`` list of its environment.yml)."""
    with zipfile.ZipFile(zip_path) as z:
        lines = z.read("environment.yml").decode().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
    found = []
    for line in lines[start + 1:]:
        if len(line) - len(line.lstrip()) != indent or not line.strip().startswith("- "):
            break
        found.append(line.strip()[2:].strip())
    return found


def ensure_env(zip_paths: list[Path], env_dir: Path = DEFAULT_ENV) -> Path:
    """A virtual environment with the packages of every zip; made again when they change.
    Returns its Python."""
    wanted = sorted({r for z in zip_paths for r in requirements_of(Path(z))})
    env_dir = Path(env_dir)
    python = env_dir / "bin" / "python"
    stamp = env_dir / "requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text().split("\n") == wanted:
        return python
    if env_dir.exists():
        shutil.rmtree(env_dir)
    venv.create(env_dir, with_pip=True)
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise GradingError(f"could not install the grading packages {wanted}:\n{proc.stderr[-3000:]}")
    stamp.write_text("\n".join(wanted))
    return python


def clean_environ(python: Path, scratch: Path) -> dict:
    """Only what grading needs: the environment's own bin first on PATH, an empty Jupyter data
    directory (so no kernel of the user's is picked), a non-interactive matplotlib."""
    keep = {k: os.environ[k] for k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER") if k in os.environ}
    return dict(keep, PATH=f"{python.parent}:/usr/bin:/bin", MPLBACKEND="Agg",
                JUPYTER_DATA_DIR=str(scratch / "jupyter-data"), JUPYTER_PATH="",
                PYTHONNOUSERSITE="1", PYDEVD_DISABLE_FILE_VALIDATION="1")


def grade(zip_path: Path, notebook: Path, out: Path, python: Path) -> dict:
    """Grade one notebook with ``otter run`` in the grading environment; returns results.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        # the notebook alone, as a student submits it: nothing beside it but what the zip carries
        submission = Path(scratch) / "submission"
        submission.mkdir()
        shutil.copy2(notebook, submission / notebook.name)
        cmd = [str(python), "-m", "otter", "run", "-a", str(Path(zip_path).resolve()),
               "-o", str(out.resolve()), str(submission / notebook.name)]
        proc = subprocess.run(cmd, cwd=scratch, env=clean_environ(python, Path(scratch)),
                              capture_output=True, text=True)
        if proc.returncode != 0 and "Kernel didn't respond" in proc.stdout + proc.stderr:
            # the kernel did not start in time (machine load), which says nothing of the work
            proc = subprocess.run(cmd, cwd=scratch, env=clean_environ(python, Path(scratch)),
                                  capture_output=True, text=True)
    results = out / "results.json"
    if proc.returncode != 0 or not results.exists():
        output = proc.stdout + proc.stderr
        reasons = [line for line in output.splitlines() if line.startswith("GRADING ERROR")]
        raise GradingError(f"grading {notebook} failed (exit {proc.returncode}); the submission "
                           "was not graded. " + " ".join(reasons) + f"\n{output[-3000:]}")
    return json.loads(results.read_text())


def manual_questions(notebook: Path) -> dict[str, float]:
    """Questions graded by hand and their points, from the question headers of the notebook."""
    found = re.finditer(r"\*\*Question (\d+) \((\d+) points?, graded by hand\)",
                        Path(notebook).read_text())
    return {f"q{m.group(1)}": float(m.group(2)) for m in found}


def summary(results: dict) -> tuple[float, float, dict[str, tuple[float, float]]]:
    tests = [t for t in results["tests"] if t.get("max_score")]
    per = {t["name"]: (t.get("score") or 0.0, t["max_score"]) for t in tests}
    return sum(s for s, _ in per.values()), sum(m for _, m in per.values()), per


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zip", type=Path, help="the autograder zip (dist/<name>/autograder/*.zip)")
    parser.add_argument("notebooks", nargs="+", type=Path, help="submitted notebooks")
    parser.add_argument("--out", type=Path, default=Path("graded"),
                        help="results folder, one sub-folder per submission (default: graded)")
    parser.add_argument("--env", type=Path, default=DEFAULT_ENV,
                        help=f"the grading environment (default: {DEFAULT_ENV.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    try:
        python = ensure_env([args.zip], args.env)
    except GradingError as error:
        print(f"GRADING ERROR: {error}", file=sys.stderr)
        return 2
    failed = 0
    for notebook in args.notebooks:
        # submissions/<student>/<name>.ipynb: the folder names the student
        name = notebook.parent.name if notebook.parent != Path(".") else notebook.stem
        try:
            got, possible, per = summary(grade(args.zip, notebook, args.out / name, python))
        except GradingError as error:
            failed += 1
            print(f"{name}: GRADING ERROR, not graded: {str(error).splitlines()[0]}", file=sys.stderr)
            continue
        by_hand = manual_questions(notebook)
        questions = ", ".join(f"{q} {s:g}/{m:g}" for q, (s, m) in per.items())
        hand = "".join(f"; {q} ({m:g} points) by hand" for q, m in by_hand.items())
        print(f"{name}: {got:g}/{possible:g} autograded ({questions}){hand}")
    return 2 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
