"""Shared test helpers: the corpora and a strict comparison with pydicom."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence

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


# --- comparing what two readers made of damaged input ---------------------------


def element_or_error(ds, tag):
    try:
        return True, ds[tag]
    except Exception as exc:  # pydicom's converters raise many kinds
        return False, exc


def same_value(x, y) -> bool:
    """Equality in which NaN equals NaN (damaged float values are often NaN)."""
    try:
        if x == y:
            return True
    except Exception:
        return False
    if isinstance(x, float) and isinstance(y, float):
        return math.isnan(x) and math.isnan(y)
    if isinstance(x, (list, tuple, MultiValue)) and isinstance(y, (list, tuple, MultiValue)):
        return len(x) == len(y) and all(same_value(a, b) for a, b in zip(x, y))
    return False


def dataset_differences(a, b, path: str = "") -> list[str]:
    """Where two datasets differ, converting their elements in the same order.

    An element whose conversion raises on both sides counts as equal: pydicom
    converts values lazily, so a damaged value raises only when it is used.
    """
    out: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if list(a.keys()) != list(b.keys()):
            return [f"{path or 'dataset'}: tags {sorted(set(a.keys()) ^ set(b.keys()))[:6]} differ"]
        for tag in a.keys():
            ok_a, elem_a = element_or_error(a, tag)
            ok_b, elem_b = element_or_error(b, tag)
            where = f"{path}{tag}"
            if ok_a != ok_b:
                out.append(f"{where}: pydicom {'ok' if ok_a else repr(elem_a)}, "
                           f"turbodicom {'ok' if ok_b else repr(elem_b)}")
            elif not ok_a:
                continue
            elif isinstance(elem_a.value, Sequence) and isinstance(elem_b.value, Sequence):
                if len(elem_a.value) != len(elem_b.value):
                    out.append(f"{where}: {len(elem_a.value)} vs {len(elem_b.value)} items")
                for i, (item_a, item_b) in enumerate(zip(elem_a.value, elem_b.value)):
                    out.extend(dataset_differences(item_a, item_b, f"{where}[{i}]."))
            elif (elem_a.VR, elem_a.tag, elem_a.is_undefined_length) != (elem_b.VR, elem_b.tag,
                                                                         elem_b.is_undefined_length) or \
                    not same_value(elem_a.value, elem_b.value):
                out.append(f"{where}: pydicom {elem_a!r:.80}, turbodicom {elem_b!r:.80}")
    return out
