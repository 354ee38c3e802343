"""``turbodicom storescp --port N --out DIR``: a storage SCP that writes what it receives to files.

Accepts every storage SOP class of :data:`turbodicom.net.AllStoragePresentationContexts`
and Verification, each with every transfer syntax of
:data:`turbodicom.net.ALL_TRANSFER_SYNTAXES` (the one the requestor names first
is chosen), so compressed data is stored as it came. Each instance is written
as a DICOM file: a preamble, File Meta Information made from the C-STORE
request and the accepted transfer syntax, then the data set bytes exactly as
received (nothing is decoded, except the Study and Series Instance UIDs the
layout needs).

A file is written atomically: as it arrives, to a hidden ``.<random>.part``
file in the output folder, then flushed to disk (fsync), renamed to
``<SOPInstanceUID>.dcm`` in its target folder (replacing an instance received
earlier with the same UID), and the folder is synced; only then does the
C-STORE response say Success (0x0000). In the flat layout the network layer's
C++ code takes these steps itself (``turbodicom.net.association.StoreFolder``);
the Python handler sees only the instances it cannot store that way. When
anything fails the temporary file is removed and the response is 0xA700 (Out
of resources) with the reason in its Error Comment, and the reason is printed
on stderr. A transfer aborted midway never reaches the handler (the network
layer hands over complete messages only), so it leaves no file. Layouts: ``flat`` DIR/<SOP>.dcm; ``study`` DIR/<Study>/<SOP>.dcm;
``series`` DIR/<Study>/<Series>/<SOP>.dcm (an absent UID: ``unknown``; UIDs
are used as names only when made of digits and dots).

Runs until interrupted: SIGINT (Ctrl-C) or SIGTERM stop accepting, abort the
associations still open, wait for the files being written, and exit 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import tempfile
import threading
import time
from typing import Any

from turbodicom.cli.echoscu import ae_title, max_pdu, net_log

LOGGER = logging.getLogger("turbodicom.cli.storescp")
PREFIX = "turbodicom storescp"

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700  # PS3.4 B.2.3: "Refused: Out of Resources"
LAYOUTS = ("flat", "study", "series")
MB = 1e6
SHUTDOWN_WAIT = 10.0  # seconds to let handlers finish the file they are writing

_SAFE_UID = re.compile(r"[0-9]+(\.[0-9]+)*")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "storescp",
        help="receive DICOM instances (C-STORE) and write them to a folder",
        description=(
            "Listen on --port for associations, accept every storage SOP class with every transfer "
            "syntax, and write each received instance to --out as <SOPInstanceUID>.dcm, atomically. "
            "Runs until interrupted (Ctrl-C or SIGTERM), then exits 0."
        ),
    )
    parser.add_argument("-p", "--port", type=_port, required=True, metavar="N",
                        help="TCP port to listen on; 0 picks a free one (printed on the first line)")
    parser.add_argument("-od", "--out", required=True, metavar="DIR",
                        help="folder to write the received files to (created if missing)")
    parser.add_argument("-aet", "--aetitle", type=ae_title, default="STORESCP", metavar="AET",
                        help="our AE title (default: STORESCP); requests calling any title are accepted")
    parser.add_argument("--layout", choices=LAYOUTS, default="flat",
                        help="flat: DIR/<SOP>.dcm (default); study: DIR/<Study>/<SOP>.dcm; "
                             "series: DIR/<Study>/<Series>/<SOP>.dcm")
    parser.add_argument("-pdu", "--max-pdu", type=max_pdu, default=16384, metavar="N",
                        help="the largest PDU we receive, in bytes: 0 (no limit) or at least 4096 "
                             "(default: 16384)")
    parser.add_argument("--accept-all", action="store_true",
                        help="accept all transfer syntaxes (DCMTK's +xa; always the case here)")
    parser.add_argument("--bind", default="", metavar="ADDRESS",
                        help="the local address to listen on (default: all)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only errors (and the port, when --port is 0)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print what the network layer does on stderr")
    return parser


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 (any free port) to 65535, not {value}")
    return value


def _name(uid: Any) -> str:
    """A UID as a file or folder name: itself when only digits and dots, else ``unknown``
    (a UID comes from the peer, and must not name a path such as ``../x``)."""
    text = str(uid or "").strip().rstrip("\x00")
    return text if len(text) <= 64 and _SAFE_UID.fullmatch(text) else "unknown"


def _check_out(out: str) -> str | None:
    """None when files can be created in `out` (made if missing), else why not."""
    try:
        os.makedirs(out, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".", suffix=".part", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


class Receiver:
    """The C-STORE handler and the per-association report of one storescp."""

    def __init__(self, out: str, layout: str, quiet: bool) -> None:
        self.out = out
        self.layout = layout
        self.quiet = quiet
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._writing = 0
        self._associations: dict[int, dict[str, Any]] = {}
        self.files = 0
        self.bytes = 0
        self.failed = 0

    # --- where a file goes -----------------------------------------------------------------

    def folder_for(self, data: Any) -> str:
        """The folder of an instance (`data`: its bytes, or the path of its file)."""
        if self.layout == "flat":
            return self.out
        import turbodicom

        tags = ["StudyInstanceUID", "SeriesInstanceUID"]
        try:
            ds = turbodicom.dcmread(data, stop_before_pixels=True, specific_tags=tags)
            study, series = ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID")
        except Exception:  # a data set that cannot be read is stored all the same
            study = series = None
        parts = [_name(study)] + ([_name(series)] if self.layout == "series" else [])
        return os.path.join(self.out, *parts)

    # --- the handler ---------------------------------------------------------------------------

    def store(self, event: Any) -> Any:
        from turbodicom.net.archive import fsync_folder

        with self._lock:
            self._writing += 1
        temp = None
        try:
            uid = _name(event.request.AffectedSOPInstanceUID)
            if uid == "unknown":
                raise ValueError(f"unusable Affected SOP Instance UID {event.request.AffectedSOPInstanceUID!r}")
            received = event.dataset_path
            if received is not None:  # already a DICOM file in the output folder
                folder = self.folder_for(received)
                if folder != os.path.dirname(received):  # the received file is in the folder otherwise
                    os.makedirs(folder, exist_ok=True)
                fd = os.open(received, os.O_RDONLY)
                try:
                    os.fsync(fd)
                    size = os.fstat(fd).st_size
                finally:
                    os.close(fd)
                os.rename(received, os.path.join(folder, f"{uid}.dcm"))
                fsync_folder(folder)
                self._count(event.assoc, size, ok=True)
                return SUCCESS
            data = event.encoded_dataset(include_meta=True)
            folder = self.folder_for(data)
            os.makedirs(folder, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{uid}.", suffix=".part", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(temp, os.path.join(folder, f"{uid}.dcm"))
            temp = None
            fsync_folder(folder)
            self._count(event.assoc, len(data), ok=True)
            return SUCCESS
        except Exception as exc:
            return self._failure(event.assoc, event.request, exc)
        finally:
            if temp is not None:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
            with self._lock:
                self._writing -= 1
                self._idle.notify_all()

    def stored(self, assoc: Any, request: Any, path: str, size: int) -> None:
        """An instance the network layer stored into the folder itself (flat layout)."""
        self._count(assoc, size, ok=True)

    def store_failed(self, assoc: Any, request: Any, path: str, error: str) -> Any:
        """The network layer renamed an instance into the folder but could not flush the
        folder: the response is a failure, as from :meth:`store`."""
        return self._failure(assoc, request, error)

    def _failure(self, assoc: Any, request: Any, reason: Any) -> Any:
        LOGGER.error("cannot store %s from %s: %s", request.AffectedSOPInstanceUID, _peer(assoc), reason)
        self._count(assoc, 0, ok=False)
        from pydicom.dataset import Dataset

        status = Dataset()
        status.Status = OUT_OF_RESOURCES
        status.ErrorComment = f"cannot store: {reason}"[:64]
        return status

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no handler is writing a file; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # --- one line per association ------------------------------------------------------------

    def _entry(self, assoc: Any) -> dict[str, Any]:
        return self._associations.setdefault(id(assoc), {"files": 0, "bytes": 0, "failed": 0,
                                                         "start": time.monotonic(), "assoc": assoc})

    def _count(self, assoc: Any, size: int, ok: bool) -> None:
        with self._lock:
            entry = self._entry(assoc)
            if ok:
                entry["files"] += 1
                entry["bytes"] += size
                self.files += 1
                self.bytes += size
            else:
                entry["failed"] += 1
                self.failed += 1

    def established(self, event: Any) -> None:
        with self._lock:
            self._entry(event.assoc)

    def rejected(self, event: Any) -> None:
        if not self.quiet:
            assoc = event.assoc
            self._print(f"{_peer(assoc)}: association rejected")

    def closed(self, event: Any) -> None:
        with self._lock:
            entry = self._associations.pop(id(event.assoc), None)
        if entry is None or self.quiet:  # never established (a port probe, a rejection)
            return
        assoc = event.assoc
        how = "released" if assoc.is_released else "aborted"
        failed = f", {entry['failed']} failed" if entry["failed"] else ""
        seconds = time.monotonic() - entry["start"]
        self._print(f"{_peer(assoc)}: {entry['files']} files{failed}, {entry['bytes'] / MB:.1f} MB "
                    f"in {seconds:.2f} s, {how}")

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, flush=True)


def _peer(assoc: Any) -> str:
    requestor = assoc.requestor
    return f"{requestor.ae_title or '?'}@{requestor.address}:{requestor.port}"


def run(args: argparse.Namespace) -> int:
    from turbodicom.net import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt

    why = _check_out(args.out)
    if why is not None:
        print(f"{PREFIX}: --out {args.out}: cannot write there: {why}", file=sys.stderr)
        return 1
    out = os.path.abspath(args.out)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PREFIX}: %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.propagate = False
    stop = threading.Event()
    previous = {}
    with net_log(PREFIX, args.verbose, show_errors=True):
        ae = AE(args.aetitle)
        ae.maximum_pdu_size = args.max_pdu
        ae.maximum_associations = 64
        ae.add_supported_context("1.2.840.10008.1.1", ALL_TRANSFER_SYNTAXES)
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        receiver = Receiver(out, args.layout, args.quiet)
        # Each data set is written to a file in the output folder as it arrives (File Meta
        # first, by the C++ layer); the handler then only flushes and renames it.
        from turbodicom.net import config

        config.STORE_RECV_CHUNKED_DATASET = True
        config.STORE_RECV_CHUNKED_DATASET_DIR = out
        if args.layout == "flat":
            # The C++ layer flushes, renames and answers by itself; the handler below sees
            # only what it cannot store so (a UID that is no plain file name, a failure).
            from turbodicom.net.association import StoreFolder

            ae._store_folder = StoreFolder(out, receiver.stored, receiver.store_failed)
        handlers = [(evt.EVT_C_STORE, receiver.store), (evt.EVT_ESTABLISHED, receiver.established),
                    (evt.EVT_REJECTED, receiver.rejected), (evt.EVT_CONN_CLOSE, receiver.closed)]
        try:
            server = ae.start_server((args.bind, args.port), block=False, evt_handlers=handlers)
        except Exception as exc:
            print(f"{PREFIX}: cannot listen on {args.bind or '0.0.0.0'}:{args.port}: {exc}", file=sys.stderr)
            return 1
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: stop.set())
            host, port = server.server_address
            if not args.quiet or args.port == 0:
                print(f"listening on {host}:{port} as {args.aetitle}, writing to {out} ({args.layout})",
                      flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            server.shutdown()
            if not receiver.wait_idle(SHUTDOWN_WAIT):
                print(f"{PREFIX}: files still being written after {SHUTDOWN_WAIT:.0f} s", file=sys.stderr)
            for signum, old in previous.items():
                signal.signal(signum, old)
            LOGGER.removeHandler(handler)
    if not args.quiet:
        failed = f", {receiver.failed} failed" if receiver.failed else ""
        print(f"stopped: {receiver.files} files{failed}, {receiver.bytes / MB:.1f} MB received", flush=True)
    return 0
