"""The chapters as notebook files: what JupyterLab opens, runs and saves.

Every chapter is committed in the form JupyterLab (through jupytext, with the project's
``jupytext.toml``) saves it, so opening and saving changes nothing. Its prose shows computed values
only through ``{eval}`` expressions that read ``glued``, which JupyterLab and the book both
evaluate; and what jupyterlab-myst cannot show (an expression inside a solution that spans cells)
or what the website hides (cells tagged remove-*, hide-input) is kept out of a student's way.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from inline_eval import ROLE  # noqa: E402

CHAPTERS = sorted(p for p in (ROOT / "book").rglob("*.md")  # not JupyterLab's .ipynb_checkpoints
                  if not any(part.startswith((".", "_")) for part in p.relative_to(ROOT).parts)
                  and p.read_text().startswith("---\njupytext:"))
IDS = [str(p.relative_to(ROOT / "book")) for p in CHAPTERS]
# glued.name, glued['name'], or either formatted in an f-string: nothing else runs from the prose
NAME = r"glued(?:\.\w+|\['[^']+'\])"
EXPRESSION = re.compile(rf"""^(?:{NAME}|f"\{{{NAME}(?::[^{{}}"]*)?\}}")$""")


def test_the_chapters_are_found():
    assert len(CHAPTERS) >= 20


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_saving_from_jupyterlab_changes_nothing(path, tmp_path):
    from jupytext import TextFileContentsManager

    shutil.copy(ROOT / "jupytext.toml", tmp_path / "jupytext.toml")
    shutil.copy(path, tmp_path / path.name)
    cm = TextFileContentsManager(root_dir=str(tmp_path))
    model = cm.get(path.name, type="notebook")
    # what JupyterLab's notebook sends back: the kernel it ran, and values jupyterlab-myst stored
    model["content"]["metadata"]["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                                  "language": "python", "name": "python3"}
    model["content"]["metadata"]["language_info"] = {"name": "python"}
    for cell in model["content"]["cells"]:
        if cell["cell_type"] == "markdown" and ROLE.search(cell["source"]):
            cell["metadata"]["user_expressions"] = [{"expression": "x", "result": {"status": "ok"}}]
    cm.save(model, path.name)
    saved = (tmp_path / path.name).read_text()
    assert saved == path.read_text(), (
        f"{path.name} is not in the form JupyterLab saves it: open and save it in JupyterLab "
        "(make lab), or write it with jupytext and the project's jupytext.toml")


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_prose_values_come_from_glued(path):
    text = path.read_text()
    assert "{glue:" not in text and "from myst_nb import glue" not in text, (
        "glue roles show nothing in JupyterLab: use adamlab.pages.glue and {eval}`glued.name`")
    odd = [m.group(1) for m in ROLE.finditer(text) if not EXPRESSION.match(m.group(1))]
    assert not odd, f"inline expressions may only read glued values (formatted): {odd[:5]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_no_value_inside_a_solution_split_over_cells(path):
    """jupyterlab-myst moves the Markdown cells between ``solution-start`` and ``solution-end`` into
    the solution and then evaluates none of their expressions: such a cell shows its code."""
    inside, bad = False, []
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "markdown":
            continue
        source = cell.source
        start, end = source.rfind("{solution-start}"), source.rfind("{solution-end}")
        if inside and start < 0 and end < 0 and ROLE.search(source):
            bad.append(source[:80])
        if start >= 0 or end >= 0:
            inside = start > end
    assert not bad, ("a paragraph with values sits alone between solution-start and solution-end; "
                     f"move the code cells above it out of the solution, before solution-start: {bad}")


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_cells_the_website_hides_are_collapsed_in_jupyterlab(path):
    bad = []
    for cell in jupytext.read(path).cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "code" and tags & {"remove-cell", "remove-input", "hide-input"}:
            if not cell.metadata.get("jupyter", {}).get("source_hidden"):
                bad.append(cell.source.splitlines()[0] if cell.source else "(empty)")
    # only the source: JupyterLab drops outputs_hidden from a cell whose run printed nothing
    assert not bad, ("cells the website hides need jupyter.source_hidden so JupyterLab collapses "
                     f"them: {bad[:5]}")
