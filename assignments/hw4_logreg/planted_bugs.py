"""Classic bugs in the logistic-regression replication, planted one at a time by the test suite.

Each entry replaces one solution function; the tests of its question must fail it with ``message``.

Graded as a whole notebook, an entry costs points in the questions of ``costs`` (default: the
question that defines ``function``) and in no other; ``replaces`` and ``grader_only`` are
described in ``hw1_ema/planted_bugs.py``.
"""

def _train(rate="lr / np.sqrt(t)", count="order = rng.permutation(len(y))", between="",
           stop="len(y)", record="loss_and_grad(W, b, X, y, lam)[0]"):
    """The solution's train with one line changed: each planted protocol mistake is one edit."""
    return f'''
def train(name, lr, seed, X, y, epochs, batch_size=128, lam=1e-4):
    init, step, hyper = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    W, b = np.zeros((X.shape[1], 10)), np.zeros(10)
    state_W, state_b = init(W), init(b)
    losses = [loss_and_grad(W, b, X, y, lam)[0]]
    t = 0
    for _ in range(epochs):
        {count}
        seen = []
        for start in range(0, {stop}, batch_size):
            batch = order[start:start + batch_size]
            t += 1
            loss, dW, db = loss_and_grad(W, b, X[batch], y[batch], lam)
            seen.append(loss)
            update_W, state_W = step(dW, state_W, lr={rate}, **hyper)
            {between}update_b, state_b = step(db, state_b, lr={rate}, **hyper)
            W, b = W + update_W, b + update_b
        losses.append({record})
    return np.array(losses)
'''


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
        "name": "loss summed over the batch",
        "function": "loss_and_grad",
        "message": "your loss is the SUM over the batch",
        # the runs of Question 3 take 64 times larger steps and diverge
        "costs": ["q1", "q3"],
        "code": '''
def loss_and_grad(W, b, X, y, lam):
    z = X @ W + b
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(y)), y].sum() + 0.5 * lam * np.sum(W * W)
    dz = np.exp(log_p)
    dz[np.arange(len(y)), y] -= 1.0
    return float(loss), X.T @ dz + lam * W, dz.sum(axis=0)
''',
    },
    *(
        {"name": name, "function": "train", "message": message, "code": _train(**changes)}
        for name, message, changes in (
            ("constant learning rate", "matches a CONSTANT learning rate",
             {"rate": "lr"}),
            ("step counter reset every epoch", "your step counter starts again at 1 every epoch",
             {"count": "t = 0\n        order = rng.permutation(len(y))"}),
            ("learning rate lr / t", "matches a learning rate lr / t", {"rate": "lr / t"}),
            ("step counter advanced per array", "advanced once for W and again for b",
             {"between": "t += 1\n            "}),
            ("last batch dropped", "skip the last, smaller batch",
             {"stop": "len(y) - batch_size + 1"}),
            ("one permutation for every epoch", "in the same order every epoch",
             {"count": "rng = np.random.default_rng(seed)\n        order = rng.permutation(len(y))"}),
            ("epoch-averaged minibatch losses", "average of the minibatch losses",
             {"record": "np.mean(seen)"}),
        )
    ),
]
