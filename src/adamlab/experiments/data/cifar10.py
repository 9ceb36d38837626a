"""CIFAR-10 (Krizhevsky 2009), ZCA-whitened with statistics of the training images.

Two sources: the published archive ``cifar10/cifar-10-python.tar.gz`` (50,000 + 10,000
images), or the offline exact subset ``cifar10-subset/cifar10_subset.npz`` (8,068 + 1,017
images). A Dataset built from the subset says so: ``info["complete"]`` is False and
``info["notes"]`` states the sizes, to be repeated wherever it is used.
"""

from __future__ import annotations

import pickle
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from . import cache
from .dataset import DataError, Dataset
from .files import FILES, fetch, present

WHITENINGS = ("zca", "standardize", "none")
_SHAPE = (3, 32, 32)
_SUBSET_ARRAYS = {"x_train": np.uint8, "y_train": np.int64, "x_test": np.uint8,
                  "y_test": np.int64, "label_names": np.str_}


def read_subset(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of ``cifar10_subset.npz``, images turned from HWC into CHW (N, 3, 32, 32)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: cannot be read as an .npz archive ({type(e).__name__}: {e}). "
                        "The file is truncated or corrupt: delete it and copy it again.") from e
    for name, kind in _SUBSET_ARRAYS.items():
        a = arrays.get(name)
        if a is None or not np.issubdtype(a.dtype, kind):
            raise DataError(f"{path}: expected an array {name!r} of type {np.dtype(kind).name}; "
                            f"found {None if a is None else a.dtype}. Not the CIFAR-10 subset "
                            "file described in cifar10-subset/README.md.")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape[1:] != (32, 32, 3) or len(x) != len(y):
            raise DataError(f"{path}: expected x_{split} (N, 32, 32, 3) and y_{split} (N,), "
                            f"found {x.shape} and {y.shape}.")
        arrays[f"x_{split}"] = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return arrays


