"""``turbodicom dump FILE``: the elements of a DICOM file, one per line, as dcmdump lists them.

The file is read with :func:`turbodicom.dcmread`; the file meta group is listed
first, then the dataset. A line reads::

    (0010,0010) PN [Doe^John]                               #   8, 1 PatientName

tag, VR, value (text in brackets, binary numbers plain, several values joined
with a backslash), then after ``#`` the value length in the file (``u/l`` for
undefined length), the value multiplicity and the keyword (for a private
element, its private creator and name; ``Unknown Tag`` otherwise). Sequences
and items are indented, with item markers and delimitation lines as dcmdump
writes them. Values longer than ``--max-width`` characters are cut, with the
length noted (``... (512 bytes)``); binary values show their first words in
hex; Pixel Data is summarised on one line.

``--json`` prints the dataset in the DICOM JSON model (PS3.18 Annex F) instead:
``json.dumps(ds.to_json_dict(), indent=2)``, pydicom's own conversion with its
defaults. As no bulk data handler is given, every binary value, whatever its
size, is written inline (``InlineBinary``, base64); none becomes a
``BulkDataURI``. The file meta group is not part of the JSON model and is left
out.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import warnings
from typing import Any

DEFAULT_MAX_WIDTH = 64
VALUE_COLUMN = 40  # the value field is padded to this width, as dcmdump pads it
HEX_WORDS = 16  # at most this many words of a binary value are shown

#: Bytes per hex word for the binary VRs.
_WORD_SIZE = {"OB": 1, "UN": 1, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
#: VRs whose values are (lists of) binary numbers, shown plain.
_NUMBER_VRS = {"US", "SS", "UL", "SL", "FL", "FD", "SV", "UV", "US or SS", "US or OW", "US or SS or OW"}
#: Explicit VRs with a 2-byte reserved field and a 4-byte length.
_LONG_HEADER_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
_PIXEL_TAGS = {0x7FE00008: "float", 0x7FE00009: "double float", 0x7FE00010: ""}
_UNDEFINED = 0xFFFFFFFF


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "dump",
        help="list the elements of a DICOM file, as dcmdump does",
        description=(
            "List the file meta group and the dataset of FILE, one element per line: tag, VR, "
            "value, length, multiplicity and keyword, with sequences indented. --json prints "
            "the DICOM JSON model instead."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the DICOM file")
    parser.add_argument("--json", action="store_true",
                        help="print the DICOM JSON model (PS3.18 Annex F) of the dataset, "
                             "binary values inline as base64")
    parser.add_argument("--force", action="store_true",
                        help="read a file without the preamble and 'DICM' prefix")
    parser.add_argument("--max-width", type=_width, default=DEFAULT_MAX_WIDTH, metavar="N",
                        help=f"cut values longer than N characters (default {DEFAULT_MAX_WIDTH}; "
                             "0: never)")
    return parser


def _width(text: str) -> int:
    value = int(text)
    if value < 0 or 0 < value < 16:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or at least 16, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    import turbodicom

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = turbodicom.dcmread(args.file, force=args.force)
            text = _json(ds) if args.json else "\n".join(dump_lines(ds, args.max_width))
        except Exception as exc:  # noqa: BLE001 - untrusted input: one line, never a traceback
            if isinstance(exc, turbodicom.InvalidDicomError):
                message = str(exc)
            else:
                message = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, OSError) and exc.strerror:
                message = exc.strerror
            if getattr(exc, "reason", None) == "not DICOM" and not args.force:
                message = message.replace("Use force=True to force reading.", "").rstrip()
                message += " (--force reads it anyway)"
            print(f"turbodicom dump: {args.file}: {message}", file=sys.stderr)
            return 1
    seen = set()
    for warning in caught:
        message = str(warning.message)
        if message not in seen:
            seen.add(message)
            print(f"turbodicom dump: warning: {message}", file=sys.stderr)
    print(text)
    return 0


def _json(ds: Any) -> str:
    return json.dumps(ds.to_json_dict(), indent=2)


# -- the listing ------------------------------------------------------------------------------


def dump_lines(ds: Any, max_width: int = DEFAULT_MAX_WIDTH) -> list[str]:
    """The dcmdump-style listing of a dataset read by :func:`turbodicom.dcmread`."""
    from pydicom.uid import UID

    implicit, little = ds.original_encoding
    if implicit is None:  # a dataset built in memory
        implicit, little = False, True
    lines = ["# Dicom-File-Format", ""]
    meta = getattr(ds, "file_meta", None)
    if meta is not None and len(meta):
        lines += ["# Dicom-Meta-Information-Header", "# Used TransferSyntax: Explicit VR Little Endian"]
        lines += _dataset_lines(meta, 0, _Encoding(False, True, ["iso8859"]), max_width)
        lines.append("")
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        used = UID(syntax).name
    else:
        used = f"{'Implicit' if implicit else 'Explicit'} VR {'Little' if little else 'Big'} Endian"
    lines += ["# Dicom-Data-Set", f"# Used TransferSyntax: {used}"]
    lines += _dataset_lines(ds, 0, _Encoding(implicit, little, _charsets(ds, None)), max_width)
    return lines


class _Encoding:
    def __init__(self, implicit: bool, little: bool, charsets: list[str]) -> None:
        self.implicit = implicit
        self.little = little
        self.charsets = charsets


def _charsets(ds: Any, parent: list[str] | None) -> list[str]:
    try:
        charsets = ds._character_set
    except Exception:  # noqa: BLE001 - an unreadable Specific Character Set
        charsets = None
    if isinstance(charsets, str):
        charsets = [charsets]
    return list(charsets) if charsets else (parent or ["iso8859"])


def _line(level: int, tag: int, vr: str, value: str, length: int | str, vm: int, name: str) -> str:
    head = f"{'  ' * level}({tag >> 16:04x},{tag & 0xFFFF:04x}) {vr} {value}"
    pad = " " * max(VALUE_COLUMN - len(value), 0)
    length_text = "u/l" if length == _UNDEFINED else str(length)
    return f"{head}{pad} # {length_text:>3},{vm:>2} {name}"


def _dataset_lines(ds: Any, level: int, encoding: _Encoding, max_width: int) -> list[str]:
    lines: list[str] = []
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        try:
            elem = ds[tag]
        except Exception as exc:  # noqa: BLE001 - a value pydicom cannot convert
            lines.append(_unconvertible_line(level, tag, raw, exc, encoding, max_width))
            continue
        raw_length = getattr(raw, "length", None)
        if elem.VR == "SQ":
            lines += _sequence_lines(elem, level, encoding, max_width)
            continue
        if raw_length is None:
            raw_length = _encoded_length(elem, encoding)
        if int(tag) in _PIXEL_TAGS:
            value = _pixel_summary(ds, elem, raw_length)
        else:
            value = format_value(elem.VR, elem.value, raw_length, encoding.little, max_width)
        vm = 0 if elem.is_empty else elem.VM
        lines.append(_line(level, int(tag), elem.VR, value, raw_length, vm, element_name(elem)))
    return lines


def _sequence_lines(elem: Any, level: int, encoding: _Encoding, max_width: int) -> list[str]:
    items = list(elem.value)
    undefined = elem.is_undefined_length
    length: int | str = _UNDEFINED if undefined else _encoded_length(elem, encoding)
    kind = "undefined" if undefined else "explicit"
    lines = [_line(level, int(elem.tag), "SQ", f"(Sequence with {kind} length #={len(items)})",
                   length, 1, element_name(elem))]
    for item in items:
        item_undefined = bool(getattr(item, "is_undefined_length_sequence_item", False))
        item_length: int | str = _UNDEFINED if item_undefined else _item_length(item, encoding)
        item_kind = "undefined" if item_undefined else "explicit"
        lines.append(_line(level + 1, 0xFFFEE000, "na", f"(Item with {item_kind} length #={len(item)})",
                           item_length, 1, "Item"))
        inner = _Encoding(encoding.implicit, encoding.little, _charsets(item, encoding.charsets))
        lines += _dataset_lines(item, level + 2, inner, max_width)
        note = "" if item_undefined else " for re-encoding"
        lines.append(_line(level + 1, 0xFFFEE00D, "na", f"(ItemDelimitationItem{note})", 0, 0,
                           "ItemDelimitationItem"))
    note = "" if undefined else " for re-encod."
    lines.append(_line(level, 0xFFFEE0DD, "na", f"(SequenceDelimitationItem{note})", 0, 0,
                       "SequenceDelimitationItem"))
    return lines


def _unconvertible_line(level: int, tag: int, raw: Any, exc: Exception, encoding: _Encoding,
                        max_width: int) -> str:
    vr = getattr(raw, "VR", None) or "UN"
    data = getattr(raw, "value", None) or b""
    length = getattr(raw, "length", len(data))
    shown = _hex_words(bytes(data), "OB", encoding.little, max_width) if data else "(no value available)"
    from pydicom.datadict import keyword_for_tag

    name = keyword_for_tag(tag) or "Unknown Tag"
    return _line(level, int(tag), vr, f"{shown} (unreadable: {type(exc).__name__})", length, 0, name)


def _encoded_length(elem: Any, encoding: _Encoding) -> int | str:
    """The value length `elem` has when written with `encoding` (elements pydicom has converted
    while reading no longer carry the length they had in the file)."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_data_element

    try:
        fp = DicomBytesIO()
        fp.is_little_endian = encoding.little
        fp.is_implicit_VR = encoding.implicit
        write_data_element(fp, elem, encoding.charsets)
        size = len(fp.getvalue())
    except Exception:  # noqa: BLE001 - cannot be encoded: length unknown
        return "?"
    header = 8 if encoding.implicit or elem.VR not in _LONG_HEADER_VRS else 12
    if elem.VR == "SQ" and elem.is_undefined_length:
        return _UNDEFINED
    return size - header


