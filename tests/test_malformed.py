"""Malformed input: every read ends quickly with a dataset or InvalidDicomError.

Untrusted bytes are the normal case for a DICOM reader. Whatever the input,
``turbodicom.dcmread`` must return a dataset or raise
``turbodicom.InvalidDicomError`` within a second, without crashing, hanging or
allocating memory in proportion to a length field. Where pydicom reads a
damaged file, turbodicom must return an equal dataset; where pydicom raises
(any exception), turbodicom must raise InvalidDicomError.

The counts scale with the environment variable TURBODICOM_MALFORMED_SCALE
(a float, default 1): 0.2 for a quick run, 5 for a long one.
"""

from __future__ import annotations

import io
import os
import random
import resource
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_files
from pydicom.datadict import dictionary_VR
from pydicom.sequence import Sequence

import turbodicom
from conftest import dataset_differences, element_or_error

try:
    import pytest_timeout  # noqa: F401

    HAVE_TIMEOUT = True
except ImportError:  # pragma: no cover - the [test] extra has it
    HAVE_TIMEOUT = False

SCALE = float(os.environ.get("TURBODICOM_MALFORMED_SCALE", "1") or 1)
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
LIMIT_S = 1.0  # the longest a single read may take

UNDEFINED = 0xFFFFFFFF
ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def timeout(seconds: float):
    """pytest-timeout's mark when the plugin is there; the thread method also ends a hang inside C++."""
    if HAVE_TIMEOUT:
        return pytest.mark.timeout(max(seconds, seconds * SCALE), method="thread")
    return lambda f: f


def scaled(n: int, minimum: int = 1) -> int:
    return max(minimum, int(round(n * SCALE)))


def pydicom_file(name: str) -> Path:
    """A file of pydicom's test data by name."""
    for path in get_testdata_files(name):
        if Path(path).name == name:
            return Path(path)
    pytest.fail(f"pydicom's test file {name} is missing")


def corpus(relative: str) -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus folder {CORPUS} is absent")
    path = CORPUS / relative
    assert path.is_file(), f"corpus file {relative} is missing"
    return path


# --- reading -----------------------------------------------------------------


def read_turbo(data, *, force: bool = False, **kwargs):
    """turbodicom's outcome: ("ok", dataset) or ("invalid", error), within LIMIT_S.

    Any exception other than InvalidDicomError propagates and fails the test.
    """
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            outcome = ("ok", turbodicom.dcmread(data, force=force, **kwargs))
        except turbodicom.InvalidDicomError as exc:
            assert isinstance(exc, pydicom.errors.InvalidDicomError)
            outcome = ("invalid", exc)
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT_S, f"dcmread took {elapsed:.2f} s"
    return outcome


def read_pydicom(data: bytes, *, force: bool = False, **kwargs):
    """pydicom's outcome: ("ok", dataset) or ("raised", exception).

    The buffer has a name, as a file would: without one pydicom's warning for a
    deflated dataset cut short fails with a TypeError of its own.
    """
    buffer = io.BytesIO(data)
    buffer.name = "<bytes>"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("ok", pydicom.dcmread(buffer, force=force, **kwargs))
        except Exception as exc:  # any failure of pydicom's counts as "raises"
            return ("raised", exc)


