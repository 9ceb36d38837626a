"""Every formula and claim of the Adam chapters (book/adam/), computed and checked."""

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamlab import ema, landscapes, rules
from adamlab.figures import analysis as A

B1, B2, EPS = 0.9, 0.999, 1e-8


def run_rule(step, init, grads, **hyper):
    return A.trace_updates(step, init, np.asarray(grads, dtype=float)[:, None], **hyper)[:, 0]


# --- the algorithm and the eps-hat form ------------------------------------------------


def test_adam_matches_algorithm_1_written_out():
    rng = np.random.default_rng(1)
    grads = rng.standard_normal(50) * 3
    m = v = 0.0
    expected = []
    for t, g in enumerate(grads, start=1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        expected.append(-1e-3 * (m / (1 - B1**t)) / (math.sqrt(v / (1 - B2**t)) + EPS))
    np.testing.assert_allclose(run_rule(rules.adam, rules.adam_init, grads), expected, rtol=1e-12)


def test_effective_eps_of_constant_eps_hat():
    assert A.effective_eps(1.0, B2, 1) == pytest.approx(1 / math.sqrt(1 - B2))
    assert A.effective_eps(1.0, B2, 1) == pytest.approx(31.62, abs=0.01)
    assert A.effective_eps(1e-7, B2, 10**6) == pytest.approx(1e-7, rel=1e-9)


def test_efficient_form_equals_algorithm_1_with_matched_eps_hat():
    rng = np.random.default_rng(2)
    grads = rng.standard_normal(30) * 1e-6  # tiny gradients: the regime where eps matters
    state_a = state_b = rules.adam_init(np.zeros(1))
    for t, g in enumerate(grads, start=1):
        g = np.array([g])
        ua, state_a = rules.adam(g, state_a, eps=1e-6)
        ub, state_b = rules.adam_efficient(
            g, state_b, eps_hat=float(A.equivalent_eps_hat(1e-6, B2, t))
        )
        np.testing.assert_allclose(ua, ub, rtol=1e-12)


def test_constant_eps_hat_equals_algorithm_1_with_the_effective_eps():
    g = np.full((5, 1), 1e-7)
    eff = run_rule(rules.adam_efficient, rules.adam_init, g[:, 0], eps_hat=1e-7)
    for t in range(1, 6):
        alg1 = run_rule(
            rules.adam, rules.adam_init, g[:t, 0], eps=float(A.effective_eps(1e-7, B2, t))
        )
        assert eff[t - 1] == pytest.approx(alg1[-1], rel=1e-12)
    # and the two conventions really differ there: at t = 1 the eps-hat step is much smaller
    alg1_plain = run_rule(rules.adam, rules.adam_init, g[:1, 0], eps=1e-7)
    assert abs(eff[0]) < 0.1 * abs(alg1_plain[0])


def test_chapter_shows_the_rule_source():
    src = inspect.getsource(rules.adam)
    for line in (
        "m = beta1 * state.m",
        "v = beta2 * state.v",
        "m_hat = m / (1 - beta1**t)",
        "v_hat = v / (1 - beta2**t)",
    ):
        assert line in src


# --- Section 2.1: the step size --------------------------------------------------------


def test_sparse_bound_value_and_cases():
    assert A.sparse_case_bound(B1, B2) == pytest.approx(0.1 / math.sqrt(0.001))
    assert A.sparse_case_bound(B1, B2) == pytest.approx(3.162, abs=1e-3)
    assert (
        A.sparse_case_bound(0.9, 0.99) == 1.0
    )  # (1 - beta1) = sqrt(1 - beta2): the "otherwise" case


def test_spike_after_5000_zeros():
    ratios = A.spike_experiment(5000)
    assert np.all(ratios[:-1] == 0)
    assert ratios[-1] == pytest.approx(A.spike_ratio(5001), rel=1e-12)
    assert ratios[-1] == pytest.approx(3.15, abs=0.01)
    assert ratios[-1] < A.sparse_case_bound()


@given(st.floats(1e-6, 1e6), st.integers(1, 3000))
@settings(max_examples=25, deadline=None)
def test_spike_ratio_is_scale_free_and_below_the_bound(g, n_zero):
    r = A.spike_experiment(n_zero, g=g)[-1]
    assert r == pytest.approx(A.spike_ratio(n_zero + 1), rel=1e-9)
    assert r <= A.sparse_case_bound() * (1 + 1e-12)


def test_bound_is_exceeded_by_geometric_gradients():
    worst = A.worst_case_ratio()
    assert worst == pytest.approx(7.27, abs=0.01)
    g = A.worst_case_gradients(20000, 300)
    ratio = abs(run_rule(rules.adam, rules.adam_init, g, lr=1.0, eps=1e-300)[-1])
    assert ratio == pytest.approx(worst, rel=1e-6)
    assert ratio > 2 * A.sparse_case_bound()


# zero or well above the underflow of g^2, as real gradients are
GRAD = st.one_of(st.just(0.0), st.floats(1e-6, 1e3), st.floats(-1e3, -1e-6))


@given(st.lists(GRAD, min_size=1, max_size=200))
@settings(max_examples=50, deadline=None)
def test_cauchy_schwarz_bound_holds_for_any_gradients(gs):
    gs = np.array(gs)
    if not np.any(gs):
        return
    r = np.abs(run_rule(rules.adam, rules.adam_init, gs, lr=1.0, eps=1e-300))
    t = np.arange(1, gs.size + 1)
    finite_t_bound = (
        (1 - B1) / np.sqrt(1 - B2) * np.sqrt(1 - B2**t) / (1 - B1**t) / np.sqrt(1 - B1**2 / B2)
    )
    assert np.all(r <= finite_t_bound * (1 + 1e-9) + 1e-12)


def test_scale_invariance():
    rng = np.random.default_rng(3)
    grads = rng.standard_normal(100)
    base = run_rule(rules.adam, rules.adam_init, grads, eps=0.0)
    for c in (1e-4, 7.0, 1e5):
        np.testing.assert_allclose(
            run_rule(rules.adam, rules.adam_init, c * grads, eps=0.0), base, rtol=1e-10
        )
    # with eps = 1e-8 a gradient scale near eps breaks it: the step shrinks
    tiny = run_rule(rules.adam, rules.adam_init, 1e-9 * grads)
    assert np.max(np.abs(tiny)) < 0.2 * np.max(np.abs(base))


def test_trust_region_on_stationary_noise():
    rng = np.random.default_rng(4)
    grads = 0.5 + rng.standard_normal(5000)
    r = np.abs(run_rule(rules.adam, rules.adam_init, grads, lr=1.0))
    assert np.quantile(r[100:], 0.99) < 1.0


def test_snr_anneals_near_the_optimum():
    q = landscapes.quadratic(1.0, 1.0)
    grad = landscapes.noisy(lambda x: q.grad(x)[:1], sigma=0.5, seed=0)
    path, snr = A.adam_ratio_trace(grad, [3.0], 6000, lr=1e-2)
    early, late = np.mean(np.abs(snr[:200])), np.mean(np.abs(snr[-1000:]))
    assert early > 0.7 and late < 0.3 and late < early / 3
    assert abs(path[-1, 0]) < 0.2


# --- Section 3: bias correction ---------------------------------------------------------


@pytest.mark.parametrize(
    "b1,b2,expected",
    [(0.9, 0.99, 1), (0.9, 0.999, 3.162), (0.9, 0.9999, 10), (0, 0.99, 10), (0, 0.9999, 100)],
)
def test_first_step_without_correction(b1, b2, expected):
    measured = abs(
        run_rule(
            rules.adam_no_bias_correction,
            rules.adam_init,
            [0.37],
            lr=1.0,
            beta1=b1,
            beta2=b2,
            eps=0.0,
        )[0]
    )
    assert measured == pytest.approx(A.first_step_uncorrected(b1, b2), rel=1e-12)
    assert measured == pytest.approx(expected, rel=1e-3)


@given(st.lists(st.floats(-1e4, 1e4).filter(lambda x: abs(x) > 1e-3), min_size=3, max_size=3))
@settings(max_examples=25, deadline=None)
def test_first_corrected_step_is_lr_times_sign(g):
    g = np.array(g)
    update, _ = rules.adam(g, rules.adam_init(g), lr=1e-3, eps=0.0)
    np.testing.assert_allclose(update, -1e-3 * np.sign(g), rtol=1e-12)


def test_correction_removes_the_bias_of_a_constant_gradient():
    g = np.full(200, 2.5)
    raw = ema.ema(g, B1)
    assert raw[0] == pytest.approx(0.25) and raw[9] == pytest.approx(2.5 * (1 - B1**10))
    np.testing.assert_allclose(ema.ema(g, B1, bias_correction=True), 2.5, rtol=1e-12)
    np.testing.assert_allclose(ema.ema(g**2, B2, bias_correction=True), 6.25, rtol=1e-10)
    np.testing.assert_allclose(
        raw * ema.bias_correction_factor(B1, np.arange(1, 201)), 2.5, rtol=1e-12
    )


def test_expected_v_is_scaled_by_one_minus_beta2_power_t():
    rng = np.random.default_rng(5)
    g = 1.0 + 2.0 * rng.standard_normal((500, 4000))  # E[g^2] = 5, stationary
    v = ema.ema(g**2, 0.99)
    t = np.array([5, 50, 500])
    np.testing.assert_allclose(v[t - 1].mean(axis=1) / (1 - 0.99**t), 5.0, rtol=0.05)


def test_beta2_to_one_gives_adagrads_mean_of_squares():
    rng = np.random.default_rng(6)
    g2 = rng.standard_normal(400) ** 2
    gaps = [
        abs(ema.ema(g2, 1 - d, bias_correction=True)[-1] - g2.mean()) for d in (1e-2, 1e-4, 1e-6)
    ]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-5 * g2.mean()
    uncorrected = ema.ema(g2, 1 - 1e-6)[-1]
    assert uncorrected < 1e-3 * g2.mean()  # without the correction v collapses toward 0


# --- Section 7: AdaMax and temporal averaging -----------------------------------------------


def test_lp_root_tends_to_the_infinity_norm_and_to_adamaxs_u():
    rng = np.random.default_rng(7)
    gs = rng.standard_normal(60)
    limit = A.infinity_norm_limit(gs, B2)
    errs = [abs(A.lp_moment_root(gs, p, B2) - limit) for p in (2, 10, 100, 1000)]
    assert all(a > b for a, b in zip(errs[:-1], errs[1:], strict=True)) and errs[-1] < 1e-2 * limit
    state = rules.adamax_init(np.zeros(1))
    for g in gs:
        _, state = rules.adamax(np.array([g]), state)
    assert state.u[0] == pytest.approx(limit, rel=1e-12)
    p2 = (1 - B2**2) * np.sum((B2 ** (59 - np.arange(60)) * np.abs(gs)) ** 2)
    assert A.lp_moment_root(gs, 2, B2) == pytest.approx(math.sqrt(p2), rel=1e-12)


@given(st.lists(GRAD, min_size=1, max_size=100).filter(lambda v: v[0] != 0))
@settings(max_examples=50, deadline=None)
def test_adamax_step_stays_below_its_bound(gs):
    r = np.abs(run_rule(rules.adamax, rules.adamax_init, gs, lr=1.0))
    t = np.arange(1, len(gs) + 1)
    assert np.all(r <= A.adamax_step_bound(t) * (1 + 1e-12))
    assert np.all(r <= 1.00910)


@pytest.mark.parametrize("t", [1, 2, 10, 100, 5000])
def test_adamax_bound_is_attained_and_slightly_above_lr(t):
    g = A.adamax_worst_gradients(t)
    r = abs(run_rule(rules.adamax, rules.adamax_init, g, lr=1.0)[-1])
    assert r == pytest.approx(float(A.adamax_step_bound(t)), rel=1e-10)
    if t > 1:
        assert r > 1.0
    assert float(A.adamax_step_bound(10**6)) == pytest.approx(0.1 / (1 - 0.9 / 0.999), rel=1e-12)


def test_adamax_eps_conventions_agree_at_zero_eps():
    rng = np.random.default_rng(8)
    gs = rng.standard_normal(30)
    a = run_rule(rules.adamax, rules.adamax_init, gs, eps=0.0, eps_in_max=True)
    b = run_rule(rules.adamax, rules.adamax_init, gs, eps=0.0, eps_in_max=False)
    np.testing.assert_array_equal(a, b)


def test_temporal_average_is_closer_to_the_optimum():
    q = landscapes.quadratic(1.0, 4.0)
    grad = landscapes.noisy(q.grad, sigma=1.0, seed=1)
    path, avg = A.averaged_run("Adam", grad, q.start, 4000, beta_avg=0.999, lr=2e-2)
    last = slice(3000, None)
    assert np.mean(np.linalg.norm(avg[last], axis=1)) < 0.5 * np.mean(
        np.linalg.norm(path[last], axis=1)
    )


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="beta1"):
        A.sparse_case_bound(1.0, 0.999)
    with pytest.raises(ValueError, match="beta1\\^2 < beta2"):
        A.worst_case_ratio(0.99, 0.9)
    with pytest.raises(ValueError, match="p must"):
        A.lp_moment_root([1.0], 0.5, 0.9)


