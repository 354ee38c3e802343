"""``turbodicom transcode IN OUT --ts UID``: rewrite a file in another transfer syntax.

Compressed input is decoded first (turbodicom's decoders), then the pixel data is encoded
with turbodicom's encoders (RLE Lossless, JPEG Lossless SV1, JPEG Baseline) or written
native (Explicit VR Little Endian and the other uncompressed syntaxes). ``--ts`` takes a
UID or its pydicom keyword (``JPEGLosslessSV1``, ``RLELossless``, ``ExplicitVRLittleEndian``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pydicom.uid


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "transcode",
        help="rewrite a DICOM file in another transfer syntax",
        description="Decode IN's pixel data if it is compressed, encode it in --ts and write OUT.",
    )
    parser.add_argument("source", metavar="IN", help="the DICOM file to read")
    parser.add_argument("target", metavar="OUT", help="the DICOM file to write")
    parser.add_argument("--ts", required=True, metavar="UID",
                        help="the transfer syntax: a UID or a keyword such as JPEGLosslessSV1")
    parser.add_argument("--quality", type=int, default=None, metavar="Q",
                        help="JPEG Baseline quality, 1-100 (default 90)")
    return parser


def _uid(text: str) -> pydicom.uid.UID:
    if text and text[0].isdigit():
        return pydicom.uid.UID(text)
    value = getattr(pydicom.uid, text, None)
    if not isinstance(value, str):
        raise ValueError(f"unknown transfer syntax {text!r}")
    return pydicom.uid.UID(value)


def run(args: argparse.Namespace) -> int:
    import turbodicom

    try:
        target = _uid(args.ts)
    except ValueError as exc:
        print(f"turbodicom transcode: error: {exc}", file=sys.stderr)
        return 2
    ds = turbodicom.dcmread(args.source)
    source = ds.file_meta.TransferSyntaxUID
    try:
        if "PixelData" in ds and source.is_compressed:
            turbodicom.decompress(ds, generate_instance_uid=False)
        if target.is_compressed:
            options = {} if args.quality is None else {"quality": args.quality}
            turbodicom.compress(ds, target, generate_instance_uid=False, **options)
        else:
            ds.file_meta.TransferSyntaxUID = target
        ds.save_as(args.target, enforce_file_format=True)
    except (turbodicom.PixelDataError, NotImplementedError, RuntimeError, ValueError) as exc:
        print(f"turbodicom transcode: error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.source} ({source.name}) -> {args.target} ({target.name})")
    return 0
