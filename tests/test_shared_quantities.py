"""One quantity, one value: a number that several pages state comes from adamlab.quantities.

``adamlab.pages.glue`` refuses a value for a shared quantity that differs from the one
``adamlab.quantities`` computes, under its own name or under another name that denotes it, so
the pages that state it cannot disagree when the book is built. These tests check that
detector, and read every chapter's glue calls: each shared quantity is computed by its function,
and a name glued on several pages is computed the same way on each.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from adamlab import quantities
from adamlab.figures import secondorder as so
from adamlab.pages import glue, glued

BOOK = Path(__file__).resolve().parents[1] / "book"
GLUE = re.compile(r'\bglue\(\s*"([^"]+)"\s*,')


def glue_calls(text: str) -> list[tuple[str, str]]:
    """(name, value expression) of every ``glue("name", expr, ...)`` with a literal name."""
    calls = []
    for match in GLUE.finditer(text):
        depth, i, start = 0, match.end(), match.end()
        while i < len(text):
            c = text[i]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                break
            i += 1
        calls.append((match.group(1), " ".join(text[start:i].split())))
    return calls


def chapter_glues() -> dict[str, list[tuple[str, str]]]:
    """name -> [(page, value expression)] over every chapter of the book."""
    found = defaultdict(list)
    for path in sorted(BOOK.rglob("*.md")):
        if "_build" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        for name, expr in glue_calls(path.read_text(encoding="utf-8")):
            found[name].append((str(path.relative_to(BOOK)), expr))
    return found


def test_glue_calls_are_read_with_their_expressions():
    text = 'glue("a", f(x, y), display=False)\nglue("b", [1, 2])\nglue(f"c_{k}", 3)'
    assert glue_calls(text) == [("a", "f(x, y)"), ("b", "[1, 2]")]


def test_the_shared_quantities_have_their_functions():
    for name, (function, what, patterns) in quantities.SHARED.items():
        value = getattr(quantities, function)()
        assert value > 0 and what, name
        assert quantities.shared_quantity(name) == name
        for pattern in patterns:
            re.compile(pattern)


def test_the_mlp_hessian_has_one_value_in_one_unit():
    n = so.book_networks()[quantities.MLP]
    assert n == 1_796_010
    assert quantities.mlp_hessian_tb() == 4 * n * n / 1e12
    # the cost table of the second-order chapter prints the same number in the same unit
    assert so.human_bytes(so.hessian_bytes(n)) == f"{quantities.mlp_hessian_tb():.1f} TB"


def test_glue_refuses_a_second_value_for_a_shared_quantity():
    right = quantities.mlp_hessian_tb()
    glue("mlp_hessian_tb", right, display=False)
    assert glued.mlp_hessian_tb == right
    glue("conc_hessian_tb", 4 * 1_796_010**2 / 1e12, display=False)  # another name, same value
    tebibytes = 4 * 1_796_010**2 / 1024**4  # the value one page once printed as "TB"
    with pytest.raises(ValueError, match="mlp_hessian_tb"):
        glue("mlp_hessian_tb", tebibytes, display=False)
    with pytest.raises(ValueError, match="glued as 'mem_mlp_hess_tb'"):
        glue("mem_mlp_hess_tb", round(right), display=False)  # another name, another value
    glue("mlp_n", 1_796_010, display=False)  # not a shared quantity: anything goes


def test_each_shared_quantity_is_computed_by_its_function_on_every_page():
    found = chapter_glues()
    for name, (function, _, _) in quantities.SHARED.items():
        assert found[name], f"no page glues {name}"
        for page, expr in found[name]:
            assert expr == f"quantities.{function}()", (page, name, expr)


def test_a_name_glued_on_several_pages_is_computed_the_same_way():
    for name, uses in chapter_glues().items():
        pages = {page for page, _ in uses}
        if len(pages) > 1:
            exprs = {expr for _, expr in uses}
            assert len(exprs) == 1, (name, uses)


def test_a_figures_training_cost_is_one_number_of_cpu_hours():
    from adamlab.experiments import plot

    runs = [{"wall_time_s": 5400.0, "cpu_time_s": 3600.0, "status": "finished",
             "finished": "2026-12-01T00:00:00",
             "provenance": {"git_commit": "0" * 40, "command": "adamlab run", "device": "cpu",
                            "versions": {"torch": "2"}}},
            {"wall_time_s": 1800.0, "status": "finished",  # no processor time recorded
             "finished": "2026-12-01T01:00:00",
             "provenance": {"git_commit": "0" * 40, "command": "adamlab run", "device": "cpu",
                            "versions": {"torch": "2"}}}]
    assert quantities.training_cpu_hours(runs) == 1.5
    assert quantities.training_wall_hours(runs) == 2.0
    line = plot.provenance_line(runs)
    # the caption's CPU-hours, and wall-clock time named as such: no bare minutes beside them
    assert "1.5 CPU-hours of training in all (2.0 h wall-clock)" in line
    assert " min " not in line
