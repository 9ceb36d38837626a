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

from adamlab import fast, flat, rules

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


needs_flat = pytest.mark.skipif(not flat.available(), reason="the flat step needs a C compiler")
# the flat step runs on the CPU (elsewhere the optimizer hands it to the foreach rung)
FAST = ["inplace", "foreach", pytest.param("flat", marks=needs_flat)]


# (impl, device): the torch rungs on every device, the flat rung (a C loop) on the CPU
IMPL_DEVICES = [pytest.param(i, d, id=f"{i}-{d}") for d in DEVICES for i in ("inplace", "foreach")]
IMPL_DEVICES.append(pytest.param("flat", "cpu", marks=needs_flat, id="flat-cpu"))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("impl", "device"), IMPL_DEVICES)
@pytest.mark.parametrize("name", list(ADAM_CASES))
def test_adam_family_matches_rules(name, impl, device, dtype):
    check("adam", impl, name, dtype, device)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("impl", "device"), IMPL_DEVICES)
@pytest.mark.parametrize("name", list(ADAMAX_CASES))
def test_adamax_matches_rule(name, impl, device, dtype):
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


@pytest.mark.parametrize("impl", FAST)
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


@pytest.mark.parametrize("impl", FAST)
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


# --------------------------------------------------------------------------------------
# The flat path (adamlab.flat): flat state, one C loop per group
# --------------------------------------------------------------------------------------

