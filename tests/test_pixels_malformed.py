"""Damaged encoded frames: truncated, bits flipped, markers broken, dimensions that do not fit.
Each either decodes or raises PixelDataError naming the frame; nothing crashes or hangs."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.uid import JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLosslessSV1, RLELossless

import turbodicom
from turbodicom import PixelDataError

from test_pixels_decode import files_of

SAMPLES = ("SC_rgb_rle.dcm", "MR_small_RLE.dcm", "JPEGBaseline_1s_1f_u_08_08.dcm", "SC_rgb_jpeg_dcmtk.dcm",
           "JPGLosslessP14SV1_1s_1f_8b.dcm", "JPEGLosslessP14SV1_1s_1f_u_16_16.dcm", "JPEG-lossy.dcm",
           "SC_rgb_dcmtk_+eb+cy+s2.dcm")


def _samples():
    files = files_of(frozenset({JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLosslessSV1, RLELossless}))
    return [p for p in files if p.name in SAMPLES]


def _first_frame(ds) -> bytes:
    return next(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1) or 1)))


def _encapsulated(frame: bytes) -> bytes:
    """One frame in one fragment, whatever its length (pydicom's encapsulate refuses < 2 bytes)."""
    frame = frame + b"\x00" * (len(frame) % 2)
    item = b"\xfe\xff\x00\xe0"
    return item + b"\x00\x00\x00\x00" + item + len(frame).to_bytes(4, "little") + frame


def _decode_with(ds, frame: bytes):
    ds.PixelData = _encapsulated(frame)
    ds.NumberOfFrames = 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return turbodicom.pixel_array(ds)
    except PixelDataError as exc:
        assert exc.frame == 0
        assert exc.reason
        return None


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.name)
def test_truncations_and_bit_flips(path):
    ds = pydicom.dcmread(path)
    frame = _first_frame(ds)
    rng = random.Random(path.name)
    cuts = sorted({0, 1, 2, 10, 64, 65, len(frame) // 2, len(frame) - 2, len(frame) - 1}
                  | {rng.randrange(len(frame)) for _ in range(30)})
    for cut in cuts:
        _decode_with(ds, frame[:cut])
    for _ in range(150):
        damaged = bytearray(frame)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(damaged))
            damaged[i] ^= 1 << rng.randrange(8)
        _decode_with(ds, bytes(damaged))


def test_empty_frame_is_an_error():
    paths = _samples()
    if not paths:
        pytest.skip("the corpus is not available")
    ds = pydicom.dcmread(paths[0])
    ds.PixelData = _encapsulated(b"")
    with pytest.raises(PixelDataError) as info:
        turbodicom.pixel_array(ds)
    assert info.value.frame == 0


@pytest.mark.timeout(30)
def test_dimensions_the_stream_cannot_fill():
    """A header claiming a huge image with almost no data fails fast, without a huge allocation."""
    paths = [p for p in _samples() if p.name == "JPEGBaseline_1s_1f_u_08_08.dcm"]
    if not paths:
        pytest.skip("the corpus is not available")
    ds = pydicom.dcmread(paths[0])
    frame = bytearray(_first_frame(ds))
    sof = frame.find(b"\xff\xc0")
    frame[sof + 5 : sof + 9] = b"\xff\xff\xff\xff"  # 65535 x 65535
    with pytest.raises(PixelDataError):
        _core_decode(bytes(frame), 65535, 65535)


def _core_decode(frame: bytes, rows: int, columns: int):
    from turbodicom import _core

    try:
        return _core.decode_frame(JPEGBaseline8Bit, frame, (rows, columns, 1, 8, 8, False, 0))
    except _core.PixelError as exc:
        raise PixelDataError(str(exc), None, exc.offset, exc.code) from None


def test_dataset_and_stream_disagree():
    paths = [p for p in _samples() if p.name == "JPEGBaseline_1s_1f_u_08_08.dcm"]
    if not paths:
        pytest.skip("the corpus is not available")
    ds = pydicom.dcmread(paths[0])
    with pytest.raises(PixelDataError) as info:
        _core_decode(_first_frame(ds), ds.Rows + 1, ds.Columns)
    assert info.value.reason == "bad header"
    np.testing.assert_array_equal(_core_decode(_first_frame(ds), ds.Rows, ds.Columns),
                                  np.frombuffer(turbodicom.pixel_array(ds).tobytes(), np.uint8))
