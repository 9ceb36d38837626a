"""Every formula and claim of the Related-work chapters (book/related/), checked numerically."""

import math

import numpy as np
import pytest

from adamlab import rules
from adamlab.ema import ema_weights, half_life, window
from adamlab.figures import explorer
from adamlab.landscapes import quadratic, run, sparse_features
from adamlab.rules import Rule

PYTORCH_MOMENTUM = Rule("PyTorch momentum", rules.momentum_pytorch_init, rules.momentum_pytorch,
                        {"lr": 0.1, "momentum": 0.9, "dampening": 0.0})


def one(x):
    return np.ones_like(x)


def lr_drop(t):
    return 1.0 if t <= 30 else 0.1


# ------------------------------------------------------------------------------------------
# sgd.md
# ------------------------------------------------------------------------------------------


def _regression():
    rng = np.random.default_rng(0)
    n = 2000
    X = rng.standard_normal((n, 2)) * np.array([1.0, 0.5])
    y = X @ np.array([1.0, -0.5]) + 0.5 * rng.standard_normal(n)
    G = X * (X @ np.array([-1.0, 1.0]) - y)[:, None]
    return G, rng


@pytest.mark.parametrize("B", [1, 16, 256])
def test_minibatch_noise_is_trace_sigma_over_b(B):
    G, rng = _regression()
    n = len(G)
    full = G.mean(axis=0)
    trace_sigma = np.trace(np.cov(G.T, bias=True))
    draws = np.array([G[rng.integers(n, size=B)].mean(axis=0) for _ in range(4000)])
    msq = np.mean(np.sum((draws - full) ** 2, axis=1))
    # 4000 draws: the estimate of a mean square has a relative error of a few percent.
    assert msq == pytest.approx(trace_sigma / B, rel=0.08)


def test_minibatch_without_replacement_has_the_finite_population_factor():
    G, rng = _regression()
    n, B = len(G), 1000
    full = G.mean(axis=0)
    trace_sigma = np.trace(np.cov(G.T, bias=True))
    draws = np.array([G[rng.permutation(n)[:B]].mean(axis=0) for _ in range(3000)])
    msq = np.mean(np.sum((draws - full) ** 2, axis=1))
    assert msq == pytest.approx(trace_sigma / B * (n - B) / (n - 1), rel=0.08)
    assert np.allclose(G[rng.permutation(n)].mean(axis=0), full)  # B = n: no noise at all


