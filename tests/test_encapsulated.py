"""Frame boundaries of encapsulated Pixel Data against pydicom's."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames

import turbodicom
from turbodicom.encapsulated import frame_spans, frames
from conftest import all_files


def encapsulated_files() -> list[Path]:
    out = []
    for path in all_files():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:  # noqa: BLE001
                continue
        syntax = ds.file_meta.get("TransferSyntaxUID")
        try:
            compressed = syntax is not None and syntax.is_compressed
        except ValueError:  # not a transfer syntax UID
            compressed = False
        if compressed and "PixelData" in pydicom.dcmread(path, specific_tags=["PixelData"]):
            out.append(path)
    return out


FILES = encapsulated_files()


@pytest.mark.skipif(not FILES, reason="no encapsulated files")
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_frames_equal_pydicom(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pydicom.dcmread(path)
        nr = int(ref.get("NumberOfFrames", 1) or 1)
        extended = None
        if "ExtendedOffsetTable" in ref:
            extended = (ref.ExtendedOffsetTable, ref.ExtendedOffsetTableLengths)
        try:
            expected = list(generate_frames(ref.PixelData, number_of_frames=nr, extended_offsets=extended))
        except Exception:  # noqa: BLE001
            pytest.skip("pydicom cannot split this one")
    ds = turbodicom.dcmread(path)
    assert frames(ds) == expected


def test_basic_offset_table_and_multi_fragment_frames() -> None:
    frame_a, frame_b = b"\xff\xd8" + b"a" * 30 + b"\xff\xd9", b"\xff\xd8" + b"b" * 50 + b"\xff\xd9"
    ds = pydicom.Dataset()
    ds.NumberOfFrames = 2
    for bot in (True, False):
        ds.PixelData = encapsulate([frame_a, frame_b], fragments_per_frame=3, has_bot=bot)
        assert frames(ds) == [frame_a, frame_b]
        assert len(frame_spans(ds)[0]) == 3


def test_extended_offset_table() -> None:
    frame_list = [bytes([i]) * (100 + 2 * i) for i in range(5)]
    value, offsets, lengths = encapsulate_extended(frame_list)
    ds = pydicom.Dataset()
    ds.NumberOfFrames = 5
    ds.PixelData = value
    ds.ExtendedOffsetTable = offsets
    ds.ExtendedOffsetTableLengths = lengths
    assert frames(ds) == frame_list


@pytest.mark.parametrize(
    "value",
    [b"", b"\xfe\xff\x00\xe0", b"\xfe\xff\x00\xe0\x00\x00\x00\x00\xfe\xff\x00\xe0\xff\xff\xff\x7f",
     b"\xfe\xff\x00\xe0\x04\x00\x00\x00", b"\x01\x02\x03\x04\x00\x00\x00\x00"],
)
def test_malformed_values_raise(value: bytes) -> None:
    ds = pydicom.Dataset()
    ds.PixelData = value
    with pytest.raises(turbodicom.InvalidDicomError):
        frame_spans(ds)
