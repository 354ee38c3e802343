"""``turbodicom index DIR --db FILE``: index existing DICOM files in a Query/Retrieve archive.

The files under DIR are read with :func:`turbodicom.scan` and their rows inserted into the
SQLite database FILE (created when missing) that ``turbodicom qrscp --db FILE`` serves; the
files stay where they are (their paths are stored absolute). An instance already indexed
gets the new row. Prints how many files were indexed and skipped (not DICOM, no SOP
Instance UID, or a second file of the same instance) and the number of instances in the
index.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

PREFIX = "turbodicom index"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "index",
        help="index existing DICOM files in a qrscp archive database",
        description=(
            "Read the DICOM files under DIR with turbodicom.scan and add them to the SQLite index --db "
            "that turbodicom qrscp serves; the files stay where they are."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="the folder of DICOM files to index")
    parser.add_argument("--db", required=True, metavar="FILE", help="the SQLite index (created if missing)")
    parser.add_argument("--no-recursive", action="store_true", help="index only the files directly in DIR")
    parser.add_argument("-w", "--workers", type=int, default=None, metavar="N",
                        help="threads reading files (default: one per core)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


def run(args: argparse.Namespace) -> int:
    from turbodicom.net.archive import Archive

    if not os.path.isdir(args.dir):
        print(f"{PREFIX}: {args.dir}: not a folder", file=sys.stderr)
        return 1
    start = time.monotonic()
    try:
        archive = Archive(db=args.db)
    except Exception as exc:
        print(f"{PREFIX}: --db {args.db}: cannot open: {exc}", file=sys.stderr)
        return 1
    try:
        indexed, skipped = archive.index(args.dir, recursive=not args.no_recursive, workers=args.workers)
        total = len(archive)
    finally:
        archive.close()
    if not args.quiet:
        print(f"indexed {indexed} files ({skipped} skipped) from {os.path.abspath(args.dir)} into "
              f"{os.path.abspath(args.db)} in {time.monotonic() - start:.2f} s: {total} instances in the index",
              flush=True)
    return 0