def test_adam_with_beta2_to_one_and_sqrt_decay_follows_adagrads_path():
    G = np.random.default_rng(2).standard_normal((400, 3)) * np.array([1.0, 0.01, 100.0])

    def online(x, t):
        return G[t - 1]

    ada = A.run_online("AdaGrad", online, np.zeros(3), 400, lr=0.1, decay="none", eps=0.0)
    gaps = []
    for d in (1e-2, 1e-4, 1e-6):
        adam = A.run_online(
            "Adam", online, np.zeros(3), 400, lr=0.1, beta1=0.0, beta2=1 - d, eps=0.0
        )
        gaps.append(np.max(np.abs(adam - ada)) / np.max(np.abs(ada)))
    assert gaps[0] > 10 * gaps[1] > 100 * gaps[2] and gaps[2] < 1e-5
    uncorrected = A.run_online(
        "Adam (no bias correction)",
        online,
        np.zeros(3),
        400,
        lr=0.1,
        beta1=0.0,
        beta2=1 - 1e-6,
        eps=0.0,
    )
    assert np.max(np.abs(uncorrected)) > 100 * np.max(np.abs(ada))


def test_correction_rescales_the_uncorrected_step_by_the_warmup_factor():
    rng = np.random.default_rng(9)
    grads = rng.standard_normal(300) + 0.3
    corrected = run_rule(rules.adam, rules.adam_init, grads, eps=0.0)
    raw = run_rule(rules.adam_no_bias_correction, rules.adam_init, grads, eps=0.0)
    t = np.arange(1, 301)
    np.testing.assert_allclose(corrected / raw, np.sqrt(1 - B2**t) / (1 - B1**t), rtol=1e-10)
    c = np.sqrt(1 - B2 ** np.arange(1, 20001)) / (1 - B1 ** np.arange(1, 20001))
    assert c[0] == pytest.approx(0.316, abs=1e-3) and np.all(c < 1)
    assert 3800 < np.argmax(c >= 0.99) + 1 < 4000


