"""Where the raw data files live, what each must look like, and how to get it.

A file is used only after its size and checksum match the published ones. It comes from the
data directory (the ``root`` argument, else ``$ADAMLAB_DATA``, else a user cache directory),
and where it is absent and there is internet, ``pooch`` downloads it there and checks it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pooch

from .dataset import DataError

ENV_DATA = "ADAMLAB_DATA"
_PROJECT_ROOT = Path(__file__).resolve().parents[4]  # src/adamlab/experiments/data/ -> checkout


@dataclass(frozen=True)
class RawFile:
    """One published file: where it goes under the data directory and how to recognise it."""

    dataset: str
    relpath: str
    size: int
    sha256: str | None
    md5: str | None
    urls: tuple[str, ...]  # canonical download addresses; empty when there is none
    role: str  # what the file is, as `adamlab data check` shows it

    @property
    def known_hash(self) -> str:
        return f"sha256:{self.sha256}" if self.sha256 else f"md5:{self.md5}"


_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                  "http://yann.lecun.com/exdb/mnist/")


def _mnist(name, size, md5, sha256):
    return RawFile("mnist", f"mnist/{name}", size, sha256, md5,
                   tuple(m + name for m in _MNIST_MIRRORS), "MNIST (LeCun, Cortes, Burges)")


# Sizes and checksums are the published ones (and those in ../shared/datasets/*/README.md).
FILES: dict[str, RawFile] = {
    "mnist-train-images": _mnist(
        "train-images-idx3-ubyte.gz", 9_912_422, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "mnist-train-labels": _mnist(
        "train-labels-idx1-ubyte.gz", 28_881, "d53e105ee54ea40749a09fcbcd1e9432",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "mnist-test-images": _mnist(
        "t10k-images-idx3-ubyte.gz", 1_648_877, "9fb629c4189551a2d022fa330f9573f3",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "mnist-test-labels": _mnist(
        "t10k-labels-idx1-ubyte.gz", 4_542, "ec29112dd5afa0611ce80d1b7f02629c",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    "imdb-full": RawFile(
        "imdb", "imdb/aclImdb_v1.tar.gz", 84_125_825,
        "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe", None,
        ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
        "IMDB reviews, the published archive (Maas et al. 2011)"),
    "imdb-labeled": RawFile(
        "imdb", "imdb/aclImdb_labeled.tar.gz", 28_630_985,
        "bc97a5760057748a52ca45e60df14b065f15d5328e266b843779f38d16164e34",
        "4e8857639eab5d9e01512dc13eb7e6b8", (),
        "IMDB reviews, offline copy of the 50,000 labelled ones (all the paper uses)"),
    "cifar10-full": RawFile(
        "cifar10", "cifar10/cifar-10-python.tar.gz", 170_498_071, None,
        "c58f30108f718f92721af3b95e74349a",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
        "CIFAR-10, the published archive (Krizhevsky 2009)"),
    "cifar10-subset": RawFile(
        "cifar10", "cifar10-subset/cifar10_subset.npz", 25_729_583,
        "21510a86bb2c2ddfd0b1a10cb3ad961fcab62371ee448303d487df0a59660255", None, (),
        "CIFAR-10, offline EXACT SUBSET: 8,068 of 50,000 train, 1,017 of 10,000 test"),
}


def _resolve(path: str | os.PathLike) -> Path:
    """A relative path is taken from the working directory, or else from the project checkout.

    Notebooks run with the chapter's folder as working directory, so ``ADAMLAB_DATA=../shared/
    datasets`` written for the repository root must still work there.
    """
    p = Path(path).expanduser()
    if not (p.is_absolute() or p.exists()) and (_PROJECT_ROOT / p).exists():
        p = _PROJECT_ROOT / p
    return Path(os.path.abspath(p))


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data directory: ``root`` if given, else ``$ADAMLAB_DATA``, else a user cache dir.

    It holds one folder per dataset: ``mnist/``, ``imdb/``, ``cifar10/`` (the published archive)
    and ``cifar10-subset/`` (the offline subset).
    """
    if root is not None:
        return _resolve(root)
    if os.environ.get(ENV_DATA):
        return _resolve(os.environ[ENV_DATA])
    return Path(os.path.abspath(pooch.os_cache("adamlab")))


