"""The course assignments in ``assignments/``: each master builds with otter-grader, the student
version leaks no solution, and, graded as Gradescope grades them (``otter run`` in an environment
made only from the autograder zip's package list: no ``ADAMLAB_DATA``, no book library, no
checkout on the path), the solution scores full marks, the blank version zero, and every planted
classic mistake loses the points of the questions it should, with the message meant for it.

otter-grader is optional (it is heavy): ``make assign-deps`` installs ``requirements-assign.txt``.
These tests are slow (about half a minute of notebook execution per assignment), so the
assignments are built and graded in parallel.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

otter = pytest.importorskip(
    "otter",
    reason="otter-grader is not installed: run `make assign-deps` "
    "(pip install -r requirements-assign.txt) to test the course assignments",
)
jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")
from otter.test_files import ExceptionTestFile  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "assignments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _load("build")
grader = _load("grade")
MASTERS = builder.masters()
OTTER = [sys.executable, "-m", "otter"]
# Each grading starts a kernel that imports torch; more of them than cores can push a kernel's
# start past nbclient's 60-second limit on a loaded 2-core machine.
WORKERS = min(4, os.cpu_count() or 1)

pytestmark = pytest.mark.slow


def _bugs(master: Path) -> list[dict]:
    path = master.parent / "planted_bugs.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"planted_bugs_{master.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [dict(bug, master=master) for bug in module.BUGS]


BUGS = [bug for master in MASTERS for bug in _bugs(master)]
# mistakes that show only where the book's library is absent, as on the grader
HOST_BUGS = [bug for bug in BUGS if not bug.get("grader_only")]


# --------------------------------------------------------------------------------------------
# Small stand-in data: a valid MNIST directory in IDX format with a few hundred random images,
# so that the replication assignment executes in seconds and without the real data set.
# --------------------------------------------------------------------------------------------


def _write_idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _tiny_mnist(root: Path, n_train: int = 600, n_test: int = 100) -> Path:
    rng = np.random.default_rng(0)
    folder = root / "mnist"
    folder.mkdir(parents=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, size=n)
        # each class lights up its own band of rows, plus noise: learnable but not trivial
        images = rng.integers(0, 60, size=(n, 28, 28))
        for k in range(10):
            images[labels == k, 2 * k + 3 : 2 * k + 6, 4:24] += 150
        _write_idx(folder / f"{split}-images-idx3-ubyte.gz", np.clip(images, 0, 255))
        _write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return root


# --------------------------------------------------------------------------------------------
# Building and grading
# --------------------------------------------------------------------------------------------


def _env(data_root: Path) -> dict:
    env = dict(os.environ, ADAMLAB_DATA=str(data_root), MPLBACKEND="Agg")
    env.pop("JPY_PARENT_PID", None)
    return env


def scores(results: dict) -> tuple[float, float]:
    tests = [t for t in results["tests"] if t.get("max_score")]
    return sum(t["score"] or 0 for t in tests), sum(t["max_score"] for t in tests)


def lost(results: dict) -> set[str]:
    """The questions that did not get full marks."""
    return {t["name"] for t in results["tests"] if t.get("max_score") and (t["score"] or 0) < t["max_score"]}


def planted(solution: Path, bug: dict, folder: Path) -> Path:
    """The solution notebook with ``bug`` planted: its code in a new cell right after the cell
    that defines the function, or in place of that cell (``replaces``)."""
    nb = nbformat.read(solution, 4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and re.search(rf"^def {bug['function']}\(", cell.source, re.M):
            if bug.get("replaces"):
                cell.source = bug["code"]
            else:
                nb.cells.insert(i + 1, nbformat.v4.new_code_cell(bug["code"]))
            break
    else:
        raise AssertionError(f"no cell of {solution.name} defines {bug['function']}")
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / solution.name)
    return folder / solution.name


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict:
    """Every master built once (hw4's autograder carrying a stand-in MNIST), the grading
    environment made from the zips' package lists, and every master's solution, blank student
    version and planted mistakes graded there."""
    base = tmp_path_factory.mktemp("assignments")
    data = _tiny_mnist(base / "data")
    env = _env(data)
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {m: pool.submit(builder.build, m, base / m.stem / "dist", env, True, data, False)
                   for m in MASTERS}
        result = {m: f.result() for m, f in futures.items()}
        python = grader.ensure_env([b["zip"] for b in result.values()], grader.DEFAULT_ENV)
        graded = {
            (m, kind): pool.submit(grader.grade, b["zip"], b[kind], base / m.stem / f"graded-{kind}",
                                   python)
            for m, b in result.items()
            for kind in ("solution", "student")
        }
        bugs = {
            (bug["master"], bug["name"]): pool.submit(
                grader.grade, result[bug["master"]]["zip"],
                planted(result[bug["master"]]["solution"], bug, base / "bugs" / f"{i}"),
                base / "bugs" / f"{i}-graded", python)
            for i, bug in enumerate(BUGS)
        }
        for (m, kind), f in graded.items():
            result[m][f"results_{kind}"] = f.result()
        result["bugs"] = {key: f.result() for key, f in bugs.items()}
    result["env"] = env
    result["data"] = data
    result["python"] = python
    return result


def test_there_are_four_masters_with_readmes():
    names = [m.parent.name for m in MASTERS]
    assert len(MASTERS) >= 4, f"expected at least four assignment masters, found {names}"
    for m in MASTERS:
        assert m.exists(), f"{m.parent} has no master named {m.name}"
        readme = (m.parent / "README.md").read_text()
        for needed in ("Learning goals", "Points", "Expected time", "book/"):
            assert needed in readme, f"{m.parent.name}/README.md does not mention {needed!r}"


# --------------------------------------------------------------------------------------------
# No solution in the student version
# --------------------------------------------------------------------------------------------


def _solution_lines(master: Path) -> set[str]:
    """Every line of solution text in a master: code between in-cell markers, lines marked
    ``# SOLUTION``, and whole Markdown solution cells, minus text that also appears outside
    the solutions (a question may spell out a line on purpose) and lines too short to identify."""
    nb = jupytext.read(master)
    inside, given = [], []
    in_block = False
    for cell in nb.cells:
        src = cell.source
        if cell.cell_type == "raw":
            if re.match(r"#\s*BEGIN\s+SOLUTION", src.strip(), re.I):
                in_block = True
            elif re.match(r"#\s*END\s+SOLUTION", src.strip(), re.I):
                in_block = False
            continue
        if not in_block:
            given.extend(src.splitlines())
            continue
        if cell.cell_type == "markdown":
            inside.extend(src.splitlines())
            continue
        in_code_block = False
        for line in src.splitlines():
            if re.match(r"\s*#\s*BEGIN\s+SOLUTION", line, re.I):
                in_code_block = True
            elif re.match(r"\s*#\s*END\s+SOLUTION", line, re.I):
                in_code_block = False
            elif in_code_block:
                inside.append(line)
            elif re.search(r"#\s*SOLUTION\s*$", line):
                inside.append(re.sub(r"#\s*SOLUTION\s*$", "", line))
            else:
                given.append(line)
    given_text = "\n".join(given)  # what the questions and the skeletons show anyway
    return {
        line.strip() for line in inside
        if len(line.strip()) >= 12 and line.strip() not in given_text
    }


# otter's own raw-cell markers (it keeps an HTML comment <!-- BEGIN QUESTION --> around manual
# questions, on purpose, to cut the PDF; that one is not a leak)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "# SOLUTION", "BEGIN TESTS", "BEGIN TEST CONFIG",
           "# BEGIN QUESTION", "ASSIGNMENT CONFIG")


def leaks(solution: set[str], notebook) -> list[str]:
    """Every (cell, marker or solution line) found in the text of the notebook's cells."""
    found = []
    for i, cell in enumerate(notebook.cells):
        found += [f"cell {i}: marker {m!r}" for m in MARKERS if m in cell.source]
        found += [f"cell {i}: {line!r}" for line in solution if line in cell.source]
    return found


def test_leak_check_finds_a_solution(built):
    """The check below is not vacuous: on the solution notebook it finds every assignment's
    solution, as it would in a student notebook whose solution cells were marked wrongly."""
    for master in MASTERS:
        solution_nb = nbformat.read(built[master]["solution"], 4)
        assert leaks(_solution_lines(master), solution_nb), master.stem


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.parent.name)
def test_student_version_has_no_solution(master, built):
    solution = _solution_lines(master)
    assert len(solution) >= 3, f"found only {len(solution)} solution lines in {master.name}"
    found = leaks(solution, nbformat.read(built[master]["student"], 4))
    assert not found, (
        f"the student version of {master.stem} leaks its solution (is every solution cell "
        "between raw BEGIN/END SOLUTION cells?):\n" + "\n".join(found)
    )
    # hidden tests travel only in the autograder zip, never in the student's notebook
    with zipfile.ZipFile(built[master]["zip"]) as z:
        cases = [case for f in z.namelist() if f.startswith("tests/")
                 for case in z.read(f).decode().split("@test_case(")[1:]]
    hidden = [re.search(r"def (\w+)\(", case).group(1) for case in cases if "hidden=True" in case]
    assert hidden, f"{master.stem} has no hidden tests"
    raw = built[master]["student"].read_text()
    for name in hidden:
        assert f"def {name}(" not in raw, f"the hidden test {name} is in the student {master.stem}"


