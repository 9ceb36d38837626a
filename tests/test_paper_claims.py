"""The claims of Kingma & Ba (2015) that the library's rules must satisfy, computed."""

import numpy as np
import pytest
import torch

from adamlab import landscapes, optim, rules


def gradient_stream(seed=0, n=200, d=4, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * (rng.standard_normal((n, d)) + 0.5)


def run_rule(step, init, grads, **hyper):
    state = init(grads[0])
    out = []
    for g in grads:
        u, state = step(g, state, **hyper)
        out.append(u)
    return np.array(out), state


def test_the_step_counter_advances_once_per_step_however_many_tensors():
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2),
                                torch.nn.Linear(2, 2))
    opt = optim.Adam(model.parameters(), impl="reference")
    x = torch.randn(8, 3)
    for _ in range(4):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    steps = [float(s["step"]) for s in opt.state.values()]
    assert len(steps) == 6 and steps == [4.0] * 6


def test_adam_with_beta1_zero_is_rmsprop_with_bias_correction():
    grads = gradient_stream()
    beta2, lr, eps = 0.99, 1e-2, 1e-8
    adam_updates, _ = run_rule(rules.adam, rules.adam_init, grads, lr=lr, beta1=0.0, beta2=beta2,
                               eps=eps)
    state = rules.rmsprop_init(grads[0])
    for t, (g, want) in enumerate(zip(grads, adam_updates), start=1):
        _, state = rules.rmsprop(g, state, lr=lr, alpha=beta2, eps=eps)
        corrected = state.square_avg / (1 - beta2**t)  # RMSProp's average, bias-corrected
        np.testing.assert_allclose(want, -lr * g / (np.sqrt(corrected) + eps), rtol=1e-12)


def test_the_efficient_form_equals_algorithm_1_exactly_when_eps_hat_is_rescaled():
    grads = gradient_stream(1)
    beta1, beta2, eps = 0.9, 0.999, 1e-3  # a large eps, so that its placement shows
    s1 = s2 = rules.adam_init(grads[0])
    for t, g in enumerate(grads, start=1):
        u1, s1 = rules.adam(g, s1, beta1=beta1, beta2=beta2, eps=eps)
        u2, s2 = rules.adam_efficient(g, s2, beta1=beta1, beta2=beta2,
                                      eps_hat=eps * np.sqrt(1 - beta2**t))
        np.testing.assert_allclose(u2, u1, rtol=1e-12)
    # with a constant eps_hat the two differ, most at the start where sqrt(1 - beta2^t) is small
    u_alg1, _ = run_rule(rules.adam, rules.adam_init, grads[:1], eps=eps)
    u_const, _ = run_rule(rules.adam_efficient, rules.adam_init, grads[:1], eps_hat=eps)
    assert np.max(np.abs(u_const - u_alg1) / np.abs(u_alg1)) > 1e-2


@pytest.mark.parametrize("c", [1e-4, 1e-2, 10.0, 1e4])
def test_adams_update_is_invariant_to_rescaling_the_gradient(c):
    grads = gradient_stream(2)
    base, _ = run_rule(rules.adam, rules.adam_init, grads, eps=0.0)
    scaled, _ = run_rule(rules.adam, rules.adam_init, c * grads, eps=0.0)
    np.testing.assert_allclose(scaled, base, rtol=1e-10)


def test_scale_invariance_holds_only_up_to_eps():
    grads = gradient_stream(2)
    base, _ = run_rule(rules.adam, rules.adam_init, grads, eps=1e-8)
    tiny, _ = run_rule(rules.adam, rules.adam_init, 1e-8 * grads, eps=1e-8)
    # gradients of size eps: the denominator is half eps, so the steps shrink by about half
    ratio = np.abs(tiny).mean() / np.abs(base).mean()
    assert 0.3 < ratio < 0.7


def test_the_first_bias_corrected_step_is_alpha_times_the_sign_of_g():
    g = np.array([3.0, -1e-3, 250.0, -7.0])
    update, _ = rules.adam(g, rules.adam_init(g), lr=0.01, eps=0.0)
    np.testing.assert_allclose(update, -0.01 * np.sign(g), rtol=1e-14)


