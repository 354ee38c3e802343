"""Encoders: exact round trips for the lossless ones at every supported bit depth and sample
count, checked by independent decoders (pylibjpeg, GDCM, pydicom's RLE decoder, DCMTK)."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

import turbodicom


def make_dataset(arr: np.ndarray, bits_stored: int, signed: bool = False, photometric: str | None = None) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    frames = arr.shape[0] if arr.ndim == 4 or (arr.ndim == 3 and arr.shape[-1] != 3) else 1
    color = arr.shape[-1] == 3 and arr.ndim >= 3
    ds.Rows, ds.Columns = (arr.shape[1:3] if frames > 1 else arr.shape[:2])
    ds.SamplesPerPixel = 3 if color else 1
    ds.PhotometricInterpretation = photometric or ("RGB" if color else "MONOCHROME2")
    if color:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = arr.tobytes()
    return ds


def random_image(rng, shape, bits_stored, dtype, signed=False):
    if signed:
        low, high = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1))
    else:
        low, high = 0, 1 << bits_stored
    smooth = np.cumsum(rng.integers(-3, 4, size=shape), axis=-2 if len(shape) > 1 else 0)
    noise = rng.integers(low, high, size=shape)
    arr = np.where(rng.random(shape) < 0.5, np.clip(smooth + (low + high) // 2, low, high - 1), noise)
    return arr.astype(dtype)


def decoded_by(ds: Dataset, plugin: str) -> np.ndarray:
    copy = pydicom.dcmread(_write(ds))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.pixels.pixel_array(copy, decoding_plugin=plugin)


def _write(ds: Dataset):
    from io import BytesIO

    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    buffer.seek(0)
    return buffer


CASES = [(bits, spp) for bits in range(2, 17) for spp in (1, 3) if not (spp == 3 and bits > 8 and bits % 4)]


@pytest.mark.parametrize("bits,spp", CASES, ids=lambda v: str(v))
def test_jpeg_lossless_round_trip(bits, spp):
    rng = np.random.default_rng(bits * 10 + spp)
    dtype = np.uint8 if bits <= 8 else np.uint16
    shape = (37, 41, 3) if spp == 3 else (37, 41)
    arr = random_image(rng, shape, bits, dtype)
    ds = make_dataset(arr, bits)
    turbodicom.compress(ds, JPEGLosslessSV1)
    assert ds.file_meta.TransferSyntaxUID == JPEGLosslessSV1
    np.testing.assert_array_equal(turbodicom.pixel_array(ds), arr)
    # GDCM aborts the process (an assertion) on JPEG Lossless with Bits Allocated 8 and
    # Bits Stored below 8, whatever the stream: it is asked only for the other depths.
    for plugin in ("pylibjpeg", "gdcm") if bits >= 8 else ("pylibjpeg",):
        np.testing.assert_array_equal(decoded_by(ds, plugin), arr, err_msg=plugin)


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_jpeg_lossless_signed(bits):
    rng = np.random.default_rng(bits)
    dtype = np.int8 if bits <= 8 else np.int16
    arr = random_image(rng, (20, 30), bits, dtype, signed=True)
    ds = make_dataset(arr, bits, signed=True)
    turbodicom.compress(ds, JPEGLosslessSV1)
    np.testing.assert_array_equal(turbodicom.pixel_array(ds), arr)
    np.testing.assert_array_equal(decoded_by(ds, "pylibjpeg"), arr)


@pytest.mark.parametrize("bits_allocated,spp", [(8, 1), (8, 3), (16, 1), (16, 3)])
def test_rle_round_trip(bits_allocated, spp):
    rng = np.random.default_rng(bits_allocated + spp)
    dtype = {8: np.uint8, 16: np.uint16, 32: np.uint32}[bits_allocated]
    shape = (3, 19, 23, 3) if spp == 3 else (3, 19, 23)
    arr = random_image(rng, shape, bits_allocated, dtype)
    ds = make_dataset(arr, bits_allocated)
    turbodicom.compress(ds, RLELossless)
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    np.testing.assert_array_equal(turbodicom.pixel_array(ds), arr)
    for plugin in ("pydicom", "pylibjpeg"):
        np.testing.assert_array_equal(decoded_by(ds, plugin), arr, err_msg=plugin)


@pytest.mark.parametrize("bits_allocated,spp", [(32, 1), (32, 3), (64, 1)])
def test_rle_wide_samples(bits_allocated, spp):
    """32- and 64-bit samples (RT Dose): outside pydicom's encoding profile, so encoded
    directly and decoded by pydicom's own RLE decoder."""
    from pydicom.encaps import encapsulate

    from turbodicom import _core

    rng = np.random.default_rng(bits_allocated * spp)
    dtype = {32: np.uint32, 64: np.uint64}[bits_allocated]
    shape = (2, 17, 13, 3) if spp == 3 else (2, 17, 13)
    arr = random_image(rng, shape, min(bits_allocated, 62), dtype)
    ds = make_dataset(arr, bits_allocated)
    desc = (ds.Rows, ds.Columns, spp, bits_allocated, bits_allocated, False, 0)
    ds.PixelData = encapsulate([_core.encode_rle(frame.tobytes(), desc) for frame in arr])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = RLELossless
    np.testing.assert_array_equal(turbodicom.pixel_array(ds), arr)
    if bits_allocated == 32:
        np.testing.assert_array_equal(decoded_by(ds, "pydicom"), arr)