def _equal(a, b) -> bool:
    """pydicom's own comparison of two FileDatasets; False where it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return a == b and a.file_meta == b.file_meta and a.preamble == b.preamble
        except Exception:
            return False


def compare_with_pydicom(data: bytes, label: str, **kwargs) -> list[str]:
    """Read `data` with both; describe any difference in outcome or dataset."""
    mine = read_turbo(data, **kwargs)
    theirs = read_pydicom(data, **kwargs)
    if theirs[0] == "raised":
        if mine[0] == "ok":
            return [f"{label}: pydicom raised {theirs[1]!r:.120}, turbodicom returned a dataset"]
        return []
    if mine[0] != "ok":
        return [f"{label}: pydicom read it, turbodicom raised {mine[1]!r:.120}"]
    if theirs[1].original_encoding != mine[1].original_encoding:
        return [f"{label}: read as (implicit VR, little endian) = {theirs[1].original_encoding} by pydicom, "
                f"{mine[1].original_encoding} by turbodicom"]
    if _equal(theirs[1], mine[1]):
        return []
    # Not equal, or a value could not be converted: compare fresh copies element
    # by element (a failed conversion can leave pydicom's element half converted).
    a, b = read_pydicom(data, **kwargs)[1], read_turbo(data, **kwargs)[1]
    problems = dataset_differences(a.file_meta, b.file_meta, "file_meta ") + dataset_differences(a, b)
    if a.preamble != b.preamble:
        problems.append("preamble differs")
    return [f"{label}: {p}" for p in problems[:3]]


def touch_everything(ds, depth: int = 0) -> None:
    """Convert every value of a dataset read from damaged bytes: must not crash or hang.

    pydicom's converters may raise on garbage; which exception does not matter here.
    """
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dataset in ([ds.file_meta, ds] if depth == 0 and hasattr(ds, "file_meta") else [ds]):
            for tag in list(dataset.keys()):
                ok, elem = element_or_error(dataset, tag)
                if ok and isinstance(elem.value, Sequence) and depth < 20:
                    for item in elem.value:
                        touch_everything(item, depth + 1)
    assert time.perf_counter() - start < LIMIT_S


def assert_no_problems(problems: list[str]) -> None:
    if problems:
        shown = "\n  ".join(problems[:25])
        pytest.fail(f"{len(problems)} problem(s):\n  {shown}")


# --- the structure of a valid file: where its length fields are ---------------


def _walk(buf: bytes, pos: int, end: int, implicit: bool, little: bool, fields: list, stop_group=None) -> int:
    """Record (offset, size) of each length field in buf[pos:end]; return where the walk stopped."""
    order = "<" if little else ">"
    while pos + 8 <= end:
        group, elem = struct.unpack_from(order + "HH", buf, pos)
        tag = group << 16 | elem
        if stop_group is not None and group != stop_group:
            return pos
        if tag in (ITEM_DELIMITER, SEQUENCE_DELIMITER):
            fields.append((pos + 4, 4))
            return pos + 8
        vr = None if implicit or group == 0xFFFE else bytes(buf[pos + 4 : pos + 6])
        if vr is None:
            field, size, value = pos + 4, 4, pos + 8
        elif vr in LONG_VRS:
            field, size, value = pos + 8, 4, pos + 12
        else:
            field, size, value = pos + 6, 2, pos + 8
        if value > end:
            return pos
        fields.append((field, size))
        length = struct.unpack_from(order + ("L" if size == 4 else "H"), buf, field)[0]
        if vr is None:
            try:
                is_sequence = dictionary_VR(tag) == "SQ"
            except KeyError:
                is_sequence = length == UNDEFINED
        else:
            is_sequence = vr == b"SQ" or (vr == b"UN" and length == UNDEFINED)
        if length == UNDEFINED:
            pos = _items(buf, value, len(buf), implicit or vr == b"UN", little, fields, is_sequence)
        else:
            if is_sequence:
                _items(buf, value, min(value + length, end), implicit, little, fields, True)
            pos = value + length
    return pos


def _items(buf, pos, end, implicit, little, fields, nested) -> int:
    """Items of a sequence (datasets) or of an encapsulated value (fragments)."""
    order = "<" if little else ">"
    while pos + 8 <= end:
        group, elem, length = struct.unpack_from(order + "HHL", buf, pos)
        tag = group << 16 | elem
        fields.append((pos + 4, 4))
        if tag == SEQUENCE_DELIMITER or tag != ITEM:
            return pos + 8
        if not nested:
            pos += 8 + length
        elif length == UNDEFINED:
            pos = _walk(buf, pos + 8, len(buf), implicit, little, fields)
        else:
            _walk(buf, pos + 8, min(pos + 8 + length, end), implicit, little, fields)
            pos += 8 + length
    return pos


class Layout:
    """A valid file split into meta and dataset, with every length field located.

    A deflated dataset is inflated here and deflated again by `rebuild`, so the
    fields inside it can be damaged too.
    """

    def __init__(self, data: bytes):
        ds = pydicom.dcmread(io.BytesIO(data), force=True, stop_before_pixels=False)
        self.implicit, self.little = ds.original_encoding
        start = 132 if data[128:132] == b"DICM" else 0
        meta_fields: list = []
        meta_end = _walk(data, start, len(data), False, True, meta_fields, stop_group=0x0002)
        if not ds.file_meta:
            meta_fields, meta_end = [], start
        self.prefix = bytearray(data[:meta_end])
        self.deflated = ds.file_meta.get("TransferSyntaxUID") == pydicom.uid.DeflatedExplicitVRLittleEndian
        body = zlib.decompress(data[meta_end:], -zlib.MAX_WBITS) if self.deflated else data[meta_end:]
        self.body = bytearray(body)
        body_fields: list = []
        _walk(self.body, 0, len(self.body), self.implicit, self.little, body_fields)
        self.fields = [("prefix", off, size) for off, size in meta_fields] + [
            ("body", off, size) for off, size in body_fields
        ]

    def rebuild(self, prefix: bytes, body: bytes) -> bytes:
        if self.deflated:
            packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            body = packer.compress(bytes(body)) + packer.flush()
        return bytes(prefix) + bytes(body)

    def with_length(self, field, value: int) -> bytes:
        part, offset, size = field
        prefix, body = bytearray(self.prefix), bytearray(self.body)
        target = prefix if part == "prefix" else body
        little = True if part == "prefix" else self.little
        fmt = ("<" if little else ">") + ("L" if size == 4 else "H")
        struct.pack_into(fmt, target, offset, value if size == 4 else value & 0xFFFF)
        return self.rebuild(prefix, body)


# --- the files -------------------------------------------------------------------

# (name, where, force needed): implicit VR, explicit VR, big endian, deflated,
# encapsulated JPEG, undefined-length sequences, no File Meta at all.
TRUNCATED = [
    ("rtplan.dcm", "pydicom", False),  # implicit VR LE, defined-length sequences
    ("CT_small.dcm", "pydicom", False),  # explicit VR LE, 39 KB
    ("MR_small_bigendian.dcm", "pydicom", False),  # explicit VR BE
    ("image_dfl.dcm", "pydicom", False),  # deflated explicit VR LE
    ("JPEG-lossy.dcm", "pydicom", False),  # encapsulated JPEG, undefined-length sequences
    ("reportsi.dcm", "pydicom", False),  # SR: nested undefined-length sequences
    ("rtstruct.dcm", "pydicom", True),  # no preamble or meta, implicit VR, undefined-length sequences
    ("pydicom-data/bad_sequence.dcm", "corpus", False),  # a deliberately broken sequence
    ("pydicom-data/explicit_VR-UN.dcm", "corpus", False),  # UN elements
]


def load(name: str, where: str) -> bytes:
    return (pydicom_file(name) if where == "pydicom" else corpus(name)).read_bytes()


def truncation_offsets(size: int, head: int = 2048, spread: int = 128) -> list[int]:
    """Every offset in the first `head` bytes, then `spread` offsets across the rest and the full size."""
    step = max(1, int(round(1 / SCALE))) if SCALE < 1 else 1
    offsets = list(range(0, min(size, head), step))
    if size > head:
        count = scaled(spread)
        offsets += sorted({head + (size - head) * i // count for i in range(count)})
    return offsets + [size]


# --- truncation ---------------------------------------------------------------------


@timeout(120)
@pytest.mark.parametrize("name,where,force", TRUNCATED, ids=[t[0].split("/")[-1] for t in TRUNCATED])
def test_truncated_like_pydicom(name, where, force):
    """A file cut at any offset: the outcome and the dataset are pydicom's."""
    data = load(name, where)
    problems: list[str] = []
    for offset in truncation_offsets(len(data)):
        problems += compare_with_pydicom(data[:offset], f"cut at {offset}", force=force)
    assert_no_problems(problems)


