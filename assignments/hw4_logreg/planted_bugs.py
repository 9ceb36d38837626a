"""Classic bugs in the logistic-regression replication, planted one at a time by the test suite.

Each entry replaces one solution function; the tests of its question must fail it with ``message``.
"""

BUGS = [
    {
        "name": "L2 penalty missing from the gradient",
        "function": "loss_and_grad",
        "message": "your dW misses the gradient of the L2 penalty",
        "code": '''
def loss_and_grad(W, b, X, y, lam):
    n = len(y)
    z = X @ W + b
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean() + 0.5 * lam * np.sum(W * W)
    dz = np.exp(log_p)
    dz[np.arange(n), y] -= 1.0
    dz /= n
    return float(loss), X.T @ dz, dz.sum(axis=0)
''',
    },
    {
        "name": "softmax without the max subtraction",
        "function": "loss_and_grad",
        "message": "exp(1000) overflows",
        "code": '''
def loss_and_grad(W, b, X, y, lam):
    n = len(y)
    z = X @ W + b
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean() + 0.5 * lam * np.sum(W * W)
    p[np.arange(n), y] -= 1.0
    p /= n
    return float(loss), X.T @ p + lam * W, p.sum(axis=0)
''',
    },
    {
        "name": "constant learning rate",
        "function": "train",
        "message": "matches a CONSTANT learning rate",
        "code": '''
def train(name, lr, seed, X, y, epochs, batch_size=128, lam=1e-4):
    init, step, hyper = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    W, b = np.zeros((X.shape[1], 10)), np.zeros(10)
    state_W, state_b = init(W), init(b)
    losses = [loss_and_grad(W, b, X, y, lam)[0]]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            _, dW, db = loss_and_grad(W, b, X[batch], y[batch], lam)
            update_W, state_W = step(dW, state_W, lr=lr, **hyper)
            update_b, state_b = step(db, state_b, lr=lr, **hyper)
            W, b = W + update_W, b + update_b
        losses.append(loss_and_grad(W, b, X, y, lam)[0])
    return np.array(losses)
''',
    },
    {
        "name": "step counter reset every epoch",
        "function": "train",
        "message": "your step counter starts again at 1 every epoch",
        "code": '''
def train(name, lr, seed, X, y, epochs, batch_size=128, lam=1e-4):
    init, step, hyper = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    W, b = np.zeros((X.shape[1], 10)), np.zeros(10)
    state_W, state_b = init(W), init(b)
    losses = [loss_and_grad(W, b, X, y, lam)[0]]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for t, start in enumerate(range(0, len(y), batch_size), start=1):
            batch = order[start:start + batch_size]
            _, dW, db = loss_and_grad(W, b, X[batch], y[batch], lam)
            update_W, state_W = step(dW, state_W, lr=lr / np.sqrt(t), **hyper)
            update_b, state_b = step(db, state_b, lr=lr / np.sqrt(t), **hyper)
            W, b = W + update_W, b + update_b
        losses.append(loss_and_grad(W, b, X, y, lam)[0])
    return np.array(losses)
''',
    },
]
