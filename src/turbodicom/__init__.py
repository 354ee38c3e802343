"""turbodicom: fast DICOM for Python.

The Part 10 reader is C++; what it returns are pydicom objects, so everything
pydicom offers keeps working on them::

    import turbodicom
    ds = turbodicom.dcmread("ct.dcm")      # a pydicom FileDataset
    arr = turbodicom.pixel_array(ds)       # like ds.pixel_array, frames decoded in parallel

and after the import pydicom decodes and encodes RLE and the JPEG family with
turbodicom's codecs (see :mod:`turbodicom.pixels.plugin`).
"""

import os as _os

from turbodicom.encapsulated import frame_spans
from turbodicom.encapsulated import frames as encapsulated_frames
from turbodicom.errors import InvalidDicomError
from turbodicom.pixels import PixelDataError, compress, decompress, iter_frames, pixel_array
from turbodicom.reader import dcmread
from turbodicom.scan import ScanResult, scan

if _os.environ.get("TURBODICOM_PYDICOM_PLUGIN", "1") != "0":
    from turbodicom.pixels.plugin import register as _register_plugin

    _register_plugin()

__all__ = [
    "InvalidDicomError",
    "PixelDataError",
    "ScanResult",
    "compress",
    "dcmread",
    "decompress",
    "encapsulated_frames",
    "frame_spans",
    "iter_frames",
    "pixel_array",
    "scan",
    "__version__",
]
__version__ = "0.1.0"