def _where(root, env: str = ENV_DATA) -> str:
    if root is not None:
        return "the root argument"
    if os.environ.get(env):
        return f"${env}={os.environ[env]}"
    return f"the default user cache directory (${env} is not set)"


def _expected(raw: RawFile) -> str:
    sums = ", ".join(f"{k} {v}" for k, v in (("sha256", raw.sha256), ("md5", raw.md5)) if v)
    return f"{raw.size:,} bytes, {sums}"


def _fix(raw: RawFile, path: Path) -> str:
    ways = [f"set {ENV_DATA} (or pass root=..., or --data on the command line) to a directory "
            f"that holds an intact copy as {raw.relpath}"]
    if raw.urls:
        ways.insert(0, f"delete {path} and run again with internet access to download it "
                       f"from {raw.urls[0]}")
    return "To fix: " + "; or ".join(ways) + ". `adamlab data check` lists what is present."


def writable(directory: Path) -> bool:
    """Whether ``directory`` (or, if absent, its nearest existing parent) may be written.

    A directory whose permission bits grant no write access counts as read-only even for a
    superuser, whom the operating system would let through: such a directory (like the shared
    offline copy) is meant to stay untouched.
    """
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    mode = existing.stat().st_mode
    any_write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    return os.access(existing, os.W_OK) and bool(mode & any_write)


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def inspect(raw: RawFile, path: Path) -> tuple[str, str]:
    """(status, checksum) of a file: status 'ok', 'missing', 'truncated', 'wrong size' or
    'corrupt'; checksum 'ok', 'mismatch' or 'unknown' (not computed)."""
    if not path.is_file():
        return "missing", "unknown"
    size = path.stat().st_size
    if size != raw.size:
        return ("truncated" if size < raw.size else "wrong size"), "unknown"
    algorithm = "sha256" if raw.sha256 else "md5"
    if file_hash(path, algorithm) != getattr(raw, algorithm):
        return "corrupt", "mismatch"
    return "ok", "ok"


def verify(raw: RawFile, path: Path) -> None:
    """Raise DataError unless ``path`` has the size and checksum ``raw`` promises."""
    status, _ = inspect(raw, path)
    if status == "ok":
        return
    if status == "missing":
        raise DataError(f"{path} not found. Expected {_expected(raw)}. {_fix(raw, path)}")
    size = path.stat().st_size
    why = {
        "truncated": f"it has {size:,} bytes, fewer than the expected {raw.size:,}: "
                     "truncated, probably an interrupted download or copy",
        "wrong size": f"it has {size:,} bytes, not the expected {raw.size:,}: "
                      "not the published file",
        "corrupt": "its checksum does not match: the file is corrupt or not the published one",
    }[status]
    raise DataError(f"{path}: {why}. Expected {_expected(raw)}. {_fix(raw, path)}")


def _download(raw: RawFile, path: Path) -> None:
    try:
        if not writable(path.parent):
            raise PermissionError("read-only")
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{path} not found, and it cannot be downloaded there because "
                        f"{path.parent} is not writable ({e}). Expected {_expected(raw)}. "
                        f"{_fix(raw, path)}") from e
    failures = []
    for url in raw.urls:
        try:
            # pooch writes to a temporary file and moves it in place only once the hash matches
            pooch.retrieve(url, known_hash=raw.known_hash, fname=path.name,
                           path=path.parent, progressbar=True)
            return
        except Exception as e:  # network errors come in many types; each is reported below
            failures.append(f"{url}: {type(e).__name__}: {e}")
    raise DataError(f"{path} not found, and downloading it failed ({'; '.join(failures)}). "
                    f"Expected {_expected(raw)}. {_fix(raw, path)}")


def fetch(key: str, root=None, download: bool = True) -> Path:
    """The verified local path of ``FILES[key]``, downloading it first if it is absent."""
    raw = FILES[key]
    path = data_dir(root) / raw.relpath
    if not path.exists():
        if not (download and raw.urls):
            how = ("downloading is switched off" if raw.urls
                   else "it cannot be downloaded (there is no public copy)")
            raise DataError(f"{path} not found (data directory from {_where(root)}), and {how}. "
                            f"Expected {_expected(raw)}. {_fix(raw, path)}")
        _download(raw, path)
    verify(raw, path)
    return path


