"""The formulas and claims of book/related/momentum.md, checked numerically.

The rate analysis (src/adamlab/figures/momentum_analysis.py) against closed forms and against runs of
rules.momentum; the sum-versus-average identity; the stability of the terminal-velocity
exercise; the learning-rate sweep; the double well.
"""

import math

import numpy as np
import pytest

from adamlab import rules
from adamlab.ema import ema_weights
from adamlab.figures import explorer
from adamlab.figures import momentum_analysis as ma
from adamlab.landscapes import quadratic, run

MUS = (0.0, 0.3, 0.5, 0.9, 0.99)


def distances(lams, lr, mu, steps):
    """Distance to the minimum of sum(lams * x^2)/2 under rules.momentum, from x = 1."""
    x = np.ones_like(lams)
    state = rules.momentum_init(x)
    out = [np.linalg.norm(x)]
    for _ in range(steps):
        update, state = rules.momentum(lams * x, state, lr=lr, mu=mu)
        x = x + update
        out.append(np.linalg.norm(x))
    return np.array(out)


# ------------------------------------------------------------------------------------------
# One eigen-direction: the recursion, its matrix, its rate
# ------------------------------------------------------------------------------------------


def test_eliminating_v_gives_the_three_term_recursion():
    lam, lr, mu = 7.0, 0.05, 0.8
    x, state, xs = np.array([1.3]), rules.momentum_init(np.zeros(1)), [1.3]
    for _ in range(40):
        update, state = rules.momentum(lam * x, state, lr=lr, mu=mu)
        x = x + update
        xs.append(float(x[0]))
    for t in range(1, 40):
        assert xs[t + 1] == pytest.approx((1 + mu - lr * lam) * xs[t] - mu * xs[t - 1],
                                          rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("mu", MUS)
def test_rate_is_the_larger_root_of_the_characteristic_polynomial(mu):
    for h in np.linspace(0.0, 4.5, 91):
        roots = np.roots([1.0, -(1 + mu - h), mu])
        assert ma.rate(h, mu) == pytest.approx(np.abs(roots).max(), rel=1e-6, abs=1e-7)


def test_gradient_descent_rate_is_abs_one_minus_eta_lambda():
    h = np.linspace(0.0, 3.0, 61)
    np.testing.assert_allclose(ma.rate(h, 0.0), np.abs(1 - h), atol=1e-12)


@pytest.mark.parametrize("mu", MUS)
def test_stable_exactly_below_two_times_one_plus_mu(mu):
    cap = 2 * (1 + mu)
    h = np.linspace(1e-6, 4.5, 2000)
    r = ma.rate(h, mu)
    assert np.all(r[h < cap - 1e-6] < 1)
    assert np.all(r[h > cap + 1e-6] > 1)
    assert ma.rate(cap, mu) == pytest.approx(1.0, abs=1e-6)  # the root z = -1


@pytest.mark.parametrize("mu", (0.3, 0.5, 0.9, 0.99))
def test_floor_sqrt_mu_reached_exactly_on_the_complex_range(mu):
    h = np.linspace(0.0, 2 * (1 + mu), 4001)
    r = ma.rate(h, mu)
    assert np.all(r >= math.sqrt(mu) - 1e-7)  # the product of the roots is mu
    lo, hi = (1 - math.sqrt(mu)) ** 2, (1 + math.sqrt(mu)) ** 2
    inside = (h > lo + 1e-9) & (h < hi - 1e-9)
    np.testing.assert_allclose(r[inside], math.sqrt(mu), rtol=1e-9)
    outside = (h < lo - 1e-6) | (h > hi + 1e-6)
    assert np.all(r[outside] > math.sqrt(mu))


def test_raising_mu_from_09_to_099_raises_the_stable_limit():
    # The terminal-velocity exercise: eta * b = 3.9 lies between 2(1.9) and 2(1.99).
    assert 2 * (1 + 0.9) < 0.195 * 20 < 2 * (1 + 0.99)
    assert ma.rate(0.195 * 20, 0.9) > 1 > ma.rate(0.195 * 20, 0.99)
    land = quadratic(1.0, 20.0)
    big = explorer.trajectory("Momentum", land, 0.195, beta1=0.9, steps=3000)
    small = explorer.trajectory("Momentum", land, 0.195, beta1=0.99, steps=3000)
    assert not np.all(np.isfinite(big[-1])) or np.linalg.norm(big[-1]) > 1e10
    assert np.linalg.norm(small[-1]) < 1e-5
    # A tenth of the rate keeps the terminal velocity eta / (1 - mu), not stability.
    assert (0.195 / 10) / (1 - 0.99) == pytest.approx(0.195 / (1 - 0.9))
    assert math.ceil(math.log(0.1) / math.log(0.99)) == 230


# ------------------------------------------------------------------------------------------
# The whole spectrum: tuned gradient descent and Polyak's heavy ball
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [2.0, 20.0, 100.0, 1e4])
def test_tuned_rates_equal_the_formulas(kappa):
    eta_gd, rate_gd = ma.gd_tuned(1.0, kappa)
    assert eta_gd == pytest.approx(2 / (1 + kappa))
    assert rate_gd == pytest.approx((kappa - 1) / (kappa + 1))
    assert ma.worst_rate(eta_gd, 0.0, 1.0, kappa) == pytest.approx(rate_gd, abs=1e-12)
    eta, mu, r = ma.polyak(1.0, kappa)
    s = math.sqrt(kappa)
    assert eta == pytest.approx(4 / (1 + s) ** 2)
    assert mu == pytest.approx(((s - 1) / (s + 1)) ** 2)
    assert r == pytest.approx(math.sqrt(mu))
    # Both ends of the spectrum sit on the edges of the complex range ...
    assert eta * 1.0 == pytest.approx((1 - math.sqrt(mu)) ** 2)
    assert eta * kappa == pytest.approx((1 + math.sqrt(mu)) ** 2)
    # ... so the slowest direction's rate is sqrt(mu).
    assert ma.worst_rate(eta, mu, 1.0, kappa) == pytest.approx(r, abs=1e-6)


