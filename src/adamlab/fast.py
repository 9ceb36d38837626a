"""The fast path: one Adam (or AdaMax) step for a whole list of tensors, in place.

The rules in :mod:`adamlab.rules` are written to be read: every line makes a new array, and
the optimizer calls them once per tensor. That costs time in three ways, and each rung of this
module removes one of them:

1. **Allocations.** ``beta1 * m + (1 - beta1) * g`` builds two temporaries and a result. The
   in-place loop (:func:`adam_inplace_`) writes into ``m`` and ``v`` directly.
2. **Per-tensor call overhead.** A model with hundreds of small tensors pays the Python and
   dispatcher cost of every operation hundreds of times. ``torch._foreach_*`` operations
   (:func:`adam_foreach_`) do one operation for the whole list in one call.
3. **Memory traffic.** Even in place, each operation is a separate pass over memory: about
   ten passes for one Adam step. A step needs only one: read p, g, m, v and write p, m, v,
   28 bytes per float32 parameter. :func:`adam_compiled_` hands the in-place loop to
   ``torch.compile``, which fuses it into one kernel that makes that single pass.
4. **Bookkeeping per tensor.** The compiled kernel still specializes on the list of shapes
   and is called with every tensor; :mod:`adamlab.flat` keeps a group's state in flat buffers
   and steps every tensor of the group in one call of one C loop (``impl="flat"``).

The step count changes every step, and ``torch.compile`` specializes on Python numbers, so the
compiled path never sees it: the per-tensor scalars that depend on it (the step size
lr / (1 - beta1^t) and sqrt(1 - beta2^t)) are computed in Python and passed in a small tensor.

Every function here takes the step numbers ``steps`` of *this* update (1 on the first step),
already advanced by the caller, and updates ``params``, ``exp_avgs``, ``exp_avg_sqs``
(and ``max_exp_avg_sqs`` or ``exp_infs``) in place. All tensors of one call must share a
device and a dtype; :mod:`adamlab.optim` groups them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from . import flat

Tensors = Sequence[torch.Tensor]

IMPLS = ("reference", "inplace", "foreach", "compiled", "flat")


def _check_lists(params: Tensors, **lists: Sequence) -> None:
    n = len(params)
    for name, xs in lists.items():
        if xs is not None and len(xs) != n:
            raise ValueError(
                f"{name} has {len(xs)} entries but params has {n}; pass one per parameter"
            )
    if n and any(p.device != params[0].device or p.dtype != params[0].dtype for p in params):
        raise ValueError(
            "all tensors of one fast step must share a device and a dtype; "
            "group them by (device, dtype) and call once per group"
        )
    if n and not params[0].is_floating_point():
        raise ValueError(f"Adam needs floating-point parameters, got {params[0].dtype}")


def _bias_corrections(steps: Sequence[int], beta1: float, beta2: float):
    if any(t < 1 for t in steps):
        raise ValueError(f"step numbers start at 1 (advance t before the update), got {min(steps)}")
    return [1 - beta1**t for t in steps], [math.sqrt(1 - beta2**t) for t in steps]


# --------------------------------------------------------------------------------------
# Rung 1: in place, one tensor at a time
# --------------------------------------------------------------------------------------


def adam_inplace_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_avg_sqs: Tensors,
    max_exp_avg_sqs: Tensors | None,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
) -> None:
    """Algorithm 1 with every result written into the state it replaces."""
    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs, steps=steps)
    bc1, bc2_sqrt = _bias_corrections(steps, beta1, beta2)
    for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs, strict=True)):
        if maximize:
            g = -g
        decoupled = weight_decay and decoupled_weight_decay
        if weight_decay and not decoupled_weight_decay:
            g = g.add(p, alpha=weight_decay)  # L2: the decay joins the gradient
        # beta1 m + (1 - beta1) g, written m + (1 - beta1)(g - m): one pass over m, not two
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        if amsgrad:
            torch.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        # -lr * m_hat / (sqrt(v_hat) + eps), with v_hat = v / (1 - beta2^t) under the root
        denom = v.sqrt().div_(bc2_sqrt[i]).add_(eps)
        if decoupled:
            # AdamW shrinks theta outside the adaptive step. The Adam step and the decay are
            # added to theta together, one rounding per step as in rules.adamw; shrinking theta
            # first and then stepping rounds theta twice, and in float32 those roundings add up
            # to 1e-5 relative over 1000 steps.
            update = torch.div(m, denom).mul_(-lr / bc1[i]).add_(p, alpha=-lr * weight_decay)
            p.add_(update)
        else:
            p.addcdiv_(m, denom, value=-lr / bc1[i])


def adamax_inplace_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_infs: Tensors,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    eps_in_max: bool = True,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """Algorithm 2 (AdaMax) in place; ``eps_in_max`` as in :func:`adamlab.rules.adamax`."""
    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_infs=exp_infs, steps=steps)
    bc1, _ = _bias_corrections(steps, beta1, beta2)
    for i, (p, g, m, u) in enumerate(zip(params, grads, exp_avgs, exp_infs, strict=True)):
        if maximize:
            g = -g
        if weight_decay:
            g = g.add(p, alpha=weight_decay)
        m.lerp_(g, 1 - beta1)
        u.mul_(beta2)
        if eps_in_max:
            torch.maximum(u, g.abs().add_(eps), out=u)
            denom = u
        else:
            torch.maximum(u, g.abs(), out=u)
            denom = u + eps
        p.addcdiv_(m, denom, value=-lr / bc1[i])


# --------------------------------------------------------------------------------------
# Rung 2: the same operations, each applied to the whole list at once
# --------------------------------------------------------------------------------------


def adam_foreach_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_avg_sqs: Tensors,
    max_exp_avg_sqs: Tensors | None,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
) -> None:
    """:func:`adam_inplace_` with ``torch._foreach_*``: one call per operation, not per tensor."""
    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs, steps=steps)
    if not params:
        return
    bc1, bc2_sqrt = _bias_corrections(steps, beta1, beta2)
    grads = list(grads)
    if maximize:
        grads = torch._foreach_neg(grads)
    decoupled = weight_decay and decoupled_weight_decay
    if weight_decay and not decoupled_weight_decay:
        grads = torch._foreach_add(grads, params, alpha=weight_decay)
    torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)  # one pass, as in adam_inplace_
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
    second = exp_avg_sqs
    if amsgrad:
        torch._foreach_maximum_(max_exp_avg_sqs, exp_avg_sqs)
        second = max_exp_avg_sqs
    denom = torch._foreach_sqrt(second)
    torch._foreach_div_(denom, bc2_sqrt)
    torch._foreach_add_(denom, eps)
    if decoupled:  # one rounding of theta per step, as in adam_inplace_
        update = torch._foreach_div(exp_avgs, denom)
        torch._foreach_mul_(update, [-lr / c for c in bc1])
        torch._foreach_add_(update, params, alpha=-lr * weight_decay)
        torch._foreach_add_(params, update)
    else:
        torch._foreach_addcdiv_(params, exp_avgs, denom, [-lr / c for c in bc1])


def adamax_foreach_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_infs: Tensors,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    eps_in_max: bool = True,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """:func:`adamax_inplace_` with ``torch._foreach_*``."""
    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_infs=exp_infs, steps=steps)
    if not params:
        return
    bc1, _ = _bias_corrections(steps, beta1, beta2)
    grads = list(grads)
    if maximize:
        grads = torch._foreach_neg(grads)
    if weight_decay:
        grads = torch._foreach_add(grads, params, alpha=weight_decay)
    torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
    torch._foreach_mul_(exp_infs, beta2)
    abs_g = torch._foreach_abs(grads)
    if eps_in_max:
        torch._foreach_add_(abs_g, eps)
        torch._foreach_maximum_(exp_infs, abs_g)
        denom = exp_infs
    else:
        torch._foreach_maximum_(exp_infs, abs_g)
        denom = torch._foreach_add(exp_infs, eps)
    torch._foreach_addcdiv_(params, exp_avgs, denom, [-lr / c for c in bc1])


# --------------------------------------------------------------------------------------
# Rung 3: the in-place loop, compiled into one fused pass over memory
# --------------------------------------------------------------------------------------
# ``scalars[i]`` holds the numbers that change from step to step for tensor i:
# (lr, lr / (1 - beta1^t), sqrt(1 - beta2^t)). Being tensor *data*, they never trigger a
# recompilation; betas, eps and the flags are fixed per optimizer and are compiled in.


def _adam_fused_body(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, scalars,
                     beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize):  # fmt: skip
    for i, (p, g, m, v) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs)):  # noqa: B905
        lr, step_size, bc2_sqrt = scalars[i, 0], scalars[i, 1], scalars[i, 2]
        if maximize:
            g = -g
        if weight_decay and not decoupled:
            g = g + weight_decay * p
        m.copy_(beta1 * m + (1 - beta1) * g)
        v.copy_(beta2 * v + (1 - beta2) * g * g)
        if amsgrad:
            max_exp_avg_sqs[i].copy_(torch.maximum(max_exp_avg_sqs[i], v))
            v = max_exp_avg_sqs[i]
        update = step_size * m / (v.sqrt() / bc2_sqrt + eps)
        if weight_decay and decoupled:
            update = update + lr * weight_decay * p  # AdamW, from the old theta as in rules.adamw
        p.sub_(update)


def _adamax_fused_body(params, grads, exp_avgs, exp_infs, scalars,
                       beta1, beta2, eps, eps_in_max, weight_decay, maximize):  # fmt: skip
    for i, (p, g, m, u) in enumerate(zip(params, grads, exp_avgs, exp_infs)):  # noqa: B905
        step_size = scalars[i, 1]
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * p
        m.copy_(beta1 * m + (1 - beta1) * g)
        if eps_in_max:
            u.copy_(torch.maximum(beta2 * u, g.abs() + eps))
            denom = u
        else:
            u.copy_(torch.maximum(beta2 * u, g.abs()))
            denom = u + eps
        p.sub_(step_size * m / denom)


_COMPILED: dict = {}


def _compiled(body):
    """Compile ``body`` once per process. Each new list of shapes is one more specialization."""
    if body not in _COMPILED:
        # A process that builds several models (a benchmark, a test run, a notebook) needs one
        # specialization per parameter list; the default limit of 8 would silently fall back
        # to eager code after that.
        limit = getattr(torch._dynamo.config, "recompile_limit", None)
        if limit is not None and limit < 64:
            torch._dynamo.config.recompile_limit = 64
        _COMPILED[body] = torch.compile(body, fullgraph=True, dynamic=False)
    return _COMPILED[body]


def _scalar_table(params: Tensors, lr: float, bc1, bc2_sqrt) -> torch.Tensor:
    rows = [(lr, lr / c1, c2) for c1, c2 in zip(bc1, bc2_sqrt, strict=True)]
    table = torch.tensor(rows, dtype=params[0].dtype)
    return table.to(params[0].device, non_blocking=True)


def adam_compiled_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_avg_sqs: Tensors,
    max_exp_avg_sqs: Tensors | None,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
) -> None:
    """:func:`adam_inplace_` compiled by ``torch.compile`` into one pass over memory.

    The first call for a given list of shapes compiles (seconds to a minute on a CPU; it
    needs a C++ compiler there); later calls reuse the kernel.
    """
    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs, steps=steps)
    if not params:
        return
    bc1, bc2_sqrt = _bias_corrections(steps, beta1, beta2)
    scalars = _scalar_table(params, lr, bc1, bc2_sqrt)
    _compiled(_adam_fused_body)(
        list(params), list(grads), list(exp_avgs), list(exp_avg_sqs),
        list(max_exp_avg_sqs) if amsgrad else None, scalars,
        float(beta1), float(beta2), float(eps), float(weight_decay),
        bool(decoupled_weight_decay), bool(amsgrad), bool(maximize),
    )  # fmt: skip


def adamax_compiled_(
    params: Tensors,
    grads: Tensors,
    exp_avgs: Tensors,
    exp_infs: Tensors,
    steps: Sequence[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    eps_in_max: bool = True,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """:func:`adamax_inplace_` compiled into one pass over memory."""
    _check_lists(params, grads=grads, exp_avgs=exp_avgs, exp_infs=exp_infs, steps=steps)
    if not params:
        return
    bc1, bc2_sqrt = _bias_corrections(steps, beta1, beta2)
    scalars = _scalar_table(params, lr, bc1, bc2_sqrt)
    _compiled(_adamax_fused_body)(
        list(params), list(grads), list(exp_avgs), list(exp_infs), scalars,
        float(beta1), float(beta2), float(eps), bool(eps_in_max), float(weight_decay),
        bool(maximize),
    )  # fmt: skip


ADAM_STEPS = {
    "inplace": adam_inplace_,
    "foreach": adam_foreach_,
    "compiled": adam_compiled_,
    "flat": flat.adam_flat_,
}
ADAMAX_STEPS = {
    "inplace": adamax_inplace_,
    "foreach": adamax_foreach_,
    "compiled": adamax_compiled_,
    "flat": flat.adamax_flat_,
}


def compile_available() -> bool:
    """Whether ``torch.compile`` can build kernels here (a C++ compiler on CPU, Triton on CUDA)."""
    import shutil

    if torch.cuda.is_available():
        try:
            import triton  # noqa: F401
        except ImportError:
            return False
        return True
    return any(shutil.which(cc) for cc in ("g++", "c++", "clang++"))


# --------------------------------------------------------------------------------------
# The bridge to adamlab.optim: gather a param group's tensors, then take one fast step
# --------------------------------------------------------------------------------------


def optimizer_step_(opt: torch.optim.Optimizer, group: dict, kind: str, impl: str) -> None:
    """One fast step of ``group`` for an :mod:`adamlab.optim` ``Adam``/``AdamW``/``Adamax``.

    The state keeps torch's layout (``step``, ``exp_avg``, ...), created by the optimizer's own
    initializer, so a state_dict moves freely between the reference and the fast paths.
    ``impl="flat"`` keeps the state in flat buffers: see :func:`adamlab.flat.optimizer_step_`.
    """
    if impl == "flat":
        return flat.optimizer_step_(opt, group, kind)
    keys = opt._keys(group)
    buckets: dict = {}
    for p in group["params"]:
        if p.grad is None:  # frozen or unused: no update, and its step count stays put
            continue
        if p.grad.is_sparse:
            raise RuntimeError(f"{type(opt).__name__} does not take sparse gradients; use dense "
                               "gradients or torch.optim.SparseAdam.")  # fmt: skip
        if torch.is_complex(p):
            raise RuntimeError(f"{type(opt).__name__} supports real parameters only.")
        state = opt.state[p]
        if not state:
            opt._store(state, opt._init_state(p, group), group)
        if "v_max" in keys and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = state["exp_avg_sq"].clone()  # amsgrad switched on later
        lists = buckets.setdefault((p.device, p.dtype), {"p": [], "g": [], "step": []})
        lists["p"].append(p)
        lists["g"].append(p.grad)
        lists["step"].append(state["step"])
        for field, key in keys.items():
            lists.setdefault(field, []).append(state[key])
    beta1, beta2 = group["betas"]
    hyper = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                 weight_decay=group["weight_decay"], maximize=group["maximize"])  # fmt: skip
    for lists in buckets.values():
        torch._foreach_add_(lists["step"], 1)
        steps = [int(t) for t in torch.stack(lists["step"]).tolist()]
        if kind == "adamax":
            ADAMAX_STEPS[impl](lists["p"], lists["g"], lists["m"], lists["u"], steps,
                               eps_in_max=group["eps_in_max"], **hyper)  # fmt: skip
        else:
            ADAM_STEPS[impl](lists["p"], lists["g"], lists["m"], lists["v"], lists.get("v_max"),
                             steps, amsgrad=group["amsgrad"],
                             decoupled_weight_decay=group["decoupled_weight_decay"],
                             **hyper)  # fmt: skip


def resolve_impl(impl: str | None, foreach: bool | None) -> str:
    """The ``impl=`` argument of the optimizers: None picks the multi-tensor path, unless
    ``foreach=False`` asks (as in torch) for the one-tensor-at-a-time reference loop."""
    if impl is None:
        return "reference" if foreach is False else "foreach"
    if impl not in IMPLS:
        choices = ", ".join(map(repr, IMPLS))
        raise ValueError(f"Invalid impl: {impl!r}. impl must be one of {choices}.")
    return impl


# --------------------------------------------------------------------------------------
# What a step costs, counted rather than timed
# --------------------------------------------------------------------------------------


def op_census(fn) -> dict:
    """Run ``fn()`` once and count the tensor operations it dispatches.

    Returns the number of operations (``ops``: each one is at least one pass over its
    operands, and on a GPU one kernel launch), the bytes they read and write (``bytes_moved``:
    every distinct input and output tensor of every non-view operation, once, as a kernel that
    streams through memory would touch it) and the bytes of the new tensors they allocate
    (``bytes_allocated``). Counts are exact and free of timing noise; the traffic is the
    volume a cache-less machine would move, an upper bound on real traffic.
    """
    from torch.utils import _pytree as pytree
    from torch.utils._python_dispatch import TorchDispatchMode

    totals = {"ops": 0, "bytes_moved": 0, "bytes_allocated": 0}

    def nbytes(ts) -> int:
        seen = {}
        for t in ts:
            seen[(t.untyped_storage().data_ptr(), t.storage_offset(), t.numel())] = (
                t.numel() * t.element_size()
            )
        return sum(seen.values())

    def tensors(x) -> list:
        return [t for t in pytree.tree_leaves(x) if isinstance(t, torch.Tensor)]

    class Census(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if func.is_view:
                return out
            read, written = [], []
            for i, a in enumerate(func._schema.arguments):
                val = kwargs.get(a.name, args[i] if i < len(args) else None)
                if not a.is_out:  # an out= tensor is written, not read
                    read += tensors(val)
                if a.alias_info is not None and a.alias_info.is_write:
                    written += tensors(val)
            old = {t.untyped_storage().data_ptr() for t in read + written}
            new = [t for t in tensors(out) if t.untyped_storage().data_ptr() not in old]
            totals["ops"] += 1
            totals["bytes_moved"] += nbytes(read) + nbytes(written + new)
            totals["bytes_allocated"] += nbytes(new)
            return out

    with Census():
        fn()
    return totals
