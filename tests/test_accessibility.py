# ruff: noqa: F811  (the fixtures browser and base_url come from tests/test_site_browser.py)
"""Accessibility of the built site, both editions, measured with axe-core.

axe-core (the engine behind Lighthouse) runs in headless Chromium on every page of the English
edition and of the Korean one (``ko/``), with the WCAG 2.0 and 2.1 level A and AA rules. A page
fails on any violation of impact critical or serious; the moderate and minor ones are printed
(run pytest with ``-s`` to see them; the summary at the end counts every rule's pages and nodes).

What axe cannot see is checked on its own: each live figure (the explorer, the EMA and the bias
correction figures), in both editions, is worked by keyboard alone and says what changed in its
aria-live status line; MathJax leaves assistive MathML beside every formula for screen readers;
every page at 320 CSS px wide (WCAG 1.4.10, reflow) has no horizontal scrolling of its text.

axe-core comes from npm, pinned in package.json and package-lock.json at the repository root:
``npm ci`` installs it into node_modules/ (``make test`` does). Nothing is fetched while the
tests run. Run after the book build; needs Debian's chromium (see tests/test_site_browser.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from test_site_browser import (  # noqa: F401  (browser, base_url: fixtures used by name)
    BIAS_PAGE,
    EMA_PAGE,
    EXPLORER_PAGE,
    PAGES,
    REDIRECT,
    SITE,
    WAIT_FOR_MATHJAX,
    _live_page,
    base_url,
    browser,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"][
    "axe-core"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"critical", "serious"}

# Run in the page once axe is injected: the violations of the WCAG A/AA rules, each with the
# selectors of the nodes that fail it.
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '),
                              summary: (n.failureSummary || '').split('\\n').slice(0, 3).join(' ')})),
  }));
}"""

# rule -> impact, pages and node count, filled by the page tests and printed by the last one.
_SEEN: dict[str, dict] = defaultdict(lambda: {"impact": "", "pages": set(), "nodes": 0})
_AUDITED: list[str] = []


def _axe_source() -> str:
    if not AXE.is_file():
        pytest.skip(f"no axe-core at {AXE}: run `npm ci` at the repository root")
    version = json.loads((AXE.parent / "package.json").read_text(encoding="utf-8"))["version"]
    assert version == AXE_VERSION, (
        f"node_modules holds axe-core {version}, package.json pins {AXE_VERSION}: run `npm ci`")
    return str(AXE)


def audit(browser, base_url, name: str, width: int = 1200) -> list[dict]:
    """The WCAG A/AA violations axe finds on one page of the built site."""
    context = browser.new_context(viewport={"width": width, "height": 1600})
    page = context.new_page()
    try:
        page.goto(base_url + name, wait_until="load")
        redirect = REDIRECT.search((SITE / name).read_text(encoding="utf-8"))
        if redirect:  # index.html forwards to the first chapter: audit where it lands
            page.wait_for_url(f"**/{redirect.group(1)}", wait_until="load")
        page.evaluate(WAIT_FOR_MATHJAX)
        page.wait_for_load_state("networkidle")
        page.add_script_tag(path=_axe_source())
        return page.evaluate(RUN_AXE, WCAG_TAGS)
    finally:
        context.close()


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
        lines += [f"      {n['target']}: {n['summary']}" for n in v["nodes"][:5]]
    return "\n".join(lines)


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violation(name, browser, base_url):
    violations = audit(browser, base_url, name)
    _AUDITED.append(name)
    for v in violations:
        seen = _SEEN[v["id"]]
        seen["impact"] = v["impact"]
        seen["pages"].add(name)
        seen["nodes"] += len(v["nodes"])
    minor = [v for v in violations if v["impact"] not in BLOCKING]
    if minor:
        print(f"\n{name}: moderate/minor accessibility findings\n{_describe(minor)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, (
        f"{name}: axe-core {AXE_VERSION} finds critical/serious WCAG 2.1 AA violations\n"
        f"{_describe(blocking)}")


def test_accessibility_summary(capsys):
    """Print every rule axe flagged on the pages audited in this run (runs after them)."""
    if not _AUDITED:
        pytest.skip("no page was audited in this run")
    rows = [f"{'rule':32} {'impact':9} {'pages':>5} {'nodes':>5}"]
    for rule, seen in sorted(_SEEN.items()):
        rows.append(f"{rule:32} {seen['impact']:9} {len(seen['pages']):5} {seen['nodes']:5}")
    with capsys.disabled():
        print(f"\naxe-core {AXE_VERSION} on {len(_AUDITED)} pages (WCAG 2.0/2.1 A and AA): "
              + ("\n" + "\n".join(rows) if _SEEN else "no violation"))


# --- Beyond what axe checks ----------------------------------------------------------------------

LIVE_FIGURES = [(EXPLORER_PAGE, "explorer"), (EMA_PAGE, "ema"), (BIAS_PAGE, "bias")]

# Mark the live figure's controls in the order the page lists them; return what each is.
MARK_CONTROLS = """(kind) => {
  const root = document.querySelector(`.adamlive[data-figure="${kind}"]`);
  const controls = [...root.querySelectorAll('input, select, button, textarea, [tabindex]')]
    .filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length);
  controls.forEach((e, i) => e.setAttribute('data-a11y-index', i));
  return controls.map(e => e.tagName.toLowerCase() + (e.tagName === 'INPUT' ? ':' + e.type : ''));
}"""

