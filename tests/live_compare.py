"""Compare the site's JavaScript (book/_static/adamlab-rules.js) with the library it copies.

Used by tests/test_live_module.py (the source file, in a blank page) and tests/test_site_browser.py
(the file as the built site serves it, and the paths the live figures draw). Each ``check_*``
function takes a Playwright page in which ``window.adamlab`` is defined and returns a list of
problems: empty when the page computes what adamlab computes.

Two checks per run. The *step* check starts the JavaScript rule from the Python point and state
at every step and compares the next point, the new state, the gradient and the loss: they must
agree to TOL. The *path* check compares the whole paths to TOL. Where a path amplifies
rounding (a chaotic bounce, a near-zero gradient that an adaptive rule normalizes), a 1-ulp
difference in a power (NumPy's and the browser's pow round differently in a few per cent of
cases) grows over the steps, and two correct implementations part ways: a path may differ only
where Python's own path moves by more than TOL when its gradients are perturbed by an ulp or
two, and such paths must stay few.
"""

from __future__ import annotations

import math

import numpy as np

from adamlab import ema as ema_lib
from adamlab.figures import explorer
from adamlab.landscapes import LANDSCAPES, run
from adamlab.rules import RULES

TOL = 1e-9
# The rules whose eps the page's eps knob leaves alone (adamlab-rules.js, OWN_EPS).
OWN_EPS = ["AdaGrad", "AdaDelta", "AdaMax"]
BASE = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
# One knob at a time away from BASE (200 steps from the landscape's start), every knob.
VARIATIONS = (
    [{"lr": v} for v in (1e-4, 0.05, 0.3, 1.0)]
    + [{"beta1": v} for v in (0.0, 0.5, 0.99)]
    + [{"beta2": v} for v in (0.0, 0.5, 0.9, 0.9999)]
    + [{"eps": v} for v in (1e-12, 1e-4, 0.1)]
    + [{"steps": v} for v in (1, 50, 1000)]
    + [{"start": v} for v in ((0.5, -0.7), (-1.2, 1.1))]
)
MAX_SENSITIVE_SHARE = 0.1


def cases(rules=None, landscapes=None, variations=VARIATIONS):
    out = []
    for variation in [{}, *variations]:
        knobs = {k: variation.get(k, v) for k, v in BASE.items()}
        for rule in rules or RULES:
            for land in landscapes or LANDSCAPES:
                start = variation.get("start")
                out.append({"rule": rule, "land": land, "knobs": knobs,
                            "steps": variation.get("steps", 200),
                            "start": list(start) if start else None})
    return out


def hyperparameters(rule: str, knobs: dict) -> dict:
    """What the page's knobs mean for ``rule``, in Python: explorer.hyperparameters plus eps."""
    hp = explorer.hyperparameters(rule, knobs["lr"], knobs["beta1"], knobs["beta2"])
    if rule not in OWN_EPS:
        for name in ("eps", "eps_hat"):
            if name in hp:
                hp[name] = knobs["eps"]
    return hp


def python_path(case: dict, grad=None) -> np.ndarray:
    land = LANDSCAPES[case["land"]]()
    start = case["start"] if case["start"] is not None else land.start
    return run(RULES[case["rule"]], grad or land.grad, start, case["steps"],
               **hyperparameters(case["rule"], case["knobs"]))


def python_steps(case: dict, limit: int) -> list[dict]:
    """The first ``limit`` steps of the Python run, each as its point and state before the step,
    the gradient and loss there, and the point and state after it.

    The loop of landscapes.run, step by step (the caller checks it walks run's path).
    """
    land = LANDSCAPES[case["land"]]()
    rule = RULES[case["rule"]]
    hp = {**rule.defaults, **hyperparameters(case["rule"], case["knobs"])}
    x = np.array(case["start"] if case["start"] is not None else land.start, dtype=float)
    state = rule.init(x)
    out = []

    def plain(s):
        return {k: np.asarray(v, dtype=float).tolist() for k, v in s._asdict().items()}

    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(min(limit, case["steps"])):
            g = land.grad(x)
            update, new = (rule.step(g, state, x, **hp) if rule.needs_param
                           else rule.step(g, state, **hp))
            out.append({"x": x.tolist(), "state": plain(state), "g": g.tolist(), "f": land.f(x),
                        "next": (x + update).tolist(), "new": plain(new)})
            x, state = x + update, new
            if not np.all(np.isfinite(x)):
                break
    return out


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    both = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return False
    if not np.array_equal(a[~both], b[~both], equal_nan=True):
        return False
    return bool(np.all(np.abs(a[both] - b[both]) <= TOL * np.maximum(1.0, np.abs(a[both]))))


