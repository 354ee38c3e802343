"""Frames of encapsulated Pixel Data (PS3.5 A.4), found by the C++ core.

>>> ds = turbodicom.dcmread("jpeg_multiframe.dcm")
>>> spans = frame_spans(ds)          # [[(offset, length), ...] per frame]
>>> first = b"".join(frames(ds)[:1])  # the bytes of frame 1
"""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataset import Dataset

from turbodicom import _core
from turbodicom.errors import InvalidDicomError

__all__ = ["frame_spans", "frames", "iter_frames_bytes"]


def _pixel_value(ds: Dataset) -> bytes:
    if "PixelData" not in ds:
        raise ValueError("the dataset has no Pixel Data (7FE0,0010)")
    value = ds.PixelData
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError("Pixel Data has no value to index")
    return value


def frame_spans(ds: Dataset, value: bytes | None = None) -> list[list[tuple[int, int]]]:
    """Where each frame's data lies in the Pixel Data value.

    Returns one list per frame of ``(offset, length)`` pairs, one per fragment,
    relative to the start of the Pixel Data value. Frame boundaries come from
    the Extended Offset Table, the Basic Offset Table, the fragment count, or
    the codestream markers at the start (or end) of fragments, in that order.

    Raises :class:`turbodicom.InvalidDicomError` (with the offset within the
    value) when the items cannot be read.
    """
    value = _pixel_value(ds) if value is None else value
    number_of_frames = int(ds.get("NumberOfFrames", 1) or 1)
    offsets = ds.get("ExtendedOffsetTable")
    lengths = ds.get("ExtendedOffsetTableLengths")
    try:
        spans, _rule = _core.encapsulated_frames(value, number_of_frames, offsets, lengths)
    except _core.ParseError as exc:
        raise InvalidDicomError(f"Pixel Data: {exc}", exc.offset, exc.code) from None
    return spans


def iter_frames_bytes(ds: Dataset) -> Iterator[bytes]:
    """The bytes of each frame in turn (fragments joined)."""
    value = _pixel_value(ds)
    view = memoryview(value)
    for spans in frame_spans(ds, value):
        if len(spans) == 1:
            offset, length = spans[0]
            yield bytes(view[offset : offset + length])
        else:
            yield b"".join(view[o : o + n] for o, n in spans)


def frames(ds: Dataset) -> list[bytes]:
    """The bytes of every frame."""
    return list(iter_frames_bytes(ds))
