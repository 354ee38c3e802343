"""``turbodicom storescu HOST PORT PATH...``: send DICOM files to a storage SCP (C-STORE).

Every file named, and every file in a folder named (``--recursive``: in its
subfolders too), is read just far enough by :func:`turbodicom.scan` (C++, on a
thread pool) to learn its SOP Class UID and transfer syntax; files that are not
DICOM are skipped and counted. One presentation context is requested per
(SOP class, transfer syntax) pair found, offering the file's own transfer
syntax first (and, for an uncompressed one, the other uncompressed syntaxes as
fallbacks): a file whose syntax the peer accepted is sent as it is stored, from
the file (``Association.send_c_store(path)``), without decoding it. An
association offers at most 128 contexts (PS3.8 9.3.2.2: odd context ids
1..255), so more pairs are sent over several associations, one after the other.

On a terminal a progress line (files, files/s, ETA, MB/s) is drawn on stderr; a
summary line (files sent, failed, skipped, MB, seconds, MB/s) goes to stderr at
the end. Exit status 0 when every DICOM file was stored (a warning status
counts as stored), 1 when any failed or was not sent, or there was nothing to
send.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from turbodicom.cli.echoscu import add_association_options, associate, configure_ae, max_pdu, net_log, status_text
from turbodicom.cli.progress import Progress, format_line

MAX_CONTEXTS = 128  # presentation context ids are the odd numbers 1..255 (PS3.8 9.3.2.2)
MAX_MESSAGES = 20  # per-file failure lines printed; the rest are counted
MB = 1e6

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
UNCOMPRESSED = (IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE)
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # a DICOMDIR: not an instance to store

STATUS_SUCCESS = 0x0000
WARNING_STATUSES = (0x0001, 0x0107, 0x0116)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "storescu",
        help="send DICOM files to a storage SCP (C-STORE)",
        description=(
            "Send every DICOM file in PATH (files, or folders: their files) to the storage SCP at "
            "HOST:PORT, each as it is stored when the peer accepts its transfer syntax. Files that "
            "are not DICOM are skipped. Exit status 1 when any file could not be stored."
        ),
    )
    add_association_options(parser, "STORESCU")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files, or folders of them")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="also send the files in the subfolders of each folder (DCMTK: +r)")
    parser.add_argument("-pdu", "--max-pdu", type=max_pdu, default=16384, metavar="N",
                        help="the largest PDU we receive, in bytes: 0 (no limit) or at least 4096 "
                             "(default: 16384)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress line, even on a terminal")
    return parser


# -- which files, and what they hold ---------------------------------------------------------------------


def collect(paths: list[str], recursive: bool) -> tuple[list[str], int]:
    """The files of `paths` in order (a folder's files sorted by path), and the number of
    subfolders left out (without `recursive`). Raises FileNotFoundError for a missing path."""
    files: list[str] = []
    subfolders = 0
    for path in paths:
        if os.path.isdir(path):
            found, skipped = _folder_files(path, recursive)
            files.extend(found)
            subfolders += skipped
        elif os.path.lexists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return files, subfolders


def _folder_files(folder: str, recursive: bool) -> tuple[list[str], int]:
    if recursive:
        found = []
        for root, dirs, names in os.walk(folder):  # links to folders are not followed
            dirs.sort()
            found.extend(os.path.join(root, name) for name in sorted(names))
        return found, 0
    with os.scandir(folder) as entries:
        entries = sorted(entries, key=lambda e: e.name)
    files = [e.path for e in entries if not e.is_dir()]
    return files, len(entries) - len(files)


class Plan:
    """What to send: files by (SOP class, transfer syntax), and what was left out."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str | None, int]] = []  # (path, SOP class, syntax, size)
        self.skipped: list[tuple[str, str]] = []  # not DICOM, or not an instance: (path, why)
        self.unreadable: list[tuple[str, str]] = []  # DICOM, or maybe, but cannot be read

    def pairs(self) -> list[tuple[str, str | None]]:
        """The (SOP class, transfer syntax) pairs, in the order their first file comes."""
        return list(dict.fromkeys((sop, syntax) for _, sop, syntax, _ in self.items))

    def batches(self) -> Iterator[tuple[list[tuple[str, str | None]], list[tuple[str, str, str | None, int]]]]:
        """(pairs, files) per association: at most MAX_CONTEXTS pairs each, files in order."""
        pairs = self.pairs()
        for start in range(0, len(pairs), MAX_CONTEXTS):
            chunk = pairs[start:start + MAX_CONTEXTS]
            wanted = set(chunk)
            yield chunk, [item for item in self.items if (item[1], item[2]) in wanted]


def plan(files: list[str]) -> Plan:
    """Read the SOP class and transfer syntax of every file (turbodicom.scan, C++)."""
    import turbodicom

    result = turbodicom.scan(files, ["TransferSyntaxUID", "MediaStorageSOPClassUID", "SOPClassUID"],
                             on_error="record")
    out = Plan()
    columns = zip(files, result["TransferSyntaxUID"], result["MediaStorageSOPClassUID"],
                  result["SOPClassUID"], result["error"])
    for path, syntax, media_class, sop_class, error in columns:
        if error is not None:
            if error.startswith("not DICOM"):
                out.skipped.append((path, "not DICOM"))
            else:
                out.unreadable.append((path, error))
            continue
        # send_c_store(path) names the SOP class of the File Meta Information first.
        sop = media_class or sop_class
        if not sop:
            out.skipped.append((path, "no SOP Class UID"))
        elif sop == MEDIA_STORAGE_DIRECTORY:
            out.skipped.append((path, "a DICOMDIR"))
        else:
            try:
                size = os.path.getsize(path)
            except OSError as exc:
                out.unreadable.append((path, exc.strerror or str(exc)))
                continue
            out.items.append((path, str(sop), str(syntax) if syntax else None, size))
    return out


def offered_syntaxes(syntax: str | None) -> list[str]:
    """The file's syntax first; for an uncompressed one (or none known) the two
    little endian ones as fallbacks, to which the file is converted if the peer picks one."""
    if syntax is None:
        return [EXPLICIT_LE, IMPLICIT_LE]
    if syntax in UNCOMPRESSED:
        return list(dict.fromkeys([syntax, EXPLICIT_LE, IMPLICIT_LE]))
    return [syntax]


# -- progress ------------------------------------------------------------------------------------------------


class TransferProgress(Progress):
    """The progress line of :mod:`turbodicom.cli.progress` with the data rate (MB/s) added."""

    def __init__(self, total: int, enabled: bool | None = None, **kwargs: Any) -> None:
        super().__init__(total, "sending", unit="file", enabled=enabled, **kwargs)
        self.bytes = 0

    def sent(self, files: int, size: int) -> None:
        self.bytes += size
        self.update(files)

    def _draw(self, now: float) -> None:
        import shutil

        self._last_draw = now
        elapsed = now - self._start
        rate = f"  {self.bytes / MB / elapsed:.1f} MB/s" if elapsed > 0 else ""
        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        line = format_line(self.count, self.total, elapsed, self.label, self.unit, width - len(rate)) + rate
        padding = " " * max(self._drawn_width - len(line), 0)
        self.stream.write(f"\r{line}{padding}")
        self.stream.flush()
        self._drawn_width = len(line)


# -- sending -------------------------------------------------------------------------------------------------------


class Tally:
    def __init__(self, prefix: str, bar: TransferProgress) -> None:
        self.prefix = prefix
        self.bar = bar
        self.sent = 0
        self.warnings = 0
        self.failed = 0
        self.not_sent = 0
        self.bytes = 0
        self.messages = 0

    def say(self, text: str, always: bool = False) -> None:
        """One line on stderr (after the first MAX_MESSAGES per-file lines, only counted)."""
        if not always:
            self.messages += 1
            if self.messages > MAX_MESSAGES:
                return
        self.bar.close()  # erase the progress line; the next update draws it again
        print(f"{self.prefix}: {text}", file=sys.stderr, flush=True)


def _send_batch(ae: Any, args: argparse.Namespace, log: Any, pairs: list, items: list, tally: Tally) -> bool:
    """Send `items` over one association offering `pairs`; False when the association could
    not be made or broke (the files not sent are counted as failed)."""
    ae.requested_contexts = []
    for sop, syntax in pairs:
        ae.add_requested_context(sop, offered_syntaxes(syntax))
    assoc, why = associate(ae, args, log, args.max_pdu)
    if assoc is None:
        tally.say(why, always=True)
        tally.not_sent += len(items)
        tally.failed += len(items)
        return False
    refused: set[tuple[str, str | None]] = set()
    message_id = 0
    try:
        for index, (path, sop, syntax, size) in enumerate(items):
            if (sop, syntax) in refused:
                tally.failed += 1
                tally.bar.update()
                continue
            if not assoc.is_established:
                left = len(items) - index
                reason = f": {log.errors[-1]}" if log.errors else ""
                tally.say(f"the association with {args.host}:{args.port} was aborted{reason}; "
                          f"{left} file{'s' if left != 1 else ''} not sent", always=True)
                tally.not_sent += left
                tally.failed += left
                return False
            message_id = message_id % 65535 + 1
            try:
                response = assoc.send_c_store(path, msg_id=message_id)
            except ValueError:  # no accepted context for this SOP class and syntax
                refused.add((sop, syntax))
                count = sum(1 for item in items if (item[1], item[2]) == (sop, syntax))
                tally.say(f"{args.host}:{args.port} did not accept {_name(sop)} in {_name(syntax)}: "
                          f"{count} file{'s' if count != 1 else ''} not sent", always=True)
                tally.failed += 1
                tally.bar.update()
                continue
            except Exception as exc:  # the file cannot be read or converted
                tally.say(f"{path}: not sent: {exc}")
                tally.failed += 1
                tally.bar.update()
                continue
            if "Status" not in response:
                tally.say(f"{path}: no response (association aborted)")
                tally.failed += 1
                tally.bar.update()
                continue
            status = int(response.Status)
            if status == STATUS_SUCCESS or status in WARNING_STATUSES or 0xB000 <= status <= 0xBFFF:
                tally.sent += 1
                tally.bytes += size
                if status != STATUS_SUCCESS:
                    tally.warnings += 1
                tally.bar.sent(1, size)
            else:
                comment = response.get("ErrorComment")
                tally.say(f"{path}: status {status_text(status)}" + (f" ({comment})" if comment else ""))
                tally.failed += 1
                tally.bar.update()
    finally:
        if assoc.is_established:
            assoc.release()
    return True


def _name(uid: str | None) -> str:
    if uid is None:
        return "an unknown transfer syntax"
    from pydicom.uid import UID

    name = UID(uid).name
    return f"{name} ({uid})" if name != uid else uid


def run(args: argparse.Namespace) -> int:
    prefix = "turbodicom storescu"
    started = time.perf_counter()
    try:
        files, subfolders = collect(args.paths, args.recursive)
    except OSError as exc:
        print(f"{prefix}: {exc}", file=sys.stderr)
        return 1
    todo = plan(files) if files else Plan()
    for path, error in todo.unreadable:
        print(f"{prefix}: {path}: cannot be read: {error}", file=sys.stderr)
    if not todo.items:
        hint = (f" ({subfolders} subfolder{'s' if subfolders != 1 else ''} not searched: use --recursive)"
                if subfolders else "")
        print(f"{prefix}: no DICOM files to send in {' '.join(args.paths)}: {len(files)} files, "
              f"{len(todo.skipped)} skipped, {len(todo.unreadable)} unreadable{hint}", file=sys.stderr)
        return 1

    from turbodicom.net import AE

    enabled = None if args.progress else False
    with net_log(prefix, args.verbose) as log, TransferProgress(len(todo.items), enabled) as bar:
        tally = Tally(prefix, bar)
        ae = AE(args.aetitle)
        configure_ae(ae, args.timeout)
        ae.maximum_pdu_size = args.max_pdu
        batches = list(todo.batches())
        for number, (pairs, items) in enumerate(batches):
            if not _send_batch(ae, args, log, pairs, items, tally):
                left = sum(len(rest) for _, rest in batches[number + 1:])
                tally.not_sent += left
                tally.failed += left
                break
    elapsed = time.perf_counter() - started

    if tally.messages > MAX_MESSAGES:
        print(f"{prefix}: ... and {tally.messages - MAX_MESSAGES} more failures", file=sys.stderr)
    failed = tally.failed + len(todo.unreadable)
    details = []
    if tally.warnings:
        details.append(f"{tally.warnings} with a warning status")
    if tally.not_sent:
        details.append(f"{tally.not_sent} not sent")
    if len(batches) > 1:
        details.append(f"{len(batches)} associations")
    extra = f" ({', '.join(details)})" if details else ""
    megabytes = tally.bytes / MB
    print(f"{prefix}: {tally.sent} files sent, {failed} failed, {len(todo.skipped)} skipped{extra}; "
          f"{megabytes:.1f} MB in {elapsed:.2f} s ({megabytes / elapsed if elapsed > 0 else 0:.1f} MB/s, "
          f"{tally.sent / elapsed if elapsed > 0 else 0:,.0f} files/s)", file=sys.stderr)
    return 1 if failed else 0