FLAT_GROUPS = {  # two groups each, with different hyperparameters; the first dict is the default
    "Adam": ("Adam", dict(lr=1e-3),
             dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, maximize=True)),
    "AMSGrad": ("Adam", dict(lr=1e-3, amsgrad=True),
                dict(lr=2e-3, betas=(0.85, 0.995), weight_decay=1e-2)),
    "AdamW": ("AdamW", dict(lr=1e-3, weight_decay=1e-2),
              dict(lr=3e-3, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    "Adamax": ("Adamax", dict(lr=2e-3),
               dict(lr=1e-3, betas=(0.8, 0.99), eps=1e-7, eps_in_max=False, weight_decay=1e-2)),
}  # fmt: skip


def rules_step(group, p, g, state):
    """One step of adamlab.rules for parameter p in ``group`` (a torch param_group dict)."""
    if group["maximize"]:
        g = -g
    wd = group["weight_decay"]
    beta1, beta2 = group["betas"]
    h = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"])
    if "eps_in_max" in group:  # Adamax: L2 weight decay, as in torch
        update, state = rules.adamax(g + wd * p if wd else g, state, eps_in_max=group["eps_in_max"], **h)
    elif group["decoupled_weight_decay"]:
        update, state = rules.adamw(g, state, p, weight_decay=wd, amsgrad=group["amsgrad"], **h)
    else:
        rule = rules.amsgrad if group["amsgrad"] else rules.adam
        update, state = rule(g + wd * p if wd else g, state, **h)
    return p + update, state


@needs_flat
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", list(FLAT_GROUPS))
def test_flat_optimizer_matches_rules_with_groups_and_missing_gradients(case, dtype):
    """1000 steps of optim.<case>(impl="flat") against the rules, per tensor: two groups with
    different hyperparameters, and a third of the tensors without a gradient at every 7th step
    (no update, and their step count stays put)."""
    from adamlab import optim

    name, default, other = FLAT_GROUPS[case]
    start = make_params(dtype, "cpu")
    ps = [p.clone().requires_grad_() for p in start]
    half = len(ps) // 2
    opt = getattr(optim, name)([{"params": ps[:half]}, {"params": ps[half:], **other}],
                               impl="flat", **default)  # fmt: skip
    groups = [opt.param_groups[0]] * half + [opt.param_groups[1]] * (len(ps) - half)
    kind = "adamax" if name == "Adamax" else "adam"
    amsgrad = [kind == "adam" and g["amsgrad"] for g in groups]
    init = rules.adamax_init if kind == "adamax" else rules.adam_init
    ref = [p.clone() for p in start]
    states = [rules.amsgrad_init(p) if a else init(p) for p, a in zip(ref, amsgrad)]
    taken = [0] * len(ps)
    for k, gs in enumerate(gradient_stream(start, STEPS)):
        for i, (p, g) in enumerate(zip(ps, gs)):
            if i % 3 == 0 and k % 7 == 3:
                p.grad = None
                continue
            p.grad = g.clone()
            ref[i], states[i] = rules_step(groups[i], ref[i], g, states[i])
            taken[i] += 1
        opt.step()
    keys = ["exp_avg", "exp_inf"] if kind == "adamax" else ["exp_avg", "exp_avg_sq"]
    got_states = [[opt.state[p][key] for key in keys + (["max_exp_avg_sq"] if a else [])]
                  for p, a in zip(ps, amsgrad)]  # fmt: skip
    ref_states = [list(s[1:]) for s in states]
    assert_close(kind, ([p.detach() for p in ps], got_states), (ref, ref_states), start, TOL[dtype])
    assert [int(opt.state[p]["step"]) for p in ps] == taken
    assert min(taken) < STEPS == max(taken)  # some tensors really skipped steps


def _state_dicts_equal(a, b, tol):
    """Same keys, shapes and dtypes; values within tol of each tensor's largest (see rel_err)."""
    assert a["state"].keys() == b["state"].keys()
    for i, sa in a["state"].items():
        sb = b["state"][i]
        assert sa.keys() == sb.keys()
        for key in sa:
            assert sa[key].shape == sb[key].shape and sa[key].dtype == sb[key].dtype, key
            assert rel_err(sa[key], sb[key]) <= tol, (i, key)


@needs_flat
@pytest.mark.parametrize("torch_name, ours_name, kw", [
    ("Adam", "Adam", dict(lr=1e-2)),
    ("Adam", "Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-2)),
    ("AdamW", "AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ("Adamax", "Adamax", dict(lr=1e-2)),
])  # fmt: skip
def test_flat_state_dict_moves_both_ways_with_torch(torch_name, ours_name, kw):
    """A torch checkpoint continues on the flat path as in torch, and a flat path's checkpoint
    continues in torch: the state_dict is torch's per-parameter layout, key for key."""
    from adamlab import optim

    gen = torch.Generator().manual_seed(3)
    shapes = [(5, 4), (4,), (1,)]
    grads = [[torch.randn(s, generator=gen) for s in shapes] for _ in range(12)]
    start = [torch.randn(s, generator=gen) for s in shapes]

    def run(make, steps, params, sd=None):
        opt = make(params)
        if sd is not None:
            opt.load_state_dict(copy.deepcopy(sd))  # a copy, as from a file
        for gs in steps:
            for p, g in zip(params, gs):
                p.grad = g.clone()
            opt.step()
        return opt

    def groups(ps):  # two groups, the second with its own lr
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": 3e-2}]

    def theirs(ps):
        return getattr(torch.optim, torch_name)(groups(ps), **kw)

    def ours(ps):
        return getattr(optim, ours_name)(groups(ps), impl="flat", **kw)

    ps_t = [p.clone().requires_grad_() for p in start]
    ps_o = [p.clone().requires_grad_() for p in start]
    # the same six steps: the state_dicts agree in layout and value
    t_opt, o_opt = run(theirs, grads[:6], ps_t), run(ours, grads[:6], ps_o)
    _state_dicts_equal(o_opt.state_dict(), t_opt.state_dict(), tol=1e-6)
    # torch -> flat, and flat -> torch, for six more steps each
    q_o = [p.detach().clone().requires_grad_() for p in ps_t]
    q_t = [p.detach().clone().requires_grad_() for p in ps_o]
    run(ours, grads[6:], q_o, t_opt.state_dict())
    run(theirs, grads[6:], q_t, o_opt.state_dict())
    for gs in grads[6:]:  # and torch's own run, uninterrupted
        for p, g in zip(ps_t, gs):
            p.grad = g.clone()
        t_opt.step()
    for a, b in zip(q_o, ps_t):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    for a, b in zip(q_t, ps_t):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def _mlp_like(seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(300, 70), (300,), (40, 300), (40,), (1,)] * 3  # 3 x 33,641 elements: above GRAIN
    return [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]


def _train(params, make_opt, steps, between=None, seed=5):
    gen = torch.Generator().manual_seed(seed)
    ps = [p.clone().requires_grad_() for p in params]
    opt = make_opt(ps)
    for k in range(steps):
        for p in ps:
            p.grad = torch.randn(p.shape, generator=gen, dtype=p.dtype)
        if between is not None:
            between(k, ps, opt)
        opt.step()
    return [p.detach() for p in ps], opt


@needs_flat
def test_flat_result_does_not_depend_on_the_threads():
    """The threads split the elements, not the arithmetic: 1 and 2 threads agree bit for bit."""
    from adamlab import optim

    params = _mlp_like()
    assert sum(p.numel() for p in params) >= flat.GRAIN
    one, _ = _train(params, lambda ps: optim.Adam(ps, impl="flat", amsgrad=True), 20)
    torch.set_num_threads(2)  # the autouse fixture sets it back
    two, _ = _train(params, lambda ps: optim.Adam(ps, impl="flat", amsgrad=True), 20)
    for a, b in zip(one, two):
        assert torch.equal(a, b)


@needs_flat
def test_flat_state_is_flat_and_costs_no_more_memory():
    """Each state key is one buffer, every parameter's state a view of it, with at most
    ALIGN - 1 unused elements per tensor; the views start on 64-byte boundaries."""
    from adamlab import optim

    params = _mlp_like()
    _, opt = _train(params, lambda ps: optim.Adam(ps, impl="flat"), 2)
    n = sum(p.numel() for p in params)
    for key in ("exp_avg", "exp_avg_sq"):
        views = [opt.state[p][key] for p in opt.param_groups[0]["params"]]
        storages = {v.untyped_storage().data_ptr() for v in views}
        assert len(storages) == 1
        size = views[0].untyped_storage().nbytes() // views[0].element_size()
        assert n <= size <= n + (flat.ALIGN - 1) * len(views)
        assert all(v.data_ptr() % 64 == 0 for v in views)


@needs_flat
def test_flat_follows_the_reference_when_things_move_under_it():
    """A parameter's storage replaced (p.data = ...), a step on another path, and a
    load_state_dict mid-run: the flat path notices each, rebuilds its layout, and stays on the
    reference path's trajectory."""
    from adamlab import optim

    params = _mlp_like(dtype=torch.float64)

    def disturb(k, ps, opt):
        if k == 3:
            ps[0].data = ps[0].data.clone()  # new storage for a parameter
        if k == 6 and opt.param_groups[0]["impl"] == "flat":
            opt.param_groups[0]["impl"] = "reference"  # one step on the reference path ...
        elif k == 7:
            opt.param_groups[0]["impl"] = "flat"  # ... and back (a no-op for the reference run)
        if k == 9:
            opt.load_state_dict(copy.deepcopy(opt.state_dict()))

    ref, ref_opt = _train(params, lambda ps: optim.Adam(ps, impl="reference"), 15)
    ref_opt.param_groups[0]["impl"] = "reference"
    got, got_opt = _train(params, lambda ps: optim.Adam(ps, impl="flat"), 15, disturb)
    got_opt.param_groups[0]["impl"] = "reference"
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


@needs_flat
def test_flat_hands_other_tensors_to_foreach():
    """A bfloat16 and a non-contiguous parameter share a group with float32 ones: the flat
    path steps the float32 tensors and hands the others to the foreach rung."""
    from adamlab import optim

    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(8, 3, generator=gen), torch.randn(5, generator=gen).bfloat16(),
              torch.randn(3, 8, generator=gen).t(), torch.randn(2, generator=gen)]  # fmt: skip
    got, opt = _train(params, lambda ps: optim.Adam(ps, impl="flat"), 10)
    ref, _ = _train(params, lambda ps: optim.Adam(ps, impl="foreach"), 10)
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    plan = next(iter(opt._adamlab_flat.values()))
    assert [p.dtype for f in plan["flats"] for p in f.params] == [torch.float32, torch.float32]
    assert len(plan["rest"]) == 2


@needs_flat
def test_flat_refuses_what_it_cannot_step():
    from adamlab import optim

    p = torch.zeros(4, 3, requires_grad=True)
    opt = optim.Adam([p], impl="flat")
    p.grad = torch.ones(3, 4).t()  # a transposed gradient: not contiguous
    with pytest.raises(RuntimeError, match="contiguous gradients"):
        opt.step()
    q = torch.zeros(4, requires_grad=True)
    q.grad = torch.ones(4).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        optim.Adam([q], impl="flat").step()
    with pytest.raises(ValueError, match="CPU float32/float64"):
        h = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
        z = [torch.zeros(3, dtype=torch.float16)]
        flat.adam_flat_(z, z, z, z, None, [1], **h)