FIGURE_NOW = """(kind) => {
  const root = document.querySelector(`.adamlive[data-figure="${kind}"]`);
  const status = root.querySelector('[aria-live]');
  return {state: JSON.stringify(root.adamliveState),
          live: status ? status.getAttribute('aria-live') : null,
          status: status ? status.textContent : null,
          focused: document.activeElement.getAttribute('data-a11y-index')};
}"""


@pytest.mark.parametrize("edition", ["", "ko/"])
@pytest.mark.parametrize("page_name,kind", LIVE_FIGURES)
def test_live_figure_works_from_the_keyboard_and_announces_changes(
        browser, base_url, page_name, kind, edition):
    """Tab reaches every control of the figure in order; each, worked by keys alone, changes
    the figure, and the status line, an aria-live region, says what it now shows."""
    context, page, errors, foreign = _live_page(browser, base_url, edition + page_name, kind)
    try:
        controls = page.evaluate(MARK_CONTROLS, kind)
        assert controls, f"{kind}: no focusable control"
        page.locator('[data-a11y-index="0"]').focus()
        for index in range(1, len(controls)):
            page.keyboard.press("Tab")
            now = page.evaluate(FIGURE_NOW, kind)
            assert now["focused"] == str(index), (
                f"{kind}: Tab from control {index - 1} ({controls[index - 1]}) lands on "
                f"{now['focused']}, not on control {index} ({controls[index]})")
        silent = []
        for index, what in enumerate(controls):
            control = page.locator(f'[data-a11y-index="{index}"]')
            control.focus()
            before = page.evaluate(FIGURE_NOW, kind)
            assert before["live"] in ("polite", "assertive") and before["status"].strip(), (
                f"{kind}: no status line in an aria-live region")
            if what == "input:range":
                at_max = control.evaluate("e => +e.value >= +e.max")
                page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
            elif what == "input:checkbox":
                page.keyboard.press("Space")
            elif what == "select":
                page.keyboard.press("ArrowDown")
            elif what == "canvas":
                page.keyboard.press("ArrowLeft")
            elif what in ("input:number", "input:text"):
                control.evaluate("e => e.select()")
                page.keyboard.type("0.5")
                page.keyboard.press("Enter")
            elif what == "button":
                page.keyboard.press("Enter")
                continue  # a reset button may leave a figure as it is
            else:
                pytest.fail(f"{kind}: a control this test does not know how to work: {what}")
            after = page.evaluate(FIGURE_NOW, kind)
            if after["state"] == before["state"] and after["status"] == before["status"]:
                silent.append(f"{index} ({what}) left the figure as it was")
            elif after["status"] == before["status"]:
                silent.append(f"{index} ({what}) changed the figure, the status line says nothing new")
        assert not silent, f"{kind}, worked by keyboard:\n" + "\n".join(silent)
        assert not errors and not foreign, (errors, foreign)
    finally:
        context.close()


MATHML = """() => {
  const containers = [...document.querySelectorAll('mjx-container')];
  return {
    total: containers.length,
    without: containers.filter(c => !c.querySelector('mjx-assistive-mml math'))
      .map(c => c.textContent.slice(0, 60)),
    hidden: containers.filter(c => {
      const m = c.querySelector('mjx-assistive-mml');
      return m && (m.getAttribute('aria-hidden') === 'true' || getComputedStyle(m).display === 'none');
    }).length,
  };
}"""


@pytest.mark.parametrize("name", ["book/adam/algorithm.html", "ko/book/adam/algorithm.html",
                                  "book/background/ema.html", "ko/book/background/ema.html"])
def test_math_is_exposed_to_screen_readers(name, browser, base_url):
    """MathJax writes assistive MathML beside every typeset formula, for screen readers."""
    if name not in PAGES:
        pytest.skip(f"no {name} in the site at {SITE}")
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    try:
        page.goto(base_url + name, wait_until="load")
        assert page.evaluate(WAIT_FOR_MATHJAX) == "typeset"
        math = page.evaluate(MATHML)
    finally:
        context.close()
    assert math["total"] > 10, math
    assert not math["without"], f"{name}: formulas without assistive MathML: {math['without'][:5]}"
    assert not math["hidden"], f"{name}: {math['hidden']} assistive MathML blocks hidden"


# The page's own horizontal scrolling at the viewport's width, and text that runs past the
# viewport's right edge (wide tables, code and display math scroll in their own boxes, which
# WCAG 1.4.10 allows).
REFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const inScrollBox = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const text = [...document.querySelectorAll(
      'article :is(p, li, dd, dt, h1, h2, h3, h4, figcaption, code, a, em, strong)')]
    .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
    .filter(e => !e.closest('table, pre, mjx-container, .animation') && !inScrollBox(e))
    .map(e => e.tagName.toLowerCase() + ': ' + e.textContent.trim().slice(0, 60));
  return {scroll: document.scrollingElement.scrollWidth - width, text};
}"""


@pytest.mark.parametrize("name", PAGES)
def test_page_reflows_at_320_px(name, browser, base_url):
    """At 320 CSS px wide (a 1280 px window at 400% zoom) the text needs no horizontal scrolling."""
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    try:
        page.goto(base_url + name, wait_until="load")
        redirect = REDIRECT.search((SITE / name).read_text(encoding="utf-8"))
        if redirect:
            page.wait_for_url(f"**/{redirect.group(1)}", wait_until="load")
        page.evaluate(WAIT_FOR_MATHJAX)
        reflow = page.evaluate(REFLOW)
    finally:
        context.close()
    assert reflow["scroll"] <= 1 and not reflow["text"], (
        f"{name} at 320 px: the page scrolls {reflow['scroll']} px sideways; text past the edge: "
        f"{reflow['text'][:5]}")
