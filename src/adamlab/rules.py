"""One pure function per optimizer: ``update, new_state = rule(g, state, **hyperparameters)``.

Each rule reads like the pseudo-code of the paper it comes from. It never changes its inputs:
it returns the *update* (what to add to the parameters) and a *new* state. The same code runs
on NumPy arrays and on torch tensors, because every array operation goes through the array
namespace of the gradient (the Python array API).

The step counter ``t`` lives in the state and is advanced by the rule itself, *before* its
first use, as in Algorithm 1 of Kingma & Ba (2015): the first bias correction divides by
``1 - beta`` rather than by zero.

Conventions that differ between the papers and the frameworks are arguments, never silent
choices; each is written next to the line it changes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from array_api_compat import array_namespace

Array = Any  # a NumPy array or a torch tensor


def _zeros_like(x: Array) -> Array:
    return array_namespace(x).zeros_like(x)


# --------------------------------------------------------------------------------------
# Plain gradient descent and momentum
# --------------------------------------------------------------------------------------


class NoState(NamedTuple):
    t: int = 0


def sgd_init(param: Array) -> NoState:
    return NoState()


def sgd(g: Array, state: NoState, lr: float = 1e-2) -> tuple[Array, NoState]:
    """theta <- theta - lr * g."""
    return -lr * g, NoState(state.t + 1)


class MomentumState(NamedTuple):
    t: int
    velocity: Array


def momentum_init(param: Array) -> MomentumState:
    return MomentumState(0, _zeros_like(param))


def momentum(
    g: Array, state: MomentumState, lr: float = 1e-2, mu: float = 0.9, nesterov: bool = False
) -> tuple[Array, MomentumState]:
    """Classical momentum and Nesterov's accelerated gradient, Sutskever et al. (2013).

    The velocity carries the learning rate: v <- mu * v - lr * g.

    Nesterov evaluates the gradient at the look-ahead point theta + mu * v. Written in the
    variables an optimizer actually holds (the look-ahead point itself, Bengio et al. 2013),
    the step becomes mu * v_new - lr * g, and g is the gradient at the parameters we have.
    """
    v = mu * state.velocity - lr * g
    update = mu * v - lr * g if nesterov else v
    return update, MomentumState(state.t + 1, v)


class HeavyBallState(NamedTuple):
    t: int
    buf: Array


def momentum_pytorch_init(param: Array) -> HeavyBallState:
    return HeavyBallState(0, _zeros_like(param))


def momentum_pytorch(
    g: Array,
    state: HeavyBallState,
    lr: float = 1e-2,
    momentum: float = 0.9,
    dampening: float = 0.0,
    nesterov: bool = False,
) -> tuple[Array, HeavyBallState]:
    """PyTorch's momentum: the buffer holds gradients, and lr multiplies it afterwards.

    b <- momentum * b + (1 - dampening) * g   (the first step sets b <- g, undamped)
    With a constant lr this is Sutskever's form with v = -lr * b; with a scheduled lr the
    two differ, because Sutskever's velocity remembers the learning rates of past steps.
    """
    t = state.t + 1
    buf = g if t == 1 else momentum * state.buf + (1 - dampening) * g
    direction = g + momentum * buf if nesterov else buf
    return -lr * direction, HeavyBallState(t, buf)


# --------------------------------------------------------------------------------------
# Adaptive methods before Adam
# --------------------------------------------------------------------------------------


class AdagradState(NamedTuple):
    t: int
    sum: Array


def adagrad_init(param: Array, initial_accumulator_value: float = 0.0) -> AdagradState:
    return AdagradState(0, _zeros_like(param) + initial_accumulator_value)


def adagrad(
    g: Array, state: AdagradState, lr: float = 1e-2, eps: float = 1e-10, lr_decay: float = 0.0
) -> tuple[Array, AdagradState]:
    """Duchi et al. (2011): divide by the root of the sum of *every* squared gradient so far.

    G <- G + g^2 ;  theta <- theta - lr_t * g / (sqrt(G) + eps),
    lr_t = lr / (1 + (t - 1) * lr_decay)   (PyTorch's optional decay; 0 gives plain AdaGrad).
    """
    xp = array_namespace(g)
    t = state.t + 1
    G = state.sum + g * g
    lr_t = lr / (1 + (t - 1) * lr_decay)
    return -lr_t * g / (xp.sqrt(G) + eps), AdagradState(t, G)


class RMSpropState(NamedTuple):
    t: int
    square_avg: Array
    grad_avg: Array
    buf: Array


def rmsprop_init(param: Array) -> RMSpropState:
    return RMSpropState(0, _zeros_like(param), _zeros_like(param), _zeros_like(param))


def rmsprop(
    g: Array,
    state: RMSpropState,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    momentum: float = 0.0,
    centered: bool = False,
    eps_inside_sqrt: bool = False,
) -> tuple[Array, RMSpropState]:
    """Tieleman & Hinton (2012): divide by the root of an *exponential moving average* of g^2.

    r <- alpha * r + (1 - alpha) * g^2 ;  theta <- theta - lr * g / (sqrt(r) + eps).
    ``centered`` subtracts the squared mean of g (an estimate of the variance, Graves 2013);
    ``momentum`` > 0 smooths the *rescaled* step, as PyTorch does. PyTorch adds eps outside
    the root; TensorFlow and Keras add it inside (``eps_inside_sqrt=True``).
    """
    xp = array_namespace(g)
    r = alpha * state.square_avg + (1 - alpha) * g * g
    grad_avg = state.grad_avg
    second_moment = r
    if centered:
        grad_avg = alpha * grad_avg + (1 - alpha) * g
        second_moment = r - grad_avg * grad_avg
    if eps_inside_sqrt:
        denom = xp.sqrt(second_moment + eps)
    else:
        denom = xp.sqrt(second_moment) + eps
    buf = state.buf
    if momentum > 0:
        buf = momentum * buf + g / denom
        update = -lr * buf
    else:
        update = -lr * g / denom
    return update, RMSpropState(state.t + 1, r, grad_avg, buf)


class AdadeltaState(NamedTuple):
    t: int
    square_avg: Array
    acc_delta: Array


def adadelta_init(param: Array) -> AdadeltaState:
    return AdadeltaState(0, _zeros_like(param), _zeros_like(param))


def adadelta(
    g: Array, state: AdadeltaState, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6
) -> tuple[Array, AdadeltaState]:
    """Zeiler (2012): the step's units come from an EMA of past squared *steps*.

    E[g^2] <- rho E[g^2] + (1 - rho) g^2
    delta  <- sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
    E[dx^2] <- rho E[dx^2] + (1 - rho) delta^2 ;  theta <- theta - lr * delta (Zeiler: lr = 1)
    """
    xp = array_namespace(g)
    square_avg = rho * state.square_avg + (1 - rho) * g * g
    delta = xp.sqrt(state.acc_delta + eps) / xp.sqrt(square_avg + eps) * g
    acc_delta = rho * state.acc_delta + (1 - rho) * delta * delta
    return -lr * delta, AdadeltaState(state.t + 1, square_avg, acc_delta)


# --------------------------------------------------------------------------------------
# Adam and its variants
# --------------------------------------------------------------------------------------


class AdamState(NamedTuple):
    t: int
    m: Array
    v: Array


def adam_init(param: Array) -> AdamState:
    return AdamState(0, _zeros_like(param), _zeros_like(param))


def adam(
    g: Array,
    state: AdamState,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[Array, AdamState]:
    """Algorithm 1 of Kingma & Ba (2015), line for line."""
    xp = array_namespace(g)
    t = state.t + 1
    m = beta1 * state.m + (1 - beta1) * g  # biased first moment estimate
    v = beta2 * state.v + (1 - beta2) * g * g  # biased second raw moment estimate
    m_hat = m / (1 - beta1**t)  # bias-corrected first moment estimate
    v_hat = v / (1 - beta2**t)  # bias-corrected second raw moment estimate
    update = -lr * m_hat / (xp.sqrt(v_hat) + eps)
    return update, AdamState(t, m, v)


def adam_efficient(
    g: Array,
    state: AdamState,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps_hat: float = 1e-8,
) -> tuple[Array, AdamState]:
    """The "more efficient (but less clear)" order of computation at the end of Section 2.

    alpha_t = alpha * sqrt(1 - beta2^t) / (1 - beta1^t) ;  theta <- theta - alpha_t * m / (sqrt(v) + eps_hat)
    It equals Algorithm 1 exactly when eps_hat = eps * sqrt(1 - beta2^t). TensorFlow and
    Keras implement this form with a *constant* eps_hat.
    """
    xp = array_namespace(g)
    t = state.t + 1
    m = beta1 * state.m + (1 - beta1) * g
    v = beta2 * state.v + (1 - beta2) * g * g
    lr_t = lr * (1 - beta2**t) ** 0.5 / (1 - beta1**t)
    return -lr_t * m / (xp.sqrt(v) + eps_hat), AdamState(t, m, v)


def adam_no_bias_correction(
    g: Array,
    state: AdamState,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[Array, AdamState]:
    """Adam with both corrections removed: the Section 6.4 ablation ("RMSProp with momentum")."""
    xp = array_namespace(g)
    m = beta1 * state.m + (1 - beta1) * g
    v = beta2 * state.v + (1 - beta2) * g * g
    return -lr * m / (xp.sqrt(v) + eps), AdamState(state.t + 1, m, v)


class AMSGradState(NamedTuple):
    t: int
    m: Array
    v: Array
    v_max: Array


def amsgrad_init(param: Array) -> AMSGradState:
    return AMSGradState(0, _zeros_like(param), _zeros_like(param), _zeros_like(param))


def amsgrad(
    g: Array,
    state: AMSGradState,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: bool = True,
) -> tuple[Array, AMSGradState]:
    """Reddi, Kale & Kumar (2018): Adam whose denominator may never shrink.

    The one line that differs from Adam is v_max <- max(v_max, v). As in PyTorch and
    TensorFlow the maximum is taken over the *raw* v and corrected afterwards;
    ``bias_correction=False`` is Algorithm 2 of Reddi et al. (with eps = 0).
    """
    xp = array_namespace(g)
    t = state.t + 1
    m = beta1 * state.m + (1 - beta1) * g
    v = beta2 * state.v + (1 - beta2) * g * g
    v_max = xp.maximum(state.v_max, v)
    c1, c2 = (1 - beta1**t, 1 - beta2**t) if bias_correction else (1.0, 1.0)
    update = -lr * (m / c1) / (xp.sqrt(v_max / c2) + eps)
    return update, AMSGradState(t, m, v, v_max)


_amsgrad_rule = amsgrad  # adamw's flag shares the name, as in torch.optim.AdamW


def adamw(
    g: Array,
    state: AdamState | AMSGradState,
    param: Array,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
) -> tuple[Array, AdamState | AMSGradState]:
    """Loshchilov & Hutter (2019): Adam plus a decay of the weights *outside* the adaptive step.

    The decay -lr * weight_decay * theta is not divided by sqrt(v_hat): every weight shrinks
    at the same rate, whatever its gradient history. (PyTorch scales it by lr, as here.)
    """
    inner = _amsgrad_rule if amsgrad else adam
    update, state = inner(g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return update - lr * weight_decay * param, state


class AdamaxState(NamedTuple):
    t: int
    m: Array
    u: Array


def adamax_init(param: Array) -> AdamaxState:
    return AdamaxState(0, _zeros_like(param), _zeros_like(param))


def adamax(
    g: Array,
    state: AdamaxState,
    lr: float = 2e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 0.0,
    eps_in_max: bool = True,
) -> tuple[Array, AdamaxState]:
    """Algorithm 2 of Kingma & Ba (2015): the infinity-norm variant of Adam.

    u <- max(beta2 * u, |g|) needs no bias correction. The paper's bound |update| <= lr holds
    up to a factor (1 - beta1) / (1 - beta1 / beta2) (1.0091 with the defaults), which gradients
    of one sign shrinking by beta2 per step approach.
    The paper has no eps (so 0/0 if every gradient so far is zero). PyTorch puts eps inside
    the maximum, max(beta2 * u, |g| + eps), default 1e-8; Keras adds it to the denominator,
    m / (u + eps) (``eps_in_max=False``). With eps = 0 both are the paper's rule.
    """
    xp = array_namespace(g)
    t = state.t + 1
    m = beta1 * state.m + (1 - beta1) * g
    if eps_in_max:
        u = xp.maximum(beta2 * state.u, xp.abs(g) + eps)
        denom = u
    else:
        u = xp.maximum(beta2 * state.u, xp.abs(g))
        denom = u + eps
    return -(lr / (1 - beta1**t)) * m / denom, AdamaxState(t, m, u)


# --------------------------------------------------------------------------------------
# Temporal averaging of the parameters (Section 7.2)
# --------------------------------------------------------------------------------------


class ParamEMAState(NamedTuple):
    t: int
    avg: Array


def param_ema_init(param: Array) -> ParamEMAState:
    return ParamEMAState(0, _zeros_like(param))


def param_ema(
    param: Array, state: ParamEMAState, beta2: float = 0.999
) -> tuple[Array, ParamEMAState]:
    """theta_bar <- beta2 * theta_bar + (1 - beta2) * theta ; return theta_bar / (1 - beta2^t).

    Called once per step *after* the parameters have moved; it returns the bias-corrected
    average, which is the estimate to evaluate, and leaves the optimizer's path unchanged.
    """
    t = state.t + 1
    avg = beta2 * state.avg + (1 - beta2) * param
    return avg / (1 - beta2**t), ParamEMAState(t, avg)


# --------------------------------------------------------------------------------------
# The zoo: every rule with its state initializer and its defaults, for code that loops
# over optimizers (the trajectory explorer, the figures, the tests).
# --------------------------------------------------------------------------------------


class Rule(NamedTuple):
    name: str
    init: Any
    step: Any
    defaults: dict
    needs_param: bool = False


RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        Rule("SGD", sgd_init, sgd, {"lr": 1e-2}),
        Rule("Momentum", momentum_init, momentum, {"lr": 1e-2, "mu": 0.9}),
        Rule("Nesterov", momentum_init, momentum, {"lr": 1e-2, "mu": 0.9, "nesterov": True}),
        Rule("AdaGrad", adagrad_init, adagrad, {"lr": 1e-2, "eps": 1e-10}),
        Rule("RMSProp", rmsprop_init, rmsprop, {"lr": 1e-2, "alpha": 0.9, "eps": 1e-8}),
        Rule("AdaDelta", adadelta_init, adadelta, {"lr": 1.0, "rho": 0.95, "eps": 1e-6}),
        Rule("Adam", adam_init, adam, {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
        Rule(
            "Adam (no bias correction)",
            adam_init,
            adam_no_bias_correction,
            {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        ),
        Rule(
            "Adam (efficient form)",
            adam_init,
            adam_efficient,
            {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps_hat": 1e-8},
        ),
        Rule(
            "AMSGrad", amsgrad_init, amsgrad, {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
        ),
        Rule(
            "AdamW",
            adam_init,
            adamw,
            {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
            needs_param=True,
        ),
        Rule("AdaMax", adamax_init, adamax, {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 0.0}),
    ]
}
