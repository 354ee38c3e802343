"""turbodicom.scan: the values pydicom gives, from every file, and sound behaviour on bad input."""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import sys
import warnings
from decimal import Decimal
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file
from pydicom.datadict import keyword_dict
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.valuerep import PersonName

import turbodicom
from conftest import all_files, corpus_files

TAGS = [
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "Modality",
    "Rows",
    "Columns",
    "BitsAllocated",
    "PixelRepresentation",
    "NumberOfFrames",
    "InstanceNumber",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "WindowCenter",
    "WindowWidth",
    "ImageType",
    "StudyDate",
    "StudyTime",
    "AcquisitionDateTime",
    "Manufacturer",
    "InstitutionName",
    "StudyDescription",
    "SpecificCharacterSet",
    "RescaleSlope",
    "RescaleIntercept",
    "SmallestImagePixelValue",  # US or SS
    "FrameIncrementPointer",  # AT
    "RedPaletteColorLookupTableDescriptor",  # US or SS, multi-valued
    "ReferencedImageSequence",
    "SourceImageSequence",
    "ReferencedImageSequence[0].ReferencedSOPInstanceUID",
    "SourceImageSequence[0].ReferencedSOPClassUID",
    "SourceImageSequence[-1].ReferencedSOPInstanceUID",
    "PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0].ImagePositionPatient",
    "SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing",
    "OtherPatientIDsSequence[0].PatientID",
    # private: creators, text, numbers, binary, sequences, explicit UN, implicit VR
    "(0009,0010)",
    "(0009,1001)",
    (0x0019, 0x1003),
    0x00191002,
    "(0019,1000)",
    "(0029,0010)",
    "(0029,1010)",
    "(0029,1110)",
    "(0049,1001)",
    "(200D,1017)",
    "(3F03,1001)",
    "(0001,0001)",
]

_HEX = re.compile(r"^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)$")
_STEP = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<item>-?\d+)\])?$")


def _steps(spec) -> list[tuple[int, int | None]]:
    """(tag, item index or None) for each step of a requested tag."""
    if isinstance(spec, tuple):
        return [(Tag(*spec), None)]
    if isinstance(spec, int):
        return [(Tag(spec), None)]
    steps = []
    for part in spec.split("."):
        match = _STEP.match(part)
        name, item = match.group("name"), match.group("item")
        hex_tag = _HEX.match(name)
        tag = Tag(int(hex_tag.group(1) + hex_tag.group(2), 16)) if hex_tag else Tag(keyword_dict[name])
        steps.append((tag, None if item is None else int(item)))
    return steps