@timeout(120)
@pytest.mark.parametrize("name,where,force", TRUNCATED, ids=[t[0].split("/")[-1] for t in TRUNCATED])
def test_truncated_forced_and_partial(name, where, force):
    """Cut files with force=True, stop_before_pixels and defer_size: still pydicom's outcome."""
    data = load(name, where)
    offsets = truncation_offsets(len(data), head=512, spread=64)[:: max(1, int(round(3 / SCALE)))]
    problems: list[str] = []
    for offset in offsets:
        cut = data[:offset]
        if not force:
            problems += compare_with_pydicom(cut, f"force=True, cut at {offset}", force=True)
        problems += compare_with_pydicom(cut, f"stop_before_pixels, cut at {offset}", force=force,
                                         stop_before_pixels=True)
        problems += compare_with_pydicom(cut, f"defer_size=64, cut at {offset}", force=force, defer_size=64)
    assert_no_problems(problems)


@timeout(60)
def test_truncated_files_from_disk(tmp_path):
    """The path route (the C++ side reads the file) behaves as the bytes route."""
    data = pydicom_file("JPEG-lossy.dcm").read_bytes()
    path = tmp_path / "cut.dcm"
    problems: list[str] = []
    for offset in truncation_offsets(len(data), head=400, spread=16)[:: max(1, int(round(4 / SCALE)))]:
        path.write_bytes(data[:offset])
        from_path = read_turbo(str(path))
        from_bytes = read_turbo(data[:offset])
        if from_path[0] != from_bytes[0]:
            problems.append(f"cut at {offset}: path {from_path[0]}, bytes {from_bytes[0]}")
        elif from_path[0] == "ok":
            problems += [f"cut at {offset}: {p}" for p in dataset_differences(from_path[1], from_bytes[1])]
    assert_no_problems(problems)