def test_polyaks_settings_are_not_beaten_on_a_grid():
    kappa = 20.0
    _, _, best = ma.polyak(1.0, kappa)
    _, gd_best = ma.gd_tuned(1.0, kappa)
    for eta in np.linspace(0.01, 0.2, 39):
        assert ma.worst_rate(eta, 0.0, 1.0, kappa, n=401) >= gd_best - 1e-9
        for mu in np.linspace(0.0, 0.95, 39):
            assert ma.worst_rate(eta, mu, 1.0, kappa, n=401) >= best - 1e-6


def test_steps_per_factor_ten_grow_like_kappa_and_sqrt_kappa():
    for kappa in (1e3, 1e4):
        _, r_gd = ma.gd_tuned(1.0, kappa)
        _, _, r_hb = ma.polyak(1.0, kappa)
        assert math.log(10) / -math.log(r_gd) == pytest.approx(kappa * math.log(10) / 2,
                                                               rel=1e-5)
        assert math.log(10) / -math.log(r_hb) == pytest.approx(
            math.sqrt(kappa) * math.log(10) / 2, rel=1e-3)


@pytest.mark.parametrize("kappa", [10, 100, 1000])
def test_measured_rates_match_the_prediction(kappa):
    lams = np.linspace(1.0, kappa, 50)
    t1, t2 = 100, 200
    eta_gd, r_gd = ma.gd_tuned(1.0, kappa)
    assert ma.measured_rate(distances(lams, eta_gd, 0.0, t2), t1, t2) == pytest.approx(
        r_gd, rel=1e-4)
    # Heavy ball: the double roots at both ends add a factor t, i.e. (t2/t1)^(1/(t2-t1)).
    eta, mu, r = ma.polyak(1.0, kappa)
    measured = ma.measured_rate(distances(lams, eta, mu, t2), t1, t2)
    assert measured > r
    assert measured == pytest.approx(r * (t2 / t1) ** (1 / (t2 - t1)), rel=1e-3)


def test_valley_settings_order_and_the_kappa_100_exercise():
    land = quadratic(1.0, 20.0)
    q = math.sqrt(20.0)
    eta_gd, _ = ma.gd_tuned(1.0, 20.0)
    eta, mu, _ = ma.polyak(1.0, 20.0)

    def hit(path):
        return int(np.flatnonzero(np.linalg.norm(path, axis=1) < 1e-6)[0])

    gd = hit(explorer.trajectory("SGD", land, eta_gd, steps=300))
    hb = hit(explorer.trajectory("Momentum", land, eta, beta1=mu, steps=300))
    nag = hit(explorer.trajectory("Nesterov", land, 1 / 20.0, beta1=(q - 1) / (q + 1), steps=300))
    assert hb < nag < gd

    valley = quadratic(1.0, 100.0)
    d0 = np.linalg.norm(valley.start)
    eta_gd, r_gd = ma.gd_tuned(1.0, 100.0)
    eta, mu, r = ma.polyak(1.0, 100.0)
    pred_gd = math.ceil(6 * math.log(10) / -math.log(r_gd))
    pred_hb = math.ceil(6 * math.log(10) / -math.log(r))
    run_gd = explorer.trajectory("SGD", valley, eta_gd, steps=2000)
    run_hb = explorer.trajectory("Momentum", valley, eta, beta1=mu, steps=2000)
    n_gd = int(np.flatnonzero(np.linalg.norm(run_gd, axis=1) < 1e-6 * d0)[0])
    n_hb = int(np.flatnonzero(np.linalg.norm(run_hb, axis=1) < 1e-6 * d0)[0])
    assert abs(n_gd - pred_gd) <= 5
    assert pred_hb <= n_hb <= 1.5 * pred_hb
    assert n_gd > 5 * n_hb


