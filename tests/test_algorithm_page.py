"""The formulas of the algorithm chapter (book/adam/algorithm.md), computed and checked.

The efficient form, the effective eps of a constant eps-hat and the step fraction s/(s + eps)
are tested in test_adam_claims.py; this file covers what the chapter states besides them.
"""

import math

import numpy as np
import pytest
import torch

from adamlab import landscapes, rules
from adamlab.figures import analysis as A

B1, B2 = 0.9, 0.999


def corrected(state):
    """(m_hat, v_hat) of an Adam state."""
    return state.m / (1 - B1**state.t), state.v / (1 - B2**state.t)


def run_adam(grads, **hyper):
    """Feed a (steps, coordinates) array of gradients to rules.adam; the updates and the
    corrected moments after every step."""
    grads = np.asarray(grads, dtype=float)
    state = rules.adam_init(grads[0])
    updates, m_hats, v_hats = [], [], []
    for g in grads:
        update, state = rules.adam(g, state, **hyper)
        m_hat, v_hat = corrected(state)
        updates.append(update)
        m_hats.append(m_hat)
        v_hats.append(v_hat)
    return np.array(updates), np.array(m_hats), np.array(v_hats)


# --- two averages of a noisy gradient ----------------------------------------------------


@pytest.mark.parametrize("beta, window", [(B1, 10), (B2, 1000)])
def test_an_ema_averages_over_about_one_over_one_minus_beta_gradients(beta, window):
    # the weights (1 - beta) beta^k of the k-th last gradient sum to 1 and their centre of
    # mass, counting the newest gradient as 1, is exactly 1 / (1 - beta)
    k = np.arange(200_000)
    w = (1 - beta) * beta**k
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (w * (k + 1)).sum() == pytest.approx(window, rel=1e-9)
    assert 1 / (1 - beta) == pytest.approx(window)


@pytest.mark.parametrize("g", [1.0, -3.0, 1e-3])
def test_a_constant_gradient_has_m_hat_g_and_v_hat_g_squared_from_the_first_step(g):
    updates, m_hat, v_hat = run_adam(np.full((3000, 1), g), lr=1.0, eps=0.0)
    np.testing.assert_allclose(m_hat, g, rtol=1e-11)
    np.testing.assert_allclose(v_hat, g * g, rtol=1e-11)
    np.testing.assert_allclose(updates, -np.sign(g), rtol=1e-11)  # every step is alpha


@pytest.mark.parametrize("t", [1, 5, 50])
def test_corrected_moments_are_unbiased_for_a_stationary_stream(t):
    # E[m_hat_t] = mu and E[v_hat_t] = mu^2 + sigma^2 at every step t; many independent
    # streams side by side, one per coordinate
    mu, sigma, n = 1.0, 2.0, 400_000
    rng = np.random.default_rng(t)
    grads = mu + sigma * rng.standard_normal((t, n))
    _, m_hat, v_hat = run_adam(grads, lr=1.0, eps=0.0)
    m_sd = sigma * math.sqrt(np.sum(((1 - B1) * B1 ** np.arange(t)) ** 2)) / (1 - B1**t)
    assert abs(m_hat[-1].mean() - mu) < 5 * m_sd / math.sqrt(n)
    assert v_hat[-1].mean() == pytest.approx(mu**2 + sigma**2, rel=0.01)
    assert abs(v_hat[-1].mean() - sigma**2) > 0.2 * sigma**2  # not the variance


def test_m_hat_keeps_the_noise_sigma_sqrt_of_one_minus_over_one_plus_beta1():
    # the stationary spread of an EMA of independent noise: (1 - b)^2 * sum b^2k = (1 - b)/(1 + b)
    k = np.arange(10_000)
    assert np.sum(((1 - B1) * B1**k) ** 2) == pytest.approx((1 - B1) / (1 + B1), rel=1e-12)
    sigma = 1.0
    rng = np.random.default_rng(0)
    grads = 1.0 + sigma * rng.standard_normal((300, 20_000))
    _, m_hat, _ = run_adam(grads, lr=1.0, eps=0.0)
    assert m_hat[-1].std() == pytest.approx(sigma * math.sqrt((1 - B1) / (1 + B1)), rel=0.02)


