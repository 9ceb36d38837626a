"""Claims of the Beyond-the-paper chapters: convergence, AdamW, Adam in practice."""

import math

import numpy as np
import pytest

from adamlab import landscapes, rules
from adamlab.figures import analysis as A

# --- convergence: Reddi, Kale & Kumar (2018) --------------------------------------------


@pytest.fixture(scope="module")
def theorem1_paths():
    ld = landscapes.reddi(3.0)
    hp = dict(beta1=0.0, beta2=1 / (1 + 3.0**2), eps=1e-8)
    return {
        name: A.run_online(
            name, ld.info["online_grad"], ld.start, 6000, lr=0.5, project=ld.project, **hp
        )
        for name in ("Adam", "AMSGrad")
    }


def test_theorem1_adam_goes_to_plus_one_amsgrad_to_minus_one(theorem1_paths):
    assert theorem1_paths["Adam"][-3:].mean() > 0.99
    assert theorem1_paths["AMSGrad"][-3:].mean() < -0.99


def test_theorem1_average_regret(theorem1_paths):
    ld = landscapes.reddi(3.0)
    T = 6000
    grads = np.array([ld.info["online_grad"](np.zeros(1), t) for t in range(1, T + 1)])
    r_adam = A.linear_regret(theorem1_paths["Adam"], grads, [-1.0])
    r_ams = A.linear_regret(theorem1_paths["AMSGrad"], grads, [-1.0])
    # Adam's average regret tends to (C - 2)/3 * (1 - (-1)) = 2/3; AMSGrad's tends to 0
    assert r_adam[-1] / T == pytest.approx(2 / 3, abs=0.02)
    assert r_ams[-1] / T < 0.02


def test_linear_regret_by_hand():
    path = np.array([[0.0], [1.0], [-1.0]])
    grads = np.array([[3.0], [-1.0]])
    np.testing.assert_allclose(A.linear_regret(path, grads, [-1.0]), [3.0, 3.0 - 2.0])


def test_gamma_condition_of_the_theorem_holds_for_the_counterexample():
    beta2 = 1 / (1 + 3.0**2)
    assert 0.0**2 / math.sqrt(beta2) < 1  # Kingma & Ba's gamma = beta1^2 / sqrt(beta2) < 1


def test_gamma_is_negative_for_adam_only():
    C = 3.0
    g = np.array([C if t % 3 == 1 else -1.0 for t in range(1, 301)])
    beta2 = 1 / (1 + C**2)
    assert A.gamma_increments(g, "adam", beta2=beta2).min() < 0
    assert A.gamma_increments(g, "amsgrad", beta2=beta2).min() >= 0
    assert A.gamma_increments(g, "adagrad").min() >= 0
    with pytest.raises(ValueError, match="method must be"):
        A.gamma_increments(g, "sgd")


def test_synthetic_1010_setup():
    proj = lambda x: np.clip(x, -1.0, 1.0)  # noqa: E731
    hp = dict(beta1=0.9, beta2=0.99, eps=1e-8)
    adam = A.run_online("Adam", A.synthetic_grad(), np.zeros(1), 20000, lr=0.5, project=proj, **hp)
    ams = A.run_online(
        "AMSGrad", A.synthetic_grad(), np.zeros(1), 20000, lr=0.5, project=proj, **hp
    )
    assert adam[-1, 0] > 0.9 and ams[-1, 0] < -0.9
    # stochastic variant (Reddi et al.: 1010 with probability 0.01, so period=100 here):
    # E[g] = 0.2 > 0, so x = -1 is still optimal; Adam still goes to +1 and AMSGrad drifts
    # down, slowly (16 independent copies, one per coordinate)
    sto = {
        n: A.run_online(
            n,
            A.synthetic_grad(period=100, stochastic=True, seed=1),
            np.zeros(16),
            20000,
            lr=0.5,
            project=proj,
            **hp,
        )
        for n in ("Adam", "AMSGrad")
    }
    assert sto["Adam"][-1].mean() > 0.9
    assert (
        sto["AMSGrad"][-1].mean() < 0.6 and sto["AMSGrad"][-1].mean() < sto["AMSGrad"][1000].mean()
    )


def test_synthetic_stochastic_mean_and_spread():
    # the chapter's p a + (1 - p) b and sqrt(p a^2 + (1 - p) b^2 - mean^2), against draws
    a, b, p = 1010.0, -10.0, 0.01
    mean = p * a + (1 - p) * b
    std = math.sqrt(p * a**2 + (1 - p) * b**2 - mean**2)
    assert mean == pytest.approx(0.2, abs=1e-12)  # Reddi et al.'s stochastic problem
    assert std == pytest.approx(math.sqrt(p * (1 - p)) * (a - b), rel=1e-12)
    assert std > 200 * mean  # "hundreds of times its mean"
    draws = A.synthetic_grad(big=a, small=b, period=round(1 / p), stochastic=True, seed=3)(
        np.zeros(400_000), 1
    )
    assert np.mean(draws == a) == pytest.approx(p, abs=0.001)
    assert draws.std() == pytest.approx(std, rel=0.02)
    # the deterministic sequence's mean over a period is a different number: (a + 100 b) / 101
    det = A.synthetic_grad(big=a, small=b, period=101)
    period_mean = np.mean([det(np.zeros(1), t)[0] for t in range(1, 102)])
    assert period_mean == pytest.approx(10 / 101, rel=1e-12)