# --- random damage ----------------------------------------------------------------

MUTATED = [
    ("rtplan.dcm", "pydicom", False),
    ("CT_small.dcm", "pydicom", False),
    ("MR_small_bigendian.dcm", "pydicom", False),
    ("image_dfl.dcm", "pydicom", False),
    ("JPEG-lossy.dcm", "pydicom", False),
    ("reportsi.dcm", "pydicom", False),
    ("rtstruct.dcm", "pydicom", True),
    ("nested_priv_SQ.dcm", "pydicom", False),
    ("UN_sequence.dcm", "pydicom", False),
    ("pydicom-data/liver_deflate.dcm", "corpus", False),
]

INTERESTING = [0x00, 0xFF, 0xFE, 0x7F, 0x80, 0x01, 0xE0, 0xDD, 0x0D]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Up to 8 byte changes, mostly near the start where the structure is dense; sometimes a
    stretch copied elsewhere, sometimes the end cut off."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.7:
            pos = rng.randrange(min(len(out), 1024))
        else:
            pos = rng.randrange(len(out))
        kind = rng.random()
        if kind < 0.4:
            out[pos] ^= 1 << rng.randrange(8)
        elif kind < 0.7:
            out[pos] = rng.choice(INTERESTING)
        else:
            out[pos] = rng.randrange(256)
    if rng.random() < 0.15:
        # Splice: a copy of one stretch elsewhere (duplicate elements, items, delimiters).
        start = rng.randrange(len(out))
        piece = out[start : start + rng.randint(8, 256)]
        at = rng.randrange(len(out))
        out[at:at] = piece
    if rng.random() < 0.1:
        del out[rng.randrange(len(out)) :]
    return bytes(out)


@timeout(120)
@pytest.mark.parametrize("name,where,force", MUTATED, ids=[m[0].split("/")[-1] for m in MUTATED])
def test_random_byte_flips(name, where, force):
    """Seeded random damage: pydicom's outcome, and every value of the dataset converts or raises."""
    data = load(name, where)
    layout = Layout(data)
    problems: list[str] = []
    for i in range(scaled(200)):
        rng = random.Random(f"{name}:{i}")
        if layout.deflated and i % 2:
            # Damage the inflated dataset and deflate it again, or the damage stops at inflate.
            mutant = layout.rebuild(layout.prefix, mutate(bytes(layout.body), rng))
        else:
            mutant = mutate(data, rng)
        problems += compare_with_pydicom(mutant, f"mutant {name}:{i}", force=force)
        status, result = read_turbo(mutant, force=True)
        if status == "ok":
            touch_everything(result)
    assert_no_problems(problems)


