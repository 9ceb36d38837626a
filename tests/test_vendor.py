"""SFO, the third-party optimizer of Fig. 2b: read from a local directory (or fetched by commit),
checked byte for byte, refused when modified, and able to optimize a small problem."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from adamlab import cli
from adamlab.experiments import vendor
from adamlab.experiments.data.dataset import DataError

needs_sfo = pytest.mark.skipif(not vendor.available(),
                               reason="sfo.py not present: set ADAMLAB_VENDOR (see .ci/run)")


@needs_sfo
def test_sfo_minimizes_a_sum_of_least_squares_terms():
    """Ten subfunctions, each a block of a least-squares problem: a few passes of SFO reach the
    exact solution that a direct solve gives."""
    sfo = vendor.load_sfo()
    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(200, 5)), rng.normal(size=200)
    blocks = [(A[i::10], b[i::10]) for i in range(10)]

    def f_df(theta, block):
        Ab, bb = block
        r = Ab @ theta - bb
        return 0.5 * float(r @ r), Ab.T @ r

    optimizer = sfo.SFO(f_df, np.zeros(5), blocks, display=0)
    theta = optimizer.optimize(num_passes=10)
    best = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(theta, best, rtol=1e-6, atol=1e-8)


@needs_sfo
def test_a_modified_copy_is_refused(tmp_path):
    (tmp_path / "sfo").mkdir()
    copy = tmp_path / "sfo" / "sfo.py"
    text = vendor.sfo_path().read_bytes()
    copy.write_bytes(text.replace(b"max_history_terms=10", b"max_history_terms=20", 1))
    assert len(copy.read_bytes()) == vendor.SFO.size
    with pytest.raises(DataError, match=r"is corrupt: it is not sfo.py as published.*ADAMLAB_VENDOR"):
        vendor.load_sfo(tmp_path, download=False)
    assert not vendor.available(tmp_path)


def test_a_missing_copy_names_the_fix(tmp_path):
    with pytest.raises(DataError, match=r"sfo/sfo.py not found.*ADAMLAB_VENDOR.*36c66dfef68b"):
        vendor.sfo_path(tmp_path, download=False)


@needs_sfo
def test_data_check_reports_sfo(tmp_path, capsys):
    (tmp_path / "sfo").mkdir()
    shutil.copy(vendor.sfo_path(), tmp_path / "sfo" / "sfo.py")
    assert cli.main(["data", "check", "--no-hash", "--vendor-dir", str(tmp_path)]) in (0, 1)
    out = capsys.readouterr().out
    assert "sfo/sfo.py  ok" in out and "sfo      ready" in out
    assert cli.main(["data", "check", "--no-hash", "--vendor-dir", str(tmp_path / "none")]) in (0, 1)
    assert "missing: Fig. 2b uses the L-BFGS stand-in" in capsys.readouterr().out
