"""Decoding whole images and frames: pydicom's pipeline, with the frames decoded in C++.

The image attributes, validation and the colour-space step are pydicom's own
(:class:`pydicom.pixels.decoders.base.DecodeRunner`), so the arrays are the ones
``ds.pixel_array`` gives; only the decoding of the frames (in parallel, without the GIL)
and the unused-bit correction run in C++.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.common import PhotometricInterpretation as PI
from pydicom.pixels.decoders.base import DecodeRunner, get_decoder
from pydicom.uid import UID

from turbodicom import _core
from turbodicom.encapsulated import frame_spans

__all__ = ["PixelDataError", "decode_desc", "iter_frames", "pixel_array"]


class PixelDataError(ValueError):
    """Encoded pixel data that cannot be decoded.

    ``frame`` is the 0-based frame number (``None`` when not known), ``offset`` the
    byte offset within that frame's encoded data, and ``reason`` the kind of problem
    (``"truncated"``, ``"bad marker"``, ``"bad data"``, ``"unsupported"``, ...).
    """

    def __init__(self, message: str, frame: int | None = None, offset: int | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.frame = frame
        self.offset = offset
        self.reason = reason


def _error(exc: Exception) -> PixelDataError:
    frame = getattr(exc, "frame", None)
    return PixelDataError(str(exc), frame, getattr(exc, "offset", None), getattr(exc, "code", None))


def decode_desc(runner: DecodeRunner) -> tuple[int, int, int, int, int, bool, int]:
    """The frame description the C++ codecs take, from a pydicom runner."""
    return (
        runner.rows,
        runner.columns,
        runner.samples_per_pixel,
        runner.bits_allocated,
        runner.get_option("bits_stored", runner.bits_allocated),  # float pixel data has none
        runner.get_option("pixel_representation", 0) == 1,
        runner.planar_configuration if runner.samples_per_pixel > 1 else 0,
    )


def _dataset(src: Any) -> Dataset:
    if isinstance(src, Dataset):
        return src
    if isinstance(src, (str, bytes, os.PathLike)) or hasattr(src, "read"):
        from turbodicom.reader import dcmread

        return dcmread(src)
    raise TypeError(f"expected a Dataset, a path or a file object, not {type(src).__name__}")


def _transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid is None:
        raise AttributeError(
            "Unable to decode the pixel data as the dataset's 'file_meta' has no (0002,0010) "
            "'Transfer Syntax UID' element"
        )
    return UID(uid)


class _Image:
    """One dataset's pixel data, ready to decode frames from."""

    def __init__(self, ds: Dataset, options: dict[str, Any]) -> None:
        self.transfer_syntax = _transfer_syntax(ds)
        self.runner = DecodeRunner(self.transfer_syntax)
        self.runner.set_source(ds)
        self.runner.set_options(**options)
        self.runner.validate()
        self.number_of_frames = self.runner.number_of_frames
        self.value = self.runner.src
        self.native = not self.transfer_syntax.is_encapsulated
        self.correct_unused_bits = bool(self.runner._test_for("shift_correction"))
        if self.native:
            self.ow_swapped = bool(self.runner._test_for("be_swap_ow"))
            self.ybr_full_422 = self.runner.photometric_interpretation == PI.YBR_FULL_422
            self.desc = decode_desc(self.runner)
            if self.ybr_full_422:  # expanded to YBR_FULL while copied, as pydicom does
                self.runner.set_option("photometric_interpretation", PI.YBR_FULL)
        else:
            self.codec = _core.pixel_codec(self.transfer_syntax)
            self.spans = frame_spans(ds, self.value)
            # pydicom looks at each frame's JPEG header (JFIF, component ids) to decide the
            # colour space; the frames of one image share it, so the first decides.
            if self.spans and self.codec == "jpeg":
                view = memoryview(self.value)
                first = b"".join(view[o : o + n] for o, n in self.spans[0])
                self.runner._get_frame_info(first)
            self.desc = decode_desc(self.runner)
        if self.runner.samples_per_pixel > 1 and (self.native or self.codec == "rle"):
            self.runner.set_option("planar_configuration", 0)  # written colour-by-pixel
        self.frame_pixels = int(self.runner.frame_length(unit="pixels"))

    def decode(self, frames: list[int], workers: int | None) -> np.ndarray:
        for index in frames:
            if not 0 <= index < self.number_of_frames:
                raise IndexError(f"There is no frame at index {index}: the image has "
                                 f"{self.number_of_frames} frames")
        arr = np.empty(len(frames) * self.frame_pixels, dtype=self.runner.pixel_dtype)
        try:
            if self.native:
                # pydicom returns big endian data with a big endian dtype: the bytes are
                # copied as they are, and the dtype reads them.
                in_numpy = self.correct_unused_bits and arr.dtype.byteorder == ">"
                _core.decode_native(self.value, frames, self.desc, arr, False, self.ow_swapped,
                                    self.ybr_full_422, self.correct_unused_bits and not in_numpy)
                if in_numpy:
                    shift = self.runner.bits_allocated - self.runner.bits_stored
                    np.left_shift(arr, shift, out=arr)
                    np.right_shift(arr, shift, out=arr)
            else:
                if len(self.spans) < self.number_of_frames:
                    raise PixelDataError(
                        f"The pixel data has {len(self.spans)} frames, (0028,0008) 'Number of Frames' "
                        f"says {self.number_of_frames}", reason="truncated")
                _core.decode_frames(self.transfer_syntax, self.value, self.spans, frames, self.desc, arr,
                                    workers or 0, self.correct_unused_bits)
        except _core.PixelError as exc:
            raise _error(exc) from None
        return arr

    def finish(self, arr: np.ndarray, as_frame: bool, raw: bool = False) -> np.ndarray:
        arr = self.runner.reshape(arr, as_frame=as_frame)
        if not raw:
            arr, _ = self.runner.process(arr)
        return arr


