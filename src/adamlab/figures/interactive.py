"""Figures with a slider that work everywhere: live in a notebook, precomputed on the website.

A chapter describes a figure once, as ``draw(ax_or_fig, value)``; ``static_slider`` renders
one frame per value into a self-contained HTML player (matplotlib's ``to_jshtml``: plain
JavaScript, no kernel, no CDN) for the static site, while ``live_slider`` wires the same
function to an ipywidgets control for readers who run the notebook.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape

import matplotlib.pyplot as plt
from matplotlib.animation import FuncAnimation


def static_slider(
    draw: Callable[[plt.Figure, object], None],
    values: Sequence,
    figsize=(6.0, 3.6),
    dpi: int = 72,
    alt: str | None = None,
):
    """Precompute ``draw(fig, v)`` for each v in ``values``; return an IPython HTML player.

    Keep ``values`` short and ``dpi`` low: every frame is embedded in the page as a PNG.
    ``alt`` describes the figure for readers who cannot see it (screen readers, broken
    images); without it the player's image gets a generic description.
    """
    from IPython.display import HTML

    if len(values) == 0:
        raise ValueError("static_slider needs at least one value to draw")
    fig = plt.figure(figsize=figsize, dpi=dpi)

    def frame(i):
        fig.clear()
        draw(fig, values[i])
        return []

    anim = FuncAnimation(fig, frame, frames=len(values), blit=False)
    html = anim.to_jshtml(fps=4, default_mode="once")
    plt.close(fig)
    description = alt or f"Figure with a slider over {len(values)} precomputed frames"
    html = html.replace("<img id=", f'<img alt="{escape(description)}" id=', 1)
    return HTML(offline_player(html))


# matplotlib's player draws its buttons with Font Awesome 4 icons, fetched from a CDN. The site
# must render with no internet, so the stylesheet link goes and each icon becomes a character.
_CDN_STYLESHEET = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">')
_ICONS = {
    "fa fa-minus": "\u2212",  # slower
    "fa fa-fast-backward": "\u21e4",  # first frame
    "fa fa-step-backward": "\u25c1",  # previous frame
    "fa fa-play fa-flip-horizontal": "\u25c0",  # play backwards
    "fa fa-pause": "\u275a\u275a",  # pause
    "fa fa-play": "\u25b6",  # play
    "fa fa-step-forward": "\u25b7",  # next frame
    "fa fa-fast-forward": "\u21e5",  # last frame
    "fa fa-plus": "+",  # faster
}


def offline_player(html: str) -> str:
    """Make a ``to_jshtml`` player self-contained: no stylesheet from a CDN, text buttons."""
    html = _CDN_STYLESHEET.sub("", html)
    for css_class, char in _ICONS.items():
        html = html.replace(f'<i class="{css_class}"></i>', char)
    if "://" in "".join(re.findall(r'(?:href|src)="([^"]*)"', html)):
        raise ValueError("the animation player still refers to an external resource")
    return html


def live_slider(draw: Callable[[plt.Figure, object], None], figsize=(6.0, 3.6), **controls):
    """Wire ``draw(fig, value)`` to ipywidgets controls (keyword name -> widget or abbreviation).

    ``draw`` receives a dict of the control values when several controls are given.
    Returns the ``interactive`` widget; it needs a running kernel to redraw.
    """
    import ipywidgets as widgets

    def show(**kw):
        fig = plt.figure(figsize=figsize)
        draw(fig, kw if len(kw) > 1 else next(iter(kw.values())))
        plt.show()

    return widgets.interactive(show, **controls)
