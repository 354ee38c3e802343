"""Element access on turbodicom's datasets gives exactly pydicom's DataElements and values."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom import config
from pydicom.multival import MultiValue

import turbodicom
from conftest import all_files

FILES = all_files()
IDS = [f"{p.parent.name}/{p.name}" for p in FILES]


def describe(value):
    """A value with its exact types and instance attributes, recursively."""
    if isinstance(value, (MultiValue, list)):
        constructor = getattr(value, "_constructor", None)
        return (type(value), [describe(v) for v in value], getattr(constructor, "__qualname__", constructor))
    state = getattr(value, "__dict__", None)
    return (type(value), value, dict(state) if state is not None else None)


def element_state(elem):
    state = dict(elem.__dict__)
    value = state.pop("_value")
    return state, describe(value)


def read_pair(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, force=True), turbodicom.dcmread(path, force=True)
        except Exception:  # noqa: BLE001 - unreadable files are covered elsewhere
            return None, None


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_element_converts_like_pydicom(path: Path) -> None:
    a, b = read_pair(str(path))
    if a is None:
        pytest.skip("unreadable")
    for tag in list(a._dict):
        with warnings.catch_warnings(record=True) as wa:
            warnings.simplefilter("always")
            try:
                ea = a[tag]
            except Exception as exc:  # noqa: BLE001
                ea = exc
        with warnings.catch_warnings(record=True) as wb:
            warnings.simplefilter("always")
            try:
                eb = b[tag]
            except Exception as exc:  # noqa: BLE001
                eb = exc
        if isinstance(ea, Exception):
            assert type(eb) is type(ea), tag
            continue
        assert [str(w.message) for w in wa] == [str(w.message) for w in wb], tag
        if ea.VR == "SQ":
            assert ea == eb, tag
            continue
        assert type(eb) is type(ea), tag
        assert element_state(ea) == element_state(eb), tag


def test_keyword_access_uses_the_same_values() -> None:
    path = pydicom.data.get_testdata_file("CT_small.dcm")
    a, b = pydicom.dcmread(path), turbodicom.dcmread(path)
    for keyword in ("PatientID", "StudyInstanceUID", "Modality", "Rows", "InstanceNumber",
                    "ImagePositionPatient", "PixelSpacing", "ImageType", "KVP", "SliceThickness", "PatientName"):
        assert describe(getattr(b, keyword)) == describe(getattr(a, keyword)), keyword
    with pytest.raises(AttributeError):
        b.NotAKeyword  # noqa: B018
    assert b.get("PatientID") == a.get("PatientID")
    assert "PatientID" in b


def test_non_default_settings_fall_back_to_pydicom() -> None:
    path = pydicom.data.get_testdata_file("CT_small.dcm")
    old = config.use_DS_decimal
    try:
        config.DS_decimal(True)
        a, b = pydicom.dcmread(path), turbodicom.dcmread(path)
        assert describe(b.PixelSpacing) == describe(a.PixelSpacing)
        assert type(b.PixelSpacing[0]).__name__ == "DSdecimal"
    finally:
        config.DS_decimal(old)


def test_dataset_is_a_pydicom_file_dataset() -> None:
    ds = turbodicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))
    assert isinstance(ds, pydicom.FileDataset)
    assert ds[0x00280000:0x00290000] == pydicom.dcmread(pydicom.data.get_testdata_file("CT_small.dcm"))[
        0x00280000:0x00290000
    ]