@timeout(60)
def test_random_bytes():
    """Noise, with and without a DICOM prefix."""
    rng = random.Random(20240601)
    for i in range(scaled(300)):
        size = rng.choice([1, 2, 7, 8, 12, 100, 131, 132, 140, 1000, 5000])
        noise = bytes(rng.randrange(256) for _ in range(size))
        if i % 2:
            noise = bytes(128) + b"DICM" + noise
        for force in (False, True):
            status, result = read_turbo(noise, force=force)
            if status == "ok":
                touch_everything(result)


# --- length fields --------------------------------------------------------------

LENGTHS = [
    ("rtplan.dcm", "pydicom", False),
    ("CT_small.dcm", "pydicom", False),
    ("MR_small_bigendian.dcm", "pydicom", False),
    ("image_dfl.dcm", "pydicom", False),
    ("JPEG-lossy.dcm", "pydicom", False),
    ("reportsi.dcm", "pydicom", False),
    ("rtstruct.dcm", "pydicom", True),
    ("UN_sequence.dcm", "pydicom", False),
]


@timeout(120)
@pytest.mark.parametrize("name,where,force", LENGTHS, ids=[m[0].split("/")[-1] for m in LENGTHS])
def test_huge_and_undefined_lengths(name, where, force):
    """0xFFFFFFFE and 0xFFFFFFFF in every length field (0xFFFE/0xFFFF in 2-byte ones)."""
    layout = Layout(load(name, where))
    assert len(layout.fields) > 10
    problems: list[str] = []
    step = max(1, int(round(1 / SCALE)))
    for n, field in enumerate(layout.fields[::step]):
        for value in (0xFFFFFFFE, UNDEFINED):
            mutant = layout.with_length(field, value)
            label = f"{field[0]} offset {field[1]} = {value:#x}"
            if n % 4 == 0:
                problems += compare_with_pydicom(mutant, label, force=force)
            else:
                status, result = read_turbo(mutant, force=force)
                if status == "ok" and n % 4 == 1:
                    touch_everything(result)
    assert_no_problems(problems)


# --- hand-made structures -----------------------------------------------------------


def part10(body: bytes, syntax: str = "1.2.840.10008.1.2.1") -> bytes:
    """Preamble, 'DICM' and a File Meta group holding only the transfer syntax."""
    uid = syntax.encode() + (b"\0" if len(syntax) % 2 else b"")
    return bytes(128) + b"DICM" + b"\x02\x00\x10\x00UI" + struct.pack("<H", len(uid)) + uid + body


def explicit(tag: int, vr: bytes, value: bytes = b"", length: int | None = None, little: bool = True) -> bytes:
    order = "<" if little else ">"
    length = len(value) if length is None else length
    head = struct.pack(order + "HH", tag >> 16, tag & 0xFFFF) + vr
    if vr in LONG_VRS:
        return head + b"\0\0" + struct.pack(order + "L", length) + value
    return head + struct.pack(order + "H", length) + value


def implicit(tag: int, value: bytes = b"", length: int | None = None) -> bytes:
    length = len(value) if length is None else length
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, length) + value


def nested(depth: int, implicit_vr: bool, closed: bool = True, tag: int = 0x0040A730) -> bytes:
    """`depth` undefined-length sequences, each holding one undefined-length item."""
    if implicit_vr:
        opening = implicit(tag, length=UNDEFINED) + implicit(ITEM, length=UNDEFINED)
    else:
        opening = explicit(tag, b"SQ", length=UNDEFINED) + implicit(ITEM, length=UNDEFINED)
    closing = implicit(ITEM_DELIMITER) + implicit(SEQUENCE_DELIMITER)
    body = explicit(0x00100010, b"PN", b"Doe^John") if not implicit_vr else implicit(0x00100010, b"Doe^John")
    inner = implicit(0x00100020, b"ID01") if implicit_vr else explicit(0x00100020, b"LO", b"ID01")
    syntax = "1.2.840.10008.1.2" if implicit_vr else "1.2.840.10008.1.2.1"
    return part10(body + opening * depth + inner + (closing * depth if closed else b""), syntax)


