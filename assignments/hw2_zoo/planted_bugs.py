"""Classic bugs in momentum, AdaGrad and RMSProp steps, planted one at a time by the test suite.

Each entry replaces one solution function; the hidden tests must fail it with ``message``.
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
]