# ------------------------------------------------------------------------------------------
# A sum, not an average
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mu", [0.5, 0.9, 0.99])
def test_adam_m_is_the_momentum_buffer_damped_by_one_minus_beta1(mu):
    rng = np.random.default_rng(1)
    state, m, lr = rules.momentum_init(np.zeros(3)), np.zeros(3), 0.07
    for g in 1.0 + rng.standard_normal((200, 3)):
        v, state = rules.momentum(g, state, lr=lr, mu=mu)
        m = mu * m + (1 - mu) * g
        np.testing.assert_allclose(m, -(1 - mu) * v / lr, rtol=1e-10, atol=1e-12)


def test_sum_tends_to_g_over_one_minus_mu_and_average_to_g():
    mu, g = 0.9, np.array([2.0])
    state, m = rules.momentum_init(np.zeros(1)), 0.0
    for t in range(1, 301):
        v, state = rules.momentum(g, state, lr=1.0, mu=mu)
        m = mu * m + (1 - mu) * g[0]
        assert m / (1 - mu**t) == pytest.approx(2.0, rel=1e-12)  # m-hat = g from step 1
    assert -v[0] == pytest.approx(2.0 / (1 - mu), rel=1e-12)
    assert m == pytest.approx(2.0, rel=1e-12)
    assert (mu ** np.arange(100)).sum() == pytest.approx((1 - mu**100) / (1 - mu))
    assert ema_weights(mu, 100).sum() == pytest.approx(1 - mu**100)


# ------------------------------------------------------------------------------------------
# Nesterov's look-ahead picture, the double well, the learning-rate sweep
# ------------------------------------------------------------------------------------------


def test_lookahead_gradient_points_back_and_nesterov_lands_nearer_the_floor():
    land = quadratic(1.0, 20.0)
    eta, mu = 0.04, 0.9
    theta, v = np.array([-1.2, -0.25]), np.array([0.15, 0.45])
    ahead = theta + mu * v
    assert ahead[1] > 0 > theta[1]
    assert land.grad(ahead)[1] > 0 > land.grad(theta)[1]
    hb = ahead - eta * land.grad(theta)
    nag = ahead - eta * land.grad(ahead)
    assert abs(nag[1]) < abs(hb[1])
    # The same step through rules.momentum (heavy ball) and the look-ahead form (Nesterov).
    update, _ = rules.momentum(land.grad(theta), rules.MomentumState(1, v), lr=eta, mu=mu)
    np.testing.assert_allclose(theta + update, hb, rtol=1e-14)


def test_momentum_changes_which_well_a_run_ends_in():
    tilt = 0.3

    def grad(x):
        return x**3 - x + tilt

    crit = np.sort(np.roots([1.0, 0.0, -1.0, tilt]).real)
    x_global, x_local = crit[0], crit[2]
    f = lambda x: x**4 / 4 - x**2 / 2 + tilt * x  # noqa: E731
    assert f(x_global) < f(x_local)

    def end(start, name, **hp):
        return run(name, grad, np.array([start]), 1500, lr=0.02, **hp)[-1, 0]

    assert end(2.0, "SGD") == pytest.approx(x_local, abs=1e-6)
    assert end(2.0, "Momentum", mu=0.9) == pytest.approx(x_global, abs=1e-6)
    assert end(-2.2, "SGD") == pytest.approx(x_global, abs=1e-6)
    assert end(-2.2, "Momentum", mu=0.9) == pytest.approx(x_local, abs=1e-6)


def test_sweep_claims_on_the_valley():
    land = quadratic(1.0, 20.0)
    lrs = [0.001, 0.003, 0.01, 0.03, 0.06, 0.09, 0.12, 0.3]

    def final(name, lr):
        path = explorer.trajectory(name, land, lr, beta1=0.9, beta2=0.999, steps=150)
        return explorer.summarize(path, land)["distance"]

    start = float(np.linalg.norm(land.start))
    floor = math.sqrt(0.9) ** 150
    for lr in lrs[1:7]:  # momentum: both curvatures in the oscillating range, rate sqrt(mu)
        assert floor / 3 < final("Momentum", lr) < 3 * floor
    assert final("Momentum", 0.3) > 1e10 and final("SGD", 0.12) > 1e10
    adam = {lr: final("Adam", lr) for lr in lrs}
    assert all(np.isfinite(d) and d < start for d in adam.values())  # never diverges ...
    assert adam[0.001] > 0.8 * start and adam[0.01] > 0.25 * start  # ... but slow when small
    assert all(floor / 10 < adam[lr] < 10 * floor for lr in lrs if lr >= 0.03)
    assert all(final("RMSProp", lr) < adam[lr] for lr in lrs)


@pytest.mark.parametrize("mu", [0.5, 0.9])
def test_ema_of_unit_noise_wanders_by_sqrt_one_minus_mu_over_one_plus_mu(mu):
    # The spread the chapter quotes for Adam's m-hat on a noisy stream, measured over many
    # independent streams at a fixed late step (so the samples are independent).
    rng = np.random.default_rng(2)
    m = np.zeros(20000)
    for g in rng.standard_normal((200, m.size)):
        m = mu * m + (1 - mu) * g
    assert m.std() == pytest.approx(math.sqrt((1 - mu) / (1 + mu)), rel=0.03)