@pytest.mark.parametrize("lr", [0.02, 0.09, 2 / 21])
def test_gradient_descent_on_the_quadratic_is_a_per_coordinate_power(lr):
    land = quadratic(1.0, 20.0)
    path = explorer.trajectory("SGD", land, lr, steps=40)
    t = np.arange(41)
    np.testing.assert_allclose(path[:, 0], (1 - lr) ** t * -1.8, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(path[:, 1], (1 - 20 * lr) ** t * 0.6, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("a, b", [(1.0, 20.0), (1.0, 50.0)])
def test_gd_stability_cap_and_best_rate(a, b):
    land = quadratic(a, b)
    cap = 2 / b
    below = explorer.trajectory("SGD", land, 0.99 * cap, steps=3000)
    above = explorer.trajectory("SGD", land, 1.01 * cap, steps=200)
    assert np.linalg.norm(below[-1]) < 1e-3 * np.linalg.norm(below[0])
    assert abs(above[-1, 1]) > 5 * abs(above[0, 1])
    # The best fixed rate 2/(a+b) minimizes the slowest factor; its value is (k-1)/(k+1).
    grid = np.linspace(1e-4, cap, 20001)
    slowest = np.maximum(np.abs(1 - grid * a), np.abs(1 - grid * b))
    assert grid[np.argmin(slowest)] == pytest.approx(2 / (a + b), abs=grid[1] - grid[0])
    kappa = b / a
    assert slowest.min() == pytest.approx((kappa - 1) / (kappa + 1), abs=b * (grid[1] - grid[0]))
    # Measured on the path: the distance shrinks by exactly that factor once y has decayed.
    path = explorer.trajectory("SGD", land, 2 / (a + b), steps=200)
    ratio = np.linalg.norm(path[200]) / np.linalg.norm(path[199])
    assert ratio == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-9)


def test_steps_for_a_thousandfold_shrink_at_kappa_20():
    r = 19 / 21
    assert math.ceil(math.log(1e-3) / math.log(r)) == 70
    assert r**70 <= 1e-3 < r**69


def test_gd_at_0_105_diverges_and_0_09_zigzags():
    land = quadratic(1.0, 20.0)
    zig = explorer.trajectory("SGD", land, 0.09, steps=10)
    assert np.all(np.sign(zig[1:, 1]) == -np.sign(zig[:-1, 1]))  # y flips sign every step
    assert explorer.summarize(explorer.trajectory("SGD", land, 0.105, steps=8000),
                              land)["diverged_at"] is not None


# ------------------------------------------------------------------------------------------
# momentum.md
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mu", [0.9, 0.99])
def test_velocity_under_a_constant_gradient(mu):
    g, state = np.array([1.0]), rules.momentum_init(np.zeros(1))
    for t in range(1, 301):
        update, state = rules.momentum(g, state, lr=0.1, mu=mu)
        assert update[0] == pytest.approx(-0.1 * (1 - mu**t) / (1 - mu), rel=1e-12)


def test_ninety_percent_of_terminal_velocity_at_mu_099_takes_230_steps():
    assert 1 - 0.99**230 >= 0.9 > 1 - 0.99**229


def test_nesterov_rule_is_the_look_ahead_form_of_sutskevers_nag():
    land = quadratic(1.0, 20.0)
    lr, mu = 0.03, 0.8
    theta, v = land.start.copy(), np.zeros(2)
    phi_path = explorer.trajectory("Nesterov", land, lr, beta1=mu, steps=50)
    for t in range(1, 51):
        v = mu * v - lr * land.grad(theta + mu * v)  # gradient at the look-ahead point
        theta = theta + v
        np.testing.assert_allclose(phi_path[t], theta + mu * v, rtol=1e-10, atol=1e-14)


def test_heavy_ball_with_polyaks_settings_converges_at_the_sqrt_kappa_rate():
    land = quadratic(1.0, 20.0)
    q = math.sqrt(20.0)
    lr, mu = 4 / (1 + q) ** 2, ((q - 1) / (q + 1)) ** 2
    path = explorer.trajectory("Momentum", land, lr, beta1=mu, steps=300)
    d = np.linalg.norm(path, axis=1)
    measured = (d[250] / d[150]) ** (1 / 100)
    # A double eigenvalue adds a factor t to r^t, so the measured rate sits a little above r.
    assert (q - 1) / (q + 1) <= measured < 1.01 * (q - 1) / (q + 1)
    steps_to = int(np.flatnonzero(d < 1e-6)[0])
    gd = explorer.trajectory("SGD", land, 2 / 21, steps=300)
    assert steps_to < int(np.flatnonzero(np.linalg.norm(gd, axis=1) < 1e-6)[0]) / 3


def test_heavy_ball_stability_cap_is_2_1_plus_mu_over_b():
    land, mu = quadratic(1.0, 20.0), 0.9
    cap = 2 * (1 + mu) / 20.0
    below = explorer.trajectory("Momentum", land, 0.98 * cap, beta1=mu, steps=4000)
    above = explorer.trajectory("Momentum", land, 1.02 * cap, beta1=mu, steps=400)
    assert np.linalg.norm(below[-1]) < 1e-2
    assert np.linalg.norm(above[-1]) > 10


def test_pytorch_and_sutskever_momentum_agree_for_a_constant_lr():
    land = quadratic(1.0, 20.0)
    a = run("Momentum", land.grad, land.start, 200, lr=0.02, mu=0.9)
    b = run(PYTORCH_MOMENTUM, land.grad, land.start, 200, lr=0.02, momentum=0.9)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_pytorch_and_sutskever_momentum_differ_under_a_schedule():
    x0 = np.zeros(1)
    sut = run("Momentum", one, x0, 80, lr=0.1, mu=0.9, lr_schedule=lr_drop)
    pt = run(PYTORCH_MOMENTUM, one, x0, 80, lr=0.1, lr_schedule=lr_drop)
    s_sut, s_pt = -np.diff(sut[:, 0]), -np.diff(pt[:, 0])
    np.testing.assert_allclose(s_sut[:30], s_pt[:30], rtol=1e-13)
    # After the drop: PyTorch applies 0.01 to its whole buffer at once ...
    assert s_pt[30] == pytest.approx(0.01 * (1 - 0.9**31) / (1 - 0.9), rel=1e-12)
    # ... Sutskever's velocity fades at the rate mu toward the new terminal step 0.1.
    k = np.arange(1, 51)
    np.testing.assert_allclose(s_sut[30:], 0.9**k * (1 - 0.9**30) + 0.1 * (1 - 0.9**k),
                               rtol=1e-12)
    assert sut[-1, 0] < pt[-1, 0] - 5  # the old momentum carries it further


def test_dampening_is_a_smaller_lr_plus_a_fading_first_gradient():
    rng = np.random.default_rng(3)
    gs = rng.standard_normal((30, 2))
    d, mu = 0.3, 0.9
    s_damp = rules.momentum_pytorch_init(np.zeros(2))
    s_plain = rules.momentum_pytorch_init(np.zeros(2))
    for t, g in enumerate(gs, start=1):
        _, s_damp = rules.momentum_pytorch(g, s_damp, lr=1.0, momentum=mu, dampening=d)
        _, s_plain = rules.momentum_pytorch(g, s_plain, lr=1.0, momentum=mu)
        np.testing.assert_allclose(s_damp.buf, (1 - d) * s_plain.buf + d * mu ** (t - 1) * gs[0],
                                   rtol=1e-12, atol=1e-14)


def test_torch_sgd_and_adamlab_optim_under_steplr():
    torch = pytest.importorskip("torch")
    from adamlab import optim

    def train(make):
        w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = make([w])
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
        for _ in range(40):
            opt.zero_grad()
            w.sum().backward()
            opt.step()
            sched.step()
        return float(w.detach()[0])

    drop = lambda t: 1.0 if t <= 30 else 0.1  # noqa: E731  (StepLR: steps 31..60 use 0.01)
    x0 = np.zeros(1)
    pt_rule = run(PYTORCH_MOMENTUM, one, x0, 40, lr=0.1, lr_schedule=drop)[-1, 0]
    sut_rule = run("Momentum", one, x0, 40, lr=0.1, mu=0.9, lr_schedule=drop)[-1, 0]
    assert train(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)) == pytest.approx(pt_rule,
                                                                                     rel=1e-12)
    assert train(lambda p: optim.SGD(p, lr=0.1, momentum=0.9)) == pytest.approx(pt_rule, rel=1e-12)
    assert train(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, form="sutskever")) == pytest.approx(
        sut_rule, rel=1e-12)
    assert abs(sut_rule - pt_rule) > 1