def _item_length(item: Any, encoding: _Encoding) -> int | str:
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    try:
        fp = DicomBytesIO()
        fp.is_little_endian = encoding.little
        fp.is_implicit_VR = encoding.implicit
        write_dataset(fp, item, encoding.charsets)
        return len(fp.getvalue())
    except Exception:  # noqa: BLE001
        return "?"


def element_name(elem: Any) -> str:
    """The keyword; for a private element its creator and name; else ``Unknown Tag``."""
    if elem.keyword:
        return elem.keyword
    tag = elem.tag
    if tag.element == 0:
        return "GenericGroupLength"
    if tag.is_private:
        if tag.is_private_creator:
            return "PrivateCreator"
        creator = elem.private_creator
        if creator:
            name = elem.name
            if name.startswith("[") and name.endswith("]"):
                return f"{creator} {name}"
            return f"{creator} Unknown Tag"
    return "Unknown Tag"


# -- values ------------------------------------------------------------------------------------


def _cut(text: str, length: int, max_width: int, closing: str = "") -> str:
    """`text` (then `closing`) cut to `max_width` characters with the value's length noted."""
    if not max_width or len(text) + len(closing) <= max_width:
        return text + closing
    note = f"... ({length} bytes)"
    keep = max(max_width - len(note), 8)
    return text[:keep] + note


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    escapes = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return "".join(c if c.isprintable() else escapes.get(c, f"\\x{ord(c):02x}") for c in text)


