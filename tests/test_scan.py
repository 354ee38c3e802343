"""turbodicom.scan: the values pydicom gives, from every file, and sound behaviour on bad input."""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import struct
import sys
import warnings
import zlib
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
    "RequestedProcedureCodeSequence[0].PatientName",  # an item with a character set of its own
    "RequestedProcedureCodeSequence[0].CodeValue",
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
    # repeating groups and group lengths
    "(6000,0010)",
    "(6000,3000)",
    "(0008,0000)",
    "(0028,0000)",
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


def read_pydicom(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, force=True, **options)
        except Exception:  # noqa: BLE001 - files pydicom cannot read are not compared
            return None


def reference_dataset(path):
    """pydicom's dataset for `path`, the reference scan is compared with.

    One exception to reading the whole file: when a file ends inside Pixel Data
    of undefined length, pydicom warns "End of file reached before delimiter"
    and returns an empty dataset. scan reads each file only up to the last
    requested attribute (all of TAGS precede Pixel Data) and so sees what
    pydicom sees with ``stop_before_pixels=True``: that is the reference then.
    """
    ds = read_pydicom(path)
    if ds is not None and len(ds) == 0:
        partial = read_pydicom(path, stop_before_pixels=True)
        if partial is not None and len(partial):
            return partial
    return ds


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
    ds = reference_dataset(path)
    if ds is None:
        pytest.skip("pydicom cannot read this file")
    expected = expected_row(ds)
    result = scan_quietly([path], TAGS, force=True)
    assert len(result) == 1
    assert result["path"] == [os.fspath(path)]
    names = result.column_names[1:-1]
    assert len(names) == len(TAGS)
    if _Unconvertible not in expected:
        assert result["error"][0] is None, result["error"][0]
    mismatches = []
    for name, want in zip(names, expected):
        got = result[name][0]
        assert isinstance(got, PLAIN_TYPES), f"{name}: {type(got).__name__} is not a plain value"
        if want is _Unconvertible:
            # pydicom cannot convert the value: None, and the reason in the error column
            if got is not None or not result["error"][0]:
                mismatches.append(f"{name}: pydicom raises, turbodicom gives {got!r:.200}")
        elif not same(want, got):
            mismatches.append(f"{name}: pydicom {want!r:.200} != turbodicom {got!r:.200}")
    assert not mismatches, "\n".join(mismatches)


PIXEL_TAGS = ["Rows", "PixelData", "FloatPixelData", "DoubleFloatPixelData", "DataSetTrailingPadding"]


@pytest.mark.skipif(not FILES, reason="no test files")
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_pixel_data_and_what_follows_as_pydicom(path: Path) -> None:
    """Pixel Data (native or encapsulated) and the elements after it, as pydicom reads them."""
    ds = read_pydicom(path)
    if ds is None:
        pytest.skip("pydicom cannot read this file")
    result = scan_quietly([path], PIXEL_TAGS, force=True)
    row = result.to_pylist()[0]
    if len(ds) == 0 and len(read_pydicom(path, stop_before_pixels=True) or ()) > 0:
        # The file ends inside Pixel Data of undefined length: pydicom drops the whole
        # dataset without an error. Either that, or an error saying why, is right.
        if row["error"] is not None:
            assert all(row[name] is None for name in PIXEL_TAGS)
            return
    assert row["error"] is None, row["error"]
    mismatches = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PIXEL_TAGS:
            want = pydicom_value(ds, name)
            if not same(want, row[name]):
                mismatches.append(f"{name}: pydicom {want!r:.80} != turbodicom {row[name]!r:.80}")
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


# --- every VR and its edge cases, in every uncompressed transfer syntax ---------------------

_LONG_LENGTH_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
_NUMBER_FORMATS = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "UV": "Q", "SV": "q", "FL": "f", "FD": "d",
                   "OF": "f", "OD": "d", "OL": "L", "OV": "Q", "OW": "H"}
_UNDEFINED = 0xFFFFFFFF


