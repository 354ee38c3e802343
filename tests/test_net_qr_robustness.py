"""Query/Retrieve when things go wrong: a C-CANCEL while C-MOVE and C-GET sub-operations run,
the requestor aborting in the middle of them, move destinations that cannot be reached,
malformed identifiers, and C-STOREs to the archive broken off midway.

The Query/Retrieve SCP is ``turbodicom qrscp``: in this process (an :class:`Archive` and the
handlers its command line binds) or as a process. After every case it must still answer,
and no exception may have escaped to the log.
"""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from net_peers import QRSCP, dataset_bytes, free_port
from turbodicom import _core
from turbodicom.cli import qrscp as qrscp_cli
from turbodicom.net import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, build_role, config, evt
from turbodicom.net.archive import Archive
from turbodicom.net.dimse import Message

pytestmark = pytest.mark.timeout(60)

COMMAND = [sys.executable, "-m", "turbodicom.cli.main"]
VERIFICATION = "1.2.840.10008.1.1"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
IMPLICIT, EXPLICIT = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
PATIENT_FIND, PATIENT_MOVE, PATIENT_GET = (f"1.2.840.10008.5.1.4.1.2.1.{i}" for i in (1, 2, 3))
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
C_GET_RQ, C_FIND_RQ, C_MOVE_RQ = 0x0010, 0x0020, 0x0021
PENDING = (0xFF00, 0xFF01)
CANCEL, UNABLE_TO_PERFORM, IDENTIFIER_INVALID, IDENTIFIER_DOES_NOT_MATCH = 0xFE00, 0xA702, 0xC310, 0xA900

COUNT = 6  # instances of the patient BULK
UID_ROOT = "1.2.826.0.1.3680043.8.498.7100."


def _write_cts(root: Path, count: int, prefix: str, size: int | None = None) -> dict[str, Path]:
    """`count` copies of CT_small (patient BULK, one series) with their own SOP Instance UIDs;
    with `size`, their pixel data is `size` x `size` (to make transfers long)."""
    root.mkdir(parents=True, exist_ok=True)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PatientID, ds.PatientName = "BULK", "Bulk^Load"
    if size is not None:
        ds.Rows = ds.Columns = size
        ds.PixelData = bytes(range(256)) * (size * size * 2 // 256)
    files = {}
    for i in range(count):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{UID_ROOT}{prefix}.{i + 1}"
        ds.InstanceNumber = i + 1
        files[ds.SOPInstanceUID] = root / f"{prefix}{i + 1}.dcm"
        ds.save_as(files[ds.SOPInstanceUID])
    return files


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict[str, Path]:
    return _write_cts(tmp_path_factory.mktemp("small"), COUNT, "1")


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> dict[str, Path]:
    return _write_cts(tmp_path_factory.mktemp("big"), COUNT, "2", size=1024)  # 2 MB each


def folder_of(files: dict[str, Path]) -> Path:
    return next(iter(files.values())).parent


def query(level: str = "PATIENT", **keys) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


# --- the SCP in this process, and storage SCPs ----------------------------------------------------


class InProcessQR:
    """``turbodicom qrscp`` in this process: the AE, contexts and handlers its command line
    sets up, on an archive of `folder` (and `store`)."""

    def __init__(self, folder: Path | None, destinations: dict, store: Path | None = None,
                 db: Path | None = None) -> None:
        self.archive = Archive(folder, db=db, store=store)
        ae = AE("QRSCP")
        ae.maximum_associations = 64
        ae.add_supported_context(VERIFICATION, ALL_TRANSFER_SYNTAXES)
        for uid in qrscp_cli.QUERY_RETRIEVE:
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES, scu_role=True, scp_role=True)
        lock = threading.Lock()
        handlers = [
            (evt.EVT_C_FIND, qrscp_cli._logged("C-FIND", self.archive.handle_find, True, lock)),
            (evt.EVT_C_GET, qrscp_cli._logged("C-GET", self.archive.handle_get, True, lock)),
            (evt.EVT_C_MOVE, qrscp_cli._logged("C-MOVE", self.archive.handle_move(destinations), True, lock)),
        ]
        if store is not None:
            handlers.append((evt.EVT_C_STORE, qrscp_cli._stored(self.archive.handle_store, True, lock)))
        self.server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
        self.port = self.server.server_address[1]

    def wait_idle(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.server.active_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.active_count() == 0, "the server still holds an association"

    def assert_serving(self, instances: int = COUNT) -> None:
        """A new association gets a C-ECHO answered and finds the instances of BULK."""
        assoc = associate(self.port, VERIFICATION, PATIENT_FIND)
        assert assoc.send_c_echo().Status == 0x0000
        found = list(assoc.send_c_find(query("IMAGE", PatientID="BULK", StudyInstanceUID="",
                                             SeriesInstanceUID="", SOPInstanceUID=""), PATIENT_FIND))
        assoc.release()
        assert [s.Status for s, _ in found] == [0xFF00] * instances + [0x0000]

    def close(self) -> None:
        self.server.shutdown()
        self.wait_idle()
        self.archive.close()


class Destination:
    """A turbodicom storage SCP (a C-MOVE destination) keeping the UIDs it receives; each
    C-STORE takes `delay` seconds."""

    def __init__(self, title: str = "DEST", delay: float = 0.0, require_called_aet: bool = False) -> None:
        self.received: list[str] = []
        self.delay = delay
        ae = AE(title)
        ae.require_called_aet = require_called_aet
        ae.add_supported_context(CT_STORAGE, ALL_TRANSFER_SYNTAXES)
        self.server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, self.store)])
        self.port = self.server.server_address[1]

    def store(self, event):
        self.received.append(str(event.request.AffectedSOPInstanceUID))
        time.sleep(self.delay)
        return 0x0000

    def close(self) -> None:
        self.server.shutdown()


