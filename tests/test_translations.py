"""The Korean catalogs (locales/ko/LC_MESSAGES/*.po), checked without building the book.

* every page of the book has its catalog, and every catalog a page;
* a chapter declared translated (locales/ko/translated.txt) has no untranslated or fuzzy message;
* every translation, in every catalog, keeps the markup of its English message: the same roles
  (glue, cite, ref, ... with their targets), link targets and URLs, each as often as in the
  English, and the same math spans and inline code (one may be repeated where Korean names a
  subject again, none dropped or added); book/_ext/editions.py: ``markup_changes``;
* the term variants that locales/README.md says to avoid do not appear.

The Korean build itself fails when a declared chapter has a message its catalog lacks (the
English text changed after the last `make po`), and marks every other such page as not
translated yet: see book/_ext/editions.py.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import editions  # noqa: E402

LOCALE = ROOT / "locales" / "ko"
CATALOGS = LOCALE / "LC_MESSAGES"
DECLARED = LOCALE / "translated.txt"

# Variants locales/README.md asks translators to avoid, with the glossary's term.
AVOID = {
    "학습율": "학습률", "러닝 레이트": "학습률",
    "바이어스 보정": "편향 보정", "편향 교정": "편향 보정",
    "지수 가중 평균": "지수 이동 평균", "지수이동평균": "지수 이동 평균",
    "모먼트": "모멘트", "경사도": "기울기", "구배": "기울기",
    "경사하강법": "경사 하강법", "미니 배치": "미니배치", "매개 변수": "파라미터",
    "웨이트 디케이": "가중치 감쇠",
}


def pages() -> list[str]:
    """The page names of _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return names


def catalog_names() -> list[str]:
    return sorted(p.relative_to(CATALOGS).with_suffix("").as_posix() for p in CATALOGS.rglob("*.po"))


def declared() -> list[str]:
    if not DECLARED.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in DECLARED.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def messages(name: str):
    """The messages of a page's catalog (the header left out)."""
    with open(CATALOGS / f"{name}.po", "rb") as handle:
        catalog = read_po(handle, locale="ko")
    return [m for m in catalog if m.id]


def markup_differences(msgid: str, msgstr: str) -> str:
    """What a translation dropped from, or added to, the markup of its English message."""
    dropped, added = editions.markup_changes(msgid, msgstr)
    if not dropped and not added:
        return ""
    return f"dropped {dropped}, added {added}"


CATALOG_NAMES = catalog_names()


def test_every_page_has_a_catalog():
    assert CATALOG_NAMES, f"no catalogs under {CATALOGS}: run `make po`"
    missing = sorted(set(pages()) - set(CATALOG_NAMES))
    orphans = sorted(set(CATALOG_NAMES) - set(pages()))
    assert not missing, f"pages without a catalog (run `make po`): {missing}"
    assert not orphans, f"catalogs of no page in _toc.yml (delete them): {orphans}"


def test_declared_chapters_are_pages():
    unknown = sorted(set(declared()) - set(pages()))
    assert not unknown, f"{DECLARED} lists pages that are not in _toc.yml: {unknown}"


@pytest.mark.parametrize("name", declared())
def test_declared_chapter_is_complete(name):
    untranslated = [m.id for m in messages(name) if not m.string.strip()]
    fuzzy = [m.id for m in messages(name) if m.fuzzy and m.string.strip()]
    assert not untranslated, (
        f"{name} is declared translated but {len(untranslated)} messages have no translation: "
        f"{[u[:60] for u in untranslated[:5]]}")
    assert not fuzzy, (
        f"{name} is declared translated but {len(fuzzy)} translations are fuzzy (the English "
        f"changed; check them and remove `#, fuzzy`): {[f[:60] for f in fuzzy[:5]]}")


