"""IMDB movie reviews (Maas et al. 2011) as bag-of-words vectors.

Tokenization: lowercase, replace the ``<br />`` line breaks by spaces, and take as words the
runs of letters, digits and apostrophes, with apostrophes kept only *inside* a word (so
``don't`` is one word and ``'great'`` is ``great``). "Letters" and "digits" are Unicode ones.
The vocabulary is the ``vocab_size`` words that occur most often in the 25,000 *training*
reviews (total occurrences; ties broken alphabetically), so no test review influences it.
"""

from __future__ import annotations

import gzip
import io
import itertools
import re
import tarfile
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from . import cache
from .dataset import DataError, Dataset
from .files import FILES, fetch, present

TOKENIZER = "lower; <br /> -> space; [^\\W_]+('[^\\W_]+)*"  # part of the cache key
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_REVIEW = re.compile(r"aclImdb/(train|test)/(neg|pos)/(\d+)_(\d+)\.txt")
_SPLITS = ("train", "test")
_N_PER_CLASS = 12_500  # reviews per split and class in the published dataset


def tokenize(text: str) -> list[str]:
    """The words of one review, as described in the module docstring."""
    return _WORD.findall(_BREAK.sub(" ", text).lower())


IN_MEMORY_LIMIT = 64 << 20  # compressed bytes; the published archive (84 MB) is streamed


