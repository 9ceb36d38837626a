"""Classic Adam and AdaMax bugs, planted one at a time into the solution by the test suite.

Each entry replaces one solution function. The hidden tests must fail the planted version
with the message named in ``message`` (a substring of the failure output). An instructor can
paste ``code`` into a copy of the solution notebook to see what a student with that bug sees.

Graded as a whole notebook, an entry costs points in the questions of ``costs`` (default: the
question that defines ``function``) and in no other; ``replaces`` and ``grader_only`` are
described in ``hw1_ema/planted_bugs.py``.
"""

BUGS = [
    {
        "name": "step counter advanced per parameter",
        "function": "adam_step",
        "message": "the step counter is advanced once per parameter",
        "code": '''
def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["t"] += 1
        t = state["t"]
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["v"][i] = beta2 * state["v"][i] + (1 - beta2) * g * g
        m_hat = state["m"][i] / (1 - beta1**t)
        v_hat = state["v"][i] / (1 - beta2**t)
        new_params.append(p - lr * m_hat / (np.sqrt(v_hat) + eps))
    return new_params
''',
    },
    {
        "name": "eps inside the square root",
        "function": "adam_step",
        "message": "eps added INSIDE the square root",
        "code": '''
def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] += 1
    t = state["t"]
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["v"][i] = beta2 * state["v"][i] + (1 - beta2) * g * g
        m_hat = state["m"][i] / (1 - beta1**t)
        v_hat = state["v"][i] / (1 - beta2**t)
        new_params.append(p - lr * m_hat / np.sqrt(v_hat + eps))
    return new_params
''',
    },
    {
        "name": "eps added before the bias correction",
        "function": "adam_step",
        "message": "eps added to sqrt(v) BEFORE the bias correction",
        "code": '''
def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] += 1
    t = state["t"]
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["v"][i] = beta2 * state["v"][i] + (1 - beta2) * g * g
        m_hat = state["m"][i] / (1 - beta1**t)
        denom = (np.sqrt(state["v"][i]) + eps) / np.sqrt(1 - beta2**t)
        new_params.append(p - lr * m_hat / denom)
    return new_params
''',
    },
    {
        "name": "bias correction multiplied instead of divided",
        "function": "adam_step",
        "message": "the bias correction is multiplied instead of divided",
        "code": '''
def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] += 1
    t = state["t"]
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["v"][i] = beta2 * state["v"][i] + (1 - beta2) * g * g
        m_hat = state["m"][i] * (1 - beta1**t)
        v_hat = state["v"][i] * (1 - beta2**t)
        new_params.append(p - lr * m_hat / (np.sqrt(v_hat) + eps))
    return new_params
''',
    },
    {
        "name": "bias correction applied in place to the stored moments",
        "function": "adam_step",
        "message": "the bias correction was applied in place to the stored moments",
        "code": '''
def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    state["t"] += 1
    t = state["t"]
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["v"][i] = beta2 * state["v"][i] + (1 - beta2) * g * g
        state["m"][i] /= 1 - beta1**t
        state["v"][i] /= 1 - beta2**t
        new_params.append(p - lr * state["m"][i] / (np.sqrt(state["v"][i]) + eps))
    return new_params
''',
    },
    {
        "name": "AdaMax corrects u",
        "function": "adamax_step",
        "message": "your AdaMax divides u by (1 - beta2**t)",
        "code": '''
def adamax_step(params, grads, state, lr=2e-3, beta1=0.9, beta2=0.999):
    state["t"] += 1
    t = state["t"]
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["u"][i] = np.maximum(beta2 * state["u"][i], np.abs(g))
        u_hat = state["u"][i] / (1 - beta2**t)
        new_params.append(p - (lr / (1 - beta1**t)) * state["m"][i] / u_hat)
    return new_params
''',
    },
    {
        "name": "AdaMax without the correction of m",
        "function": "adamax_step",
        "message": "your AdaMax does not correct m",
        "code": '''
def adamax_step(params, grads, state, lr=2e-3, beta1=0.9, beta2=0.999):
    state["t"] += 1
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        state["m"][i] = beta1 * state["m"][i] + (1 - beta1) * g
        state["u"][i] = np.maximum(beta2 * state["u"][i], np.abs(g))
        new_params.append(p - lr * state["m"][i] / state["u"][i])
    return new_params
''',
    },
    {
        "name": "a wrapper around the library's Adam",
        "function": "adam_step",
        "message": "No module named 'adamlab",
        "replaces": True,
        "grader_only": True,
        "code": '''
def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    from adamlab import rules
    new_params = []
    for i, (p, g) in enumerate(zip(params, grads)):
        old = rules.AdamState(state["t"], state["m"][i], state["v"][i])
        update, new = rules.adam(g, old, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        state["m"][i], state["v"][i] = new.m, new.v
        new_params.append(p + update)
    state["t"] += 1
    return new_params
''',
    },
]