# ------------------------------------------------------------------------------------------
# adagrad.md
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("g_size", [1e-2, 1.0, 1e2])
def test_adagrad_step_is_lr_over_sqrt_t_under_a_constant_gradient(g_size):
    g, state = np.array([g_size]), rules.adagrad_init(np.zeros(1))
    steps = []
    for _ in range(10_000):
        update, state = rules.adagrad(g, state, lr=0.1, eps=0.0)
        steps.append(-update[0])
    t = np.arange(1, 10_001)
    np.testing.assert_allclose(steps, 0.1 / np.sqrt(t * g_size**2) * g_size, rtol=1e-12)
    np.testing.assert_allclose(steps, 0.1 / np.sqrt(t), rtol=1e-12)
    assert steps[-1] / steps[0] == pytest.approx(0.01)  # 1% of the first step at t = 10^4
    assert steps[99] / steps[0] == pytest.approx(0.1)  # 10% at t = 100
    total = np.sum(steps)
    assert 2 * 0.1 * (math.sqrt(10_001) - 1) <= total <= 2 * 0.1 * math.sqrt(10_000) - 0.1
    assert total == pytest.approx(19.854, abs=1e-3)


def test_adagrad_denominator_is_sqrt_t_times_the_rms_of_all_gradients():
    rng = np.random.default_rng(0)
    gs = rng.standard_normal((50, 3))
    state = rules.adagrad_init(np.zeros(3))
    for t, g in enumerate(gs, start=1):
        update, state = rules.adagrad(g, state, lr=0.5, eps=0.0)
        rms = np.sqrt(np.mean(gs[:t] ** 2, axis=0))
        np.testing.assert_allclose(np.sqrt(state.sum), np.sqrt(t) * rms, rtol=1e-12)
        np.testing.assert_allclose(update, -0.5 / np.sqrt(t) * g / rms, rtol=1e-12)


