"""The paper's experiments as data: one ``Figure`` per figure panel, two scales each.

``paper`` follows Kingma & Ba §6 (sizes, epochs, batch sizes) plus the settings a reproduction
must assume (see ``assumed``); its grids are our "dense grid" and it runs 3 seeds.
``cpu`` (Figs. 2-4 only) is the largest version a 2-core CPU finishes in hours: the paper's
networks and data sizes (all of MNIST; the offline CIFAR-10 subset), fewer epochs, a grid whose
best rates must lie inside it, 3 seeds. ``Scale.differs`` says what differs from the paper.
``quick`` uses a fixed random subset of the same real data, fewer epochs and a small grid, so
that a whole figure runs in about two minutes on a 2-core CPU.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from .train import RunConfig


@dataclass(frozen=True)
class Curve:
    """One optimizer in a panel; ``grid[scale]`` lists the values each hyperparameter takes."""

    label: str
    optimizer: str
    fixed: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)          # scale -> {hyper: (values...)}
    model_kw: dict = field(default_factory=dict)      # overrides of the figure's model_kw
    batch_size: int | None = None
    epochs: dict | None = None                        # scale -> epochs, when not the figure's
    constant_rate: bool = False                       # ignore the figure's schedule (ablations)
    scales: tuple[str, ...] | None = None             # run at these scales only (None: all)
    ablation: bool = False                            # not a curve of the paper's figure

    def runs_at(self, scale: str) -> bool:
        return self.scales is None or scale in self.scales


@dataclass(frozen=True)
class Scale:
    epochs: int
    seeds: tuple[int, ...]
    n_train: int | None = None
    eval_n: int | None = None
    report_epochs: tuple[int, ...] = ()               # Fig. 4: the epochs its panels show
    differs: str = ""                                 # what differs from the paper, in words
    last_batch: str | None = None                     # "merge": see train.batch_bounds


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    dataset: str
    model: str
    curves: tuple[Curve, ...]
    scales: dict
    model_kw: dict = field(default_factory=dict)
    batch_size: int = 128
    schedule: str | None = None
    points_per_epoch: int = 0
    log_vhat: bool = False
    stated: tuple[str, ...] = ()
    assumed: tuple[str, ...] = ()

    def paper_labels(self) -> list[str]:
        """The curves of the paper's figure (without our ablations)."""
        return [c.label for c in self.curves if not c.ablation]

    def setup_markdown(self, scale: str = "paper", also: tuple[str, ...] = ()) -> str:
        """A two-column table, stated vs assumed, and the grid of the scale (for chapters), then
        the grids of the scales in ``also`` (the paper's, beside a smaller scale's results)."""
        rows = max(len(self.stated), len(self.assumed))
        stated = list(self.stated) + [""] * (rows - len(self.stated))
        assumed = list(self.assumed) + [""] * (rows - len(self.assumed))
        lines = ["| stated in the paper | assumed by us |", "|---|---|"]
        lines += [f"| {a} | {b} |" for a, b in zip(stated, assumed, strict=True)]
        out = "\n".join(lines)
        for sc in dict.fromkeys((scale, *also)):
            grids = []
            for c in self.curves:
                if not c.runs_at(sc):
                    continue
                g = c.grid.get(sc, {})
                grids.append(f"{c.label}: " + ", ".join(
                    f"{k} ∈ {{{', '.join(_fmt(v) for v in vals)}}}" for k, vals in sorted(g.items())))
            out += f"\n\nGrid at the {sc} scale: " + "; ".join(grids) + "."
        return out

    def runs(self, scale: str, seeds=None, only: dict | None = None) -> list[RunConfig]:
        """Every run of the sweep: each curve x its grid x the seeds.

        ``only`` maps a curve label to one chosen setting (from ``tune``): then that curve runs
        just that setting.
        """
        if scale not in self.scales:
            raise ValueError(f"{self.name}: unknown scale {scale!r}; "
                             f"use one of {sorted(self.scales)}")
        sc = self.scales[scale]
        seeds = tuple(sc.seeds if seeds is None else seeds)
        out = []
        for c in self.curves:
            if not c.runs_at(scale):
                continue
            if only is not None and c.label in only:
                settings = [only[c.label]]
            else:
                grid = c.grid.get(scale, {})
                keys = sorted(grid)
                combos = itertools.product(*(grid[k] for k in keys))
                settings = [dict(zip(keys, vals, strict=True)) for vals in combos]
            for setting, seed in itertools.product(settings, seeds):
                out.append(RunConfig(
                    figure=self.name, label=c.label, dataset=self.dataset, model=self.model,
                    optimizer=c.optimizer, epochs=(c.epochs or {}).get(scale, sc.epochs),
                    seed=seed, batch_size=c.batch_size or self.batch_size,
                    model_kw={**self.model_kw, **c.model_kw}, opt_kw={**c.fixed, **setting},
                    schedule=None if c.optimizer == "LBFGS" or c.constant_rate else self.schedule,
                    n_train=sc.n_train, eval_n=sc.eval_n, points_per_epoch=self.points_per_epoch,
                    log_vhat=self.log_vhat and c.optimizer == "Adam", last_batch=sc.last_batch,
                ))
        return out


