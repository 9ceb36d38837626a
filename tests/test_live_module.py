"""The site's JavaScript copy of the library computes what the library computes.

book/_static/adamlab-rules.js is loaded into a blank page of headless Chromium (no built site
needed) and compared with adamlab (tests/live_compare.py says how): every rule on every
landscape for several settings of every knob (learning rate, beta1, beta2, eps, steps, start),
step by step and as whole paths, to 1e-9; the landscapes' values and gradients; the rules'
defaults and knob names; the moving averages of the EMA figure; the curves of the
bias-correction figure. tests/test_site_browser.py runs the same checks on the file as the
built site serves it and on what its live figures draw.
"""

from __future__ import annotations

from pathlib import Path

import live_compare
import pytest
from test_site_browser import CHROMIUM, CHROMIUM_FLAGS

MODULE = Path(__file__).resolve().parents[1] / "book" / "_static" / "adamlab-rules.js"


@pytest.fixture(scope="module")
def page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip("no Chromium at /usr/bin/chromium: install it with `apt-get install chromium`")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content("<!doctype html><title>adamlab-rules.js</title>")
        page.add_script_tag(path=str(MODULE))
        assert not errors, errors
        yield page
        browser.close()


def test_same_rules_landscapes_and_knobs(page):
    assert live_compare.check_tables(page) == []


def test_landscape_values_and_gradients(page):
    assert live_compare.check_landscapes(page) == []


@pytest.mark.slow
def test_every_rule_every_landscape_every_knob(page):
    cases = live_compare.cases()
    problems, excused = live_compare.check_paths(page, cases)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:20])
    print(f"{len(cases)} paths, {excused} excused as rounding-sensitive")


def test_moving_averages(page):
    assert live_compare.check_ema(page) == []


def test_bias_correction_curves(page):
    assert live_compare.check_bias(page) == []


def test_a_wrong_bias_correction_is_caught(page):
    """The bias figure's check can fail: a v-hat corrected with beta2^(t-1) is found out."""
    page.evaluate("""() => {
      adamlab._ema = adamlab.ema;
      adamlab.ema = (xs, b, bc = false) => bc
        ? adamlab._ema(xs, b).map((m, i) => m / (1 - b ** i)) : adamlab._ema(xs, b);
    }""")
    try:
        problems = live_compare.check_bias(page, settings=[(0.9, 0.999)], steps=50)
    finally:
        page.evaluate("() => { adamlab.ema = adamlab._ema; }")
    assert problems == ["bias figure, beta1 0.9, beta2 0.999: corrected differ from adamlab"]


def test_a_wrong_rule_is_caught(page):
    """The comparison can fail: Adam with its bias correction dropped from m-hat is found out."""
    page.evaluate("""() => {
      const adam = adamlab.RULES.Adam.step;
      adamlab.RULES.Adam.step = (g, s, hp) => {
        const [u, n] = adam(g, s, hp);
        return [u.map(v => v * (1 - hp.beta1 ** n.t)), n];
      };
    }""")
    try:
        cases = live_compare.cases(rules=["Adam"], landscapes=["quadratic"], variations=[])
        problems, _ = live_compare.check_paths(page, cases)
    finally:
        page.reload()
        page.set_content("<!doctype html><title>adamlab-rules.js</title>")
        page.add_script_tag(path=str(MODULE))
    assert problems and "step 1:" in problems[0]
