"""The datasets of the paper's experiments: MNIST, IMDB bag-of-words, CIFAR-10.

Every loader returns a :class:`Dataset` of torch tensors and raises :class:`DataError` (naming
the file, what was expected and the fix) when a file is missing, truncated or corrupt; nothing
is ever substituted silently. Files come from the data directory (``root``, else
``$ADAMLAB_DATA``, else a user cache directory) or, where there is internet, are downloaded
there with ``pooch`` and checked against their published checksums. Derived arrays (the IMDB
bag-of-words, the ZCA matrix) are cached, see :mod:`.cache`.

Which choices are the paper's ([S], stated in Kingma & Ba 2015, Section 6) and which are ours
([A], the paper does not say; see paper-spec.md section 2):

MNIST (Fig. 1 left, Fig. 2; Fig. 4's VAE data is itself [A] MNIST)
  [S] the 784-dimensional raw image vectors; the official 60,000 / 10,000 split.
  [A] pixels divided by 255 into [0, 1], nothing else (no centring); no binarization here.
IMDB (Fig. 1 right)
  [S] bag-of-words over the 10,000 most frequent words; "highly sparse".
  [S] 50% dropout noise on these features: applied by the model during training, not here.
  [A] the 25,000 labelled training reviews train, the 25,000 test reviews test; labels
      1 = positive (rated 7-10), 0 = negative (1-4); the unlabelled reviews are not used.
  [A] the vocabulary counts total occurrences in the training reviews only (ties
      alphabetical); tokenization as in :mod:`.imdb`; binary presence by default
      (``binary=False`` gives counts).
CIFAR-10 (Fig. 3)
  [S] "pre-processed by whitening".
  [A] ZCA whitening of the [0, 1] pixels with the training images' mean and covariance,
      eigenvalues regularised by adding eps = 0.01, so that the many near-zero directions
      (pixel noise) are not blown up; no contrast normalisation, no augmentation.
  Offline, only an exact subset of 8,068 train / 1,017 test images exists; a Dataset built
  from it has ``info["complete"] = False`` and says so in ``info["notes"]``.
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
