"""Classic EMA and bias-correction bugs, planted one at a time by the test suite.

Each entry replaces one solution function; the tests of its question must fail it with ``message``.
"""

BUGS = [
    {
        "name": "input not weighted by (1 - beta)",
        "function": "ema",
        "message": "weight the input by (1 - beta)",
        "code": '''
def ema(xs, beta):
    xs = np.asarray(xs, dtype=float)
    out = np.empty_like(xs)
    m = np.zeros(xs.shape[1:])
    for t in range(len(xs)):
        m = beta * m + xs[t]
        out[t] = m
    return out
''',
    },
    {
        "name": "correction counted from t = 0",
        "function": "ema_corrected",
        "message": "never by 1 - beta**0 = 0",
        "code": '''
def ema_corrected(xs, beta):
    m = ema(xs, beta)
    t = np.arange(len(m)).reshape((-1,) + (1,) * (m.ndim - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return m / (1 - beta**t)
''',
    },
    {
        "name": "a fixed correction 1 / (1 - beta)",
        "function": "ema_corrected",
        "message": "not a fixed factor",
        "code": '''
def ema_corrected(xs, beta):
    return ema(xs, beta) / (1 - beta)
''',
    },
]
