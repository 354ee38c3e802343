"""Bulk reading of chosen attributes from many files into columns.

>>> result = turbodicom.scan("archive/", ["PatientID", "Modality", "Rows"])
>>> result.to_pandas()

Files are parsed on a C++ thread pool with the GIL released, each only up to
the last requested attribute; values come back converted as pydicom converts
them, as plain Python values.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from pydicom.charset import convert_encodings, python_encoding
from pydicom.datadict import dictionary_keyword, keyword_dict, private_dictionary_VR
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as PydicomSequence
from pydicom.tag import BaseTag
from pydicom.values import convert_string
from pydicom.valuerep import PersonName

from turbodicom import _core
from turbodicom.errors import InvalidDicomError

__all__ = ["ScanResult", "parse_tag_path", "scan"]

_STEP = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<item>-?\d+)\])?$")
_HEX_TAG = re.compile(r"^\(?\s*([0-9A-Fa-f]{4})\s*,?\s*([0-9A-Fa-f]{4})\s*\)?$")


def _tag_of(name: str) -> int:
    tag = keyword_dict.get(name)
    if tag is not None:
        return tag
    match = _HEX_TAG.match(name)
    if match:
        return int(match.group(1) + match.group(2), 16)
    raise ValueError(f"unknown tag or keyword: {name!r}")


def parse_tag_path(spec: Any) -> tuple[str, list[tuple[int, int]]]:
    """A column name and the path of (tag, item) steps for one requested tag.

    Accepts a keyword (``"PatientID"``), an int (``0x00100020``), a
    ``(group, element)`` tuple, a hex string (``"(0009,1001)"``, ``"00091001"``),
    or a path into sequences such as ``"ReferencedImageSequence[0].ReferencedSOPInstanceUID"``
    (an item index may be negative to count from the end; it defaults to 0).
    """
    if isinstance(spec, tuple) and len(spec) == 2:
        tag = (int(spec[0]) << 16) | int(spec[1])
        return _column_name(tag), [(tag, -1)]
    if isinstance(spec, int):
        return _column_name(int(spec)), [(int(spec), -1)]
    if not isinstance(spec, str):
        raise TypeError(f"a tag is a keyword, an int, a (group, element) tuple or a path, not {spec!r}")
    steps: list[tuple[int, int]] = []
    parts = spec.split(".")
    for i, part in enumerate(parts):
        match = _STEP.match(part.strip())
        if not match:
            raise ValueError(f"cannot read the tag path {spec!r}")
        tag = _tag_of(match.group("name").strip())
        last = i == len(parts) - 1
        item = match.group("item")
        if last and item is not None:
            raise ValueError(f"the last step of {spec!r} names an item, not an attribute")
        steps.append((tag, -1 if last else int(item or 0)))
    name = spec if len(steps) > 1 or not _HEX_TAG.match(spec) else _column_name(steps[0][0])
    return name, steps


def _column_name(tag: int) -> str:
    try:
        keyword = dictionary_keyword(tag)
    except KeyError:
        keyword = ""
    return keyword or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _ascii_charsets() -> set[bytes]:
    """Specific Character Set values under which 7-bit text decodes as ASCII."""
    sample = bytes(b for b in range(0x80) if b != 0x1B)
    values = {b"", b" "}
    for term, codec in python_encoding.items():
        try:
            if sample.decode(codec) != sample.decode("ascii"):
                continue
        except (LookupError, UnicodeError):
            continue
        raw = term.encode("ascii", "ignore")
        values.update({raw, raw + b" ", raw + b"\0"})
    return values


_ASCII_CHARSETS = _ascii_charsets()


def _plain(value: Any) -> Any:
    """pydicom's value as a plain Python value."""
    if isinstance(value, PydicomSequence):  # not a list or a MultiValue in pydicom 3
        return len(value)
    if isinstance(value, (MultiValue, list, tuple)) and not isinstance(value, (str, bytes)):
        return [_plain(v) for v in value]
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    try:  # Decimal (config.use_DS_decimal)
        return float(value)
    except (TypeError, ValueError):
        return value


def _convert_with_pydicom(tag: int, vr: str, data: bytes, little: bool, implicit: bool, length: int,
                          charset: bytes | None, creator: bytes | None = None) -> Any:
    encodings = None
    if charset is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encodings = convert_encodings(convert_string(charset, True))
    if creator is not None:
        # pydicom's VR for a private element: from its private dictionary, by creator
        name = creator.decode("latin-1").rstrip(" \0")
        try:
            vr = private_dictionary_VR(tag, name)
        except KeyError:
            vr = "UN"
        if " or " in vr:
            vr = "UN"
    raw = RawDataElement(BaseTag(tag), vr or None, length, data, 0, implicit, little)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        element = convert_raw_data_element(raw, encoding=encodings)
    if element.VR == "SQ":  # an empty sequence converts to a plain list: its item count either way
        return len(element.value)
    return _plain(element.value)


