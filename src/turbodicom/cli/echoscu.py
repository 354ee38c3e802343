"""``turbodicom echoscu HOST PORT``: is a DICOM peer there? A C-ECHO (Verification, PS3.7 9.1.5).

Requests an association with one presentation context, Verification
(1.2.840.10008.1.1), sends ``--repeat N`` C-ECHO requests on it, and releases
it. Prints one line on stdout when every echo succeeded (exit status 0);
otherwise one line on stderr that says what happened (the peer could not be
reached, rejected or aborted the association, did not accept Verification, or
answered with a failure status) and exit status 1.

The helpers shared with ``storescu`` and ``storescp`` (argument types, the
association request and the explanation of its failure, the capture of the
network layer's log) live here too.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

from turbodicom.cli.arguments import positive_int

VERIFICATION = "1.2.840.10008.1.1"

# DIMSE statuses (PS3.7 C, PS3.4 B.2.3) named in messages.
STATUS_TEXT = {
    0x0000: "Success",
    0x0001: "Warning: requested optional attributes are not supported",
    0x0107: "Warning: attribute list error",
    0x0116: "Warning: attribute value out of range",
    0x0110: "Processing failure",
    0x0122: "SOP class not supported",
    0x0124: "Not authorized",
    0x0210: "Duplicate invocation",
    0x0211: "Unrecognized operation",
    0x0212: "Mistyped argument",
    0x0213: "Resource limitation",
    0xA700: "Out of resources",
    0xA900: "Data set does not match SOP class",
    0xB000: "Warning: coercion of data elements",
    0xB006: "Warning: elements discarded",
    0xB007: "Warning: data set does not match SOP class",
    0xC000: "Cannot understand",
    0xC001: "Cannot understand (invalid handler status)",
    0xC211: "Unable to process",
}


# -- argument types -------------------------------------------------------------------------------


def ae_title(text: str) -> str:
    """An argparse type: an AE title, 1 to 16 characters without backslash or control characters."""
    value = text.strip()
    if not value or len(value) > 16 or "\\" in value or any(ord(c) < 0x20 for c in value):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AE title (1 to 16 characters, no backslash)")
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (1 to 65535), not {value}")
    return value


def max_pdu(text: str) -> int:
    """An argparse type: a maximum PDU length, 0 (no limit) or 4096 to 2**32 - 1 bytes."""
    value = int(text)
    if value != 0 and not 4096 <= value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or 4096 to 4294967295 bytes, not {value}")
    return value


def seconds(text: str) -> float:
    """An argparse type: a duration in seconds, more than 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def add_association_options(parser: argparse.ArgumentParser, calling: str) -> None:
    """HOST, PORT, and the options of a requested association (DCMTK's names)."""
    parser.add_argument("host", metavar="HOST", help="the peer's host name or IP address")
    parser.add_argument("port", metavar="PORT", type=port_number, help="the peer's TCP port")
    parser.add_argument("-aet", "--aetitle", type=ae_title, default=calling, metavar="AET",
                        help=f"our AE title, the calling AE title (default: {calling})")
    parser.add_argument("-aec", "--call", type=ae_title, default="ANY-SCP", metavar="AEC",
                        help="the peer's AE title, the called AE title (default: ANY-SCP)")
    parser.add_argument("-to", "--timeout", type=seconds, default=30.0, metavar="S",
                        help="seconds to wait for the connection, and for each answer (default: 30)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print what the network layer does on stderr")


# -- the network layer's log ------------------------------------------------------------------------


class NetLog(logging.Handler):
    """Keeps the error messages of the ``turbodicom.net`` logger (they explain a failed
    association); prints every message from INFO up on stderr when `verbose`, and the
    errors when `show_errors`."""

    def __init__(self, prefix: str, verbose: bool = False, show_errors: bool = False) -> None:
        super().__init__(logging.INFO if verbose else logging.ERROR)
        self.prefix = prefix
        self.verbose = verbose
        self.show_errors = show_errors
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        is_error = record.levelno >= logging.ERROR
        if is_error:
            self.errors.append(record.getMessage())
        if self.verbose or (is_error and self.show_errors):
            print(f"{self.prefix}: {record.getMessage()}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def net_log(prefix: str, verbose: bool = False, show_errors: bool = False) -> Iterator[NetLog]:
    """Route the ``turbodicom.net`` logger to a :class:`NetLog` while the block runs (so that
    its messages are not printed raw by Python's last-resort handler)."""
    logger = logging.getLogger("turbodicom.net")
    handler = NetLog(prefix, verbose, show_errors)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.ERROR)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