def _items(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return list(value)
    return [value]


def _number(value: Any, vr: str) -> str:
    if isinstance(value, float):
        if vr == "FL":  # the shortest text that gives back the same 32-bit float
            import numpy

            return str(numpy.float32(value))
        return repr(value)
    return str(value)


def format_value(vr: str, value: Any, length: int | str, little: bool = True,
                 max_width: int = DEFAULT_MAX_WIDTH) -> str:
    """The value field of a line: ``[text\\text]``, ``1\\2``, hex words, or ``(no value available)``."""
    if value is None or value == "" or value == b"" or (isinstance(value, (list, tuple)) and not value):
        return "(no value available)"
    size = length if isinstance(length, int) and length != _UNDEFINED else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _hex_words(bytes(value), vr, little, max_width)
    if vr == "AT":
        tags = [f"({int(t) >> 16:04x},{int(t) & 0xFFFF:04x})" for t in _items(value)]
        return _cut("\\".join(tags), size or 0, max_width)
    if vr in _NUMBER_VRS:
        return _cut("\\".join(_number(v, vr) for v in _items(value)), size or 0, max_width)
    text = _printable("\\".join("" if v is None else str(v) for v in _items(value)))
    return _cut("[" + text, size if size is not None else len(text), max_width, "]")


def _hex_words(data: bytes, vr: str, little: bool, max_width: int) -> str:
    """The first words of a binary value in hex (bytes for OB and UN, 16-bit words for OW, ...),
    and the value's length when not all of it is shown."""
    size = _WORD_SIZE.get(vr, 1)
    if len(data) % size:
        size = 1
    count = min(len(data) // size, HEX_WORDS + 1)
    if size == 1:
        words = [f"{b:02x}" for b in data[:count]]
    else:
        code = {2: "H", 4: "L", 8: "Q"}[size]
        values = struct.unpack(f"{'<' if little else '>'}{count}{code}", data[: count * size])
        words = [f"{w:0{size * 2}x}" for w in values]
    whole = "\\".join(words)
    if count * size == len(data) and (not max_width or len(whole) <= max_width):
        return whole
    note = f"... ({len(data)} bytes)"
    room = max_width - len(note) if max_width else len(whole)
    shown: list[str] = []
    for word in words[:HEX_WORDS]:
        if shown and len("\\".join([*shown, word])) > room:
            break
        shown.append(word)
    return "\\".join(shown) + note


def _pixel_summary(ds: Any, elem: Any, length: int | str) -> str:
    """One line about a Pixel Data element instead of its bytes."""
    kind = _PIXEL_TAGS[int(elem.tag)]
    label = f"{kind} pixel data" if kind else "pixel data"
    frames = ds.get("NumberOfFrames") or 1
    try:
        frames = int(frames)
    except (TypeError, ValueError):
        frames = 1
    shape = f"{ds.get('Rows', '?')} rows x {ds.get('Columns', '?')} columns"
    samples = ds.get("SamplesPerPixel", 1)
    bits = ds.get("BitsAllocated", "?")
    frame_text = f"{frames} frame{'s' if frames != 1 else ''}"
    if length == _UNDEFINED or getattr(elem, "is_undefined_length", False):
        fragments = ""
        try:
            import turbodicom

            spans = turbodicom.frame_spans(ds)
            count = sum(len(frame) for frame in spans)
            frame_text = f"{len(spans)} frame{'s' if len(spans) != 1 else ''}"
            fragments = f" in {count} fragment{'s' if count != 1 else ''}"
        except Exception:  # noqa: BLE001 - fragments that cannot be indexed: summary only
            pass
        return f"(encapsulated {label}: {frame_text}{fragments}, {shape})"
    size = length if isinstance(length, int) else len(elem.value or b"")
    return f"({label}: {frame_text}, {shape}, {samples} sample{'s' if samples != 1 else ''}, " \
           f"{bits} bits, {size} bytes)"