def _tag_number(name) -> int:
    return name if isinstance(name, int) else keyword_dict[name]


def _encode_value(vr: str, value, implicit: bool, little: bool) -> bytes:
    if vr == "SQ":
        raise AssertionError("sequences are encoded by _encode_dataset")
    if vr == "AT":
        order = "<" if little else ">"
        return b"".join(struct.pack(order + "HH", t >> 16, t & 0xFFFF) for t in value)
    if vr in _NUMBER_FORMATS and not isinstance(value, bytes):
        return struct.pack(("<" if little else ">") + _NUMBER_FORMATS[vr] * len(value), *value)
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB", "UN") else b" "
    return value


def _encode_dataset(elements, implicit: bool, little: bool) -> bytes:
    """Elements (name or tag, VR, value); a sequence's value is a list of items (lists of
    elements), of undefined length when the VR is given as "SQ?" ."""
    order = "<" if little else ">"
    out = b""
    for name, vr, value in sorted(elements, key=lambda e: _tag_number(e[0])):
        tag = _tag_number(name)
        head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF)
        undefined = vr == "SQ?"
        if vr.startswith("SQ"):
            vr = "SQ"
            body = b""
            for item in value:
                content = _encode_dataset(item, implicit, little)
                if undefined:
                    body += struct.pack(order + "HHL", 0xFFFE, 0xE000, _UNDEFINED) + content
                    body += struct.pack(order + "HHL", 0xFFFE, 0xE00D, 0)
                else:
                    body += struct.pack(order + "HHL", 0xFFFE, 0xE000, len(content)) + content
            if undefined:
                body += struct.pack(order + "HHL", 0xFFFE, 0xE0DD, 0)
            length = _UNDEFINED if undefined else len(body)
        else:
            body = _encode_value(vr, value, implicit, little)
            length = len(body)
        if implicit:
            out += head + struct.pack(order + "L", length) + body
        elif vr in _LONG_LENGTH_VRS:
            out += head + vr.encode() + b"\0\0" + struct.pack(order + "L", length) + body
        else:
            out += head + vr.encode() + struct.pack(order + "H", length) + body
    return out


SYNTAXES = {
    "implicit-le": ("1.2.840.10008.1.2", True, True),
    "explicit-le": ("1.2.840.10008.1.2.1", False, True),
    "explicit-be": ("1.2.840.10008.1.2.2", False, False),
    "deflated": ("1.2.840.10008.1.2.1.99", False, True),
}


def write_part10(path: Path, elements, syntax: str) -> Path:
    uid, implicit, little = SYNTAXES[syntax]
    meta = _encode_dataset([
        (0x00020001, "OB", b"\0\1"),
        (0x00020002, "UI", b"1.2.840.10008.5.1.4.1.1.7"),
        (0x00020003, "UI", b"1.2.3.4.5.6"),
        (0x00020010, "UI", uid.encode()),
    ], False, True)
    meta = _encode_dataset([(0x00020000, "UL", [len(meta)])], False, True) + meta
    body = _encode_dataset(elements, implicit, little)
    if syntax == "deflated":
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = compressor.compress(body) + compressor.flush()
    path.write_bytes(b"\0" * 128 + b"DICM" + meta + body)
    return path


# The character set, and names written in it (bytes) that decode to something other than ASCII.
CHARSETS = {
    "none": (None, "Müller^Hans".encode("latin-1")),
    "latin1": (b"ISO_IR 100", "Müller^Hans".encode("latin-1")),
    "utf8": (b"ISO_IR 192", "Müller^Hans=山田^太郎".encode("utf-8")),
    "ascii": (b"ISO_IR 6", b"Mueller^Hans"),
    "iso2022-japanese": (b"\\ISO 2022 IR 87", "Yamada^Tarou=".encode() + b"\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B"),
}