def _fmt(v) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_fmt(u) for u in v) + ")"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _lr(paper, quick, cpu=None):
    grid = {"paper": {"lr": tuple(paper)}, "quick": {"lr": tuple(quick)}}
    if cpu is not None:
        grid["cpu"] = {"lr": tuple(cpu)}
    return grid


NESTEROV = {"momentum": 0.9, "nesterov": True}
# The paper does not say whether its 1/sqrt(t) decay was applied to AdaGrad, whose own
# denominator already shrinks its steps; the figures apply it (our reading of Sec. 6.1), and
# this extra paper-scale curve, left out of the paper's layout, shows AdaGrad without it.
_ABLATION = {"constant_rate": True, "scales": ("paper",), "ablation": True}
ADADELTA = {"lr": 1.0, "rho": 0.95, "eps": 1e-6}

FIGURES: dict[str, Figure] = {}


def _add(fig: Figure) -> None:
    FIGURES[fig.name] = fig


_add(Figure(
    name="fig1-mnist", title="Logistic regression, MNIST (Fig. 1, left)",
    dataset="mnist", model="logreg", model_kw={"d_in": 784, "n_classes": 10, "l2": 1e-4},
    schedule="inv_sqrt",
    curves=(
        # the paper-scale grids reach past the best rate: each best must lie inside its grid
        Curve("Adam", "Adam", grid=_lr((1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0), (1e-2, 3e-2))),
        Curve("SGDNesterov", "SGD", NESTEROV,
              grid=_lr((0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0), (0.3, 1.0))),
        Curve("AdaGrad", "Adagrad", grid=_lr((0.01, 0.03, 0.1, 0.3, 1.0, 3.0), (0.1, 0.3))),
        Curve("AdaGrad, no decay", "Adagrad",
              grid={"paper": {"lr": (3e-3, 0.01, 0.03, 0.1, 0.3)}}, **_ABLATION),
    ),
    scales={"paper": Scale(epochs=45, seeds=(0, 1, 2)),
            "quick": Scale(epochs=8, seeds=(0, 1), n_train=12_000)},
    stated=("raw 784-pixel vectors, softmax regression with L2", "minibatch 128",
            "alpha_t = alpha / sqrt(t)", "Adam vs SGD with Nesterov momentum vs AdaGrad",
            "45 epochs, training negative log-likelihood"),
    assumed=("pixels scaled to [0, 1]", "L2 coefficient 1e-4 (cost includes it)",
             "zero initial weights", "t counts minibatch steps; 1/sqrt(t) for every optimizer (plus AdaGrad "
             "without it, at the paper scale)",
             "momentum 0.9", "the grid of base rates and the best-final-cost selection",
             "cost = full training set, evaluated after each epoch"),
))

_add(Figure(
    name="fig1-imdb", title="Logistic regression, IMDB bag-of-words + dropout (Fig. 1, right)",
    dataset="imdb", model="logreg",
    model_kw={"d_in": 10_000, "n_classes": 2, "l2": 1e-4, "input_dropout": 0.5},
    schedule="inv_sqrt",
    curves=(
        Curve("Adam+dropout", "Adam", grid=_lr((3e-3, 1e-2, 3e-2, 0.1, 0.3), (3e-2,))),
        Curve("AdaGrad+dropout", "Adagrad", grid=_lr((0.01, 0.03, 0.1, 0.3, 1.0), (0.1,))),
        Curve("RMSProp+dropout", "RMSprop",
              grid=_lr((3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3), (1e-2,))),
        Curve("SGDNesterov+dropout", "SGD", NESTEROV,
              grid=_lr((0.1, 0.3, 1.0, 3.0, 10.0), (1.0,))),
        Curve("AdaGrad+dropout, no decay", "Adagrad",
              grid={"paper": {"lr": (3e-3, 0.01, 0.03, 0.1, 0.3)}}, **_ABLATION),
    ),
    scales={"paper": Scale(epochs=160, seeds=(0, 1, 2)),
            "quick": Scale(epochs=6, seeds=(0, 1), n_train=4_000)},
    stated=("bag-of-words over the 10,000 most frequent words", "50% dropout on the features",
            "alpha_t = alpha / sqrt(t)", "curves: AdaGrad, RMSProp, SGDNesterov, Adam (+dropout)",
            "160 epochs"),
    assumed=("the 25,000 labelled training reviews, binary labels",
             "features as the data layer builds them (see its info)", "minibatch 128",
             "L2 coefficient 1e-4", "momentum 0.9", "the grid of base rates",
             "cost = full training set without dropout, after each epoch"),
))