@pytest.mark.parametrize("beta2", [0.9, 0.99, 0.999, 0.9999])
def test_bias_correction_slider_data_and_figure(beta2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, raw, corr, unc, cor = A.bias_correction_curves(beta2, steps=500)
    np.testing.assert_allclose(corr, raw / (1 - beta2**t))
    assert unc[0] == pytest.approx(A.first_step_uncorrected(0.9, beta2))
    np.testing.assert_allclose(cor, 1.0, rtol=1e-12)
    fig = plt.figure()
    A.draw_bias_correction(fig, beta2, steps=500)
    assert len(fig.axes) == 2 and all(ax.lines for ax in fig.axes)
    plt.close(fig)


# --- the trust region, the SNR and the noise m-hat keeps (update_rule.md) ------------------


def _stationary_noise_ratios(mu, steps=20000, seed=0, burn_in=1000):
    g = mu + np.random.default_rng(seed).standard_normal(steps)
    return np.abs(run_rule(rules.adam, rules.adam_init, g, lr=1.0))[burn_in:]


def test_m_hat_keeps_noise_of_the_ema_size():
    # the stationary sd of an EMA of unit white noise is sqrt((1 - beta1) / (1 + beta1))
    g = np.random.default_rng(10).standard_normal((4000, 2000))
    m = ema.ema(g, B1)[-1]
    s = math.sqrt((1 - B1) / (1 + B1))
    assert np.std(m) == pytest.approx(s, rel=0.03)
    assert s == pytest.approx(0.229, abs=1e-3)


def test_median_step_at_zero_mean_is_the_half_normal_median_of_m_hat():
    from statistics import NormalDist

    s = math.sqrt((1 - B1) / (1 + B1))
    predicted = NormalDist().inv_cdf(0.75) * s
    r = _stationary_noise_ratios(0.0)
    assert np.median(r) > 0.1  # |mu| / sqrt(mu^2 + 1) = 0 does not describe it
    assert np.median(r) == pytest.approx(predicted, abs=0.01)
    # with a clear mean the plain formula does
    for mu in (1.0, 3.0):
        assert np.median(_stationary_noise_ratios(mu)) == pytest.approx(
            mu / math.sqrt(mu**2 + 1), abs=0.01
        )


def test_pure_noise_ratio_averages_the_half_normal_mean():
    s = math.sqrt((1 - B1) / (1 + B1))
    r = _stationary_noise_ratios(0.0, seed=1)
    assert np.mean(r) == pytest.approx(math.sqrt(2 / math.pi) * s, abs=0.01)


@given(st.floats(-5, 5), st.floats(0.01, 5))
@settings(max_examples=25, deadline=None)
def test_uncentered_second_moment_bounds_the_ratio_of_moments(mu, sigma):
    second = mu**2 + sigma**2  # E[g^2] = E[g]^2 + Var[g]
    assert abs(mu) / math.sqrt(second) <= 1.0


def test_constant_gradient_has_ratio_one_and_no_noise():
    r = np.abs(run_rule(rules.adam, rules.adam_init, np.full(100, 0.37), lr=1.0, eps=0.0))
    np.testing.assert_allclose(r, 1.0, rtol=1e-12)


def test_trust_region_is_a_box_per_coordinate():
    d = 9
    g = np.random.default_rng(11).standard_normal(d) * 10.0 ** np.arange(-4, 5)
    first, _ = rules.adam(g, rules.adam_init(g), lr=1e-3, eps=0.0)
    np.testing.assert_allclose(np.abs(first), 1e-3, rtol=1e-12)  # every coordinate: alpha
    assert np.linalg.norm(first) == pytest.approx(1e-3 * math.sqrt(d), rel=1e-12)
    # noisy gradients in four coordinates: per coordinate near alpha, Euclidean above it
    rng = np.random.default_rng(0)
    mus = [0.0, 0.3, 1.0, 3.0]
    noisy = np.stack([mu + rng.standard_normal(20000) for mu in mus], axis=1)
    u = A.trace_updates(rules.adam, rules.adam_init, noisy, lr=1.0)[1000:]
    assert np.abs(u).max() < 1.5
    assert 1.0 < np.linalg.norm(u, axis=1).max() < 2.0


def test_worst_case_burst_converges_fast_and_grows_by_beta2_over_beta1():
    g = A.worst_case_gradients(20000, 30)
    burst = g[-30:]
    np.testing.assert_allclose(burst[1:] / burst[:-1], B2 / B1, rtol=1e-12)

    def ratio(n):
        g = A.worst_case_gradients(20000, n)
        return abs(run_rule(rules.adam, rules.adam_init, g, lr=1.0, eps=1e-300)[-1])

    r10, r30 = ratio(10), ratio(30)
    assert r10 < r30 < A.worst_case_ratio()
    assert r10 > 2 * A.sparse_case_bound() and r30 > 0.99 * A.worst_case_ratio()


def test_equal_case_spike_is_below_one_after_the_first_step():
    t = np.arange(2, 2001)
    ratio = np.sqrt(1 - 0.99**t) / (1 - 0.9**t)
    # the chapter's argument: ratio < 1  <=>  1.1^t + 0.9^t > 2, and the right side holds
    assert np.all((ratio < 1) == (1.1**t + 0.9**t > 2))
    assert np.all(1.1**t + 0.9**t > 2)
    assert A.spike_ratio(1, 0.9, 0.99) == pytest.approx(1.0, rel=1e-12)
    assert A.spike_experiment(3, 0.9, 0.99)[-1] == pytest.approx(0.577, abs=1e-3)
    assert A.worst_case_ratio(0.9, 0.99) == pytest.approx((1 - 0.81 / 0.99) ** -0.5, rel=1e-12)


def test_eps_takes_the_fraction_s_over_s_plus_eps_of_the_step():
    sizes = np.array([1e-9, 1e-8, 1e-7, 99e-8])
    u = A.trace_updates(rules.adam, rules.adam_init, np.tile(sizes, (50, 1)), lr=1.0)
    np.testing.assert_allclose(np.abs(u[-1]), sizes / (sizes + EPS), rtol=1e-9)
    assert abs(u[-1, 1]) == pytest.approx(0.5) and abs(u[-1, 3]) == pytest.approx(0.99)


def test_adam_ignores_the_curvature_of_a_quadratic():
    paths = [
        landscapes.run("Adam", lambda x, c=c: c * x, [1.0], 300, lr=1e-2, eps=0.0)
        for c in (1e-4, 1.0, 1e4)
    ]
    for p in paths[1:]:
        np.testing.assert_allclose(p, paths[0], rtol=1e-12, atol=1e-300)


# --- bias correction as a warm-up; a restart (bias_correction.md) -----------------------------


def test_warmup_factor_falls_to_a_minimum_at_step_12_then_rises():
    t = np.arange(1, 20001)
    c = np.sqrt(1 - B2**t) / (1 - B1**t)
    i = int(np.argmin(c))
    assert t[i] == 12 and c[i] == pytest.approx(0.152, abs=1e-3)
    assert np.all(np.diff(c[: i + 1]) < 0) and np.all(np.diff(c[i:]) > 0)
    assert int(t[i + np.argmax(c[i:] >= c[0])]) == 106  # back to c_1 = 0.316
    # on a constant gradient the uncorrected step is 1 / c_t: its peak is c's minimum
    raw = np.abs(
        run_rule(rules.adam_no_bias_correction, rules.adam_init, np.ones(3000), lr=1.0, eps=0.0)
    )
    np.testing.assert_allclose(raw, 1 / c[:3000], rtol=1e-10)
    assert int(np.argmax(raw)) == i


def test_expected_v_correction_stays_close_from_the_first_step():
    rng = np.random.default_rng(0)
    streams = 1.0 + 2.0 * rng.standard_normal((500, 4000))
    v = ema.ema(streams**2, 0.99)
    corrected = v.mean(axis=1) / (1 - 0.99 ** np.arange(1, 501))
    assert np.max(np.abs(corrected / 5 - 1)) < 0.03
    assert v[0].mean() / 5 == pytest.approx(0.01, abs=1e-3)


def test_restart_takes_a_nearly_full_step():
    g = np.array([1e-6])
    fresh, _ = rules.adam(g, rules.adam_init(g), lr=1.0)
    assert abs(fresh[0]) == pytest.approx(1e-6 / (1e-6 + EPS), rel=1e-12)
    old = rules.AdamState(1000, g * (1 - B1**1000), np.array([1e-4]) * (1 - B2**1000))
    kept, _ = rules.adam(g, old, lr=1.0)
    assert abs(kept[0]) == pytest.approx(1e-4, rel=0.05)


# --- AdaMax's bound and the averaging window (adamax.md) -------------------------------------


@pytest.mark.parametrize("b1,b2", [(0.9, 0.99), (0.9, 0.999), (0.9, 0.9999), (0.99, 0.999)])
def test_adamax_bound_limit_and_its_excess(b1, b2):
    lim = (1 - b1) / (1 - b1 / b2)
    assert float(A.adamax_step_bound(10**7, b1, b2)) == pytest.approx(lim, rel=1e-12)
    assert lim - 1 == pytest.approx(b1 * (1 - b2) / (b2 - b1), rel=1e-9)
    bound = A.adamax_step_bound(np.arange(1, 200), b1, b2)
    assert np.all(np.diff(bound) > 0) and np.all(bound <= lim * (1 + 1e-12))


def test_temporal_average_window_of_0999_is_best_of_four():
    q = landscapes.quadratic(1.0, 4.0)
    dist = {}
    for b in (0.9, 0.99, 0.999, 0.9999):
        grad = landscapes.noisy(q.grad, sigma=1.0, seed=1)
        _, avg = A.averaged_run("Adam", grad, q.start, 4000, beta_avg=b, lr=2e-2)
        dist[b] = float(np.linalg.norm(avg[3000:], axis=1).mean())
    assert dist[0.9] > dist[0.99] > dist[0.999] < dist[0.9999]