def present(key: str, root=None) -> bool:
    return (data_dir(root) / FILES[key].relpath).exists()


def check(root=None, hash: bool = True) -> list[dict]:
    """One row per expected file: is it there, is it intact, and what to do if not.

    ``status`` is 'ok', 'missing', 'truncated', 'wrong size' or 'corrupt' ('size ok' when
    ``hash=False`` skips the checksums); ``checksum`` is 'ok', 'mismatch' or 'unknown'.
    """
    rows = []
    for key, raw in FILES.items():
        path = data_dir(root) / raw.relpath
        if hash:
            status, checksum = inspect(raw, path)
        else:
            status = "missing" if not path.is_file() else (
                "size ok" if path.stat().st_size == raw.size else "wrong size")
            checksum = "unknown"
        if status in ("ok", "size ok"):
            action = ""
        elif status == "missing":
            action = _missing_action(key, root)
        else:
            source = f" from {raw.urls[0]}" if raw.urls else ""
            action = f"delete {path} and get it again{source}"
        rows.append({
            "key": key, "dataset": raw.dataset, "name": raw.relpath, "path": str(path),
            "role": raw.role, "present": path.is_file(),
            "size": path.stat().st_size if path.is_file() else None,
            "expected_size": raw.size, "status": status, "checksum": checksum, "action": action,
        })
    return rows


def _missing_action(key: str, root) -> str:
    raw = FILES[key]
    if key == "imdb-full" and present("imdb-labeled", root):
        return "not needed: the offline copy of the labelled reviews is present"
    if key == "imdb-labeled":
        return "offline copy; not needed where the published archive is present"
    if key == "cifar10-subset":
        return "offline subset; not needed where the published archive is present"
    if key == "cifar10-full" and present("cifar10-subset", root):
        return (f"the subset is used instead; for the complete dataset, connect to the internet "
                f"(downloaded from {raw.urls[0]}) or copy it here")
    return f"downloaded on first use from {raw.urls[0]} (needs internet)"


def _verdict(dataset: str, rows: list[dict]) -> str:
    ok = {r["key"] for r in rows if r["status"] in ("ok", "size ok")}
    bad = [r for r in rows
           if r["dataset"] == dataset and r["status"] not in ("ok", "size ok", "missing")]
    if bad:
        return f"PROBLEM: {', '.join(r['name'] + ' is ' + r['status'] for r in bad)}"
    if dataset == "mnist":
        keys = {k for k in FILES if k.startswith("mnist")}
        return "ready (complete)" if keys <= ok else "missing files: downloaded on first use"
    if dataset == "imdb":
        if ok & {"imdb-full", "imdb-labeled"}:
            return "ready (all 50,000 labelled reviews)"
        return "missing: downloaded on first use (84 MB)"
    if "cifar10-full" in ok:
        return "ready (complete)"
    if "cifar10-subset" in ok:
        return ("ready, but only the EXACT SUBSET (8,068 train / 1,017 test images); "
                "results are not comparable with full CIFAR-10")
    return "missing: downloaded on first use (170 MB)"


def format_check(rows: list[dict], root=None) -> str:
    """The report `adamlab data check` prints."""
    from .cache import cache_dir  # cache builds on this module

    lines = [f"data directory: {data_dir(root)} (from {_where(root)})",
             f"derived-array cache: {cache_dir(root)}", ""]
    width = max(len(r["name"]) for r in rows)
    lines.append(f"  {'file':<{width}}  {'status':<10} {'checksum':<8} {'size':>13} "
                 f"{'expected':>13}")
    for r in rows:
        size = f"{r['size']:,}" if r["size"] is not None else "-"
        lines.append(f"  {r['name']:<{width}}  {r['status']:<10} {r['checksum']:<8} {size:>13} "
                     f"{r['expected_size']:>13,}")
        if r["action"]:
            lines.append(f"  {'':<{width}}    -> {r['action']}")
    lines.append("")
    for dataset in ("mnist", "imdb", "cifar10"):
        lines.append(f"{dataset:<8} {_verdict(dataset, rows)}")
    return "\n".join(lines)
