"""Drop-in replacements for ``torch.optim`` whose arithmetic is the rules of ``adamlab.rules``.

``adamlab.optim.Adam(model.parameters(), lr=1e-3)`` takes the same arguments as
``torch.optim.Adam``, keeps the same ``state_dict`` layout (``step``, ``exp_avg``,
``exp_avg_sq``, ...), and computes the same numbers; only the source of the arithmetic
changes. Each class converts a parameter's stored state into the rule's NamedTuple, calls the
rule, adds the update to the parameter, and stores the new state back.

Where PyTorch's convention differs from the paper, the paper's form is one argument away:

===========================  ==============================  ===================================
class                        PyTorch's form (default)        the paper's form
===========================  ==============================  ===================================
``SGD``                      buffer of gradients, times lr   ``form="sutskever"`` (velocity v)
``RMSprop``                  eps outside the square root     ``eps_inside_sqrt=True`` (TF/Keras)
``Adamax``                   eps inside the max              ``eps=0`` (or ``eps_in_max=False``)
``Adam``                     Algorithm 1                     ``bias_correction=False``: Sec. 6.4
``AdamEfficient``            (not in torch)                  Section 2's eps-hat form
===========================  ==============================  ===================================

Two things every class shares with PyTorch: ``maximize`` negates the gradient (never the
learning rate, which would be wrong for stateful rules), and ``weight_decay`` adds
``weight_decay * param`` to the gradient (L2), except in ``AdamW``, where it is decoupled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from . import fast, rules

__all__ = [
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AdamW",
    "Adamax",
    "AdamEfficient",
]


# --------------------------------------------------------------------------------------
# Validation: torch's checks, with messages that name the argument and its range
# --------------------------------------------------------------------------------------


def _check_nonneg(name: str, value: float) -> None:
    # a one-element real tensor is a number too: torch.optim accepts lr=torch.tensor(1e-3)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        value = value.item()
    if not (isinstance(value, (int, float)) and value >= 0.0):
        raise ValueError(f"Invalid {name}: {value!r}. {name} must be a number >= 0.")


def _float_lr(group: dict) -> dict:
    """The group with a tensor lr read as a number (its value now) for the fast paths, whose
    multi-tensor and compiled kernels take Python scalars; the reference rules take either."""
    lr = group["lr"]
    return {**group, "lr": lr.item()} if isinstance(lr, torch.Tensor) else group


def _check_unit(name: str, value: float, closed: bool = False) -> None:
    ok = 0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0
    if not (isinstance(value, (int, float)) and ok):
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"Invalid {name}: {value!r}. {name} must lie in {interval}.")


def _check_betas(betas) -> tuple[float, float]:
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r}. betas must be a pair (beta1, beta2).")
    _check_unit("betas[0] (beta1)", betas[0])
    _check_unit("betas[1] (beta2)", betas[1])
    return float(betas[0]), float(betas[1])


def _check_unsupported(capturable: bool, differentiable: bool, fused: bool | None) -> None:
    for name, value in [("capturable", capturable), ("differentiable", differentiable),
                        ("fused", fused)]:
        if value:
            raise NotImplementedError(
                f"{name}=True is a torch.optim implementation option that adamlab.optim does not "
                f"provide; leave {name} at its default, or use torch.optim for it."
            )


def _step_tensor(t: int) -> torch.Tensor:
    # torch keeps 'step' as a float tensor (float64 only when that is the default dtype);
    # matching it keeps state_dicts interchangeable in both directions.
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(float(t), dtype=dtype)


# --------------------------------------------------------------------------------------
# The shared machinery
# --------------------------------------------------------------------------------------


class _RuleOptimizer(torch.optim.Optimizer):
    """Calls ``self._rule`` once per parameter per ``step()``.

    Subclasses say which rule to call (``_rule_for``), how to build the first state
    (``_init_state``), and which stored key holds each field of the rule's state (``_keys``).
    """

    def _rule_for(self, group: dict) -> tuple[Callable, dict]:
        raise NotImplementedError

    def _keys(self, group: dict) -> dict[str, str]:
        """rule-state field -> state_dict key, for the fields this group's options use."""
        raise NotImplementedError

    def _init_state(self, p: torch.Tensor, group: dict):
        raise NotImplementedError

    def _state_type(self, group: dict) -> type:
        raise NotImplementedError

    def _param_flags(self, group: dict) -> tuple[bool, bool]:
        """(does the rule take the parameter?, is weight_decay L2 on the gradient?)"""
        return False, True

    #: does the state hold a 'step' entry? (torch's SGD keeps none)
    _stores_step = True

    # -- conversion between torch's per-parameter dict and the rule's NamedTuple ------

    def _load(self, p: torch.Tensor, state: dict, group: dict):
        if not state:
            return self._init_state(p, group)
        keys = self._keys(group)
        cls = self._state_type(group)
        fields = {f: state.get(k) for f, k in keys.items()}
        if "step" in state:
            t = int(state["step"].item())
        else:  # torch's SGD stores no step; a stored buffer means step 1 is done
            t = 1
        missing = [f for f in cls._fields[1:] if f not in fields]
        return cls(t, **fields, **dict.fromkeys(missing))

    def _store(self, state: dict, new, group: dict) -> None:
        for f, k in self._keys(group).items():
            state[k] = getattr(new, f)
        if self._stores_step:
            state["step"] = _step_tensor(new.t)

    # -- the step ------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        """Take one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group: dict) -> None:
        rule, hyper = self._rule_for(group)
        needs_param, l2_weight_decay = self._param_flags(group)
        for p in group["params"]:
            if p.grad is None:  # frozen or unused: no update, and its step count stays put
                continue
            g = p.grad
            if g.is_sparse:
                raise RuntimeError(
                    f"{type(self).__name__} does not take sparse gradients; use dense gradients "
                    "(e.g. nn.Embedding(sparse=False)) or torch.optim.SparseAdam."
                )
            if torch.is_complex(p):
                raise RuntimeError(f"{type(self).__name__} supports real parameters only.")
            if group["maximize"]:
                g = -g
            wd = group.get("weight_decay", 0.0)
            if wd != 0 and l2_weight_decay:
                g = g + wd * p
            state = self.state[p]
            old = self._load(p, state, group)
            if needs_param:
                update, new = rule(g, old, p, **hyper)
            else:
                update, new = rule(g, old, **hyper)
            p.add_(update)
            self._store(state, new, group)