def associate(port: int, *contexts: str, store=None, syntax: str = EXPLICIT):
    """An association with `contexts` in `syntax`; with a C-STORE handler `store`, also CT
    Image Storage with the SCP role (for C-GET)."""
    ae = AE("TURBO_SCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    for uid in contexts:
        ae.add_requested_context(uid, syntax)
    roles = None
    if store is not None:
        ae.add_requested_context(CT_STORAGE, EXPLICIT)
        roles = [build_role(CT_STORAGE, scp_role=True)]
    assoc = ae.associate("127.0.0.1", port, ae_title="QRSCP", ext_neg=roles,
                         evt_handlers=[(evt.EVT_C_STORE, store)] if store is not None else None)
    assert assoc.is_established
    return assoc


@pytest.fixture
def no_exceptions(caplog):
    """Fails the test when an exception reached the log (the server's and handlers' errors
    are handled as protocol cases, not as crashes)."""
    yield
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


# --- 1, 2: C-CANCEL while sub-operations run -----------------------------------------------------------


def test_cancel_during_c_move(small, no_exceptions):
    destination = Destination(delay=0.2)
    qr = InProcessQR(folder_of(small), {"DEST": ("127.0.0.1", destination.port)})
    try:
        assoc = associate(qr.port, PATIENT_MOVE, PATIENT_FIND, VERIFICATION)
        results = []
        for status, identifier in assoc.send_c_move(query(PatientID="BULK"), "DEST", PATIENT_MOVE, msg_id=5):
            results.append((status, identifier))
            if status.Status == 0xFF00 and len(results) == 1:
                assoc.send_c_cancel(5, query_model=PATIENT_MOVE)
        final = results[-1][0]
        assert final.Status == CANCEL
        assert 1 <= final.NumberOfCompletedSuboperations < COUNT
        assert final.NumberOfCompletedSuboperations + final.NumberOfRemainingSuboperations == COUNT
        assert (final.NumberOfFailedSuboperations, final.NumberOfWarningSuboperations) == (0, 0)
        assert len(destination.received) == final.NumberOfCompletedSuboperations
        # the same association goes on: the SCP answers a C-ECHO and a C-FIND
        assert assoc.send_c_echo(msg_id=6).Status == 0x0000
        found = list(assoc.send_c_find(query(PatientID="BULK", PatientName=""), PATIENT_FIND, msg_id=7))
        assert [s.Status for s, _ in found] == [0xFF00, 0x0000]
        assoc.release()
        deadline = time.monotonic() + 5  # the association to the destination was released
        while destination.server.active_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert destination.server.active_count() == 0
        qr.assert_serving()
    finally:
        qr.close()
        destination.close()


@pytest.mark.parametrize("when", ["between", "during"])
def test_cancel_during_c_get(small, no_exceptions, when):
    """The C-CANCEL arrives between two sub-operations, or while the SCP waits for the
    response to one (the SCU sends it from its C-STORE handler): either way it cancels the
    C-GET, and is not taken for the C-STORE response."""
    qr = InProcessQR(folder_of(small), {})
    received = []

    def store(event):
        received.append(str(event.request.AffectedSOPInstanceUID))
        if when == "during" and len(received) == 2:
            event.assoc.send_c_cancel(9, query_model=PATIENT_GET)
        time.sleep(0.1)
        return 0x0000

    try:
        assoc = associate(qr.port, PATIENT_GET, PATIENT_FIND, VERIFICATION, store=store)
        results = []
        for status, _identifier in assoc.send_c_get(query(PatientID="BULK"), PATIENT_GET, msg_id=9):
            results.append(status)
            if when == "between" and len(results) == 1:
                assoc.send_c_cancel(9, query_model=PATIENT_GET)
        final = results[-1]
        assert [s.Status for s in results[:-1]] == [0xFF00] * (len(results) - 1)
        assert final.Status == CANCEL
        completed = final.NumberOfCompletedSuboperations
        assert completed == len(received) and 1 <= completed < COUNT
        assert completed + final.NumberOfRemainingSuboperations == COUNT
        assert (final.NumberOfFailedSuboperations, final.NumberOfWarningSuboperations) == (0, 0)
        if when == "during":
            assert completed == 2
        # the association is intact: more requests are answered on it
        assert assoc.send_c_echo(msg_id=10).Status == 0x0000
        again = list(assoc.send_c_get(query(PatientID="BULK"), PATIENT_GET, msg_id=11))
        assert again[-1][0].Status == 0x0000 and again[-1][0].NumberOfCompletedSuboperations == COUNT
        assoc.release()
        assert assoc.is_released
        qr.assert_serving()
    finally:
        qr.close()


# --- 3: the requestor aborts during the sub-operations -------------------------------------------------


def test_requestor_aborts_during_c_get(small, no_exceptions):
    """The requestor aborts (from another thread) while its C-STORE handler runs: its
    send_c_get ends with an empty status and no exception; the SCP stops its
    sub-operations and keeps serving."""
    qr = InProcessQR(folder_of(small), {})
    received = []

    def store(event):
        received.append(str(event.request.AffectedSOPInstanceUID))
        if len(received) == 2:
            threading.Timer(0.05, assoc.abort).start()
        time.sleep(0.2)
        return 0x0000

    try:
        assoc = associate(qr.port, PATIENT_GET, store=store)
        results = list(assoc.send_c_get(query(PatientID="BULK"), PATIENT_GET))
        assert [status.Status for status, _ in results[:-1]] == [0xFF00] * (len(results) - 1)
        assert "Status" not in results[-1][0]  # no final response: the association is gone
        assert assoc.is_aborted and not assoc.is_established
        time.sleep(0.3)
        assert len(received) == 2  # nothing more was sent
        qr.wait_idle()
        qr.assert_serving()
        # a whole C-GET afterwards
        got = []
        again = associate(qr.port, PATIENT_GET, store=lambda e: got.append(e.request.AffectedSOPInstanceUID) or 0)
        assert list(again.send_c_get(query(PatientID="BULK"), PATIENT_GET))[-1][0].Status == 0x0000
        again.release()
        assert len(got) == COUNT
    finally:
        qr.close()


def test_requestor_aborts_during_c_move_into_storescp(big, tmp_path, no_exceptions):
    """The requestor aborts after the first pending response of a C-MOVE of 2 MB instances
    into a ``turbodicom storescp`` process: the SCP finishes the sub-operation in progress
    and stops; the destination's folder holds only whole files, no temporary ones."""
    out = tmp_path / "out"
    storescp = subprocess.Popen([*COMMAND, "storescp", "--port", "0", "--out", str(out), "-aet", "DEST"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    qr = None
    try:
        first = storescp.stdout.readline()
        port = int(re.match(r"listening on [\d.]+:(\d+)", first).group(1))
        qr = InProcessQR(folder_of(big), {"DEST": ("127.0.0.1", port)})
        assoc = associate(qr.port, PATIENT_MOVE)
        statuses = []
        for status, _identifier in assoc.send_c_move(query(PatientID="BULK"), "DEST", PATIENT_MOVE):
            statuses.append(status.Status)
            assoc.abort()
            break
        assert statuses == [0xFF00]
        qr.wait_idle()
        qr.assert_serving()
    finally:
        if qr is not None:
            qr.close()
        storescp.terminate()
        code = storescp.wait(timeout=15)
        rest = storescp.stdout.read()
    assert code == 0, rest + storescp.stderr.read()
    written = sorted(out.iterdir())
    assert [p.name for p in written if p.name.startswith(".") or not p.name.endswith(".dcm")] == []
    assert 1 <= len(written) < COUNT  # the move stopped early
    for path in written:  # each one whole, as sent
        uid = path.name[:-len(".dcm")]
        assert dataset_bytes(path) == dataset_bytes(big[uid])
    assert re.search(rf"stopped: {len(written)} files", rest), rest


# --- 4: a move destination that cannot be reached ---------------------------------------------------------


@pytest.mark.parametrize("how", ["nothing-listens", "association-rejected"])
def test_move_destination_unreachable(small, no_exceptions, how):
    """A configured destination that cannot be reached. pynetdicom answers 0xA801 (as for an
    unknown destination); DCMTK's qrscp fails every sub-operation and answers 0xA702 with
    the Failed SOP Instance UID List (PS3.4 C.4.2.3.1). turbodicom does as DCMTK."""
    if how == "nothing-listens":
        destination, address = None, ("127.0.0.1", free_port())
    else:  # the destination only accepts associations calling OTHER
        destination = Destination("OTHER", require_called_aet=True)
        address = ("127.0.0.1", destination.port)
    qr = InProcessQR(folder_of(small), {"DEST": address})
    try:
        assoc = associate(qr.port, PATIENT_MOVE, VERIFICATION)
        results = list(assoc.send_c_move(query(PatientID="BULK"), "DEST", PATIENT_MOVE))
        assert len(results) == 1  # no pending response: nothing was sent
        final, identifier = results[0]
        assert final.Status == UNABLE_TO_PERFORM
        assert (final.NumberOfCompletedSuboperations, final.NumberOfFailedSuboperations,
                final.NumberOfWarningSuboperations) == (0, COUNT, 0)
        assert "NumberOfRemainingSuboperations" not in final
        assert sorted(identifier.FailedSOPInstanceUIDList) == sorted(small)
        assert assoc.send_c_echo().Status == 0x0000
        assoc.release()
        if destination is not None:
            assert destination.received == []
        qr.assert_serving()
    finally:
        qr.close()
        if destination is not None:
            destination.close()


# --- 5: malformed identifiers -------------------------------------------------------------------------


def element(group: int, elem: int, vr: str, value: bytes) -> bytes:
    """An element in Explicit VR Little Endian."""
    if vr in ("OB", "OW", "SQ", "UN", "UT"):
        return struct.pack("<HH2sHI", group, elem, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(value)) + value


def item(content: bytes, undefined: bool = False) -> bytes:
    if undefined:
        return struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + content + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(content)) + content


def sequence(items: bytes, undefined: bool = True, tag: tuple[int, int] = (0x0040, 0x0275)) -> bytes:
    if undefined:
        return (struct.pack("<HH2sHI", *tag, b"SQ", 0, 0xFFFFFFFF) + items
                + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
    return struct.pack("<HH2sHI", *tag, b"SQ", 0, len(items)) + items


def nested(depth: int) -> bytes:
    inner = b""
    for _ in range(depth):
        inner = sequence(item(inner, undefined=True))
    return inner


LEVEL = element(0x0008, 0x0052, "CS", b"PATIENT ")
NAME = element(0x0010, 0x0010, "PN", b"")
BULK = element(0x0010, 0x0020, "LO", b"BULK")
OTHER = element(0x0010, 0x0020, "LO", b"NOBODY")  # matches nothing

# name: (identifier, status of the C-FIND, of the C-MOVE and C-GET). A valid identifier
# matches the COUNT instances of BULK (one patient).
IDENTIFIERS = {
    "valid": (LEVEL + NAME + BULK, 0x0000, 0x0000),
    "unknown VR": (LEVEL + element(0x0010, 0x0010, "ZZ", b"AB") + BULK, IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "lower-case VR": (LEVEL + element(0x0010, 0x0010, "pn", b"AB") + OTHER, IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "length past the end": (LEVEL + NAME + struct.pack("<HH2sH", 0x0010, 0x0020, b"LO", 200) + b"NOBODY",
                            IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "header cut short": (LEVEL + NAME + OTHER[:5], IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "value cut short": (LEVEL + NAME + OTHER[:-2], IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "item outside a sequence": (LEVEL + item(b"abcd") + BULK, IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "sequence never delimited": (LEVEL + NAME + OTHER + sequence(item(b""))[:-8], IDENTIFIER_INVALID,
                                 IDENTIFIER_INVALID),
    "item past its sequence": (LEVEL + NAME + OTHER + sequence(item(NAME)[:-2] + b"\x00\x00\x00\x00", False)[:-4],
                               IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "random bytes": (bytes(range(256)) * 4, IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "empty": (b"", IDENTIFIER_DOES_NOT_MATCH, IDENTIFIER_DOES_NOT_MATCH),
    "no level": (NAME + BULK, IDENTIFIER_DOES_NOT_MATCH, IDENTIFIER_DOES_NOT_MATCH),
    "unknown level": (element(0x0008, 0x0052, "CS", b"WARD") + NAME + BULK, IDENTIFIER_DOES_NOT_MATCH,
                      IDENTIFIER_DOES_NOT_MATCH),
    "binary level": (element(0x0008, 0x0052, "US", b"\x01\x00") + NAME + BULK, IDENTIFIER_DOES_NOT_MATCH,
                     IDENTIFIER_DOES_NOT_MATCH),
    "150 nested sequences": (LEVEL + NAME + BULK + nested(150), 0x0000, 0x0000),
    "300 nested sequences": (LEVEL + NAME + BULK + nested(300), IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "10000 nested sequences": (LEVEL + NAME + BULK + nested(10000), IDENTIFIER_INVALID, IDENTIFIER_INVALID),
    "10000 items": (LEVEL + NAME + BULK + sequence(item(element(0x0040, 0x1001, "SH", b"AB")) * 10000, False),
                    0x0000, 0x0000),
    "10000 items, one cut short": (LEVEL + NAME + OTHER + sequence(
        item(element(0x0040, 0x1001, "SH", b"AB")) * 9999 + item(element(0x0040, 0x1001, "SH", b"AB"))[:-1], False),
        IDENTIFIER_INVALID, IDENTIFIER_INVALID),
}


def raw_request(assoc, command: int, model: str, identifier: bytes, msg_id: int = 3, **elements) -> list:
    """Send a C-FIND, C-MOVE or C-GET request whose identifier is `identifier` as it is; the
    responses' statuses (None last when the association ended instead)."""
    context = assoc._context_for(model, None)
    request = Message(CommandField=command, MessageID=msg_id, AffectedSOPClassUID=model, Priority=2,
                      CommandDataSetType=0x0001, **elements)
    assoc._send(context.context_id, request, identifier)
    statuses = []
    while True:
        response = assoc._receive_for_query(command | 0x8000, msg_id)
        if response is None:
            return statuses + [None]
        statuses.append((response.Status, response.NumberOfCompletedSuboperations))
        if response.Status not in PENDING:
            return statuses


@pytest.fixture(scope="module")
def malformed_qr(small):
    destination = Destination()
    qr = InProcessQR(folder_of(small), {"DEST": ("127.0.0.1", destination.port)})
    qr.destination = destination
    yield qr
    qr.close()
    destination.close()


@pytest.mark.parametrize("name", list(IDENTIFIERS))
def test_malformed_identifier(malformed_qr, no_exceptions, name):
    identifier, find_status, retrieve_status = IDENTIFIERS[name]
    received = []
    assoc = associate(malformed_qr.port, PATIENT_FIND, PATIENT_MOVE, PATIENT_GET, VERIFICATION,
                      store=lambda e: received.append(e.request.AffectedSOPInstanceUID) or 0)
    try:
        find = raw_request(assoc, C_FIND_RQ, PATIENT_FIND, identifier, msg_id=1)
        malformed_qr.destination.received.clear()
        move = raw_request(assoc, C_MOVE_RQ, PATIENT_MOVE, identifier, msg_id=2, MoveDestination="DEST")
        get = raw_request(assoc, C_GET_RQ, PATIENT_GET, identifier, msg_id=3)
        assert assoc.send_c_echo(msg_id=4).Status == 0x0000  # the association goes on
    finally:
        assoc.release()
    if find_status == 0x0000:
        assert [s for s, _ in find] == [0xFF00, 0x0000]  # one patient
    else:
        assert find == [(find_status, None)]
    if retrieve_status == 0x0000:
        assert move[-1] == (0x0000, COUNT) and get[-1] == (0x0000, COUNT)
        assert sorted(malformed_qr.destination.received) == sorted(received) == sorted(
            f"{UID_ROOT}1.{i + 1}" for i in range(COUNT))
    else:  # refused before any sub-operation
        assert [s for s, _ in move] == [retrieve_status] and [s for s, _ in get] == [retrieve_status]
        assert malformed_qr.destination.received == [] and received == []
    malformed_qr.assert_serving()


def implicit(group: int, elem: int, value: bytes) -> bytes:
    """An element in Implicit VR Little Endian."""
    return struct.pack("<HHI", group, elem, len(value)) + value


IMPLICIT_LEVEL, IMPLICIT_BULK = implicit(0x0008, 0x0052, b"PATIENT "), implicit(0x0010, 0x0020, b"BULK")
IMPLICIT_SEQUENCE = (struct.pack("<HHI", 0x0040, 0x0275, 0xFFFFFFFF) + item(implicit(0x0040, 0x1001, b"AB"), True)
                     + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))


@pytest.mark.parametrize("identifier, status", [
    (IMPLICIT_LEVEL + IMPLICIT_BULK, 0x0000),
    (IMPLICIT_LEVEL + IMPLICIT_BULK + IMPLICIT_SEQUENCE, 0x0000),
    (IMPLICIT_LEVEL + IMPLICIT_BULK + IMPLICIT_SEQUENCE[:-8], IDENTIFIER_INVALID),
    (IMPLICIT_LEVEL + implicit(0x0010, 0x0020, b"NOBODY")[:-1], IDENTIFIER_INVALID),
    (IMPLICIT_LEVEL + implicit(0x0010, 0x0020, b"NOBODY")[:6], IDENTIFIER_INVALID),
], ids=["valid", "sequence", "sequence never delimited", "value cut short", "header cut short"])
def test_malformed_identifier_in_implicit_vr(malformed_qr, no_exceptions, identifier, status):
    assoc = associate(malformed_qr.port, PATIENT_FIND, syntax=IMPLICIT)
    try:
        find = raw_request(assoc, C_FIND_RQ, PATIENT_FIND, identifier)
    finally:
        assoc.release()
    assert [s for s, _ in find] == ([0xFF00, 0x0000] if status == 0x0000 else [status])


def test_identifier_level_outside_the_model(malformed_qr, no_exceptions):
    assoc = associate(malformed_qr.port, STUDY_FIND)
    try:
        assert raw_request(assoc, C_FIND_RQ, STUDY_FIND, LEVEL + BULK) == [(IDENTIFIER_DOES_NOT_MATCH, None)]
    finally:
        assoc.release()


# --- 6: C-STOREs to the archive broken off midway -----------------------------------------------------


def _pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def _pdv(context_id: int, control: int, data: bytes) -> bytes:
    return struct.pack(">IBB", len(data) + 2, context_id, control) + data


def _start_raw_store(port: int, path: Path, fraction: float = 0.5) -> socket.socket:
    """A raw association that sends the C-STORE command of `path` and the first `fraction`
    of its data set (in P-DATA-TF PDUs of at most 16 kB), then returns its socket."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(_core.pdu_encode_associate_rq({
        "called_ae": "QRSCP", "calling_ae": "RAW", "contexts": [(1, CT_STORAGE, [EXPLICIT])],
        "user": {"max_length": 16384, "implementation_class_uid": "1.2.3.4", "implementation_version_name": "RAW"}}))
    kind, _, length = struct.unpack(">BBI", sock.recv(6, socket.MSG_WAITALL))
    body = sock.recv(length, socket.MSG_WAITALL)
    assert kind == 0x02, body
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    command = Message(CommandField=0x0001, MessageID=1, AffectedSOPClassUID=CT_STORAGE,
                      AffectedSOPInstanceUID=ds.SOPInstanceUID, Priority=2, CommandDataSetType=0x0000).encode()
    sock.sendall(_pdu(0x04, _pdv(1, 3, command)))
    data = dataset_bytes(path)
    part = data[:int(len(data) * fraction)]
    for start in range(0, len(part), 16000):
        sock.sendall(_pdu(0x04, _pdv(1, 0, part[start:start + 16000])))  # never the last fragment
    return sock


def _store_files(store: Path) -> list[str]:
    """Everything in the store folder but the index."""
    return sorted(str(p.relative_to(store)) for p in store.rglob("*")
                  if p.is_file() and not p.name.startswith("archive.sqlite"))


def _rows(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute('SELECT "SOPInstanceUID", path FROM instances'))


def test_store_broken_off_leaves_nothing_in_qrscp(big, tmp_path):
    """C-STOREs of a 2 MB data set to ``turbodicom qrscp`` broken off halfway (A-ABORT, the
    connection closed in the middle of a PDU): nothing in the store folder, no row; then the
    whole instance is stored, and after qrscp stops the recovery pass has nothing to do."""
    store = tmp_path / "store"
    qr = QRSCP("--store", str(store), "-q")
    uid, path = next(iter(big.items()))
    try:
        aborted = _start_raw_store(qr.port, path)
        aborted.sendall(_core.pdu_encode_abort(0, 0))
        assert aborted.recv(1) == b""  # closed without an answer (AA-3)
        aborted.close()
        cut = _start_raw_store(qr.port, path, 0.7)
        cut.sendall(_pdu(0x04, _pdv(1, 2, b"\x00" * 8000))[:3000])
        cut.close()
        time.sleep(0.3)
        assert _store_files(store) == []
        assoc = associate(qr.port, PATIENT_FIND)
        found = list(assoc.send_c_find(query("IMAGE", PatientID="BULK", StudyInstanceUID="", SeriesInstanceUID="",
                                             SOPInstanceUID=""), PATIENT_FIND))
        assoc.release()
        assert [s.Status for s, _ in found] == [0x0000]  # no match
        # the same instance, whole
        ae = AE("SCU")
        ae.add_requested_context(CT_STORAGE, EXPLICIT)
        assoc = ae.associate("127.0.0.1", qr.port, ae_title="QRSCP")
        assert assoc.send_c_store(str(path)).Status == 0x0000
        assoc.release()
    finally:
        code, out, errors = qr.stop()
    assert code == 0, errors
    assert out == "" and errors == ""  # -q: only errors are printed, and there were none
    stored = _store_files(store)
    assert len(stored) == 1 and stored[0].endswith(f"{uid}.dcm")
    assert dataset_bytes(store / stored[0]) == dataset_bytes(path)
    assert _rows(store / "archive.sqlite") == {uid: str(store / stored[0])}
    archive = Archive(db=store / "archive.sqlite", store=store)
    try:
        assert archive.recovered == {"temporary": 0, "missing": 0, "indexed": 0, "superseded": 0}
        assert [r["SOPInstanceUID"] for r in archive.rows] == [uid]
    finally:
        archive.close()


def test_qrscp_killed_during_a_store_restarts_consistent(big, tmp_path):
    """qrscp killed (SIGKILL) while a C-STORE is arriving: on restart, what was stored before
    is served, nothing else, and no partial file is left (the data set being streamed into
    a temporary file when it was killed, recovery deletes that file)."""
    store = tmp_path / "store"
    (uid, first), (_uid, second) = list(big.items())[:2]
    qr = QRSCP("--store", str(store), "-q")
    try:
        ae = AE("SCU")
        ae.add_requested_context(CT_STORAGE, EXPLICIT)
        assoc = ae.associate("127.0.0.1", qr.port, ae_title="QRSCP")
        assert assoc.send_c_store(str(first)).Status == 0x0000
        assoc.release()
        sock = _start_raw_store(qr.port, second, 0.8)
        time.sleep(0.2)
    finally:
        qr.proc.send_signal(signal.SIGKILL)
        qr.proc.wait(timeout=15)
    sock.close()
    restarted = QRSCP("--store", str(store))
    try:
        assert restarted.files == 1
        assert restarted.first.rstrip().endswith("recovered: 1 temporary)"), restarted.first
    finally:
        assert restarted.stop()[0] == 0
    assert [Path(p).name for p in _store_files(store)] == [f"{uid}.dcm"]


def test_store_streamed_into_the_store_folder_broken_off(big, tmp_path, monkeypatch, no_exceptions):
    """The archive's other way to receive: data sets streamed to files in the store folder
    as they arrive (STORE_RECV_CHUNKED_DATASET). An aborted transfer leaves its partial file
    only while it lasts; a crash at that moment is repaired by the recovery pass."""
    store = tmp_path / "store"
    store.mkdir()
    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET", True)
    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET_DIR", str(store))
    qr = InProcessQR(None, {}, store=store, db=tmp_path / "index.sqlite")
    path = next(iter(big.values()))
    try:
        sock = _start_raw_store(qr.port, path)
        deadline = time.monotonic() + 5
        while not list(store.glob(".*.part")) and time.monotonic() < deadline:
            time.sleep(0.01)
        partial = list(store.glob(".*.part"))
        assert len(partial) == 1  # being received
        # a crash now, and a restart: the recovery pass removes the partial file
        after_crash = Archive(db=tmp_path / "index.sqlite", store=store)
        assert after_crash.recovered == {"temporary": 1, "missing": 0, "indexed": 0, "superseded": 0}
        assert len(after_crash) == 0
        after_crash.close()
        sock.sendall(_core.pdu_encode_abort(0, 0))
        assert sock.recv(1) == b""
        sock.close()
        qr.wait_idle()
        assert list(store.iterdir()) == [] and len(qr.archive) == 0
        # then a whole one
        ae = AE("SCU")
        ae.add_requested_context(CT_STORAGE, EXPLICIT)
        assoc = ae.associate("127.0.0.1", qr.port, ae_title="QRSCP")
        assert assoc.send_c_store(str(path)).Status == 0x0000
        assoc.release()
        assert len(qr.archive) == 1
        assert dataset_bytes(qr.archive.rows[0]["path"]) == dataset_bytes(path)
        assert [p.name for p in store.rglob("*") if p.is_file()] == [Path(qr.archive.rows[0]["path"]).name]
    finally:
        qr.close()


def test_qrscp_stopped_during_a_c_get_exits_cleanly(big, tmp_path):
    """SIGTERM while a C-GET is sending: qrscp aborts the association and exits 0 once its
    association threads are done."""
    folder = folder_of(big)
    qr = subprocess.Popen([*COMMAND, "qrscp", "--port", "0", "--dir", str(folder), "-q"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = int(re.match(r"listening on [\d.]+:(\d+)", qr.stdout.readline()).group(1))
    received = []

    def store(event):
        received.append(event.request.AffectedSOPInstanceUID)
        if len(received) == 1:
            qr.terminate()
        time.sleep(0.3)
        return 0x0000

    assoc = associate(port, PATIENT_GET, store=store)
    results = list(assoc.send_c_get(query(PatientID="BULK"), PATIENT_GET))
    assert "Status" not in results[-1][0]  # aborted before the end
    assert qr.wait(timeout=15) == 0, qr.stderr.read()
    assert len(received) < COUNT