def test_root_of_v_overstates_the_shaking_by_sqrt_of_one_plus_mu2_over_sigma2():
    sigma = 1.0
    mu = np.linspace(0, 5, 501)
    factor = np.hypot(mu, sigma) / sigma
    np.testing.assert_allclose(factor, np.sqrt(1 + mu**2 / sigma**2), rtol=1e-12)
    # within 10 % exactly while |mu| <= sqrt(1.1^2 - 1) sigma, about 0.458 sigma
    limit = math.sqrt(1.1**2 - 1)
    assert limit == pytest.approx(0.458, abs=1e-3)
    assert np.all((factor <= 1.1 + 1e-12) == (mu <= limit + 1e-12))
    assert math.hypot(sigma, sigma) / sigma == pytest.approx(math.sqrt(2))  # mean = shaking
    assert math.hypot(1.0, 1e-6) / 1e-6 > 1e5  # no bound as the shaking goes to zero


def test_ratio_of_the_expectations_is_at_most_one_but_the_ratio_of_estimates_is_not():
    mu = np.linspace(-5, 5, 1001)[:, None]
    sigma = np.linspace(0, 5, 501)[None, :]
    assert np.all(np.abs(mu) / np.sqrt(mu**2 + sigma**2 + 1e-300) <= 1 + 1e-12)
    # the chapter's stream: a constant 1, then mean 1 and sd 1; just after the change the
    # corrected ratio m_hat / sqrt(v_hat) exceeds 1
    rng = np.random.default_rng(0)
    grads = np.concatenate([np.ones(3000), 1.0 + rng.standard_normal(3000)])[:, None]
    updates, _, _ = run_adam(grads, lr=1.0, eps=0.0)
    assert np.max(-updates[3000:3100]) > 1.2


def test_v_forgets_a_phase_at_the_rate_beta2_to_the_power_of_its_length():
    # after n steps of a new phase, v still gives the old phase the weight beta2^n
    n = 3000
    grads = np.concatenate([np.full(n, 1.0), np.full(n, 2.0)])[:, None]  # g^2: 1, then 4
    _, _, v_hat = run_adam(grads, lr=1.0, eps=0.0)
    weight_old = B2**n * (1 - B2**n) / (1 - B2 ** (2 * n))  # of the corrected average
    assert v_hat[-1, 0] == pytest.approx(weight_old * 1 + (1 - weight_old) * 4, rel=1e-10)
    assert B2**n == pytest.approx(0.0497, abs=1e-4)


def test_pm_one_streams_share_v_hat_one_and_alternating_m_swings_by_the_formula():
    alternating = np.where(np.arange(1000) % 2 == 0, 1.0, -1.0)
    coin = np.random.default_rng(1).choice([-1.0, 1.0], size=1000)
    for stream in (np.ones(1000), alternating, coin):
        _, _, v_hat = run_adam(stream[:, None], lr=1.0, eps=0.0)
        np.testing.assert_allclose(v_hat, 1.0, rtol=1e-12)
    # stationary alternation: a = beta1 * (-a) + (1 - beta1)  =>  a = (1 - beta1)/(1 + beta1)
    updates, m_hat, _ = run_adam(alternating[:, None], lr=1.0, eps=0.0)
    a = (1 - B1) / (1 + B1)
    np.testing.assert_allclose(np.abs(m_hat[-100:, 0]), a, rtol=1e-3)
    np.testing.assert_allclose(np.abs(updates[-100:, 0]), a, rtol=1e-3)


def test_momentum_velocity_tends_to_minus_eta_g_over_one_minus_mu_and_adams_m_to_g():
    g, eta, mu = 2.0, 0.1, 0.9
    state = rules.momentum_init(np.zeros(1))
    adam_state = rules.adam_init(np.zeros(1))
    for _ in range(500):
        _, state = rules.momentum(np.array([g]), state, lr=eta, mu=mu)
        _, adam_state = rules.adam(np.array([g]), adam_state)
    assert state.velocity[0] == pytest.approx(-eta * g / (1 - mu), rel=1e-12)
    assert abs(state.velocity[0]) == pytest.approx(10 * eta * g)  # ten plain steps
    assert adam_state.m[0] == pytest.approx(g, rel=1e-12)  # an average, not a sum