def test_fixed_point_regret_per_step_of_theorem1():
    # a method that stays at x has average regret (C - 2)(x + 1) / 3 per step over whole periods
    C, T = 3.0, 300
    ld = landscapes.reddi(C)
    grads = np.array([ld.info["online_grad"](np.zeros(1), t) for t in range(1, T + 1)])
    for x in (1.0, 0.0, -1.0, 0.5):
        r = A.linear_regret(np.full((T + 1, 1), x), grads, ld.minimum)[-1] / T
        assert r == pytest.approx((C - 2) * (x + 1) / 3, abs=1e-12)


def test_synthetic_grad_pattern():
    g = A.synthetic_grad()
    assert [float(g(np.zeros(1), t)[0]) for t in (1, 2, 101, 102)] == [1010.0, -10.0, -10.0, 1010.0]
    gs = A.synthetic_grad(stochastic=True, seed=0)
    hits = np.mean([gs(np.zeros(1000), t) == 1010.0 for t in range(1, 51)])
    assert hits == pytest.approx(1 / 101, abs=0.003)
    with pytest.raises(ValueError, match="decay"):
        A.run_online("Adam", g, np.zeros(1), 3, lr=0.1, decay="cosine")


# --- AdamW vs L2 --------------------------------------------------------------------------


def test_decoupled_decay_is_the_same_for_every_gradient_scale():
    lr, wd = 1e-3, 0.1
    steps = 9000
    adamw = A.weight_decay_run([0.01, 1.0, 100.0], steps, "decoupled", lr=lr, weight_decay=wd)
    half = A.steps_to_fraction(adamw)
    predicted = math.log(2) / -math.log(1 - lr * wd)
    np.testing.assert_allclose(half, predicted, rtol=0.05)


def test_l2_inside_adam_decays_small_gradient_weights_fast_and_large_ones_not_at_all():
    l2 = A.weight_decay_run([0.01, 1.0, 100.0], 9000, "l2")
    half = A.steps_to_fraction(l2)
    assert 0 < half[0] < 1000
    assert half[2] == -1 and l2[-1, 2] > 0.99


def test_l2_and_decoupled_decay_coincide_for_sgd():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(5)
    g = rng.standard_normal(5)
    lr, wd = 0.1, 0.01
    u_l2, _ = rules.sgd(g + wd * w, rules.sgd_init(w), lr=lr)
    u_dec = rules.sgd(g, rules.sgd_init(w), lr=lr)[0] - lr * wd * w
    np.testing.assert_allclose(u_l2, u_dec, rtol=1e-14)


def test_weight_decay_run_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be"):
        A.weight_decay_run([1.0], 3, "adamw")


# --- Adam in practice (torch) -----------------------------------------------------------------

torch = pytest.importorskip("torch")


def test_grad_none_vs_zeros_in_torch_adam():
    a = torch.nn.Parameter(torch.ones(2))
    b = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.Adam([a, b], lr=0.1)
    for step in range(3):
        opt.zero_grad(set_to_none=True)
        a.grad = torch.ones(2)
        b.grad = torch.ones(2) if step == 0 else None
        opt.step()
    assert A.adam_state_from_torch(opt, a).t == 3 and A.adam_state_from_torch(opt, b).t == 1
    b_before = b.detach().clone()
    b.grad = torch.zeros(2)  # zeros, not None: m decays but is not zero, so b still moves
    a.grad = torch.ones(2)
    opt.step()
    assert A.adam_state_from_torch(opt, b).t == 2
    assert torch.all(b.detach() < b_before)


def test_rule_reproduces_torch_step_from_its_state():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(4, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=1e-2, foreach=False)
    for _ in range(5):
        p.grad = torch.randn(4, dtype=torch.float64)
        opt.step()
    state = A.adam_state_from_torch(opt, p)
    g = torch.randn(4, dtype=torch.float64)
    update, _ = rules.adam(g.numpy(), state, lr=1e-2)
    before = p.detach().numpy().copy()
    p.grad = g
    opt.step()
    np.testing.assert_allclose(p.detach().numpy() - before, update, rtol=1e-10, atol=1e-15)


