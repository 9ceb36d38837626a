"""Make the ".ipynb" download of every notebook page the *executed* notebook.

sphinx-book-theme offers ``_build/jupyter_execute/<page>.ipynb`` as the page's download. With
``execute_notebooks: cache``, myst-nb 1.4.0 writes that file from the notebook as read, not from
the copy it merged with the cached outputs, so after the first build every download would come
without outputs. Before the theme copies the file (``html-page-context``, priority 500), this
handler merges the cached outputs into it.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import nbformat
from sphinx.application import Sphinx


def merge_cached_outputs(app: Sphinx, pagename, templatename, context, doctree) -> None:
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / (pagename + ".ipynb")
    if not executed.is_file():
        return
    from jupyter_cache import get_cache

    notebook = nbformat.read(executed, as_version=4)
    cache = get_cache(config.execution_cache_path)
    with suppress(KeyError):  # not in the cache: it failed to run, the build already said so
        _, merged = cache.merge_match_into_notebook(notebook)
        if merged != notebook:
            nbformat.write(merged, executed)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", merge_cached_outputs, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