# --- Adam's path on a landscape ------------------------------------------------------------


def test_first_step_on_the_valley_is_alpha_per_coordinate_at_the_stated_angle():
    land = landscapes.quadratic(1.0, 20.0)
    g0 = land.grad(land.start)
    np.testing.assert_allclose(land.start, [-1.8, 0.6])
    np.testing.assert_allclose(g0, [-1.8, 12.0])  # (x, 20 y)
    assert abs(g0[1] / g0[0]) == pytest.approx(20 / 3)
    update, _ = rules.adam(g0, rules.adam_init(g0), lr=0.05, eps=0.0)
    np.testing.assert_allclose(update, -0.05 * np.sign(g0), rtol=1e-12)
    # steepest descent is atan(1.8 / 12) from straight down, Adam's first step 45 degrees
    cos = -g0 @ update / (np.linalg.norm(g0) * np.linalg.norm(update))
    expected = 45 - math.degrees(math.atan(1.8 / 12))
    assert math.degrees(math.acos(cos)) == pytest.approx(expected, abs=1e-9)


# --- the trace of four steps ---------------------------------------------------------------


def test_the_four_step_trace_by_hand_and_against_torch():
    grads, alpha = [0.5, -0.1, 2.0, 0.3], 0.1
    updates, m_hat, v_hat = run_adam(np.array(grads)[:, None], lr=alpha)
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m, v = B1 * m + (1 - B1) * g, B2 * v + (1 - B2) * g * g
        if t == 1:
            assert m == pytest.approx((1 - B1) * g) and v == pytest.approx((1 - B2) * g * g)
        assert m_hat[t - 1, 0] == pytest.approx(m / (1 - B1**t), rel=1e-12)
        assert v_hat[t - 1, 0] == pytest.approx(v / (1 - B2**t), rel=1e-12)
    assert updates[0, 0] == pytest.approx(-alpha, rel=1e-7)  # -alpha sign(g_1)
    assert m_hat[1, 0] > 0 > grads[1]  # row 2: the velocity keeps its sign
    assert abs(updates[2, 0]) < abs(updates[0, 0])  # row 3: the largest gradient, a shorter step
    assert abs(updates[3, 0]) > 0.9 * abs(updates[2, 0])  # row 4: the step hardly changes
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=alpha, foreach=False)
    for g in grads:
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
    assert p.item() == pytest.approx(1.0 + updates.sum(), abs=1e-12)


# --- the efficient form and Keras ----------------------------------------------------------


def test_a_large_eps_differs_between_algorithm_1_and_the_eps_hat_form():
    one, fresh = np.array([1.0]), rules.adam_init(np.zeros(1))
    alg1 = -rules.adam(one, fresh, lr=1.0, eps=1.0)[0][0]
    hat = -rules.adam_efficient(one, fresh, lr=1.0, eps_hat=1.0)[0][0]
    assert alg1 == pytest.approx(0.5)  # g / (g + eps)
    r = math.sqrt(1 - B2)  # alpha_1 m_1 / (sqrt(v_1) + 1) = r / (r + 1)
    assert hat == pytest.approx(r / (r + 1), rel=1e-12)
    assert hat == pytest.approx(0.0307, abs=1e-4)


def test_keras_eps_hat_is_within_one_percent_after_3925_steps():
    bound = 1 - 1.01**-2
    t_min = math.log(bound) / math.log(B2)
    assert t_min == pytest.approx(3924.97, abs=0.01)
    assert A.effective_eps(1.0, B2, 3925) <= 1.01 < A.effective_eps(1.0, B2, 3924)


def test_optimizer_state_memory_in_float32():
    theta = np.zeros(1000, dtype=np.float32)
    nbytes = {
        name: sum(a.nbytes for a in init(theta) if isinstance(a, np.ndarray))
        for name, init in (("SGD", rules.sgd_init), ("Momentum", rules.momentum_init),
                           ("AdaGrad", rules.adagrad_init), ("Adam", rules.adam_init))
    }
    assert nbytes == {"SGD": 0, "Momentum": 4000, "AdaGrad": 4000, "Adam": 8000}
