"""The dataset class dcmread returns: pydicom's FileDataset with faster element access.

``turbodicom.dataset.FileDataset`` is a subclass of
:class:`pydicom.dataset.FileDataset` that changes nothing but speed: element
access (``ds.PatientID``, ``ds[0x00100020]``) converts raw elements of the
common VRs in C++ into exactly the objects pydicom would create, and hands
everything else to pydicom.
"""

from __future__ import annotations

from typing import Any

import pydicom.dataset
from pydicom.charset import python_encoding
from pydicom.datadict import keyword_dict

from turbodicom import _core


def _ascii_compatible_encodings() -> set[str]:
    """Python codecs that decode every 7-bit byte but ESC exactly as ASCII does."""
    sample = bytes(b for b in range(0x80) if b != 0x1B)
    expected = sample.decode("ascii")
    names = set()
    for name in set(python_encoding.values()) | {"iso8859", "latin_1"}:
        try:
            if sample.decode(name) == expected:
                names.add(name)
        except (LookupError, UnicodeError):
            pass
    return names


_core.init_convert(dict(keyword_dict), _ascii_compatible_encodings())
_getitem = _core.dataset_getitem


class FileDataset(pydicom.dataset.FileDataset):
    """pydicom's FileDataset, with elements of common VRs converted in C++ on first access."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return pydicom.dataset.Dataset.__getitem__(self, key)
        return _getitem(self, key)

    # A C function bound as a method: attribute access by keyword is the hot path.
    __getattr__ = _core.as_method(_core.dataset_getattr)
