"""The container every loader returns, and the one error every loader raises."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


class DataError(Exception):
    """A data file is missing, truncated or corrupt.

    The message always names the file, what was expected of it (size, checksum or format) and
    how to fix the problem. Loaders never fall back to other data when they raise this.
    """


@dataclass(repr=False)
class Dataset:
    """A train/test split held as tensors.

    ``y_*`` are int64 class indices. ``info`` says where the data came from and how it was
    prepared: ``source`` (the file(s) read), ``url`` (the canonical download address),
    ``complete`` (False when this is only part of the published dataset), ``n_train``,
    ``n_test`` and ``notes`` (a sentence to repeat wherever the data is used).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    info: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def __repr__(self) -> str:
        def shape(t):
            return f"{tuple(t.shape)} {str(t.dtype).replace('torch.', '')}"

        subset = "" if self.info.get("complete", True) else ", SUBSET"
        return (f"Dataset({self.name!r}{subset}: x_train {shape(self.x_train)}, "
                f"y_train {shape(self.y_train)}, x_test {shape(self.x_test)}, "
                f"y_test {shape(self.y_test)})")
