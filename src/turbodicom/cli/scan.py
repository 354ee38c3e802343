"""``turbodicom scan DIR --tags ... --out table.csv|table.parquet``: attributes of many files, into a table.

Reads the requested attributes of every DICOM file under DIR with
:func:`turbodicom.scan` (a C++ thread pool) and writes one row per file:
``path``, one column per tag, and ``error`` (the reason a file could not be
read, empty otherwise; the column is left out with ``--on-error skip``).

``--tags`` is a comma-separated list of keywords, hex tags (``(0009,1001)`` or
``00091001``; commas inside parentheses do not split) or paths into sequences
(``ReferencedImageSequence[0].ReferencedSOPInstanceUID``). The output format
follows the extension of ``--out``: ``.csv`` (the csv module; several values
joined with a backslash as in DICOM, bytes in hex, absent values empty) or
``.parquet`` (pyarrow, with the column types of :meth:`ScanResult.to_arrow`).

On a terminal a progress line (files/s, ETA) is drawn on stderr while the scan
runs; a summary line (files, errors, time, files/s) is printed on stderr at the
end. Everything that can be checked before the scan (tags, output format,
output folder, pyarrow for Parquet, DIR) is checked first, so a bad command
line fails at once with status 1.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from typing import Any

from turbodicom.cli.arguments import positive_int

FORMATS = {".csv": "CSV", ".parquet": "Parquet"}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "scan",
        help="read chosen attributes of every DICOM file under a folder into a CSV or Parquet table",
        description=(
            "Read the attributes named by --tags from every DICOM file under DIR (on a C++ thread "
            "pool) and write one row per file to --out, a .csv or .parquet file."
        ),
    )
    parser.add_argument("source", metavar="DIR", help="folder to scan (or a single file)")
    parser.add_argument("--tags", required=True, metavar="TAGS",
                        help="comma-separated keywords, hex tags or sequence paths, "
                             "e.g. PatientID,Modality,Rows,(0009,1001)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="the table to write: a .csv or .parquet file")
    parser.add_argument("--workers", type=positive_int, default=None, metavar="N",
                        help="threads (default: one per core)")
    parser.add_argument("--no-recursive", dest="recursive", action="store_false",
                        help="only the files directly in DIR, not in its subfolders")
    parser.add_argument("--force", action="store_true",
                        help="also read files without the preamble and 'DICM' prefix")
    parser.add_argument("--on-error", choices=("record", "skip"), default="record",
                        help="a file that cannot be read: a row with the reason in the error "
                             "column (record, the default) or no row (skip)")
    return parser


def split_tags(text: str) -> list[str]:
    """``"PatientID, (0009,1001),Rows"`` -> ``["PatientID", "(0009,1001)", "Rows"]``."""
    tags, current, depth = [], "", 0
    for char in text:
        if char == "," and depth == 0:
            tags.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    tags.append(current.strip())
    return [tag for tag in tags if tag]


class UsageError(Exception):
    """A command line that cannot run: reported as one line, exit status 1."""


def _check(args: argparse.Namespace) -> tuple[list[str], str]:
    """The tags and the output format, once everything checkable before the scan is checked."""
    from turbodicom.scan import parse_tag_path

    tags = split_tags(args.tags)
    if not tags:
        raise UsageError("--tags is empty: name at least one attribute, e.g. --tags PatientID,Modality")
    names = []
    for tag in tags:
        try:
            names.append(parse_tag_path(tag)[0])
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--tags: {exc}{_suggestion(tag)}") from None
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"--tags names {', '.join(duplicates)} twice")

    extension = os.path.splitext(args.out)[1].lower()
    if extension not in FORMATS:
        known = " or ".join(FORMATS)
        raise UsageError(f"--out {args.out}: unknown format {extension or '(no extension)'!r}; "
                         f"use a {known} file")
    if extension == ".parquet":
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise UsageError("writing Parquet needs pyarrow (pip install pyarrow); "
                             "or write a .csv file") from None
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {args.out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or os.path.isdir(args.out):
        raise UsageError(f"--out {args.out}: cannot write there")

    if not os.path.lexists(args.source):
        raise UsageError(f"{args.source}: no such file or directory")
    return tags, FORMATS[extension]


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _suggestion(tag: str) -> str:
    import difflib

    from pydicom.datadict import keyword_dict

    name = tag.split(".")[-1].split("[")[0].strip()
    close = difflib.get_close_matches(name, list(keyword_dict), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close and close[0] != name else ""


def run(args: argparse.Namespace) -> int:
    try:
        tags, output_format = _check(args)
    except UsageError as exc:
        print(f"turbodicom scan: {exc}", file=sys.stderr)
        return 1

    import turbodicom
    from turbodicom.scan import ScanResult

    started = time.perf_counter()
    # scan() draws the progress line; nothing else draws one. It is asked for only when stderr is
    # a terminal (where it is drawn): reporting progress costs the scan up to 0.1 s.
    result = turbodicom.scan(args.source, tags, recursive=args.recursive, workers=args.workers,
                             progress=_is_terminal(sys.stderr), on_error="record", force=args.force)
    elapsed = time.perf_counter() - started
    errors = [e for e in result["error"] if e is not None]
    if args.on_error == "skip" and errors:
        keep = [i for i, e in enumerate(result["error"]) if e is None]
        result = ScanResult([result.paths[i] for i in keep],
                            {name: [column[i] for i in keep] for name, column in result.columns.items()},
                            None)
    elif args.on_error == "skip":
        result = ScanResult(result.paths, result.columns, None)

    try:
        if output_format == "CSV":
            write_csv(result, args.out)
        else:
            write_parquet(result, args.out)
    except OSError as exc:
        print(f"turbodicom scan: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1

    files = len(result) + (len(errors) if args.on_error == "skip" else 0)
    rate = files / elapsed if elapsed > 0 else 0.0
    skipped = " (left out)" if args.on_error == "skip" and errors else ""
    print(f"turbodicom scan: {files} files, {len(errors)} error{'s' if len(errors) != 1 else ''}{skipped} "
          f"in {_duration(elapsed)} ({rate:,.0f} files/s); {len(result)} rows written to {args.out}",
          file=sys.stderr)
    return 0


def _duration(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1e3:.1f} ms"


# -- writers ------------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A value as CSV text: lists joined with backslashes, bytes in hex, None empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\\".join(csv_cell(v) for v in value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(result: Any, path: str) -> None:
    names = result.column_names
    columns = [result[name] for name in names]
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            for row in zip(*columns):
                writer.writerow([csv_cell(v) for v in row])
    except OSError:
        _remove(path)
        raise


def write_parquet(result: Any, path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.write_table(result.to_arrow(), path)
    except pa.ArrowException as exc:  # a column Parquet cannot store
        _remove(path)
        raise OSError(f"Parquet: {exc}") from exc
    except OSError:
        _remove(path)
        raise


def _remove(path: str) -> None:
    try:
        if os.path.isfile(path):
            os.remove(path)
    except OSError:
        pass
