"""adamlab.optim behaves as torch.optim does: state_dict, closures, frozen parameters, errors."""

import copy

import numpy as np
import pytest
import torch

from adamlab import optim, rules

CLASSES = {
    "SGD": dict(lr=0.05, momentum=0.9, nesterov=True),
    "SGD-sutskever": dict(lr=0.05, momentum=0.9, form="sutskever"),
    "Adagrad": dict(lr=0.1, initial_accumulator_value=0.1),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adadelta": dict(lr=1.0),
    "Adam": dict(lr=0.01, amsgrad=True),
    "Adam-reference": dict(lr=0.01, impl="reference"),
    "AdamW": dict(lr=0.01),
    "Adamax": dict(lr=0.01),
    "AdamEfficient": dict(lr=0.01, eps_hat=1e-3),
}


def make(name):
    return getattr(optim, name.split("-")[0]), CLASSES[name]


def problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 5, generator=g, dtype=torch.float64)
    Y = torch.randn(64, 2, generator=g, dtype=torch.float64)
    W = torch.randn(5, 2, generator=g, dtype=torch.float64)
    return X, Y, W


def steps(opt, W, X, Y, n, start=0):
    for k in range(start, start + n):
        i = slice((k * 8) % 64, (k * 8) % 64 + 8)
        opt.zero_grad()
        ((X[i] @ W - Y[i]) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("name", list(CLASSES))
def test_state_dict_resumes_the_same_trajectory_bit_for_bit(name):
    cls, kw = make(name)
    X, Y, W0 = problem()
    W = W0.clone().requires_grad_()
    opt = cls([W], **kw)
    steps(opt, W, X, Y, 30)
    saved_W, saved_opt = W.detach().clone(), copy.deepcopy(opt.state_dict())
    steps(opt, W, X, Y, 30, start=30)

    W2 = saved_W.clone().requires_grad_()
    fresh = cls([W2], **kw)
    fresh.load_state_dict(saved_opt)
    steps(fresh, W2, X, Y, 30, start=30)
    assert torch.equal(W2.detach(), W.detach())


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "Adagrad", "RMSprop", "Adadelta", "SGD"])
def test_a_torch_state_dict_loads_into_ours_and_back(name):
    """The state layout is torch's, so a checkpoint moves between the two implementations."""
    cls, kw = getattr(optim, name), {k: v for k, v in CLASSES[name].items() if k != "impl"}
    X, Y, W0 = problem(1)
    W_t = W0.clone().requires_grad_()
    t_opt = getattr(torch.optim, name)([W_t], foreach=False, **kw)
    steps(t_opt, W_t, X, Y, 20)
    W_o = W_t.detach().clone().requires_grad_()
    o_opt = cls([W_o], **kw)
    o_opt.load_state_dict(copy.deepcopy(t_opt.state_dict()))
    steps(t_opt, W_t, X, Y, 20, start=20)
    steps(o_opt, W_o, X, Y, 20, start=20)
    torch.testing.assert_close(W_o.detach(), W_t.detach(), rtol=1e-12, atol=1e-14)
    assert set(o_opt.state_dict()["state"][0]) == set(t_opt.state_dict()["state"][0])


@pytest.mark.parametrize("name", list(CLASSES))
def test_closure_zero_grad_and_parameters_without_gradients(name):
    cls, kw = make(name)
    X, Y, W0 = problem()
    W = W0.clone().requires_grad_()
    frozen = torch.ones(3, dtype=torch.float64, requires_grad=True)  # never receives a gradient
    opt = cls([{"params": [W]}, {"params": [frozen], "lr": 1.0}], **kw)

    def closure():
        opt.zero_grad()
        loss = ((X @ W - Y) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure)
    for _ in range(20):
        last = opt.step(closure)
    assert isinstance(first, torch.Tensor) and float(last.detach()) < float(first.detach())
    assert torch.equal(frozen.detach(), torch.ones(3, dtype=torch.float64))
    assert frozen not in opt.state  # no state, and so no step count, for a frozen parameter
    opt.zero_grad()
    assert W.grad is None  # set_to_none=True, as in torch


