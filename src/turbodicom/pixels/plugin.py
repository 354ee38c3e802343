"""turbodicom as a pydicom pixel data plugin, for decoding and for encoding.

``import turbodicom`` registers the plugin ``"turbodicom"`` with pydicom's decoders
(RLE Lossless and the JPEG family) and encoders (RLE Lossless, JPEG Lossless, JPEG
Lossless SV1, JPEG Baseline) and puts it first, so ``ds.pixel_array``,
``pydicom.pixels.pixel_array``, ``iter_pixels``, ``ds.decompress()`` and
``ds.compress()`` run on turbodicom's codecs. To choose another plugin for one call
pass pydicom's ``decoding_plugin="gdcm"`` (or ``encoding_plugin=...``); to take
turbodicom out call :func:`unregister`, or set the environment variable
``TURBODICOM_PYDICOM_PLUGIN=0`` before the import.
"""

from __future__ import annotations

from typing import Any

from pydicom import uid
from pydicom.pixels.common import PhotometricInterpretation as PI

from turbodicom import _core

__all__ = ["DECODER_DEPENDENCIES", "ENCODER_DEPENDENCIES", "is_available", "register", "unregister"]

PLUGIN = "turbodicom"

DECODE_SYNTAXES = [
    uid.RLELossless,
    uid.JPEGBaseline8Bit,
    uid.JPEGExtended12Bit,
    uid.JPEGLossless,
    uid.JPEGLosslessSV1,
]
ENCODE_SYNTAXES = [uid.RLELossless, uid.JPEGLosslessSV1, uid.JPEGLossless, uid.JPEGBaseline8Bit]

DECODER_DEPENDENCIES: dict[uid.UID, tuple[str, ...]] = {ts: ("turbodicom",) for ts in DECODE_SYNTAXES}
ENCODER_DEPENDENCIES: dict[uid.UID, tuple[str, ...]] = {ts: ("turbodicom",) for ts in ENCODE_SYNTAXES}


def is_available(transfer_syntax: str) -> bool:
    """Whether turbodicom can decode or encode `transfer_syntax` (pydicom's plugin check)."""
    return transfer_syntax in DECODE_SYNTAXES or transfer_syntax in ENCODE_SYNTAXES


def _decode_frame(src: bytes, runner: Any) -> bytearray:
    """Decode one frame for pydicom: colour-by-pixel samples of Bits Allocated."""
    from turbodicom.pixels.decode import _error, decode_desc

    try:
        frame = _core.decode_frame(runner.transfer_syntax, src, decode_desc(runner))
    except _core.PixelError as exc:
        raise _error(exc) from None
    if runner.transfer_syntax == uid.RLELossless and runner.samples_per_pixel > 1:
        runner.set_option("planar_configuration", 0)
    return frame


def _samples(src: bytes, runner: Any, bytes_per_sample: int) -> bytes:
    """`src` (a frame as pydicom's encoder hands it) as samples `bytes_per_sample` wide."""
    count = runner.rows * runner.columns * runner.samples_per_pixel
    given = len(src) // count if count else 0
    if given == bytes_per_sample:
        return src
    import numpy as np

    kind = "i" if runner.pixel_representation else "u"
    arr = np.frombuffer(src, dtype=f"<{kind}{given}", count=count)
    return arr.astype(f"<{kind}{bytes_per_sample}").tobytes()


def _planar_to_pixels(src: bytes, runner: Any, bytes_per_sample: int) -> bytes:
    if runner.samples_per_pixel == 1 or runner.planar_configuration == 0:
        return src
    import numpy as np

    arr = np.frombuffer(src, dtype=f"u{bytes_per_sample}")
    return arr.reshape(runner.samples_per_pixel, -1).T.tobytes()


