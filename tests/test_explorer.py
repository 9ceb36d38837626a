"""The trajectory explorer's callbacks: knob translation, paths, figures, and the static forms."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from adamlab import rules  # noqa: E402
from adamlab.figures import explorer  # noqa: E402
from adamlab.landscapes import LANDSCAPES, run  # noqa: E402

# Written out by hand, independently of explorer.KNOB_NAMES: what beta1 and beta2 mean to each rule.
EXPECTED_KNOBS = {
    "SGD": {"lr": "lr"},
    "Momentum": {"lr": "lr", "beta1": "mu"},
    "Nesterov": {"lr": "lr", "beta1": "mu"},
    "AdaGrad": {"lr": "lr"},
    "RMSProp": {"lr": "lr", "beta2": "alpha"},
    "AdaDelta": {"lr": "lr", "beta2": "rho"},
    "Adam": {"lr": "lr", "beta1": "beta1", "beta2": "beta2"},
    "Adam (no bias correction)": {"lr": "lr", "beta1": "beta1", "beta2": "beta2"},
    "Adam (efficient form)": {"lr": "lr", "beta1": "beta1", "beta2": "beta2"},
    "AMSGrad": {"lr": "lr", "beta1": "beta1", "beta2": "beta2"},
    "AdamW": {"lr": "lr", "beta1": "beta1", "beta2": "beta2"},
    "AdaMax": {"lr": "lr", "beta1": "beta1", "beta2": "beta2"},
}


def test_every_rule_is_covered():
    assert set(EXPECTED_KNOBS) == set(rules.RULES)


@pytest.mark.parametrize("name", sorted(EXPECTED_KNOBS))
def test_knob_names(name):
    assert explorer.knob_names(name) == EXPECTED_KNOBS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_KNOBS))
def test_hyperparameters_put_each_knob_in_its_argument(name):
    hp = explorer.hyperparameters(name, lr=0.037, beta1=0.61, beta2=0.97)
    values = {"lr": 0.037, "beta1": 0.61, "beta2": 0.97}
    for knob, arg in EXPECTED_KNOBS[name].items():
        assert hp[arg] == values[knob]
    # Everything else keeps the rule's default (eps, weight decay, the Nesterov switch).
    mapped = set(EXPECTED_KNOBS[name].values())
    for arg, default in rules.RULES[name].defaults.items():
        if arg not in mapped:
            assert hp[arg] == default
    assert set(hp) == set(rules.RULES[name].defaults)


def test_nesterov_stays_nesterov():
    assert explorer.hyperparameters("Nesterov", 0.1, 0.5, 0.9)["nesterov"] is True
    assert "nesterov" not in explorer.hyperparameters("Momentum", 0.1, 0.5, 0.9)


@pytest.mark.parametrize("name", sorted(EXPECTED_KNOBS))
def test_trajectory_runs_the_rule_with_those_arguments(name):
    land = LANDSCAPES["rosenbrock"]()
    path = explorer.trajectory(name, "rosenbrock", lr=0.002, beta1=0.8, beta2=0.99, steps=25)
    hp = explorer.hyperparameters(name, 0.002, 0.8, 0.99)
    expected = run(rules.RULES[name], land.grad, land.start, 25, **hp)
    assert path.shape == (26, 2)
    np.testing.assert_array_equal(path, expected)
    np.testing.assert_array_equal(path[0], land.start)


def test_betas_change_the_path_only_for_rules_that_use_them():
    for name, knobs in EXPECTED_KNOBS.items():
        a = explorer.trajectory(name, "beale", 0.01, beta1=0.5, beta2=0.9, steps=20)
        b = explorer.trajectory(name, "beale", 0.01, beta1=0.8, beta2=0.9, steps=20)
        c = explorer.trajectory(name, "beale", 0.01, beta1=0.5, beta2=0.99, steps=20)
        assert np.array_equal(a, b) == ("beta1" not in knobs), name
        assert np.array_equal(a, c) == ("beta2" not in knobs), name


def test_momentum_path_by_hand():
    # Two steps of Sutskever momentum on f = (x^2 + 20 y^2)/2 from (-1.8, 0.6), mu = beta1.
    path = explorer.trajectory("Momentum", "quadratic", lr=0.01, beta1=0.5, steps=2)
    h = np.array([1.0, 20.0])
    x0 = np.array([-1.8, 0.6])
    v1 = -0.01 * h * x0
    x1 = x0 + v1
    v2 = 0.5 * v1 - 0.01 * h * x1
    np.testing.assert_allclose(path, [x0, x1, x1 + v2], rtol=1e-15)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(optimizer="Adamm"), "unknown optimizer 'Adamm'"),
        (dict(lr=0.0), "lr must be a positive"),
        (dict(lr=float("nan")), "lr must be a positive"),
        (dict(beta1=1.0), r"beta1 must lie in \[0, 1\)"),
        (dict(beta2=-0.1), r"beta2 must lie in \[0, 1\)"),
        (dict(landscape="himmelblau"), "unknown landscape 'himmelblau'"),
        (dict(steps=0), "steps must be a positive integer"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    args = dict(optimizer="Adam", landscape="quadratic", lr=0.01, beta1=0.9, beta2=0.999, steps=5)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        explorer.trajectory(**args)


def test_summarize_reports_divergence_and_the_gap():
    # SGD on the quadratic diverges once lr * 20 > 2 (the steep direction's factor |1 - 20 lr| > 1).
    bad = explorer.trajectory("SGD", "quadratic", lr=0.2, steps=2000)
    s = explorer.summarize(bad, "quadratic")
    assert s["diverged_at"] is not None and 0 < s["diverged_at"] <= 2000
    good = explorer.trajectory("SGD", "quadratic", lr=0.05, steps=400)
    s = explorer.summarize(good, "quadratic")
    assert s["diverged_at"] is None
    # x shrinks by (1 - 0.05) per step: the gap is (x0 (0.95)^400)^2 / 2 exactly.
    assert s["gap"] == pytest.approx(0.5 * (1.8 * 0.95**400) ** 2, rel=1e-9)  # y is 0 after step 1


def test_best_lr_picks_the_lowest_final_loss_and_avoids_divergence():
    lrs = [0.001, 0.01, 0.05, 0.09, 0.2]
    # After 60 steps the x-error shrinks by |1 - lr| per step; lr = 0.09 also keeps y stable
    # (|1 - 20 * 0.09| = 0.8), while lr = 0.2 blows y up by a factor 3 per step.
    gaps = {lr: explorer.summarize(explorer.trajectory("SGD", "quadratic", lr, steps=60),
                                   "quadratic")["gap"] for lr in lrs}
    assert min(gaps, key=gaps.get) == 0.09
    assert explorer.best_lr("SGD", "quadratic", lrs, steps=60) == 0.09
    # After 1000 steps lr = 0.2 has overflowed (diverged), and 0.05 and 0.09 both sit at the
    # minimum to within 1e-12: the tie goes to the smaller, safer rate.
    assert explorer.summarize(explorer.trajectory("SGD", "quadratic", 0.2, steps=1000),
                              "quadratic")["diverged_at"] is not None
    assert explorer.best_lr("SGD", "quadratic", lrs, steps=1000) == 0.05
    with pytest.raises(ValueError, match="at least one"):
        explorer.best_lr("SGD", "quadratic", [])


def test_draw_paths_draws_contours_and_one_line_per_path():
    fig, ax = plt.subplots()
    paths = {"SGD": explorer.trajectory("SGD", "quadratic", 0.05, steps=30),
             "Adam": explorer.trajectory("Adam", "quadratic", 0.05, steps=30)}
    explorer.draw_paths(ax, "quadratic", paths, title="t")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["SGD", "Adam"]
    assert len(ax.collections) >= 2  # filled and line contours
    drawn = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(drawn["Adam"].get_xdata(), paths["Adam"][:, 0])
    plt.close(fig)


def test_draw_paths_marks_a_diverged_path():
    fig, ax = plt.subplots()
    path = explorer.trajectory("SGD", "quadratic", 0.2, steps=2000)
    explorer.draw_paths(ax, "quadratic", {"SGD": path})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD (diverged)"]
    plt.close(fig)


def test_draw_settings_is_the_live_callback():
    fig = plt.figure()
    settings = dict(landscape="saddle", optimizers=("Adam", "AdaMax", "RMSProp"), lr=0.05,
                    beta1=0.9, beta2=0.99, steps=40)
    explorer.draw_settings(fig, settings)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Adam", "AdaMax", "RMSProp"]
    assert "saddle" in ax.get_title() and "beta2=0.99" in ax.get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="missing"):
        explorer.draw_settings(plt.figure(), {"landscape": "saddle"})
    plt.close("all")


def test_live_explorer_builds_its_controls(monkeypatch):
    pytest.importorskip("ipywidgets")
    seen = []
    real = explorer.draw_settings

    def spy(fig, settings):
        seen.append(dict(settings))
        real(fig, settings)
        seen[-1]["title"] = fig.axes[0].get_title()

    monkeypatch.setattr(explorer, "draw_settings", spy)
    w = explorer.live_explorer()
    names = {c.description for c in w.children[:-1]}
    assert {"landscape", "optimizers", "learning rate", "steps"} <= names
    assert set(w.children[1].options) == set(rules.RULES)
    # Redraw as a kernel would on a slider move: the callback gets the form's current values.
    w.children[0].value = "saddle"
    w.children[2].value = 0.01
    w.update()
    plt.close("all")
    last = seen[-1]
    assert last["landscape"] == "saddle" and last["lr"] == pytest.approx(0.01)
    assert set(last["optimizers"]) == {"SGD", "Momentum", "RMSProp", "Adam", "AdaMax"}
    assert last["title"].startswith("saddle: lr=0.01")


def test_sweep_varies_one_knob():
    frames = explorer.sweep("rosenbrock", ["Adam", "Momentum"], "beta1", [0.0, 0.9], lr=0.01,
                            steps=15)
    assert len(frames) == 2
    np.testing.assert_array_equal(
        frames[1]["Adam"], explorer.trajectory("Adam", "rosenbrock", 0.01, 0.9, 0.999, 15))
    np.testing.assert_array_equal(
        frames[0]["Momentum"], explorer.trajectory("Momentum", "rosenbrock", 0.01, 0.0, 0.999, 15))
    with pytest.raises(ValueError, match="knob must be"):
        explorer.sweep("rosenbrock", ["Adam"], "eps", [1e-8])


def test_static_forms_hold_one_frame_per_value():
    html = explorer.static_sweep("quadratic", ["SGD"], "lr", [0.01, 0.05, 0.1], steps=10, dpi=30)
    assert html.data.count("data:image/png;base64") == 3
    result = explorer.tour(lrs=(0.01, 0.1), landscapes=("quadratic", "saddle"), steps=10)
    assert list(result) == list(rules.RULES)
    for name in result:
        lr, path = result[name]["saddle"]
        assert lr == explorer.best_lr(name, "saddle", (0.01, 0.1), steps=10)
    html = explorer.static_tour(result, dpi=20)
    assert html.data.count("data:image/png;base64") == len(rules.RULES)
    assert 'alt="Four contour plots (quadratic, saddle)' in html.data


def test_static_sweep_describes_itself():
    html = explorer.static_sweep("saddle", ["Adam", "SGD"], "beta1", [0.0, 0.9], steps=5, dpi=20)
    assert 'alt="Contour plot of the saddle landscape with the paths of Adam, SGD' in html.data
    assert "steps beta1 through 0, 0.9" in html.data
    html = explorer.static_sweep("saddle", ["Adam"], "lr", [0.1], steps=5, dpi=20, alt="mine")
    assert 'alt="mine"' in html.data


def test_contour_grid_cache_tells_landscapes_apart():
    from adamlab.landscapes import quadratic

    _, _, z20 = explorer._log_gap_grid(quadratic(1.0, 20.0), 30)
    _, _, z50 = explorer._log_gap_grid(quadratic(1.0, 50.0), 30)
    assert not np.array_equal(z20, z50)
    _, _, again = explorer._log_gap_grid(quadratic(1.0, 20.0), 30)
    assert again is z20  # the same landscape is served from the cache


def test_sweep_titles_keep_every_digit_of_the_knob(monkeypatch):
    # 0.9999 must not print as "1": the difference is the whole point of the beta2 slider.
    from adamlab.figures import interactive

    titles = []

    def capture(draw, values, **kw):
        for v in values:
            fig = plt.figure()
            draw(fig, v)
            titles.append(fig.axes[0].get_title())
            plt.close(fig)

    monkeypatch.setattr(interactive, "static_slider", capture)
    explorer.static_sweep("beale", ["Adam"], "beta2", [0.99, 0.9999], steps=3)
    assert titles == ["beale: beta2 = 0.99", "beale: beta2 = 0.9999"]