class ScanResult:
    """Columns read by :func:`scan`: ``path``, one per requested tag, and ``error``.

    ``len(result)`` is the number of files; ``result["PatientID"]`` a column
    (a list); :meth:`to_pandas`, :meth:`to_arrow` and :meth:`to_pylist` convert it.
    """

    def __init__(self, paths: list[str], columns: dict[str, list], errors: list[str | None] | None) -> None:
        self.paths = paths
        self.columns = columns
        self.errors = errors

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, name: str) -> list:
        if name == "path":
            return self.paths
        if name == "error" and self.errors is not None:
            return self.errors
        return self.columns[name]

    @property
    def column_names(self) -> list[str]:
        return ["path", *self.columns, *(["error"] if self.errors is not None else [])]

    def as_dict(self) -> dict[str, list]:
        return {name: self[name] for name in self.column_names}

    def to_pylist(self) -> list[dict[str, Any]]:
        """One dict per file."""
        names = self.column_names
        columns = [self[n] for n in names]
        return [dict(zip(names, row)) for row in zip(*columns)]

    def to_pandas(self):
        """A pandas DataFrame (needs pandas); multi-valued cells are lists.

        A column of integers (IS, binary integers, item counts) has pandas'
        nullable ``Int64`` dtype, so missing values do not turn it into
        floats; a column of numbers with a fraction is ``float64`` (NaN where
        missing); a column of text the dtype pandas gives text; any other
        column (lists, bytes, integers beyond int64, mixed kinds) holds the
        values themselves as objects.
        """
        import pandas as pd

        return pd.DataFrame({name: _pandas_column(pd, self[name]) for name in self.column_names},
                            columns=self.column_names)

    def to_arrow(self):
        """A pyarrow Table (needs pyarrow) with the types the values have.

        Integers become int64, numbers with a fraction float64, text string,
        bytes binary, multi-valued cells lists of those (where a multi-valued
        attribute has a single value in some files, those cells are one-item
        lists); a column whose values mix kinds is stored as text.
        """
        import pyarrow as pa

        arrays = {}
        for name in self.column_names:
            values = self[name]
            # A multi-valued attribute may hold one value in some files: one-item lists there.
            if any(isinstance(v, list) for v in values):
                values = [v if v is None or isinstance(v, list) else [v] for v in values]
            try:
                arrays[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                arrays[name] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        return pa.table(arrays)

    def __repr__(self) -> str:
        return f"ScanResult({len(self)} files, columns={self.column_names})"


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _pandas_column(pd, values: list):
    """`values` as pandas holds them without loss: integers as Int64, numbers with a fraction as
    float64, text as pandas' text dtype, anything else (lists, bytes, mixtures) as objects."""
    present = [v for v in values if v is not None]
    if not present or all(type(v) is str for v in present):
        return values
    if all(type(v) is int and _INT64_MIN <= v <= _INT64_MAX for v in present):
        return pd.array(values, dtype="Int64")
    if all(type(v) is float for v in present):
        return pd.array([float("nan") if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype=object)


def _files_of(source: Any, recursive: bool) -> tuple[list[str], list[str]]:
    """The files of `source` as str (names that are not UTF-8 with surrogate escapes, as
    os.fsdecode gives them), and the directories that could not be listed."""
    if isinstance(source, (str, bytes, os.PathLike)):
        root = os.fsdecode(source)
        if not os.path.lexists(root):
            raise FileNotFoundError(f"{root}: no such file or directory")
        files, errors = _core.list_files(os.fsencode(root), recursive)
        return [os.fsdecode(f) for f in files], [os.fsdecode(e) for e in errors]
    if isinstance(source, Iterable):
        return [os.fsdecode(p) for p in source], []
    raise TypeError(f"source must be a directory, a file or an iterable of paths, not {type(source).__name__}")


def scan(
    source: str | os.PathLike | Iterable[str | os.PathLike],
    tags: Sequence[Any],
    *,
    recursive: bool = True,
    workers: int | None = None,
    progress: bool = False,
    on_error: str = "record",
    force: bool = False,
) -> ScanResult:
    """Read `tags` from every DICOM file of `source` into columns.

    `source` is a directory (walked recursively unless ``recursive=False``;
    links to directories are not followed), a file, or an iterable of paths.
    `tags` are keywords, ints, ``(group, element)`` tuples, hex strings for
    private tags, or paths into sequences (``"Seq[0].Keyword"``); see
    :func:`parse_tag_path`. `workers` is the number of threads (default: one
    per core). With ``progress=True`` a progress bar is drawn on stderr when
    it is a terminal.

    Values are converted as pydicom converts them, as plain Python values:
    text stripped as pydicom strips it, numbers (IS, DS and binary) as int or
    float, multi-valued elements as lists, dates and times as strings in DICOM
    form, person names as strings, binary data as bytes, a sequence as its
    number of items, and an absent attribute as None.

    A file that cannot be read (not DICOM, truncated, unreadable) has None in
    every column and the reason in the ``error`` column with
    ``on_error="record"`` (the default), is left out with ``on_error="skip"``,
    and raises :class:`turbodicom.InvalidDicomError` with ``on_error="raise"``.
    """
    if on_error not in ("record", "skip", "raise"):
        raise ValueError("on_error is 'record', 'skip' or 'raise'")
    parsed = [parse_tag_path(t) for t in tags]
    names = [name for name, _ in parsed]
    if len(set(names)) != len(names):
        raise ValueError("a tag is requested twice")
    files, walk_errors = _files_of(source, recursive)
    if walk_errors and on_error == "raise":
        raise OSError(walk_errors[0])

    reporter = None
    if progress:
        from turbodicom.cli.progress import Progress

        reporter = Progress(total=len(files), label="scan", unit="files")
    try:
        columns, errors, needs_python, fallbacks = _core.scan_files(
            [os.fsencode(f) for f in files], [steps for _, steps in parsed], workers or 0, force,
            reporter.update_to if reporter and reporter.enabled else None, _ASCII_CHARSETS,
        )
    finally:
        if reporter:
            reporter.update_to(len(files))
            reporter.close()

    for column, row, vr, data, little, implicit, length, charset, creator in fallbacks:
        tag = parsed[column][1][-1][0]
        try:
            columns[column][row] = _convert_with_pydicom(tag, vr, data, little, implicit, length, charset, creator)
        except Exception as exc:  # noqa: BLE001 - a value pydicom cannot convert
            columns[column][row] = None
            if errors[row] is None:
                errors[row] = f"{names[column]}: {type(exc).__name__}: {exc}"
    for row in needs_python:
        _read_with_python(files[row], parsed, columns, errors, row, force)

    if on_error == "raise":
        for path, error in zip(files, errors):
            if error is not None:
                raise InvalidDicomError(f"{path}: {error}")
    if on_error == "skip":
        keep = [i for i, e in enumerate(errors) if e is None]
        files = [files[i] for i in keep]
        columns = [[col[i] for i in keep] for col in columns]
        return ScanResult(files, dict(zip(names, columns)), None)
    # Directories that could not be listed are accounted for as rows of their own.
    for problem in walk_errors:
        path, _, reason = problem.rpartition(": ")
        files.append(path or problem)
        errors.append(f"cannot list: {reason or problem}")
        for col in columns:
            col.append(None)
    return ScanResult(files, dict(zip(names, columns)), errors)


_FIRST_PIXEL_TAG = 0x7FE00008  # Float Pixel Data


def _read_with_python(path: str, parsed, columns, errors, row: int, force: bool) -> None:
    """A file the C++ scanner hands back (a deflated dataset): read it with dcmread."""
    from turbodicom.reader import dcmread

    # Pixel Data and what follows it are read only when asked for: pydicom's
    # stop_before_pixels stops at the first of (7FE0,0008), (7FE0,0009), (7FE0,0010).
    before_pixels = all(steps[0][0] < _FIRST_PIXEL_TAG for _, steps in parsed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(path, stop_before_pixels=before_pixels, force=force)
            for column, (_, steps) in enumerate(parsed):
                columns[column][row] = _value_at(ds, steps)
    except Exception as exc:  # noqa: BLE001
        errors[row] = f"{type(exc).__name__}: {exc}"


def _value_at(ds, steps) -> Any:
    if steps[0][0] >> 16 == 0x0002:
        ds = ds.file_meta
    for tag, item in steps[:-1]:
        if tag not in ds:
            return None
        seq = ds[tag].value
        try:
            ds = seq[item]
        except (IndexError, TypeError):
            return None
    tag = steps[-1][0]
    if tag not in ds:
        return None
    return _plain(ds[tag].value)