def test_recreating_the_optimizer_resets_t_and_the_first_step_is_lr_sign():
    torch.manual_seed(1)
    p = torch.nn.Parameter(torch.randn(6, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=1e-2)
    for _ in range(50):
        p.grad = torch.randn(6, dtype=torch.float64) * 0.01 + 1.0
        opt.step()
    g = torch.randn(6, dtype=torch.float64)
    fresh = torch.optim.Adam([p], lr=1e-2)
    before = p.detach().clone()
    p.grad = g
    fresh.step()
    assert A.adam_state_from_torch(fresh, p).t == 1
    torch.testing.assert_close(p.detach() - before, -1e-2 * torch.sign(g), rtol=1e-6, atol=1e-12)


def test_state_dict_keys_and_reload():
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([p])
    p.grad = torch.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    opt2 = torch.optim.Adam([p])
    opt2.load_state_dict(sd)
    assert A.adam_state_from_torch(opt2, p).t == 1


def _adam_modes(G, w0, lr, wd):
    out = {}
    for mode in ("l2", "decoupled"):
        w, state = w0.copy(), rules.adam_init(w0)
        for g in G:
            if mode == "l2":
                u, state = rules.adam(g + wd * w, state, lr=lr)
            else:
                u, state = rules.adamw(g, state, w, lr=lr, weight_decay=wd)
            w = w + u
        out[mode] = w
    return out


def _torch_run(cls, G, w0, **kw):
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = cls([p], **kw)
    for g in G:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return p.detach().numpy()


def test_weight_decay_modes_are_torchs_adam_and_adamw():
    G = np.random.default_rng(0).standard_normal((50, 3)) * np.array([0.01, 1.0, 100.0])
    w0 = np.ones(3)
    ours = _adam_modes(G, w0, 1e-3, 0.1)
    kw = dict(lr=1e-3, weight_decay=0.1, foreach=False)
    np.testing.assert_allclose(_torch_run(torch.optim.Adam, G, w0, **kw), ours["l2"], rtol=1e-12)
    np.testing.assert_allclose(
        _torch_run(torch.optim.AdamW, G, w0, **kw), ours["decoupled"], rtol=1e-12
    )
    assert np.max(np.abs(ours["l2"] - ours["decoupled"])) > 1e-3  # the two really differ


def test_zero_gradients_after_one_step_slide_five_full_steps():
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.ones(1, dtype=torch.float64)
    opt.step()
    start = p.item()
    state = A.adam_state_from_torch(opt, p)
    total = 0.0
    for _ in range(1000):
        p.grad = torch.zeros(1, dtype=torch.float64)
        opt.step()
        u, state = rules.adam(np.zeros(1), state, lr=0.1)
        total += float(u[0])
    assert start - p.item() == pytest.approx(-total, rel=1e-10)
    assert start - p.item() == pytest.approx(0.5, abs=0.01)


def test_state_of_a_parameter_that_never_had_a_gradient_is_t_zero():
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.Adam([p])
    state = A.adam_state_from_torch(opt, p)
    assert state.t == 0 and not state.m.any() and not state.v.any()


def test_the_lines_the_chapters_quote_are_in_the_rules():
    import inspect

    assert "v_max = xp.maximum(state.v_max, v)" in inspect.getsource(rules.amsgrad)
    assert "- lr * weight_decay * param" in inspect.getsource(rules.adamw)


def test_a_zero_gradient_after_one_step_moves_two_thirds_of_alpha():
    # t = 2 after g = 1, then 0: alpha * (m_2 / (1 - b1^2)) / sqrt(v_2 / (1 - b2^2)), b1 = 0.9,
    # b2 = 0.999: m_2 = 0.09, v_2 = 0.000999
    by_hand = 0.1 * (0.09 / (1 - 0.9**2)) / (math.sqrt(0.000999 / (1 - 0.999**2)) + 1e-8)
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.ones(1, dtype=torch.float64)
    opt.step()
    before = p.item()
    p.grad = torch.zeros(1, dtype=torch.float64)
    opt.step()
    assert before - p.item() == pytest.approx(by_hand, rel=1e-12)
    assert by_hand / 0.1 == pytest.approx(2 / 3, abs=0.01)


def test_l2_with_momentum_is_decoupled_decay_with_lambda_over_one_minus_mu():
    def half_life(lam, decoupled, mu=0.9, eta=0.1):
        w, state = np.ones(1), rules.momentum_init(np.ones(1))
        for t in range(1, 100_000):
            u, state = rules.momentum(np.zeros(1) if decoupled else lam * w, state, lr=eta, mu=mu)
            w = w + u - (eta * lam * w if decoupled else 0)
            if w[0] <= 0.5:
                return t
        raise AssertionError("did not halve")

    l2 = half_life(0.01, decoupled=False)
    assert l2 < half_life(0.01, decoupled=True) / 5  # with momentum the two differ
    assert l2 == pytest.approx(half_life(0.01 / (1 - 0.9), decoupled=True), rel=0.1)