# -- requesting an association --------------------------------------------------------------------------


def associate(ae: Any, args: argparse.Namespace, log: NetLog, max_pdu_size: int | None = None) -> tuple[Any, str]:
    """Request an association with ``args.host``:``args.port`` called ``args.call``.

    Returns (association, "") when established, else (None, a sentence saying why).
    """
    from turbodicom.net import evt

    opened: list[bool] = []
    errors_before = len(log.errors)
    kwargs = {} if max_pdu_size is None else {"max_pdu": max_pdu_size}
    assoc = ae.associate(args.host, args.port, ae_title=args.call,
                         evt_handlers=[(evt.EVT_CONN_OPEN, lambda event: opened.append(True))], **kwargs)
    if assoc.is_established:
        return assoc, ""
    where = f"{args.host}:{args.port}"
    reasons = log.errors[errors_before:]
    if assoc.is_rejected and assoc.rejection is not None:
        from turbodicom.net.pdu import reject_reason_text

        result, source, reason = assoc.rejection
        kind = {1: "permanent", 2: "transient"}.get(result, f"result {result}")
        by = {1: "service-user", 2: "service-provider (ACSE)", 3: "service-provider (presentation)"}.get(
            source, f"source {source}")
        return None, (f"association rejected by {where} (called AE title {args.call}): "
                      f"{reject_reason_text(source, reason)} ({kind}, {by})")
    if not opened:
        reason = reasons[-1] if reasons else "no connection"
        reason = reason.split("unable to connect to remote: ", 1)[-1]
        reason = re.sub(r"^I/O error at byte \d+: (connecting to \S+: )?", "", reason)
        return None, f"cannot connect to {where}: {reason}"
    detail = f": {reasons[-1]}" if reasons else ""
    return None, f"association aborted by {where} during negotiation{detail}"


def configure_ae(ae: Any, timeout: float) -> None:
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    ae.connection_timeout = timeout


def status_text(status: int) -> str:
    text = STATUS_TEXT.get(status)
    if text is None:
        if 0xA000 <= status <= 0xAFFF or 0xC000 <= status <= 0xCFFF:
            text = "Failure"
        elif 0xB000 <= status <= 0xBFFF:
            text = "Warning"
        else:
            text = "Unknown status"
    return f"0x{status:04X} {text}"


# -- the command --------------------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "echoscu",
        help="check that a DICOM peer answers (C-ECHO)",
        description=(
            "Request an association with the DICOM peer at HOST:PORT, send C-ECHO requests "
            "(Verification) and release it. Exit status 0 when every echo succeeds, 1 otherwise."
        ),
    )
    add_association_options(parser, "ECHOSCU")
    parser.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                        help="send N C-ECHO requests on the association (default: 1)")
    return parser


def run(args: argparse.Namespace) -> int:
    from turbodicom.net import AE

    prefix = "turbodicom echoscu"
    with net_log(prefix, args.verbose) as log:
        ae = AE(args.aetitle)
        configure_ae(ae, args.timeout)
        ae.add_requested_context(VERIFICATION)
        started = time.perf_counter()
        assoc, why = associate(ae, args, log)
        if assoc is None:
            print(f"{prefix}: {why}", file=sys.stderr)
            return 1
        if not any(c.abstract_syntax == VERIFICATION for c in assoc.accepted_contexts):
            assoc.release()
            print(f"{prefix}: {args.host}:{args.port} did not accept the Verification SOP class", file=sys.stderr)
            return 1
        for i in range(args.repeat):
            response = assoc.send_c_echo(msg_id=i % 65535 + 1)
            if "Status" not in response:
                reason = f": {log.errors[-1]}" if log.errors else ""
                print(f"{prefix}: no answer to C-ECHO {i + 1} of {args.repeat} from {args.host}:{args.port}"
                      f" (association aborted){reason}", file=sys.stderr)
                return 1
            if response.Status != 0x0000:
                assoc.release()
                print(f"{prefix}: C-ECHO {i + 1} of {args.repeat} to {args.host}:{args.port} failed: "
                      f"status {status_text(int(response.Status))}", file=sys.stderr)
                return 1
        assoc.release()
        elapsed = time.perf_counter() - started
    echoes = "C-ECHO" if args.repeat == 1 else f"{args.repeat} C-ECHOs"
    print(f"{echoes} to {args.call} at {args.host}:{args.port}: success "
          f"({elapsed * 1e3:.1f} ms with association and release)")
    return 0
