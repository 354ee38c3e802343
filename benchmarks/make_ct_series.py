"""Build a synthetic CT series from one real CT file, for the read benchmarks.

Every file of the series is the source file with new identifiers: its own
SOPInstanceUID (mirrored in file_meta.MediaStorageSOPInstanceUID), a
StudyInstanceUID, SeriesInstanceUID and FrameOfReferenceUID shared by the whole
series, InstanceNumber ``i + 1`` and an ImagePositionPatient (and SliceLocation)
stepped along z. The header layout, transfer syntax and pixel data are those of
the source, so each file is a realistic CT slice.

Usage::

    python benchmarks/make_ct_series.py OUT_DIR [-n 500] [--source FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

#: The attributes the read and scan benchmarks take from every file.
ATTRIBUTES = (
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Modality",
    "Rows",
    "Columns",
    "InstanceNumber",
    "ImagePositionPatient",
    "PixelSpacing",
)

#: The corpus folder beside the repository root (``../shared/corpus``).
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

#: A real CT slice: Explicit VR Little Endian, uncompressed 128x128 pixels and
#: a header of about 260 elements (the same file as pydicom's CT_small.dcm).
CORPUS_CT = CORPUS / "pylibjpeg-data" / "ds" / "LittleEndianExplicit" / "CT_small.dcm"

FILE_PATTERN = "ct_{:04d}.dcm"


def default_source() -> Path:
    """The CT file the series is built from: the corpus copy, else pydicom's."""
    if CORPUS_CT.is_file():
        return CORPUS_CT
    from pydicom.data import get_testdata_file

    path = get_testdata_file("CT_small.dcm")
    if path is None:  # pragma: no cover - pydicom always ships it
        raise FileNotFoundError("no CT source file: corpus absent and CT_small.dcm missing")
    return Path(path)


def _ds(value: float) -> str:
    """Format a number as a DS string (at most 16 characters)."""
    for decimals in range(10, -1, -1):
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if len(text) <= 16:
            return text
    raise ValueError(f"{value!r} does not fit a DS value")


def make_ct_series(
    out_dir: str | Path, n: int = 500, source: str | Path | None = None
) -> list[Path]:
    """Write an ``n``-file CT series into ``out_dir``; return the paths in order.

    Files are named ``ct_0000.dcm``, ``ct_0001.dcm``, ... and saved with pydicom
    in the source's transfer syntax, keeping its preamble and pixel data.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    src = Path(source) if source is not None else default_source()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    ds = pydicom.dcmread(src)
    if "PixelData" not in ds:
        raise ValueError(f"{src} has no pixel data")

    study_uid = generate_uid()
    series_uid = generate_uid()
    frame_uid = generate_uid()

    position = ds.get("ImagePositionPatient")
    x, y, z0 = (float(v) for v in position) if position else (0.0, 0.0, 0.0)
    thickness = ds.get("SliceThickness")
    step = float(thickness) if thickness else 1.0
    location = ds.get("SliceLocation")
    location0 = float(location) if location is not None and location != "" else None

    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    if "FrameOfReferenceUID" in ds:
        ds.FrameOfReferenceUID = frame_uid

    paths: list[Path] = []
    for i in range(n):
        sop_uid = generate_uid()
        ds.SOPInstanceUID = sop_uid
        ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [_ds(x), _ds(y), _ds(z0 + i * step)]
        if location0 is not None:
            ds.SliceLocation = _ds(location0 + i * step)

        path = out / FILE_PATTERN.format(i)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write ct_NNNN.dcm into")
    parser.add_argument("-n", type=int, default=500, help="number of files (default 500)")
    parser.add_argument("--source", type=Path, default=None, help="CT file to copy")
    args = parser.parse_args(argv)

    paths = make_ct_series(args.out_dir, n=args.n, source=args.source)
    src = args.source or default_source()
    print(f"wrote {len(paths)} files to {args.out_dir} from {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
