"""turbodicom.dcmread gives what pydicom.dcmread gives, file for file and option for option."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

import turbodicom
from conftest import all_files, assert_same_dataset, assert_same_file_dataset, corpus_files

FILES = all_files()
IDS = [f"{p.parent.name}/{p.name}" for p in FILES]

OPTIONS = [
    {},
    {"stop_before_pixels": True},
    {"force": True},
    {"defer_size": 256},
    {"defer_size": "1 KB", "stop_before_pixels": True},
    {"specific_tags": ["PatientName", (0x0020, 0x000D), 0x00280010, "ReferencedImageSequence"]},
]


def read_both(path, **options):
    """(pydicom result or exception, turbodicom result or exception), with the warnings of each."""
    results = []
    for reader in (pydicom.dcmread, turbodicom.dcmread):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results.append((reader(path, **options), None, [str(w.message) for w in caught]))
            except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
                results.append((None, exc, [str(w.message) for w in caught]))
    return results


@pytest.mark.skipif(not FILES, reason="no test files")
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_same_as_pydicom(path: Path, options: dict) -> None:
    (a, a_err, a_warn), (b, b_err, b_warn) = read_both(str(path), **options)
    if a_err is not None:
        assert b_err is not None, f"pydicom raised {a_err!r}, turbodicom read the file"
        assert isinstance(b_err, (turbodicom.InvalidDicomError, type(a_err))), repr(b_err)
        return
    assert b_err is None, f"turbodicom raised {b_err!r}"
    assert_same_file_dataset(a, b)
    # The reading warnings pydicom gives are given too.
    assert [w for w in a_warn if "Expected" in w or "End of file" in w] == [
        w for w in b_warn if "Expected" in w or "End of file" in w
    ]


def test_corpus_is_used() -> None:
    if not corpus_files():
        pytest.skip("../shared/corpus is absent")
    assert len(corpus_files()) > 100


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm"])
def test_file_object_input(name: str) -> None:
    path = get_testdata_file(name)
    with open(path, "rb") as f:
        a = pydicom.dcmread(f)
    with open(path, "rb") as f:
        b = turbodicom.dcmread(f)
    assert_same_file_dataset(a, b)


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "image_dfl.dcm"])
def test_bytes_input_reads_like_bytesio(name: str) -> None:
    data = Path(get_testdata_file(name)).read_bytes()
    a = pydicom.dcmread(io.BytesIO(data))
    for source in (data, bytearray(data), memoryview(data)):
        b = turbodicom.dcmread(source)
        assert_same_dataset(a, b)
        assert_same_dataset(a.file_meta, b.file_meta)
        assert b.filename is None


def test_file_object_at_offset() -> None:
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    buf_a, buf_b = io.BytesIO(b"junk" + data), io.BytesIO(b"junk" + data)
    buf_a.seek(4)
    buf_b.seek(4)
    a = pydicom.dcmread(buf_a)
    b = turbodicom.dcmread(buf_b)
    assert_same_dataset(a, b)
    assert b["PixelData"].file_tell == a["PixelData"].file_tell


def test_pathlike_input() -> None:
    path = Path(get_testdata_file("CT_small.dcm"))
    assert_same_file_dataset(pydicom.dcmread(path), turbodicom.dcmread(path))


def test_everything_pydicom_offers_works(tmp_path: Path) -> None:
    path = get_testdata_file("CT_small.dcm")
    ds = turbodicom.dcmread(path)
    ref = pydicom.dcmread(path)
    assert isinstance(ds, pydicom.FileDataset)
    assert ds.PatientName == ref.PatientName
    assert ds[0x00100010].value == ref[0x00100010].value
    assert (ds.pixel_array == ref.pixel_array).all()
    assert ds.to_json_dict() == ref.to_json_dict()
    out = tmp_path / "copy.dcm"
    ds.save_as(out)
    assert_same_dataset(pydicom.dcmread(out), ref)
    assert out.read_bytes() == Path(path).read_bytes()


def test_deferred_value_is_read_on_access() -> None:
    path = get_testdata_file("CT_small.dcm")
    ds = turbodicom.dcmread(path, defer_size=1024)
    raw = ds._dict[pydicom.tag.Tag("PixelData")]
    assert raw.value is None and raw.length == 32768
    assert ds.PixelData == pydicom.dcmread(path).PixelData


def test_missing_file_raises_like_pydicom(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        turbodicom.dcmread(tmp_path / "absent.dcm")
    with pytest.raises(IsADirectoryError):
        turbodicom.dcmread(tmp_path)
    with pytest.raises(TypeError):
        turbodicom.dcmread(None)


def test_not_dicom_error_has_offset(tmp_path: Path) -> None:
    path = tmp_path / "text.dcm"
    path.write_bytes(b"hello world" * 20)
    with pytest.raises(turbodicom.InvalidDicomError) as info:
        turbodicom.dcmread(path)
    assert isinstance(info.value, pydicom.errors.InvalidDicomError)
    assert info.value.offset == 128
    assert "DICM" in str(info.value)
