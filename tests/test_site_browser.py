"""The built site, opened page by page in a real browser (headless Chromium via Playwright).

For every HTML page of ``_build/html`` served on 127.0.0.1: no console error, no failed
request, no request to any other host, math typeset by MathJax (no raw TeX left), every image
loaded and described by alt text, every figure captioned, every precomputed slider changes
its frame when moved, and the page with everything it loads under 5 MB. Notebook pages also
offer the executed .ipynb and the launch buttons. On the glossary, the site's own Korean font
(book/_ext/korean_font.py) loads and draws every Hangul syllable, so Korean renders on a machine
without a Korean font (like the ones the tests run on).

Run after the book build (``make test`` does). Needs Debian's chromium (``apt-get install
chromium``); Playwright's own browser download is never used. Environment:
``ADAMLAB_SITE`` points at another built site (default ``_build/html``);
``ADAMLAB_SCREENSHOTS`` names a folder to save a full-page PNG of every page into.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("ADAMLAB_SITE", ROOT / "_build" / "html")).resolve()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
MAX_PAGE_BYTES = 5 * 1024 * 1024
LOOPBACK = {"127.0.0.1"}
# Folders of the build that hold assets, not pages.
NOT_PAGES = {"_static", "_sources", "_images", "reports", "_panels_static"}


def site_pages() -> list[str]:
    if not (SITE / "index.html").is_file():
        return []
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not NOT_PAGES.intersection(p.relative_to(SITE).parts)
    )


PAGES = site_pages()


def test_site_is_built():
    if not PAGES:
        pytest.skip(f"no built site at {SITE}: run `make book` (or set ADAMLAB_SITE) first")
    assert "index.html" in PAGES


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -r requirements.txt"
    )
    if not Path(CHROMIUM).is_file():
        pytest.skip("no Chromium at /usr/bin/chromium: install it with `apt-get install chromium`")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


# Run in the page once it has loaded: wait for MathJax 3 to finish typesetting the page.
WAIT_FOR_MATHJAX = """() => new Promise((resolve) => {
  if (!document.querySelector('span.math, div.math')) { resolve('no math'); return; }
  const start = Date.now();
  (function poll() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(() => resolve('typeset'), (e) => resolve('failed: ' + e));
    } else if (Date.now() - start > 20000) { resolve('MathJax never loaded');
    } else { setTimeout(poll, 100); }
  })();
})"""

# Math elements MathJax did not typeset, and the TeX errors it reported.
UNTYPESET_MATH = """() => {
  const math = [...document.querySelectorAll('span.math, div.math')];
  const raw = math.filter(el => !el.querySelector('mjx-container'));
  return {
    total: math.length,
    raw: raw.map(el => el.textContent.trim().slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror, .MathJax_Error')]
      .map(el => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 80)),
  };
}"""

# Visible text with TeX still in it: a dollar sign or a TeX delimiter that MathJax did not
# typeset, anywhere in the article (prose, tables, captions, admonitions, dropdowns and
# solutions, closed or open, and the values computed into them); only code, printed output in
# <pre> and MathJax's own copies are excluded. The book has no literal dollar signs in its text.
RAW_TEX_IN_PROSE = r"""() => {
  const article = document.querySelector('article') || document.body;
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const hits = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, .highlight, mjx-container, '
        + 'mjx-assistive-mml')) continue;
    const text = node.textContent;
    const tex = /\$|\\\(|\\\[|\\begin\{|\\frac\{|\\mathbf\{/;
    if (tex.test(text)) hits.push(text.trim().slice(0, 80));
  }
  return hits;
}"""

def test_the_raw_tex_check_sees_dollars_left_anywhere_in_the_article(browser):
    """Raw TeX in prose, a computed value, a table cell, a caption and a closed dropdown is
    found; typeset math, code and printed output are not."""
    page = browser.new_page()
    try:
        page.set_content(
            "<article><p>best loss about $10^{-2}$</p>"
            "<p>a value <span class='output text_plain'>$\\beta_2 = 0.9999$</span></p>"
            "<table><tr><td>no correction at $\\beta_2$</td></tr></table>"
            "<figure><figcaption>step \\(\\alpha\\)</figcaption></figure>"
            "<details><summary>Solution</summary><p>so $n = 100$</p></details>"
            "<p><mjx-container>$ok$</mjx-container><code>$x</code></p>"
            "<pre>cost: $5</pre></article>")
        hits = page.evaluate(RAW_TEX_IN_PROSE)
    finally:
        page.close()
    assert hits == ["best loss about $10^{-2}$", "$\\beta_2 = 0.9999$", "no correction at $\\beta_2$",
                    "step \\(\\alpha\\)", "so $n = 100$"]


# Figures (numbered, captioned) whose caption is missing or empty.
UNCAPTIONED_FIGURES = """() => [...document.querySelectorAll('article figure')]
  .filter(f => !(f.querySelector('figcaption') || {}).textContent?.trim())
  .map(f => (f.id || (f.querySelector('img') || {}).src || '?').slice(0, 100))"""

IMAGES = """() => [...document.querySelectorAll('img')].map(img => ({
  src: img.getAttribute('src') ? img.getAttribute('src').slice(0, 100) : '',
  loaded: img.complete && img.naturalWidth > 0,
  alt: (img.getAttribute('alt') || '').trim(),
  visible: img.offsetParent !== null,
}))"""


REDIRECT = re.compile(r'http-equiv="Refresh" content="0; url=([^"]+)"', re.I)


def _looks_like_a_path(alt: str) -> bool:
    # myst-nb's default alt for an output image is its file name, which describes nothing.
    return bool(re.search(r"\.(png|jpe?g|svg|gif)$", alt, re.I)) or alt.startswith(("../", "_"))


@pytest.mark.parametrize("name", PAGES)
def test_page_works_in_a_browser(name, browser, base_url):
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    errors, failed, foreign, sizes = [], [], [], {}

    def on_route(route):
        url = route.request.url
        if urlparse(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    def on_response(response):
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")
        sizes[response.url] = int(response.headers.get("content-length", "0"))

    page.route("**/*", on_route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: failed.append(f"{r.failure} {r.url}"))
    page.on("response", on_response)
    try:
        page.goto(base_url + name, wait_until="load")
        redirect = REDIRECT.search((SITE / name).read_text(encoding="utf-8"))
        if redirect:  # index.html forwards to the first chapter: check where it lands
            page.wait_for_url(f"**/{redirect.group(1)}", wait_until="load")
        mathjax = page.evaluate(WAIT_FOR_MATHJAX)
        page.wait_for_load_state("networkidle")
        math = page.evaluate(UNTYPESET_MATH)
        raw_prose = page.evaluate(RAW_TEX_IN_PROSE)
        images = page.evaluate(IMAGES)
        uncaptioned = page.evaluate(UNCAPTIONED_FIGURES)
        sliders_ok = _check_static_sliders(page)
        if os.environ.get("ADAMLAB_SCREENSHOTS"):
            out = Path(os.environ["ADAMLAB_SCREENSHOTS"]) / (name.replace("/", "__") + ".png")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
    finally:
        context.close()

    problems = []
    if foreign:
        problems.append(f"requests to non-loopback hosts: {foreign}")
    if failed:
        problems.append(f"failed requests: {failed}")
    if errors:
        problems.append(f"console errors: {errors}")
    if mathjax not in ("no math", "typeset"):
        problems.append(f"the page has math but MathJax did not typeset it: {mathjax}")
    if math["raw"]:
        problems.append(f"math left as raw TeX: {math['raw']}")
    if math["errors"]:
        problems.append(f"TeX MathJax could not typeset: {math['errors']}")
    if raw_prose:
        problems.append(f"TeX delimiters in the visible text: {raw_prose}")
    broken = [i["src"] for i in images if not i["loaded"]]
    if broken:
        problems.append(f"images that did not load: {broken}")
    no_alt = [i["src"] for i in images if not i["alt"] or _looks_like_a_path(i["alt"])]
    if no_alt:
        problems.append(
            f"images without a real alt text: {no_alt} (give a glued figure `:alt:`, a code "
            "cell `mystnb: image: alt:`, a static_slider `alt=`)"
        )
    if uncaptioned:
        problems.append(f"figures without a caption: {uncaptioned}")
    problems += [f"moving the slider {label} did not change the frame"
                 for label, changed in sliders_ok if not changed]
    total = sum(sizes.values())
    if total >= MAX_PAGE_BYTES:
        problems.append(f"the page loads {total / 2**20:.1f} MB (limit 5 MB)")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
    _check_notebook_downloads(name)


def _check_static_sliders(page) -> list[tuple[str, bool]]:
    """Move every to_jshtml slider to its end with the keyboard, as a reader would."""
    results = []
    for slider in page.locator("input.anim-slider").all():
        label = slider.get_attribute("id") or "?"
        image = page.locator("#" + label.replace("_anim_slider", "_anim_img"))
        slider.scroll_into_view_if_needed()
        before = image.get_attribute("src")
        frames = int(slider.get_attribute("max") or "0")
        if frames < 1:
            results.append((f"{label} (has a single frame)", False))
            continue
        slider.focus()
        page.keyboard.press("End")
        after = image.get_attribute("src")
        results.append((label, before != after and slider.input_value() == str(frames)))
    return results


def _check_notebook_downloads(name: str) -> None:
    """A page made from a notebook links its executed .ipynb and the Binder launch button."""
    notebook = SITE / "_sources" / (name[: -len(".html")] + ".ipynb")
    if not notebook.is_file():
        return
    html = (SITE / name).read_text(encoding="utf-8")
    assert notebook.name in html, f"{name}: no download link to its executed {notebook.name}"
    assert "mybinder.org/v2/gh/" in html, f"{name}: no Binder launch button"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert not code or any(c.get("outputs") for c in code), f"{notebook} was not executed"


# The site's Korean web font (book/_ext/korean_font.py).
KOREAN_FONT = "Adam Book Hangul"
KOREAN_FONT_FILE = "_static/fonts/adam-book-hangul.woff"

# Wrap every visible text node of the article that has Hangul in a span of its own, marked with
# its count of Hangul characters (data-hangul), once the page's fonts have loaded: a span holds
# one text node and nothing else, so the fonts the browser reports for it are that text's.
# Report the state of the font.
MARK_HANGUL = r"""async (family) => {
  await document.fonts.ready;
  const hangul = /[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff]/gu;
  const article = document.querySelector('article') || document.body;
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const chars = node.textContent.match(hangul);
    const el = node.parentElement;
    if (!chars || el.closest('script, style') || !el.getClientRects().length) continue;
    found.push([node, chars.length]);
  }
  for (const [node, count] of found) {
    const span = document.createElement('span');
    span.dataset.hangul = count;
    node.replaceWith(span);
    span.append(node);
  }
  await new Promise(resolve => requestAnimationFrame(() => resolve()));  // lay the spans out
  const faces = [...document.fonts].filter(f => f.family.replace(/["']/g, '') === family);
  return {
    texts: found.map(([node]) => node.textContent.trim()),
    statuses: faces.map(f => f.status),
    check: document.fonts.check(`16px "${family}"`, '학습률'),
  };
}"""


def hangul_fonts(context, page, script: str, attribute: str) -> tuple[dict, list]:
    """Run ``script``, which marks elements with ``attribute`` = their count of Hangul, then read
    for each marked element: (that count, the glyphs the site's font drew in it, the fonts used)."""
    state = page.evaluate(script, KOREAN_FONT)
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": f"[{attribute}]"})
    drawn = []
    for node in nodes["nodeIds"]:
        attributes = cdp.send("DOM.getAttributes", {"nodeId": node})["attributes"]
        expected = int(dict(zip(attributes[::2], attributes[1::2], strict=True))[attribute])
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        ours = sum(f["glyphCount"] for f in fonts
                   if f["isCustomFont"] and f["familyName"] == KOREAN_FONT)
        drawn.append((expected, ours, [f["familyName"] for f in fonts]))
    return state, drawn


def test_korean_renders_with_the_sites_font(browser, base_url):
    """Every Hangul syllable of the glossary is drawn with the font the site serves."""
    glossary = next((p for p in PAGES if p.endswith("glossary.html")), None)
    if glossary is None:
        pytest.skip(f"no glossary page in the site at {SITE}")
    assert (SITE / KOREAN_FONT_FILE).is_file(), f"the build did not write {KOREAN_FONT_FILE}"
    context = browser.new_context(viewport={"width": 1200, "height": 1600})
    page = context.new_page()
    font_responses = []
    page.on("response", lambda r: font_responses.append(r.status)
            if r.url.split("?")[0].endswith(KOREAN_FONT_FILE) else None)
    try:
        page.goto(base_url + glossary, wait_until="load")
        state, drawn = hangul_fonts(context, page, MARK_HANGUL, "data-hangul")
    finally:
        context.close()

    assert font_responses and all(s == 200 for s in font_responses), (
        f"the Korean font was not served: responses {font_responses}")
    assert state["statuses"] and all(s == "loaded" for s in state["statuses"]), (
        f"document.fonts has {KOREAN_FONT!r} as {state['statuses']}, not loaded")
    assert state["check"], f"document.fonts.check says {KOREAN_FONT!r} cannot draw 학습률"
    assert any("학습률" in text for text in state["texts"]), "the glossary lost its entry 학습률"
    assert drawn, "no Hangul found on the glossary page"
    wrong = [(e, o, f) for e, o, f in drawn if o != e]
    assert not wrong, (
        "Hangul not drawn with the site's font (Hangul characters, glyphs in our font, fonts "
        f"used): {wrong[:5]}")


# --- the live figures (book/_static/adamlab-live.js) -----------------------------------------

LIVE_STATE = """(kind) => {
  const root = document.querySelector(`.adamlive[data-figure="${kind}"]`);
  return root && root.adamliveState ? root.adamliveState : null;
}"""


def _live_page(browser, base_url, page_name, kind, width=1200):
    """Open a page with a live figure; fail on console errors and on requests off the site."""
    if page_name not in PAGES:
        pytest.skip(f"no {page_name} in the site at {SITE}")
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    errors, foreign = [], []

    def on_route(route):
        if urlparse(route.request.url).hostname in LOOPBACK or route.request.url.startswith("data:"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", on_route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.goto(base_url + page_name, wait_until="load")
    page.wait_for_function(f"({LIVE_STATE})('{kind}') !== null", timeout=20000)
    return context, page, errors, foreign


def _screenshot(page, kind, width):
    if os.environ.get("ADAMLAB_SCREENSHOTS"):
        out = Path(os.environ["ADAMLAB_SCREENSHOTS"]) / f"live-{kind}-{width}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        page.locator(f'.adamlive[data-figure="{kind}"]').screenshot(path=str(out))


def _state_matches_python(state) -> list[str]:
    """The paths the explorer drew equal adamlab's for the settings it says it used."""
    import live_compare

    case_list = [{"rule": name, "land": state["landscape"], "knobs": state["settings"],
                  "steps": state["steps"], "start": state["start"]} for name in state["rules"]]
    problems = []
    for case in case_list:
        drawn = live_compare._floats(state["paths"][case["rule"]])
        python = live_compare.python_path(case)
        if not live_compare._close(drawn, python) and not live_compare.rounding_sensitive(case, python):
            problems.append(f"drawn path of {case} differs from adamlab's")
    return problems


EXPLORER_PAGE = "book/related/explorer.html"
EMA_PAGE = "book/background/ema.html"
BIAS_PAGE = "book/adam/bias_correction.html"


def test_live_explorer_draws_what_adamlab_computes(browser, base_url):
    """The served module is adamlab's, and every knob of the explorer drives it as labelled."""
    import live_compare

    context, page, errors, foreign = _live_page(browser, base_url, EXPLORER_PAGE, "explorer")
    problems = []
    try:
        root = page.locator('.adamlive[data-figure="explorer"]')
        assert root.locator(".adamlive-static img").is_hidden(), "the static picture still shows"
        assert root.locator("canvas.adamlive-landscape").is_visible()
        # The module as served: tables, landscapes, and every rule on every landscape.
        problems += live_compare.check_tables(page) + live_compare.check_landscapes(page)
        few = [{"lr": 0.3}, {"beta2": 0.9}, {"start": (0.5, -0.7)}]
        problems += live_compare.check_paths(page, live_compare.cases(variations=few))[0]
        # Every control is labelled.
        unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            '.adamlive input, .adamlive select')].filter(e => !e.labels || !e.labels.length)
            .map(e => e.outerHTML.slice(0, 80))""")
        if unlabelled:
            problems.append(f"controls without a label: {unlabelled}")
        _screenshot(page, "explorer", 1200)
        # Every rule on, then each landscape, with the knobs moved by keyboard and the start by
        # a click: what is drawn is adamlab's path for the settings the explorer reports.
        for box in root.locator(".adamlive-rules input").all():
            box.check()
        sliders = root.locator('input[type="range"]')
        labels = [page.evaluate("(e) => e.labels[0].textContent", s.element_handle())
                  for s in sliders.all()]
        # Each landscape moves every slider to the other end from where the last one left it.
        moves = [{0: ["End", "ArrowLeft"], 1: ["Home"], 2: ["Home", "ArrowRight"], 3: ["End"],
                  4: ["Home"]},
                 {0: ["Home", "ArrowRight"], 1: ["End"], 2: ["End"], 3: ["Home"], 4: ["End"]}]
        for n, landscape in enumerate(live_compare.LANDSCAPES):
            root.locator("select").select_option(landscape)
            for index, keys in moves[n % 2].items():
                before = page.evaluate(LIVE_STATE, "explorer")
                sliders.nth(index).focus()
                for key in keys:
                    page.keyboard.press(key)
                after = page.evaluate(LIVE_STATE, "explorer")
                if (before["settings"], before["steps"]) == (after["settings"], after["steps"]):
                    problems.append(f"{landscape}: moving {labels[index]!r} changed nothing")
                problems += _state_matches_python(after)
            canvas = root.locator("canvas.adamlive-landscape")
            box = canvas.bounding_box()
            canvas.click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.3})
            clicked = page.evaluate(LIVE_STATE, "explorer")
            if clicked["start"] == list(live_compare.LANDSCAPES[landscape]().start):
                problems.append(f"{landscape}: a click did not move the start")
            canvas.focus()
            page.keyboard.press("ArrowLeft")
            moved = page.evaluate(LIVE_STATE, "explorer")
            if moved["start"][0] >= clicked["start"][0]:
                problems.append(f"{landscape}: ArrowLeft on the landscape did not move the start")
            problems += _state_matches_python(moved)
            if sorted(moved["rules"]) != sorted(live_compare.RULES):
                problems.append(f"{landscape}: drew {moved['rules']}, not every rule")
            state = page.evaluate(LIVE_STATE, "explorer")
            shown = [float(o.text_content()) for o in root.locator(".adamlive-knob output").all()]
            used = [*(state["settings"][k] for k in ("lr", "beta1", "beta2", "eps")), state["steps"]]
            if shown != used:
                problems.append(f"the sliders show {shown} but the paths use {used}")
    finally:
        context.close()
    problems += [f"console errors: {errors}"] * bool(errors)
    problems += [f"requests off the site: {foreign}"] * bool(foreign)
    assert not problems, "\n".join(problems[:20])


def test_live_ema_draws_what_adamlab_computes(browser, base_url):
    import live_compare

    from adamlab import ema as ema_lib

    context, page, errors, foreign = _live_page(browser, base_url, EMA_PAGE, "ema")
    problems = []
    try:
        problems += live_compare.check_ema(page)
        _screenshot(page, "ema", 1200)
        root = page.locator('.adamlive[data-figure="ema"]')
        stream = json.loads(root.get_attribute("data-config"))["stream"]
        beta, t = root.locator('input[type="range"]').all()
        for slider, keys in [(beta, ["Home"]), (t, ["End"]), (beta, ["End"]),
                             (t, ["PageDown"]), (beta, ["ArrowLeft"] * 3)]:
            slider.focus()
            for key in keys:
                page.keyboard.press(key)
            s = page.evaluate(LIVE_STATE, "ema")
            xs = stream[: s["t"]]
            for label, drawn, python in [
                ("raw", s["raw"], ema_lib.ema(xs, s["beta"])),
                ("corrected", s["corrected"], ema_lib.ema(xs, s["beta"], bias_correction=True)),
                ("weights", s["weights"], ema_lib.ema_weights(s["beta"], s["t"])[::-1]),
            ]:
                if not live_compare._close(drawn, python):
                    problems.append(f"beta {s['beta']}, t {s['t']}: {label} differs from adamlab")
    finally:
        context.close()
    problems += [f"console errors: {errors}"] * bool(errors)
    problems += [f"requests off the site: {foreign}"] * bool(foreign)
    assert not problems, "\n".join(problems[:20])


def test_live_bias_correction_draws_what_adamlab_computes(browser, base_url):
    """Both sliders of the bias-correction figure drive it, and what it draws is adamlab's."""
    import live_compare

    context, page, errors, foreign = _live_page(browser, base_url, BIAS_PAGE, "bias")
    problems = []
    try:
        problems += live_compare.check_bias(page)
        _screenshot(page, "bias", 1200)
        root = page.locator('.adamlive[data-figure="bias"]')
        assert root.locator(".adamlive-static img").is_hidden(), "the static picture still shows"
        beta1, beta2 = root.locator('input[type="range"]').all()
        seen = set()
        for slider, keys in [(beta2, ["End"]), (beta1, ["Home"]), (beta2, ["Home"]),
                             (beta1, ["End"]), (beta2, ["ArrowRight"] * 3)]:
            slider.focus()
            for key in keys:
                page.keyboard.press(key)
            s = page.evaluate(LIVE_STATE, "bias")
            seen.add((s["beta1"], s["beta2"]))
            shown = [float(o.text_content()) for o in root.locator(".adamlive-knob output").all()]
            if shown != [s["beta1"], s["beta2"]]:
                problems.append(f"the sliders show {shown} but it drew {s['beta1'], s['beta2']}")
            curves = [s[k] for k in ("raw", "corrected", "uncorrectedSteps", "correctedSteps")]
            problems += live_compare.bias_problems([(s["beta1"], s["beta2"])], [curves])
        if len(seen) != 5:
            problems.append(f"five moves drew only {len(seen)} settings: {seen}")
    finally:
        context.close()
    problems += [f"console errors: {errors}"] * bool(errors)
    problems += [f"requests off the site: {foreign}"] * bool(foreign)
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("page_name,kind", [(EXPLORER_PAGE, "explorer"), (EMA_PAGE, "ema"),
                                            (BIAS_PAGE, "bias")])
def test_live_figure_fits_a_phone(browser, base_url, page_name, kind):
    """At phone width the figure is no wider than the screen, and its first canvas is drawn."""
    context, page, errors, _ = _live_page(browser, base_url, page_name, kind, width=390)
    try:
        root = page.locator(f'.adamlive[data-figure="{kind}"]')
        widths = page.evaluate(f"""() => [...document.querySelectorAll(
            '.adamlive[data-figure="{kind}"] canvas')].map(c => c.getBoundingClientRect().right)""")
        _screenshot(page, kind, 390)
        assert root.is_visible() and widths and max(widths) <= 390, widths
        assert not errors, errors
    finally:
        context.close()


def test_no_second_search_box_in_a_header_bar(browser, base_url):
    """The book theme's layout: the search sits in the sidebar, no header bar above the page."""
    if "book/intro.html" not in PAGES:
        pytest.skip(f"no built site at {SITE}")
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        page.goto(base_url + "book/intro.html", wait_until="load")
        header = page.evaluate("""() => {
          const h = document.querySelector('header.bd-header');
          return {height: h ? h.getBoundingClientRect().height : 0,
                  searches: h ? h.querySelectorAll('.search-button-field, input[type=search]').length : 0};
        }""")
        sidebar = page.locator(".bd-sidebar-primary .search-button-field")
        assert header == {"height": 0, "searches": 0} or header["searches"] == 0, header
        assert header["height"] < 5, f"a header bar of {header['height']}px above the page"
        assert sidebar.count() == 1 and sidebar.first.is_visible(), "no search in the sidebar"
    finally:
        context.close()