def edge_case_elements(charset: bytes | None, name: bytes, implicit: bool) -> list:
    """Every VR, with the spacing, padding, emptiness and multiplicity that conversions get wrong."""
    def item(uid: bytes) -> list:
        return [("ReferencedSOPClassUID", "UI", b"1.2.840.10008.5.1.4.1.1.2"), ("ReferencedSOPInstanceUID", "UI", uid)]

    elements = [
        ("ImageType", "CS", b" ORIGINAL \\PRIMARY\\\\AXIAL "),
        ("StudyDate", "DA", b"20200102"),
        ("PatientBirthDate", "DA", b""),
        ("StudyTime", "TM", b"120000.5 "),
        ("AcquisitionDateTime", "DT", b"20200101120000.5+0100 "),
        ("SOPClassesInStudy", "UI", b"1.2.3\\1.2.840.10008.1\0"),
        ("SOPInstanceUID", "UI", b"1.2.3.4.5.6\0"),
        ("RetrieveAETitle", "AE", b" AET1 \\AET2 "),
        ("PatientAge", "AS", b"042Y"),
        ("Manufacturer", "LO", b"  Vendor  "),
        ("InstitutionName", "LO", name.split(b"^")[0]),
        ("PatientName", "PN", name),
        ("PerformingPhysicianName", "PN", b"A^B\\C^D "),
        ("ReferringPhysicianName", "PN", b""),
        ("AccessionNumber", "SH", b" 12 "),
        ("InstitutionAddress", "ST", b" Street 1\\2  "),
        ("ImageComments", "LT", b"line1\r\nline2\\x  "),
        ("TextValue", "UT", b" text \\ more "),
        ("LongCodeValue", "UC", b"a\\b "),
        ("CodingSchemeURL", "UR", b"http://example.org/a b "),
        ("SliceThickness", "DS", b" 1.5 "),
        ("PixelSpacing", "DS", b"0.5\\1e3 "),
        ("ImagePositionPatient", "DS", b"-1.0\\+2\\3.25"),
        ("WindowCenter", "DS", b""),
        ("RescaleSlope", "DS", b"1"),
        ("InstanceNumber", "IS", b"+7"),
        ("SeriesNumber", "IS", b" 007 "),
        ("AcquisitionNumber", "IS", b""),
        ("Rows", "US", [512]),
        ("Columns", "US", [65535]),
        ("PixelRepresentation", "US", [1]),
        ("SmallestImagePixelValue", "SS", [-5]),
        ("LargestImagePixelValue", "SS", [300]),
        ("RedPaletteColorLookupTableDescriptor", "US", [256, 0, 16]),
        ("TagAngleSecondAxis", "SS", [-3]),
        ("ReferencePixelX0", "SL", [-100000]),
        ("ReferencedSamplePositions", "UL", [1, 4000000000]),
        ("ExaminedBodyThickness", "FL", [1.5]),
        ("TimeRange", "FD", [0.25, -1e300]),
        ("FileOffsetInContainer", "UV", [2**63 + 5]),
        ("SelectorSVValue", "SV", [-2**62, 3]),
        ("FrameIncrementPointer", "AT", [0x00181063, 0x00181065]),
        ("EncapsulatedDocument", "OB", b"%PDF\0\1"),
        ("RedPaletteColorLookupTableData", "OW", [1, 2, 65535]),
        ("VerticesOfThePolygonalOutline", "OF", [1.0, -2.5]),
        ("FilterLookupTableData", "OD", [0.5]),
        ("LongPrimitivePointIndexList", "OL", [7, 8]),
        ("SelectorOVValue", "OV", [2**40]),
        ("ReferencedImageSequence", "SQ?", [item(b"1.2.3.1"), item(b"1.2.3.2"), item(b"1.2.3.3")]),
        ("SourceImageSequence", "SQ", [item(b"1.2.3.9")]),
        ("OtherPatientIDsSequence", "SQ", []),
        ("PerFrameFunctionalGroupsSequence", "SQ?", [
            [("PlanePositionSequence", "SQ", [[("ImagePositionPatient", "DS", b"1\\2\\3")]])],
            [("PlanePositionSequence", "SQ?", [[("ImagePositionPatient", "DS", b"4\\5\\6.5")]])],
        ]),
        # private: a creator, an element the private dictionary knows, one it does not
        (0x00090010, "LO", b"GEMS_IDEN_01"),
        (0x00091001, "LO", b"GE_GENESIS_FF"),
        (0x00190010, "LO", b"GEMS_ACQU_01"),
        (0x00191002, "SL", [912]),
        (0x00191003, "DS", b"373.75"),
        (0x00110010, "LO", b"ACME 1.0"),
        (0x00111001, "UN", b"\1\2\3\4"),
    ]
    if not implicit:
        # a public attribute written as UN (pydicom reads it with the dictionary's VR)
        elements.append(("StationName", "UN", b"STATION1"))
        elements.append(("Modality", "UN", b"CT"))
    if charset is not None:
        elements.append(("SpecificCharacterSet", "CS", charset))
    return elements