@pytest.mark.parametrize(
    "beta1, beta2, ratio",
    [(0.9, 0.99, 1.0), (0.9, 0.999, 3.1622776601683795), (0.9, 0.9999, 10.0), (0.0, 0.99, 10.0),
     (0.0, 0.9999, 100.0)],
)
def test_the_first_uncorrected_step(beta1, beta2, ratio):
    """Without correction |step 1| = alpha (1 - beta1) / sqrt(1 - beta2), for every gradient."""
    g = np.array([3.0, -1e-3, 250.0])
    update, _ = rules.adam_no_bias_correction(g, rules.adam_init(g), lr=1e-3, beta1=beta1,
                                              beta2=beta2, eps=0.0)
    np.testing.assert_allclose(np.abs(update), 1e-3 * (1 - beta1) / np.sqrt(1 - beta2), rtol=1e-12)
    np.testing.assert_allclose(np.abs(update), 1e-3 * ratio, rtol=1e-12)


@pytest.mark.parametrize("eps, eps_in_max", [(0.0, True), (1e-8, True), (1e-8, False)])
def test_adamax_never_moves_a_coordinate_by_more_than_alpha(eps, eps_in_max):
    rng = np.random.default_rng(3)
    # heavy-tailed, sometimes zero, sometimes growing gradients: the hard cases for a bound
    grads = rng.standard_cauchy((3000, 8)) * (rng.random((3000, 8)) < 0.3)
    grads[0] = rng.standard_normal(8)  # a non-zero start, so the paper's eps = 0 never sees 0/0
    grads[1000:1100] *= np.geomspace(1, 1e6, 100)[:, None]
    updates, _ = run_rule(rules.adamax, rules.adamax_init, grads, lr=2e-3, eps=eps,
                          eps_in_max=eps_in_max)
    assert np.all(np.isfinite(updates))
    assert np.max(np.abs(updates)) <= 2e-3 * (1 + 1e-12)
    assert np.max(np.abs(updates)) > 0.9 * 2e-3  # the bound is reached, not vacuous


def test_adamax_bound_is_exceeded_slightly_by_gradients_shrinking_like_beta2():
    """The exact worst case is (1-b1)(1-r^t) / ((1-r)(1-b1^t)) alpha with r = b1/b2, not alpha."""
    b1, b2, t = 0.9, 0.999, 400
    grads = b2 ** np.arange(t)[:, None]  # u stays equal to |g_t|, while m remembers larger ones
    updates, _ = run_rule(rules.adamax, rules.adamax_init, grads, lr=1.0, beta1=b1, beta2=b2,
                          eps=0.0)
    r = b1 / b2
    tight = (1 - b1) * (1 - r**t) / ((1 - r) * (1 - b1**t))
    assert abs(updates[-1, 0]) == pytest.approx(tight, rel=1e-10)
    assert abs(updates[-1, 0]) > 1.009  # above the paper's alpha, by less than one percent
    assert (1 - b1) / (1 - r) == pytest.approx(1.00909, rel=1e-5)


def test_reddis_counterexample_drives_adam_to_plus_one_and_amsgrad_to_minus_one():
    problem = landscapes.reddi(C=3.0)
    kw = dict(project=problem.project, online=True, lr_schedule=lambda t: t**-0.5, lr=0.5,
              beta1=0.0, beta2=1 / (1 + 3.0**2), eps=0.0)
    adam = landscapes.run("Adam", problem.info["online_grad"], problem.start, 30_000, **kw)
    ams = landscapes.run("AMSGrad", problem.info["online_grad"], problem.start, 30_000, **kw)
    assert adam[-1, 0] == pytest.approx(1.0, abs=1e-9)
    assert ams[-1, 0] < -0.99
    assert problem.minimum[0] == -1.0


def test_the_sparse_case_bound_with_the_defaults():
    """A gradient after a long run of zeros moves Adam by about (1-beta1)/sqrt(1-beta2) = 3.16 alpha."""
    grads = np.zeros((5001, 1))
    grads[0] = 1e-3  # a first gradient, then silence, then a spike
    grads[-1] = 1.0
    updates, _ = run_rule(rules.adam, rules.adam_init, grads, lr=1.0, eps=0.0)
    assert abs(updates[-1, 0]) == pytest.approx(0.1 / np.sqrt(0.001), rel=5e-3)


def test_maximize_climbs_the_objective():
    w = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.1, maximize=True, impl="reference")
    for _ in range(100):
        opt.zero_grad()
        (-(w - 2.0) ** 2).sum().backward()
        opt.step()
    assert float(w.detach()) == pytest.approx(2.0, abs=0.05)