def test_adagrad_initial_accumulator():
    g = np.array([1e-3])
    update, _ = rules.adagrad(g, rules.adagrad_init(np.zeros(1)), lr=1.0, eps=0.0)
    assert update[0] == pytest.approx(-1.0)  # sign(g), whatever its size
    update, _ = rules.adagrad(g, rules.adagrad_init(np.zeros(1), 0.1), lr=1.0)
    assert update[0] == pytest.approx(-1e-3 / (math.sqrt(0.1 + 1e-6) + 1e-10), rel=1e-12)
    assert -update[0] == pytest.approx(0.0032, abs=5e-5)


def test_adagrad_gives_the_rare_feature_a_larger_effective_lr():
    problem = sparse_features(n_features=2, frequencies=(1.0, 0.05), seed=0)
    X, y = problem.info["X"], problem.info["y"]
    y = y + 0.5 * np.random.default_rng(1).standard_normal(len(y))
    rng = np.random.default_rng(0)
    w, state = np.zeros(2), rules.adagrad_init(np.zeros(2))
    for _ in range(3000):
        i = rng.integers(len(y))
        update, state = rules.adagrad(X[i] * (X[i] @ w - y[i]), state, lr=0.3)
        w = w + update
    eff = 0.3 / (np.sqrt(state.sum) + 1e-10)
    # The pure-frequency argument gives sqrt(1 / 0.05) = 4.47; the measured ratio is near it.
    assert 2.5 < eff[1] / eff[0] < math.sqrt(1 / 0.05)


# ------------------------------------------------------------------------------------------
# rmsprop.md
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, expected", [(0.9, 0.6513), (0.99, 0.6340)])
def test_the_last_window_of_gradients_carries_about_63_percent(alpha, expected):
    w = ema_weights(alpha, 300)
    k = int(round(window(alpha)))
    assert w[:k].sum() == pytest.approx(1 - alpha**k, rel=1e-12)
    assert w[:k].sum() == pytest.approx(expected, abs=1e-4)
    assert abs(w[:k].sum() - (1 - 1 / math.e)) < 0.03
    # The rule's r_t is exactly this weighted sum of past squared gradients (r_0 = 0).
    rng = np.random.default_rng(1)
    gs = rng.standard_normal(300)
    state = rules.rmsprop_init(np.zeros(1))
    for g in gs:
        _, state = rules.rmsprop(np.array([g]), state, lr=1.0, alpha=alpha)
    assert state.square_avg[0] == pytest.approx(np.sum(w * gs[::-1] ** 2), rel=1e-12)


def test_half_life_of_alpha_099():
    assert half_life(0.99) == pytest.approx(68.97, abs=0.01)
    assert 1 - 0.99**10 == pytest.approx(0.0956, abs=1e-4)


