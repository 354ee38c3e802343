"""Compressing and decompressing datasets with turbodicom's codecs, through pydicom's
own ``compress`` / ``decompress`` (which keep the dataset's attributes right)."""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.pixels.utils import compress as _pydicom_compress
from pydicom.pixels.utils import decompress as _pydicom_decompress

from turbodicom import _core
from turbodicom.pixels import plugin

__all__ = ["compress", "decompress"]


def compress(ds: Dataset, transfer_syntax_uid: str, arr: Any = None, *, quality: int | None = None,
             subsampling: str | None = None, predictor: int | None = None,
             generate_instance_uid: bool = True, **kwargs: Any) -> Dataset:
    """Compress `ds` in place to `transfer_syntax_uid` with turbodicom's encoders.

    Supported: RLE Lossless, JPEG Lossless SV1 (and JPEG Lossless with ``predictor``
    1 to 7), JPEG Baseline 8-bit (``quality`` 1-100, default 90; ``subsampling``
    ``"444"``, ``"422"`` or ``"420"``). For colour JPEG Baseline set
    ``ds.PhotometricInterpretation = "YBR_FULL_422"`` first (RGB pixels are converted
    to YCbCr 4:2:2), or leave ``"RGB"`` to store RGB without subsampling. Other
    syntaxes are handed to pydicom's own encoders. Returns `ds`.
    """
    if quality is not None:
        kwargs["jpeg_quality"] = quality
    if subsampling is not None:
        kwargs["jpeg_subsampling"] = subsampling
    if predictor is not None:
        kwargs["jpeg_predictor"] = predictor
    plugin_name = plugin.PLUGIN if transfer_syntax_uid in plugin.ENCODE_SYNTAXES else ""
    return _pydicom_compress(ds, transfer_syntax_uid, arr, encoding_plugin=plugin_name,
                             generate_instance_uid=generate_instance_uid, **kwargs)


def decompress(ds: Dataset, *, as_rgb: bool = True, generate_instance_uid: bool = True,
               **kwargs: Any) -> Dataset:
    """Decompress `ds` in place to Explicit VR Little Endian (pydicom's ``decompress``
    with turbodicom's decoders). Returns `ds`."""
    ts = ds.file_meta.TransferSyntaxUID
    name = plugin.PLUGIN if _core.pixel_codec(ts) is not None else ""
    return _pydicom_decompress(ds, as_rgb=as_rgb, generate_instance_uid=generate_instance_uid,
                               decoding_plugin=name, **kwargs)