EDGE_TAGS = [
    "SpecificCharacterSet", "ImageType", "StudyDate", "PatientBirthDate", "StudyTime", "AcquisitionDateTime",
    "SOPClassesInStudy", "SOPInstanceUID", "RetrieveAETitle", "PatientAge", "Manufacturer", "InstitutionName",
    "PatientName", "PerformingPhysicianName", "ReferringPhysicianName", "AccessionNumber", "InstitutionAddress",
    "ImageComments", "TextValue", "LongCodeValue", "CodingSchemeURL", "SliceThickness", "PixelSpacing",
    "ImagePositionPatient", "WindowCenter", "RescaleSlope", "InstanceNumber", "SeriesNumber",
    "AcquisitionNumber", "Rows", "Columns", "PixelRepresentation", "SmallestImagePixelValue",
    "LargestImagePixelValue", "RedPaletteColorLookupTableDescriptor", "TagAngleSecondAxis", "ReferencePixelX0",
    "ReferencedSamplePositions", "ExaminedBodyThickness", "TimeRange", "FileOffsetInContainer",
    "SelectorSVValue", "FrameIncrementPointer", "EncapsulatedDocument", "RedPaletteColorLookupTableData",
    "VerticesOfThePolygonalOutline", "FilterLookupTableData", "LongPrimitivePointIndexList", "SelectorOVValue",
    "StationName", "Modality", "ReferencedImageSequence", "SourceImageSequence", "OtherPatientIDsSequence",
    "PerFrameFunctionalGroupsSequence",
    "ReferencedImageSequence[0].ReferencedSOPInstanceUID", "ReferencedImageSequence[2].ReferencedSOPInstanceUID",
    "ReferencedImageSequence[3].ReferencedSOPInstanceUID", "ReferencedImageSequence[-1].ReferencedSOPInstanceUID",
    "ReferencedImageSequence[-3].ReferencedSOPInstanceUID", "ReferencedImageSequence[-4].ReferencedSOPInstanceUID",
    "SourceImageSequence[0].ReferencedSOPClassUID", "OtherPatientIDsSequence[0].PatientID",
    "PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0].ImagePositionPatient",
    "PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].ImagePositionPatient",
    "PerFrameFunctionalGroupsSequence[1].PlanePositionSequence",
    "(0009,0010)", "(0009,1001)", "(0019,1002)", "(0019,1003)", "(0011,0010)", "(0011,1001)",
]


def compare_with_pydicom(path: Path, tags: list, force: bool = False) -> list[str]:
    """The differences between scan's values and pydicom's for one file."""
    ds = read_pydicom(path)
    assert ds is not None, "pydicom cannot read the file"
    result = scan_quietly([path], tags, force=force)
    assert result["error"][0] is None, result["error"][0]
    mismatches = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec, name in zip(tags, result.column_names[1:-1]):
            want = pydicom_value(ds, spec)
            got = result[name][0]
            if not isinstance(got, PLAIN_TYPES):
                mismatches.append(f"{name}: {type(got).__name__} is not a plain value")
            elif not same(want, got):
                mismatches.append(f"{name}: pydicom {want!r:.120} != turbodicom {got!r:.120}")
    return mismatches


