"""Write a seed corpus for the fuzz targets.

    python fuzz/make_seeds.py OUT_DIR [--max-size 4096] [--dict DICT_FILE]

OUT_DIR receives:
- pydicom's own test files (those with a DICM prefix, or named *.dcm), each cut
  to at most --max-size bytes, one copy of each distinct content;
- the hand-made seeds in fuzz/seeds/ and the inputs in tests/regressions/;
- a few structures built here that the test files rarely hold (deep and
  implicit-VR nesting, undefined-length UN, fragments, a deflated dataset,
  a command set, lengths past the end).

--dict writes a libFuzzer/atheris dictionary of DICOM tokens (tags, VRs,
delimiters, transfer syntax UIDs). ``--handmade DIR`` rewrites the hand-made
seeds that live in fuzz/seeds/.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

UNDEFINED = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
SYNTAXES = [IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE, DEFLATED, JPEG_BASELINE, "1.2.840.10008.1.2.4.70",
            "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5",
            "1.2.840.10008.1.2.4.201", "1.2.840.113619.5.2"]


def explicit(tag: int, vr: bytes, value: bytes = b"", length: int | None = None, little: bool = True) -> bytes:
    order = "<" if little else ">"
    length = len(value) if length is None else length
    head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + vr
    if vr in LONG_VRS:
        return head + b"\0\0" + struct.pack(order + "L", length) + value
    return head + struct.pack(order + "H", length) + value


def implicit(tag: int, value: bytes = b"", length: int | None = None, little: bool = True) -> bytes:
    length = len(value) if length is None else length
    return struct.pack("<HHL" if little else ">HHL", tag >> 16, tag & 0xFFFF, length) + value


def uid(text: str) -> bytes:
    return text.encode() + (b"\0" if len(text) % 2 else b"")


def part10(body: bytes, syntax: str = EXPLICIT_LE) -> bytes:
    meta = (explicit(0x00020001, b"OB", b"\0\1") + explicit(0x00020002, b"UI", uid("1.2.840.10008.5.1.4.1.1.7")) +
            explicit(0x00020003, b"UI", uid("1.2.3.4.5")) + explicit(0x00020010, b"UI", uid(syntax)))
    group_length = explicit(0x00020000, b"UL", struct.pack("<L", len(meta)))
    return bytes(128) + b"DICM" + group_length + meta + body


def handmade() -> dict[str, bytes]:
    """Small structures, each under 1 KB."""
    patient = explicit(0x00080005, b"CS", b"ISO_IR 100") + explicit(0x00100010, b"PN", b"Doe^Jane")
    patient_implicit = implicit(0x00080005, b"ISO_IR 100") + implicit(0x00100010, b"Doe^Jane")
    close = implicit(ITEM_DELIMITER) + implicit(SEQUENCE_DELIMITER)

    def nest(depth: int, implicit_vr: bool) -> bytes:
        if implicit_vr:
            opening = implicit(0x0040A730, length=UNDEFINED) + implicit(ITEM, length=UNDEFINED)
            inner = implicit(0x00080100, b"CODE01")
        else:
            opening = explicit(0x0040A730, b"SQ", length=UNDEFINED) + implicit(ITEM, length=UNDEFINED)
            inner = explicit(0x00080100, b"SH", b"CODE01")
        return opening * depth + inner + close * depth

    defined_item = implicit(ITEM, explicit(0x00080100, b"SH", b"CODE02") + explicit(0x00080104, b"LO", b"Meaning "))
    frames = implicit(ITEM, struct.pack("<L", 0)) + implicit(ITEM, b"\xff\xd8\xff\xd9") + \
        implicit(ITEM, b"\xff\xd8\x00\x00\xff\xd9\x00\x00")
    image = (explicit(0x00280010, b"US", struct.pack("<H", 2)) + explicit(0x00280011, b"US", struct.pack("<H", 2)) +
             explicit(0x00280100, b"US", struct.pack("<H", 8)))
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated_body = packer.compress(patient + nest(2, False)) + packer.flush()
    return {
        "nested-explicit.dcm": part10(patient + nest(4, False)),
        "nested-implicit.dcm": part10(patient_implicit + nest(4, True), IMPLICIT_LE),
        "nested-unclosed.dcm": part10(patient + nest(3, False)[:-16]),
        "defined-in-undefined.dcm": part10(patient + explicit(0x0040A730, b"SQ", length=UNDEFINED) +
                                           implicit(ITEM, length=UNDEFINED) +
                                           explicit(0x0040A043, b"SQ", defined_item) + close),
        "un-undefined-length.dcm": part10(patient + explicit(0x00091010, b"UN", length=UNDEFINED) +
                                          implicit(ITEM, length=UNDEFINED) + implicit(0x00091011, b"ABCD") + close),
        "private-sequence-implicit.dcm": part10(patient_implicit + implicit(0x00090010, b"ACME 1.0") +
                                                implicit(0x00091001, length=UNDEFINED) +
                                                implicit(ITEM, implicit(0x00091002, b"ABCD")) +
                                                implicit(SEQUENCE_DELIMITER), IMPLICIT_LE),
        "encapsulated.dcm": part10(patient + image + explicit(0x7FE00010, b"OB", length=UNDEFINED) + frames +
                                   implicit(SEQUENCE_DELIMITER), JPEG_BASELINE),
        "big-endian.dcm": part10(explicit(0x00100010, b"PN", b"Doe^Jane", little=False) +
                                 explicit(0x00280010, b"US", struct.pack(">H", 2), little=False) +
                                 explicit(0x7FE00010, b"OW", b"\0\1\0\2", little=False), EXPLICIT_BE),
        "deflated.dcm": part10(deflated_body, DEFLATED),
        "command-set.dcm": part10(implicit(0x00000000, struct.pack("<L", 18)) +
                                  implicit(0x00000100, struct.pack("<H", 1)) +
                                  implicit(0x00000800, struct.pack("<H", 0x0101)) + patient),
        "no-meta.dcm": patient_implicit + implicit(0x00200013, b"1 "),
        "length-past-end.dcm": part10(patient + explicit(0x00091010, b"OB", b"\0" * 16, length=0x7FFFFFF0)),
        "item-delimiter-in-dataset.dcm": part10(patient + implicit(ITEM_DELIMITER) +
                                                explicit(0x00200013, b"IS", b"1 ")),
    }


def dictionary() -> list[str]:
    def token(raw: bytes) -> str:
        return '"' + "".join(f"\\x{b:02X}" for b in raw) + '"'

    tokens = [b"DICM", b"\0" * 128]
    for vr in sorted(LONG_VRS | {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO",
                                 b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}):
        tokens.append(vr)
        tokens.append(vr + (b"\0\0" if vr in LONG_VRS else b""))
    for tag in (ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER, 0x00020000, 0x00020010, 0x00080005, 0x7FE00010,
                0x7FE00008, 0x7FE00009, 0x00280100, 0x00280103, 0x0040A730, 0x00000000):
        tokens.append(struct.pack("<HH", tag >> 16, tag & 0xFFFF))
        tokens.append(struct.pack(">HH", tag >> 16, tag & 0xFFFF))
    tokens += [b"\xff\xff\xff\xff", b"\xfe\xff\xff\xff", b"\0\0\0\x80", b"\xfe\xff\x00\xe0\xff\xff\xff\xff",
               b"\xfe\xff\xdd\xe0\x00\x00\x00\x00", b"\xfe\xff\x0d\xe0\x00\x00\x00\x00", b"ISO_IR 100", b"ISO_IR 192",
               b"ISO 2022 IR 87", b"\\"]
    tokens += [uid(s) for s in SYNTAXES]
    return [f"t{i}={token(t)}" for i, t in enumerate(tokens)]


def pydicom_files(max_size: int) -> list[tuple[str, bytes]]:
    try:
        from pydicom.data import get_testdata_files
    except ImportError:
        print("pydicom is not installed: no seeds from its test files", file=sys.stderr)
        return []
    out = []
    for name in sorted(get_testdata_files("**/*")):
        path = Path(name)
        if not path.is_file():
            continue
        with path.open("rb") as f:
            head = f.read(max_size)
        if path.suffix.lower() == ".dcm" or head[128:132] == b"DICM":
            out.append((path.stem, head))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", help="directory to write the seeds into")
    parser.add_argument("--max-size", type=int, default=4096, help="cut each test file to this many bytes")
    parser.add_argument("--dict", type=Path, help="also write a fuzzing dictionary here")
    parser.add_argument("--handmade", type=Path, help="(re)write the hand-made seeds into this directory")
    args = parser.parse_args(argv)
    if args.handmade:
        args.handmade.mkdir(parents=True, exist_ok=True)
        for name, data in handmade().items():
            assert len(data) < 1024, name
            (args.handmade / name).write_bytes(data)
    if args.dict:
        args.dict.write_text("# DICOM tokens for libFuzzer and atheris (-dict=)\n" + "\n".join(dictionary()) + "\n")
    if args.out is None:
        return 0 if (args.handmade or args.dict) else parser.error("OUT_DIR is required")

    seeds: list[tuple[str, bytes]] = []
    for folder in (HERE / "seeds", ROOT / "tests" / "regressions"):
        seeds += [(p.stem, p.read_bytes()[: args.max_size]) for p in sorted(folder.glob("*")) if p.is_file()
                  and p.suffix != ".md"]
    seeds += [(Path(name).stem, data) for name, data in handmade().items()]
    seeds += pydicom_files(args.max_size)

    args.out.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    for stem, data in seeds:
        digest = hashlib.sha1(data).hexdigest()
        if digest in seen or not data:
            continue
        seen.add(digest)
        (args.out / f"{stem[:40]}-{digest[:8]}").write_bytes(data)
    print(f"{len(seen)} seeds in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
