"""Seed inputs for the codec fuzz targets, written into a folder per target.

    python fuzz/make_codec_seeds.py OUT

OUT/jpeg: JPEG frames of the corpus and of pydicom's test files (small ones), and the
T.83 conformance streams. OUT/rle: small RLE frames made by turbodicom's encoder, each
prefixed with the 3 bytes fuzz_rle.cpp reads its frame description from.
"""

from __future__ import annotations

import random
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
JPEG_SYNTAXES = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                 "1.2.840.10008.1.2.4.70"}
MAX_SEED = 64 * 1024


def dicom_files() -> list[Path]:
    files = sorted(CORPUS.rglob("*.dcm")) if CORPUS.is_dir() else []
    try:
        from pydicom.data import get_testdata_files

        files += [Path(f) for f in get_testdata_files("*.dcm")]
    except Exception:
        pass
    return files


def jpeg_seeds(out: Path) -> int:
    import pydicom
    from pydicom.encaps import generate_frames

    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in dicom_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path)
                if ds.file_meta.TransferSyntaxUID not in JPEG_SYNTAXES:
                    continue
                frame = next(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1) or 1)))
        except Exception:
            continue
        if len(frame) <= MAX_SEED:
            (out / f"{path.stem}.jpg").write_bytes(frame)
            count += 1
    for path in sorted((CORPUS / "pylibjpeg-data" / "jpg" / "10918").rglob("*.JPG")) if CORPUS.is_dir() else []:
        if path.stat().st_size <= MAX_SEED:
            (out / f"t83_{path.parent.name}_{path.stem}.jpg").write_bytes(path.read_bytes())
            count += 1
    return count


def rle_seeds(out: Path) -> int:
    try:
        from turbodicom import _core
    except ImportError:
        return 0
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    count = 0
    for bits_code, bits in enumerate((8, 16, 32, 64)):
        for samples in (1, 3):
            if samples * bits // 8 > 15:  # RLE has at most 15 segments
                continue
            rows, columns = rng.randint(1, 20), rng.randint(1, 40)
            size = rows * columns * samples * bits // 8
            pixels = bytes(rng.choice((0, 0, 0, 7, 255)) for _ in range(size))
            frame = _core.encode_rle(pixels, (rows, columns, samples, bits, bits, False, 0))
            prefix = bytes((rows, columns, bits_code | ((samples - 1) << 2)))
            (out / f"rle_{bits}_{samples}.bin").write_bytes(prefix + frame)
            count += 1
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    print(f"{jpeg_seeds(out / 'jpeg')} JPEG seeds, {rle_seeds(out / 'rle')} RLE seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
