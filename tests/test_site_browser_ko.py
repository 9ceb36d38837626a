# ruff: noqa: F811  (the fixtures browser and base_url come from tests/test_site_browser.py)
"""The Korean edition of the built site (_build/html/ko), and the switch between the editions.

tests/test_site_browser.py opens every page of the site, the Korean ones included (they lie under
``ko/``): no console error, math typeset, images, sliders. This file adds what is particular to
the Korean edition (book/_ext/editions.py, locales/README.md):

* every page of each edition links to the same page of the other, and following the link in the
  browser lands there;
* the Korean pages say they are Korean (``<html lang="ko">``) and their Hangul is drawn with the
  site's own Korean font;
* a page whose catalog leaves messages untranslated shows a visible notice, a page declared
  translated shows none; the front page says what stays as it is.

Run after ``make book``; needs Debian's chromium (see tests/test_site_browser.py).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from test_site_browser import (  # noqa: F401  (browser, base_url: fixtures used by name)
    KOREAN_FONT,
    PAGES,
    SITE,
    base_url,
    browser,
    hangul_fonts,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_translations import declared, messages, pages  # noqa: E402

pytestmark = pytest.mark.browser

KO = SITE / "ko"
SWITCH = re.compile(r'<div class="edition-switch"><a class="edition-link" href="([^"]+)" '
                    r'hreflang="(\w+)"')
HTML_LANG = re.compile(r'<html lang="([\w-]+)"')


def chapter_pages() -> list[str]:
    """The pages made from the book's chapters, as paths under each edition's root."""
    return [f"{name}.html" for name in pages()]


def _require_site():
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built site at {SITE}: run `make book` first")
    assert (KO / "index.html").is_file(), (
        f"the English site is built but not the Korean one ({KO}): run `make book`, or "
        "`.venv/bin/python locales/build.py html` after `jupyter-book build`")


def _switch(path: Path) -> tuple[str, str]:
    match = SWITCH.search(path.read_text(encoding="utf-8"))
    assert match, f"{path}: no link to the other edition"
    return match.group(1), match.group(2)


def test_the_general_browser_checks_cover_the_korean_pages():
    _require_site()
    korean = [p for p in PAGES if p.startswith("ko/")]
    assert len(korean) >= len(chapter_pages()), (
        f"tests/test_site_browser.py checks {len(korean)} Korean pages, the book has "
        f"{len(chapter_pages())} chapters")


@pytest.mark.parametrize("page", chapter_pages())
def test_each_page_links_to_itself_in_the_other_edition(page):
    _require_site()
    english, korean = SITE / page, KO / page
    assert korean.is_file(), f"no Korean page {korean}"
    href, language = _switch(english)
    assert language == "ko" and (english.parent / href).resolve() == korean.resolve(), (
        f"{page}: the English page links to {href}")
    href, language = _switch(korean)
    assert language == "en" and (korean.parent / href).resolve() == english.resolve(), (
        f"ko/{page}: the Korean page links to {href}")
    assert HTML_LANG.search(korean.read_text(encoding="utf-8")).group(1) == "ko"
    assert HTML_LANG.search(english.read_text(encoding="utf-8")).group(1) == "en"


@pytest.mark.parametrize("page", chapter_pages())
def test_untranslated_pages_say_so(page):
    """A page with messages its catalog leaves empty or fuzzy carries the notice; a page
    declared translated carries none (the Korean build fails if it should)."""
    _require_site()
    name = page[: -len(".html")]
    html = (KO / page).read_text(encoding="utf-8")
    notice = "edition-untranslated" in html
    untranslated = [m for m in messages(name) if not m.string.strip() or m.fuzzy]
    if name in declared():
        assert not notice, f"ko/{page} is declared translated but shows the notice"
    if untranslated:
        assert notice, (f"ko/{page}: {len(untranslated)} messages are not translated, "
                        "yet the page does not say so")


def _goto(page, url):
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")


def test_switch_links_work_in_the_browser(browser, base_url):
    """Follow the switch from a nested chapter to Korean and back, as a reader would."""
    _require_site()
    chapter = next(p for p in chapter_pages() if p.count("/") >= 2)
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    try:
        _goto(page, base_url + chapter)
        link = page.locator(".edition-switch a")
        assert link.is_visible() and link.inner_text().strip() == "한국어"
        link.click()
        page.wait_for_url(f"**/ko/{chapter}", wait_until="load")
        assert page.evaluate("document.documentElement.lang") == "ko"
        back = page.locator(".edition-switch a")
        assert back.is_visible() and back.inner_text().strip() == "English"
        back.click()
        page.wait_for_url(re.compile(r"/(?!ko/)" + re.escape(chapter) + "$"), wait_until="load")
        assert page.evaluate("document.documentElement.lang") == "en"
    finally:
        context.close()


# Mark, without changing the page's text, every visible element of the article whose own text
# has Hangul, with the count of those characters (data-hangul-own), once the fonts have loaded and
# the page has had time to draw with them. (Wrapping the text in new elements, as
# tests/test_site_browser.py does, makes the browser shape it again, which hides text that the
# first layout drew in the wrong font.) Report the state of the font.
MARK_HANGUL_ELEMENTS = r"""async (family) => {
  await document.fonts.ready;
  await new Promise(resolve => setTimeout(resolve, 500));
  const hangul = /[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff]/gu;
  const root = document.body;  // the navigation too: its captions and titles are translated
  const texts = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    if (el.closest('script, style') || !el.getClientRects().length) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === Node.TEXT_NODE)
      .map(n => n.textContent).join('');
    const chars = own.match(hangul);
    if (!chars) continue;
    el.dataset.hangulOwn = chars.length;
    texts.push(own.trim());
  }
  const faces = [...document.fonts].filter(f => f.family.replace(/["']/g, '') === family);
  return {texts, statuses: faces.map(f => f.status)};
}"""


def _hangul_drawn(browser, url) -> tuple[dict, list]:
    """For every element with Hangul in its own text: its Hangul count, the glyphs the site's
    font drew in it, and the fonts used, as the browser first drew the page."""
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    try:
        _goto(page, url)
        state, drawn = hangul_fonts(context, page, MARK_HANGUL_ELEMENTS, "data-hangul-own")
    finally:
        context.close()
    return state, drawn


@pytest.mark.parametrize("page", ["book/intro.html", "book/glossary.html"])
def test_korean_pages_use_the_sites_korean_font(page, browser, base_url):
    _require_site()
    state, drawn = _hangul_drawn(browser, base_url + "ko/" + page)
    assert state["statuses"] and all(s == "loaded" for s in state["statuses"]), (
        f"ko/{page}: {KOREAN_FONT!r} is {state['statuses']}, not loaded")
    hangul = sum(expected for expected, _, _ in drawn)
    assert hangul > 500, f"ko/{page} has only {hangul} Hangul characters: is it translated?"
    wrong = [(e, o, f) for e, o, f in drawn if o < e]
    assert not wrong, (
        f"ko/{page}: Hangul not drawn with the site's font (Hangul characters, glyphs in our "
        f"font, fonts used): {wrong[:5]}")


def test_korean_front_page_says_what_stays_as_it_is(browser, base_url):
    _require_site()
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    try:
        _goto(page, base_url + "ko/index.html")
        page.wait_for_url("**/ko/book/intro.html", wait_until="load")
        note = page.locator(".edition-note")
        assert note.is_visible()
        text = note.inner_text()
        title = page.locator("article h1").first.inner_text()
    finally:
        context.close()
    for kept in ("코드", "수식", "glue", "축 이름"):
        assert kept in text, f"the Korean front page's note does not mention {kept!r}: {text}"
    assert re.search("[가-힣]", title), f"the Korean front page's title is not Korean: {title!r}"


def test_an_untranslated_page_shows_its_notice(browser, base_url):
    """The notice is visible on the page, not only present in its HTML."""
    _require_site()
    untranslated = [p for p in chapter_pages()
                    if "edition-untranslated" in (KO / p).read_text(encoding="utf-8")]
    if not untranslated:
        pytest.skip("every Korean page is translated")
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    try:
        _goto(page, base_url + "ko/" + untranslated[0])
        notice = page.locator(".edition-untranslated")
        assert notice.is_visible(), f"ko/{untranslated[0]}: the notice is not visible"
        assert "번역" in notice.inner_text()
    finally:
        context.close()


LIVE_PAGES = ["book/background/ema.html", "book/adam/bias_correction.html",
              "book/related/explorer.html"]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def _live_words(page) -> dict:
    page.wait_for_function("() => [...document.querySelectorAll('.adamlive')]"
                           ".every(r => r.adamliveState)")
    return page.evaluate("""() => [...document.querySelectorAll('.adamlive')].map(r => ({
        status: r.querySelector('.adamlive-status').textContent,
        labels: [...r.querySelectorAll('.adamlive-knob > label, legend')].map(e => e.textContent.trim()),
        aria: [...r.querySelectorAll('canvas')].map(c => c.getAttribute('aria-label')),
    }))""")


@pytest.mark.parametrize("path", LIVE_PAGES)
def test_live_figures_speak_the_pages_language(path, browser, base_url):
    """The text under each live figure, its controls and its canvases' descriptions are Korean
    on the Korean page, English on the English one, and the Korean text carries every number of
    the English one."""
    _require_site()
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    try:
        _goto(page, base_url + path)
        english = _live_words(page)
        _goto(page, base_url + "ko/" + path)
        korean = _live_words(page)
    finally:
        context.close()
    hangul = re.compile("[가-힣]")
    assert english and len(english) == len(korean), f"{path}: {len(english)} vs {len(korean)} figures"
    for en, ko in zip(english, korean):
        assert not hangul.search(en["status"]) and hangul.search(ko["status"]), (en, ko)
        assert all(hangul.search(a) for a in ko["aria"]), f"ko/{path}: {ko['aria']}"
        assert not any(hangul.search(a) for a in en["aria"]), f"{path}: {en['aria']}"
        worded = [label for label in ko["labels"] if re.search("[A-Za-z가-힣]{3,}", label)]
        assert all(hangul.search(label) for label in worded), f"ko/{path}: {ko['labels']}"
        # every number of the English text is in the Korean one ("2차", the second, adds one)
        assert not Counter(NUMBER.findall(en["status"])) - Counter(NUMBER.findall(ko["status"])), (
            en["status"], ko["status"])