def rounding_sensitive(case: dict, path: np.ndarray, seeds=range(8)) -> bool:
    """Does Python's own path move by more than TOL when its gradients are off by an ulp or two?

    Such a path parts only after a rare event (a gradient near zero that an adaptive rule
    normalizes), so one perturbation may miss it: several seeds, at one and at four ulps.
    """
    land = LANDSCAPES[case["land"]]()
    for scale in (2.0**-52, 2.0**-50):
        for seed in seeds:
            rng = np.random.default_rng(seed)

            def grad(x, rng=rng, scale=scale):
                return land.grad(x) * (1 + scale * rng.standard_normal(2))

            if not _close(path, python_path(case, grad)):
                return True
    return False


def _floats(rows) -> np.ndarray:
    return np.array([[math.nan if v is None else v for v in row] for row in rows], dtype=float)


JS_PATHS = """(cases) => cases.map(c => adamlab.trajectory(c.rule, c.land, c.knobs, c.steps,
  c.start || undefined))"""

JS_STEPS = """([c, steps]) => {
  const rule = adamlab.RULES[c.rule];
  const land = adamlab.LANDSCAPES[c.land]();
  const hp = adamlab.hyperparameters(c.rule, c.knobs);
  return steps.map(({x, state}) => {
    const g = land.grad(x);
    const [u, s] = rule.needsParam ? rule.step(g, state, x, hp) : rule.step(g, state, hp);
    return {next: x.map((xi, i) => xi + u[i]), new: s, g, f: land.f(x)};
  });
}"""


JS_STEPS_ALL = f"(all) => all.map({JS_STEPS})"


def _step_problems(want: dict, got: dict) -> list[str]:
    wrong = [f"{key} {got[key]} != {want[key]}" for key in ("g", "f", "next")
             if not _close(np.ravel(got[key]), np.ravel(want[key]))]
    for field, value in want["new"].items():
        if field in got["new"]:
            if not _close(np.ravel(got["new"][field]), np.ravel(value)):
                wrong.append(f"state {field} {got['new'][field]} != {value}")
        elif np.any(np.asarray(value) != 0):  # a field the page leaves out must stay zero
            wrong.append(f"the page's state has no {field} (Python's is {value})")
    return wrong


def check_paths(page, case_list, step_limit: int = 100) -> tuple[list[str], int]:
    """The path and step checks on every case; returns (problems, how many paths were excused).

    The step check covers the first ``step_limit`` steps of each case, the path check all.
    """
    problems, excused = [], 0
    js_paths = page.evaluate(JS_PATHS, case_list)
    py_paths = [python_path(case) for case in case_list]
    py_steps = [python_steps(case, step_limit) for case in case_list]
    js_steps = page.evaluate(JS_STEPS_ALL, [
        [case, [{"x": s["x"], "state": s["state"]} for s in steps]]
        for case, steps in zip(case_list, py_steps)])
    for case, js, py, steps, got in zip(case_list, js_paths, py_paths, py_steps, js_steps):
        name = (f"{case['rule']} on {case['land']}, {case['knobs']}, {case['steps']} steps, "
                f"start {case['start']}")
        walked = np.array([s["next"] for s in steps])
        if not np.all(np.isfinite(walked[-1])):  # run ends a path there, with NaN
            walked = walked[:-1]
        if not _close(walked.reshape(-1, 2), py[1:len(walked) + 1]):
            problems.append(f"{name}: the step-by-step replay left landscapes.run's path")
            continue
        for k, (want, js_step) in enumerate(zip(steps, got)):
            wrong = _step_problems(want, js_step)
            if wrong:
                problems.append(f"{name}, step {k + 1}: " + "; ".join(wrong))
                break
        if not _close(_floats(js), py):
            if rounding_sensitive(case, py):
                excused += 1
            else:
                diff = np.nanmax(np.abs(_floats(js) - py))
                problems.append(f"{name}: the page's path differs from adamlab's by {diff:.3g}")
    if excused > MAX_SENSITIVE_SHARE * len(case_list):
        problems.append(f"{excused} of {len(case_list)} paths differ where rounding moves them: "
                        "too many to trust the path check")
    return problems, excused


JS_TABLES = """() => ({
  rules: Object.fromEntries(Object.entries(adamlab.RULES).map(([n, r]) =>
    [n, {defaults: r.defaults, needsParam: !!r.needsParam, knobs: adamlab.knobNames(n)}])),
  landscapes: Object.fromEntries(Object.entries(adamlab.LANDSCAPES).map(([n, make]) => {
    const l = make(); return [n, {name: l.name, start: l.start, minimum: l.minimum, bounds: l.bounds}];
  })),
  ownEps: adamlab.OWN_EPS,
})"""


