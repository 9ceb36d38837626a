"""Serve a Korean web font with the site, so that Hangul renders on machines without CJK fonts.

Without a Korean font installed, a browser draws every Hangul syllable of the site (the glossary,
the Korean terms in the chapters) as an empty box. The site therefore carries its own font, served
from ``_static`` like MathJax (no CDN):

* ``book/_fonts/adam-book-hangul.woff`` is NanumGothic (NAVER, SIL Open Font License 1.1, from
  Debian's ``fonts-nanum``) cut down to the Hangul syllables of KS X 1001 (every syllable of
  ordinary modern Korean) and the compatibility jamo, hinting dropped. The licence reserves the
  name "Nanum" for the original, so this modified version is named "Adam Book Hangul".
  ``book/_fonts/OFL.txt`` is its licence, ``book/_fonts/README.txt`` says how it was made.
* At every HTML build this extension writes ``_static/korean-font.css`` (an ``@font-face`` limited
  by ``unicode-range`` to Hangul, so a page without Hangul never downloads the font, and the
  theme's font stacks with the family put *first*: ``unicode-range`` keeps it to Hangul, while
  after the system stack it is never reached in bold text, where Chromium on Linux takes Hangul
  from ``system-ui``'s DejaVu Sans Bold, which has none, and draws empty boxes), and, once the
  pages are written, cuts the committed font down to the Hangul characters the built pages
  contain into ``_static/fonts/``. A Hangul character that the
  committed font lacks is a warning (an error under ``-W``): regenerate the font, as below.

Regenerate the committed font from the Debian font file:

    python book/_ext/korean_font.py /usr/share/fonts/truetype/nanum/NanumGothic.ttf
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FAMILY = "Adam Book Hangul"
POSTSCRIPT_NAME = "AdamBookHangul-Regular"
FONT_NAME = "adam-book-hangul.woff"
# The committed font, and where the site's own cut of it goes (relative to the output's _static).
SOURCE = Path(__file__).resolve().parents[1] / "_fonts" / FONT_NAME
TARGET = "fonts/" + FONT_NAME
CSS_NAME = "korean-font.css"

# Hangul Jamo, Hangul Compatibility Jamo, Jamo Extended-A, Hangul Syllables and Jamo Extended-B.
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff]")
UNICODE_RANGE = "U+1100-11FF, U+3130-318F, U+A960-A97F, U+AC00-D7FF"

CSS = f"""/* Hangul for readers without a Korean font: see book/_ext/korean_font.py. */
@font-face {{
  font-family: "{FAMILY}";
  src: url("{TARGET}") format("woff");
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  unicode-range: {UNICODE_RANGE};
}}
html {{
  --pst-font-family-base: "{FAMILY}", var(--pst-font-family-base-system);
  --pst-font-family-heading: "{FAMILY}", var(--pst-font-family-base-system);
  --pst-font-family-monospace: var(--pst-font-family-monospace-system), "{FAMILY}";
}}
:lang(ko) {{
  font-family: "{FAMILY}", var(--pst-font-family-base-system);
}}
"""


def hangul_in(text: str) -> set[str]:
    return set(HANGUL.findall(text))


def font_characters(path: Path = SOURCE) -> set[str]:
    """The characters the font at ``path`` has a glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(path) as font:
        return {chr(code) for code in font.getBestCmap()}


def _subset(source: Path, target: Path, *, text: str | None = None,
            unicodes: list[int] | None = None) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"           # zlib: no brotli needed, unlike woff2
    options.hinting = False           # the hinting instructions were most of the file
    options.layout_features = ["*"]
    options.name_IDs = ["*"]          # keep the copyright and licence records
    options.name_languages = [0x409]  # English records only
    options.drop_tables += ["TSI0", "TSI1", "TSI2", "TSI3", "TSI5"]  # VTT sources
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text or "", unicodes=unicodes or [])
    with TTFont(source) as font:
        subsetter.subset(font)
        if unicodes is not None:
            _rename(font)
        target.parent.mkdir(parents=True, exist_ok=True)
        subset.save_font(font, str(target), options)


def _rename(font) -> None:
    """Name the modified font apart from the original, as the licence's reserved names require."""
    name = font["name"]
    original = name.getDebugName(1)
    version = name.getDebugName(5) or ""
    for name_id in (1, 3, 4, 6, 16, 17, 20):
        name.removeNames(nameID=name_id)
    records = {
        1: FAMILY,
        2: "Regular",
        3: f"{POSTSCRIPT_NAME};{version}",
        4: FAMILY,
        6: POSTSCRIPT_NAME,
        10: f"A subset of {original} (Hangul only, no hinting), modified for the Adam book.",
        13: "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        14: "https://openfontlicense.org",
    }
    for name_id, value in records.items():
        name.setName(value, name_id, 3, 1, 0x409)
    # A family name in the CFF or post tables would still carry the old name: NanumGothic has
    # neither a CFF table nor glyph-name strings that name it, so the name table is the whole job.


def make_committed_font(original: Path, target: Path = SOURCE) -> None:
    """Cut the Debian NanumGothic down to KS X 1001's Hangul syllables and the jamo, renamed."""
    syllables = [
        code for code in range(0xAC00, 0xD7A4) if len(chr(code).encode("euc_kr", "ignore")) == 2
    ]
    jamo = list(range(0x3131, 0x318F))
    _subset(original, target, unicodes=syllables + jamo)


# --- the Sphinx side ------------------------------------------------------------------------

def write_css(app) -> None:
    if app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / CSS_NAME).write_text(CSS, encoding="utf-8")


def write_font(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    outdir = Path(app.outdir)
    used: dict[str, set[str]] = {}
    for page in outdir.rglob("*.html"):
        for char in hangul_in(page.read_text(encoding="utf-8", errors="replace")):
            used.setdefault(char, set()).add(page.relative_to(outdir).as_posix())
    missing = sorted(set(used) - font_characters())
    if missing:
        pages = sorted(set().union(*(used[c] for c in missing)))
        logging.getLogger(__name__).warning(
            "korean_font: %s has no glyph for %s (on %s): these show as empty boxes where no "
            "Korean font is installed; regenerate it (see book/_ext/korean_font.py)",
            SOURCE.name, " ".join(missing), ", ".join(pages),
        )
    _subset(SOURCE, outdir / "_static" / TARGET, text="".join(sorted(used)))


def setup(app) -> dict:
    app.connect("builder-inited", write_css)
    app.add_css_file(CSS_NAME)
    app.connect("build-finished", write_font)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {sys.argv[0]} /usr/share/fonts/truetype/nanum/NanumGothic.ttf")
    make_committed_font(Path(sys.argv[1]))
    print(f"wrote {SOURCE} ({SOURCE.stat().st_size // 1024} KiB)")
