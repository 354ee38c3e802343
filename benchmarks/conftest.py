"""Fixtures shared by the benchmarks in this folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from make_ct_series import default_source, make_ct_series  # noqa: E402

#: Number of files in the benchmark CT series.
SERIES_SIZE = 500


@pytest.fixture(scope="session")
def ct_series(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A 500-file CT series built once per pytest run, already in the page cache."""
    out_dir = tmp_path_factory.mktemp("ct_series")
    paths = make_ct_series(out_dir, n=SERIES_SIZE, source=default_source())
    assert len(paths) == SERIES_SIZE
    # Write the new files out now: otherwise the kernel's writeback of them runs
    # during the first benchmarks and takes CPU time from whatever is measured.
    os.sync()
    for path in paths:  # warm the page cache so the first round is not I/O bound
        path.read_bytes()
    return paths