def _files(path: Path):
    """(name, read) for each regular file of a .tar.gz; read() returns its bytes."""
    if path.stat().st_size <= IN_MEMORY_LIMIT:
        # The offline copy unpacks to ~110 MB: reading it whole and slicing is twice as fast
        # as 50,000 small reads.
        data = gzip.decompress(path.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for m in tar:
                if m.isfile():
                    yield m.name, lambda m=m: data[m.offset_data:m.offset_data + m.size]
    else:
        # The published archive also holds 50,000 unlabelled reviews and the .feat files
        # (~500 MB unpacked): stream it, reading only what is asked for.
        with gzip.open(path, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for m in tar:
                if m.isfile():
                    yield m.name, lambda m=m: tar.extractfile(m).read()
            while stream.read(1 << 20):  # to the end, where gzip checks length and CRC
                pass


def read_reviews(path: str | Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """The labelled reviews in an aclImdb archive: ``{split: (texts, labels)}``.

    Labels are 0 for negative and 1 for positive. Within a split, reviews are ordered by
    label, then by their numeric id, whatever the order inside the archive. Unlabelled reviews
    (``train/unsup``) and all other files are skipped.
    """
    path = Path(path)
    found = []
    try:
        for name, body in _files(path):
            match = _REVIEW.fullmatch(name)
            if match:
                split, label, number, _ = match.groups()
                found.append((split, label == "pos", int(number), body()))
    except (OSError, EOFError, zlib.error, tarfile.TarError) as e:
        raise DataError(f"{path}: cannot be read as a gzipped tar archive ({type(e).__name__}: "
                        f"{e}). The file is truncated or corrupt: delete it and get it "
                        "again.") from e
    found.sort(key=lambda r: (r[0], r[1], r[2]))
    out = {}
    for split in _SPLITS:
        rows = [r for r in found if r[0] == split]
        if not rows:
            raise DataError(f"{path}: no reviews under aclImdb/{split}/pos or aclImdb/{split}/neg;"
                            " expected the layout of aclImdb_v1.tar.gz. Get the published archive.")
        try:
            texts = [r[3].decode("utf-8") for r in rows]
        except UnicodeDecodeError as e:
            raise DataError(f"{path}: a review in {split}/ is not valid UTF-8 ({e}); the archive "
                            "is corrupt. Delete it and get it again.") from e
        out[split] = (texts, np.array([r[1] for r in rows], dtype=np.int64))
    return out


def bag_of_words(splits: dict[str, tuple[list[str], np.ndarray]], vocab_size: int
                 ) -> dict[str, np.ndarray]:
    """Word counts per review over the ``vocab_size`` most frequent training words, sparse.

    Returns arrays ``vocab``; and per split ``{split}_indptr``, ``{split}_cols``,
    ``{split}_counts`` (compressed sparse rows: review i has counts[indptr[i]:indptr[i+1]] of
    the words cols[...]) and ``{split}_labels``.
    """
    # One id per distinct word, in order of first appearance; defaultdict + count keep the
    # mapping loop in C, which is most of the build time.
    ids = defaultdict(itertools.count().__next__)
    encoded = {}
    for split in _SPLITS:
        docs = [tokenize(text) for text in splits[split][0]]
        encoded[split] = [np.fromiter(map(ids.__getitem__, d), np.int64, len(d)) for d in docs]
    words = np.array(list(ids), dtype=str)
    freq = np.bincount(np.concatenate(encoded["train"]), minlength=len(words))
    k = min(vocab_size, int((freq > 0).sum()))
    order = np.lexsort((words, -freq))[:k]  # by frequency, then alphabetically
    column = np.full(len(words), -1, dtype=np.int64)
    column[order] = np.arange(k)

    out = {"vocab": np.array(words[order].tolist(), dtype=str)}  # narrowest string dtype
    for split in _SPLITS:
        docs = encoded[split]
        row = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        col = column[np.concatenate(docs)]
        keep = col >= 0
        cells, counts = np.unique(row[keep] * k + col[keep], return_counts=True)
        out[f"{split}_indptr"] = np.concatenate(
            [[0], np.cumsum(np.bincount(cells // k, minlength=len(docs)))]).astype(np.int64)
        out[f"{split}_cols"] = (cells % k).astype(np.int32)
        out[f"{split}_counts"] = counts.astype(np.uint16)  # a review has a few thousand words
        out[f"{split}_labels"] = splits[split][1]
    return out


def _dense(indptr, cols, counts, k: int, binary: bool) -> torch.Tensor:
    n = len(indptr) - 1
    rows = np.repeat(np.arange(n), np.diff(indptr))
    if binary or counts.max() <= 255:
        dtype = torch.uint8
    else:
        dtype = torch.int16
    x = torch.zeros(n * k, dtype=dtype)
    values = np.ones_like(counts) if binary else counts
    x[torch.from_numpy(rows * k + cols)] = torch.from_numpy(values.astype(np.int16)).to(dtype)
    return x.view(n, k)


def _archive(root, download: bool) -> tuple[str, Path]:
    for key in ("imdb-full", "imdb-labeled"):  # either holds all the labelled reviews
        if present(key, root):
            return key, fetch(key, root, download=False)
    return "imdb-full", fetch("imdb-full", root, download)


def load_imdb(root=None, vocab_size: int = 10_000, binary: bool = True,
              download: bool = True) -> Dataset:
    """IMDB reviews as bag-of-words rows over the ``vocab_size`` most frequent training words.

    x is (N, vocab_size) uint8: by default (``binary=True``) 1 where the word occurs in the
    review and 0 elsewhere; with ``binary=False``, the number of occurrences (int16 if a
    count exceeds 255). Cast minibatches to float32 for training. y is 1 for positive
    reviews (rated 7-10) and 0 for negative ones (rated 1-4). 25,000 training and 25,000 test
    reviews, each class exactly half. See the module docstring for the tokenization.
    The bag-of-words is built once (seconds) and then read from the cache.
    """
    if not isinstance(vocab_size, int) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    key, path = _archive(root, download)
    raw = FILES[key]
    arrays, status, entry = cache.load_or_build(
        "imdb-bow", {"archive": raw.sha256, "vocab_size": vocab_size, "tokenizer": TOKENIZER},
        lambda: bag_of_words(read_reviews(path), vocab_size), root)
    k = len(arrays["vocab"])
    x = {s: _dense(arrays[f"{s}_indptr"], arrays[f"{s}_cols"], arrays[f"{s}_counts"], k, binary)
         for s in _SPLITS}
    y = {s: torch.from_numpy(arrays[f"{s}_labels"].astype(np.int64)) for s in _SPLITS}
    balanced = all(int(y[s].sum()) == _N_PER_CLASS and len(y[s]) == 2 * _N_PER_CLASS
                   for s in _SPLITS)
    features = "binary word presence" if binary else "word counts"
    return Dataset("imdb", x["train"], y["train"], x["test"], y["test"], info={
        "source": str(path), "url": FILES["imdb-full"].urls[0],
        "complete": balanced, "n_train": len(y["train"]), "n_test": len(y["test"]),
        "vocab": [str(w) for w in arrays["vocab"]], "binary": binary,
        "cache": status, "cache_path": str(entry),
        "notes": (f"IMDB labelled reviews ({len(y['train']):,} train / {len(y['test']):,} test), "
                  f"{features} over the {k:,} most frequent training words."),
    })
