"""Every formula of the Background chapters (book/background/*.md), computed and checked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adamlab.ema import ema
from adamlab.figures import ema_explorer as ex
from adamlab.figures import secondorder as so
from adamlab.landscapes import quadratic, rosenbrock

# --- Newton's method and preconditioning ---------------------------------------------------


@pytest.mark.parametrize("p", [(-1.5, 2.0), (0.0, 0.0), (1.0, 1.0), (0.3, -0.7)])
def test_rosenbrock_hessian_matches_differences_of_the_gradient(p):
    land = rosenbrock()
    np.testing.assert_allclose(
        so.rosenbrock_hessian(p), so.numerical_hessian(land.grad, p), rtol=1e-6, atol=1e-4
    )


def test_newton_solves_a_quadratic_in_one_step():
    land = quadratic(1.0, 20.0)
    x0 = land.start
    x1 = x0 + so.newton_step(land.grad(x0), land.info["hessian"])
    np.testing.assert_allclose(x1, land.minimum, atol=1e-12)


def test_newton_step_refuses_an_indefinite_hessian_and_damping_fixes_it():
    h = np.diag([2.0, -1.0])
    g = np.array([1.0, 1.0])
    with pytest.raises(ValueError, match="not positive definite"):
        so.newton_step(g, h)
    step = so.damped_newton_step(g, h, damping=0.5)
    assert step @ g < 0  # a descent direction
    # With a positive definite Hessian and no damping it is the plain Newton step.
    np.testing.assert_allclose(so.damped_newton_step(g, np.diag([2.0, 4.0])), [-0.5, -0.25])


def test_newton_reaches_the_rosenbrock_minimum_and_gd_is_still_far():
    land = rosenbrock()
    newton = so.newton_path(land.grad, so.rosenbrock_hessian, land.start, 20)
    assert np.linalg.norm(newton[-1] - land.minimum) < 1e-10
    gd = so.preconditioned_gd_path(land.grad, land.start, 20, lr=1e-3)
    assert np.linalg.norm(gd[-1] - land.minimum) > 0.5


@pytest.mark.parametrize("kappa", [2.0, 20.0, 100.0])
def test_gd_contraction_predicts_the_measured_steps(kappa):
    hess, _, grad = so.rotated_quadratic(1.0, kappa, angle_deg=30.0)
    lr = 2.0 / (1.0 + kappa)
    path = so.preconditioned_gd_path(grad, np.array([1.0, -0.4]), 2000, lr=lr)
    dist = np.linalg.norm(path[:30], axis=1)  # 30 steps: before the distance underflows
    np.testing.assert_allclose(dist[1:] / dist[:-1], so.gd_contraction(kappa), rtol=1e-9)
    assert so.steps_to_reach(path, np.zeros(2), 1e-6) == so.gd_steps_needed(kappa, 1e-6)


def test_gd_formulas_reject_bad_input():
    with pytest.raises(ValueError, match="at least 1"):
        so.gd_contraction(0.5)
    with pytest.raises(ValueError, match="tol"):
        so.gd_steps_needed(10.0, 1.5)


def test_diagonal_preconditioning_is_newton_on_an_axis_aligned_valley_only():
    for angle, exact in [(0.0, True), (30.0, False)]:
        hess, _, grad = so.rotated_quadratic(1.0, 20.0, angle)
        path = so.preconditioned_gd_path(grad, np.array([-1.8, 0.6]), 1, 1.0, 1 / np.diag(hess))
        assert (np.linalg.norm(path[1]) < 1e-12) == exact
    # The full inverse Hessian is exact at any angle.
    hess, _, grad = so.rotated_quadratic(1.0, 20.0, 30.0)
    path = so.preconditioned_gd_path(grad, np.array([-1.8, 0.6]), 1, 1.0, np.linalg.inv(hess))
    assert np.linalg.norm(path[1]) < 1e-12


def test_steps_to_reach_is_none_when_never_reached():
    assert so.steps_to_reach(np.ones((5, 2)), np.zeros(2), 0.1) is None


# --- the size of the Hessian ------------------------------------------------------------------


def test_parameter_counts_by_hand():
    nets = so.book_networks()
    counts = list(nets.values())
    assert counts[0] == 784 * 10 + 10
    assert counts[1] == 10000 + 1
    assert counts[2] == (784 * 1000 + 1000) + (1000 * 1000 + 1000) + (1000 * 10 + 10)
    conv = (3 * 64 * 25 + 64) + (64 * 64 * 25 + 64) + (64 * 128 * 25 + 128)
    assert counts[3] == conv + (2048 * 1000 + 1000) + (1000 * 10 + 10)
    assert counts[4] == (784 * 500 + 500) + (500 * 100 + 100) + (50 * 500 + 500) + (500 * 784 + 784)


def test_parameter_counts_match_torch_modules():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def count(m):
        return sum(p.numel() for p in m.parameters())

    mlp = nn.Sequential(
        nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 1000), nn.ReLU(), nn.Linear(1000, 10)
    )
    assert count(mlp) == so.dense_params([784, 1000, 1000, 10])
    layers, ch = [], 3
    for out in (64, 64, 128):
        layers += [nn.Conv2d(ch, out, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)]
        ch = out
    cnn = nn.Sequential(
        *layers, nn.Flatten(), nn.Linear(2048, 1000), nn.ReLU(), nn.Linear(1000, 10)
    )
    assert cnn(torch.zeros(1, 3, 32, 32)).shape == (1, 10)  # the flatten size 128*4*4 is right
    assert count(cnn) == so.cnn_c64_c64_c128_1000_params()
    enc = nn.ModuleList([nn.Linear(784, 500), nn.Linear(500, 50), nn.Linear(500, 50)])
    dec = nn.Sequential(nn.Linear(50, 500), nn.Softplus(), nn.Linear(500, 784))
    assert count(enc) + count(dec) == so.vae_params()


def test_dense_params_rejects_nonsense():
    with pytest.raises(ValueError, match="input and an output"):
        so.dense_params([784])


def test_memory_and_time_formulas():
    n = 1000
    assert so.hessian_bytes(n) == 4_000_000
    assert so.hessian_bytes(n, 8) == 8_000_000
    assert so.hessian_symmetric_bytes(n) == 4 * 500_500
    assert so.adam_state_bytes(n) == 8000
    assert so.newton_solve_flops(n) == pytest.approx(n**3 / 3 + 2 * n**2)
    rows = so.hessian_cost_table(rate=1e9)
    mlp = rows[2]
    assert mlp["hessian_bytes"] == 4 * 1_796_010**2
    assert mlp["newton_seconds"] == pytest.approx(so.newton_solve_flops(1_796_010) / 1e9)


def test_measured_cholesky_rate_is_positive_and_finite():
    rate = so.measure_cholesky_rate(n=200, repeats=2)
    assert 1e6 < rate < 1e15


@pytest.mark.parametrize(
    "value,text",
    [(512, "512 B"), (1500, "1.5 kB"), (4 * 1000**3, "4.0 GB"), (4 * 1_796_010**2, "12.9 TB"),
     (3 * 1000**6, "3.0 EB")],
)
def test_human_bytes(value, text):
    assert so.human_bytes(value) == text


@pytest.mark.parametrize(
    "value,text",
    [(0.0123, "12.3 ms"), (90, "1.5 min"), (7200, "2.0 h"), (3 * 365.25 * 86400, "3.0 years")],
)
def test_human_seconds(value, text):
    assert so.human_seconds(value) == text


# --- exponential moving averages --------------------------------------------------------------


def test_expected_raw_average_is_the_biased_mean_over_many_streams():
    beta, t = 0.9, 15
    runs = np.array(
        [ema(ex.squared_gradients(t, 1.0, 0.5, seed=s)[1], beta)[-1] for s in range(4000)]
    )
    second = 1.0 + 0.25
    expected = ex.expected_raw_average(beta, t, second)
    assert expected == pytest.approx(second * (1 - beta**t))
    assert runs.mean() == pytest.approx(expected, rel=0.01)
    # Dividing by 1 - beta^t removes the bias (zeta = 0 for a stationary stream).
    assert runs.mean() / (1 - beta**t) == pytest.approx(second, rel=0.01)


def test_squared_gradients_second_moment():
    g, g2, second = ex.squared_gradients(200_000, mean=0.5, std=2.0, seed=1)
    np.testing.assert_allclose(g2, g * g)
    assert second == 0.25 + 4.0
    assert g2.mean() == pytest.approx(second, rel=0.02)
    with pytest.raises(ValueError, match="steps"):
        ex.squared_gradients(0)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_mean_age_is_the_lag_behind_a_ramp(beta):
    k = np.arange(20000)
    assert np.sum(k * (1 - beta) * beta**k) == pytest.approx(ex.mean_age(beta), rel=1e-9)
    ramp = 0.01 * np.arange(1, 20001)
    avg = ema(ramp, beta, bias_correction=True)
    lag_in_steps = (ramp[-1] - avg[-1]) / 0.01
    assert lag_in_steps == pytest.approx(ex.mean_age(beta), rel=1e-6)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_noise_ratio_matches_simulation(beta):
    noise = np.random.default_rng(3).standard_normal(400_000)
    avg = ema(noise, beta)[2000:]  # long after the start, where the formula holds
    assert avg.std() == pytest.approx(ex.noise_ratio(beta), rel=0.03)


def test_explorer_state_is_the_unrolled_sum():
    _, xs, _ = ex.squared_gradients(50, seed=2)
    beta, t = 0.8, 12
    s = ex.explorer_state(beta, t, xs)
    # v_t = (1 - beta) sum_i beta^(t-i) x_i, the unrolled recursion
    unrolled = (1 - beta) * sum(beta ** (t - i) * xs[i - 1] for i in range(1, t + 1))
    assert s["raw"][-1] == pytest.approx(unrolled)
    assert s["weights"] @ xs[:t] == pytest.approx(unrolled)
    assert s["weights"].sum() + s["zero_start_weight"] == pytest.approx(1.0)
    np.testing.assert_allclose(s["corrected"], s["raw"] / (1 - beta ** np.arange(1, t + 1)))
    assert s["window"] == pytest.approx(5.0)
    assert beta ** s["half_life"] == pytest.approx(0.5)
    assert s["weights"][-1] == pytest.approx(1 - beta)  # the newest input
    assert math.isclose(s["weights"][0], (1 - beta) * beta ** (t - 1))  # the oldest


def test_explorer_state_rejects_a_step_outside_the_inputs():
    with pytest.raises(ValueError, match="between 1 and the number of inputs"):
        ex.explorer_state(0.9, 0, np.ones(5))
    with pytest.raises(ValueError, match="between 1 and the number of inputs"):
        ex.explorer_state(0.9, 6, np.ones(5))


def test_draw_explorer_draws_two_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, xs, second = ex.squared_gradients(100, seed=0)
    fig = plt.figure()
    ex.draw_explorer(fig, 0.9, 10, xs, second)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].patches) == 10  # one bar per input
    plt.close(fig)


def test_static_slider_player_needs_no_internet():
    import matplotlib

    matplotlib.use("Agg")
    import re

    from adamlab.figures.interactive import static_slider

    html = static_slider(lambda fig, v: fig.add_subplot().plot([0, v]), [1, 2], alt="a line").data
    assert "font-awesome" not in html and "<i class=" not in html
    assert not [u for u in re.findall(r'(?:href|src)="([^"]*)"', html) if "://" in u]
    assert 'alt="a line"' in html
    assert html.count("<button") == 9  # every control kept, drawn as a character


@pytest.mark.parametrize(
    "page",
    [
        "book/intro.md",
        "book/background/first_vs_second_order.md",
        "book/background/ema.md",
        "book/related/sgd.md",
    ],
)
def test_chapter_parses_as_a_notebook(page):
    """A cell option that is not valid YAML stops the whole book build; catch it here first."""
    from pathlib import Path

    from myst_nb.core.read import read_myst_markdown_notebook

    root = Path(__file__).resolve().parents[1]
    nb = read_myst_markdown_notebook((root / page).read_text(encoding="utf-8"))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{page} has no code cells"
    for cell in code:
        figure = cell.metadata.get("mystnb", {}).get("figure")
        if figure is not None:
            assert figure.get("caption") and figure.get("name"), f"{page}: figure without caption"
            alt = cell.metadata["mystnb"].get("image", {}).get("alt")
            assert alt, f"{page}: figure without alt text"


# --- formulas added to the EMA and second-order chapters ------------------------------------


def test_heavy_ball_velocity_is_an_undamped_ema():
    """u_t = mu u_{t-1} - eta g_t equals -eta / (1 - mu) times the EMA with beta = mu; under a
    constant gradient the EMA tends to g and the velocity to -eta g / (1 - mu)."""
    from adamlab import rules

    mu, lr = 0.9, 0.1
    grads = np.random.default_rng(0).normal(1.0, 1.0, size=(300, 1))
    state, velocity = rules.momentum_init(np.zeros(1)), []
    for g in grads:
        step, state = rules.momentum(g, state, lr=lr, mu=mu)
        velocity.append(step[0])
    np.testing.assert_allclose(velocity, -lr / (1 - mu) * ema(grads[:, 0], mu), atol=1e-12)
    const = ema(np.ones(300), mu)
    assert const[-1] == pytest.approx(1.0, abs=1e-10)
    # Both start at zero: the same relative bias 1 - mu^t at every step.
    np.testing.assert_allclose(const, 1 - mu ** np.arange(1, 301), atol=1e-12)


def test_spread_of_consecutive_ema_values_is_biased_low_by_the_correlation_formula():
    """E[spread^2 of n consecutive values about their mean] = var (1 - mean_ij beta^|i-j|)."""
    sigma, n, runs = 1.0, 100, 3000
    noise = sigma * np.random.default_rng(5).standard_normal((400, runs))
    lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    for beta in (0.5, 0.9, 0.98):
        last = ema(noise, beta)[-n:]  # long after the start
        measured = np.sqrt(last.var(axis=0).mean())
        predicted = ex.noise_ratio(beta) * np.sqrt(1 - (beta**lags).mean())
        assert measured == pytest.approx(predicted, rel=0.02)
        # Across runs at one step there is no such bias.
        assert last[-1].std() == pytest.approx(ex.noise_ratio(beta), rel=0.05)
    # The shrink factor is far from 1 for beta = 0.98 and tiny for beta = 0.5.
    assert np.sqrt(1 - (0.98**lags).mean()) < 0.7 < 0.98 < np.sqrt(1 - (0.5**lags).mean())


def test_zeta_after_a_change_of_scale():
    """The exercise: E[g^2] = 1 up to step 500, 4 after. E[v_600] = 4 (1 - b^100) + b^100 - b^600,
    zeta = -3 (b^100 - b^600), E[v_hat] = 4 + zeta / (1 - b^600); checked by simulation."""
    from adamlab.ema import ema_weights

    t, change = 600, 500
    second = np.where(np.arange(1, t + 1) <= change, 1.0, 4.0)
    rng = np.random.default_rng(9)
    g = np.sqrt(second)[:, None] * rng.standard_normal((t, 4000))
    for b in (0.99, 0.999):
        closed = 4 * (1 - b**100) + b**100 - b**t
        assert ema_weights(b, t)[::-1] @ second == pytest.approx(closed, rel=1e-12)
        zeta = closed - 4 * (1 - b**t)
        assert zeta == pytest.approx(-3 * (b**100 - b**t), rel=1e-12)
        assert closed / (1 - b**t) == pytest.approx(4 + zeta / (1 - b**t), rel=1e-12)
        assert ema(g * g, b)[-1].mean() == pytest.approx(closed, rel=0.03)
    # zeta is about the same for both rates; the corrected estimates are not.
    z = {b: -3 * (b**100 - b**t) for b in (0.99, 0.999)}
    assert z[0.99] == pytest.approx(z[0.999], rel=0.05)
    vhat = {b: 4 + z[b] / (1 - b**t) for b in z}
    assert vhat[0.999] < vhat[0.99] - 1


def test_noise_exercise_beta_for_one_tenth():
    """(1 - b) / (1 + b) = c gives b = (1 - c) / (1 + c), window (1 + c) / (2 c)."""
    from adamlab.ema import window

    c = 1e-2
    b = (1 - c) / (1 + c)
    assert ex.noise_ratio(b) == pytest.approx(np.sqrt(c), rel=1e-12)
    assert window(b) == pytest.approx((1 + c) / (2 * c), rel=1e-12)


def test_first_uncorrected_adam_step():
    """m_1 / sqrt(v_1) = (1 - b1) / sqrt(1 - b2) for any gradient sign and size."""
    for g in (1e-3, -2.0, 50.0):
        m1, v1 = ema([g], 0.9)[0], ema([g * g], 0.999)[0]
        assert abs(m1) / np.sqrt(v1) == pytest.approx(0.1 / np.sqrt(1e-3), rel=1e-12)


def test_adam_ignores_per_coordinate_curvature_on_an_axis_aligned_valley_only():
    """sqrt(v_i) tracks h_i |x_i|: the curvature cancels from Adam's step. Axis-aligned, the
    path does not depend on the curvatures; tilted, the condition number costs steps again."""
    from adamlab.figures import explorer
    from adamlab.landscapes import Landscape

    paths = [explorer.trajectory("Adam", quadratic(1.0, k), 0.05, steps=300) for k in (1, 20, 2000)]
    for p in paths[1:]:
        np.testing.assert_allclose(p, paths[0], atol=1e-6)
    np.testing.assert_allclose(np.abs(paths[1][1] - paths[1][0]), 0.05, rtol=1e-6)

    def steps(kappa, angle, lr=0.3):
        _, f, grad = so.rotated_quadratic(1.0, kappa, angle)
        land = Landscape("v", f, grad, start=np.array([-1.8, 0.6]), minimum=np.zeros(2),
                         bounds=((-2.0, 2.0), (-1.2, 1.2)))
        path = explorer.trajectory("Adam", land, lr, steps=4000)
        return so.steps_to_reach(path, np.zeros(2), 1e-6)

    assert steps(20.0, 0.0) == steps(2000.0, 0.0)
    assert steps(2000.0, 30.0) > 3 * steps(20.0, 30.0)
