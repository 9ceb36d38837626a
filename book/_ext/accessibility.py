"""Accessibility fixes for WCAG 2.1 AA, in both editions (tests/test_accessibility.py checks them).

axe-core found four kinds of critical or serious failures in what the themes and extensions write;
each is fixed here, in the book's own files, with the installed packages left as they are:

* **Slider players without a label** (``label``, critical). matplotlib's ``to_jshtml`` players
  have an ``<input type="range">`` with no name; each gets an ``aria-label`` ("Animation frame").
* **The bibliography's list** (``aria-required-children``, critical; ``aria-deprecated-role``).
  docutils marks the citation list ``role="list"`` and each entry ``role="doc-biblioentry"``, a
  role DPUB-ARIA 1.1 deprecates and that cannot be a list's item; each entry becomes
  ``role="listitem"``.
* **Names that differ from the visible text** (``label-content-name-mismatch``, serious). The
  sidebar's search button was named "Search" while it shows "Search Ctrl+K"; the light/dark
  switch's icons carried titles its name does not contain; a hidden code cell's summary was named
  "Toggle hidden content" while it shows "Show code cell source". The first two are the theme's
  components, overridden in book/_templates; the summary's ``aria-label`` is dropped, so its name
  is what it shows.
* **Links too pale on tinted boxes** (``color-contrast``, serious). The theme's link blue,
  #176de8, has 4.3:1 against the exercise boxes' tint; book/_static/adamlab-a11y.css sets a
  darker blue, at least 5:1 on every background of the light theme.
"""

from __future__ import annotations

import re
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1]
TEMPLATES = BOOK / "_templates"
STATIC = BOOK / "_static"
STYLESHEET = "adamlab-a11y.css"

SLIDER = re.compile(r'(<input id="_anim_slider\w+" type="range")(?![^>]*aria-label)')
SLIDER_LABEL = {"en": "Animation frame", "ko": "애니메이션 프레임"}
BIBLIOENTRY = 'role="doc-biblioentry"'
SUMMARY = '<summary aria-label="Toggle hidden content">'


def add_paths(app, config) -> None:
    # First in the search path: ahead of the theme's components (pydata-sphinx-theme appends those).
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    if str(STATIC) not in map(str, config.html_static_path):
        config.html_static_path = [*config.html_static_path, str(STATIC)]


def no_template_messages(app) -> None:
    # The overrides' strings ("Search", "Color mode") are the theme's, translated by its own
    # catalog: keep them out of the book's (locales/README.md), which holds the chapters' text.
    if app.builder.name == "gettext":
        app.config.templates_path = [p for p in app.config.templates_path if p != str(TEMPLATES)]


def fix_body(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if not body:
        return
    label = SLIDER_LABEL.get((app.config.language or "en").split("_")[0], SLIDER_LABEL["en"])
    body = SLIDER.sub(rf'\1 aria-label="{label}"', body)
    body = body.replace(BIBLIOENTRY, 'role="listitem"')
    body = body.replace(SUMMARY, "<summary>")
    context["body"] = body


def setup(app) -> dict:
    app.connect("config-inited", add_paths)
    app.connect("builder-inited", no_template_messages)
    app.add_css_file(STYLESHEET)
    app.connect("html-page-context", fix_body)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