def _step_sizes(rule, init, g_seq, **hyper):
    state, out = init(np.zeros(1)), []
    for g in g_seq:
        update, state = rule(np.array([g]), state, lr=1.0, eps=0.0, **hyper)
        out.append(-float(update[0]))
    return np.array(out)


@pytest.mark.parametrize("alpha, drop", [(0.9, 0.01), (0.99, 0.01), (0.9, 0.1)])
def test_rmsprop_recovers_in_the_predicted_number_of_steps(alpha, drop):
    phase = 1000
    g_seq = np.concatenate([np.ones(phase), np.full(phase, drop)])
    s = _step_sizes(rules.rmsprop, rules.rmsprop_init, g_seq, alpha=alpha)
    k = int(np.flatnonzero(s[phase:] >= 0.5)[0]) + 1
    r_before = 1 - alpha**phase
    predicted = math.log(3 * drop**2 / (r_before - drop**2)) / math.log(alpha)
    assert k == math.ceil(predicted)
    # About ln(1 / (3 drop^2)) windows: 8.1 for a hundredfold drop, 3.5 for a tenfold one.
    assert k * (1 - alpha) == pytest.approx(math.log(1 / (3 * drop**2)), rel=0.06)


def test_tenfold_drop_recovery_is_34_steps_at_alpha_09():
    assert math.ceil(math.log(0.03 / 0.99) / math.log(0.9)) == 34


def test_adagrad_never_recovers_and_rmsprop_overshoots():
    phase = 1000
    g_seq = np.concatenate([np.ones(phase), np.full(phase, 0.01), np.ones(phase)])
    ada = _step_sizes(rules.adagrad, rules.adagrad_init, g_seq)
    flat = ada[phase : 2 * phase]
    assert flat.max() <= 0.01 / math.sqrt(phase) + 1e-15
    assert np.all(np.diff(flat) < 0)  # and it keeps shrinking
    assert ada[2 * phase] == pytest.approx(1 / math.sqrt(phase + phase * 1e-4 + 1), rel=1e-9)
    for alpha in (0.9, 0.99):
        rms = _step_sizes(rules.rmsprop, rules.rmsprop_init, g_seq, alpha=alpha)
        assert rms[0] == pytest.approx(1 / math.sqrt(1 - alpha), rel=1e-12)  # zero-start bias
        assert rms[2 * phase] > 0.99 / math.sqrt(1 - alpha) * 0.99  # the return overshoots


def test_eps_inside_or_outside_the_root():
    r = 1e-6
    assert math.sqrt(r) + 1e-8 == pytest.approx(1.00001e-3, rel=1e-9)
    assert math.sqrt(r + 1e-8) == pytest.approx(1.004988e-3, rel=1e-6)
    assert math.sqrt(r) + 1.0 == pytest.approx(1.001)
    assert math.sqrt(r + 1.0) == pytest.approx(1.0000005, rel=1e-9)
    # The rule divides by those denominators (alpha = 1 freezes r at the value we set).
    g = np.array([1e-3])
    for eps in (1e-8, 1.0):
        for inside, denom in ((False, math.sqrt(r) + eps), (True, math.sqrt(r + eps))):
            state = rules.rmsprop_init(g)._replace(square_avg=np.array([r]))
            update, _ = rules.rmsprop(g, state, lr=1.0, alpha=1.0, eps=eps, eps_inside_sqrt=inside)
            assert -update[0] == pytest.approx(1e-3 / denom, rel=1e-12)
    # With eps = 1 both forms are about plain SGD: the step is close to lr * g.
    state = rules.rmsprop_init(g)._replace(square_avg=np.array([r]))
    assert -rules.rmsprop(g, state, lr=1.0, alpha=1.0, eps=1.0)[0][0] == pytest.approx(1e-3,
                                                                                      rel=2e-3)