_MLP_DROP = {"input_dropout": 0.2, "hidden_dropout": 0.5}
# The cpu and paper scales share their grids: four rates, the cpu scale's best strictly inside,
# so that a paper-scale best that moves one step either way is still seen as a best, not an edge.
_MLP_ADAGRAD = (3e-3, 1e-2, 3e-2, 0.1)
_MLP_RMSPROP = (3e-5, 1e-4, 3e-4, 1e-3)
_MLP_SGD = (0.01, 0.03, 0.1, 0.3)
_MLP_ADAM = (1e-4, 3e-4, 1e-3, 3e-3)
_add(Figure(
    name="fig2-dropout", title="MLP 784-1000-1000-10 + dropout, MNIST (Fig. 2a)",
    dataset="mnist", model="mlp", model_kw=_MLP_DROP,
    curves=(
        Curve("AdaGrad", "Adagrad",
              grid=_lr(_MLP_ADAGRAD, (1e-2, 3e-2), cpu=_MLP_ADAGRAD)),
        Curve("RMSProp", "RMSprop",
              grid=_lr(_MLP_RMSPROP, (3e-4, 1e-3), cpu=_MLP_RMSPROP)),
        Curve("SGDNesterov", "SGD", NESTEROV,
              grid=_lr(_MLP_SGD, (0.03, 0.1), cpu=_MLP_SGD)),
        Curve("AdaDelta", "Adadelta", {"rho": 0.95, "eps": 1e-6},
              grid=_lr((1.0,), (1.0,), cpu=(1.0,))),
        Curve("Adam", "Adam",
              grid=_lr(_MLP_ADAM, (3e-4, 1e-3), cpu=_MLP_ADAM)),
    ),
    scales={"paper": Scale(epochs=200, seeds=(0, 1, 2)),
            "cpu": Scale(epochs=20, seeds=(0, 1, 2),
                         differs="20 of the paper's 200 epochs; all 60,000 images"),
            "quick": Scale(epochs=3, seeds=(0,), n_train=2_000)},
    stated=("two hidden layers of 1000 ReLUs", "minibatch 128", "dropout",
            "AdaGrad, RMSProp, SGDNesterov, AdaDelta, Adam", "200 epochs, log-scale cost"),
    assumed=("dropout 0.2 on the input, 0.5 on the hidden layers", "no L2",
             "PyTorch's default initialization", "constant step sizes", "momentum 0.9",
             "AdaDelta rho 0.95, eps 1e-6", "cost = full training set without dropout"),
))

_add(Figure(
    name="fig2-deterministic",
    title="MLP, deterministic cost (cross-entropy + L2): Adam vs L-BFGS (Fig. 2b)",
    dataset="mnist", model="mlp", model_kw={"l2": 1e-4},
    curves=(
        Curve("Adam", "Adam", grid=_lr(_MLP_ADAM, (3e-4,), cpu=_MLP_ADAM)),
        # the stand-in for SFO: full-batch L-BFGS with a line search, one iteration per "epoch"
        Curve("L-BFGS (SFO stand-in)", "LBFGS",
              {"max_iter": 1, "max_eval": 10, "history_size": 20, "line_search_fn": "strong_wolfe"},
              grid=_lr((1.0,), (1.0,), cpu=(1.0,)), batch_size=60_000,
              epochs={"paper": 400, "cpu": 60, "quick": 10}),
    ),
    scales={"paper": Scale(epochs=45, seeds=(0, 1, 2)),
            "cpu": Scale(epochs=45, seeds=(0, 1, 2), n_train=10_000,
                         differs="10,000 of the 60,000 images; L-BFGS stands in for SFO"),
            "quick": Scale(epochs=5, seeds=(0,), n_train=1_000)},
    stated=("same MLP, no dropout, cross-entropy + L2 weight decay",
            "compared with SFO per iteration and per second"),
    assumed=("L-BFGS from torch.optim as the second-order stand-in for SFO (SFO itself is not "
             "a PyTorch optimizer)", "L-BFGS on the full (subset) batch, strong-Wolfe line "
             "search, one iteration per logged point", "L2 coefficient 1e-4"),
))

