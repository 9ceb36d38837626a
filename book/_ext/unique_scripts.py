"""Write each inline script into a page only once.

Jupyter Book loads sphinx-thebe even with thebe off. Inline scripts (sphinx-thebe's
``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector) reach the builder twice, once
with the file name ``''`` and once with ``None``, which Sphinx does not see as equal; the second
copy of the thebe one throws "Identifier 'THEBE_JS_URL' has already been declared" in every
reader's console. Scripts equal up to that are dropped here, the first copy kept in place.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: other handlers of this event may still append to the same list.
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    # After the default priority (500), so that scripts added by other handlers are seen too.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
