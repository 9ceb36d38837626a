"""Serve the live figures' scripts from the site, on the pages that have a live figure.

``book/_static`` holds the JavaScript of the live figures (``adamlab-rules.js``, the library's
rules and landscapes; ``adamlab-live.js``, the drawing and the controls) and their stylesheet.
They are copied into ``_build/html/_static`` like the theme's own files (no CDN), and linked
only from the pages whose body holds a live figure: a cell output by ``adamlab.figures.live``, a
``<div class="adamlive" ...>``.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "_static"
SCRIPTS = ("adamlab-rules.js", "adamlab-live.js")
STYLESHEET = "adamlab-live.css"
MARKER = 'class="adamlive"'


def add_static_path(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def link_on_live_pages(app, pagename, templatename, context, doctree) -> None:
    if MARKER not in context.get("body", ""):
        return
    # Called here, add_js_file and add_css_file link the file from this page only.
    for script in SCRIPTS:
        app.add_js_file(script, loading_method="defer")
    app.add_css_file(STYLESHEET)


def setup(app) -> dict:
    app.connect("config-inited", add_static_path)
    app.connect("html-page-context", link_on_live_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
