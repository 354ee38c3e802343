"""``turbodicom movescu HOST PORT --dest AE -k KEY=VALUE ...``: have a DICOM peer send what
matches to an AE (C-MOVE, PS3.4 C.4.2).

The identifier is made of the ``-k`` keys, as for ``findscu`` (DCMTK's syntax), and names
what to move: ``-k QueryRetrieveLevel=STUDY -k StudyInstanceUID=1.2.3``. The peer stores
the matching instances at the AE title ``--dest`` (DCMTK: ``-aem``), which it must know
(its host and port are in the peer's configuration, not in the request).

Each pending response's sub-operation counts (remaining, completed, failed, warning) are
printed on stdout as they come; a summary line goes to stderr. Exit status 0 when the
final status is Success and no sub-operation failed, 1 otherwise (a failure status, a
sub-operation that failed, or an association problem), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from turbodicom.cli.echoscu import ae_title, net_log
from turbodicom.cli.qr_common import (
    SUCCESS,
    add_qr_options,
    follow_retrieve,
    model_name,
    no_answer,
    prepare,
    qr_status_text,
    request,
)

C_MOVE_RQ = 0x0021


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "movescu",
        help="have a DICOM peer send the matches of -k keys to an AE (C-MOVE)",
        description=(
            "Send a C-MOVE request made of the -k keys to the Query/Retrieve SCP at HOST:PORT, "
            "asking it to store the matching instances at the AE title --dest. Prints the "
            "sub-operation counts of each response; a summary goes to stderr. Exit status 0 when "
            "every sub-operation succeeded, 1 otherwise, 2 for bad arguments."
        ),
        epilog="example: turbodicom movescu -S --dest STORESCP -k QueryRetrieveLevel=STUDY "
               "-k StudyInstanceUID=1.2.3 pacs.example.org 104",
    )
    add_qr_options(parser, "MOVESCU")
    parser.add_argument("-aem", "--dest", type=ae_title, required=True, metavar="AE",
                        help="the AE title to move the instances to (the peer must know it)")
    return parser


def run(args: argparse.Namespace) -> int:
    prefix = "turbodicom movescu"
    identifier, code = prepare(prefix, args)
    if identifier is None:
        return code
    final: int | None = None
    counts: tuple[int | None, int, int, int] = (None, 0, 0, 0)
    failed_uids: list[str] = []
    started = time.perf_counter()
    with net_log(prefix, args.verbose) as log:
        assoc, uid = request(prefix, args, log, C_MOVE_RQ)
        if assoc is None:
            return 1
        try:
            final, counts, failed_uids = follow_retrieve(assoc.send_c_move(identifier, args.dest, uid), prefix, args)
        finally:
            if assoc.is_established:
                assoc.release()
        if final is None:
            no_answer(prefix, args, log, "C-MOVE")
    elapsed = time.perf_counter() - started
    for failed_uid in failed_uids:
        print(f"{prefix}: failed: {failed_uid}", file=sys.stderr)
    _remaining, completed, failed, warning = counts
    outcome = "no final status" if final is None else f"final status {qr_status_text(final)}"
    print(f"{prefix}: moved to {args.dest} ({model_name(args.model)}): {completed} completed, {failed} failed, "
          f"{warning} warning; {outcome} ({elapsed:.2f} s)", file=sys.stderr)
    return 0 if final == SUCCESS and not failed else 1
