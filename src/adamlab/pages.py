"""The values a chapter's prose shows, computed by its code cells.

A chapter stores each number its text quotes with ``glue("name", value)`` and its prose shows it
with an inline expression, ``{eval}`f"{glued.name:.3f}"```. The same expression is evaluated in
the running kernel by JupyterLab (jupyterlab-myst) and, while the book is built, by a cell the
build inserts before the paragraph (``book/_ext/inline_eval.py``), so the notebook and the website
show the same text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["glue", "glued"]


class Glued:
    """The chapter's named values: ``glued.bc_c1``, or ``glued["window_0.9"]`` for any name."""

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name not in values:
            hint = "run the cells above this paragraph first" if values else "run the chapter's cells first"
            raise AttributeError(f"no value named {name!r} has been glued yet: {hint}")
        return values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"store {name!r} with glue({name!r}, value)")

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __dir__(self) -> list[str]:
        return sorted(self._values)

    def __repr__(self) -> str:
        return f"<glued: {', '.join(sorted(self._values)) or 'nothing yet'}>"


glued = Glued()


def glue(name: str, value: Any, display: bool = True) -> None:
    """Store ``value`` as ``glued.<name>`` for the prose; with ``display``, also show it here.

    A quantity that several pages state (``adamlab.quantities.SHARED``) must have its one value,
    whatever name a page gives it.
    """
    from .quantities import check_shared

    check_shared(name, value)
    glued._values[name] = value
    if display:
        from IPython.display import display as show

        show(value)