def test_pydicom_compress_uses_turbodicom():
    rng = np.random.default_rng(1)
    arr = random_image(rng, (16, 16), 12, np.uint16)
    ds = make_dataset(arr, 12)
    ds.compress(JPEGLosslessSV1)  # pydicom has no encoder of its own for this syntax
    np.testing.assert_array_equal(decoded_by(ds, "gdcm"), arr)


@pytest.mark.parametrize("spp,photometric", [(1, "MONOCHROME2"), (3, "YBR_FULL_422"), (3, "RGB")])
def test_jpeg_baseline_quality(spp, photometric):
    y, x = np.mgrid[0:64, 0:80]
    grey = (128 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0)).astype(np.uint8)
    arr = np.stack([grey, np.flipud(grey), 255 - grey], axis=-1) if spp == 3 else grey
    ds = make_dataset(arr, 8, photometric=photometric)
    turbodicom.compress(ds, JPEGBaseline8Bit, quality=95)
    assert ds.PhotometricInterpretation == photometric
    ours = turbodicom.pixel_array(ds).astype(np.int32)
    # Other decoders upsample chroma their own way: a few levels apart at edges.
    for plugin in ("pylibjpeg", "gdcm"):
        theirs = decoded_by(ds, plugin).astype(np.int32)
        assert np.abs(theirs - ours).max() <= (4 if photometric == "YBR_FULL_422" else 1), plugin
    error = np.abs(ours - arr.astype(np.int32))
    assert error.mean() < 2.0 and error.max() < 24


DCMTK_CASES = [
    ("dcmdjpeg", JPEGLosslessSV1, 8, 1), ("dcmdjpeg", JPEGLosslessSV1, 8, 3), ("dcmdjpeg", JPEGLosslessSV1, 12, 1),
    ("dcmdjpeg", JPEGLosslessSV1, 16, 1), ("dcmdrle", RLELossless, 8, 1), ("dcmdrle", RLELossless, 8, 3),
    ("dcmdrle", RLELossless, 16, 1), ("dcmdrle", RLELossless, 16, 3),
]


@pytest.mark.parametrize("tool,syntax,bits,spp", DCMTK_CASES, ids=lambda v: str(v))
def test_dcmtk_decodes_our_files(tool, syntax, bits, spp, tmp_path):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (DCMTK) is not installed")
    rng = np.random.default_rng(bits * 7 + spp)
    arr = random_image(rng, (33, 47, 3) if spp == 3 else (33, 47), bits, np.uint8 if bits <= 8 else np.uint16)
    ds = make_dataset(arr, bits)
    turbodicom.compress(ds, syntax)
    src, out = tmp_path / "in.dcm", tmp_path / "out.dcm"
    ds.save_as(src, enforce_file_format=True)
    subprocess.run([tool, str(src), str(out)], check=True, capture_output=True)
    back = pydicom.dcmread(out)
    assert back.file_meta.TransferSyntaxUID.is_encapsulated is False
    np.testing.assert_array_equal(back.pixel_array, arr)


@pytest.mark.parametrize("spp,photometric", [(1, "MONOCHROME2"), (3, "YBR_FULL_422")])
def test_dcmtk_decodes_our_baseline(spp, photometric, tmp_path):
    if shutil.which("dcmdjpeg") is None:
        pytest.skip("dcmdjpeg (DCMTK) is not installed")
    y, x = np.mgrid[0:48, 0:64]
    grey = (128 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0)).astype(np.uint8)
    arr = np.stack([grey, np.flipud(grey), 255 - grey], axis=-1) if spp == 3 else grey
    ds = make_dataset(arr, 8, photometric=photometric)
    turbodicom.compress(ds, JPEGBaseline8Bit, quality=95)
    ours = turbodicom.pixel_array(ds, raw=True).astype(np.int32)
    src, out = tmp_path / "in.dcm", tmp_path / "out.dcm"
    ds.save_as(src, enforce_file_format=True)
    # +cn: no colour conversion, so both sides compare the components as coded.
    subprocess.run(["dcmdjpeg", "+cn", str(src), str(out)], check=True, capture_output=True)
    back = pydicom.dcmread(out)
    theirs = pydicom.pixels.pixel_array(back, raw=True)
    assert np.abs(theirs.astype(np.int32) - ours).max() <= 1


@pytest.mark.parametrize("predictor", range(1, 8))
def test_jpeg_lossless_predictors(predictor):
    """JPEG Lossless (process 14) with each of the seven predictors of T.81 H.1.2.1."""
    from pydicom.uid import JPEGLossless

    rng = np.random.default_rng(predictor)
    arr = random_image(rng, (29, 31), 12, np.uint16)
    ds = make_dataset(arr, 12)
    turbodicom.compress(ds, JPEGLossless, predictor=predictor)
    assert ds.file_meta.TransferSyntaxUID == JPEGLossless
    from pydicom.encaps import generate_frames

    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    sos = frame.index(b"\xff\xda")
    assert frame[sos + 4 + 2 * 1 + 1] == predictor  # Ss of the scan header is the predictor
    np.testing.assert_array_equal(turbodicom.pixel_array(ds), arr)
    np.testing.assert_array_equal(decoded_by(ds, "pylibjpeg"), arr)
    np.testing.assert_array_equal(decoded_by(ds, "gdcm"), arr)