@pytest.mark.parametrize("charset", list(CHARSETS))
@pytest.mark.parametrize("syntax", list(SYNTAXES))
def test_edge_values_as_pydicom(tmp_path: Path, syntax: str, charset: str) -> None:
    value, name = CHARSETS[charset]
    elements = edge_case_elements(value, name, SYNTAXES[syntax][1])
    path = write_part10(tmp_path / f"{syntax}-{charset}.dcm", elements, syntax)
    mismatches = compare_with_pydicom(path, EDGE_TAGS)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("syntax", list(SYNTAXES))
@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm",
                                  "examples_overlay.dcm", "liver_1frame.dcm", "chrH31.dcm", "chrSQEncoding.dcm",
                                  "chrX1.dcm"])
def test_reencoded_files_as_pydicom(tmp_path: Path, name: str, syntax: str) -> None:
    """Real headers (private tags with known creators included) written by pydicom in each syntax."""
    source = (get_charset_files(name) or [get_testdata_file(name)])[0]
    ds = read_pydicom(source)
    for tag in [t for t in ds.keys() if t >= 0x7FE00000]:
        del ds[tag]
    ds.file_meta = getattr(ds, "file_meta", None) or pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = SYNTAXES[syntax][0]
    ds.file_meta.MediaStorageSOPClassUID = ds.file_meta.get("MediaStorageSOPClassUID") or "1.2.3"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.file_meta.get("MediaStorageSOPInstanceUID") or "1.2.3.4"
    path = tmp_path / f"{syntax}.dcm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
    mismatches = compare_with_pydicom(path, TAGS)
    assert not mismatches, "\n".join(mismatches)


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
    """Many files of many kinds and character sets in one call: each row is that file's scan."""
    together = scan_quietly(FILES, TAGS, force=True, workers=2)
    assert together["path"] == [os.fspath(p) for p in FILES]
    for i, path in enumerate(FILES):
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
    (root / "sub" / "deeper").mkdir(parents=True)
    good = {
        "ct": shutil.copyfile(ct, root / "ct.dcm"),
        "nested": shutil.copyfile(mr, root / "sub" / "deeper" / "mr"),
        "link": root / "link-to-ct.dcm",
    }
    good["link"].symlink_to(good["ct"])
    bad = {
        "text": _write(root / "notes.txt", b"not a DICOM file\n" * 20),
        "empty": _write(root / "empty.dcm", b""),
        "one_byte": _write(root / "one.dcm", b"\x00"),
        "png": _write(root / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64),
        "preamble_only": _write(root / "t-0128.dcm", data[:128]),
        "in_prefix": _write(root / "t-0130.dcm", data[:130]),
        "broken_link": root / "broken-link.dcm",
    }
    # Cut after the prefix: pydicom reads these without a word, up to where they end.
    truncated = {n: _write(root / f"t-{n:04d}.dcm", data[:n]) for n in (132, 150, 700, 1000, 3000)}
    bad["broken_link"].symlink_to(root / "does-not-exist.dcm")
    (root / "sub" / "loop").symlink_to(root)  # a link to a parent directory
    (root / "link-to-sub").symlink_to(root / "sub")
    return {"root": root, **{f"good_{k}": v for k, v in good.items()}, **{f"bad_{k}": v for k, v in bad.items()},
            **{f"truncated_{k}": v for k, v in truncated.items()}}


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
    broken = rows[os.fspath(mixed_dir["bad_broken_link"])]["error"]
    assert any(w in broken.lower() for w in ("no such file", "not found", "cannot open", "does not exist")), broken
    # Files cut short after the 'DICM' prefix: pydicom reads them without an error, up to
    # where they end, and scan gives what pydicom gives.
    for key, path in mixed_dir.items():
        if key.startswith("truncated_"):
            assert_row_as_pydicom(rows[os.fspath(path)], path, TRUNCATED_TAGS, result.column_names[1:-1])


