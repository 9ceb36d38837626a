"""The datasets of the paper's experiments: MNIST, IMDB bag-of-words, CIFAR-10.

Every loader returns a :class:`Dataset` of torch tensors and raises :class:`DataError` (naming
the file, what was expected and the fix) when a file is missing, truncated or corrupt; nothing
is ever substituted silently. Files come from the data directory (``root``, else
``$ADAMLAB_DATA``, else a user cache directory) or, where there is internet, are downloaded
there with ``pooch`` and checked against their published checksums.
"""

from .cifar10 import load_cifar10, zca_fit
from .dataset import DataError, Dataset
from .files import FILES, check, data_dir, format_check
from .imdb import load_imdb, tokenize
from .mnist import load_mnist, read_idx

__all__ = ["DataError", "Dataset", "FILES", "check", "data_dir", "format_check",
           "load_cifar10", "zca_fit", "load_imdb", "load_mnist", "read_idx", "tokenize"]

_LOADERS = {"mnist": load_mnist, "imdb": load_imdb, "cifar10": load_cifar10}


def load(name: str, root=None, **kw) -> Dataset:
    """Load a dataset by name ("mnist", "imdb", "cifar10"); ``kw`` go to its loader."""
    try:
        loader = _LOADERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(_LOADERS)}") from None
    return loader(root=root, **kw)


__all__ += ["load"]