def _encode_frame(src: bytes, runner: Any) -> bytes:
    """Encode one frame for pydicom's ``compress()``."""
    from turbodicom.pixels.decode import _error

    ts = runner.transfer_syntax
    spp = runner.samples_per_pixel
    try:
        if ts == uid.RLELossless:
            width = runner.bits_allocated // 8
            samples = _planar_to_pixels(_samples(src, runner, width), runner, width)
            desc = (runner.rows, runner.columns, spp, runner.bits_allocated, runner.bits_stored,
                    runner.pixel_representation == 1, 0)
            return _core.encode_rle(samples, desc)
        if ts in (uid.JPEGLosslessSV1, uid.JPEGLossless):
            width = 1 if runner.bits_stored <= 8 else 2
            samples = _planar_to_pixels(_samples(src, runner, width), runner, width)
            desc = (runner.rows, runner.columns, spp, 8 * width, runner.bits_stored,
                    runner.pixel_representation == 1, 0)
            predictor = 1 if ts == uid.JPEGLosslessSV1 else int(runner.get_option("jpeg_predictor", 1))
            return _core.encode_jpeg_lossless(samples, desc, predictor)
        if ts == uid.JPEGBaseline8Bit:
            samples = _planar_to_pixels(_samples(src, runner, 1), runner, 1)
            desc = (runner.rows, runner.columns, spp, 8, 8, False, 0)
            quality = int(runner.get_option("jpeg_quality", 90))
            # The Photometric Interpretation the encoded data is to have decides the
            # colour transform: YBR_FULL_422 means RGB in, YCbCr 4:2:2 out; RGB stays RGB.
            pi = runner.photometric_interpretation
            subsampling = runner.get_option("jpeg_subsampling", "422" if pi == PI.YBR_FULL_422 else "444")
            return _core.encode_jpeg_baseline(samples, desc, quality, subsampling, True, spp == 3 and pi == PI.RGB)
    except _core.PixelError as exc:
        raise _error(exc) from None
    raise ValueError(f"turbodicom does not encode {ts.name}")


def _first(plugins: dict[str, Any]) -> dict[str, Any]:
    return {PLUGIN: plugins[PLUGIN], **{k: v for k, v in plugins.items() if k != PLUGIN}}


def register() -> None:
    """Add turbodicom to pydicom's decoders and encoders, ahead of the other plugins."""
    from pydicom.pixels.decoders.base import get_decoder
    from pydicom.pixels.encoders import base as encoders

    for ts in DECODE_SYNTAXES:
        decoder = get_decoder(ts)
        if PLUGIN not in decoder._available and PLUGIN not in decoder._unavailable:
            decoder.add_plugin(PLUGIN, ("turbodicom.pixels.plugin", "_decode_frame"))
        if PLUGIN in decoder._available:
            decoder._available = _first(decoder._available)

    for ts in ENCODE_SYNTAXES:
        if ts not in encoders._PIXEL_DATA_ENCODERS:
            # pydicom has no encoder object for this syntax: give it one.
            encoders._PIXEL_DATA_ENCODERS[ts] = (encoders.Encoder(ts), "3.0")
        encoder = encoders._PIXEL_DATA_ENCODERS[ts][0]
        if PLUGIN not in encoder._available and PLUGIN not in encoder._unavailable:
            encoder.add_plugin(PLUGIN, ("turbodicom.pixels.plugin", "_encode_frame"))
        if PLUGIN in encoder._available:
            encoder._available = _first(encoder._available)


def unregister() -> None:
    """Take turbodicom out of pydicom's decoders and encoders."""
    from pydicom.pixels.decoders.base import get_decoder
    from pydicom.pixels.encoders import base as encoders

    for ts in DECODE_SYNTAXES:
        decoder = get_decoder(ts)
        decoder._available.pop(PLUGIN, None)
        decoder._unavailable.pop(PLUGIN, None)
    for ts in ENCODE_SYNTAXES:
        entry = encoders._PIXEL_DATA_ENCODERS.get(ts)
        if entry is not None:
            entry[0]._available.pop(PLUGIN, None)
            entry[0]._unavailable.pop(PLUGIN, None)