@timeout(60)
@pytest.mark.parametrize("implicit_vr", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize("closed", [True, False], ids=["closed", "unclosed"])
def test_nesting_10000_deep(implicit_vr, closed):
    data = nested(10_000, implicit_vr, closed)
    status, result = read_turbo(data)
    assert status == "invalid", "10,000 nested sequences must hit the nesting limit"
    assert result.offset is not None and 0 < result.offset < len(data)
    assert result.reason
    status, _ = read_turbo(data, force=True, stop_before_pixels=True)
    assert status == "invalid"


@timeout(60)
@pytest.mark.parametrize("implicit_vr", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize("depth", [1, 2, 30, 100])
def test_nesting_within_the_limit_like_pydicom(implicit_vr, depth):
    problems = compare_with_pydicom(nested(depth, implicit_vr), f"{depth} deep")
    problems += compare_with_pydicom(nested(depth, implicit_vr, closed=False), f"{depth} deep, unclosed")
    assert_no_problems(problems)


def _same_tag_forms(implicit_vr: bool) -> dict[str, bytes]:
    """Ways to write the element (0040,A730) (a sequence in the dictionary)."""
    def element(vr: bytes, value: bytes = b"", length: int | None = None) -> bytes:
        if implicit_vr:
            return implicit(0x0040A730, value, length)
        return explicit(0x0040A730, vr, value, length)

    def text(tag: int, vr: bytes, value: bytes) -> bytes:
        return implicit(tag, value) if implicit_vr else explicit(tag, vr, value)

    close = implicit(ITEM_DELIMITER) + implicit(SEQUENCE_DELIMITER)
    nested_open = (implicit(0x0040A043, length=UNDEFINED) if implicit_vr
                   else explicit(0x0040A043, b"SQ", length=UNDEFINED))
    nested = nested_open + implicit(ITEM, length=UNDEFINED) + text(0x00080100, b"SH", b"INNER ") + close
    return {
        "undefined": element(b"SQ", length=UNDEFINED) + implicit(ITEM, length=UNDEFINED) +
                     text(0x00080100, b"SH", b"FLAT  ") + close,
        "undefined, nested": element(b"SQ", length=UNDEFINED) + implicit(ITEM, length=UNDEFINED) + nested + close,
        "defined": element(b"SQ", implicit(ITEM, text(0x00080100, b"SH", b"DEFINE"))),
        "empty": element(b"SQ"),
        "UN value": element(b"UN", b"\x01\x02\x03\x04"),
    }


@timeout(60)
@pytest.mark.parametrize("implicit_vr", [False, True], ids=["explicit", "implicit"])
def test_same_tag_twice_like_pydicom(implicit_vr):
    """A tag written twice in one dataset (damaged or spliced files): the last one is kept, as pydicom keeps it."""
    forms = _same_tag_forms(implicit_vr)
    syntax = "1.2.840.10008.1.2" if implicit_vr else "1.2.840.10008.1.2.1"
    patient = implicit(0x00100010, b"Doe^Jane") if implicit_vr else explicit(0x00100010, b"PN", b"Doe^Jane")
    outer = (implicit(0x0008114A, length=UNDEFINED) if implicit_vr
             else explicit(0x0008114A, b"SQ", length=UNDEFINED))
    problems: list[str] = []
    for first, first_bytes in forms.items():
        for second, second_bytes in forms.items():
            pair = first_bytes + second_bytes
            label = f"{first} then {second}"
            problems += compare_with_pydicom(part10(patient + pair, syntax), label)
            in_item = outer + implicit(ITEM, length=UNDEFINED) + pair + implicit(ITEM_DELIMITER) + \
                implicit(SEQUENCE_DELIMITER)
            problems += compare_with_pydicom(part10(patient + in_item, syntax), f"{label}, in an item")
    assert_no_problems(problems)


def claimed_2gb_cases() -> dict[str, tuple[bytes, dict]]:
    """About 1 KB each, with one length of 2 GB (or 4 GB - 2) somewhere."""
    big = 0x80000000
    filler = explicit(0x00100010, b"PN", b"Doe^Jane") + explicit(0x00100020, b"LO", b"ID0001")
    pad = bytes(900)
    cases = {
        "explicit OB": (part10(filler + explicit(0x00091010, b"OB", pad, length=big)), {}),
        "explicit UT": (part10(filler + explicit(0x00081030, b"UT", pad, length=0xFFFFFFFE)), {}),
        "pixel data": (part10(filler + explicit(0x7FE00010, b"OW", pad, length=big)), {}),
        "pixel data, stop before": (part10(filler + explicit(0x7FE00010, b"OW", pad, length=big)),
                                    {"stop_before_pixels": True}),
        "deferred": (part10(filler + explicit(0x00091010, b"OB", pad, length=big)), {"defer_size": 256}),
        "implicit": (part10(implicit(0x00100010, b"Doe^Jane") + implicit(0x00091010, pad, length=big),
                            "1.2.840.10008.1.2"), {}),
        "meta group": (bytes(128) + b"DICM" + explicit(0x00020001, b"OB", pad, length=big), {}),
        "meta group length": (bytes(128) + b"DICM" + explicit(0x00020000, b"UL", struct.pack("<L", big)) +
                              explicit(0x00020010, b"UI", b"1.2.840.10008.1.2.1\0") + filler + pad, {}),
        "sequence": (part10(filler + explicit(0x0040A730, b"SQ", length=big) + implicit(ITEM, length=big) +
                            explicit(0x00100010, b"PN", b"Doe^John") + pad), {}),
        "item": (part10(filler + explicit(0x0040A730, b"SQ", length=UNDEFINED) + implicit(ITEM, length=big) +
                        explicit(0x00100010, b"PN", b"Doe^John") + pad), {}),
        "fragment": (part10(filler + explicit(0x7FE00010, b"OB", length=UNDEFINED) + implicit(ITEM, length=0) +
                            implicit(ITEM, length=big) + pad, "1.2.840.10008.1.2.4.50"), {}),
        "no meta": (explicit(0x00080016, b"UI", b"1.2.3.4\0") + explicit(0x00091010, b"OB", pad, length=big),
                    {"force": True}),
    }
    for data, _ in cases.values():
        assert 900 <= len(data) <= 1200
    return cases


@timeout(60)
@pytest.mark.parametrize("case", list(claimed_2gb_cases()))
def test_2gb_claimed_length_in_1kb(case):
    data, kwargs = claimed_2gb_cases()[case]
    tracemalloc.start()
    try:
        status, result = read_turbo(data, **kwargs)
        if status == "ok":
            touch_everything(result)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"{peak} bytes allocated for a 1 KB file"
    assert_no_problems(compare_with_pydicom(data, case, **kwargs))


def _under_asan() -> bool:
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return True  # no way to tell: do not limit the address space
    return "asan" in maps or "asan" in os.environ.get("LD_PRELOAD", "")


@timeout(120)
@pytest.mark.skipif(sys.platform != "linux", reason="address-space limit and /proc are Linux's")
def test_2gb_claimed_length_with_limited_memory():
    """In a child process whose address space cannot grow by 256 MB, every case still reads.

    C++ allocations are invisible to tracemalloc; an allocation sized by a length
    field shows up here as a failed read. (Skipped under AddressSanitizer, which
    reserves terabytes of address space.)
    """
    if _under_asan():
        pytest.skip("address-space limits do not work under AddressSanitizer")
    script = textwrap.dedent(
        """
        import resource, sys, warnings
        sys.path.insert(0, sys.argv[1])
        import test_malformed as t
        import turbodicom
        warnings.simplefilter("ignore")
        cases = t.claimed_2gb_cases()
        for data, kwargs in cases.values():  # warm up: imports, caches
            try:
                turbodicom.dcmread(data, **kwargs)
            except turbodicom.InvalidDicomError:
                pass
        with open("/proc/self/statm") as f:
            vm = int(f.read().split()[0]) * resource.getpagesize()
        limit = vm + 256 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for name, (data, kwargs) in cases.items():
            try:
                ds = turbodicom.dcmread(data, **kwargs)
                ds.keys()
            except turbodicom.InvalidDicomError:
                pass
            except MemoryError:
                print("MemoryError in case", name)
                sys.exit(3)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print("grown_kb", grown)
        sys.exit(0 if grown < 32 * 1024 else 4)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"


# --- not DICOM at all ----------------------------------------------------------------


@timeout(60)
def test_empty_input(tmp_path):
    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")
    for source in (b"", bytearray(), memoryview(b""), io.BytesIO(b""), str(path), path):
        status, result = read_turbo(source)
        assert status == "invalid"
        assert result.offset is not None
    problems = compare_with_pydicom(b"", "empty, forced", force=True)
    status, _ = read_turbo(str(path), force=True)
    assert status == ("ok" if read_pydicom(b"", force=True)[0] == "ok" else "invalid")
    assert_no_problems(problems)


@timeout(60)
def test_one_byte_inputs(tmp_path):
    problems: list[str] = []
    path = tmp_path / "one.dcm"
    for value in range(256):
        data = bytes([value])
        status, _ = read_turbo(data)
        assert status == "invalid"
        problems += compare_with_pydicom(data, f"byte {value:#04x}, forced", force=True)
        if value % 32 == 0:
            path.write_bytes(data)
            read_turbo(str(path), force=True)
    assert_no_problems(problems)


@timeout(60)
def test_plain_text(tmp_path):
    texts = [
        b"hello",
        b"This is not a DICOM file.\n" * 40,
        b"DICM",
        b"xDICM" * 300,
        b"DICM" * 300,  # 'DICM' at offset 128: a preamble, then garbage
        b"#!/bin/sh\necho hello\n",
        "\u00e9t\u00e9 \u65e5\u672c\u8a9e\n".encode() * 100,
    ]
    problems: list[str] = []
    for i, text in enumerate(texts):
        path = tmp_path / f"text{i}.txt"
        path.write_bytes(text)
        if text[128:132] != b"DICM":
            status, result = read_turbo(text)
            assert status == "invalid", f"text {i} read as DICOM without force"
            assert result.reason
            assert read_turbo(str(path))[0] == "invalid"
        else:
            problems += compare_with_pydicom(text, f"text {i}")
        problems += compare_with_pydicom(text, f"text {i}, forced", force=True)
        read_turbo(str(path), force=True)
    assert_no_problems(problems)


@timeout(60)
def test_megabyte_of_zeros(tmp_path):
    zeros = bytes(1 << 20)
    status, result = read_turbo(zeros)
    assert status == "invalid"
    status, result = read_turbo(zeros, force=True)
    if status == "ok":
        touch_everything(result)
    path = tmp_path / "zeros.dcm"
    path.write_bytes(zeros)
    assert read_turbo(str(path), force=True)[0] == status
    with_preamble = bytes(128) + b"DICM" + bytes(1 << 20)
    assert_no_problems(
        compare_with_pydicom(zeros, "1 MB of zeros", force=True)
        + compare_with_pydicom(with_preamble, "preamble + 1 MB of zeros")
    )


@timeout(60)
def test_peak_memory_of_a_damaged_file_is_bounded():
    """Python-side memory for a 39 KB file with damaged lengths stays near its size."""
    layout = Layout(pydicom_file("CT_small.dcm").read_bytes())
    worst = 0
    for field in layout.fields[:: max(1, len(layout.fields) // scaled(20))]:
        mutant = layout.with_length(field, 0x7FFFFFFE)
        tracemalloc.start()
        try:
            read_turbo(mutant)
            worst = max(worst, tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert worst < 2 * 1024 * 1024
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4 * 1024 * 1024  # KB: 4 GB would be a runaway
