"""``turbodicom getscu HOST PORT -k KEY=VALUE ... --out DIR``: retrieve from a DICOM peer over
the same association (C-GET, PS3.4 C.4.3).

The identifier is made of the ``-k`` keys, as for ``findscu`` (DCMTK's syntax). The
association offers, besides the information model, a presentation context for each of
the 120 common storage SOP classes (``turbodicom.net.StoragePresentationContexts``)
and a few more (RT, PDF, segmentation, SR: 127 in all) with
the uncompressed transfer syntaxes (Explicit VR Little Endian first), and asks for the
SCP role for each (SCP/SCU Role Selection, PS3.7 D.3.3.4): the peer sends the matches as
C-STORE sub-operations on it. An instance the peer holds compressed arrives only when the
peer can convert it; otherwise its sub-operation fails.

Each received instance is written to ``DIR/<SOPInstanceUID>.dcm`` as a DICOM file (File
Meta Information and the data set as received), atomically: a temporary file in DIR,
flushed to disk, then renamed. Each pending response's sub-operation counts are printed
on stdout; a summary line goes to stderr. Exit status 0 when the final status is Success,
no sub-operation failed and every instance was written; 1 otherwise; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from typing import Any

from turbodicom.cli.echoscu import net_log
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

C_GET_RQ = 0x0010
MAX_CONTEXTS = 128  # presentation context ids are the odd numbers 1..255 (PS3.8 9.3.2.2)
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")

# Explicit VR Little Endian first: the peer sends data stored that way unchanged.
RECEIVED_SYNTAXES = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"]


# Common storage classes StoragePresentationContexts leaves out, in the spare context ids.
EXTRA_CLASSES = [
    "1.2.840.10008.5.1.4.1.1.481.5",  # RT Plan
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.481.2",  # RT Dose
    "1.2.840.10008.5.1.4.1.1.481.1",  # RT Image
    "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "getscu",
        help="retrieve the matches of -k keys from a DICOM peer into a folder (C-GET)",
        description=(
            "Send a C-GET request made of the -k keys to the Query/Retrieve SCP at HOST:PORT and "
            "write each instance it sends back to --out as <SOPInstanceUID>.dcm, atomically. "
            "Prints the sub-operation counts of each response; a summary goes to stderr. Exit "
            "status 0 when every instance was received and written, 1 otherwise, 2 for bad arguments."
        ),
        epilog="example: turbodicom getscu -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=1.2.3 "
               "--out received pacs.example.org 104",
    )
    add_qr_options(parser, "GETSCU")
    parser.add_argument("-od", "--out", required=True, metavar="DIR",
                        help="folder to write the received files to (created if missing)")
    return parser


def storage_contexts() -> list:
    """The storage contexts offered: one per common storage SOP class, uncompressed syntaxes."""
    from turbodicom.net import StoragePresentationContexts, build_context

    classes = list(dict.fromkeys([str(c.abstract_syntax) for c in StoragePresentationContexts] + EXTRA_CLASSES))
    return [build_context(uid, RECEIVED_SYNTAXES) for uid in classes[:MAX_CONTEXTS - 1]]


class Writer:
    """The EVT_C_STORE handler: writes each instance to the folder, atomically."""

    def __init__(self, prefix: str, folder: str) -> None:
        self.prefix = prefix
        self.folder = folder
        self.written: list[str] = []
        self.failed = 0
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> int:
        uid = str(event.request.AffectedSOPInstanceUID).rstrip("\0 ")
        if not _UID.fullmatch(uid) or len(uid) > 64:
            return self._fail(f"refused an instance with SOP Instance UID {uid!r}: not a UID", CANNOT_UNDERSTAND)
        path = os.path.join(self.folder, f"{uid}.dcm")
        temporary = None
        try:
            data = event.encoded_dataset(include_meta=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{uid}.", suffix=".part")
            with os.fdopen(descriptor, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
            temporary = None
        except OSError as exc:
            return self._fail(f"cannot write {path}: {exc.strerror or exc}", OUT_OF_RESOURCES)
        finally:
            if temporary is not None:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
        with self._lock:
            self.written.append(path)
        return SUCCESS

    def _fail(self, message: str, status: int) -> int:
        with self._lock:
            self.failed += 1
        print(f"{self.prefix}: {message}", file=sys.stderr, flush=True)
        return status

    def sync_folder(self) -> None:
        """Make the renames durable."""
        try:
            descriptor = os.open(self.folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(descriptor)
        except OSError:
            pass
        finally:
            os.close(descriptor)


def run(args: argparse.Namespace) -> int:
    prefix = "turbodicom getscu"
    identifier, code = prepare(prefix, args)
    if identifier is None:
        return code
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        print(f"{prefix}: cannot create {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not os.access(args.out, os.W_OK):
        print(f"{prefix}: cannot write to {args.out}", file=sys.stderr)
        return 1

    from turbodicom.net import build_role, evt

    writer = Writer(prefix, args.out)
    contexts = storage_contexts()
    roles = [build_role(c.abstract_syntax, scp_role=True) for c in contexts]
    final: int | None = None
    counts: tuple[int | None, int, int, int] = (None, 0, 0, 0)
    failed_uids: list[str] = []
    started = time.perf_counter()
    with net_log(prefix, args.verbose) as log:
        assoc, uid = request(prefix, args, log, C_GET_RQ, storage=contexts, ext_neg=roles,
                             handlers=[(evt.EVT_C_STORE, writer)])
        if assoc is None:
            return 1
        try:
            final, counts, failed_uids = follow_retrieve(assoc.send_c_get(identifier, uid), prefix, args)
        finally:
            if assoc.is_established:
                assoc.release()
            writer.sync_folder()
        if final is None:
            no_answer(prefix, args, log, "C-GET")
    elapsed = time.perf_counter() - started
    for failed_uid in failed_uids:
        print(f"{prefix}: failed: {failed_uid}", file=sys.stderr)
    _remaining, completed, failed, warning = counts
    outcome = "no final status" if final is None else f"final status {qr_status_text(final)}"
    files = len(writer.written)
    print(f"{prefix}: {completed} completed, {failed} failed, {warning} warning ({model_name(args.model)}); "
          f"{files} file{'s' if files != 1 else ''} written to {args.out}; {outcome} ({elapsed:.2f} s)",
          file=sys.stderr)
    return 0 if final == SUCCESS and not failed and not writer.failed else 1