def read_archive(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of the published ``cifar-10-python.tar.gz`` (Python pickles inside).

    The pickles are loaded only from an archive whose md5 matched the published one, since
    unpickling runs code from the file.
    """
    path = Path(path)
    batches = {f"cifar-10-batches-py/data_batch_{i}": "train" for i in range(1, 6)}
    batches["cifar-10-batches-py/test_batch"] = "test"
    parts = {"train": [], "test": []}
    names = None
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.name in batches or member.name.endswith("batches.meta"):
                    blob = pickle.load(tar.extractfile(member), encoding="bytes")
                    if member.name.endswith("batches.meta"):
                        names = np.array([n.decode() for n in blob[b"label_names"]])
                    else:
                        parts[batches[member.name]].append((member.name, blob))
    except (OSError, EOFError, zlib.error, tarfile.TarError, pickle.UnpicklingError) as e:
        raise DataError(f"{path}: cannot be read ({type(e).__name__}: {e}). The archive is "
                        "truncated or corrupt: delete it and download it again.") from e
    if len(parts["train"]) != 5 or len(parts["test"]) != 1 or names is None:
        raise DataError(f"{path}: expected data_batch_1..5, test_batch and batches.meta under "
                        "cifar-10-batches-py/. Delete it and download it again.")
    out = {"label_names": names}
    for split, named in parts.items():
        blobs = [blob for _, blob in sorted(named, key=lambda nb: nb[0])]  # data_batch_1, 2, ...
        out[f"x_{split}"] = np.concatenate([b[b"data"] for b in blobs]).reshape(-1, *_SHAPE)
        out[f"y_{split}"] = np.concatenate([b[b"labels"] for b in blobs]).astype(np.int64)
    return out


def zca_fit(x: np.ndarray, eps: float) -> dict[str, np.ndarray]:
    """ZCA whitening of rows ``x`` (N, D): the mean and the symmetric matrix
    W = U diag(1/sqrt(lambda + eps)) U^T from the eigendecomposition C = U diag(lambda) U^T of
    the covariance. (x - mean) @ W has covariance close to the identity (exactly the identity
    at eps = 0) and, unlike PCA whitening, stays as close as possible to x, so whitened
    images still look like images, with their edges emphasised.
    """
    x = np.asarray(x, dtype=np.float64)
    n, dim = x.shape
    mean = x.mean(axis=0)
    centered = x - mean
    if n >= dim:
        eigenvalues, eigenvectors = np.linalg.eigh(centered.T @ centered / n)
        scale = 1.0 / np.sqrt(np.clip(eigenvalues, 0.0, None) + eps)
        w = (eigenvectors * scale) @ eigenvectors.T
    else:
        # Fewer images than pixels: C has rank < D, its eigenvectors with nonzero eigenvalues
        # come from a thin SVD of the data, and all others have eigenvalue 0, so they are
        # scaled by 1/sqrt(eps). Same W as above, at a fraction of the cost.
        if eps <= 0:
            raise ValueError(f"ZCA of {n} samples in {dim} dimensions needs eps > 0")
        _, singular, vt = np.linalg.svd(centered, full_matrices=False)
        top = singular**2 / n
        w = (vt.T * (1.0 / np.sqrt(top + eps) - 1.0 / np.sqrt(eps))) @ vt
        w[np.diag_indices(dim)] += 1.0 / np.sqrt(eps)
        eigenvalues = np.sort(np.concatenate([top, np.zeros(dim - len(top))]))
    return {"mean": mean.astype(np.float32), "w": w.astype(np.float32),
            "eigenvalues": eigenvalues}


def _source(subset: bool | None, root) -> str:
    if subset is True:
        return "cifar10-subset"
    if subset is False or present("cifar10-full", root) or not present("cifar10-subset", root):
        return "cifar10-full"
    return "cifar10-subset"


def load_cifar10(root=None, whiten: str = "zca", subset: bool | None = None,
                 zca_eps: float = 1e-2, download: bool = True) -> Dataset:
    """CIFAR-10: x float32 (N, 3, 32, 32), y int64 in 0..9.

    Pixels are first scaled to [0, 1]. ``whiten="zca"`` (the default) then ZCA-whitens every
    image with the mean and covariance of the *training* images (regularised by ``zca_eps``
    added to the eigenvalues); ``"standardize"`` subtracts each channel's training mean and
    divides by its standard deviation; ``"none"`` keeps [0, 1]. The whitening matrix is
    computed once and cached.

    ``subset=None`` uses the published archive when it is in the data directory, else the
    offline subset when that is, else downloads the archive; ``subset=False`` insists on the
    complete dataset and ``subset=True`` on the subset.
    """
    if whiten not in WHITENINGS:
        raise ValueError(f"whiten must be one of {WHITENINGS}, got {whiten!r}")
    if not zca_eps >= 0:
        raise ValueError(f"zca_eps must be >= 0, got {zca_eps!r}")
    key = _source(subset, root)
    path = fetch(key, root, download)
    raw = FILES[key]
    arrays = read_subset(path) if key == "cifar10-subset" else read_archive(path)
    x_train = torch.from_numpy(arrays["x_train"]).float().div_(255)
    x_test = torch.from_numpy(arrays["x_test"]).float().div_(255)
    info = {"cache": None}
    if whiten == "zca":
        fit, info["cache"], entry = cache.load_or_build(
            "cifar10-zca", {"source": raw.sha256 or raw.md5, "eps": zca_eps},
            lambda: zca_fit(x_train.flatten(1).numpy(), zca_eps), root)
        info["cache_path"] = str(entry)
        mean, w = torch.from_numpy(fit["mean"]), torch.from_numpy(fit["w"])
        x_train, x_test = ((x.flatten(1) - mean) @ w for x in (x_train, x_test))
        x_train, x_test = x_train.view(-1, *_SHAPE), x_test.view(-1, *_SHAPE)
    elif whiten == "standardize":
        mean = x_train.mean(dim=(0, 2, 3), keepdim=True)
        std = x_train.std(dim=(0, 2, 3), keepdim=True)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    y_train = torch.from_numpy(arrays["y_train"])
    y_test = torch.from_numpy(arrays["y_test"])
    complete = key == "cifar10-full"
    n_train, n_test = len(y_train), len(y_test)
    how = {"zca": f"ZCA-whitened (eps {zca_eps:g}) with training-set statistics",
           "standardize": "standardized per channel with training-set statistics",
           "none": "pixels scaled to [0, 1], not whitened"}[whiten]
    if complete:
        notes = f"CIFAR-10, complete ({n_train:,} train / {n_test:,} test); {how}."
    else:
        notes = (f"CIFAR-10 EXACT SUBSET: {n_train:,} of the 50,000 training and {n_test:,} of "
                 f"the 10,000 test images (cifar10-subset/README.md); {how}. Not the full "
                 "dataset: results are not comparable with published CIFAR-10 numbers.")
    info.update({
        "source": str(path), "url": FILES["cifar10-full"].urls[0], "complete": complete,
        "n_train": n_train, "n_test": n_test, "whiten": whiten,
        "classes": [str(n) for n in arrays["label_names"]], "notes": notes,
    })
    return Dataset("cifar10", x_train.contiguous(), y_train, x_test.contiguous(), y_test, info)