# --------------------------------------------------------------------------------------------
# Full marks for the solution, zero for the blank
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.parent.name)
def test_solution_scores_full_marks(master, built):
    got, total = scores(built[master]["results_solution"])
    assert total > 0 and got == total, (
        f"the solution of {master.stem} scores {got}/{total} under otter run:\n"
        + json.dumps(built[master]["results_solution"], indent=1)[:4000]
    )


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.parent.name)
def test_blank_student_version_scores_zero(master, built):
    got, total = scores(built[master]["results_student"])
    assert total > 0 and got == 0, f"the blank student {master.stem} scores {got}/{total}, not 0"


def test_students_see_public_checks_now_and_every_check_after_publication(built):
    """What Gradescope shows: the summary of the public checks as soon as a student submits,
    each question's score and every message (hidden checks' too) once grades are published."""
    for master in MASTERS:
        for kind in ("solution", "student"):
            tests = built[master][f"results_{kind}"]["tests"]
            summary = [t for t in tests if t["name"] == "Public Tests"]
            assert summary and summary[0]["visibility"] == "visible", (master.stem, kind)
            questions = [t for t in tests if t.get("max_score")]
            assert questions and all(t["visibility"] == "after_published" for t in questions), (
                master.stem, kind, [(t["name"], t["visibility"]) for t in questions])


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: f"{b['master'].parent.name}: {b['name']}")
def test_planted_mistake_costs_the_points_it_should(bug, built):
    """The solution with one mistake, graded whole in the grading environment: exactly the
    questions the mistake should cost lose points, and one of them says the mistake's message.
    A submission that leans on the book's library (absent on the grader) is such a mistake."""
    solution = nbformat.read(built[bug["master"]]["solution"], 4)
    costs = set(bug.get("costs") or [_question_of(solution, bug["function"])])
    results = built["bugs"][(bug["master"], bug["name"])]
    assert lost(results) == costs, (
        f"{bug['name']!r} cost points in {sorted(lost(results))}, expected {sorted(costs)}:\n"
        + json.dumps(results, indent=1)[:4000])
    outputs = " ".join(t["output"] for t in results["tests"] if t["name"] in costs)
    message = bug.get("grader_message", bug["message"])
    assert message in outputs, (
        f"{bug['name']!r} loses its points, but no message says {message!r}:\n{outputs[:4000]}")


