"""The Korean edition: extract the English messages, update the catalogs, build the Korean site.

    python locales/build.py gettext   # English messages -> _build/gettext/<chapter>.pot
    python locales/build.py update    # gettext, then sphinx-intl: locales/ko/LC_MESSAGES/<chapter>.po
    python locales/build.py html      # the Korean site -> _build/html/ko

The English chapters are the only source. Each step runs Jupyter Book's own Sphinx build with the
book's ``_config.yml``; only the builder, the language and the output folders change. Every edition
reads the notebooks' outputs from the one execution cache, ``_build/.jupyter_cache``, so a notebook
that the English build has run is never run again here. Each build keeps its own doctree folder:
Sphinx's gettext builder cannot share one with the HTML builder, and the Korean build would
otherwise re-read every page each time the language changes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
LOCALES = ROOT / "locales"
LANGUAGE = "ko"


def sphinx(builder: str, outdir: Path, doctrees: Path, strict: bool = True, **overrides) -> int:
    from jupyter_book.sphinx import build_sphinx

    config = {
        "external_toc_path": (ROOT / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
        # myst-nb would put the cache beside the output folder; all editions share the English one
        "nb_execution_cache_path": str(BUILD / ".jupyter_cache"),
        **overrides,
    }
    result = build_sphinx(ROOT, outdir, use_external_toc=True, noconfig=True,
                          path_config=str(ROOT / "_config.yml"), confoverrides=config,
                          doctreedir=doctrees, builder=builder, warningiserror=strict,
                          keep_going=True)
    if isinstance(result, Exception):
        raise result
    return int(result or 0)


class _Tee:
    """A stream that also keeps what is written to it (Sphinx's warnings, here)."""

    def __init__(self, stream):
        self.stream, self.text = stream, []

    def write(self, text):
        self.text.append(text)
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def gettext() -> int:
    # A warning about the English pages (a failed glue format, a broken reference) is the English
    # build's to report, with -W; it changes no message, so extraction goes on. A notebook that
    # failed to run is different: its glued figures and their captions are missing from the
    # extracted messages, and `update` would delete their translations.
    tee = _Tee(sys.stderr)
    sys.stderr = tee
    try:
        status = sphinx("gettext", BUILD / "gettext", BUILD / ".doctrees-gettext", strict=False)
    finally:
        sys.stderr = tee.stream
    failed = sorted(set(re.findall(r"(book/\S+?\.md): WARNING: Executing notebook failed",
                                   "".join(tee.text))))
    if failed:
        # read these pages again next time, instead of their doctrees without the outputs
        shutil.rmtree(BUILD / ".doctrees-gettext", ignore_errors=True)
        print(f"\nThese chapters failed to run, so their messages are incomplete: "
              f"{', '.join(failed)}. Fix the error shown above (a missing dataset: set "
              "ADAMLAB_DATA) and run this again; the catalogs are left as they were.",
              file=sys.stderr)
        return 1
    return status


def update() -> int:
    status = gettext()
    if status:
        return status
    status = subprocess.call([sys.executable, "-m", "sphinx_intl", "update",
                              "--pot-dir", str(BUILD / "gettext"),
                              "--locale-dir", str(LOCALES), "--language", LANGUAGE,
                              "--line-width", "-1"])
    for po in (LOCALES / LANGUAGE / "LC_MESSAGES").rglob("*.po"):
        drop_format_flags(po)
    return status


FORMAT_FLAGS = {"python-format", "python-brace-format", "no-python-format",
                "no-python-brace-format"}


def drop_format_flags(po: Path) -> None:
    """Babel marks prose such as "90% of" or "{glue:text}`x`" as a Python format string, and
    `msgfmt -c` then rejects a Korean translation that cannot repeat the pattern; no message of
    the book is a format string, so the flags go."""
    lines = []
    for line in po.read_text(encoding="utf-8").splitlines():
        if line.startswith("#,"):
            flags = [f.strip() for f in line[2:].split(",") if f.strip() not in FORMAT_FLAGS]
            if not flags:
                continue
            line = "#, " + ", ".join(flags)
        lines.append(line)
    po.write_text("\n".join(lines) + "\n", encoding="utf-8")


def html() -> int:
    return sphinx("html", BUILD / "html" / LANGUAGE, BUILD / f".doctrees-{LANGUAGE}",
                  language=LANGUAGE)


if __name__ == "__main__":
    steps = {"gettext": gettext, "update": update, "html": html}
    if len(sys.argv) != 2 or sys.argv[1] not in steps:
        sys.exit(__doc__)
    sys.exit(steps[sys.argv[1]]())
