"""Serve MathJax from the site itself, so that pages render math with no internet at all.

The MathJax 2.7 files come from the PyPI package ``jupyter-server-mathjax`` (pinned in
requirements.txt). At every build they are copied into ``_build/html/_static/mathjax``;
nothing of MathJax is committed to the repository. ``_config.yml`` points ``mathjax_path``
at the copy and gives MathJax 2 its configuration (``mathjax2_config``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# Where the copy goes, relative to the output's _static folder; _config.yml's mathjax_path
# must start with it.
TARGET = "mathjax"
# Translations of MathJax's menus are not needed by an English book and are a fifth of the size.
SKIPPED = ("localization", "LICENSE.txt")


def mathjax_source() -> Path:
    """The folder of the installed MathJax 2.7 distribution (the one holding MathJax.js)."""
    try:
        import jupyter_server_mathjax
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExtensionError(
            "offline_mathjax needs the package jupyter-server-mathjax, which ships MathJax: "
            "install the book's requirements with `pip install -r requirements.txt`"
        ) from exc
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (source / "MathJax.js").is_file():
        raise ExtensionError(f"no MathJax.js under {source}: reinstall jupyter-server-mathjax")
    return source


def check_config(app: Sphinx, config) -> None:
    path = str(config.mathjax_path)
    if not path.startswith(TARGET + "/"):
        raise ExtensionError(
            f"mathjax_path is {path!r}, but offline_mathjax serves MathJax from "
            f"'{TARGET}/MathJax.js': set sphinx.config.mathjax_path to that in _config.yml"
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
