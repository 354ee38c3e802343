"""``turbodicom decode`` and ``turbodicom transcode``: outputs, checks by pydicom, error exits."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

import turbodicom
from conftest import CORPUS
from turbodicom.cli import main

RLE_2FRAME = get_testdata_file("SC_rgb_rle_2frame.dcm")
JPEG_LOSSLESS = str(CORPUS / "pydicom-data" / "JPGLosslessP14SV1_1s_1f_8b.dcm")
needs_corpus = pytest.mark.skipif(not (CORPUS / "pydicom-data").is_dir(), reason="the corpus is not available")
CT = get_testdata_file("CT_small.dcm")


def _png_pixels(path) -> np.ndarray:
    """Read back an 8-bit PNG our writer made (filter 0 rows, one IDAT)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    raw = zlib.decompress(data[start : start + length])
    channels = 3 if color == 2 else 1
    row = width * channels * depth // 8
    rows = [raw[r * (row + 1) + 1 : (r + 1) * (row + 1)] for r in range(height)]
    dtype = np.uint8 if depth == 8 else ">u2"
    shape = (height, width, channels) if channels == 3 else (height, width)
    return np.frombuffer(b"".join(rows), dtype=dtype).reshape(shape)


def test_decode_npy(tmp_path, capsys):
    out = tmp_path / "frames.npy"
    assert main.main(["decode", RLE_2FRAME, "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out), pydicom.dcmread(RLE_2FRAME).pixel_array)
    assert "RLE Lossless" in capsys.readouterr().out


def test_decode_png_per_frame(tmp_path):
    out = tmp_path / "frame.png"
    assert main.main(["decode", RLE_2FRAME, "--out", str(out)]) == 0
    expected = pydicom.dcmread(RLE_2FRAME).pixel_array
    for i in range(2):
        np.testing.assert_array_equal(_png_pixels(tmp_path / f"frame_{i + 1:04d}.png"), expected[i])


def test_decode_one_frame_png(tmp_path):
    out = tmp_path / "one.png"
    assert main.main(["decode", RLE_2FRAME, "--frame", "1", "--out", str(out)]) == 0
    np.testing.assert_array_equal(_png_pixels(out), pydicom.dcmread(RLE_2FRAME).pixel_array[1])


def test_decode_bad_suffix(tmp_path, capsys):
    assert main.main(["decode", CT, "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".npy or .png" in capsys.readouterr().err


@needs_corpus
@pytest.mark.parametrize("ts", ["RLELossless", "JPEGLosslessSV1", "1.2.840.10008.1.2.1"])
def test_transcode_lossless(tmp_path, ts):
    out = tmp_path / "out.dcm"
    assert main.main(["transcode", JPEG_LOSSLESS, str(out), "--ts", ts]) == 0
    back = pydicom.dcmread(out)
    expected_uid = getattr(pydicom.uid, ts) if not ts[0].isdigit() else ts
    assert back.file_meta.TransferSyntaxUID == expected_uid
    np.testing.assert_array_equal(turbodicom.pixel_array(back), pydicom.dcmread(JPEG_LOSSLESS).pixel_array)
    assert back.SOPInstanceUID == pydicom.dcmread(JPEG_LOSSLESS).SOPInstanceUID


@needs_corpus
def test_transcode_baseline_quality(tmp_path):
    out = tmp_path / "out.dcm"
    assert main.main(["transcode", JPEG_LOSSLESS, str(out), "--ts", "JPEGBaseline8Bit", "--quality", "95"]) == 0
    back = pydicom.dcmread(out)
    original = pydicom.dcmread(JPEG_LOSSLESS).pixel_array.astype(int)
    assert np.abs(turbodicom.pixel_array(back).astype(int) - original).mean() < 3


def test_transcode_unknown_syntax(tmp_path, capsys):
    assert main.main(["transcode", CT, str(tmp_path / "o.dcm"), "--ts", "NoSuchSyntax"]) == 2
    assert "unknown transfer syntax" in capsys.readouterr().err