def check_tables(page) -> list[str]:
    """The same rules with the same defaults, the same landscapes, the same knob names."""
    got = page.evaluate(JS_TABLES)
    problems = []
    if list(got["rules"]) != list(RULES):
        problems.append(f"rules {list(got['rules'])} != {list(RULES)}")
    for name, rule in RULES.items():
        js = got["rules"].get(name)
        if js is None:
            continue
        if js["defaults"] != rule.defaults or js["needsParam"] != rule.needs_param:
            problems.append(f"{name}: defaults {js['defaults']} != {rule.defaults}")
        want = explorer.knob_names(name)
        eps = [k for k in ("eps", "eps_hat") if k in rule.defaults and name not in OWN_EPS]
        if eps:
            want["eps"] = eps[0]
        if js["knobs"] != want:
            problems.append(f"{name}: knobs {js['knobs']} != {want}")
    if got["ownEps"] != OWN_EPS:
        problems.append(f"OWN_EPS {got['ownEps']} != {OWN_EPS}")
    if list(got["landscapes"]) != list(LANDSCAPES):
        problems.append(f"landscapes {list(got['landscapes'])} != {list(LANDSCAPES)}")
    for name, make in LANDSCAPES.items():
        land, js = make(), got["landscapes"].get(name)
        if js is None:
            continue
        want = {"name": land.name, "start": land.start.tolist(), "minimum": land.minimum.tolist(),
                "bounds": [list(b) for b in land.bounds]}
        if js != want:
            problems.append(f"landscape {name}: {js} != {want}")
    return problems


JS_LANDSCAPE_VALUES = """(points) => Object.fromEntries(Object.keys(adamlab.LANDSCAPES).map(n => {
  const l = adamlab.LANDSCAPES[n]();
  return [n, points[n].map(p => [l.f(p), l.grad(p)])];
}))"""


def check_landscapes(page, n: int = 200) -> list[str]:
    """f and its gradient at random points over (and a little beyond) each landscape's bounds."""
    rng = np.random.default_rng(0)
    points = {}
    for name, make in LANDSCAPES.items():
        (x0, x1), (y0, y1) = make().bounds
        points[name] = np.column_stack([rng.uniform(1.5 * x0, 1.5 * x1, n),
                                        rng.uniform(1.5 * y0, 1.5 * y1, n)]).tolist()
    got = page.evaluate(JS_LANDSCAPE_VALUES, points)
    problems = []
    for name, make in LANDSCAPES.items():
        land = make()
        for p, (f, g) in zip(points[name], got[name]):
            if not (_close([f], [land.f(np.array(p))]) and _close(g, land.grad(np.array(p)))):
                problems.append(f"{name} at {p}: f, grad {f}, {g} != "
                                f"{land.f(np.array(p))}, {land.grad(np.array(p)).tolist()}")
                break
    return problems


JS_EMA = """([xs, betas, t]) => betas.map(b => [adamlab.ema(xs, b), adamlab.ema(xs, b, true),
  adamlab.emaWeights(b, t)])"""


def check_ema(page) -> list[str]:
    xs = (1 + np.random.default_rng(3).standard_normal(300)) ** 2
    betas = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999]
    got = page.evaluate(JS_EMA, [xs.tolist(), betas, 300])
    problems = []
    for beta, (raw, corrected, weights) in zip(betas, got):
        for label, js, py in [("raw", raw, ema_lib.ema(xs, beta)),
                              ("corrected", corrected, ema_lib.ema(xs, beta, bias_correction=True)),
                              ("weights", weights, ema_lib.ema_weights(beta, 300))]:
            if not _close(js, py):
                problems.append(f"EMA {label}, beta {beta}: differs from adamlab.ema")
    return problems


JS_BIAS = """([grads, settings]) => settings.map(([b1, b2]) => {
  const squares = grads.map(g => g * g), ones = grads.map(() => [1.0]);
  const hp = {lr: 1.0, beta1: b1, beta2: b2, eps: 0.0};
  return [adamlab.ema(squares, b2), adamlab.ema(squares, b2, true),
          adamlab.traceUpdates("Adam (no bias correction)", ones, hp).map(u => Math.abs(u[0])),
          adamlab.traceUpdates("Adam", ones, hp).map(u => Math.abs(u[0]))];
})"""
BIAS_SETTINGS = [(0.9, 0.999), (0.0, 0.5), (0.5, 0.9), (0.99, 0.9999), (0.9, 0.99)]


def check_bias(page, settings=BIAS_SETTINGS, steps: int = 3000) -> list[str]:
    """The bias-correction figure's curves, as the browser computes them, against
    analysis.bias_correction_curves: moving averages and both Adam rules on a constant gradient."""
    from adamlab.figures import analysis

    grads = analysis.bias_correction_gradients(steps)
    got = page.evaluate(JS_BIAS, [grads.tolist(), [list(s) for s in settings]])
    return bias_problems(settings, got, steps)


def bias_problems(settings, got, steps: int = 3000) -> list[str]:
    from adamlab.figures import analysis

    problems = []
    names = ("raw", "corrected", "uncorrected steps", "corrected steps")
    for (b1, b2), curves in zip(settings, got, strict=True):
        python = analysis.bias_correction_curves(b2, b1, steps)[1:]
        for name, js, py in zip(names, curves, python, strict=True):
            if not _close(js, py):
                problems.append(f"bias figure, beta1 {b1}, beta2 {b2}: {name} differ from adamlab")
    return problems