def test_library_is_absent_from_the_grading_environment(built):
    """The premise of the grader-only mistakes: the grading environment cannot import the book's
    library, so a submission that calls it gets nothing from it."""
    proc = subprocess.run([str(built["python"]), "-c", "import adamlab"], capture_output=True,
                          text=True, env=grader.clean_environ(built["python"], Path("/nonexistent")))
    assert proc.returncode != 0 and "No module named 'adamlab'" in proc.stderr, proc.stderr


def test_missing_data_is_a_grading_error_not_a_score(built, tmp_path):
    """An hw4 autograder without its MNIST fails the grading loudly, naming the grader as the
    cause, and writes no score for the student."""
    master = next(m for m in MASTERS if m.stem == "hw4_logreg")
    broken = tmp_path / "no-data.zip"
    with zipfile.ZipFile(built[master]["zip"]) as z, zipfile.ZipFile(broken, "w") as out:
        for item in z.infolist():
            if not item.filename.startswith("files/mnist/"):
                out.writestr(item, z.read(item.filename))
    with pytest.raises(grader.GradingError, match=r"GRADING ERROR \(not the student's\).*mnist"):
        grader.grade(broken, built[master]["solution"], tmp_path / "graded", built["python"])
    assert not (tmp_path / "graded" / "results.json").exists()


