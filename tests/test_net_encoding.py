"""The network layer's own encoders against pydicom's: response identifiers, File Meta
Information of received data sets, status data sets and identifiers read back."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_file_meta_info

from turbodicom.net.dimse import (Message, TextIdentifier, decode_dataset, encode_dataset, encode_identifier, part10_header,
                                  status_dataset)

IMPLICIT, EXPLICIT, BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"

STUDY_RESPONSE = [
    (0x00080005, "CS", "ISO_IR 100"),
    (0x00080020, "DA", "20240115"),
    (0x00080052, "CS", "STUDY"),
    (0x00080061, "CS", ["CT", "MR"]),
    (0x00080090, "PN", None),
    (0x00081110, "SQ", []),
    (0x00100010, "PN", "Adams^P000"),
    (0x00100020, "LO", "PAT1"),  # odd length: padded with a space
    (0x0020000D, "UI", "1.2.3.4"),  # odd length: padded with NUL
    (0x00201206, "IS", 2),
    (0x00201208, "IS", 101),
]


@pytest.mark.parametrize("syntax", [IMPLICIT, EXPLICIT])
def test_text_identifier_encodes_as_pydicom(syntax: str) -> None:
    identifier = TextIdentifier(STUDY_RESPONSE)
    raw = identifier.encode(syntax)
    assert raw is not None
    assert raw == encode_dataset(identifier.to_dataset(), syntax)
    back = decode_dataset(raw, syntax)
    assert back.PatientName == "Adams^P000" and back.ModalitiesInStudy == ["CT", "MR"]
    assert back.StudyInstanceUID == "1.2.3.4" and back.NumberOfStudyRelatedInstances == 101
    assert back.ReferringPhysicianName == "" and len(back.ReferencedStudySequence) == 0


@pytest.mark.parametrize("syntax", [BIG, DEFLATED])
def test_text_identifier_leaves_other_syntaxes_to_pydicom(syntax: str) -> None:
    assert TextIdentifier(STUDY_RESPONSE).encode(syntax) is None


def test_text_identifier_leaves_non_ascii_text_to_pydicom() -> None:
    identifier = TextIdentifier([(0x00080005, "CS", "ISO_IR 100"), (0x00100010, "PN", "Müller^Jürgen")])
    assert identifier.encode(EXPLICIT) is None
    assert decode_dataset(encode_dataset(identifier.to_dataset(), EXPLICIT), EXPLICIT).PatientName == "Müller^Jürgen"


@pytest.mark.parametrize("version, source", [("TURBODICOM_1", ""), ("ODD", "AE1")])
def test_part10_header_is_pydicoms_file_meta(version: str, source: str) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = "1.2.3.45"
    meta.TransferSyntaxUID = EXPLICIT
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.10.1"
    if version:
        meta.ImplementationVersionName = version
    if source:
        meta.SourceApplicationEntityTitle = source
    expected = DicomBytesIO()
    expected.is_implicit_VR, expected.is_little_endian = False, True
    expected.write(b"\x00" * 128 + b"DICM")
    write_file_meta_info(expected, meta, enforce_standard=True)
    ours = part10_header(meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, EXPLICIT,
                         meta.ImplementationClassUID, version, source)
    assert ours == expected.getvalue()


def test_part10_header_leaves_out_empty_elements() -> None:
    from turbodicom import dcmread

    header = part10_header("1.2.840.10008.5.1.4.1.1.7", "1.2.3", EXPLICIT, "1.2.826.0.1.3680043.10.1")
    meta = dcmread(header + b"\x08\x00\x18\x00UI\x06\x001.2.3\x00").file_meta
    assert meta.MediaStorageSOPInstanceUID == "1.2.3" and meta.TransferSyntaxUID == EXPLICIT
    assert "ImplementationVersionName" not in meta and "SourceApplicationEntityTitle" not in meta
    assert meta.FileMetaInformationGroupLength == len(header) - 132 - 12


def test_status_dataset_as_pynetdicom_builds_it() -> None:
    response = Message(Status=0xFF00, NumberOfRemainingSuboperations=4, NumberOfCompletedSuboperations=1,
                       NumberOfFailedSuboperations=0, NumberOfWarningSuboperations=0, ErrorComment="busy",
                       AffectedSOPInstanceUID="1.2.3")
    expected = Dataset()
    expected.Status = 0xFF00
    expected.ErrorComment = "busy"
    expected.NumberOfRemainingSuboperations = 4
    expected.NumberOfCompletedSuboperations = 1
    expected.NumberOfFailedSuboperations = 0
    expected.NumberOfWarningSuboperations = 0
    status = status_dataset(response)
    assert status == expected
    assert list(status.keys()) == list(expected.keys())
    assert status.Status == 0xFF00 and "AffectedSOPInstanceUID" not in status


@pytest.mark.parametrize("syntax", [IMPLICIT, EXPLICIT])
def test_decoded_identifier_equals_pydicoms(syntax: str) -> None:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.QueryRetrieveLevel = "SERIES"
    ds.PatientName = "Émile^Zola"
    ds.SeriesNumber = "3"
    ds.ReferencedSeriesSequence = [Dataset()]
    ds.ReferencedSeriesSequence[0].SeriesInstanceUID = "1.2.3"
    raw = encode_dataset(ds, syntax)
    ours = decode_dataset(raw, syntax)
    implicit = syntax == IMPLICIT
    theirs = read_dataset(DicomBytesIO(raw), implicit, True)
    assert ours == theirs
    assert ours.PatientName == "Émile^Zola" and ours.ReferencedSeriesSequence[0].SeriesInstanceUID == "1.2.3"
    assert ours.original_encoding == theirs.original_encoding == (implicit, True)
    assert ours.original_character_set == theirs.original_character_set


def _query() -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientName = "DOE^J*"
    ds.PatientID = ""
    ds.StudyDate = "20200101-20201231"
    ds.ModalitiesInStudy = ["CT", "MR"]
    ds.StudyInstanceUID = "1.2.3"
    return ds


@pytest.mark.parametrize("syntax", [IMPLICIT, EXPLICIT, BIG])
def test_query_identifier_encodes_as_pydicom(syntax: str) -> None:
    ds = _query()
    assert TextIdentifier.from_dataset(ds) is not None
    assert encode_identifier(ds, syntax) == encode_dataset(ds, syntax)


def test_query_identifier_with_numbers_or_sequences_goes_to_pydicom() -> None:
    ds = _query()
    ds.SeriesNumber = 3
    assert TextIdentifier.from_dataset(ds) is None
    assert encode_identifier(ds, EXPLICIT) == encode_dataset(ds, EXPLICIT)
    ds = _query()
    ds.ReferencedStudySequence = [Dataset()]
    assert TextIdentifier.from_dataset(ds) is None
    ds = _query()
    ds.PatientName = "Müller^*"
    assert encode_identifier(ds, EXPLICIT) == encode_dataset(ds, EXPLICIT)
