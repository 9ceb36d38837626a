"""Make the ".ipynb" download of every notebook page the executed notebook, readable on its own.

sphinx-book-theme offers ``_build/jupyter_execute/<page>.ipynb`` as the page's download. Before the
theme copies the file (``html-page-context``, priority 500), this handler rewrites it:

* with ``execute_notebooks: cache``, myst-nb 1.4.0 writes that file from the notebook as read, not
  from the copy it merged with the cached outputs; the cached outputs are merged in;
* the cells the build inserted to evaluate inline expressions (``inline_eval.py``) go, and each
  ``{eval}`expr``` in the Markdown becomes the text it showed, so the numbers read in any
  notebook viewer, not only in JupyterLab with jupyterlab-myst;
* a precomputed slider player (``adamlab.figures.interactive.static_slider``) is JavaScript, which
  an untrusted notebook does not run: the download shows its first frame as an image instead,
  and says that the live ipywidgets slider in the notebook needs a running kernel;
* a first cell says what the notebook is and what it needs.
"""

from __future__ import annotations

import ast
import base64
import re
from contextlib import suppress
from pathlib import Path

import nbformat
from sphinx.application import Sphinx

from inline_eval import KEY_PREFIX, MARK, ROLE

_FIRST_FRAME = re.compile(r'frames\[0\] = "data:image/png;base64,([^"]+)"')


def merge_cached_outputs(notebook, config):
    if config.execution_mode != "cache":
        return notebook
    from jupyter_cache import get_cache

    with suppress(KeyError):  # not in the cache: it failed to run, the build already said so
        _, notebook = get_cache(config.execution_cache_path).merge_match_into_notebook(notebook)
    return notebook


def _shown_text(data: dict) -> str:
    """What the {eval} role shows for a recorded value: Markdown as written, text without quotes."""
    for mime in ("text/markdown", "text/plain"):
        for key in (f"application/papermill.record/{mime}", mime):
            if key in data:
                text = data[key]
                if mime == "text/plain":
                    with suppress(ValueError, SyntaxError):
                        value = ast.literal_eval(text)
                        if isinstance(value, str):
                            return value
                return text
    return ""


def inline_values(notebook) -> None:
    """Drop the inserted evaluation cells; write their values into the Markdown they serve."""
    values, cells = {}, []
    for cell in notebook.cells:
        if cell.get("metadata", {}).get(MARK):
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name", "")
                if name.startswith(KEY_PREFIX):
                    values[name[len(KEY_PREFIX):]] = _shown_text(output.get("data", {}))
            continue
        cells.append(cell)

    def substitute(text: str) -> str:
        return ROLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = substitute(cell.source)
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if "caption" in figure:
            figure["caption"] = substitute(str(figure["caption"]))
    notebook.cells = cells


def static_players(notebook) -> None:
    """Replace each precomputed slider player by its first frame and a note."""
    for cell in notebook.cells:
        for i, output in enumerate(cell.get("outputs", [])):
            html = output.get("data", {}).get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            frame = _FIRST_FRAME.search(html)
            if not frame or "animation" not in html:
                continue
            png = re.sub(r"\\\n|\\n|\s", "", frame.group(1))  # the player wraps long strings
            base64.b64decode(png, validate=True)
            cell.outputs[i] = nbformat.v4.new_output(
                "display_data",
                data={"image/png": png,
                      "text/markdown": "*The first frame of the website's precomputed slider. "
                                       "Run this notebook for the live slider (ipywidgets).*",
                      "text/plain": "<the first frame of a precomputed slider>"})


def first_cell(app: Sphinx, title: str, minor: int):
    repo = app.config.html_theme_options.get("repository_url", "") or "the book's repository"
    book = app.config.html_title or app.config.project
    text = (
        f"**{book}**: the chapter *{title}*, executed when the website was built, "
        "with the numbers of that run written into the text.\n\n"
        "To run it you need the book's library `adamlab` and its requirements (numpy, matplotlib, "
        f"torch, ipywidgets): clone {repo} and run `make lab`, which installs them into `.venv` "
        "and opens the chapters in JupyterLab, where the repository's version of this page "
        "computes every number as it runs and renders its MyST markup (jupyterlab-myst). "
        "The experiment chapters also read the datasets from `$ADAMLAB_DATA` (see the README)."
    )
    cell = nbformat.v4.new_markdown_cell(text)
    if minor < 5:  # cell ids came with nbformat 4.5
        cell.pop("id", None)
    return cell


def rewrite_download(app: Sphinx, pagename, templatename, context, doctree) -> None:
    config = getattr(app.env, "mystnb_config", None)
    executed = Path(app.outdir).parent / "jupyter_execute" / (pagename + ".ipynb")
    if config is None or not executed.is_file():
        return
    notebook = nbformat.read(executed, as_version=4)
    if notebook.metadata.get("adamlab_download"):
        return
    notebook = merge_cached_outputs(notebook, config)
    inline_values(notebook)
    static_players(notebook)
    title = re.sub(r"<[^>]+>", "", str(context.get("title", pagename))).strip() or pagename
    notebook.cells.insert(0, first_cell(app, title, notebook.get("nbformat_minor", 4)))
    notebook.metadata["adamlab_download"] = True
    nbformat.write(notebook, executed)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", rewrite_download, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
