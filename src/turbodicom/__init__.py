"""turbodicom: fast DICOM for Python.

The Part 10 reader is C++; what it returns are pydicom objects, so everything
pydicom offers keeps working on them::

    import turbodicom
    ds = turbodicom.dcmread("ct.dcm")      # a pydicom FileDataset
"""

from turbodicom.encapsulated import frame_spans
from turbodicom.encapsulated import frames as encapsulated_frames
from turbodicom.errors import InvalidDicomError
from turbodicom.reader import dcmread
from turbodicom.scan import ScanResult, scan

__all__ = ["InvalidDicomError", "ScanResult", "dcmread", "encapsulated_frames", "frame_spans", "scan", "__version__"]
__version__ = "0.1.0"
