"""Shared test helpers: the corpora and a strict comparison with pydicom."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def corpus_files() -> list[Path]:
    """Every DICOM file of ../shared/corpus (empty when the folder is absent)."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.dcm") if p.is_file())


def pydicom_test_files() -> list[Path]:
    """pydicom's bundled test files, DICOM or not (some are deliberately broken)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = get_testdata_files()
    return sorted(Path(f) for f in files if not f.endswith((".py", ".json", ".txt", ".gz", ".bz2", ".zip")))


def all_files() -> list[Path]:
    return corpus_files() + pydicom_test_files()


DATASET_ATTRIBUTES = (
    "_read_implicit",
    "_read_little",
    "_read_charset",
    "_parent_encoding",
    "is_undefined_length_sequence_item",
    "seq_item_tell",
    "file_tell",
)


def assert_same_dataset(a: Dataset, b: Dataset, where: str = "") -> None:
    """`b` holds exactly what `a` holds: same raw elements in the same order,
    same sequences and items, same encoding attributes, and a == b."""
    assert list(a._dict) == list(b._dict), f"{where}: element order differs"
    for tag, ea in a._dict.items():
        eb = b._dict[tag]
        here = f"{where}/{tag}"
        if type(ea) is not type(eb):
            # pydicom converts a few elements while reading (the meta group's
            # first element, Transfer Syntax UID, Specific Character Set):
            # the converted forms must agree.
            da = ea if isinstance(ea, DataElement) else convert_raw_data_element(ea)
            db = eb if isinstance(eb, DataElement) else convert_raw_data_element(eb)
            assert (da.tag, da.VR, da.value) == (db.tag, db.VR, db.value), here
            continue
        if isinstance(ea, RawDataElement):
            assert tuple(ea) == tuple(eb), f"{here}: {tuple(ea)!r:.300} != {tuple(eb)!r:.300}"
        else:
            assert isinstance(ea, DataElement)
            assert (ea.tag, ea.VR, ea.is_undefined_length, ea.file_tell) == (
                eb.tag,
                eb.VR,
                eb.is_undefined_length,
                eb.file_tell,
            ), here
            if ea.VR == "SQ":
                assert len(ea.value) == len(eb.value), here
                assert ea.value.is_undefined_length == eb.value.is_undefined_length, here
                for i, (ia, ib) in enumerate(zip(ea.value, eb.value)):
                    assert_same_dataset(ia, ib, f"{here}[{i}]")
            else:
                assert ea == eb, here
    for name in DATASET_ATTRIBUTES:
        assert getattr(a, name, None) == getattr(b, name, None), f"{where}: {name}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert a == b, where


def assert_same_file_dataset(a, b) -> None:
    assert type(b).__name__ == "FileDataset" or isinstance(b, type(a))
    assert a.preamble == b.preamble
    for name in ("filename", "timestamp", "fileobj_type", "_read_implicit", "_read_little", "_read_charset"):
        assert getattr(a, name) == getattr(b, name), name
    assert_same_dataset(a.file_meta, b.file_meta, "file_meta")
    assert_same_dataset(a, b, "dataset")


@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