def _adam_after_quiet(phase, quiet, back, beta1=0.9, beta2=0.999):
    """Closed form of Adam's step / lr (eps = 0) at the k-th gradient of 1 after `phase`
    gradients of 1 and `quiet` zeros, k = 1..back."""
    k = np.arange(1, back + 1)
    t = phase + quiet + k
    m = beta1 ** (quiet + k) * (1 - beta1**phase) + (1 - beta1**k)
    v = beta2 ** (quiet + k) * (1 - beta2**phase) + (1 - beta2**k)
    return m / (1 - beta1**t) / np.sqrt(v / (1 - beta2**t))


@pytest.mark.parametrize("quiet", [0, 1000, 3000, 30000])
def test_adam_step_after_a_quiet_stretch(quiet):
    phase, back = 1000, 300
    seq = np.concatenate([np.ones(phase), np.zeros(quiet), np.ones(back)])
    s = _step_sizes(rules.adam, rules.adam_init, seq)[-back:]
    np.testing.assert_allclose(s, _adam_after_quiet(phase, quiet, back), rtol=1e-9)
    if quiet == 0:
        np.testing.assert_allclose(s, 1.0, rtol=1e-12)  # a steady gradient: exactly alpha


def test_a_long_quiet_stretch_gives_the_sparse_bound_then_more():
    k = np.arange(1, 301)
    wake = (1 - 0.9**k) / np.sqrt(1 - 0.999**k)
    # the limit of the closed form once m and v have forgotten the first phase
    np.testing.assert_allclose(_adam_after_quiet(1000, 30000, 300), wake, rtol=1e-9)
    assert wake[0] == pytest.approx(0.1 / math.sqrt(0.001), rel=1e-12)  # the sparse case
    assert wake[0] == pytest.approx(3.1623, abs=1e-4)
    assert int(np.argmax(wake)) + 1 == 12 and wake.max() == pytest.approx(6.5685, abs=1e-4)
    assert wake.max() > 2 * wake[0]
    # RMSProp (alpha = beta2, no m) after the same stretch: 1 / sqrt(1 - alpha) at once
    seq = np.concatenate([np.ones(1000), np.zeros(30000), np.ones(1)])
    rms = _step_sizes(rules.rmsprop, rules.rmsprop_init, seq, alpha=0.999)[-1]
    assert rms == pytest.approx(1 / math.sqrt(0.001), rel=1e-6)


def _k90(T, sigma=1.0, lr=0.1):
    a = sigma * math.log(10) / lr
    return a * math.sqrt(T) + (a / 2) ** 2


@pytest.mark.parametrize("T", [250, 1000, 4000, 16000])
def test_adagrad_reaction_time_formula(T):
    # The formula solves d' = -lr d / (sigma sqrt(T + k)) for d_k = d_0 / 10; the same
    # equation stepped one step at a time (what AdaGrad does to the mean distance when its
    # sum grows by sigma^2 per step) needs as many steps, to within a few.
    lr, sigma = 0.1, 1.0
    d, k = 1.0, 0
    while d > 0.1:
        k += 1
        d *= 1 - lr / (sigma * math.sqrt(T + k))
    assert abs(k - _k90(T)) < 0.01 * _k90(T) + 3
    # and it grows like sqrt(T)
    assert _k90(4 * T) - _k90(T) == pytest.approx(sigma * math.log(10) / lr * math.sqrt(T))


# ------------------------------------------------------------------------------------------
# explorer.md
# ------------------------------------------------------------------------------------------


def _leaves_ridge(name, steps):
    """First step with |y| > 0.5 on the saddle at lr 0.01, or None (argmax of an all-False
    array would say 0)."""
    off = np.flatnonzero(np.abs(explorer.trajectory(name, "saddle", 0.01, steps=steps)[:, 1]) > 0.5)
    return int(off[0]) if off.size else None