# --------------------------------------------------------------------------------------
# The optimizers
# --------------------------------------------------------------------------------------


class SGD(_RuleOptimizer):
    """``torch.optim.SGD``; ``form="sutskever"`` gives the momentum of Sutskever et al. (2013).

    PyTorch's buffer accumulates gradients and is multiplied by the *current* lr; Sutskever's
    velocity accumulates lr-scaled steps. With a constant lr they produce the same iterates;
    with a schedule they do not (the velocity remembers the old rates).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
        form: str = "pytorch",
    ):
        _check_nonneg("lr (learning rate)", lr)
        _check_nonneg("momentum", momentum)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("dampening", dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"Invalid nesterov=True with momentum={momentum}, dampening={dampening}: "
                "Nesterov momentum needs momentum > 0 and dampening = 0."
            )
        if form not in ("pytorch", "sutskever"):
            raise ValueError(f"Invalid form: {form!r}. form must be 'pytorch' or 'sutskever'.")
        if form == "sutskever" and dampening != 0:
            raise ValueError("Invalid dampening for form='sutskever': it has no dampening; use 0.")
        _check_unsupported(False, differentiable, fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused, form=form)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("form", "pytorch")

    _stores_step = False  # torch's SGD state holds only 'momentum_buffer'

    def _rule_for(self, group):
        if group["momentum"] == 0:
            return rules.sgd, {"lr": group["lr"]}
        if group["form"] == "sutskever":
            return rules.momentum, {"lr": group["lr"], "mu": group["momentum"],
                                    "nesterov": group["nesterov"]}
        return rules.momentum_pytorch, {"lr": group["lr"], "momentum": group["momentum"],
                                        "dampening": group["dampening"],
                                        "nesterov": group["nesterov"]}

    def _keys(self, group):
        if group["momentum"] == 0:
            return {}
        return {"velocity": "velocity"} if group["form"] == "sutskever" else {"buf": "momentum_buffer"}

    def _state_type(self, group):
        if group["momentum"] == 0:
            return rules.NoState
        return rules.MomentumState if group["form"] == "sutskever" else rules.HeavyBallState

    def _init_state(self, p, group):
        if group["momentum"] == 0:
            return rules.sgd_init(p)
        if group["form"] == "sutskever":
            return rules.momentum_init(p)
        return rules.momentum_pytorch_init(p)


class Adagrad(_RuleOptimizer):
    """``torch.optim.Adagrad`` (Duchi et al., 2011), with its ``lr_decay`` and initial accumulator."""

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        _check_nonneg("lr (learning rate)", lr)
        _check_nonneg("lr_decay", lr_decay)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("initial_accumulator_value", initial_accumulator_value)
        _check_nonneg("eps", eps)
        _check_unsupported(False, differentiable, fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _rule_for(self, group):
        return rules.adagrad, {"lr": group["lr"], "eps": group["eps"], "lr_decay": group["lr_decay"]}

    def _keys(self, group):
        return {"sum": "sum"}

    def _state_type(self, group):
        return rules.AdagradState

    def _init_state(self, p, group):
        return rules.adagrad_init(p, group["initial_accumulator_value"])


class RMSprop(_RuleOptimizer):
    """``torch.optim.RMSprop``; ``eps_inside_sqrt=True`` gives TensorFlow's sqrt(r + eps).

    Note PyTorch's default ``alpha=0.99``; Tieleman & Hinton's lecture suggests 0.9.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        *,
        eps_inside_sqrt: bool = False,
    ):
        _check_nonneg("lr (learning rate)", lr)
        _check_nonneg("eps", eps)
        _check_nonneg("momentum", momentum)
        _check_nonneg("weight_decay", weight_decay)
        _check_unit("alpha", alpha, closed=True)
        _check_unsupported(capturable, differentiable, None)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        eps_inside_sqrt=eps_inside_sqrt)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("eps_inside_sqrt", False)

    def _rule_for(self, group):
        return rules.rmsprop, {k: group[k] for k in
                               ("lr", "alpha", "eps", "momentum", "centered", "eps_inside_sqrt")}

    def _keys(self, group):
        keys = {"square_avg": "square_avg"}
        if group["momentum"] > 0:
            keys["buf"] = "momentum_buffer"
        if group["centered"]:
            keys["grad_avg"] = "grad_avg"
        return keys

    def _state_type(self, group):
        return rules.RMSpropState

    def _init_state(self, p, group):
        return rules.rmsprop_init(p)