@pytest.mark.parametrize("name", CATALOG_NAMES)
def test_translations_keep_the_markup(name):
    broken = []
    for message in messages(name):
        if not message.string.strip() or message.fuzzy:
            continue  # not used by the build
        difference = markup_differences(message.id, message.string)
        if difference:
            broken.append(f"{message.id[:70]!r}: {difference}")
    assert not broken, f"{name}: translations that change the markup:\n  " + "\n  ".join(broken)


@pytest.mark.parametrize("name", CATALOG_NAMES)
def test_translations_use_the_glossary_terms(name):
    found = []
    for message in messages(name):
        for variant, term in AVOID.items():
            if variant in message.string and variant not in message.id:
                found.append(f"{variant!r} (use {term!r}) in {message.string[:60]!r}")
    assert not found, f"{name}:\n  " + "\n  ".join(found)


def unclosed_bold(text: str) -> list[str]:
    """Closing ``**`` that CommonMark leaves as asterisks: right after punctuation (a backtick,
    a bracket) and right before a letter, as a Korean particle follows a word (`x`**이다)."""
    marks = [i for i in range(len(text) - 1) if text.startswith("**", i)
             and not text.startswith("***", max(i - 1, 0))]
    found = []
    for closer in marks[1::2]:
        before, after = text[closer - 1: closer], text[closer + 2: closer + 3]
        if before and after and not before.isalnum() and not before.isspace() and after.isalnum():
            found.append(text[max(0, closer - 30): closer + 8])
    return found


@pytest.mark.parametrize("name", CATALOG_NAMES)
def test_bold_closes_before_a_particle(name):
    found = [f"{message.string[:50]!r}: ...{snippet}..." for message in messages(name)
             if message.string and not message.fuzzy for snippet in unclosed_bold(message.string)]
    assert not found, (f"{name}: bold that does not close (put the particle inside, or the "
                       "punctuation outside the bold):\n  " + "\n  ".join(found))


def test_unclosed_bold_check():
    assert unclosed_bold("모든 주장이 **{eval}`x`**이다.")
    assert unclosed_bold("**감쇠(AdamW)**는")
    assert not unclosed_bold("**분리된 가중치 감쇠**(AdamW)는 **`x`**. 그리고 (**볼록**")


def test_no_catalog_message_is_without_words():
    """What has nothing to translate (a lone formula, number or code name) is kept out."""
    empty = [(name, m.id) for name in CATALOG_NAMES for m in messages(name)
             if not editions.has_words(m.id)]
    assert not empty, f"messages with nothing to translate: {empty[:5]}"


# --- the checker itself -----------------------------------------------------------------------

ENGLISH = ("Adam {cite:p}`kingma2015adam` reaches {glue:text}`loss:.3f` after $T$ steps with "
           "`lr` set to $\\alpha$; see {ref}`the update rule <adam-update-rule>` and "
           "[the paper](https://arxiv.org/abs/1412.6980).")


@pytest.mark.parametrize("korean", [
    # all kept, moved, with the shown texts translated
    "`lr`를 $\\alpha$로 두면 Adam {cite:p}`kingma2015adam`은 $T$ 스텝 뒤에 "
    "{glue:text}`loss:.3f`에 이른다. {ref}`업데이트 규칙 <adam-update-rule>`과 "
    "[논문](https://arxiv.org/abs/1412.6980)을 보라.",
])
def test_markup_check_accepts_a_faithful_translation(korean):
    assert markup_differences(ENGLISH, korean) == ""


