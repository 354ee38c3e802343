"""Exceptions raised by turbodicom."""

from __future__ import annotations

from pydicom.errors import InvalidDicomError as _PydicomInvalidDicomError


class InvalidDicomError(_PydicomInvalidDicomError):
    """The input is not a DICOM file turbodicom (or pydicom) can read.

    A subclass of :class:`pydicom.errors.InvalidDicomError`, so code that
    catches pydicom's error keeps working. ``offset`` is the byte offset where
    the problem was found (``None`` when it has none) and ``reason`` a short
    name for its kind (``"truncated"``, ``"nesting too deep"``, ...).
    """

    def __init__(self, message: str, offset: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.reason = reason
