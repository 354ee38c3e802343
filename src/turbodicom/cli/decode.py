"""``turbodicom decode FILE --out frames.npy|DIR/frame.png``: the pixel data of a file.

``.npy`` gets the whole array as ``turbodicom.pixel_array`` returns it (frames first for a
multi-frame image). ``.png`` gets one 8-bit or 16-bit greyscale or RGB image per frame
(``frame.png`` for one frame, ``frame_0001.png``, ... for several), written with a small
PNG writer of our own (zlib); pixel values outside the PNG range are rescaled to it.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from turbodicom.cli.arguments import positive_int


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "decode",
        help="decode the pixel data of a DICOM file to .npy or .png",
        description="Decode the pixel data of FILE (every supported transfer syntax) into a NumPy "
                    ".npy file or PNG images, one per frame.",
    )
    parser.add_argument("file", metavar="FILE", help="the DICOM file")
    parser.add_argument("--out", required=True, metavar="OUT", help="a .npy file, or a .png file name")
    parser.add_argument("--frame", type=int, default=None, metavar="N",
                        help="only frame N (0-based)")
    parser.add_argument("--workers", type=positive_int, default=None, metavar="N",
                        help="threads decoding frames (default: one per core)")
    return parser


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(image: np.ndarray) -> bytes:
    """A PNG of a 2-D (grey) or 3-D (rows, columns, 3: RGB) array of 8 or 16 bits."""
    if image.dtype in (np.bool_, np.uint8):
        image = image.astype(np.uint8)
    elif image.dtype != np.uint16:
        low, high = float(np.min(image)), float(np.max(image))
        scale = 65535.0 / (high - low) if high > low else 0.0
        image = ((image.astype(np.float64) - low) * scale).round().astype(np.uint16)
    depth = 8 if image.dtype == np.uint8 else 16
    color = 2 if image.ndim == 3 else 0
    rows, columns = image.shape[:2]
    data = image.astype(">u2") if depth == 16 else image
    raw = b"".join(b"\x00" + data[r].tobytes() for r in range(rows))
    header = struct.pack(">IIBBBBB", columns, rows, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(raw, 6)) \
        + _png_chunk(b"IEND", b"")


def run(args: argparse.Namespace) -> int:
    import turbodicom

    out = Path(args.out)
    if out.suffix.lower() not in (".npy", ".png"):
        print("turbodicom decode: error: --out must end in .npy or .png", file=sys.stderr)
        return 2
    ds = turbodicom.dcmread(args.file)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    start = time.perf_counter()
    try:
        arr = turbodicom.pixel_array(ds, index=args.frame, workers=args.workers)
    except (turbodicom.PixelDataError, NotImplementedError, RuntimeError, ValueError, AttributeError) as exc:
        print(f"turbodicom decode: error: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    if out.suffix.lower() == ".npy":
        np.save(out, arr)
        written = [out]
    else:
        many = args.frame is None and frames > 1
        images = list(arr) if many else [arr]
        written = []
        for i, image in enumerate(images):
            path = out.with_name(f"{out.stem}_{i + 1:04d}{out.suffix}") if many else out
            path.write_bytes(png_bytes(image))
            written.append(path)
    megapixels = arr.size / int(ds.get("SamplesPerPixel", 1) or 1) / 1e6
    print(f"{args.file}: {ds.file_meta.TransferSyntaxUID.name}, {arr.shape} {arr.dtype}, decoded in "
          f"{elapsed * 1000:.1f} ms ({megapixels / max(elapsed, 1e-9):.1f} MP/s); wrote "
          f"{written[0] if len(written) == 1 else f'{len(written)} files'}")
    return 0