class Adadelta(_RuleOptimizer):
    """``torch.optim.Adadelta`` (Zeiler, 2012); Zeiler's method is lr = 1."""

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        _check_nonneg("lr (learning rate)", lr)
        _check_unit("rho", rho, closed=True)
        _check_nonneg("eps", eps)
        _check_nonneg("weight_decay", weight_decay)
        _check_unsupported(capturable, differentiable, None)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        capturable=capturable, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _rule_for(self, group):
        return rules.adadelta, {"lr": group["lr"], "rho": group["rho"], "eps": group["eps"]}

    def _keys(self, group):
        return {"square_avg": "square_avg", "acc_delta": "acc_delta"}

    def _state_type(self, group):
        return rules.AdadeltaState

    def _init_state(self, p, group):
        return rules.adadelta_init(p)


class Adam(_RuleOptimizer):
    """``torch.optim.Adam``: Algorithm 1 of Kingma & Ba (2015).

    ``amsgrad=True`` is AMSGrad (max over the raw v, then corrected, as torch does);
    ``decoupled_weight_decay=True`` makes it AdamW, as in torch;
    ``bias_correction=False`` removes both corrections: the ablation of Section 6.4.
    ``impl`` picks the code path (see :mod:`adamlab.fast`): ``"reference"`` calls the rule per
    tensor; ``"inplace"``, ``"foreach"`` (the default), ``"compiled"`` and ``"flat"`` (one
    pass over one buffer per group, :mod:`adamlab.flat`; needs a C compiler) compute the same
    numbers faster. ``foreach=False`` without ``impl`` means ``"reference"``.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
        bias_correction: bool = True,
        impl: str | None = None,
    ):
        _check_nonneg("lr (learning rate)", lr)
        _check_nonneg("eps", eps)
        betas = _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        _check_unsupported(capturable, differentiable, fused)
        if decoupled_weight_decay and not bias_correction:
            raise ValueError("decoupled_weight_decay=True with bias_correction=False is not a "
                             "method of either paper; choose one of the two options.")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay,
                        bias_correction=bias_correction, impl=fast.resolve_impl(impl, foreach))
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("bias_correction", True)
            group.setdefault("impl", fast.resolve_impl(None, group.get("foreach")))

    def _update_group(self, group):
        # the fast paths cover Algorithm 1, AMSGrad and AdamW; the Sec. 6.4 ablation has none
        if group["impl"] == "reference" or not group["bias_correction"]:
            return super()._update_group(group)
        fast.optimizer_step_(self, _float_lr(group), "adam", group["impl"])

    def _hyper(self, group) -> dict:
        beta1, beta2 = group["betas"]
        return {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"]}

    def _rule_for(self, group):
        hyper = self._hyper(group)
        if group["decoupled_weight_decay"]:
            return rules.adamw, {**hyper, "weight_decay": group["weight_decay"],
                                 "amsgrad": group["amsgrad"]}
        if group["amsgrad"]:
            return rules.amsgrad, {**hyper, "bias_correction": group["bias_correction"]}
        if not group["bias_correction"]:
            return rules.adam_no_bias_correction, hyper
        return rules.adam, hyper

    def _param_flags(self, group):
        # AdamW's rule takes the parameter itself, and its weight decay is not L2.
        decoupled = group["decoupled_weight_decay"]
        return decoupled, not decoupled

    def _keys(self, group):
        keys = {"m": "exp_avg", "v": "exp_avg_sq"}
        if group["amsgrad"]:
            keys["v_max"] = "max_exp_avg_sq"
        return keys

    def _state_type(self, group):
        return rules.AMSGradState if group["amsgrad"] else rules.AdamState

    def _init_state(self, p, group):
        return rules.amsgrad_init(p) if group["amsgrad"] else rules.adam_init(p)


class AdamW(Adam):
    """``torch.optim.AdamW`` (Loshchilov & Hutter, 2019): weight decay outside the adaptive step."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        impl: str | None = None,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True, impl=impl)