def assert_row_as_pydicom(row: dict, path: Path, tags: list, names: list, force: bool = False) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=force)
        except Exception:  # noqa: BLE001
            ds = None
    if ds is None:
        assert isinstance(row["error"], str) and row["error"], path.name
        assert all(row[name] is None for name in names), path.name
        return
    assert row["error"] is None, f"{path.name}: {row['error']}"
    for spec, name in zip(tags, names):
        want = pydicom_value(ds, spec)
        assert same(want, row[name]), f"{path.name}: {name}: pydicom {want!r} != turbodicom {row[name]!r}"


def test_truncated_files_at_every_offset(tmp_path: Path) -> None:
    """Nothing crashes; a file cut anywhere gives pydicom's values (or an error where pydicom raises)."""
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    offsets = sorted({0, 1, 4, 127, 128, 131, 132, 133, 140, 144, 150, 200, 333, 500, 777, 1000, 1500,
                      2000, 3000, len(data) // 2, len(data) - 1} | set(range(128, 400, 7)))
    files = [_write(tmp_path / f"cut-{n:06d}.dcm", data[:n]) for n in offsets]
    tags = TRUNCATED_TAGS + ["PixelData"]
    for force in (False, True):
        result = scan_quietly(files, tags, force=force, workers=2)
        assert result["path"] == [os.fspath(f) for f in files]
        names = result.column_names[1:-1]
        for path, row in zip(files, result.to_pylist()):
            assert_row_as_pydicom(row, path, tags, names, force=force)


def test_file_names_of_any_bytes(tmp_path: Path) -> None:
    """Names in UTF-8 and names that are not (Latin-1 from old systems): listed, read, reported,
    as str with surrogate escapes, the way os.fsdecode and os.listdir give them."""
    ct = Path(get_testdata_file("CT_small.dcm"))
    root = tmp_path / "names"
    root.mkdir()
    shutil.copyfile(ct, root / "é 日本 file.dcm")
    raw_root = os.fsencode(root)
    shutil.copyfile(ct, raw_root + b"/latin1-\xe9.dcm")
    with open(raw_root + b"/latin1-\xe9.txt", "wb") as f:
        f.write(b"not DICOM")
    os.symlink(raw_root + b"/nowhere-\xe9.dcm", raw_root + b"/broken-\xe9.dcm")
    expected = sorted(os.path.join(os.fsdecode(root), name) for name in os.listdir(root))
    patient = read_pydicom(ct).PatientID
    for source in (root, sorted(root.iterdir()), [os.fsencode(p) for p in sorted(root.iterdir())]):
        result = scan_quietly(source, ["PatientID"])
        assert sorted(result["path"]) == expected
        rows = {row["path"]: row for row in result.to_pylist()}
        for path, row in rows.items():
            if path.endswith(".dcm") and "broken" not in path:
                assert row["PatientID"] == patient and row["error"] is None, row
            else:
                assert row["PatientID"] is None and isinstance(row["error"], str), row


def test_mixed_directory_skip(mixed_dir) -> None:
    result = scan_quietly(mixed_dir["root"], TRUNCATED_TAGS, on_error="skip")
    readable = {os.fspath(v) for k, v in mixed_dir.items() if k.startswith(("good_", "truncated_"))}
    assert set(result["path"]) == readable
    assert "error" not in result.column_names
    rows = dict(zip(result["path"], result["Rows"]))
    assert all(rows[os.fspath(mixed_dir[k])] is not None for k in ("good_ct", "good_nested", "good_link"))


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
    path = get_testdata_file("ExplVR_LitEndNoMeta.dcm")
    ds = read_pydicom(path)
    without = scan_quietly([path], ["Modality", "SOPInstanceUID"])
    with_force = scan_quietly([path], ["Modality", "SOPInstanceUID"], force=True)
    assert without["error"][0] is not None and without["Modality"] == [None]
    assert with_force["error"][0] is None
    assert with_force["Modality"] == [ds.Modality] and with_force["SOPInstanceUID"] == [ds.SOPInstanceUID]


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
    assert pd.api.types.is_string_dtype(df["PatientID"]) and pd.api.types.is_string_dtype(df["path"])
    assert df["PixelSpacing"].iloc[0] == result["PixelSpacing"][0]  # lists stay lists
    assert df["ImageType"].iloc[0] == result["ImageType"][0]
    # integers stay integers where some are missing (nullable Int64), decimals are float64
    assert df["Rows"].dtype == pd.Int64Dtype()
    assert df["Rows"].iloc[0] == 128 and df["Rows"].isna().iloc[2]
    assert df["SliceThickness"].dtype == "float64"
    assert df["SliceThickness"].iloc[0] == result["SliceThickness"][0] and df["SliceThickness"].isna().iloc[3]
    assert df["error"].isna().tolist() == [e is None for e in result["error"]]
    # integers beyond int64 (UV) are kept as Python ints
    big = turbodicom.ScanResult(["a", "b"], {"FileOffsetInContainer": [2**64 - 1, None]}, [None, None])
    assert big.to_pandas()["FileOffsetInContainer"].tolist() == [2**64 - 1, None]


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
    """A column holding a number in one file and a list in another becomes a list
    column (one-item lists for the single values), and a column that does not mix
    keeps its type."""
    pytest.importorskip("pyarrow")
    files = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtdose.dcm")]
    files += [p for p in corpus_files() if p.name == "MR-SIEMENS-DICOM-WithOverlays.dcm"]
    result = scan_quietly(files, ["WindowCenter", "ImageType", "GridFrameOffsetVector"])
    table = result.to_arrow()
    assert table.num_rows == len(files)
    for name in ("WindowCenter", "ImageType", "GridFrameOffsetVector"):
        values = table.column(name).to_pylist()
        mixed = any(isinstance(v, list) for v in result[name])
        for got, want in zip(values, result[name]):
            if mixed and want is not None and not isinstance(want, list):
                want = [want]
            assert got == want, (name, got, want)
    assert table.column("WindowCenter").type.value_type == "double"
    assert table.column("GridFrameOffsetVector").to_pylist() == result["GridFrameOffsetVector"]


# --- progress ---------------------------------------------------------------------


def test_progress_without_a_terminal(monkeypatch, capsys) -> None:
    files = [get_testdata_file("CT_small.dcm")] * 50
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    result = scan_quietly(files, ["PatientID"], progress=True, workers=2)
    assert len(result) == 50 and all(e is None for e in result["error"])
    assert fake.getvalue() == ""  # nothing drawn where there is no terminal


def test_progress_on_a_terminal(monkeypatch) -> None:
    """On a terminal the bar is drawn while the scan runs and erased at the end."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    files = [get_testdata_file("CT_small.dcm")] * 2000
    result = scan_quietly(files, ["PatientID", "Rows"], progress=True, workers=1)
    assert len(result) == 2000 and all(e is None for e in result["error"])
    drawn = fake.getvalue()
    assert drawn == "" or (drawn.endswith("\r") and "scan" in drawn), drawn[-200:]


def test_progress_on_an_empty_list() -> None:
    assert len(scan_quietly([], ["PatientID"], progress=True)) == 0


def test_file_meta_tags() -> None:
    paths = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm")]
    result = scan_quietly(paths, ["TransferSyntaxUID", "MediaStorageSOPInstanceUID", "PatientID"])
    for i, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        assert result["TransferSyntaxUID"][i] == ds.file_meta.TransferSyntaxUID
        assert result["MediaStorageSOPInstanceUID"][i] == ds.file_meta.MediaStorageSOPInstanceUID
        assert result["PatientID"][i] == ds.PatientID
