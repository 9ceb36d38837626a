"""The live figures of the book's website: the HTML a chapter's cell outputs for them.

A live figure is computed in the reader's browser by ``book/_static/adamlab-rules.js`` (the
rules, landscapes and moving averages of this package, line for line, checked against them by
tests/test_live_module.py) and drawn by ``book/_static/adamlab-live.js``. A cell returns the
figure's container: its settings as JSON and, inside it, a static picture of its first setting
for print and for readers without JavaScript. The site loads the scripts on the pages that have
such a container (book/_ext/live_figures.py).
"""

from __future__ import annotations

import base64
import io
import json
from html import escape

import matplotlib.pyplot as plt

from ..landscapes import LANDSCAPES
from ..rules import RULES
from . import analysis, ema_explorer, explorer

# The knobs' positions. Learning rate and epsilon span decades, and the betas matter through
# 1 - beta, so every slider steps through values spaced evenly on a log scale.
LR_VALUES = [m * 10.0**e for e in range(-4, 0) for m in (1, 2, 3, 5)] + [1.0]
BETA1_VALUES = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999]
BETA2_VALUES = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999]
EPS_VALUES = [10.0**e for e in range(-12, 0)]

EXPLORER_DEFAULTS = {
    "landscape": "rosenbrock",
    "rules": ["SGD", "Momentum", "RMSProp", "Adam", "AdaMax"],
    "lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "steps": 300,
}


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _container(kind: str, config: dict, png: str, alt: str, label: str):
    from IPython.display import HTML

    return HTML(
        f'<div class="adamlive" data-figure="{kind}" data-config="{escape(json.dumps(config))}" '
        f'aria-label="{escape(label)}" role="group">'
        f'<div class="adamlive-static"><img src="data:image/png;base64,{png}" '
        f'alt="{escape(alt)}"></div></div>'
    )


def explorer_figure(**settings):
    """The live trajectory explorer: every rule of RULES on every landscape of LANDSCAPES."""
    config = {**EXPLORER_DEFAULTS, **settings}
    config.update(
        all_rules=list(RULES), landscapes=list(LANDSCAPES), colors=explorer.COLORS,
        lr_values=LR_VALUES, beta1_values=BETA1_VALUES, beta2_values=BETA2_VALUES,
        eps_values=EPS_VALUES,
    )
    fig = plt.figure(figsize=(6.5, 4.5))
    explorer.draw_settings(fig, {"landscape": config["landscape"], "optimizers": config["rules"],
                                 "lr": config["lr"], "beta1": config["beta1"],
                                 "beta2": config["beta2"], "steps": config["steps"]})
    alt = (f"The paths of {', '.join(config['rules'])} on the {config['landscape']} landscape, "
           f"learning rate {config['lr']:g}, beta1 {config['beta1']:g}, beta2 "
           f"{config['beta2']:g}, {config['steps']} steps: the explorer's first setting.")
    return _container("explorer", config, _png(fig), alt, "Trajectory explorer")


def ema_figure(stream, truth: float, beta: float = 0.999, t: int = 20):
    """The live EMA explorer over beta and t, on the squared-gradient ``stream`` (mean ``truth``)."""
    stream = [float(x) for x in stream]
    config = {"stream": stream, "truth": float(truth), "beta": beta, "t": t,
              "beta_values": BETA2_VALUES}
    fig = plt.figure(figsize=(8.0, 3.2))
    ema_explorer.draw_explorer(fig, beta, t, stream, truth)
    alt = (f"For beta {beta:g} at step {t}: left, the weight v_t gives each squared gradient so "
           "far; right, the squared gradients as grey dots, the raw average (red) below the true "
           "value and the corrected average (green) near it.")
    return _container("ema", config, _png(fig), alt, "Moving-average explorer")


# The bias-correction figure's beta2 runs to 0.9999, where the uncorrected steps are largest;
# its beta1 stays below 1, where the step on a constant gradient is defined.
BIAS_BETA1_VALUES = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99]
BIAS_BETA2_VALUES = [0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999]


def bias_correction_figure(beta2: float = 0.999, beta1: float = 0.9, steps: int = 3000):
    """The live bias-correction figure (``analysis.draw_bias_correction``) over beta1 and beta2:
    the browser gets the noisy gradients and runs the EMA and the two Adam rules itself."""
    grads = analysis.bias_correction_gradients(steps)
    config = {"grads": grads.tolist(), "truth": 1.25, "beta1": beta1, "beta2": beta2,
              "beta1_values": BIAS_BETA1_VALUES, "beta2_values": BIAS_BETA2_VALUES}
    fig = plt.figure(figsize=(9, 3.2))
    analysis.draw_bias_correction(fig, beta2, beta1, steps)
    alt = (f"For beta1 {beta1:g} and beta2 {beta2:g}: left, the uncorrected second moment of a "
           "noisy gradient climbing from zero toward 1.25 while the corrected one sits near 1.25 "
           "from the start; right, the uncorrected step on a constant gradient, which starts at "
           "(1 - beta1) / sqrt(1 - beta2) times alpha, against the corrected step, flat at alpha.")
    return _container("bias", config, _png(fig), alt, "Bias-correction explorer")

