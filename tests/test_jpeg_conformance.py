"""The ITU-T T.83 (ISO/IEC 10918-2) compliance streams of ../shared/corpus/pylibjpeg-data/jpg/10918,
decoded by turbodicom's JPEG decoder, against libjpeg-turbo (imagecodecs): the lossy streams
within 1 in every sample, the lossless ones (p14) exactly. The abbreviated streams B1 (tables
only) and B2 (255 components) are outside what DICOM uses and must raise PixelDataError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS
from turbodicom import _core

T83 = CORPUS / "pylibjpeg-data" / "jpg" / "10918"
STREAMS = sorted(T83.rglob("*.JPG")) if T83.is_dir() else []
ANY_JPEG = "1.2.840.10008.1.2.4.70"  # every JPEG transfer syntax uses the same decoder


def decode(data: bytes) -> np.ndarray:
    info = _core.jpeg_info(data)
    components = len(info["component_ids"])
    wide = info["precision"] > 8
    desc = (info["height"], info["width"], components, 16 if wide else 8, info["precision"], False, 0)
    out = np.frombuffer(_core.decode_frame(ANY_JPEG, data, desc), dtype=np.uint16 if wide else np.uint8)
    return out.reshape(info["height"], info["width"], components)


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_t83_stream(path: Path):
    imagecodecs = pytest.importorskip("imagecodecs")
    data = path.read_bytes()
    if path.stem in ("B1", "B2"):
        with pytest.raises(_core.PixelError) as info:
            decode(data)
        assert info.value.code in ("bad marker", "unsupported")
        return
    ours = decode(data)
    space = "CMYK" if ours.shape[-1] == 4 else ("RGB" if ours.shape[-1] == 3 else "GRAYSCALE")
    reference = imagecodecs.jpeg8_decode(data, colorspace=space, outcolorspace=space).reshape(ours.shape)
    assert ours.shape == (257, 255, 4)
    difference = np.abs(ours.astype(np.int64) - reference.astype(np.int64))
    if path.parent.name == "p14":
        assert difference.max() == 0
    else:
        assert difference.max() <= 1, f"max difference {difference.max()}"


def test_the_streams_are_there():
    if not T83.is_dir():
        pytest.skip("the corpus is not available")
    assert len(STREAMS) == 17