def _supported(ds: Dataset) -> bool:
    ts = _transfer_syntax(ds)
    if not ts.is_encapsulated:
        return not hasattr(ds.get("PixelData", b""), "read")  # a deferred file object: pydicom's path
    return _core.pixel_codec(ts) is not None


def _native_array(ds: Dataset, index: int | None, options: dict[str, Any]) -> np.ndarray:
    decoder = get_decoder(_transfer_syntax(ds))
    arr, _ = decoder.as_array(ds, index=index, **options)
    return arr


def pixel_array(src: Any, index: int | None = None, *, workers: int | None = None,
                raw: bool = False, **options: Any) -> np.ndarray:
    """The pixel data of `src` (a Dataset, a path or a file object) as a NumPy array.

    Equal to ``ds.pixel_array`` with pydicom's default processing (sign and unused-bit
    correction, colour-by-pixel, YBR to RGB where pydicom converts). `index` selects
    one frame (0-based); `workers` is the number of threads decoding frames
    (``None``: one per core). `raw` skips the colour-space conversion; other keyword
    options are pydicom's decoding options (``as_rgb``, ``force_rgb``, ...).
    Native data is copied (unpacked, byte-swapped, made colour-by-pixel) in C++;
    JPEG-LS and JPEG 2000 still go through pydicom's decoders. Raises :class:`PixelDataError` for data that cannot be decoded.
    """
    ds = _dataset(src)
    if not _supported(ds):
        return _native_array(ds, index, {"raw": raw, **options})
    image = _Image(ds, options)
    frames = list(range(image.number_of_frames)) if index is None else [index]
    return image.finish(image.decode(frames, workers), as_frame=index is not None, raw=raw)


def iter_frames(src: Any, *, workers: int | None = None, batch: int | None = None,
                **options: Any) -> Iterator[np.ndarray]:
    """Yield the frames of `src` one at a time, as :func:`pixel_array` with `index` would.

    Frames are decoded `batch` at a time in parallel (default: 4 per worker), so memory
    stays bounded for very large multi-frame images.
    """
    ds = _dataset(src)
    if not _supported(ds):
        n = int(ds.get("NumberOfFrames", 1) or 1)
        for index in range(n):
            yield _native_array(ds, index, options)
        return
    image = _Image(ds, options)
    step = batch or 4 * (workers or os.cpu_count() or 1)
    for start in range(0, image.number_of_frames, step):
        frames = list(range(start, min(start + step, image.number_of_frames)))
        block = image.decode(frames, workers).reshape(len(frames), image.frame_pixels)
        for row in block:
            yield image.finish(row, as_frame=True)