_CNN = {"input_dropout": 0.2, "fc_dropout": 0.5}
_NO = {"input_dropout": 0.0, "fc_dropout": 0.0}
# four rates each, a factor of ten either side of the rate commonly used, so that the best
# lands inside the grid (Adam's holds 1e-3); a rate that diverges stops early and costs little
_CNN_ADAGRAD = (1e-3, 3e-3, 1e-2, 3e-2)
_CNN_SGD = (3e-3, 1e-2, 3e-2, 0.1)
_CNN_ADAM = (1e-4, 3e-4, 1e-3, 3e-3)
_add(Figure(
    name="fig3", title="CNN c64-c64-c128-1000, CIFAR-10 (Fig. 3)",
    dataset="cifar10", model="cnn", points_per_epoch=2, log_vhat=True,
    curves=(
        Curve("AdaGrad", "Adagrad", model_kw=_NO, grid=_lr(_CNN_ADAGRAD, (1e-2,), cpu=_CNN_ADAGRAD)),
        Curve("AdaGrad+dropout", "Adagrad", model_kw=_CNN,
              grid=_lr(_CNN_ADAGRAD, (1e-2,), cpu=_CNN_ADAGRAD)),
        Curve("SGDNesterov", "SGD", NESTEROV, model_kw=_NO,
              grid=_lr(_CNN_SGD, (1e-2,), cpu=_CNN_SGD)),
        Curve("SGDNesterov+dropout", "SGD", NESTEROV, model_kw=_CNN,
              grid=_lr(_CNN_SGD, (1e-2,), cpu=_CNN_SGD)),
        Curve("Adam", "Adam", model_kw=_NO, grid=_lr(_CNN_ADAM, (3e-4,), cpu=_CNN_ADAM)),
        Curve("Adam+dropout", "Adam", model_kw=_CNN, grid=_lr(_CNN_ADAM, (3e-4,), cpu=_CNN_ADAM)),
    ),
    scales={"paper": Scale(epochs=45, seeds=(0, 1, 2)),
            # 8,068 = 63 x 128 + 4: the 4 left over join the epoch's last minibatch
            "cpu": Scale(epochs=10, seeds=(0, 1, 2), n_train=8_068, last_batch="merge",
                         differs="10 of the paper's 45 epochs; 8,068 training images (the "
                                 "offline subset) instead of 50,000, in 63 minibatches an "
                                 "epoch, the last of 132 images"),
            "quick": Scale(epochs=3, seeds=(0,), n_train=256)},
    stated=("whitened input", "5x5 convolutions, 3x3 max-pooling stride 2, c64-c64-c128-1000",
            "dropout on the input and the fully connected layer", "minibatch 128",
            "AdaGrad, SGDNesterov, Adam, with and without dropout", "45 epochs"),
    assumed=("ZCA whitening (the data layer's)", "'same' conv padding, pool padding 1, ReLU "
             "after each conv", "dropout 0.2 input, 0.5 FC", "no augmentation", "momentum 0.9",
             "cost = training set without dropout"),
))

_VAE_LR = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
_BETAS = ((0.0, 0.99), (0.0, 0.999), (0.0, 0.9999), (0.9, 0.99), (0.9, 0.999), (0.9, 0.9999))
_add(Figure(
    name="fig4", title="Bias-correction ablation, VAE on MNIST (Fig. 4)",
    dataset="mnist", model="vae", batch_size=100,
    curves=(
        Curve("Adam", "Adam", {"bias_correction": True},
              grid={"paper": {"betas": _BETAS, "lr": _VAE_LR}, "cpu": {"betas": _BETAS, "lr": _VAE_LR},
                    "quick": {"betas": _BETAS, "lr": (1e-4, 1e-3, 1e-2, 1e-1)}}),
        Curve("Adam (no bias correction)", "Adam", {"bias_correction": False},
              grid={"paper": {"betas": _BETAS, "lr": _VAE_LR}, "cpu": {"betas": _BETAS, "lr": _VAE_LR},
                    "quick": {"betas": _BETAS, "lr": (1e-4, 1e-3, 1e-2, 1e-1)}}),
    ),
    scales={"paper": Scale(epochs=100, seeds=(0, 1, 2), report_epochs=(10, 100)),
            "cpu": Scale(epochs=10, seeds=(0, 1, 2), report_epochs=(1, 10),
                         differs="10 of the paper's 100 epochs: the paper's left panel in full"),
            "quick": Scale(epochs=3, seeds=(0,), n_train=500, report_epochs=(1, 3))},
    stated=("VAE, 500 softplus hidden units, 50-d Gaussian latent",
            "beta1 in {0, 0.9}, beta2 in {0.99, 0.999, 0.9999}, log10 alpha in {-5..-1}",
            "with and without bias correction (both moments)", "loss after 10 and 100 epochs"),
    assumed=("MNIST with a Bernoulli decoder on [0, 1] intensities", "minibatch 100",
             "loss = negative ELBO per example on the training set (one sample), after each epoch",
             "eps 1e-8", "the 5 integer exponents of alpha"),
))


def get(name: str) -> Figure:
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; `adamlab list` shows them: {sorted(FIGURES)}")
    return FIGURES[name]