def test_learning_rate_schedulers_drive_our_optimizers():
    W = torch.zeros(2, requires_grad=True)
    opt = optim.Adam([W], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    lrs = []
    for _ in range(3):
        W.grad = torch.ones(2)
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [0.05, 0.025, 0.0125]
    # the first three steps were 0.1, 0.05, 0.025 times sign(g)
    torch.testing.assert_close(W.detach(), torch.full((2,), -0.175), rtol=1e-5, atol=1e-7)


BAD = [
    (optim.SGD, dict(lr=-0.1), r"lr \(learning rate\).*>= 0"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), r"momentum.*>= 0"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1.0), r"weight_decay.*>= 0"),
    (optim.SGD, dict(lr=0.1, nesterov=True), r"nesterov.*momentum > 0 and dampening = 0"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     r"nesterov.*momentum > 0 and dampening = 0"),
    (optim.SGD, dict(lr=0.1, form="polyak"), r"form must be 'pytorch' or 'sutskever'"),
    (optim.Adam, dict(lr=-1e-3), r"lr \(learning rate\).*>= 0"),
    (optim.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\].*\[0, 1\)"),
    (optim.Adam, dict(betas=(0.9, 1.0)), r"betas\[1\].*\[0, 1\)"),
    (optim.Adam, dict(betas=(-0.1, 0.999)), r"betas\[0\].*\[0, 1\)"),
    (optim.Adam, dict(eps=-1e-8), r"eps.*>= 0"),
    (optim.Adam, dict(weight_decay=-0.1), r"weight_decay.*>= 0"),
    (optim.AdamW, dict(betas=(0.9, 1.5)), r"betas\[1\].*\[0, 1\)"),
    (optim.Adamax, dict(eps=-1.0), r"eps.*>= 0"),
    (optim.Adamax, dict(betas=(0.9, 1.0)), r"betas\[1\].*\[0, 1\)"),
    (optim.Adagrad, dict(lr_decay=-0.1), r"lr_decay.*>= 0"),
    (optim.Adagrad, dict(initial_accumulator_value=-1.0), r"initial_accumulator_value.*>= 0"),
    (optim.RMSprop, dict(alpha=1.5), r"alpha.*\[0, 1\]"),
    (optim.RMSprop, dict(eps=-1.0), r"eps.*>= 0"),
    (optim.Adadelta, dict(rho=1.1), r"rho.*\[0, 1\]"),
    (optim.AdamEfficient, dict(eps_hat=-1.0), r"eps_hat.*>= 0"),
]


@pytest.mark.parametrize("cls, kw, message", BAD, ids=[f"{c.__name__}-{k}" for c, k, _ in BAD])
def test_bad_hyperparameters_raise_a_value_error_naming_the_argument_and_range(cls, kw, message):
    with pytest.raises(ValueError, match=message):
        cls([torch.zeros(2, requires_grad=True)], **kw)


@pytest.mark.parametrize("option", ["capturable", "differentiable", "fused"])
def test_torch_implementation_options_we_do_not_provide_say_so(option):
    with pytest.raises(NotImplementedError, match=f"{option}=True"):
        optim.Adam([torch.zeros(2, requires_grad=True)], **{option: True})


def test_sparse_gradients_get_a_clear_error():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = optim.Adagrad(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse gradients"):
        opt.step()


@pytest.mark.parametrize("name", list(rules.RULES))
def test_the_same_rule_through_numpy_and_through_torch_agrees(name):
    rule = rules.RULES[name]
    rng = np.random.default_rng(5)
    grads = rng.standard_normal((300, 7)) * np.geomspace(1e-3, 1e3, 7)
    params = rng.standard_normal((300, 7))
    out = {}
    for lib, conv in [("numpy", np.asarray), ("torch", torch.from_numpy)]:
        state = rule.init(conv(np.zeros(7)))
        updates = []
        for g, p in zip(grads, params):
            args = (conv(g), state, conv(p)) if rule.needs_param else (conv(g), state)
            u, state = rule.step(*args, **rule.defaults)
            updates.append(np.asarray(u))
        out[lib] = np.array(updates)
    assert np.all(np.isfinite(out["numpy"]))
    np.testing.assert_allclose(out["torch"], out["numpy"], rtol=1e-12, atol=1e-300)
