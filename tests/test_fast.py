"""The fast path agrees with the readable rules over 1000 steps.

Agreement is measured per tensor as max|fast - reference| / max|reference| (a norm-wise
relative error: an element-wise one is meaningless for m, which passes through zero), for the
parameters and for every state tensor (see ``rel_err`` for the scale of one-element tensors).
Targets: 1e-6 in float32 and 1e-12 in float64.
"""

from __future__ import annotations

import copy
import functools

import pytest
import torch

from adamlab import fast, rules

STEPS = 1000
TOL = {torch.float32: 1e-6, torch.float64: 1e-12}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(autouse=True)
def one_thread():
    """These tests check numbers, not speed: one thread gives the same elementwise results and
    spares a busy machine the stalls of threads waiting for each other on tiny tensors."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_params(dtype, device, seed=0):
    """Many small tensors (biases, small kernels) and a few large ones."""
    gen = torch.Generator().manual_seed(seed)
    shapes = [(7,), (1,), (3, 5), (16,), (4, 4, 3)] * 4 + [(100, 101), (20_000,)]
    return [torch.randn(s, generator=gen, dtype=torch.float64).to(device, dtype) for s in shapes]


def gradient_stream(params, steps, seed=1):
    """Gradients that do not depend on the parameters, so no feedback amplifies rounding.

    Each tensor gets its own scale (1e-4 ... 1e2) and about 5% exact zeros, the places where
    eps and the maximum in AMSGrad and AdaMax matter. To keep 1000 steps cheap, step k reads
    a window at a random offset of one long random draw, and the windows are split per tensor.
    """
    gen = torch.Generator().manual_seed(seed)
    sizes = [p.numel() for p in params]
    n = sum(sizes)
    scales = 10.0 ** torch.empty(len(params), dtype=torch.float64).uniform_(-4, 2, generator=gen)
    scale = torch.repeat_interleave(scales, torch.tensor(sizes)).to(params[0].device)
    pool = torch.randn(3 * n, generator=gen, dtype=torch.float64)
    pool[torch.rand(3 * n, generator=gen) < 0.05] = 0.0
    pool = pool.to(params[0].device)
    offsets = torch.randint(0, 2 * n, (steps,), generator=gen).tolist()
    for k in offsets:
        flat = (pool[k : k + n] * scale).to(params[0].dtype)
        yield [x.view(p.shape) for x, p in zip(flat.split(sizes), params, strict=True)]


def rel_err(a, b, scale=0.0):
    """max|a - b| over the tensor's scale: its largest value, or ``scale`` if that is larger.

    A one-element tensor that ends near 0 would otherwise turn this into an element-wise error,
    unbounded. So a parameter is measured against its starting size too, and m against
    sqrt(v) (or u for AdaMax): the denominator it is divided by, the size at which an error
    in m changes the step.
    """
    scale = max(b.abs().max().item(), scale)
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def run_reference(kind, params, steps, **h):
    """The rules of adamlab.rules, applied per tensor: update, new_state = rule(g, state)."""
    ps = [p.clone() for p in params]
    if kind == "adamax":
        states = [rules.adamax_init(p) for p in ps]
    elif h.get("amsgrad"):
        states = [rules.amsgrad_init(p) for p in ps]
    else:
        states = [rules.adam_init(p) for p in ps]
    wd, decoupled = h.get("weight_decay", 0.0), h.get("decoupled_weight_decay", False)
    for gs in gradient_stream(params, steps):
        for i, g in enumerate(gs):
            if h.get("maximize"):
                g = -g
            if wd and not decoupled:
                g = g + wd * ps[i]  # torch's Adam(weight_decay=...) is L2 on the gradient
            hyper = dict(lr=h["lr"], beta1=h["beta1"], beta2=h["beta2"], eps=h["eps"])
            if kind == "adamax":
                upd, states[i] = rules.adamax(g, states[i], eps_in_max=h["eps_in_max"], **hyper)
            elif wd and decoupled:
                upd, states[i] = rules.adamw(
                    g, states[i], ps[i], weight_decay=wd, amsgrad=h.get("amsgrad", False), **hyper
                )
            elif h.get("amsgrad"):
                upd, states[i] = rules.amsgrad(g, states[i], **hyper)
            else:
                upd, states[i] = rules.adam(g, states[i], **hyper)
            ps[i] = ps[i] + upd
    return ps, [list(s[1:]) for s in states]


def run_fast(kind, impl, params, steps, **h):
    ps = [p.clone() for p in params]
    m = [torch.zeros_like(p) for p in ps]
    second = [torch.zeros_like(p) for p in ps]
    if kind == "adamax":
        step_fn = fast.ADAMAX_STEPS[impl]
        for t, gs in enumerate(gradient_stream(params, steps), start=1):
            step_fn(ps, gs, m, second, [t] * len(ps), **h)
        return ps, [[a, b] for a, b in zip(m, second, strict=True)]
    vmax = [torch.zeros_like(p) for p in ps] if h.get("amsgrad") else None
    step_fn = fast.ADAM_STEPS[impl]
    for t, gs in enumerate(gradient_stream(params, steps), start=1):
        step_fn(ps, gs, m, second, vmax, [t] * len(ps), **h)
    if vmax is None:
        return ps, [[a, b] for a, b in zip(m, second, strict=True)]
    return ps, [[a, b, c] for a, b, c in zip(m, second, vmax, strict=True)]


ADAM_CASES = {
    "adam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8),
    "adam-l2-maximize": dict(lr=3e-3, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1,
                             maximize=True),  # fmt: skip
    "amsgrad": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=True),
    "adamw-amsgrad": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
                          decoupled_weight_decay=True, amsgrad=True),  # fmt: skip
    "adamw": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2,
                  decoupled_weight_decay=True),  # fmt: skip
}
ADAMAX_CASES = {
    "adamax-torch": dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, eps_in_max=True),
    "adamax-keras": dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-7, eps_in_max=False),
}


def assert_close(kind, fast_out, ref_out, start, tol):
    ps_f, st_f = fast_out
    ps_r, st_r = ref_out
    worst = 0.0
    for i, (a, b) in enumerate(zip(ps_f, ps_r, strict=True)):
        assert torch.isfinite(a).all(), f"tensor {i}: non-finite parameters"
        worst = max(worst, rel_err(a, b, start[i].abs().max().item()))
        second = st_r[i][1]  # v for the Adam family, u for AdaMax
        m_scale = (second.abs().max().item() ** 0.5) if kind == "adam" else second.abs().max().item()
        for j, (a_s, b_s) in enumerate(zip(st_f[i], st_r[i], strict=True)):
            worst = max(worst, rel_err(a_s, b_s, m_scale if j == 0 else 0.0))
    assert worst <= tol, f"largest relative difference {worst:.3g} > {tol:g}"
    # the comparison is not vacuous: the parameters really moved
    moved = max(rel_err(a, p0) for a, p0 in zip(ps_r, start, strict=True))
    assert moved > 1e-4


@functools.cache
def reference_result(kind, name, dtype, device, steps=STEPS):
    case = {**ADAM_CASES, **ADAMAX_CASES}[name]
    return run_reference(kind, make_params(dtype, device), steps, **case)


def check(kind, impl, name, dtype, device, steps=STEPS):
    params = make_params(dtype, device)
    case = {**ADAM_CASES, **ADAMAX_CASES}[name]
    ref = reference_result(kind, name, dtype, device, steps)
    out = run_fast(kind, impl, params, steps, **case)
    assert_close(kind, out, ref, params, TOL[dtype])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("impl", ["inplace", "foreach"])
@pytest.mark.parametrize("name", list(ADAM_CASES))
def test_adam_family_matches_rules(name, impl, dtype, device):
    check("adam", impl, name, dtype, device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("impl", ["inplace", "foreach"])
@pytest.mark.parametrize("name", list(ADAMAX_CASES))
def test_adamax_matches_rule(name, impl, dtype, device):
    check("adamax", impl, name, dtype, device)


compiled = pytest.mark.skipif(not fast.compile_available(), reason="torch.compile needs a compiler")


@pytest.mark.slow
@compiled
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["adam", "adamw-amsgrad", "adamax-torch"])
def test_compiled_matches_rules(name, dtype, device):
    kind = "adamax" if name.startswith("adamax") else "adam"
    check(kind, "compiled", name, dtype, device)


@pytest.mark.slow
@compiled
def test_compiled_does_not_recompile_as_step_and_lr_change():
    params = make_params(torch.float32, "cpu")[:5]
    state = [[torch.zeros_like(p) for p in params] for _ in range(2)]
    torch._dynamo.utils.counters.clear()
    for t, gs in enumerate(gradient_stream(params, 20), start=1):
        fast.adam_compiled_(params, gs, *state, None, [t] * 5, lr=1e-3 / t, beta1=0.9,
                            beta2=0.999, eps=1e-8)  # fmt: skip
    frames = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    assert frames <= 1, f"{frames} graphs compiled for 20 steps with a changing lr and t"


@pytest.mark.parametrize("impl", ["inplace", "foreach"])
def test_each_tensor_keeps_its_own_step(impl):
    """A tensor that joined late (t = 1 while the others are at 6) gets its own correction."""
    params = make_params(torch.float64, "cpu")[:4]
    grads = next(gradient_stream(params, 1))
    h = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8)
    steps = [6, 6, 1, 6]
    m = [0.5 * g for g in grads]
    v = [0.01 * g * g for g in grads]
    ps = [p.clone() for p in params]
    fast.ADAM_STEPS[impl](ps, grads, [x.clone() for x in m], [x.clone() for x in v], None,
                          steps, **h)  # fmt: skip
    for i, t in enumerate(steps):
        upd, _ = rules.adam(grads[i], rules.AdamState(t - 1, m[i], v[i]), **h)
        torch.testing.assert_close(ps[i], params[i] + upd, rtol=1e-12, atol=1e-15)


def test_bad_input_is_named():
    p = [torch.zeros(3), torch.zeros(3, dtype=torch.float64)]
    h = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
    with pytest.raises(ValueError, match="share a device and a dtype"):
        fast.adam_foreach_(p, p, p, p, None, [1, 1], **h)
    q = [torch.zeros(3)]
    with pytest.raises(ValueError, match="grads has 2 entries"):
        fast.adam_foreach_(q, q * 2, q, q, None, [1], **h)
    with pytest.raises(ValueError, match="start at 1"):
        fast.adam_foreach_(q, q, q, q, None, [0], **h)
    with pytest.raises(ValueError, match="floating-point"):
        z = [torch.zeros(3, dtype=torch.int64)]
        fast.adamax_foreach_(z, z, z, z, [1], **h)


# --------------------------------------------------------------------------------------
# The optimizer classes: every impl takes the same path as the reference implementation
# --------------------------------------------------------------------------------------


def train_least_squares(make_opt, steps=200, seed=0, freeze_at=None):
    """Two parameter groups, a learning-rate schedule, and (optionally) a bias frozen mid-run."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 5, generator=gen, dtype=torch.float64)
    Y = torch.randn(64, 3, generator=gen, dtype=torch.float64)
    W = torch.randn(5, 3, generator=gen, dtype=torch.float64).requires_grad_()
    b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = make_opt([{"params": [W]}, {"params": [b], "lr": 3e-2}])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.5)
    for t in range(steps):
        opt.zero_grad()
        i = torch.randint(0, 64, (16,), generator=gen)
        (0.5 * ((X[i] @ W + b - Y[i]) ** 2).mean()).backward()
        if freeze_at is not None and t >= freeze_at:
            b.grad = None  # a frozen parameter: no update, its step count stays put
        opt.step()
        sched.step()
    return torch.cat([W.detach().flatten(), b.detach()]), opt


