"""Decoded pixel data against independent decoders, on every corpus and pydicom test file of
RLE Lossless and the JPEG family.

Lossless syntaxes must equal pydicom's array decoded by pylibjpeg, GDCM or pydicom's own RLE
decoder exactly (shape, dtype, values). Lossy JPEG must be within 1 of libjpeg-turbo
(imagecodecs) in every sample, compared before any colour transform.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.uid import (
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    RLELossless,
)

import turbodicom
from conftest import all_files

LOSSLESS = {RLELossless, JPEGLossless, JPEGLosslessSV1}
LOSSY = {JPEGBaseline8Bit, JPEGExtended12Bit}
REFERENCE_PLUGINS = ("pylibjpeg", "gdcm", "pydicom")


def _transfer_syntax(path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        return ds.file_meta.TransferSyntaxUID
    except Exception:
        return None


@lru_cache(maxsize=None)
def files_of(syntaxes: frozenset) -> list[Path]:
    seen: dict[str, Path] = {}
    for path in all_files():
        if _transfer_syntax(path) in syntaxes:
            seen.setdefault(path.name, path)  # the corpus and pydicom share some files
    return sorted(seen.values())


def _reference_lossless(path: Path) -> np.ndarray | None:
    """pydicom's array from the first independent plugin that decodes the file."""
    for name in REFERENCE_PLUGINS:
        ds = pydicom.dcmread(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pydicom.pixels.pixel_array(ds, decoding_plugin=name)
        except Exception:
            continue
    return None


@pytest.mark.parametrize("path", files_of(frozenset(LOSSLESS)), ids=lambda p: p.name)
def test_lossless_equals_reference(path):
    expected = _reference_lossless(path)
    if expected is None:
        pytest.skip("no independent decoder reads this file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = turbodicom.pixel_array(str(path))
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def _libjpeg_turbo_frames(ds) -> list[np.ndarray] | None:
    imagecodecs = pytest.importorskip("imagecodecs")
    n = int(ds.get("NumberOfFrames", 1) or 1)
    space = "RGB" if ds.SamplesPerPixel == 3 else "GRAYSCALE"
    out = []
    for frame in generate_frames(ds.PixelData, number_of_frames=n):
        try:
            # The same colour space in and out: libjpeg-turbo returns the components as coded.
            out.append(imagecodecs.jpeg8_decode(frame, colorspace=space, outcolorspace=space))
        except Exception:
            return None
    return out


@pytest.mark.parametrize("path", files_of(frozenset(LOSSY)), ids=lambda p: p.name)
def test_lossy_within_one_of_libjpeg_turbo(path):
    ds = pydicom.dcmread(path)
    expected = _libjpeg_turbo_frames(ds)
    if expected is None:
        pytest.skip("libjpeg-turbo does not decode this file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = turbodicom.pixel_array(str(path), raw=True)
    expected = np.stack(expected).reshape(got.shape)
    difference = np.abs(got.astype(np.int32) - expected.astype(np.int32))
    assert difference.max() <= 1, f"max difference {difference.max()}"


def test_rg2_jply_decodes_like_its_fixed_twin():
    """NEMA's 12-bit file with Se=0 in its scan header decodes as the corrected copy does."""
    broken = [p for p in all_files() if p.name == "RG2_JPLY.dcm"]
    fixed = [p for p in all_files() if p.name == "RG2_JPLY_fixed.dcm"]
    if not broken or not fixed:
        pytest.skip("the corpus is not available")
    np.testing.assert_array_equal(turbodicom.pixel_array(str(broken[0])), turbodicom.pixel_array(str(fixed[0])))


@pytest.mark.parametrize("path", files_of(frozenset(LOSSLESS | LOSSY)), ids=lambda p: p.name)
def test_pydicom_uses_turbodicom_first(path):
    """With turbodicom imported, pydicom's own ds.pixel_array decodes with our plugin."""
    ds = pydicom.dcmread(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ours = pydicom.pixels.pixel_array(ds, decoding_plugin="turbodicom")
        except Exception as exc:  # what we cannot decode, pydicom's other plugins must not either
            assert _reference_lossless(path) is None, exc
            return
        default = pydicom.dcmread(path).pixel_array
        np.testing.assert_array_equal(default, ours)
        np.testing.assert_array_equal(turbodicom.pixel_array(str(path)), ours)


def test_plugin_is_first_for_every_syntax():
    from pydicom.pixels.decoders.base import get_decoder

    for ts in (RLELossless, JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1):
        assert next(iter(get_decoder(ts)._available)) == "turbodicom", ts.name


def test_unregister_and_register():
    from pydicom.pixels.decoders.base import get_decoder

    from turbodicom.pixels import plugin

    plugin.unregister()
    try:
        assert "turbodicom" not in get_decoder(RLELossless)._available
    finally:
        plugin.register()
    assert next(iter(get_decoder(RLELossless)._available)) == "turbodicom"


@pytest.mark.parametrize("path", [p for p in files_of(frozenset(LOSSLESS | LOSSY))
                                  if p.name in ("SC_rgb_rle_2frame.dcm", "JPEGLosslessP14SV1_3s_2f_u_08_08.dcm",
                                                "emri_small_RLE.dcm", "SC_rgb_rle_16bit_2frame.dcm")],
                         ids=lambda p: p.name)
def test_frames_index_iter_and_workers(path):
    ds = turbodicom.dcmread(str(path))
    whole = turbodicom.pixel_array(ds, workers=1)
    assert np.array_equal(whole, turbodicom.pixel_array(ds, workers=2))
    n = int(ds.get("NumberOfFrames", 1) or 1)
    frames = list(turbodicom.iter_frames(ds, workers=2, batch=1))
    assert len(frames) == n
    for i, frame in enumerate(frames):
        single = turbodicom.pixel_array(ds, index=i)
        np.testing.assert_array_equal(single, frame)
        np.testing.assert_array_equal(single, whole[i] if n > 1 else whole)
    with pytest.raises(IndexError):
        turbodicom.pixel_array(ds, index=n)


def _native_files() -> list[Path]:
    seen: dict[str, Path] = {}
    for path in all_files():
        ts = _transfer_syntax(path)
        if ts is None or not ts.is_transfer_syntax or ts.is_encapsulated:
            continue
        seen.setdefault(path.name, path)
    return sorted(seen.values())


@pytest.mark.parametrize("path", _native_files(), ids=lambda p: p.name)
def test_native_equals_pydicom(path):
    """Uncompressed data copied in C++: 1-bit, big endian, OW-swapped 8-bit, planar, YBR_FULL_422,
    float pixel data; the same array as pydicom's, or an error where pydicom raises one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = pydicom.dcmread(path, force=True).pixel_array
        except Exception:
            expected = None
        if expected is None:
            with pytest.raises(Exception):
                turbodicom.pixel_array(turbodicom.dcmread(str(path), force=True))
            return
        got = turbodicom.pixel_array(turbodicom.dcmread(str(path), force=True))
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_native_frames_match_whole():
    paths = [p for p in _native_files() if p.name in ("emri_small.dcm", "liver_nonbyte_aligned.dcm")]
    if not paths:
        pytest.skip("test files not available")
    for path in paths:
        ds = turbodicom.dcmread(str(path))
        whole = turbodicom.pixel_array(ds)
        for i, frame in enumerate(turbodicom.iter_frames(ds, batch=3)):
            np.testing.assert_array_equal(frame, whole[i])
