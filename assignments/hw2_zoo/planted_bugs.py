"""Classic bugs in momentum, AdaGrad and RMSProp steps, planted one at a time by the test suite.

Each entry replaces one solution function; the tests of its question must fail it with ``message``.
Graded as a whole notebook, it must cost points in the questions of ``costs`` (default: the
question that defines ``function``) and in no other; Question 4 measures the last step with the
student's own AdaGrad and RMSProp, so a mistake that changes that step costs points there too.
``replaces`` puts the code in place of the solution's cell; ``grader_only`` marks a mistake that
only the grading environment catches (the book's library is not installed there).
"""

BUGS = [
    {
        "name": "momentum in PyTorch's buffer form",
        "function": "momentum_step",
        "message": "your v holds a sum of gradients",
        "code": '''
def momentum_step(theta, g, v, lr=0.01, mu=0.9):
    new_v = mu * v + g
    return theta - lr * new_v, new_v
''',
    },
    {
        "name": "momentum steps uphill",
        "function": "momentum_step",
        "message": "the step goes uphill",
        "code": '''
def momentum_step(theta, g, v, lr=0.01, mu=0.9):
    new_v = mu * v + lr * g
    return theta + new_v, new_v
''',
    },
    {
        "name": "AdaGrad with eps inside the square root",
        "function": "adagrad_step",
        "message": "eps added inside the square root",
        "code": '''
def adagrad_step(theta, g, G, lr=0.01, eps=1e-10):
    new_G = G + g * g
    return theta - lr * g / np.sqrt(new_G + eps), new_G
''',
    },
    {
        "name": "AdaGrad that replaces G",
        "function": "adagrad_step",
        "message": "your G holds only the last squared gradient",
        "costs": ["q2", "q4"],
        "code": '''
def adagrad_step(theta, g, G, lr=0.01, eps=1e-10):
    new_G = g * g
    return theta - lr * g / (np.sqrt(new_G) + eps), new_G
''',
    },
    {
        "name": "RMSProp without (1 - alpha)",
        "function": "rmsprop_step",
        "message": "the new squared gradient must be weighted by",
        "costs": ["q3", "q4"],
        "code": '''
def rmsprop_step(theta, g, r, lr=0.01, alpha=0.9, eps=1e-8):
    new_r = alpha * r + g * g
    return theta - lr * g / (np.sqrt(new_r) + eps), new_r
''',
    },
    {
        "name": "RMSProp with alpha and 1 - alpha swapped",
        "function": "rmsprop_step",
        "message": "alpha and (1 - alpha) are swapped",
        "code": '''
def rmsprop_step(theta, g, r, lr=0.01, alpha=0.9, eps=1e-8):
    new_r = (1 - alpha) * r + alpha * g * g
    return theta - lr * g / (np.sqrt(new_r) + eps), new_r
''',
    },
    {
        "name": "momentum that scales v in place",
        "function": "momentum_step",
        "message": "momentum_step changed the array",
        "code": '''
def momentum_step(theta, g, v, lr=0.01, mu=0.9):
    v *= mu
    v -= lr * g
    return theta + v, v
''',
    },
    {
        "name": "AdaGrad that updates G and theta in place",
        "function": "adagrad_step",
        "message": "adagrad_step changed the arrays",
        # Question 4 keeps the previous theta to measure the last step: in place, that step reads 0
        "costs": ["q2", "q4"],
        "code": '''
def adagrad_step(theta, g, G, lr=0.01, eps=1e-10):
    G += g * g
    theta -= lr * g / (np.sqrt(G) + eps)
    return theta, G
''',
    },
    {
        "name": "a wrapper around the library's AdaGrad",
        "function": "adagrad_step",
        "message": "No module named 'adamlab",
        "replaces": True,
        "grader_only": True,
        "costs": ["q2", "q4"],
        "code": '''
def adagrad_step(theta, g, G, lr=0.01, eps=1e-10):
    from adamlab import rules
    update, state = rules.adagrad(g, rules.AdagradState(0, G), lr=lr, eps=eps)
    return theta + update, state.sum
''',
    },
]
