"""Classic EMA and bias-correction bugs, planted one at a time by the test suite.

Each entry replaces one solution function; the tests of its question must fail it with ``message``.
Graded as a whole notebook, it must cost points in the questions of ``costs`` (default: the
question that defines ``function``) and in no other. ``replaces`` puts the code in place of the
solution's cell instead of after it; ``grader_only`` marks a mistake that only the grading
environment can catch (there the book's library ``adamlab`` is not installed). ``grader_message``, where
given, is what the grader says instead of ``message``.
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
        # the raw and corrected averages then never agree: Question 3's answers cannot be computed
        "costs": ["q2", "q3"],
        "code": '''
def ema_corrected(xs, beta):
    return ema(xs, beta) / (1 - beta)
''',
    },
    {
        "name": "ema writes into its input",
        "function": "ema",
        "message": "ema changed its input xs",
        "code": '''
def ema(xs, beta):
    out = np.asarray(xs, dtype=float)
    m = np.zeros(out.shape[1:])
    for t in range(len(out)):
        m = beta * m + (1 - beta) * out[t]
        out[t] = m
    return out
''',
    },
    {
        "name": "the library's ema imported",
        "function": "ema",
        "message": "not from this notebook",
        # graded whole on the grader, where the import fails and leaves ema undefined
        "grader_message": "ema is not defined in your notebook",
        "replaces": True,
        # without an ema of its own the notebook cannot compute Question 3's answers either
        "costs": ["q1", "q3"],
        "code": "from adamlab.ema import ema\n",
    },
    {
        "name": "a wrapper around the library's ema",
        "function": "ema",
        "message": "No module named 'adamlab",
        "replaces": True,
        "grader_only": True,
        "costs": ["q1", "q3"],
        "code": '''
def ema(xs, beta):
    from adamlab.ema import ema as reference
    return reference(xs, beta)
''',
    },
]
