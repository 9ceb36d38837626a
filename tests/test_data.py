"""The datasets layer: parsers on small files made here, checksums and the errors for missing,
truncated or corrupt files, the derived-array cache, the download path (simulated: no test
touches the network), and the real datasets when ADAMLAB_DATA points at them."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import socket
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from adamlab.experiments import data
from adamlab.experiments.data import DataError, cache, cifar10, files, imdb


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a data test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def root(tmp_path, monkeypatch):
    """An empty data directory with its own cache, and no ADAMLAB_DATA to fall back on."""
    monkeypatch.delenv("ADAMLAB_DATA", raising=False)
    monkeypatch.setenv("ADAMLAB_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "data"
    d.mkdir()
    return d


def register(monkeypatch, key: str, path: Path) -> None:
    """Make ``path`` the published version of FILES[key], as far as the checks go."""
    raw = files.FILES[key]
    monkeypatch.setitem(files.FILES, key, dataclasses.replace(
        raw, size=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        md5=None))


def put(root: Path, key: str, content: bytes, monkeypatch=None) -> Path:
    path = root / files.FILES[key].relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if monkeypatch is not None:
        register(monkeypatch, key, path)
    return path


# ---------------------------------------------------------------- MNIST


def idx_bytes(a: np.ndarray) -> bytes:
    a = np.asarray(a, dtype=np.uint8)
    header = bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return gzip.compress(header + a.tobytes())


def tiny_mnist(root, monkeypatch, n_train=12, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"train-images": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels": rng.integers(0, 10, n_train),
              "test-images": rng.integers(0, 256, (n_test, 28, 28)),
              "test-labels": rng.integers(0, 10, n_test)}
    for name, a in arrays.items():
        put(root, f"mnist-{name}", idx_bytes(a), monkeypatch)
    return arrays


def test_read_idx_returns_the_array_written(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / "a.gz"
    p.write_bytes(idx_bytes(a))
    out = data.read_idx(p)
    assert out.shape == (2, 3, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, a)


def test_read_idx_rejects_truncated_and_malformed_files(tmp_path):
    good = idx_bytes(np.zeros((4, 28, 28)))
    p = tmp_path / "cut.gz"
    p.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="cannot be decompressed.*truncated or corrupt"):
        data.read_idx(p)
    p.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"1234"))
    with pytest.raises(DataError, match="not an unsigned-byte IDX file.*00 00 0d 01"):
        data.read_idx(p)
    raw = gzip.decompress(good)
    p.write_bytes(gzip.compress(raw[:-10]))  # header intact, data short
    with pytest.raises(DataError, match=r"header promises shape \(4, 28, 28\)"):
        data.read_idx(p)


def test_load_mnist_scales_pixels_and_keeps_labels(root, monkeypatch):
    a = tiny_mnist(root, monkeypatch)
    d = data.load_mnist(root)
    assert d.name == "mnist" and d.info["complete"] and d.info["n_train"] == 12
    assert d.x_train.shape == (12, 784) and d.x_train.dtype == torch.float32
    assert d.x_test.shape == (5, 784) and d.y_test.dtype == torch.int64
    np.testing.assert_allclose(d.x_train.numpy(), a["train-images"].reshape(12, 784) / 255,
                               rtol=1e-6)
    assert d.x_train.min() >= 0 and d.x_train.max() <= 1
    np.testing.assert_array_equal(d.y_train.numpy(), a["train-labels"])
    assert "SUBSET" not in repr(d) and "(12, 784)" in repr(d)


# ---------------------------------------------------------------- errors for bad files


def test_missing_file_names_the_file_the_expectation_and_the_fix(root):
    with pytest.raises(DataError) as e:
        data.load_mnist(root, download=False)
    msg = str(e.value)
    raw = files.FILES["mnist-train-images"]
    assert str(root / raw.relpath) in msg and "not found" in msg
    assert f"{raw.size:,} bytes" in msg and raw.sha256 in msg
    assert "ADAMLAB_DATA" in msg and raw.urls[0] in msg and "downloading is switched off" in msg


def test_truncated_file_is_reported_with_sizes_and_the_fix(root, monkeypatch):
    tiny_mnist(root, monkeypatch)
    path = root / files.FILES["mnist-test-labels"].relpath
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError) as e:
        data.load_mnist(root)
    msg = str(e.value)
    assert str(path) in msg and "truncated" in msg
    assert f"{size - 3:,} bytes, fewer than the expected {size:,}" in msg
    assert f"delete {path}" in msg and "ADAMLAB_DATA" in msg


def test_corrupt_file_of_the_right_size_fails_its_checksum(root, monkeypatch):
    tiny_mnist(root, monkeypatch)
    path = root / files.FILES["mnist-train-images"].relpath
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError) as e:
        data.load_mnist(root)
    msg = str(e.value)
    assert str(path) in msg and "checksum does not match" in msg
    assert files.FILES["mnist-train-images"].sha256 in msg and f"delete {path}" in msg


def test_check_reports_every_file_and_what_to_do(root, monkeypatch):
    tiny_mnist(root, monkeypatch)
    cut = root / files.FILES["mnist-test-labels"].relpath
    cut.write_bytes(cut.read_bytes()[:-1])
    rows = {r["key"]: r for r in data.check(root)}
    assert set(rows) == set(files.FILES)
    ok = rows["mnist-train-images"]
    assert ok["present"] and ok["status"] == "ok" and ok["checksum"] == "ok"
    assert ok["size"] == ok["expected_size"] and ok["action"] == ""
    assert rows["mnist-test-labels"]["status"] == "truncated"
    assert "delete" in rows["mnist-test-labels"]["action"]
    gone = rows["imdb-full"]
    assert not gone["present"] and gone["status"] == "missing" and gone["checksum"] == "unknown"
    assert gone["size"] is None and "ai.stanford.edu" in gone["action"]
    text = data.format_check(list(rows.values()), root)
    assert str(root) in text and "the root argument" in text
    assert "mnist    PROBLEM: mnist/t10k-labels-idx1-ubyte.gz is truncated" in text
    assert "imdb     missing: downloaded on first use" in text


def test_check_flags_a_checksum_mismatch_and_the_subset(root, monkeypatch):
    path = put(root, "cifar10-subset", b"x" * 10, monkeypatch)
    rows = {r["key"]: r for r in data.check(root)}
    assert rows["cifar10-subset"]["status"] == "ok"
    text = data.format_check(list(rows.values()), root)
    assert "only the EXACT SUBSET" in text
    path.write_bytes(b"y" * 10)
    rows = {r["key"]: r for r in data.check(root)}
    assert rows["cifar10-subset"]["status"] == "corrupt"
    assert rows["cifar10-subset"]["checksum"] == "mismatch"
    rows = {r["key"]: r for r in data.check(root, hash=False)}
    assert rows["cifar10-subset"]["status"] == "size ok"
    assert rows["cifar10-subset"]["checksum"] == "unknown"


# ---------------------------------------------------------------- downloads (simulated)


def test_a_missing_file_is_downloaded_with_its_checksum(root, monkeypatch):
    content = idx_bytes(np.arange(10) % 10)
    source = root.parent / "published.gz"
    source.write_bytes(content)
    register(monkeypatch, "mnist-test-labels", source)
    calls = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.append((url, known_hash))
        Path(path, fname).write_bytes(content)
        return str(Path(path, fname))

    monkeypatch.setattr(files.pooch, "retrieve", fake_retrieve)
    got = files.fetch("mnist-test-labels", root)
    raw = files.FILES["mnist-test-labels"]
    assert got == root / raw.relpath and got.read_bytes() == content
    assert calls == [(raw.urls[0], f"sha256:{raw.sha256}")]


def test_a_failed_download_tries_every_mirror_then_explains(root, monkeypatch):
    tried = []

    def offline(url, **kwargs):
        tried.append(url)
        raise ConnectionError("no route to host")

    monkeypatch.setattr(files.pooch, "retrieve", offline)
    with pytest.raises(DataError) as e:
        files.fetch("mnist-train-labels", root)
    raw = files.FILES["mnist-train-labels"]
    assert tried == list(raw.urls)
    msg = str(e.value)
    assert "downloading it failed" in msg and "no route to host" in msg
    assert all(u in msg for u in raw.urls) and "ADAMLAB_DATA" in msg


def test_no_download_into_a_read_only_directory(root, monkeypatch):
    monkeypatch.setattr(files.pooch, "retrieve", lambda *a, **k: pytest.fail("downloaded"))
    root.chmod(0o555)
    try:
        with pytest.raises(DataError, match="not writable"):
            files.fetch("mnist-train-labels", root)
    finally:
        root.chmod(0o755)


def test_offline_only_files_say_they_cannot_be_downloaded(root):
    with pytest.raises(DataError, match="cannot be downloaded.*cifar10-subset/cifar10_subset.npz"):
        files.fetch("cifar10-subset", root)


def test_data_dir_order_and_relative_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAMLAB_DATA", str(tmp_path / "env"))
    assert data.data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_dir() == tmp_path / "env"
    monkeypatch.delenv("ADAMLAB_DATA")
    monkeypatch.setattr(files.pooch, "os_cache", lambda name: tmp_path / "user" / name)
    assert data.data_dir() == tmp_path / "user" / "adamlab"
    # a path relative to the checkout also works from another working directory (notebooks)
    monkeypatch.chdir(tmp_path)
    assert data.data_dir("src/adamlab") == files._PROJECT_ROOT / "src" / "adamlab"


# ---------------------------------------------------------------- IMDB


REVIEWS = {
    ("train", "pos", 3): "Great film.<br /><br />GREAT acting, great story; don't miss it!",
    ("train", "pos", 12): "A 'great' one: I'd watch it again.",
    ("train", "neg", 7): "Bad film. Bad acting. Not great.",
    ("train", "neg", 0): "Boring_film, boring plot.",
    ("test", "pos", 1): "Zebra zebra zebra zebra, great fun.",
    ("test", "neg", 2): "bad, bad, bad film",
}


def imdb_tar(reviews=REVIEWS, extra=True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        entries = {f"aclImdb/{s}/{lab}/{i}_{8 if lab == 'pos' else 2}.txt": text
                   for (s, lab, i), text in reviews.items()}
        if extra:  # what the published archive also holds, and must be skipped
            entries["aclImdb/train/unsup/0_0.txt"] = "unlabelled unlabelled unlabelled"
            entries["aclImdb/imdb.vocab"] = "the\nand\n"
        for name, text in entries.items():
            blob = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def test_tokenize():
    assert imdb.tokenize("Don't<br />STOP<br/>now") == ["don't", "stop", "now"]
    assert imdb.tokenize("'Quoted' words, the actors' 2nd try") == [
        "quoted", "words", "the", "actors", "2nd", "try"]
    assert imdb.tokenize("snake_case café rock'n'roll") == ["snake", "case", "café", "rock'n'roll"]


@pytest.mark.parametrize("streamed", [False, True])
def test_read_reviews_orders_and_labels_them(tmp_path, monkeypatch, streamed):
    if streamed:  # the path the published archive takes
        monkeypatch.setattr(imdb, "IN_MEMORY_LIMIT", 0)
    p = tmp_path / "a.tar.gz"
    p.write_bytes(imdb_tar())
    out = imdb.read_reviews(p)
    texts, labels = out["train"]
    assert labels.tolist() == [0, 0, 1, 1]  # negative first, then positive, each by id
    assert texts[0] == REVIEWS[("train", "neg", 0)] and texts[3] == REVIEWS[("train", "pos", 12)]
    assert out["test"][1].tolist() == [0, 1]
    assert not any("unlabelled" in t for t in texts)


def test_bag_of_words_vocabulary_and_counts_by_hand(root, monkeypatch):
    put(root, "imdb-labeled", imdb_tar(), monkeypatch)
    d = data.load_imdb(root, vocab_size=4, binary=False)
    # training-set word totals: great 5, film 3, then acting, bad, boring and it 2 each; zebra
    # (4 times, but only in a test review) must not enter. Ties go alphabetically.
    assert d.info["vocab"] == ["great", "film", "acting", "bad"]
    want_train = [[0, 1, 0, 0],   # neg 0: "Boring_film": the underscore splits off film
                  [1, 1, 1, 2],   # neg 7: bad x2, film, acting, great
                  [3, 1, 1, 0],   # pos 3: great x3, film, acting
                  [1, 0, 0, 0]]   # pos 12: great
    assert d.x_train.tolist() == want_train
    assert d.x_test.tolist() == [[0, 1, 0, 3], [1, 0, 0, 0]]
    assert d.y_train.tolist() == [0, 0, 1, 1] and d.y_test.tolist() == [0, 1]
    assert d.x_train.dtype == torch.uint8 and not d.info["complete"]
    b = data.load_imdb(root, vocab_size=4)
    assert b.x_train.tolist() == [[min(c, 1) for c in row] for row in want_train]
    assert b.info["binary"] and "binary word presence" in b.info["notes"]


def test_counts_beyond_a_byte_widen_the_dtype_and_load_dispatches(root, monkeypatch):
    reviews = {("train", "pos", 1): "wow " * 300 + "ok", ("train", "neg", 1): "meh ok",
               ("test", "pos", 1): "wow wow", ("test", "neg", 1): "meh"}
    put(root, "imdb-labeled", imdb_tar(reviews), monkeypatch)
    d = data.load("IMDB", root, vocab_size=3, binary=False)
    assert d.info["vocab"] == ["wow", "ok", "meh"]
    assert d.x_train.dtype == torch.int16
    assert d.x_train.tolist() == [[0, 1, 1], [300, 1, 0]]
    assert data.load("imdb", root, vocab_size=3).x_train.tolist() == [[0, 1, 1], [1, 1, 0]]


def test_imdb_cache_is_reused_and_a_corrupt_entry_rebuilt(root, monkeypatch):
    put(root, "imdb-labeled", imdb_tar(), monkeypatch)
    first = data.load_imdb(root, vocab_size=5)
    assert first.info["cache"] == "built"
    entry = Path(first.info["cache_path"])
    assert entry.parent == Path(os.environ["ADAMLAB_CACHE"])
    real_build = imdb.bag_of_words

    def must_not_run(*a, **k):
        raise AssertionError("the bag-of-words was rebuilt although it is cached")

    monkeypatch.setattr(imdb, "bag_of_words", must_not_run)
    second = data.load_imdb(root, vocab_size=5)
    assert second.info["cache"] == "hit" and torch.equal(second.x_train, first.x_train)

    monkeypatch.setattr(imdb, "bag_of_words", real_build)
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])  # truncated entry
    third = data.load_imdb(root, vocab_size=5)
    assert third.info["cache"].startswith("rebuilt") and torch.equal(third.x_train, first.x_train)

    # a readable entry whose contents were changed is caught by its digest
    with np.load(entry) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["train_counts"] = arrays["train_counts"] + 1
    with open(entry, "wb") as f:
        np.savez(f, **arrays)
    fourth = data.load_imdb(root, vocab_size=5)
    assert "digest" in fourth.info["cache"] and torch.equal(fourth.x_train, first.x_train)

    other = data.load_imdb(root, vocab_size=3)  # other parameters, other entry
    assert other.info["cache"] == "built" and other.info["cache_path"] != str(entry)
    assert not list(entry.parent.glob("*.tmp"))


@pytest.mark.parametrize("streamed", [False, True])
def test_corrupt_imdb_archive_is_a_data_error(tmp_path, monkeypatch, streamed):
    if streamed:
        monkeypatch.setattr(imdb, "IN_MEMORY_LIMIT", 0)
    p = tmp_path / "a.tar.gz"
    blob = imdb_tar()
    p.write_bytes(blob[: len(blob) - 40])
    with pytest.raises(DataError, match="gzipped tar archive.*truncated or corrupt"):
        imdb.read_reviews(p)
    p.write_bytes(imdb_tar({("train", "pos", 1): "only a training review"}))
    with pytest.raises(DataError, match="no reviews under aclImdb/test"):
        imdb.read_reviews(p)


def test_bad_arguments_are_value_errors(root):
    with pytest.raises(ValueError, match="vocab_size must be a positive integer"):
        data.load_imdb(root, vocab_size=0)
    with pytest.raises(ValueError, match="whiten must be one of"):
        data.load_cifar10(root, whiten="pca")
    with pytest.raises(ValueError, match="unknown dataset 'svhn'; choose one of"):
        data.load("svhn", root)


# ---------------------------------------------------------------- the cache itself


def test_cache_writes_atomically_and_leaves_nothing_when_a_write_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAMLAB_CACHE", str(tmp_path))

    def broken_savez(f, **arrays):
        f.write(b"half an entry")
        raise OSError("disk full")

    monkeypatch.setattr(cache.np, "savez", broken_savez)
    with pytest.warns(UserWarning, match="could not write the cache entry"):
        arrays, status, path = cache.load_or_build("t", {"a": 1}, lambda: {"x": np.ones(3)})
    assert status == "built" and arrays["x"].sum() == 3
    assert list(tmp_path.iterdir()) == []  # no entry, no temporary file


def test_cache_stays_out_of_a_read_only_data_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("ADAMLAB_CACHE", raising=False)
    monkeypatch.setattr(cache.pooch, "os_cache", lambda name: tmp_path / "user" / name)
    ro = tmp_path / "ro"
    ro.mkdir()
    assert cache.cache_dir(ro) == ro / ".adamlab-cache"
    (ro / ".adamlab-cache").rmdir()
    ro.chmod(0o555)
    try:
        assert cache.cache_dir(ro) == tmp_path / "user" / "adamlab" / "derived"
        assert not (ro / ".adamlab-cache").exists()
    finally:
        ro.chmod(0o755)


# ---------------------------------------------------------------- CIFAR-10


def tiny_subset(path: Path, n_train=20, n_test=6, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train),
              "train_index": np.arange(n_train),
              "x_test": rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test), "test_index": np.arange(n_test),
              "label_names": np.array([f"class{i}" for i in range(10)])}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return arrays


def cifar_tar(per_batch=3, seed=1) -> tuple[bytes, dict]:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    batches = {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        names = [f"data_batch_{i}" for i in (3, 1, 5, 2, 4)] + ["test_batch", "batches.meta"]
        for name in names:  # stored out of order: the reader must sort them
            if name == "batches.meta":
                blob = {b"label_names": [f"c{i}".encode() for i in range(10)]}
            else:
                blob = {b"batch_label": name.encode(),
                        b"labels": rng.integers(0, 10, per_batch).tolist(),
                        b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)}
                batches[name] = blob
            raw = pickle.dumps(blob, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue(), batches


def test_read_subset_turns_images_channels_first(tmp_path):
    a = tiny_subset(tmp_path / "s.npz")
    out = cifar10.read_subset(tmp_path / "s.npz")
    assert out["x_train"].shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(out["x_train"][4, 2, 5, 7], a["x_train"][4, 5, 7, 2])


def test_read_archive_concatenates_batches_in_order(tmp_path):
    blob, batches = cifar_tar()
    p = tmp_path / "c.tar.gz"
    p.write_bytes(blob)
    out = cifar10.read_archive(p)
    want = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    assert out["x_train"].shape == (15, 3, 32, 32) and out["x_test"].shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(out["x_train"].reshape(15, -1), want)
    assert out["y_train"].tolist() == sum(
        (batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    assert out["label_names"][3] == "c3"
    p.write_bytes(blob[:-200])
    with pytest.raises(DataError, match="truncated or corrupt"):
        cifar10.read_archive(p)


def test_subset_is_flagged_and_the_full_archive_preferred(root, monkeypatch):
    path = root / files.FILES["cifar10-subset"].relpath
    a = tiny_subset(path)
    register(monkeypatch, "cifar10-subset", path)
    d = data.load_cifar10(root, whiten="none")
    assert not d.info["complete"] and "EXACT SUBSET" in d.info["notes"] and "SUBSET" in repr(d)
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_train.dtype == torch.float32
    np.testing.assert_allclose(d.x_train.permute(0, 2, 3, 1).numpy(), a["x_train"] / 255,
                               rtol=1e-6)
    with pytest.raises(DataError, match="downloading is switched off"):
        data.load_cifar10(root, whiten="none", subset=False, download=False)

    put(root, "cifar10-full", cifar_tar()[0], monkeypatch)
    full = data.load_cifar10(root, whiten="none")
    assert full.info["complete"] and full.x_train.shape == (15, 3, 32, 32)
    assert "complete" in full.info["notes"]
    again = data.load_cifar10(root, whiten="none", subset=True)
    assert not again.info["complete"]


def test_zca_fit_whitens(tmp_path):
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(5, 5))
    x = rng.normal(size=(4000, 5)) @ mix + 3.0
    fit = cifar10.zca_fit(x, eps=0.0)
    z = (x - fit["mean"]) @ fit["w"].astype(np.float64)
    np.testing.assert_allclose(np.cov(z.T, bias=True), np.eye(5), atol=1e-4)
    np.testing.assert_allclose(fit["w"], fit["w"].T, atol=1e-6)  # ZCA: W symmetric
    # with eps the covariance of (x - mean) W has eigenvalues lambda / (lambda + eps)
    eps = 0.5
    fit = cifar10.zca_fit(x, eps=eps)
    z = (x - fit["mean"]) @ fit["w"].astype(np.float64)
    lam = np.linalg.eigvalsh(np.cov(x.T, bias=True))
    np.testing.assert_allclose(np.linalg.eigvalsh(np.cov(z.T, bias=True)), lam / (lam + eps),
                               rtol=1e-4)


def test_zca_with_fewer_samples_than_dimensions_matches_the_eigendecomposition():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 30)) @ rng.normal(size=(30, 30))
    eps = 0.3
    lam, u = np.linalg.eigh(np.cov(x.T, bias=True))
    want = (u / np.sqrt(np.clip(lam, 0, None) + eps)) @ u.T
    fit = cifar10.zca_fit(x, eps)
    np.testing.assert_allclose(fit["w"], want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fit["eigenvalues"], np.clip(lam, 0, None), atol=1e-8)
    with pytest.raises(ValueError, match="needs eps > 0"):
        cifar10.zca_fit(x, 0.0)


def test_zca_uses_training_statistics_and_is_cached(root, monkeypatch):
    path = root / files.FILES["cifar10-subset"].relpath
    tiny_subset(path, n_train=40, n_test=8)
    register(monkeypatch, "cifar10-subset", path)
    d = data.load_cifar10(root, zca_eps=0.1)
    assert d.info["cache"] == "built" and "ZCA-whitened (eps 0.1)" in d.info["notes"]
    raw = data.load_cifar10(root, whiten="none")
    fit = cifar10.zca_fit(raw.x_train.flatten(1).numpy(), 0.1)
    want_test = (raw.x_test.flatten(1).numpy() - fit["mean"]) @ fit["w"]
    np.testing.assert_allclose(d.x_test.flatten(1).numpy(), want_test, atol=1e-4)
    assert abs(float(d.x_train.mean())) < 1e-5  # centred with the training mean
    monkeypatch.setattr(cifar10, "zca_fit", lambda *a: pytest.fail("refitted"))
    assert data.load_cifar10(root, zca_eps=0.1).info["cache"] == "hit"
    s = data.load_cifar10(root, whiten="standardize")
    torch.testing.assert_close(s.x_train.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5,
                               rtol=0)


def test_truncated_subset_is_a_data_error(tmp_path):
    p = tmp_path / "s.npz"
    tiny_subset(p)
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(DataError, match="cannot be read as an .npz archive"):
        cifar10.read_subset(p)


# ---------------------------------------------------------------- the real files


def real_root() -> Path:
    if not os.environ.get("ADAMLAB_DATA"):
        pytest.skip("ADAMLAB_DATA is not set: the real datasets are not available here "
                    "(set it to a directory with mnist/, imdb/, cifar10-subset/)")
    return data.data_dir()


def needs(key: str) -> Path:
    root = real_root()
    if not files.present(key, root):
        pytest.skip(f"{files.FILES[key].relpath} is not in ADAMLAB_DATA={root}")
    return root


def test_real_files_pass_their_checks():
    root = real_root()
    rows = [r for r in data.check(root) if r["present"]]
    assert rows, f"ADAMLAB_DATA={root} holds none of the expected files"
    assert all(r["status"] == "ok" and r["checksum"] == "ok" for r in rows), rows


def test_real_mnist():
    needs("mnist-train-images")
    d = data.load_mnist()
    assert d.x_train.shape == (60000, 784) and d.x_test.shape == (10000, 784)
    assert d.y_train.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                             5851, 5949]
    assert d.y_test.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                            1009]
    assert d.y_train[:5].tolist() == [5, 0, 4, 1, 9] and d.y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert float(d.x_train.min()) == 0.0 and float(d.x_train.max()) == 1.0


@pytest.mark.slow
def test_real_imdb():
    root = real_root()
    if not (files.present("imdb-full", root) or files.present("imdb-labeled", root)):
        pytest.skip(f"no IMDB archive in ADAMLAB_DATA={root}")
    d = data.load_imdb()
    assert d.x_train.shape == (25000, 10000) and d.x_test.shape == (25000, 10000)
    assert d.y_train.bincount().tolist() == [12500, 12500]
    assert d.y_test.bincount().tolist() == [12500, 12500]
    assert d.info["complete"] and len(d.info["vocab"]) == 10000
    assert d.info["vocab"][:5] == ["the", "and", "a", "of", "to"]  # as in aclImdb/imdb.vocab
    assert int(d.x_train.max()) == 1 and bool((d.x_train.sum(1) > 0).all())


def test_real_cifar10_subset_arrays_match_their_published_hashes():
    root = needs("cifar10-subset")
    arrays = cifar10.read_subset(data.data_dir(root) / files.FILES["cifar10-subset"].relpath)
    hwc = np.ascontiguousarray(arrays["x_train"].transpose(0, 2, 3, 1))
    assert hashlib.sha256(hwc.tobytes()).hexdigest() == (
        "d5a5a195056bc8b781d8b4c6d23d965ee5a9858e384e447f180748676d928f8d")
    assert hashlib.sha256(arrays["y_test"].astype("<i8").tobytes()).hexdigest() == (
        "27d28d901527806280ef341c3ceeb4d5eb20462432b015952af5df7448e18eb9")


@pytest.mark.slow
def test_real_cifar10_subset():
    root = needs("cifar10-subset")
    if files.present("cifar10-full", root):
        pytest.skip("the full CIFAR-10 archive is present, so it is used instead of the subset")
    d = data.load_cifar10()
    assert d.x_train.shape == (8068, 3, 32, 32) and d.x_test.shape == (1017, 3, 32, 32)
    assert not d.info["complete"] and "8,068 of the 50,000" in d.info["notes"]
    assert d.y_train.bincount().tolist() == [810, 777, 808, 783, 856, 782, 808, 799, 835, 810]
    assert d.y_test.bincount().tolist() == [105, 93, 100, 104, 92, 87, 114, 102, 110, 110]
    assert d.info["classes"][:2] == ["airplane", "automobile"]
    assert abs(float(d.x_train.mean())) < 1e-4
