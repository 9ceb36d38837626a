"""Keep the book theme's header: one search box, in the sidebar, and no bar above the page.

sphinx-book-theme 1.3 leaves the pydata theme's header bar empty (its theme.conf sets
``navbar_persistent`` to nothing), but pydata-sphinx-theme 0.17 puts its search field into
that bar whenever the *user's* ``html_theme_options`` lack the key, which Jupyter Book's never
have. Every page then showed a second search box in a bar of its own above the book. Naming
the key here, empty, gives the stock book layout. (``sphinx.config.html_theme_options`` in
_config.yml would replace the options Jupyter Book builds, launch and repository buttons
included, rather than add to them.)
"""

from __future__ import annotations


def no_header_search(app, config) -> None:
    config.html_theme_options.setdefault("navbar_persistent", [])


def setup(app) -> dict:
    app.connect("config-inited", no_header_search)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
