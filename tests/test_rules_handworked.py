"""The first three steps of every rule against values worked out by hand.

How the expected values were obtained: each rule is fed the gradient sequence g = 1, 2, -1
with hyperparameters chosen so that the arithmetic stays in small fractions (beta = 1/2 or
3/4, lr = 1, eps = 0 or 1), and the moments were carried by hand as exact fractions. The
expected updates below are those closed forms, e.g. for Adam (beta1 = 1/2, beta2 = 3/4):

    t=1: m = 1/2,  v = 1/4,   m_hat = 1,   v_hat = 1       -> update -1
    t=2: m = 5/4,  v = 19/16, m_hat = 5/3, v_hat = 19/7    -> update -(5/3) sqrt(7/19)
    t=3: m = 1/8,  v = 73/64, m_hat = 1/7, v_hat = 73/37   -> update -(1/7) sqrt(37/73)

The other derivations are written next to their cases. Nothing here calls a second
implementation: the numbers are typed from the derivation.
"""

from math import sqrt

import numpy as np
import pytest

from adamlab import ema, rules

G = (1.0, 2.0, -1.0)
B = {"beta1": 0.5, "beta2": 0.75}

# (name, init, step, hyperparameters, gradients, expected updates)
CASES = [
    ("sgd", rules.sgd_init, rules.sgd, {"lr": 0.1}, G, [-0.1, -0.2, 0.1]),
    # v1 = -0.1; v2 = 0.5(-0.1) - 0.2 = -0.25; v3 = 0.5(-0.25) + 0.1 = -0.025
    ("momentum", rules.momentum_init, rules.momentum, {"lr": 0.1, "mu": 0.5}, G,
     [-0.1, -0.25, -0.025]),
    # update = mu v_new - lr g: -0.05-0.1, -0.125-0.2, -0.0125+0.1
    ("nesterov", rules.momentum_init, rules.momentum, {"lr": 0.1, "mu": 0.5, "nesterov": True},
     G, [-0.15, -0.325, 0.0875]),
    # b1 = g1 = 1 (undamped); b2 = 0.5*1 + 0.75*2 = 2; b3 = 0.5*2 + 0.75*(-1) = 0.25
    ("momentum_pytorch", rules.momentum_pytorch_init, rules.momentum_pytorch,
     {"lr": 0.1, "momentum": 0.5, "dampening": 0.25}, G, [-0.1, -0.2, -0.025]),
    # b = 1, 2.5, 0.25; g + 0.5 b = 1.5, 3.25, -0.875: the same as Sutskever's Nesterov
    ("momentum_pytorch nesterov", rules.momentum_pytorch_init, rules.momentum_pytorch,
     {"lr": 0.1, "momentum": 0.5, "nesterov": True}, G, [-0.15, -0.325, 0.0875]),
    # G = 1, 5, 6
    ("adagrad", rules.adagrad_init, rules.adagrad, {"lr": 1.0, "eps": 0.0}, G,
     [-1.0, -2 / sqrt(5), 1 / sqrt(6)]),
    # lr_t = 1, 2/3, 1/2
    ("adagrad lr_decay", rules.adagrad_init, rules.adagrad,
     {"lr": 1.0, "eps": 0.0, "lr_decay": 0.5}, G,
     [-1.0, -(2 / 3) * 2 / sqrt(5), 0.5 / sqrt(6)]),
    # r = 1/2, 9/4, 13/8
    ("rmsprop", rules.rmsprop_init, rules.rmsprop, {"lr": 1.0, "alpha": 0.5, "eps": 0.0}, G,
     [-sqrt(2), -4 / 3, sqrt(8 / 13)]),
    ("rmsprop eps outside", rules.rmsprop_init, rules.rmsprop,
     {"lr": 1.0, "alpha": 0.5, "eps": 0.25}, G,
     [-1 / (sqrt(0.5) + 0.25), -2 / (1.5 + 0.25), 1 / (sqrt(1.625) + 0.25)]),
    ("rmsprop eps inside", rules.rmsprop_init, rules.rmsprop,
     {"lr": 1.0, "alpha": 0.5, "eps": 0.25, "eps_inside_sqrt": True}, G,
     [-1 / sqrt(0.75), -2 / sqrt(2.5), 1 / sqrt(1.875)]),
    # mean of g: 1/2, 5/4, 1/8; r - mean^2 = 1/4, 11/16, 103/64
    ("rmsprop centered", rules.rmsprop_init, rules.rmsprop,
     {"lr": 1.0, "alpha": 0.5, "eps": 0.0, "centered": True}, G,
     [-2.0, -8 / sqrt(11), 8 / sqrt(103)]),
    # buf1 = sqrt2; buf2 = sqrt2/2 + 4/3; buf3 = buf2/2 - sqrt(8/13)
    ("rmsprop momentum", rules.rmsprop_init, rules.rmsprop,
     {"lr": 1.0, "alpha": 0.5, "eps": 0.0, "momentum": 0.5}, G,
     [-sqrt(2), -(sqrt(2) / 2 + 4 / 3), -(sqrt(2) / 4 + 2 / 3 - sqrt(8 / 13))]),
    # E[g2] = 1/2, 9/4, 13/8; E[dx2] = 1/3, 77/78; delta = sqrt(2/3), 8/sqrt(39), -sqrt(620/819)
    ("adadelta", rules.adadelta_init, rules.adadelta, {"lr": 1.0, "rho": 0.5, "eps": 1.0}, G,
     [-sqrt(2 / 3), -8 / sqrt(39), sqrt(620 / 819)]),
    ("adam", rules.adam_init, rules.adam, {"lr": 1.0, **B, "eps": 0.0}, G,
     [-1.0, -(5 / 3) * sqrt(7 / 19), -(1 / 7) * sqrt(37 / 73)]),
    # the same moments, eps = 1 added after the root of v_hat
    ("adam eps", rules.adam_init, rules.adam, {"lr": 1.0, **B, "eps": 1.0}, G,
     [-0.5, -(5 / 3) / (sqrt(19 / 7) + 1), -(1 / 7) / (sqrt(73 / 37) + 1)]),
    # alpha_t = 1, sqrt7/3, sqrt37/7; sqrt v = 1/2, sqrt19/4, sqrt73/8; eps_hat = 1
    ("adam efficient", rules.adam_init, rules.adam_efficient, {"lr": 1.0, **B, "eps_hat": 1.0},
     G, [-1 / 3, -(5 * sqrt(7) / 3) / (sqrt(19) + 4), -(sqrt(37) / 7) / (sqrt(73) + 8)]),
    # m / sqrt(v) with m = 1/2, 5/4, 1/8 and v = 1/4, 19/16, 73/64
    ("adam no bias correction", rules.adam_init, rules.adam_no_bias_correction,
     {"lr": 1.0, **B, "eps": 0.0}, G, [-1.0, -5 / sqrt(19), -1 / sqrt(73)]),
    # g = 2, 0, 1: v = 1, 3/4, 13/16 so v_max = 1 throughout; m = 1, 1/2, 3/4
    ("amsgrad", rules.amsgrad_init, rules.amsgrad, {"lr": 1.0, **B, "eps": 0.0}, (2.0, 0.0, 1.0),
     [-1.0, -sqrt(7) / 6, -3 * sqrt(37) / 28]),
    ("amsgrad uncorrected", rules.amsgrad_init, rules.amsgrad,
     {"lr": 1.0, **B, "eps": 0.0, "bias_correction": False}, (2.0, 0.0, 1.0), [-1.0, -0.5, -0.75]),
    # m = 1/2, 5/4, 1/8; u = 1, 2, 3/2; lr/(1 - beta1^t) = 2, 4/3, 8/7
    ("adamax", rules.adamax_init, rules.adamax, {"lr": 1.0, **B, "eps": 0.0}, G,
     [-1.0, -5 / 6, -2 / 21]),
    # torch's eps inside the max, eps = 1/2: u = 3/2, 5/2, 15/8
    ("adamax eps in max", rules.adamax_init, rules.adamax, {"lr": 1.0, **B, "eps": 0.5}, G,
     [-2 / 3, -2 / 3, -8 / 105]),
    # Keras' eps in the denominator, eps = 1/2: u = 1, 2, 3/2, so divide m by u + 1/2 = 3/2, 5/2, 2
    ("adamax eps in denominator", rules.adamax_init, rules.adamax,
     {"lr": 1.0, **B, "eps": 0.5, "eps_in_max": False}, G, [-2 / 3, -2 / 3, -1 / 14]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_first_three_steps(case):
    _, init, step, hyper, grads, expected = case
    state = init(np.zeros(1))
    for t, (g, want) in enumerate(zip(grads, expected), start=1):
        update, state = step(np.array([g]), state, **hyper)
        assert state.t == t
        assert update[0] == pytest.approx(want, rel=1e-12, abs=1e-15), f"step {t}"


def test_adamw_adds_the_decoupled_decay_to_adams_step():
    # Adam's updates from the table above, minus lr * weight_decay * theta with theta = 2, 1, 1/2
    adam_updates = [-1.0, -(5 / 3) * sqrt(7 / 19), -(1 / 7) * sqrt(37 / 73)]
    thetas = [2.0, 1.0, 0.5]
    state = rules.adam_init(np.zeros(1))
    for g, theta, base in zip(G, thetas, adam_updates):
        update, state = rules.adamw(np.array([g]), state, np.array([theta]), lr=1.0, **B, eps=0.0,
                                    weight_decay=0.1)
        assert update[0] == pytest.approx(base - 0.1 * theta, rel=1e-12)


def test_parameter_average_of_section_7_2():
    # beta2 = 3/4, theta = 1, 2, -1: average 1/4, 11/16, 17/64; corrected 1, 11/7, 17/37
    state = rules.param_ema_init(np.zeros(1))
    for theta, want in zip(G, [1.0, 11 / 7, 17 / 37]):
        estimate, state = rules.param_ema(np.array([theta]), state, beta2=0.75)
        assert estimate[0] == pytest.approx(want, rel=1e-12)


def test_ema_utilities_by_hand():
    assert ema.ema(G, 0.75).tolist() == pytest.approx([1 / 4, 11 / 16, 17 / 64], rel=1e-12)
    assert ema.ema(G, 0.75, bias_correction=True).tolist() == pytest.approx(
        [1.0, 11 / 7, 17 / 37], rel=1e-12)
    assert ema.ema_weights(0.5, 3).tolist() == [0.5, 0.25, 0.125]
    assert ema.window(0.9) == pytest.approx(10.0, rel=1e-12)
    assert ema.half_life(0.5) == pytest.approx(1.0, rel=1e-12)
    assert ema.half_life(0.9) == pytest.approx(6.578813478960585, rel=1e-12)  # ln2 / -ln 0.9
    assert ema.bias_correction_factor(0.9, 1) == pytest.approx(10.0, rel=1e-12)


@pytest.mark.parametrize("beta", [-0.1, 1.0, 1.5])
def test_ema_rejects_a_beta_outside_the_unit_interval(beta):
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\)"):
        ema.window(beta)


@pytest.mark.parametrize("name", list(rules.RULES))
def test_every_rule_is_elementwise(name):
    """Running two coordinates together equals running each alone: no coordinate leaks."""
    rule = rules.RULES[name]
    rng = np.random.default_rng(0)
    gs = rng.standard_normal((5, 2))
    thetas = rng.standard_normal((5, 2))

    def updates(cols):
        state = rule.init(np.zeros(len(cols)))
        out = []
        for g, th in zip(gs[:, cols], thetas[:, cols]):
            args = (g, state, th) if rule.needs_param else (g, state)
            u, state = rule.step(*args, **rule.defaults)
            out.append(u)
        return np.array(out)

    both = updates([0, 1])
    np.testing.assert_array_equal(both[:, 0], updates([0])[:, 0])
    np.testing.assert_array_equal(both[:, 1], updates([1])[:, 0])


def test_rules_do_not_modify_their_inputs():
    g = np.array([1.0, -2.0])
    state = rules.adam_init(g)
    _, new = rules.adam(g, state)
    assert state.t == 0 and not state.m.any() and not state.v.any()
    assert new.t == 1 and g.tolist() == [1.0, -2.0]
