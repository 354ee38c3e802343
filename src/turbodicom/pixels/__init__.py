"""Pixel data: decoding and encoding on turbodicom's own C++ codecs.

>>> arr = turbodicom.pixel_array("ct.dcm")            # like ds.pixel_array
>>> for frame in turbodicom.iter_frames("multi.dcm"): ...
>>> turbodicom.compress(ds, pydicom.uid.JPEGLosslessSV1)

After ``import turbodicom``, pydicom's own ``ds.pixel_array``, ``decompress()`` and
``compress()`` use these codecs first (see :mod:`turbodicom.pixels.plugin`).
"""

from turbodicom.pixels.decode import PixelDataError, iter_frames, pixel_array
from turbodicom.pixels.encode import compress, decompress

__all__ = ["PixelDataError", "compress", "decompress", "iter_frames", "pixel_array"]
