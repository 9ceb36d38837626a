"""Inline expressions: the values a chapter's prose shows, the same in JupyterLab and in the book."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from adamlab import pages

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import executed_downloads  # noqa: E402
import inline_eval  # noqa: E402


@pytest.fixture
def glued():
    saved = dict(pages.glued._values)
    pages.glued._values.clear()
    yield pages.glued
    pages.glued._values.clear()
    pages.glued._values.update(saved)


def test_glue_stores_a_value_read_by_name_or_key(glued):
    pages.glue("c1", 0.1, display=False)
    pages.glue("window_0.9", 10.0, display=False)
    assert glued.c1 == 0.1 and glued["window_0.9"] == 10.0
    assert "c1" in glued and f"{glued.c1:.3f}" == "0.100"
    with pytest.raises(AttributeError, match="run the cells above"):
        _ = glued.missing
    with pytest.raises(AttributeError, match="glue"):
        glued.c1 = 2


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source, meta in cells:
        cell = (nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell)(source)
        cell.metadata.update(meta)
        nb.cells.append(cell)
    nb.metadata["source_map"] = list(range(len(cells)))
    return nb


def test_an_evaluation_cell_goes_before_each_paragraph_and_after_each_captioned_figure():
    caption = {"mystnb": {"figure": {"caption": "Loss {eval}`glued.loss` here"}}}
    nb = inline_eval.insert_eval_cells(_notebook(
        ("code", "x = 1", {}),
        ("md", "No values here.", {}),
        ("md", "It is {eval}`f\"{glued.a:.2f}\"` and {eval}`glued.b`.", {}),
        ("code", "fig", caption),
        ("md", "Again {eval}`glued.b`.", {}),
    ))
    kinds = [("eval" if c.metadata.get(inline_eval.MARK) else c.cell_type) for c in nb.cells]
    assert kinds == ["code", "markdown", "eval", "markdown", "code", "eval", "eval", "markdown"]
    assert len(nb.metadata["source_map"]) == len(nb.cells)
    # nbformat 4.5 cells carry unique ids; the execution cache merges its outputs by them
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    assert all(c.metadata["tags"] == ["remove-cell"] for c in nb.cells if c.metadata.get(inline_eval.MARK))
    # the second use of glued.b checks that it still has the value of its first use
    assert "assert repr(glued.b)" in nb.cells[6].source


def _run(cells, namespace):
    for cell in cells:
        if cell.cell_type == "code":
            exec(cell.source, namespace)


def test_the_evaluation_cells_record_each_value_and_catch_one_that_changed(glued, monkeypatch):
    recorded = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display=True: recorded.__setitem__(key, value))
    nb = inline_eval.insert_eval_cells(_notebook(
        ("code", "glue('a', 0.5, display=False)", {}),
        ("md", "A is {eval}`f\"{glued.a:.1%}\"`.", {}),
        ("code", "glue('a', 0.25, display=False)", {}),
        ("md", "Still {eval}`f\"{glued.a:.1%}\"`?", {}),
    ))
    namespace = {"glue": pages.glue, "glued": glued}
    _run(nb.cells[:3], namespace)
    assert recorded == {'eval:f"{glued.a:.1%}"': "50.0%"}
    with pytest.raises(AssertionError, match="changed its value"):
        _run(nb.cells[3:], namespace)


def test_the_download_shows_the_values_in_its_text():
    nb = _notebook(("md", "It is {eval}`f\"{glued.a:.2f}\"`, and {eval}`glued.m`.", {}))
    record = nbformat.v4.new_code_cell("")
    record.metadata = {"tags": ["remove-cell"], inline_eval.MARK: True}
    record.outputs = [
        nbformat.v4.new_output("display_data", data={"application/papermill.record/text/plain": "'0.50'"},
                               metadata={"scrapbook": {"name": 'eval:f"{glued.a:.2f}"'}}),
        nbformat.v4.new_output("display_data", data={"application/papermill.record/text/markdown": "`x`"},
                               metadata={"scrapbook": {"name": "eval:glued.m"}}),
    ]
    nb.cells.insert(0, record)
    executed_downloads.inline_values(nb)
    assert [c.source for c in nb.cells] == ["It is 0.50, and `x`."]


def test_the_download_replaces_a_slider_player_by_its_first_frame():
    from adamlab.figures.interactive import static_slider

    player = static_slider(lambda fig, v: fig.add_subplot().plot([0, v]), [1, 2], dpi=20)
    cell = nbformat.v4.new_code_cell("player")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": player.data})]
    nb = nbformat.v4.new_notebook(cells=[cell])
    executed_downloads.static_players(nb)
    data = nb.cells[0].outputs[0]["data"]
    assert "text/html" not in data and data["image/png"].startswith("iVBOR")
    assert "live slider" in data["text/markdown"]