class Adamax(_RuleOptimizer):
    """``torch.optim.Adamax``: Algorithm 2 of Kingma & Ba (2015).

    torch adds eps inside the max, u = max(beta2 u, |g| + eps); the paper has no eps
    (``eps=0``); ``eps_in_max=False`` divides by u + eps instead, as Keras does.
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
        eps_in_max: bool = True,
        impl: str | None = None,
    ):
        _check_nonneg("lr (learning rate)", lr)
        _check_nonneg("eps", eps)
        betas = _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        _check_unsupported(capturable, differentiable, None)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable,
                        eps_in_max=eps_in_max, impl=fast.resolve_impl(impl, foreach))
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("eps_in_max", True)
            group.setdefault("impl", fast.resolve_impl(None, group.get("foreach")))

    def _update_group(self, group):
        if group["impl"] == "reference":
            return super()._update_group(group)
        fast.optimizer_step_(self, _float_lr(group), "adamax", group["impl"])

    def _rule_for(self, group):
        beta1, beta2 = group["betas"]
        return rules.adamax, {"lr": group["lr"], "beta1": beta1, "beta2": beta2,
                              "eps": group["eps"], "eps_in_max": group["eps_in_max"]}

    def _keys(self, group):
        return {"m": "exp_avg", "u": "exp_inf"}

    def _state_type(self, group):
        return rules.AdamaxState

    def _init_state(self, p, group):
        return rules.adamax_init(p)


class AdamEfficient(_RuleOptimizer):
    """Adam in the order of computation at the end of Section 2, with a constant eps-hat.

    This is what TensorFlow 1 and Keras implement. It equals ``Adam`` exactly only if
    eps_hat = eps * sqrt(1 - beta2^t), i.e. never with a constant eps_hat; the difference is
    visible when v is tiny or eps is large.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps_hat: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        _check_nonneg("lr (learning rate)", lr)
        _check_nonneg("eps_hat", eps_hat)
        betas = _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps_hat=eps_hat, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _rule_for(self, group):
        beta1, beta2 = group["betas"]
        return rules.adam_efficient, {"lr": group["lr"], "beta1": beta1, "beta2": beta2,
                                      "eps_hat": group["eps_hat"]}

    def _keys(self, group):
        return {"m": "exp_avg", "v": "exp_avg_sq"}

    def _state_type(self, group):
        return rules.AdamState

    def _init_state(self, p, group):
        return rules.adam_init(p)
