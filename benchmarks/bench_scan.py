"""Read ten attributes from each file of a 500-file CT series into columns.

Two groups:

* ``scan``: ``turbodicom.scan(files, tags)`` (default workers: one per core)
  against a loop of ``pydicom.dcmread(path, stop_before_pixels=True,
  specific_tags=tags)`` that reads the ten values, and, when it is installed,
  a loop of dicomsdl's ``dicomsdl.open(path, load_until=0x7FE00000)`` then
  ``getValues(tags)`` (dicomsdl's way of reading a few values, stopping before
  Pixel Data). Target: turbodicom 40x faster than pydicom.
* ``scan-workers``: ``turbodicom.scan(files, tags, workers=1)`` against
  ``workers=2``. Target: workers=1 time / workers=2 time of at least 1.7.

Run with::

    python -m pytest benchmarks/bench_scan.py --benchmark-json=benchmarks/results_scan.json
    python benchmarks/report.py benchmarks/results_scan.json
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from make_ct_series import ATTRIBUTES, default_source

TAGS = list(ATTRIBUTES)

#: Timed rounds; one round reads all 500 files. A pydicom round takes a few
#: tenths of a second, the others a few hundredths or less.
ROUNDS = {"pydicom": 20, "dicomsdl": 30, "turbodicom": 50}
SCAN_TARGET = 40.0
WORKERS_TARGET = 1.7
PIXEL_DATA = 0x7FE00000  # dicomsdl's load_until: stop before (7FE0,xxxx)


def _library(name: str):
    if name in ("turbodicom", "dicomsdl"):
        return pytest.importorskip(name)
    return importlib.import_module(name)


def _version(module) -> str:
    version = getattr(module, "__version__", None)
    if version:
        return version
    try:
        from importlib import metadata

        return metadata.version(module.__name__)
    except Exception:  # noqa: BLE001
        return "unknown"


def _pydicom_loop(paths: list[str]):
    import pydicom

    def run() -> list[list]:
        rows = []
        for path in paths:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=TAGS)
            rows.append([ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                         ds.Modality, ds.Rows, ds.Columns, ds.InstanceNumber, ds.ImagePositionPatient,
                         ds.PixelSpacing])
        return rows

    return run


def _dicomsdl_loop(paths: list[str]):
    import dicomsdl

    def run() -> list[list]:
        return [dicomsdl.open(path, load_until=PIXEL_DATA).getValues(TAGS) for path in paths]

    return run


def _turbodicom_scan(paths: list[str], workers: int | None):
    import turbodicom

    def run() -> list[list]:
        result = turbodicom.scan(paths, TAGS, workers=workers)
        columns = [result[tag] for tag in TAGS]
        return [list(row) for row in zip(*columns)]

    return run


def _describe(benchmark, library: str, module, ct_series: list[Path], description: str, **extra) -> None:
    benchmark.extra_info["library"] = library
    benchmark.extra_info["version"] = _version(module)
    benchmark.extra_info["files"] = len(ct_series)
    benchmark.extra_info["source"] = default_source().name
    benchmark.extra_info["attributes"] = len(TAGS)
    benchmark.extra_info["chart"] = "scan"
    benchmark.extra_info["description"] = description
    benchmark.extra_info.update(extra)


def _check(rows: list[list], n: int) -> None:
    """The values every implementation must return: the series' instance numbers and positions."""
    assert len(rows) == n
    assert sorted(int(row[7]) for row in rows) == list(range(1, n + 1))
    assert all(row[4] == "CT" and int(row[5]) == 128 and len(row[8]) == 3 and len(row[9]) == 2
               for row in rows)


@pytest.mark.benchmark(group="scan")
@pytest.mark.parametrize("library", ["pydicom", "turbodicom", "dicomsdl"])
def test_scan(benchmark, library, ct_series):
    module = _library(library)
    paths = [str(p) for p in ct_series]
    n = len(paths)
    run = {
        "pydicom": lambda: _pydicom_loop(paths),
        "turbodicom": lambda: _turbodicom_scan(paths, None),
        "dicomsdl": lambda: _dicomsdl_loop(paths),
    }[library]()
    _check(run(), n)
    if library == "turbodicom":  # the same values as pydicom's, as plain Python values
        from turbodicom.scan import _plain

        assert run() == [[_plain(v) for v in row] for row in _pydicom_loop(paths)()]

    description = (
        f"{n} copies of a real CT slice ({default_source().name}), {len(TAGS)} attributes per file "
        "into columns: `turbodicom.scan(files, tags)` (one thread per core) vs a loop of "
        "`pydicom.dcmread(path, stop_before_pixels=True, specific_tags=tags)` and dicomsdl's "
        "`open(path, load_until=0x7FE00000).getValues(tags)`"
    )
    extra = {"target_speedup": SCAN_TARGET} if library == "turbodicom" else {}
    if library == "pydicom":
        extra["baseline"] = True
    _describe(benchmark, library, module, ct_series, description, **extra)
    benchmark.pedantic(run, rounds=ROUNDS[library], iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="scan-workers")
@pytest.mark.parametrize("workers", [1, 2])
def test_scan_workers(benchmark, workers, ct_series):
    module = _library("turbodicom")
    paths = [str(p) for p in ct_series]
    run = _turbodicom_scan(paths, workers)
    _check(run(), len(paths))
    description = (
        f"the same scan with `workers=1` and `workers=2`; target: workers=1 time / workers=2 time "
        f"≥ {WORKERS_TARGET:g}"
    )
    extra = {"baseline": True} if workers == 1 else {"target_speedup": WORKERS_TARGET}
    _describe(benchmark, "turbodicom", module, ct_series, description, label=f"workers={workers}",
              workers=workers, **extra)
    benchmark.pedantic(run, rounds=ROUNDS["turbodicom"], iterations=1, warmup_rounds=1)
