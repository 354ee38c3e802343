"""``turbodicom findscu HOST PORT -k KEY=VALUE ...``: query a DICOM peer (C-FIND, PS3.4 C.4.1).

The identifier is made of the ``-k`` keys, as DCMTK's ``findscu`` takes them:
``-k QueryRetrieveLevel=STUDY -k PatientName=DOE* -k StudyDate=20040101-20041231``, a
key without ``=`` asking for that attribute to be returned. The Patient Root model is
used (``-P``, the default) or the Study Root one (``-S``).

Each match is printed on stdout as a block of ``Keyword = value`` lines (blocks separated
by an empty line), or with ``--json`` as one line of DICOM JSON (PS3.18 F.2, pydicom's
``to_json_dict``). A summary line goes to stderr: the number of matches and the final
status, in hex and in words. Exit status 0 when the final status is Success (0x0000),
1 on any other status or when the association failed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from turbodicom.cli.echoscu import net_log
from turbodicom.cli.qr_common import (
    PENDING,
    SUCCESS,
    add_qr_options,
    identifier_lines,
    model_name,
    no_answer,
    prepare,
    qr_status_text,
    request,
)

C_FIND_RQ = 0x0020


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "findscu",
        help="query a DICOM peer (C-FIND) with DCMTK-style -k keys",
        description=(
            "Send a C-FIND request made of the -k keys to the Query/Retrieve SCP at HOST:PORT and "
            "print each match (Keyword = value lines, or one JSON object a line with --json); a "
            "summary goes to stderr. Exit status 0 when the final status is Success, 1 otherwise, "
            "2 for bad arguments."
        ),
        epilog="example: turbodicom findscu -S -k QueryRetrieveLevel=STUDY -k PatientName=DOE* "
               "-k StudyDate=20040101-20041231 -k StudyInstanceUID pacs.example.org 104",
    )
    add_qr_options(parser, "FINDSCU")
    parser.add_argument("--json", action="store_true",
                        help="print each match as one line of DICOM JSON (PS3.18 F.2)")
    return parser


def run(args: argparse.Namespace) -> int:
    prefix = "turbodicom findscu"
    identifier, code = prepare(prefix, args)
    if identifier is None:
        return code
    matches = 0
    final: int | None = None
    with net_log(prefix, args.verbose) as log:
        assoc, uid = request(prefix, args, log, C_FIND_RQ)
        if assoc is None:
            return 1
        try:
            for status, match in assoc.send_c_find(identifier, uid):
                if "Status" not in status:
                    break
                code = int(status.Status)
                if code in PENDING:
                    if match is None:
                        continue
                    matches += 1
                    if args.json:
                        print(json.dumps(match.to_json_dict(), separators=(",", ":")), flush=True)
                    else:
                        if matches > 1:
                            print()
                        print(f"# match {matches}")
                        print("\n".join(identifier_lines(match)), flush=True)
                    continue
                final = code
                comment = status.get("ErrorComment")
                if comment:
                    print(f"{prefix}: {args.host}:{args.port} says: {comment}", file=sys.stderr)
        finally:
            if assoc.is_established:
                assoc.release()
        if final is None:
            no_answer(prefix, args, log, "C-FIND")
    plural = "match" if matches == 1 else "matches"
    outcome = "no final status" if final is None else f"final status {qr_status_text(final)}"
    print(f"{prefix}: {matches} {plural} ({model_name(args.model)}); {outcome}", file=sys.stderr)
    return 0 if final == SUCCESS else 1