@pytest.mark.parametrize("korean, lost", [
    # a glued value typed in
    ("Adam {cite:p}`kingma2015adam`은 $T$ 스텝 뒤에 0.123에 이른다. `lr`, $\\alpha$, "
     "{ref}`규칙 <adam-update-rule>`, [논문](https://arxiv.org/abs/1412.6980).", "glue:text"),
    # a citation changed
    ("Adam {cite:t}`kingma2015adam`은 $T$ 스텝 뒤에 {glue:text}`loss:.3f`. `lr`, $\\alpha$, "
     "{ref}`규칙 <adam-update-rule>`, [논문](https://arxiv.org/abs/1412.6980).", "cite:p"),
    # math changed
    ("Adam {cite:p}`kingma2015adam`은 $t$ 스텝 뒤에 {glue:text}`loss:.3f`. `lr`, $\\alpha$, "
     "{ref}`규칙 <adam-update-rule>`, [논문](https://arxiv.org/abs/1412.6980).", "T"),
    # a reference pointed elsewhere
    ("Adam {cite:p}`kingma2015adam`은 $T$ 스텝 뒤에 {glue:text}`loss:.3f`. `lr`, $\\alpha$, "
     "{ref}`규칙 <adam-algorithm>`, [논문](https://arxiv.org/abs/1412.6980).", "adam-update-rule"),
    # a link dropped
    ("Adam {cite:p}`kingma2015adam`은 $T$ 스텝 뒤에 {glue:text}`loss:.3f`. `lr`, $\\alpha$, "
     "{ref}`규칙 <adam-update-rule>`, 논문.", "https://arxiv.org/abs/1412.6980"),
    # inline code translated
    ("Adam {cite:p}`kingma2015adam`은 $T$ 스텝 뒤에 {glue:text}`loss:.3f`. `학습률`, $\\alpha$, "
     "{ref}`규칙 <adam-update-rule>`, [논문](https://arxiv.org/abs/1412.6980).", "lr"),
])
def test_markup_check_catches_a_change(korean, lost):
    difference = markup_differences(ENGLISH, korean)
    assert difference and lost in difference


def test_markup_repeats():
    """The same set of formulas and code names (Korean may name one again where English says
    "it"), none dropped or brought in; each glued value, citation or link exactly as often."""
    assert markup_differences("$x$ is small: it is $x$.", "$x$는 작다.") == ""
    assert markup_differences("$\\zeta$ is small; it vanishes.",
                              "$\\zeta$는 작다. $\\zeta$는 사라진다.") == ""
    assert "h" in markup_differences("the half-life $H$", "반감기 $H$, 곧 $h$")
    assert "dropped" in markup_differences("$a$ and $b$", "$a$")
    assert "glue" in markup_differences("{glue:text}`x` and {glue:text}`x`", "{glue:text}`x`")
    assert "glue" in markup_differences("{glue:text}`x`", "{glue:text}`x`, {glue:text}`x`")
    assert "cite" in markup_differences("{cite:p}`k`", "{cite:p}`k` {cite:p}`k`")
    assert editions.markup("$$a$$ and $b$") == Counter({("math", "a"): 1, ("math", "b"): 1})


def test_wordless_messages():
    assert not editions.has_words("$\\beta_1 = 0.9$, `lr`")
    assert not editions.has_words("{glue:text}`x:.3f`")
    assert editions.has_words("AdaMax")
    assert editions.has_words("학습률")
    # a reference's shown text is translated
    assert editions.has_words("$x$ ({ref}`first vs second order <background-second-order>`)")


def test_a_chapter_that_failed_to_run_leaves_the_catalogs_alone(monkeypatch, tmp_path, capsys):
    """Its glued captions are missing from the extracted messages; updating the catalogs from
    them would delete their translations, so `update` stops before sphinx-intl runs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("locales_build", ROOT / "locales" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)

    def failing_sphinx(*args, **kwargs):
        sys.stderr.write("\x1b[91m/x/book/experiments/cnn.md: WARNING: Executing notebook failed: "
                         "CellExecutionError\x1b[39;49;00m\n")
        return 0

    monkeypatch.setattr(build, "sphinx", failing_sphinx)
    monkeypatch.setattr(build, "BUILD", tmp_path)
    monkeypatch.setattr(build.subprocess, "call", lambda *a, **k: pytest.fail("sphinx-intl ran"))
    (tmp_path / ".doctrees-gettext").mkdir()
    assert build.update() == 1
    assert "book/experiments/cnn.md" in capsys.readouterr().err
    assert not (tmp_path / ".doctrees-gettext").exists()  # the pages are read again next time
