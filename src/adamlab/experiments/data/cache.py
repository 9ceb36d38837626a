"""A small store for arrays derived from the raw files (bag-of-words, whitening matrices).

An entry is an uncompressed ``.npz`` named by a hash of everything it was built from (the raw
file's checksum, the parameters, the format version), so changing any input builds a new entry.
It is written to a temporary file and renamed into place, so a reader never sees half of one,
and it carries a digest of its own contents: an entry that fails to read or to match its digest
is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pooch

from .files import data_dir, writable

ENV_CACHE = "ADAMLAB_CACHE"
FORMAT = 1  # bump when a builder's output changes for the same inputs
_DIGEST = "__digest__"


def _writable_dir(path: Path) -> bool:
    if not writable(path):
        return False
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return True


def cache_dir(root=None) -> Path:
    """``$ADAMLAB_CACHE`` if set, else ``<data dir>/.adamlab-cache`` if writable, else a user
    cache directory (the shared offline data directory is read-only)."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser().absolute()
    beside = data_dir(root) / ".adamlab-cache"
    if _writable_dir(beside):
        return beside
    return Path(pooch.os_cache("adamlab")).absolute() / "derived"


def key(**inputs) -> str:
    """A short stable hash of JSON-serialisable inputs."""
    text = json.dumps({"format": FORMAT, **inputs}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _read(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {name: z[name] for name in z.files}
    stored = str(arrays.pop(_DIGEST))
    if stored != _digest(arrays):
        raise ValueError("contents do not match the stored digest")
    return arrays


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays, **{_DIGEST: np.array(_digest(arrays))})
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; entries are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_build(name: str, inputs: dict, build: Callable[[], dict[str, np.ndarray]],
                  root=None) -> tuple[dict[str, np.ndarray], str, Path]:
    """The arrays for ``inputs``, from the cache or from ``build()`` (then stored).

    Returns ``(arrays, status, path)`` with status "hit", "built" or "rebuilt (...)".
    """
    path = cache_dir(root) / f"{name}-{key(**inputs)}.npz"
    status = "built"
    if path.exists():
        try:
            return _read(path), "hit", path
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            status = f"rebuilt (the cached entry was unreadable: {e})"
    arrays = build()
    try:
        _write(path, arrays)
    except OSError as e:
        warnings.warn(f"could not write the cache entry {path} ({e}); it will be built again "
                      f"next time. Set {ENV_CACHE} to a writable directory to keep it.",
                      stacklevel=2)
    return arrays, status, path
