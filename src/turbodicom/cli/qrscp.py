"""``turbodicom qrscp --port N --store DIR [--db FILE] [--config destinations.toml]``: a storage
SCP and Query/Retrieve SCP on a persistent archive (:class:`turbodicom.net.archive.Archive`).

Received instances (C-STORE: every storage SOP class, every transfer syntax, stored as
received) are streamed into a temporary file in --store as they arrive (never held whole in
memory), then placed atomically as
``<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`` and indexed in the SQLite
database --db (default DIR/archive.sqlite): the file is fsynced, renamed and its folder
fsynced, then the row is committed, and only then is Success answered. At start a recovery
pass makes the index and the store folder agree (after a crash). ``--dir DIR`` indexes an
existing folder at start (its files stay where they are); with --dir alone the index is
kept in memory, as before.

Serves Verification, Storage, and C-FIND, C-MOVE and C-GET of the Patient Root and Study
Root information models. C-MOVE sends to the destinations of the ``[destinations]`` table
of --config and those named with ``--move AE=HOST:PORT`` (others: 0xA801); C-GET sends
back over the requesting association, for which every storage SOP class is accepted with
both roles (the requestor proposes the SCP role for the classes it wants to receive). Files
are sent as stored, in their own transfer syntax.

Runs until interrupted: SIGINT (Ctrl-C) or SIGTERM stop it, and it exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any

from turbodicom.cli.echoscu import ae_title, max_pdu, net_log

PREFIX = "turbodicom qrscp"
QUERY_RETRIEVE = (
    "1.2.840.10008.5.1.4.1.2.1.1",  # Patient Root Find
    "1.2.840.10008.5.1.4.1.2.1.2",  # Patient Root Move
    "1.2.840.10008.5.1.4.1.2.1.3",  # Patient Root Get
    "1.2.840.10008.5.1.4.1.2.2.1",  # Study Root Find
    "1.2.840.10008.5.1.4.1.2.2.2",  # Study Root Move
    "1.2.840.10008.5.1.4.1.2.2.3",  # Study Root Get
)
NAMES = {"1": "C-FIND", "2": "C-MOVE", "3": "C-GET"}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "qrscp",
        help="a DICOM archive: store (C-STORE) and serve by C-FIND, C-MOVE and C-GET",
        description=(
            "Store received instances under --store, indexed in the SQLite database --db, and index the "
            "DICOM files under --dir; answer C-ECHO, C-STORE, and C-FIND, C-MOVE and C-GET of the "
            "Patient Root and Study Root models on --port. Runs until interrupted (Ctrl-C or SIGTERM), "
            "then exits 0."
        ),
    )
    parser.add_argument("--store", metavar="DIR",
                        help="the folder received instances are written to (created if missing); "
                             "without it a C-STORE is answered with a failure status")
    parser.add_argument("--db", metavar="FILE",
                        help="the SQLite index (default: DIR/archive.sqlite of --store; "
                             "in memory with --dir alone)")
    parser.add_argument("--config", metavar="FILE",
                        help='C-MOVE destinations: a TOML file with a [destinations] table of AE = "host:port" '
                             "(or JSON: {\"destinations\": {...}})")
    parser.add_argument("-d", "--dir", metavar="DIR",
                        help="a folder of DICOM files to index at start (the files stay where they are)")
    parser.add_argument("-p", "--port", type=_port, required=True, metavar="N",
                        help="TCP port to listen on; 0 picks a free one (printed on the first line)")
    parser.add_argument("-aet", "--aetitle", type=ae_title, default="QRSCP", metavar="AET",
                        help="our AE title (default: QRSCP); requests calling any title are accepted")
    parser.add_argument("--move", action="append", type=_destination, default=[], metavar="AE=HOST:PORT",
                        help="a C-MOVE destination (repeat for several); others are answered 0xA801")
    parser.add_argument("--no-recursive", action="store_true", help="index only the files directly in DIR")
    parser.add_argument("-pdu", "--max-pdu", type=max_pdu, default=16384, metavar="N",
                        help="the largest PDU we receive, in bytes: 0 (no limit) or at least 4096 "
                             "(default: 16384)")
    parser.add_argument("--bind", default="", metavar="ADDRESS",
                        help="the local address to listen on (default: all)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only errors (and the first line, when --port is 0)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print what the network layer does on stderr")
    return parser


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 (any free port) to 65535, not {value}")
    return value


def _destination(text: str) -> tuple[str, tuple[str, int]]:
    title, sep, address = text.partition("=")
    host, colon, port = address.rpartition(":")
    if not sep or not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not AE=HOST:PORT")
    return ae_title(title), (host, int(port))


def _logged(name: str, handler: Any, quiet: bool, lock: threading.Lock) -> Any:
    """`handler`, printing one line per request when not `quiet`."""

    def logged(event: Any) -> Any:
        count = 0

        def report(result: str) -> None:
            if quiet:
                return
            requestor = event.assoc.requestor
            level = event.identifier.get("QueryRetrieveLevel", "(no level)")
            with lock:
                print(f"{requestor.ae_title or '?'}@{requestor.address}:{requestor.port}: {name} {level}: {result}",
                      flush=True)

        for item in handler(event):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int):
                if item[0] == 0xFF00:
                    count += 1
                else:  # the last response: the status ends the operation
                    report(f"status 0x{item[0]:04X}")
            elif isinstance(item, tuple) and item[0] is None:
                report("unknown move destination")
            yield item
        report(f"{count} {'matches' if name == 'C-FIND' else 'files'}")

    return logged


def _stored(handler: Any, quiet: bool, lock: threading.Lock) -> Any:
    """The C-STORE `handler`, printing one line per instance when not `quiet` (failures always)."""

    def stored(event: Any) -> Any:
        status = handler(event)
        failed = not isinstance(status, int)
        if failed or not quiet:
            requestor = event.assoc.requestor
            result = f"status 0x{status.Status:04X} ({status.ErrorComment})" if failed else "stored"
            with lock:
                print(f"{requestor.ae_title or '?'}@{requestor.address}:{requestor.port}: C-STORE "
                      f"{event.request.AffectedSOPInstanceUID}: {result}", file=sys.stderr if failed else sys.stdout,
                      flush=True)
        return status

    return stored


def run(args: argparse.Namespace) -> int:
    import os

    from turbodicom.net import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, config, evt
    from turbodicom.net.archive import Archive

    from turbodicom.net.archive import load_destinations

    if args.dir is None and args.store is None and args.db is None:
        print(f"{PREFIX}: give --store DIR (and/or --dir DIR, --db FILE)", file=sys.stderr)
        return 2
    if args.dir is not None and not os.path.isdir(args.dir):
        print(f"{PREFIX}: --dir {args.dir}: not a folder", file=sys.stderr)
        return 1
    destinations = {}
    if args.config is not None:
        try:
            destinations.update(load_destinations(args.config))
        except (OSError, ValueError) as exc:
            print(f"{PREFIX}: --config {args.config}: {exc}", file=sys.stderr)
            return 1
    destinations.update(dict(args.move))
    db = args.db
    if db is None and args.store is not None:
        db = os.path.join(args.store, "archive.sqlite")
    start = time.monotonic()
    try:
        archive = Archive(args.dir, recursive=not args.no_recursive, db=db, store=args.store)
    except Exception as exc:
        print(f"{PREFIX}: cannot open the archive: {exc}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - start
    stop = threading.Event()
    previous = {}
    lock = threading.Lock()
    with net_log(PREFIX, args.verbose, show_errors=True):
        ae = AE(args.aetitle)
        ae.maximum_pdu_size = args.max_pdu
        ae.maximum_associations = 64
        ae.add_supported_context("1.2.840.10008.1.1", ALL_TRANSFER_SYNTAXES)
        for uid in QUERY_RETRIEVE:
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        for context in AllStoragePresentationContexts:  # C-GET: we are the SCU of the C-STOREs
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES, scu_role=True, scp_role=True)
        handlers = []
        if args.store is not None:
            # Received data sets are streamed by the network layer into a temporary file in
            # the store folder, never held whole in memory; the handler syncs, renames and
            # indexes it. (Query identifiers are streamed too, and read back for the query.)
            config.STORE_RECV_CHUNKED_DATASET = True
            config.STORE_RECV_CHUNKED_DATASET_DIR = archive.store
            handlers.append((evt.EVT_C_STORE, _stored(archive.handle_store, args.quiet, lock)))
        handlers += [(evt.EVT_C_FIND, _logged("C-FIND", archive.handle_find, args.quiet, lock)),
                    (evt.EVT_C_GET, _logged("C-GET", archive.handle_get, args.quiet, lock)),
                    (evt.EVT_C_MOVE, _logged("C-MOVE", archive.handle_move(destinations), args.quiet, lock))]
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
                skipped = f" ({archive.skipped} skipped)" if archive.skipped else ""
                where = [f"storing to {archive.store}"] if archive.store else []
                where += [f"from {os.path.abspath(args.dir)}"] if args.dir else []
                where += [f"index {archive.db}"] if archive.db else []
                recovered = ", ".join(f"{n} {what}" for what, n in archive.recovered.items() if n)
                recovered = f"; recovered: {recovered}" if recovered else ""
                print(f"listening on {host}:{port} as {args.aetitle}, serving {len(archive)} files{skipped} "
                      f"{', '.join(where)} (indexed in {seconds:.2f} s{recovered})", flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            server.shutdown()  # waits for the associations' threads
            for signum, old in previous.items():
                signal.signal(signum, old)
            with archive._lock:  # a store being committed finishes first
                archive.close()
    if not args.quiet:
        print("stopped", flush=True)
    return 0
