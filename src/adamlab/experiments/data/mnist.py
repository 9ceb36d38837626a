"""MNIST from the four original IDX files."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from .dataset import DataError, Dataset
from .files import FILES, fetch

_UBYTE = 0x08  # the IDX type code of unsigned bytes, the only type MNIST uses


def read_idx(path: str | Path) -> np.ndarray:
    """Parse a gzipped IDX file (big-endian header: two zero bytes, a type code, the number
    of dimensions, then one uint32 per dimension; then the data) into a uint8 array."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot be decompressed ({type(e).__name__}: {e}); expected a "
                        "gzipped IDX file. The file is truncated or corrupt: delete it and "
                        "get it again.") from e
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != _UBYTE:
        raise DataError(f"{path}: not an unsigned-byte IDX file (expected the magic bytes "
                        f"00 00 08 xx, found {raw[:4].hex(' ')}). Delete it and get it again.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: the IDX header is cut short. Delete it and get it again.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise DataError(f"{path}: the header promises shape {dims} ({expected:,} bytes in all) "
                        f"but the file holds {len(raw):,} bytes. Delete it and get it again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _split(images: Path, labels: Path) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{images} and {labels}: expected images (N, 28, 28) and labels (N,), "
                        f"found {x.shape} and {y.shape}. Delete them and get them again.")
    if y.max() > 9:
        raise DataError(f"{labels}: labels must be digits 0-9, found {int(y.max())}.")
    x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / np.float32(255))
    return x, torch.from_numpy(y.astype(np.int64))


def load_mnist(root=None, download: bool = True) -> Dataset:
    """MNIST: x float32 (N, 784), the raw pixels divided by 255 so they lie in [0, 1], y int64.

    60,000 training and 10,000 test images, read from the four original IDX files after their
    sizes and checksums have been verified.
    """
    paths = {k: fetch(k, root, download) for k in FILES if k.startswith("mnist-")}
    x_train, y_train = _split(paths["mnist-train-images"], paths["mnist-train-labels"])
    x_test, y_test = _split(paths["mnist-test-images"], paths["mnist-test-labels"])
    return Dataset("mnist", x_train, y_train, x_test, y_test, info={
        "source": str(paths["mnist-train-images"].parent),
        "url": FILES["mnist-train-images"].urls[0],
        "complete": True, "n_train": len(y_train), "n_test": len(y_test),
        "notes": "MNIST, complete (60,000 train / 10,000 test); pixels scaled to [0, 1].",
    })
