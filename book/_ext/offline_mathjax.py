"""Serve MathJax from the site itself, so that pages render math with no internet at all.

The MathJax 3.2.2 files come from the PyPI package ``sphinx-mathjax-offline`` (pinned in
requirements.txt; we use its files, not its Sphinx hook). At every build they are copied into
``_build/html/_static/mathjax``; nothing of MathJax is committed to the repository.
``_config.yml`` points ``mathjax_path`` at ``mathjax/tex-chtml.js`` in that copy.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# Where the copy goes, relative to the output's _static folder; _config.yml's mathjax_path
# must start with it.
TARGET = "mathjax"
# Other MathJax bundles the site does not load (it loads tex-chtml.js, which fetches its fonts
# and TeX extensions from this folder on demand).
SKIPPED = ("tex-svg*.js", "tex-mml-*.js", "mml-*.js", "tex-chtml-full*.js", "node-main.js")


def mathjax_source() -> Path:
    """The folder of the installed MathJax 3 distribution (the one holding tex-chtml.js)."""
    try:
        dist = importlib.metadata.distribution("sphinx-mathjax-offline")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ExtensionError(
            "offline_mathjax needs the package sphinx-mathjax-offline, which ships MathJax: "
            "install the book's requirements with `pip install -r requirements.txt`"
        ) from exc
    source = Path(dist.locate_file("sphinx-mathjax-offline/static/mathjax"))
    if not (source / "tex-chtml.js").is_file():
        raise ExtensionError(f"no tex-chtml.js under {source}: reinstall sphinx-mathjax-offline")
    return source


def check_config(app: Sphinx, config) -> None:
    path = str(config.mathjax_path)
    if not path.startswith(TARGET + "/"):
        raise ExtensionError(
            f"mathjax_path is {path!r}, but offline_mathjax serves MathJax from "
            f"'{TARGET}/tex-chtml.js': set sphinx.config.mathjax_path to that in _config.yml"
        )


def copy_mathjax(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / TARGET
    shutil.copytree(
        mathjax_source(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*SKIPPED)
    )


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_config)
    # builder-inited runs before any page is written, so Sphinx finds the files when it
    # computes the cache-busting checksum it appends to each script's URL.
    app.connect("builder-inited", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
