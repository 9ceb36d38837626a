"""The paper's four models, each with the objective it is trained on.

Every model has ``objective(x, y) -> per-example loss`` (a 1-D tensor, the training cost
without regularization) and ``penalty()`` (the L2 term, zero when there is none). The training
loop minimizes ``objective(x, y).mean() + penalty()`` and reports the same quantity.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class _Model(nn.Module):
    l2: float = 0.0

    def penalty(self) -> torch.Tensor:
        """(lambda / 2) * sum of squared weights (biases are not penalized)."""
        if not self.l2:
            return torch.zeros((), device=next(self.parameters()).device)
        total = sum((p * p).sum() for name, p in self.named_parameters() if name.endswith("weight"))
        return 0.5 * self.l2 * total

    def objective(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(x), y, reduction="none")


class LogisticRegression(_Model):
    """Multiclass (softmax) logistic regression with L2 and optional input dropout (IMDB)."""

    def __init__(self, d_in: int, n_classes: int, l2: float = 1e-4, input_dropout: float = 0.0):
        super().__init__()
        self.linear = nn.Linear(d_in, n_classes)
        self.drop = nn.Dropout(input_dropout)
        self.l2 = l2
        nn.init.zeros_(self.linear.weight)  # convex problem: start every optimizer at zero
        nn.init.zeros_(self.linear.bias)

    def forward(self, x):
        # Bag-of-words rows with dropout on a CPU: touch only the non-zeros. Without dropout
        # (evaluation) one dense product over a chunk is about 4x faster than gathering them,
        # and on a GPU the dense path avoids nonzero(), which waits for the device every step.
        if (not x.is_floating_point() and self.training and self.drop.p > 0
                and x.device.type == "cpu"):
            return self._sparse_forward(x)
        return self.linear(self.drop(x.float()))

    def _sparse_forward(self, x):
        """Same function and same dropout distribution as the dense path, for sparse rows.

        Dropout leaves zeros at zero, so masking only the non-zero entries is exact; an IMDB
        minibatch has about 1% non-zeros, which makes this several times faster than casting
        128 x 10,000 entries to float and drawing a mask for each.
        """
        rows, cols = x.nonzero(as_tuple=True)  # row-major: rows come sorted
        vals = x[rows, cols].float()
        p = self.drop.p
        if self.training and p > 0:
            vals = vals * (torch.rand(vals.shape, device=x.device) >= p) / (1.0 - p)
        counts = torch.bincount(rows, minlength=len(x))
        offsets = torch.cumsum(counts, 0) - counts
        out = F.embedding_bag(cols, self.linear.weight.t(), offsets, mode="sum",
                              per_sample_weights=vals)
        return out + self.linear.bias


class MLP(_Model):
    """784-1000-1000-10 with ReLUs; dropout on the input and the hidden layers when asked."""

    def __init__(self, d_in: int = 784, hidden: int = 1000, n_classes: int = 10,
                 input_dropout: float = 0.0, hidden_dropout: float = 0.0, l2: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(input_dropout), nn.Linear(d_in, hidden), nn.ReLU(),
            nn.Dropout(hidden_dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Dropout(hidden_dropout), nn.Linear(hidden, n_classes),
        )
        self.l2 = l2

    def forward(self, x):
        return self.net(x.float())


class CNN(_Model):
    """c64-c64-c128-1000: three stages of 5x5 conv + ReLU + 3x3 max-pool (stride 2), then FC 1000.

    Padding is assumed ("same" for the convolutions, 1 for the pools) so that 32 -> 16 -> 8 -> 4
    and the flattened feature map has 128 * 4 * 4 = 2048 entries.
    """

    def __init__(self, n_classes: int = 10, input_dropout: float = 0.0, fc_dropout: float = 0.0,
                 channels: tuple[int, int, int] = (64, 64, 128), fc: int = 1000):
        super().__init__()
        layers: list[nn.Module] = [nn.Dropout(input_dropout)]
        c_in = 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * 4 * 4, fc), nn.ReLU(), nn.Dropout(fc_dropout),
            nn.Linear(fc, n_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x.float()))


class VAE(_Model):
    """Kingma & Welling's MNIST VAE: 784-500-(50, 50) encoder, 50-500-784 Bernoulli decoder.

    ``objective`` is the negative ELBO per example (nats), estimated with one reparameterized
    sample; the pixel intensities in [0, 1] are the Bernoulli targets.
    """

    def __init__(self, d_in: int = 784, hidden: int = 500, latent: int = 50):
        super().__init__()
        self.enc = nn.Linear(d_in, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.Softplus(), nn.Linear(hidden, d_in))

    def forward(self, x):
        h = F.softplus(self.enc(x.float()))
        return self.mu(h), self.logvar(h)

    def objective(self, x, y=None):
        x = x.float()
        mu, logvar = self(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        rec = F.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
        return rec + kl


MODELS = {"logreg": LogisticRegression, "mlp": MLP, "cnn": CNN, "vae": VAE}


def build(name: str, **kw) -> _Model:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](**kw)