OPTIM_CASES = {
    "Adam": ("Adam", dict(lr=1e-2)),
    "Adam-amsgrad-l2-maximize": ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-2,
                                             maximize=True)),  # fmt: skip
    "AdamW": ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    "Adamax": ("Adamax", dict(lr=1e-2)),
}


@pytest.mark.parametrize("impl", ["inplace", "foreach"])
@pytest.mark.parametrize("case", list(OPTIM_CASES))
def test_optimizer_impls_follow_the_reference(case, impl):
    from adamlab import optim

    name, kw = OPTIM_CASES[case]
    cls = getattr(optim, name)
    ref, ref_opt = train_least_squares(lambda g: cls(g, impl="reference", **kw), freeze_at=120)
    got, got_opt = train_least_squares(lambda g: cls(g, impl=impl, **kw), freeze_at=120)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-14)
    # the same state, under torch's keys, with the frozen bias's step count held at 120
    for p_ref, p_got in zip(ref_opt.state, got_opt.state, strict=True):
        for key, value in ref_opt.state[p_ref].items():
            torch.testing.assert_close(got_opt.state[p_got][key], value, rtol=1e-12, atol=1e-14)
    assert int(got_opt.state[got_opt.param_groups[1]["params"][0]]["step"]) == 120


def test_default_impl_and_torch_checkpoints():
    from adamlab import optim

    p = torch.zeros(3, requires_grad=True)
    assert optim.Adam([p]).param_groups[0]["impl"] == "foreach"
    assert optim.Adam([p], foreach=False).param_groups[0]["impl"] == "reference"
    with pytest.raises(ValueError, match="impl must be one of"):
        optim.Adamax([p], impl="fastest")
    # a torch.optim.Adam checkpoint continues on adamlab's fast path as it would in torch
    grads = [torch.tensor([0.3, -1.0, 1e-3]) * (k + 1) for k in range(10)]
    theirs = torch.optim.Adam([p], lr=1e-2)  # foreach=None: torch picks; we pick "foreach"
    for g in grads[:5]:
        p.grad = g
        theirs.step()
    q = p.detach().clone().requires_grad_()
    ours = optim.Adam([q], lr=1e-2)
    # a copy, as from a file: a live state_dict shares its tensors, which both would update
    ours.load_state_dict(copy.deepcopy(theirs.state_dict()))
    assert ours.param_groups[0]["impl"] == "foreach"
    for g in grads[5:]:
        p.grad, q.grad = g, g.clone()
        theirs.step()
        ours.step()
    torch.testing.assert_close(q, p, rtol=1e-6, atol=1e-7)
    assert int(ours.state[q]["step"]) == 10
