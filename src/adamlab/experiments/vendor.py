"""Third-party code that no package registry has: SFO, the optimizer of the paper's Fig. 2b.

``sfo.py`` (Sohl-Dickstein, Poole & Ganguli 2014, Apache License 2.0) is used exactly as its
authors published it at one commit, never copied into this project. Like the datasets, it is
read from a directory, ``root``, else ``$ADAMLAB_VENDOR``, else the user cache (``<cache>/
vendor``), and where it is absent and there is internet it is fetched there by commit with
``pooch`` and checked against its sha256. A file that differs by one byte is refused.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pooch

from .data import files
from .data.dataset import DataError

ENV_VENDOR = "ADAMLAB_VENDOR"
SFO_COMMIT = "36c66dfef68b344eca0ca9bb56d0a7bed2075036"
SFO = files.RawFile(
    "sfo", "sfo/sfo.py", 53_161,
    "ac7465032e1f02aec01fd07c6be55ec86f3c15875f675429da0ada397157192d", None,
    (f"https://raw.githubusercontent.com/Sohl-Dickstein/Sum-of-Functions-Optimizer/"
     f"{SFO_COMMIT}/sfo.py",),
    f"SFO (Sohl-Dickstein, Poole & Ganguli 2014), sfo.py at commit {SFO_COMMIT[:12]}, "
    "Apache-2.0")


def vendor_dir(root: str | os.PathLike | None = None) -> Path:
    """Where third-party files are read: ``root``, else ``$ADAMLAB_VENDOR``, else the cache."""
    if root is not None:
        return files._resolve(root)
    if os.environ.get(ENV_VENDOR):
        return files._resolve(os.environ[ENV_VENDOR])
    return Path(os.path.abspath(pooch.os_cache("adamlab"))) / "vendor"


def _where(root) -> str:
    return files._where(root, ENV_VENDOR)


def _fix(path: Path) -> str:
    return (f"To fix: set {ENV_VENDOR} (or --vendor-dir) to a directory that holds sfo/sfo.py "
            f"from commit {SFO_COMMIT}, or delete {path} and run with internet access to fetch "
            f"it from {SFO.urls[0]}. `adamlab data check` says what is present.")


def sfo_path(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The verified local ``sfo.py``, fetched by commit first where it is absent."""
    path = vendor_dir(root) / SFO.relpath
    if not path.exists():
        if not download:
            raise DataError(f"{path} not found (vendor directory from {_where(root)}), and "
                            f"downloading is switched off. Expected {files._expected(SFO)}. "
                            + _fix(path))
        try:
            files._download(SFO, path)
        except DataError as error:
            raise DataError(f"{str(error).split(' To fix:')[0]} {_fix(path)}") from None
    status, _ = files.inspect(SFO, path)
    if status != "ok":
        raise DataError(f"{path} is {status}: it is not sfo.py as published at commit "
                        f"{SFO_COMMIT[:12]} (expected {files._expected(SFO)}), and a modified "
                        f"optimizer would not be the paper's. {_fix(path)}")
    return path


def load_sfo(root: str | os.PathLike | None = None, download: bool = True) -> ModuleType:
    """The ``sfo`` module, imported from the verified file (the class is ``module.SFO``)."""
    path = sfo_path(root, download)
    name = "adamlab_vendor_sfo"
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def available(root: str | os.PathLike | None = None) -> bool:
    """Whether a verified ``sfo.py`` is present (nothing is fetched)."""
    try:
        sfo_path(root, download=False)
    except DataError:
        return False
    return True


def check(root: str | os.PathLike | None = None) -> dict:
    """One row for `adamlab data check`, shaped like the data files' rows."""
    path = vendor_dir(root) / SFO.relpath
    status, checksum = files.inspect(SFO, path)
    if status == "ok":
        action = ""
    elif status == "missing":
        action = (f"fetched by commit on first use from {SFO.urls[0]} (needs internet), or set "
                  f"{ENV_VENDOR} to a directory holding sfo/sfo.py; without it Fig. 2b compares "
                  "Adam with the L-BFGS stand-in only")
    else:
        action = f"delete {path} and get it again from {SFO.urls[0]}"
    return {"key": "sfo", "dataset": "sfo", "name": SFO.relpath, "path": str(path),
            "role": SFO.role, "present": path.is_file(),
            "size": path.stat().st_size if path.is_file() else None,
            "expected_size": SFO.size, "status": status, "checksum": checksum, "action": action}


def format_check(root: str | os.PathLike | None = None) -> str:
    row = check(root)
    size = f"{row['size']:,}" if row["size"] is not None else "-"
    lines = [f"vendor directory: {vendor_dir(root)} (from {_where(root)})",
             f"  {row['name']}  {row['status']:<10} {row['checksum']:<8} {size:>13} "
             f"{row['expected_size']:>13,}"]
    if row["action"]:
        lines.append(f"    -> {row['action']}")
    verdict = "ready" if row["status"] == "ok" else (
        "missing: Fig. 2b uses the L-BFGS stand-in" if row["status"] == "missing"
        else f"PROBLEM: {row['name']} is {row['status']}")
    lines.append(f"{'sfo':<8} {verdict}")
    return "\n".join(lines)