def _plain(value):
    """pydicom's value as a plain Python value."""
    if isinstance(value, Sequence):
        return len(value)
    if isinstance(value, (MultiValue, list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, int):  # IS, BaseTag (AT), int
        return int(value)
    if isinstance(value, (float, Decimal)):  # DSfloat, DSdecimal, float
        return float(value)
    if isinstance(value, str):  # UID, str
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


class _Unconvertible(Exception):
    """pydicom raised while converting the value."""


def pydicom_value(ds, spec):
    """What pydicom gives for `spec` in `ds`, as a plain value (None when absent)."""
    steps = _steps(spec)
    for tag, item in steps[:-1]:
        if tag not in ds:
            return None
        try:
            seq = ds[tag].value
        except Exception as exc:  # noqa: BLE001
            raise _Unconvertible(repr(exc)) from exc
        if not isinstance(seq, Sequence):
            return None
        try:
            ds = seq[item]
        except IndexError:
            return None
    tag = steps[-1][0]
    if tag not in ds:
        return None
    try:
        return _plain(ds[tag].value)
    except Exception as exc:  # noqa: BLE001
        raise _Unconvertible(repr(exc)) from exc


PLAIN_TYPES = (type(None), str, int, float, bytes, list)


def same(a, b) -> bool:
    """Equal values of the same plain types (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _charset_files() -> list[Path]:
    return sorted(Path(f) for f in get_charset_files("*.dcm"))


def _dicom_files() -> list[Path]:
    """Every corpus, pydicom test and pydicom character set file (regular files only)."""
    seen: set[str] = set()
    files = []
    for p in all_files() + _charset_files():
        if p.is_file() and str(p) not in seen:
            seen.add(str(p))
            files.append(p)
    return files


FILES = _dicom_files()
IDS = [f"{p.parent.name}/{p.name}" for p in FILES]


def read_pydicom(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, force=True)
        except Exception:  # noqa: BLE001 - files pydicom cannot read are not compared
            return None


def scan_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return turbodicom.scan(*args, **kwargs)


def expected_row(ds) -> list:
    row = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in TAGS:
            try:
                row.append(pydicom_value(ds, spec))
            except _Unconvertible:
                row.append(_Unconvertible)
    return row


# --- values: the same as pydicom's, file by file ------------------------------------


@pytest.mark.skipif(not FILES, reason="no test files")
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_values_as_pydicom(path: Path) -> None:
    ds = read_pydicom(path)
    if ds is None:
        pytest.skip("pydicom cannot read this file")
    expected = expected_row(ds)
    result = scan_quietly([path], TAGS, force=True)
    assert len(result) == 1
    assert result["path"] == [os.fspath(path)]
    names = result.column_names[1:-1]
    assert len(names) == len(TAGS)
    if not any(e is not None for e in expected) and result["error"][0] is not None:
        return  # pydicom read nothing but an empty dataset (a file that is not DICOM)
    assert result["error"][0] is None, result["error"][0]
    mismatches = []
    for spec, name, want in zip(TAGS, names, expected):
        got = result[name][0]
        assert isinstance(got, PLAIN_TYPES), f"{name}: {type(got).__name__} is not a plain value"
        if want is _Unconvertible:
            continue  # pydicom cannot convert the value either; checked in test_unconvertible_values
        if not same(want, got):
            mismatches.append(f"{name}: pydicom {want!r:.200} != turbodicom {got!r:.200}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.skipif(not _charset_files(), reason="pydicom's character set files are missing")
def test_non_ascii_names_as_pydicom() -> None:
    """The character set files hold names in many encodings: decoded as pydicom decodes them."""
    files = _charset_files()
    result = scan_quietly(files, ["PatientName", "SpecificCharacterSet", "InstitutionName"])
    decoded = 0
    for i, path in enumerate(files):
        ds = read_pydicom(path)
        assert result["error"][i] is None
        want = pydicom_value(ds, "PatientName")
        assert same(want, result["PatientName"][i]), path.name
        assert same(pydicom_value(ds, "SpecificCharacterSet"), result["SpecificCharacterSet"][i]), path.name
        decoded += isinstance(want, str) and not want.isascii()
    assert decoded >= 10


def test_sequence_item_count_and_paths() -> None:
    path = get_testdata_file("JPEG2000.dcm")
    ds = read_pydicom(path)
    result = scan_quietly([path], ["SourceImageSequence", "SourceImageSequence[0].ReferencedSOPInstanceUID",
                                   "SourceImageSequence[5].ReferencedSOPInstanceUID",
                                   "SourceImageSequence[0].PatientID"])
    row = result.to_pylist()[0]
    assert row["SourceImageSequence"] == len(ds.SourceImageSequence)
    assert row["SourceImageSequence[0].ReferencedSOPInstanceUID"] == ds.SourceImageSequence[0].ReferencedSOPInstanceUID
    assert row["SourceImageSequence[5].ReferencedSOPInstanceUID"] is None  # no such item
    assert row["SourceImageSequence[0].PatientID"] is None  # no such attribute in the item


# --- the same table however it is asked for ------------------------------------------------


@pytest.mark.skipif(not corpus_files(), reason="no corpus")
def test_directory_and_workers_give_the_same_table() -> None:
    root = corpus_files()[0].parents[0]
    one = scan_quietly(root, TAGS, workers=1)
    two = scan_quietly(root, TAGS, workers=2)
    assert one.column_names == two.column_names
    assert len(one) == len(two) == len([p for p in root.rglob("*") if p.is_file()])
    assert one["path"] == sorted(one["path"])
    for name in one.column_names:
        assert all(same(a, b) for a, b in zip(one[name], two[name])), name
    # and file by file: the same values as when each file is scanned alone
    by_file = scan_quietly([Path(p) for p in one["path"]], TAGS, workers=2)
    for name in one.column_names:
        assert all(same(a, b) for a, b in zip(one[name], by_file[name])), name


def test_all_files_in_one_call_as_file_by_file() -> None:
    files = FILES[:: max(1, len(FILES) // 60)]
    together = scan_quietly(files, TAGS, force=True, workers=2)
    for i, path in enumerate(files):
        alone = scan_quietly([path], TAGS, force=True, workers=1)
        for name in together.column_names:
            assert same(together[name][i], alone[name][0]), (path.name, name)


def test_pathlib_paths_and_generators() -> None:
    files = [Path(get_testdata_file(name)) for name in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")]
    from_paths = scan_quietly(files, ["PatientID", "Modality"])
    from_generator = scan_quietly((p for p in files), ["PatientID", "Modality"])
    from_strings = scan_quietly([str(p) for p in files], ["PatientID", "Modality"])
    assert from_paths.to_pylist() == from_generator.to_pylist() == from_strings.to_pylist()
    assert from_paths["path"] == [str(p) for p in files]
    assert from_paths["Modality"] == ["CT", "MR", "RTPLAN"]
    # a single file as the source
    single = scan_quietly(files[0], ["PatientID"])
    assert single["path"] == [str(files[0])]
    assert single["PatientID"] == [read_pydicom(files[0]).PatientID]


def test_tag_forms_name_the_columns() -> None:
    path = get_testdata_file("CT_small.dcm")
    result = scan_quietly([path], ["PatientID", (0x0028, 0x0010), 0x00280011, "(0009,1001)", "00091002",
                                   "(0009,0010)"])
    assert result.column_names == ["path", "PatientID", "Rows", "Columns", "(0009,1001)", "(0009,1002)",
                                   "(0009,0010)", "error"]
    ds = read_pydicom(path)
    row = result.to_pylist()[0]
    assert row["Rows"] == ds.Rows and row["Columns"] == ds.Columns
    assert row["(0009,1001)"] == ds[0x00091001].value
    assert row["(0009,0010)"] == ds[0x00090010].value


def test_bad_tags_are_refused() -> None:
    path = get_testdata_file("CT_small.dcm")
    with pytest.raises(ValueError):
        turbodicom.scan([path], ["NoSuchKeyword"])
    with pytest.raises(ValueError):
        turbodicom.scan([path], ["PatientID", "PatientID"])
    with pytest.raises(ValueError):
        turbodicom.scan([path], ["PatientID"], on_error="ignore")
    with pytest.raises(TypeError):
        turbodicom.scan(42, ["PatientID"])


# --- mixed directories: everything is accounted for, nothing crashes ------------------------


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def mixed_dir(tmp_path: Path) -> dict[str, Path]:
    """A directory of good files, bad files, a subdirectory and links of every kind."""
    root = tmp_path / "mixed"
    root.mkdir()
    ct = Path(get_testdata_file("CT_small.dcm"))
    mr = Path(get_testdata_file("MR_small.dcm"))
    data = ct.read_bytes()
    good = {
        "ct": shutil.copyfile(ct, root / "ct.dcm"),
        "nested": shutil.copyfile(mr, (root / "sub" / "deeper").mkdir(parents=True) or root / "sub" / "deeper" / "mr"),
        "link": root / "link-to-ct.dcm",
    }
    good["link"].symlink_to(good["ct"])
    bad = {
        "text": _write(root / "notes.txt", b"not a DICOM file\n" * 20),
        "empty": _write(root / "empty.dcm", b""),
        "one_byte": _write(root / "one.dcm", b"\x00"),
        "png": _write(root / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64),
        "preamble_only": _write(root / "t-128.dcm", data[:128]),
        "dicm_only": _write(root / "t-132.dcm", data[:132]),
        "in_meta": _write(root / "t-150.dcm", data[:150]),
        "in_element": _write(root / "t-700.dcm", data[:700]),
        "broken_link": root / "broken-link.dcm",
    }
    bad["broken_link"].symlink_to(root / "does-not-exist.dcm")
    (root / "sub" / "loop").symlink_to(root)  # a link to a parent directory
    (root / "link-to-sub").symlink_to(root / "sub")
    return {"root": root, **{f"good_{k}": v for k, v in good.items()}, **{f"bad_{k}": v for k, v in bad.items()}}


TRUNCATED_TAGS = ["PatientID", "Rows", "PixelSpacing", "(0009,1001)", "ReferencedImageSequence"]


def test_mixed_directory_record(mixed_dir) -> None:
    root = mixed_dir["root"]
    result = scan_quietly(root, TRUNCATED_TAGS)
    paths = result["path"]
    expected_files = {os.fspath(v) for k, v in mixed_dir.items() if k != "root"}
    assert set(paths) == expected_files, "every file and link to a file, and nothing else, is listed"
    assert len(paths) == len(set(paths))  # links to directories were not followed
    rows = {row["path"]: row for row in result.to_pylist()}
    ct = read_pydicom(mixed_dir["good_ct"])
    for key in ("good_ct", "good_link"):
        row = rows[os.fspath(mixed_dir[key])]
        assert row["error"] is None
        assert row["PatientID"] == ct.PatientID and row["Rows"] == ct.Rows
        assert row["PixelSpacing"] == [float(v) for v in ct.PixelSpacing]
    assert rows[os.fspath(mixed_dir["good_nested"])]["Rows"] == read_pydicom(mixed_dir["good_nested"]).Rows
    for key, path in mixed_dir.items():
        if not key.startswith("bad_"):
            continue
        row = rows[os.fspath(path)]
        assert isinstance(row["error"], str) and row["error"], key
        assert all(row[name] is None for name in result.column_names[1:-1]), key
    assert any(w in rows[os.fspath(mixed_dir["bad_broken_link"])]["error"].lower()
               for w in ("no such file", "not found", "cannot open", "does not exist")), \
        rows[os.fspath(mixed_dir["bad_broken_link"])]["error"]


def test_truncated_files_at_every_offset_never_crash(tmp_path: Path) -> None:
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    offsets = sorted({0, 1, 4, 127, 128, 131, 132, 133, 140, 144, 150, 200, 333, 500, 777, 1000, 1500,
                      2000, 3000, len(data) // 2, len(data) - 1} | set(range(128, 400, 7)))
    files = [_write(tmp_path / f"cut-{n:06d}.dcm", data[:n]) for n in offsets]
    for force in (False, True):
        result = scan_quietly(files, TRUNCATED_TAGS + ["PixelData"], force=force, workers=2)
        assert len(result) == len(files)
        for row in result.to_pylist():
            if row["error"] is not None:
                assert all(row[name] is None for name in result.column_names[1:-1]), row


def test_mixed_directory_skip(mixed_dir) -> None:
    result = scan_quietly(mixed_dir["root"], TRUNCATED_TAGS, on_error="skip")
    assert set(result["path"]) == {os.fspath(mixed_dir[k]) for k in ("good_ct", "good_nested", "good_link")}
    assert "error" not in result.column_names
    assert all(v is not None for v in result["Rows"])


def test_mixed_directory_raise(mixed_dir) -> None:
    with pytest.raises(turbodicom.InvalidDicomError):
        scan_quietly(mixed_dir["root"], TRUNCATED_TAGS, on_error="raise")
    # a good file alone does not raise
    assert len(scan_quietly([mixed_dir["good_ct"]], TRUNCATED_TAGS, on_error="raise")) == 1


def test_not_recursive(mixed_dir) -> None:
    result = scan_quietly(mixed_dir["root"], ["PatientID"], recursive=False)
    assert os.fspath(mixed_dir["good_nested"]) not in result["path"]
    assert os.fspath(mixed_dir["good_ct"]) in result["path"]
    assert all(Path(p).parent == mixed_dir["root"] for p in result["path"])


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        turbodicom.scan(tmp_path / "nothing-here", ["PatientID"])
    with pytest.raises(FileNotFoundError):
        turbodicom.scan(os.fspath(tmp_path / "nothing-here.dcm"), ["PatientID"])
    # in a list, a missing file is an error row, not an exception
    result = scan_quietly([tmp_path / "nothing-here.dcm"], ["PatientID"])
    assert result["PatientID"] == [None] and result["error"][0]


def test_empty_directory(tmp_path: Path) -> None:
    result = scan_quietly(tmp_path, ["PatientID"])
    assert len(result) == 0
    assert result.column_names == ["path", "PatientID", "error"]
    assert result.to_pylist() == []


def test_non_dicom_needs_force(tmp_path: Path) -> None:
    """Without force, a file with no preamble is an error; with it, it is read (as pydicom does)."""
    path = get_testdata_file("no_meta.dcm")
    ds = read_pydicom(path)
    without = scan_quietly([path], ["PatientID"])
    with_force = scan_quietly([path], ["PatientID"], force=True)
    assert without["error"][0] is not None and without["PatientID"] == [None]
    assert with_force["error"][0] is None and with_force["PatientID"] == [ds.PatientID]


# --- ScanResult --------------------------------------------------------------------


def _small_result():
    files = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")]
    return scan_quietly(files + ["/nonexistent/file.dcm"],
                        ["PatientID", "Rows", "PixelSpacing", "ImageType", "SliceThickness", "PatientName",
                         "ReferencedImageSequence", "(0009,1001)"])


def test_scan_result_basics() -> None:
    result = _small_result()
    assert len(result) == 4
    assert result.column_names[0] == "path" and result.column_names[-1] == "error"
    assert isinstance(result["Rows"], list) and len(result["Rows"]) == 4
    ct = read_pydicom(get_testdata_file("CT_small.dcm"))
    assert result["Rows"][0] == ct.Rows == 128
    assert result["PixelSpacing"][0] == [float(v) for v in ct.PixelSpacing]
    assert result["ImageType"][0] == list(ct.ImageType)
    assert result["PatientName"][0] == str(ct.PatientName)
    assert result["Rows"][2] is None  # an RT plan has no rows
    assert result["Rows"][3] is None and result["error"][3]
    rows = result.to_pylist()
    assert len(rows) == 4
    assert list(rows[0]) == result.column_names
    assert rows[0]["PatientID"] == ct.PatientID
    with pytest.raises(KeyError):
        result["NoSuchColumn"]
    assert "4 files" in repr(result)


def test_to_pandas() -> None:
    pd = pytest.importorskip("pandas")
    result = _small_result()
    df = result.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == result.column_names
    assert len(df) == 4
    assert df["path"].tolist() == result["path"]
    assert df["PatientID"].iloc[0] == result["PatientID"][0]
    assert df["PixelSpacing"].iloc[0] == result["PixelSpacing"][0]  # lists stay lists
    # numbers are numbers (missing ones NaN or None), not text
    assert pd.api.types.is_numeric_dtype(df["Rows"]) or df["Rows"].dropna().map(type).eq(int).all()
    assert pd.api.types.is_numeric_dtype(df["SliceThickness"])
    assert df["Rows"].iloc[0] == 128
    assert df["Rows"].isna().iloc[2]


def test_to_arrow() -> None:
    pa = pytest.importorskip("pyarrow")
    result = _small_result()
    table = result.to_arrow()
    assert table.num_rows == 4
    assert table.column_names == result.column_names
    assert table.schema.field("Rows").type == pa.int64()
    assert table.schema.field("PatientID").type == pa.string()
    assert table.schema.field("path").type == pa.string()
    assert table.schema.field("error").type == pa.string()
    assert table.schema.field("SliceThickness").type == pa.float64()
    assert table.schema.field("PixelSpacing").type in (pa.list_(pa.float64()), pa.large_list(pa.float64()))
    assert table.schema.field("ImageType").type in (pa.list_(pa.string()), pa.large_list(pa.string()))
    assert table.column("Rows").to_pylist() == result["Rows"]
    assert table.column("PixelSpacing").to_pylist() == result["PixelSpacing"]
    assert table.column("error").to_pylist() == result["error"]


def test_to_arrow_mixed_single_and_multi_values() -> None:
    """A column holding a number in one file and a list in another still converts."""
    pa = pytest.importorskip("pyarrow")
    files = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtdose.dcm")]
    result = scan_quietly(files, ["WindowCenter", "ImageType", "GridFrameOffsetVector"])
    table = result.to_arrow()
    assert table.num_rows == len(files)
    for name in ("WindowCenter", "ImageType", "GridFrameOffsetVector"):
        values = table.column(name).to_pylist()
        for got, want in zip(values, result[name]):
            assert got == want or (want is not None and got == str(want)), (name, got, want)


# --- progress ---------------------------------------------------------------------


def test_progress_without_a_terminal(monkeypatch, capsys) -> None:
    files = [get_testdata_file("CT_small.dcm")] * 50
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    result = scan_quietly(files, ["PatientID"], progress=True, workers=2)
    assert len(result) == 50 and all(e is None for e in result["error"])
    assert fake.getvalue() == ""  # nothing drawn where there is no terminal


def test_progress_on_an_empty_list() -> None:
    assert len(scan_quietly([], ["PatientID"], progress=True)) == 0
