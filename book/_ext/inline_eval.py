"""Inline expressions, ``{eval}`expr```, shown by the built book as JupyterLab shows them.

The chapters put computed values into their prose with MyST's inline expressions, the role that
jupyterlab-myst evaluates in the running kernel when a reader runs the notebook. myst-nb 1.4
evaluates the same role only in its ``inline`` execution mode, which has no execution cache and
shuts the kernel down before the Korean edition parses its translated paragraphs. So the build
evaluates the expressions itself, in the notebook, where JupyterLab would:

* reading a chapter, it inserts a hidden code cell before each Markdown cell with expressions
  (after each code cell whose figure caption has some) that evaluates them in the kernel and
  records each result under the key ``eval:<expr>``; an expression met again must give the
  same text, or the cell fails and the build with it;
* the ``{eval}`` role then shows the recorded result, from the executed notebook or the cache.

The inserted cells are part of the notebook that the execution cache keys on, so a changed
expression runs the chapter again. ``executed_downloads.py`` takes them out of the download.
"""

from __future__ import annotations

import re

import nbformat
from sphinx.application import Sphinx

ROLE = re.compile(r"\{eval\}`([^`]+)`")
KEY_PREFIX = "eval:"
MARK = "inline_eval"  # cell metadata that marks an inserted cell


def expressions(text: str) -> list[str]:
    return [m.group(1) for m in ROLE.finditer(text)]


def _caption_expressions(cell) -> list[str]:
    figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
    return expressions(str(figure.get("caption", "")))


def _eval_cell(exprs: list[str], seen: set[str], number: int, with_id: bool):
    lines = ["from myst_nb import glue as _glue_eval",
             "_seen_eval = globals().setdefault('_seen_eval', {})"]
    for expr in dict.fromkeys(exprs):
        key = KEY_PREFIX + expr
        if expr in seen:
            lines.append(f"assert repr({expr}) == _seen_eval[{key!r}], "
                         f"{('the inline expression ' + expr + ' changed its value since its first use')!r}")
        else:
            lines.append(f"_seen_eval[{key!r}] = repr(_value_eval := ({expr}))")
            lines.append(f"_glue_eval({key!r}, _value_eval, display=False)")
            seen.add(expr)
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata = {"tags": ["remove-cell"], MARK: True}
    if with_id:  # nbformat 4.5 notebooks need one (the execution cache merges outputs by it)
        cell.id = f"inline-eval-{number}"
    else:
        cell.pop("id", None)
    return cell


def insert_eval_cells(nb):
    """The notebook with a cell evaluating each Markdown cell's inline expressions before it."""
    cells, seen = [], set()
    source_map = nb.metadata.get("source_map")
    new_map = []
    with_id = (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5)

    def eval_cell(exprs):
        return _eval_cell(exprs, seen, sum(bool(c.metadata.get(MARK)) for c in cells), with_id)

    for i, cell in enumerate(nb.cells):
        line = source_map[i] if source_map else None
        if cell.cell_type == "markdown" and expressions(cell.source):
            cells.append(eval_cell(expressions(cell.source)))
            new_map.append(line)
        cells.append(cell)
        new_map.append(line)
        if cell.cell_type == "code" and _caption_expressions(cell):
            cells.append(eval_cell(_caption_expressions(cell)))
            new_map.append(line)
    nb.cells = cells
    if source_map:
        nb.metadata["source_map"] = new_map
    return nb


def _wrap_reader(create_nb_reader):
    def create(path, md_config, nb_config, content):
        reader = create_nb_reader(path, md_config, nb_config, content)
        if reader is None or getattr(reader.read, MARK, False):
            return reader

        def read(text, _read=reader.read):
            return insert_eval_cells(_read(text))

        setattr(read, MARK, True)
        return type(reader)(read, reader.md_config, reader.read_fmt)

    create.wrapped = True
    return create


class EvalRole:
    """``{eval}`expr```: the value recorded for ``expr`` when the notebook ran."""

    def __call__(self, name, rawtext, text, lineno, inliner, options=None, content=()):
        from myst_nb.core.variables import RetrievalError, create_warning, render_variable_outputs
        from myst_nb.ext.glue import utils  # looked up at call time: editions.py wraps it

        document = inliner.document
        try:
            output = utils.retrieve_glue_data(document, KEY_PREFIX + text)
        except RetrievalError as exc:
            msg = (f"inline expression {text!r} has no value: {exc} (is the chapter's code cell "
                   f"that computes it above the paragraph, and did the notebook run?)")
            return [], [create_warning(msg, document, lineno, subtype="eval")]
        output.metadata["strip_text_quotes"] = True
        return render_variable_outputs([output], document, lineno, document["source"], inline=True), []


def _install(app: Sphinx) -> None:
    from myst_nb import sphinx_ as nb_sphinx

    if not getattr(nb_sphinx.create_nb_reader, "wrapped", False):
        nb_sphinx.create_nb_reader = _wrap_reader(nb_sphinx.create_nb_reader)
    # after myst-nb's own setup, which registers an ``eval`` role for its inline mode only
    app.add_role("eval", EvalRole(), override=True)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _install)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