def test_saddle_escape_sgd_is_slow_adam_is_fast():
    assert _leaves_ridge("SGD", 300) is None  # the exercise's 300 steps: never
    sgd = _leaves_ridge("SGD", 400)
    # y grows by 1 + 2 lr per step near the ridge: ln(0.5 / 1e-3) / ln(1.02) steps, and a
    # little more, because the y^3 term of the gradient slows the growth near y = 0.5
    predicted = math.log(0.5 / 1e-3) / math.log(1 + 2 * 0.01)
    assert sgd is not None and predicted < sgd < predicted + 8
    adam = _leaves_ridge("Adam", 300)
    assert adam is not None and adam < 60


def test_rmsprop_first_step_without_bias_correction_at_beta2_0999():
    g = np.array([3.0])
    update, _ = rules.rmsprop(g, rules.rmsprop_init(g), lr=0.01, alpha=0.999, eps=0.0)
    assert -update[0] / 0.01 == pytest.approx(1 / math.sqrt(1 - 0.999), rel=1e-12)
    assert 1 / math.sqrt(1 - 0.999) == pytest.approx(31.6, abs=0.05)


def test_adam_and_its_efficient_form_draw_the_same_path():
    for land in ("quadratic", "rosenbrock", "beale", "saddle"):
        a = explorer.trajectory("Adam", land, 0.03, steps=300)
        b = explorer.trajectory("Adam (efficient form)", land, 0.03, steps=300)
        assert np.max(np.abs(a - b)) < 1e-4, land


@pytest.mark.parametrize("beta1, beta2", [(0.0, 0.999), (0.9, 0.9999), (0.9, 0.5)])
def test_first_steps_with_and_without_bias_correction(beta1, beta2):
    g = np.array([-7.0])
    nobc, _ = rules.adam_no_bias_correction(g, rules.adam_init(g), lr=0.05, beta1=beta1,
                                            beta2=beta2, eps=0.0)
    assert nobc[0] / 0.05 == pytest.approx((1 - beta1) / math.sqrt(1 - beta2), rel=1e-12)
    corrected, _ = rules.adam(g, rules.adam_init(g), lr=0.05, beta1=beta1, beta2=beta2, eps=0.0)
    assert corrected[0] == pytest.approx(0.05, rel=1e-12)  # eta, against the gradient's sign


def _rosen_gap(name, lr, steps, beta1=0.9):
    path = explorer.trajectory(name, "rosenbrock", lr, beta1, 0.999, steps)
    return explorer.summarize(path, "rosenbrock")["gap"]


def test_beta1_05_gets_furthest_on_rosenbrock_at_lr_005():
    beta1s = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99]
    gaps = [_rosen_gap("Adam", 0.05, 300, b1) for b1 in beta1s]
    best = int(np.argmin(gaps))
    assert beta1s[best] == 0.5
    assert all(a < b for a, b in zip(gaps[best:], gaps[best + 1 :]))  # worse with every larger


def test_adamw_is_adam_plus_a_decay_that_holds_the_large_rate_back_on_rosenbrock():
    # without its decay term AdamW is Adam, step for step
    land = explorer.get_landscape("rosenbrock")
    a, a_state = land.start.copy(), rules.adam_init(land.start)
    w, w_state = land.start.copy(), rules.adam_init(land.start)
    for _ in range(100):
        ua, a_state = rules.adam(land.grad(a), a_state, lr=0.3)
        uw, w_state = rules.adamw(land.grad(w), w_state, w, lr=0.3, weight_decay=0.0)
        a, w = a + ua, w + uw
    np.testing.assert_allclose(w, a, rtol=0, atol=1e-12)
    # with it (0.01), the larger rate leads after 50 steps and falls behind by 300
    assert _rosen_gap("AdamW", 1.0, 50) < _rosen_gap("AdamW", 0.3, 50)
    assert _rosen_gap("AdamW", 0.3, 300) < _rosen_gap("AdamW", 1.0, 300)
    assert _rosen_gap("Adam", 1.0, 300) < _rosen_gap("AdamW", 1.0, 300) / 10
