"""Inputs that once crashed turbodicom or were read differently from pydicom.

Each file in tests/regressions/ (``<short-description>.dcm``, a few KB at
most) must be read within a second into a dataset or raise
``turbodicom.InvalidDicomError``, with and without ``force``. Where pydicom
reads the file, turbodicom must return an equal dataset; where pydicom raises,
turbodicom must raise InvalidDicomError.
"""

from __future__ import annotations

import io
import time
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.sequence import Sequence

import turbodicom
from conftest import dataset_differences, element_or_error

try:
    import pytest_timeout  # noqa: F401

    TIMEOUT = pytest.mark.timeout(60, method="thread")
except ImportError:  # pragma: no cover - the [test] extra has it
    TIMEOUT = pytest.mark.usefixtures()

FOLDER = Path(__file__).resolve().parent / "regressions"
FILES = sorted(FOLDER.glob("*.dcm"))


def read_turbo(source, **kwargs):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            outcome = ("ok", turbodicom.dcmread(source, **kwargs))
        except turbodicom.InvalidDicomError as exc:
            outcome = ("invalid", exc)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"dcmread took {elapsed:.2f} s"
    return outcome


def read_pydicom(data: bytes, **kwargs):
    buffer = io.BytesIO(data)
    buffer.name = "<bytes>"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("ok", pydicom.dcmread(buffer, **kwargs))
        except Exception as exc:  # any failure of pydicom's counts as "raises"
            return ("raised", exc)


def touch_everything(ds, depth: int = 0) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dataset in ([ds.file_meta, ds] if depth == 0 else [ds]):
            for tag in list(dataset.keys()):
                ok, elem = element_or_error(dataset, tag)
                if ok and isinstance(elem.value, Sequence) and depth < 20:
                    for item in elem.value:
                        touch_everything(item, depth + 1)


def test_the_folder_is_there():
    assert FILES, f"no regression inputs in {FOLDER}"
    for path in FILES:
        assert path.stat().st_size < 10 * 1024, f"{path.name} is larger than 10 KB"


@TIMEOUT
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_reads_or_raises(path):
    """A dataset (every value of which converts or raises) or InvalidDicomError, quickly."""
    data = path.read_bytes()
    for source in (data, str(path)):
        for force in (True, False):
            status, result = read_turbo(source, force=force)
            if status == "ok":
                start = time.perf_counter()
                touch_everything(result)
                assert time.perf_counter() - start < 1.0
            else:
                assert isinstance(result, pydicom.errors.InvalidDicomError)
    read_turbo(data, force=True, stop_before_pixels=True)
    read_turbo(data, force=True, defer_size=16)


@TIMEOUT
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_same_outcome_as_pydicom(path):
    data = path.read_bytes()
    mine = read_turbo(data, force=True)
    theirs = read_pydicom(data, force=True)
    if theirs[0] == "raised":
        assert mine[0] == "invalid", f"pydicom raised {theirs[1]!r}, turbodicom returned a dataset"
        return
    assert mine[0] == "ok", f"pydicom read it, turbodicom raised {mine[1]!r}"
    a, b = theirs[1], mine[1]
    assert a.original_encoding == b.original_encoding, "read with another transfer syntax than pydicom's"
    problems = dataset_differences(a.file_meta, b.file_meta, "file_meta ") + dataset_differences(a, b)
    assert a.preamble == b.preamble
    assert not problems, "\n".join(problems[:10])
