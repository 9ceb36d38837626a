"""The Korean web font the site serves (book/_ext/korean_font.py, book/_fonts/).

Without it, a reader with no Korean font installed sees every Hangul syllable of the book as an
empty box. These tests need no build: the committed font must have a glyph for every Hangul
character of the book's sources, be served from the site itself, carry its licence and a name
of its own, and the extension must warn about a character the font lacks. The browser test
(tests/test_site_browser.py, ``-k korean``) checks the built site.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

fontTools = pytest.importorskip("fontTools")
from fontTools.ttLib import TTFont  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "book" / "_fonts"
# Debian's fonts-nanum installs the original here; the README says the font was cut from it.
NANUM = Path(os.environ.get("ADAMLAB_NANUM", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"))

_spec = importlib.util.spec_from_file_location("korean_font", ROOT / "book" / "_ext" / "korean_font.py")
korean_font = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(korean_font)


def book_sources() -> list[Path]:
    """Every file whose text can reach the site: the chapters and the book's configuration."""
    return sorted((ROOT / "book").rglob("*.md")) + [ROOT / "_config.yml", ROOT / "_toc.yml"]


def test_committed_font_covers_every_hangul_character_of_the_book():
    used: dict[str, set[str]] = {}
    for path in book_sources():
        for char in korean_font.hangul_in(path.read_text(encoding="utf-8")):
            used.setdefault(char, set()).add(path.relative_to(ROOT).as_posix())
    # The glossary is in English and Korean: finding no Hangul means the scan is broken.
    assert {"학", "습", "률"} <= set(used), "no Hangul found in the book's sources"
    missing = {c: sorted(used[c]) for c in sorted(set(used) - korean_font.font_characters())}
    assert not missing, (
        f"{korean_font.SOURCE.name} has no glyph for {missing}: regenerate it "
        "(python book/_ext/korean_font.py NanumGothic.ttf) or choose another word")


def test_committed_font_is_ks_x_1001_hangul_and_the_jamo():
    chars = korean_font.font_characters()
    syllables = {c for c in chars if "\uac00" <= c <= "\ud7a3"}
    # KS X 1001 has 2,350 precomposed syllables; the compatibility jamo block has 94 letters.
    assert len(syllables) == 2350
    assert {chr(c) for c in range(0x3131, 0x318F)} <= chars
    assert "똠" not in chars  # a syllable outside KS X 1001: the subset is what README says


def test_the_font_is_renamed_and_carries_its_licence():
    with TTFont(korean_font.SOURCE) as font:
        names = {r.nameID: r.toUnicode() for r in font["name"].names if r.platformID == 3}
    assert names[1] == korean_font.FAMILY == "Adam Book Hangul"
    # The OFL reserves "Nanum" for the original: a modified font may not be called by it.
    assert not any("nanum" in names[i].lower() for i in (1, 3, 4, 6))
    assert "Open Font License" in names[13]
    licence = (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in licence and "NAVER Corporation" in licence
    readme = (FONTS / "README.txt").read_text(encoding="utf-8")
    assert "NanumGothic" in readme and "fonts-nanum" in readme


def test_the_site_serves_the_font_itself():
    css = korean_font.CSS
    urls = re.findall(r"url\(\"?([^\")]+)", css)
    assert urls == [korean_font.TARGET]  # relative to _static: no CDN, no other host
    assert not re.search(r"https?://|//[a-z]", css)
    ranges = korean_font.UNICODE_RANGE.replace("U+", "").split(", ")
    assert "AC00-D7FF" in ranges  # the Hangul syllables
    # The committed file is a real font, not a Git LFS pointer.
    assert korean_font.SOURCE.read_bytes()[:4] == b"wOFF"


def _fake_app(outdir: Path) -> SimpleNamespace:
    return SimpleNamespace(outdir=str(outdir), builder=SimpleNamespace(format="html"))


def test_build_cuts_the_font_to_the_pages_hangul_and_warns_about_a_missing_one(tmp_path, caplog):
    (tmp_path / "glossary.html").write_text("<p>학습률, 기울기</p>", encoding="utf-8")
    (tmp_path / "other.html").write_text("<p>no Korean here</p>", encoding="utf-8")
    korean_font.write_css(_fake_app(tmp_path))
    assert (tmp_path / "_static" / korean_font.CSS_NAME).read_text() == korean_font.CSS
    korean_font.write_font(_fake_app(tmp_path), None)
    cut = tmp_path / "_static" / korean_font.TARGET
    assert korean_font.font_characters(cut) == set("학습률기울")
    assert not [r for r in caplog.records if "korean_font" in r.getMessage()]

    (tmp_path / "rare.html").write_text("<p>똠방각하</p>", encoding="utf-8")
    korean_font.write_font(_fake_app(tmp_path), None)
    warnings = [r.getMessage() for r in caplog.records if "korean_font" in r.getMessage()]
    assert len(warnings) == 1 and "똠" in warnings[0] and "rare.html" in warnings[0]


@pytest.mark.skipif(not NANUM.is_file(), reason=f"no {NANUM} (apt-get install fonts-nanum)")
def test_committed_font_is_the_documented_cut_of_debians_nanumgothic(tmp_path):
    """Rebuilding from Debian's NanumGothic.ttf, as README.txt says, gives the committed font."""
    rebuilt = tmp_path / "rebuilt.woff"
    korean_font.make_committed_font(NANUM, rebuilt)
    with TTFont(rebuilt) as new, TTFont(korean_font.SOURCE) as old:
        assert sorted(new.keys()) == sorted(old.keys())
        for tag in new.keys():
            if tag not in ("GlyphOrder", "head"):  # head holds the time it was made
                assert new.getTableData(tag) == old.getTableData(tag), tag