@pytest.mark.parametrize("master", MASTERS, ids=lambda p: p.parent.name)
def test_student_notebook_runs_with_only_the_student_packages(master, built, tmp_path):
    """The handed-out folder, run top to bottom in a fresh kernel of an environment without the
    book's library, as a student who installed requirements-student.txt would: no cell fails
    (blank answers only make the checks report what is missing). hw4 reads MNIST from a folder
    mnist/ next to the notebook, as its text tells students."""
    student = tmp_path / "student"
    shutil.copytree(built[master]["student"].parent, student)
    if master.stem in builder.NEEDS_DATA:
        shutil.copytree(built["data"] / "mnist", student / "mnist")
    wanted = (ROOT / "assignments" / "requirements-student.txt").read_text()
    have = grader.requirements_of(built[master]["zip"])
    for line in wanted.splitlines():
        name = line.split("==")[0].strip()
        if name and not name.startswith("#"):
            assert any(r.split("[")[0].split("==")[0] == name for r in have), (name, have)
    env = grader.clean_environ(built["python"], tmp_path)
    proc = subprocess.run(
        [str(built["python"]), "-m", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=600", "--output", "ran.ipynb", built[master]["student"].name],
        cwd=student, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ran = nbformat.read(student / "ran.ipynb", 4)
    errors = [o for c in ran.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors[:2]


# --------------------------------------------------------------------------------------------
# Planted bugs: the solution with one classic bug, graded by otter's own test runner
# --------------------------------------------------------------------------------------------


def _question_of(notebook, function: str) -> str:
    """The question (``qN``) whose solution cell defines ``function``."""
    found = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and re.search(rf"^def {function}\(", cell.source, re.M):
            found = True
        m = re.search(r'grader\.check\("(\w+)"\)', cell.source)
        if found and m:
            return m.group(1)
    raise AssertionError(f"no question defines {function}")


def run_with_bug(built_one: dict, bug: dict, env: dict) -> list[tuple[bool, str]]:
    """Execute the solution with ``bug`` planted right after the cell that defines its
    function, up to that question's check; then run the question's test file (hidden tests
    included) with otter's runner. Returns (passed, message) for every test case."""
    nb = nbformat.read(built_one["solution"], 4)
    question = _question_of(nb, bug["function"])
    namespace: dict = {"__name__": "__main__"}
    old_cwd, old_env = Path.cwd(), dict(os.environ)
    os.chdir(built_one["solution"].parent)
    sys.path.insert(0, str(built_one["solution"].parent))  # support files such as mnist_idx.py
    os.environ.update({k: env[k] for k in ("ADAMLAB_DATA", "MPLBACKEND")})
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if f'grader.check("{question}")' in cell.source:
                break
            if "otter" in cell.source or "grader." in cell.source:
                continue
            defines = re.search(rf"^def {bug['function']}\(", cell.source, re.M)
            if not (defines and bug.get("replaces")):
                exec(compile(cell.source, "<solution cell>", "exec"), namespace)
            if defines:
                exec(compile(bug["code"], "<planted bug>", "exec"), namespace)
        with zipfile.ZipFile(built_one["zip"]) as z:
            source = z.read(f"tests/{question}.py").decode()
        tests = ExceptionTestFile.from_string(source, path=f"tests/{question}.py")
        tests.run(namespace)
    finally:
        sys.path.remove(str(built_one["solution"].parent))
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
    return [(r.passed, r.message) for r in tests.test_case_results]


@pytest.mark.parametrize("bug", HOST_BUGS, ids=lambda b: f"{b['master'].parent.name}: {b['name']}")
def test_planted_bug_is_caught_with_its_message(bug, built):
    outcomes = run_with_bug(built[bug["master"]], bug, built["env"])
    failures = [message for passed, message in outcomes if not passed]
    assert failures, f"the planted bug {bug['name']!r} passes every test of its question"
    assert any(bug["message"] in message for message in failures), (
        f"the planted bug {bug['name']!r} fails, but no failure says {bug['message']!r}:\n"
        + "\n---\n".join(failures)
    )


def test_planted_bugs_cover_the_issue():
    """The classic Adam bugs the assignment promises to catch are all planted."""
    names = {b["name"] for b in BUGS}
    for needed in ("step counter advanced per parameter", "eps inside the square root",
                   "eps added before the bias correction",
                   "bias correction multiplied instead of divided",
                   "bias correction applied in place to the stored moments"):
        assert needed in names, f"no planted bug named {needed!r}"


# --------------------------------------------------------------------------------------------
# No check fails a correct solution, whatever its random inputs
# --------------------------------------------------------------------------------------------

HW3 = [m for m in MASTERS if m.parent.name == "hw3_adam"]
SEED_STREAMS = 100


def _shifted_rng(monkeypatch, shift: int, seeds: list) -> None:
    """Make every ``np.random.default_rng(seed)`` the checks call draw another stream; the
    seeds asked for are appended to ``seeds``."""
    original = np.random.default_rng

    def default_rng(seed=None):
        seeds.append(seed)
        return original(seed if seed is None else [shift, seed])

    monkeypatch.setattr(np.random, "default_rng", default_rng)


@pytest.mark.parametrize("master", HW3, ids=lambda p: p.parent.name)
def test_checks_pass_the_solution_on_every_draw(master, built, monkeypatch):
    """Every check of hw3, hidden ones included, passes the reference solution on
    SEED_STREAMS different draws of its random inputs, not only on the one it ships with; and
    the AdaMax bound check, on the same draws, still fails steps that exceed the bound (so that
    the draws are really fed to it)."""
    too_long = {
        "function": "adamax_step",
        "code": """
def adamax_step(params, grads, state, lr=2e-3, beta1=0.9, beta2=0.999):
    state["t"] += 1
    t = state["t"]
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["u"][i] = np.abs(g)  # |g| alone: a small gradient after large ones overshoots
        new_params.append(p - (lr / (1 - beta1**t)) * state["m"][i] / state["u"][i])
    return new_params
""",
    }
    seeds: list = []
    for shift in range(1, SEED_STREAMS + 1):
        _shifted_rng(monkeypatch, shift, seeds)
        for function in ("adam_step", "adamax_step"):
            reference = {"function": function, "code": ""}  # the solution as it is
            failures = [m for ok, m in run_with_bug(built[master], reference, built["env"]) if not ok]
            assert not failures, f"draw {shift}: the solution fails\n" + "\n---\n".join(failures)
        outcomes = run_with_bug(built[master], too_long, built["env"])
        assert any("more than AdaMax can" in m for ok, m in outcomes if not ok), (
            f"draw {shift}: steps longer than the AdaMax bound pass the bound check"
        )
        monkeypatch.undo()
    # the checks' own seeds (0 for the bound check, 3 to 7 for the hidden ones) were all shifted
    assert {0, 3, 4, 5, 6, 7} <= set(seeds), sorted(set(map(str, seeds)))


@pytest.mark.parametrize("master", HW3, ids=lambda p: p.parent.name)
def test_adamax_bound_the_assignment_states(master):
    """What hw3 tells students: the step bound is 1 at t = 1, above 1 afterwards, below 1.01
    with the default betas, and gradients of one sign shrinking by beta2 per step reach it."""
    from adamlab import rules
    from adamlab.figures import analysis

    text = master.read_text()
    assert "can never be longer than" not in text and "bounded by the learning rate" not in text
    b1, b2 = 0.9, 0.999
    bound = analysis.adamax_step_bound(np.arange(1, 31), b1, b2)
    assert bound[0] == pytest.approx(1.0, abs=1e-15) and np.all(bound[1:] > 1)
    assert np.all(np.diff(bound) > 0) and (1 - b1) / (1 - b1 / b2) < 1.01
    worst = b2 ** np.arange(30.0)
    state, steps = rules.adamax_init(np.zeros(1)), []
    for g in worst:
        u, state = rules.adamax(np.array([g]), state, lr=1.0, beta1=b1, beta2=b2, eps=0.0)
        steps.append(abs(float(u[0])))
    np.testing.assert_allclose(steps, bound, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# hw1, hw2 and hw4: the same for every check that draws random inputs, and what they state
# --------------------------------------------------------------------------------------------

# the functions whose questions have checks that draw random inputs, and the seeds they draw
DRAWN = {
    "hw1_ema": (("ema", "ema_corrected"), {1, 2}),
    "hw2_zoo": (("momentum_step", "adagrad_step", "rmsprop_step"), {1, 2, 3}),
    "hw4_logreg": (("loss_and_grad", "train"), {0, 1, 2, 3, 7}),
}
OTHERS = [m for m in MASTERS if m.parent.name in DRAWN]


@pytest.mark.parametrize("master", OTHERS, ids=lambda p: p.parent.name)
def test_other_checks_pass_the_solution_on_every_draw(master, built, monkeypatch):
    """Every check of the questions of hw1, hw2 and hw4 that draw random inputs passes the
    reference solution on SEED_STREAMS draws, and every planted bug of the assignment still
    fails with its own message on each of them (a check that a lucky draw lets through would
    not)."""
    functions, drawn = DRAWN[master.parent.name]
    bugs = [bug for bug in HOST_BUGS if bug["master"] == master]
    assert bugs and all(bug["function"] in functions for bug in bugs)
    seeds: list = []
    for shift in range(1, SEED_STREAMS + 1):
        _shifted_rng(monkeypatch, shift, seeds)
        for function in functions:
            reference = {"function": function, "code": ""}  # the solution as it is
            failures = [m for ok, m in run_with_bug(built[master], reference, built["env"]) if not ok]
            assert not failures, f"draw {shift}: the solution fails\n" + "\n---\n".join(failures)
        for bug in bugs:
            outcomes = run_with_bug(built[master], bug, built["env"])
            assert any(bug["message"] in m for ok, m in outcomes if not ok), (
                f"draw {shift}: the planted bug {bug['name']!r} is not caught with its message")
        monkeypatch.undo()
    assert drawn <= set(seeds), sorted(set(map(str, seeds)))


def _real_mnist() -> Path | None:
    root = os.environ.get("ADAMLAB_DATA")
    found = root and (Path(root) / "mnist" / "train-images-idx3-ubyte.gz").exists()
    return Path(root) if found else None


@pytest.mark.skipif(_real_mnist() is None, reason="needs MNIST in $ADAMLAB_DATA/mnist")
def test_hw4_learning_rates_are_the_best_of_their_grid():
    """What hw4 and its README say of LEARNING_RATES: each is the rate of its coarse grid with
    the lowest training cost after three epochs on all of MNIST with seed 0 (rerun here with
    the master's own solution), and none lies at an edge of its grid."""
    spec = importlib.util.spec_from_file_location(
        "tune_rates", ROOT / "assignments" / "hw4_logreg" / "tune_rates.py")
    tune = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tune)
    costs = tune.search()
    assert all(len(by_rate) == len(tune.GRID[name]) for name, by_rate in costs.items())
    best = tune.best(costs)
    assert best == tune.solution()["LEARNING_RATES"], costs
    for name, rate in best.items():
        assert min(tune.GRID[name]) < rate < max(tune.GRID[name]), (name, rate)
    readme = " ".join((ROOT / "assignments" / "hw4_logreg" / "README.md").read_text().split())
    assert "(Adam 0.003 to 0.3, SGDNesterov 0.1 to 3, AdaGrad 0.01 to 0.3," in readme
    assert (f"(Adam {best['Adam']:g}, SGD with Nesterov momentum {best['SGDNesterov']:.1f}, "
            f"AdaGrad {best['AdaGrad']:g})") in readme


def test_hw1_hw2_what_the_texts_state():
    """The statements of hw1 and hw2 about the answers they ask for, computed."""
    from adamlab import rules
    from adamlab.ema import bias_correction_factor, ema

    t = np.arange(1, 100_001)
    # hw1 q3: |m_t - m_hat_t| <= tol |m_hat_t| on ones is beta^t <= tol; the chapter's count
    # (factor 1 / (1 - beta^t) at most 1.01) is a few steps away for beta = 0.999
    ones = np.ones(20_000)
    for beta, few_dozen in ((0.9, True), (0.999, False)):
        raw, corrected = ema(ones, beta), ema(ones, beta, bias_correction=True)
        agree = int(np.argmax(np.abs(raw - corrected) <= 0.01 * corrected)) + 1
        assert agree == int(t[np.argmax(beta**t <= 0.01)])
        chapter = int(t[np.argmax(bias_correction_factor(beta, t) <= 1.01)])
        assert (24 <= agree <= 60) if few_dozen else (1000 <= agree <= 9999 and 0 < chapter - agree < 20)
    # hw1's closing: without the correction (eps = 0) the step is the corrected one times
    # (1 - beta1^t) / sqrt(1 - beta2^t), above 1 at every step and near 1 only after thousands
    g = np.random.default_rng(0).normal(size=5000)
    m, v = ema(g, 0.9), ema(g * g, 0.999)
    m_hat, v_hat = ema(g, 0.9, True), ema(g * g, 0.999, True)
    factor = (1 - 0.9 ** t[:5000]) / np.sqrt(1 - 0.999 ** t[:5000])
    np.testing.assert_allclose((m / np.sqrt(v)) / (m_hat / np.sqrt(v_hat)), factor, rtol=1e-9)
    factor = (1 - 0.9 ** t[:20_000]) / np.sqrt(1 - 0.999 ** t[:20_000])  # then 1 in floats
    assert np.all(factor > 1) and factor[999] > 1.2 and factor[2999] > 1.02
    # hw2 q4: a constant gradient gets AdaGrad steps of about lr / sqrt(t); RMSProp (alpha 0.9)
    # settles at about lr within a few dozen steps, and the public check's factor 10 holds
    lr, g = 0.01, np.ones(1)
    ada, rms = rules.adagrad_init(g), rules.rmsprop_init(g)
    ada_steps, rms_steps = [], []
    for _ in range(1000):
        u, ada = rules.adagrad(g, ada, lr=lr)
        ada_steps.append(-float(u[0]))
        u, rms = rules.rmsprop(g, rms, lr=lr, alpha=0.9)
        rms_steps.append(-float(u[0]))
    np.testing.assert_allclose(ada_steps, lr / np.sqrt(t[:1000]), rtol=1e-9)
    settled = int(np.argmax(np.abs(np.array(rms_steps) / lr - 1) <= 0.01)) + 1
    assert 24 <= settled <= 60 and np.all(np.abs(np.array(rms_steps[settled:]) / lr - 1) <= 0.01)
    assert rms_steps[-1] > 10 * ada_steps[-1]


# --------------------------------------------------------------------------------------------
# The hidden checks carry their own references (the grader has no book library); the solutions
# they accept are the library's algorithms, checked here against the library itself
# --------------------------------------------------------------------------------------------


def _solution(name: str) -> dict:
    """The namespace of a master's code cells (solutions included), run here."""
    namespace: dict = {"__name__": "__main__"}
    for cell in jupytext.read(ROOT / "assignments" / name / f"{name}.md").cells:
        if cell.cell_type == "code" and "grader" not in cell.source:
            exec(compile(cell.source, f"{name}.md", "exec"), namespace)
    return namespace


def test_hw1_hw2_hw3_solutions_are_the_library_algorithms():
    from adamlab import rules
    from adamlab.ema import ema

    rng = np.random.default_rng(11)
    hw1 = _solution("hw1_ema")
    xs = rng.normal(size=(60, 2, 3))
    for beta in (0.0, 0.5, 0.9, 0.999):
        np.testing.assert_allclose(hw1["ema"](xs, beta), ema(xs, beta), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(hw1["ema_corrected"](xs, beta), ema(xs, beta, bias_correction=True),
                                   rtol=1e-13, atol=1e-15)
    hw2 = _solution("hw2_zoo")
    cases = (("momentum_step", rules.momentum, rules.momentum_init, "velocity", dict(lr=0.05, mu=0.8)),
             ("adagrad_step", rules.adagrad, rules.adagrad_init, "sum", dict(lr=0.5, eps=1e-2)),
             ("rmsprop_step", rules.rmsprop, rules.rmsprop_init, "square_avg",
              dict(lr=0.02, alpha=0.95, eps=1e-6)))
    for name, rule, init, field, hyper in cases:
        theta, kept = np.zeros(4), np.zeros(4)
        ref, state = np.zeros(4), init(np.zeros(4))
        for _ in range(40):
            g = rng.normal(size=4)
            theta, kept = hw2[name](theta, g, kept, **hyper)
            u, state = rule(g, state, **hyper)
            ref = ref + u
        np.testing.assert_allclose(theta, ref, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(kept, getattr(state, field), rtol=1e-12, err_msg=name)
    hw3 = _solution("hw3_adam")
    for step, init, rule, rule_init, hyper in (
            ("adam_step", "adam_init", rules.adam, rules.adam_init,
             dict(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6)),
            ("adamax_step", "adamax_init", rules.adamax, rules.adamax_init,
             dict(lr=0.01, beta1=0.85, beta2=0.99))):
        params = [rng.normal(size=(3, 2)), rng.normal(size=5)]
        ref = [p.copy() for p in params]
        state, ref_states = hw3[init](params), [rule_init(p) for p in ref]
        extra = {"eps": 0.0} if step == "adamax_step" else {}
        for _ in range(50):
            grads = [rng.normal(size=p.shape) for p in params]
            params = hw3[step](params, grads, state, **hyper)
            for i, g in enumerate(grads):
                u, ref_states[i] = rule(g, ref_states[i], **hyper, **extra)
                ref[i] = ref[i] + u
        for p, r in zip(params, ref):
            np.testing.assert_allclose(p, r, rtol=1e-12, err_msg=step)


def test_hw4_optimizers_and_loss_are_the_library_and_autograd():
    """hw4's optimizers.py (handed to students so that they need only NumPy) takes the same steps
    as adamlab.rules, and the solution's loss and gradient are torch's cross-entropy plus L2."""
    import torch

    from adamlab import rules

    spec = importlib.util.spec_from_file_location(
        "hw4_optimizers", ROOT / "assignments" / "hw4_logreg" / "optimizers.py")
    given = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(given)
    rng = np.random.default_rng(12)
    for ours, init, rule, rule_init, hyper in (
            (given.adam, given.adam_init, rules.adam, rules.adam_init, dict(lr=0.03)),
            (given.momentum, given.momentum_init, rules.momentum, rules.momentum_init,
             dict(lr=0.3, mu=0.9, nesterov=True)),
            (given.adagrad, given.adagrad_init, rules.adagrad, rules.adagrad_init, dict(lr=0.1))):
        param = rng.normal(size=(5, 3))
        state, ref_state = init(param), rule_init(param)
        for t in range(1, 61):
            g = rng.normal(size=param.shape)
            kept = g.copy()
            u, state = ours(g, state, **dict(hyper, lr=hyper["lr"] / np.sqrt(t)))
            v, ref_state = rule(g, ref_state, **dict(hyper, lr=hyper["lr"] / np.sqrt(t)))
            np.testing.assert_allclose(u, v, rtol=1e-13, atol=1e-16, err_msg=ours.__name__)
            assert np.array_equal(g, kept) and state["t"] == ref_state.t == t
    spec = importlib.util.spec_from_file_location(
        "tune_rates", ROOT / "assignments" / "hw4_logreg" / "tune_rates.py")
    tune = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tune)
    loss_and_grad = tune.solution()["loss_and_grad"]
    X, y = rng.random((64, 30)), rng.integers(0, 10, size=64)
    W, b, lam = rng.normal(scale=0.5, size=(30, 10)), rng.normal(size=10), 1e-2
    Wt, bt = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(torch.tensor(X) @ Wt + bt, torch.tensor(y)) \
        + 0.5 * lam * (Wt**2).sum()
    ref.backward()
    loss, dW, db = loss_and_grad(W, b, X, y, lam)
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-14)
