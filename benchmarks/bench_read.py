"""Read a 500-file CT series with pydicom and with turbodicom.

Each round reads every file of the series and then accesses ten attributes a
typical indexing or sorting pass needs. Two groups:

* ``header``: ``dcmread(path, stop_before_pixels=True)``
* ``full``: ``dcmread(path)`` (the pixel data is read but not decoded)

Run with::

    python -m pytest benchmarks/bench_read.py --benchmark-json=benchmarks/results.json
    python benchmarks/report.py benchmarks/results.json
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from make_ct_series import ATTRIBUTES, default_source


LIBRARIES = ("pydicom", "turbodicom")

#: Timed rounds per library; one round reads all 500 files. pydicom takes
#: about half a second per round, turbodicom is meant to be much faster.
ROUNDS = {"pydicom": 20, "turbodicom": 50}


def _library(name: str):
    if name == "turbodicom":
        return pytest.importorskip("turbodicom")
    return importlib.import_module(name)


def _read_series(dcmread, paths: list[str], stop_before_pixels: bool):
    """Read every file and touch the ten attributes; return light checksums."""

    def run() -> tuple[int, int]:
        count = 0
        instance_sum = 0
        for path in paths:
            ds = dcmread(path, stop_before_pixels=stop_before_pixels)
            values = (
                ds.PatientID,
                ds.StudyInstanceUID,
                ds.SeriesInstanceUID,
                ds.SOPInstanceUID,
                ds.Modality,
                ds.Rows,
                ds.Columns,
                ds.InstanceNumber,
                ds.ImagePositionPatient,
                ds.PixelSpacing,
            )
            instance_sum += values[7]
            count += 1
        return count, instance_sum

    return run


def _bench(benchmark, library: str, ct_series: list[Path], stop_before_pixels: bool) -> None:
    module = _library(library)
    paths = [str(p) for p in ct_series]
    n = len(paths)

    # Check once, outside the timed rounds, that the library returns what the
    # benchmark relies on.
    ds = module.dcmread(paths[0], stop_before_pixels=stop_before_pixels)
    for keyword in ATTRIBUTES:
        assert getattr(ds, keyword) is not None, keyword
    assert ("PixelData" in ds) is not stop_before_pixels

    benchmark.extra_info["library"] = library
    benchmark.extra_info["version"] = getattr(module, "__version__", "unknown")
    benchmark.extra_info["files"] = n
    benchmark.extra_info["source"] = default_source().name
    benchmark.extra_info["elements"] = len(ds)
    benchmark.extra_info["bytes_per_file"] = ct_series[0].stat().st_size
    benchmark.extra_info["description"] = (
        f"{n} copies of a real CT slice ({default_source().name}, {len(ds)} elements, "
        f"{ct_series[0].stat().st_size // 1024} KiB each), "
        + ("`dcmread(stop_before_pixels=True)`" if stop_before_pixels else "`dcmread()`")
        + f" then {len(ATTRIBUTES)} attribute reads per file"
    )

    result = benchmark.pedantic(
        _read_series(module.dcmread, paths, stop_before_pixels),
        rounds=ROUNDS[library],
        iterations=1,
        warmup_rounds=1,
    )
    assert result == (n, n * (n + 1) // 2)


@pytest.mark.benchmark(group="header")
@pytest.mark.parametrize("library", LIBRARIES)
def test_header(benchmark, library, ct_series):
    _bench(benchmark, library, ct_series, stop_before_pixels=True)


@pytest.mark.benchmark(group="full")
@pytest.mark.parametrize("library", LIBRARIES)
def test_full(benchmark, library, ct_series):
    _bench(benchmark, library, ct_series, stop_before_pixels=False)
