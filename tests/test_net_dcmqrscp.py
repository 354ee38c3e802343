"""DCMTK's ``dcmqrscp`` as the Query/Retrieve SCP and turbodicom as the SCU: C-FIND with both
information models at every level, C-MOVE into turbodicom storage SCPs (one in this process,
one a ``turbodicom storescp`` process), C-GET into a folder, and the ``findscu``, ``movescu``
and ``getscu`` commands. The fixture writes a minimal ``dcmqrscp`` configuration with free
ports, starts it and fills its storage area with DCMTK's ``storescu``: the files of
``qr_archive_files`` (five instances, three patients, four studies, one RLE Lossless image) and
a patient whose name is in ISO 8859-1. Every answer is compared with what ``dcmqrscp`` holds."""

from __future__ import annotations

import copy
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from net_peers import dcmtk, free_port, wait_for_port
from qr_archive_files import (CT_1, CT_2, CT_SERIES, CT_STUDY, FILES, MR, MR_STUDY, PLAN, PLAN_STUDY, RLE,
                              RLE_STUDY, UIDS, write_archive)
from turbodicom.net import AE, build_role, evt
from turbodicom.net.contexts import ALL_TRANSFER_SYNTAXES

pytestmark = pytest.mark.timeout(120)

COMMAND = [sys.executable, "-m", "turbodicom.cli.main"]
ENV = {**os.environ, "TCP_NODELAY": "1"}  # DCMTK stalls without it
QR_AET = "DCMQRSCP"
DEST_AET = "TURBO_DEST"  # an AE of this process
CLI_DEST_AET = "DEST"  # a `turbodicom storescp` process

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
RT_PLAN_STORAGE = "1.2.840.10008.5.1.4.1.1.481.5"
IMPLICIT_LITTLE = "1.2.840.10008.1.2"
EXPLICIT_LITTLE = "1.2.840.10008.1.2.1"
EXPLICIT_BIG = "1.2.840.10008.1.2.2"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
PENDING = (0xFF00, 0xFF01)

# Besides the files of qr_archive_files, a patient whose name is in ISO 8859-1.
LATIN_STUDY = "1.2.826.0.1.3680043.8.498.4000"
LATIN = "1.2.826.0.1.3680043.8.498.4001"
LATIN_NAME = "M\u00fcller^J\u00f6rg"
PATHS = {**{UIDS[name]: relative for name, (_, relative, _) in FILES.items()}, LATIN: "latin.dcm"}
TRAILING_PADDING = 0xFFFCFFFC


# --- the peers --------------------------------------------------------------------------------------------


class StoreSCP:
    """A turbodicom storage SCP in this process: what it receives, by SOP Instance UID."""

    def __init__(self) -> None:
        self.received: dict[str, tuple[str, bytes]] = {}  # uid: (transfer syntax, Part 10 bytes)
        self.lock = threading.Lock()
        ae = AE(DEST_AET)
        for uid in (CT_STORAGE, MR_STORAGE, RT_PLAN_STORAGE):
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        self.server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, self.store)])
        self.port = self.server.server_address[1]

    def store(self, event) -> int:
        with self.lock:
            self.received[str(event.request.AffectedSOPInstanceUID)] = (
                str(event.context.transfer_syntax[0]), event.encoded_dataset(include_meta=True))
        return 0x0000

    def take(self, folder: Path) -> dict[str, str]:
        """Write what was received to `folder` as <uid>.dcm and forget it: {uid: transfer syntax}."""
        with self.lock:
            received, self.received = self.received, {}
        for uid, (_, data) in received.items():
            (folder / f"{uid}.dcm").write_bytes(data)
        return {uid: syntax for uid, (syntax, _) in received.items()}


class CommandSCP:
    """``turbodicom storescp`` in a process, on the port it picked (printed on its first line)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.proc = subprocess.Popen([*COMMAND, "storescp", "--port", "0", "--out", str(out), "--aetitle",
                                      CLI_DEST_AET], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        match = re.match(r"listening on [\d.]+:(\d+)", first)
        if match is None:
            self.proc.kill()
            raise AssertionError(f"storescp did not start: {first}{self.proc.communicate()[1]}")
        self.port = int(match.group(1))
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # keep the pipe drained
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class DcmQRSCP:
    """``dcmqrscp`` with one AE title (QR_AET) whose storage area is `folder`/db, and the move
    destinations of `destinations` ({AE title: port} on 127.0.0.1) in its HostTable."""

    def __init__(self, program: str, folder: Path, destinations: dict[str, int]) -> None:
        self.port = free_port()
        self.storage = folder / "db"
        self.storage.mkdir()
        hosts = "\n".join(f"dest{i} = ({aet}, 127.0.0.1, {port})" for i, (aet, port) in enumerate(destinations.items()))
        self.config = folder / "dcmqrscp.cfg"
        self.config.write_text(f"""\
NetworkTCPPort  = {self.port}
MaxPDUSize      = 16384
MaxAssociations = 16

HostTable BEGIN
{hosts}
turbodicom = {", ".join(f"dest{i}" for i in range(len(destinations)))}
HostTable END

VendorTable BEGIN
"turbodicom" = turbodicom
VendorTable END

AETable BEGIN
{QR_AET}  {self.storage}  RW  (20, 64mb)  ANY
AETable END
""")
        self.log = folder / "dcmqrscp.log"
        # The default process per association: 3.6.7's --single-process mode crashes once its
        # first association has ended. +xr: accept RLE Lossless besides the uncompressed syntaxes.
        # Its own session, so that the teardown stops the children with the parent.
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([program, "-c", str(self.config), "+xr", "-ta", "10", "-td", "30"],
                                         stdout=log, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise AssertionError("dcmqrscp did not start: " + self.log.read_text(errors="replace")) from None

    def held(self) -> dict[str, Path]:
        """The files of the storage area, by SOP Instance UID."""
        return {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p
                for p in self.storage.iterdir() if p.suffix == ".dcm"}

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
            try:  # the process group outlives the parent while a child serves an association
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    """DCMTK's programs (the module is skipped without them)."""
    return {name: dcmtk(name) for name in ("dcmqrscp", "storescu")}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    root = write_archive(tmp_path_factory.mktemp("archive"))
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName, ds.PatientID, ds.StudyDate = LATIN_NAME, "P4", "20070707"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = LATIN
    ds.StudyInstanceUID, ds.SeriesInstanceUID = LATIN_STUDY, LATIN_STUDY + ".1"
    ds.save_as(root / PATHS[LATIN])
    return root


@pytest.fixture(scope="module")
def dest():
    scp = StoreSCP()
    yield scp
    scp.server.shutdown()


@pytest.fixture(scope="module")
def cli_dest(tmp_path_factory):
    scp = CommandSCP(tmp_path_factory.mktemp("cli_moved"))
    yield scp
    assert scp.stop() == 0


@pytest.fixture(scope="module")
def qrscp(tools, tmp_path_factory, archive, dest, cli_dest):
    peer = DcmQRSCP(tools["dcmqrscp"], tmp_path_factory.mktemp("dcmqrscp"),
                    {DEST_AET: dest.port, CLI_DEST_AET: cli_dest.port})
    try:
        # -xr: propose RLE Lossless too, for the RLE file, which DCMTK cannot decompress here.
        done = subprocess.run([tools["storescu"], "-xr", "-aet", "STORESCU", "-aec", QR_AET, "127.0.0.1",
                               str(peer.port), *(str(archive / path) for path in PATHS.values())],
                              capture_output=True, text=True, env=ENV, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr + peer.log.read_text(errors="replace")
        yield peer
    finally:
        peer.stop()


# --- helpers ----------------------------------------------------------------------------------------------


def identifier(**keys) -> Dataset:
    ds = Dataset()
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def associate(qrscp: DcmQRSCP, *contexts: str, title: str = "TURBO_SCU", **kwargs):
    ae = AE(title)
    for context in contexts:
        if isinstance(context, tuple):
            ae.add_requested_context(*context)
        else:
            ae.add_requested_context(context)
    assoc = ae.associate("127.0.0.1", qrscp.port, ae_title=QR_AET, **kwargs)
    assert assoc.is_established
    return assoc


def find(qrscp: DcmQRSCP, model: str, **keys) -> list[Dataset]:
    """The matches of a C-FIND, after checking the statuses: pending ones, then Success."""
    assoc = associate(qrscp, model)
    try:
        responses = list(assoc.send_c_find(identifier(**keys), model))
    finally:
        assoc.release()
    assert [s.Status in PENDING for s, _ in responses[:-1]] == [True] * (len(responses) - 1)
    assert (responses[-1][0].Status, responses[-1][1]) == (0x0000, None)
    matches = [i for _, i in responses[:-1]]
    assert all(m.QueryRetrieveLevel == keys["QueryRetrieveLevel"] for m in matches)
    return matches


def values(matches: list[Dataset], *keywords: str) -> list[tuple[str, ...]]:
    return sorted(tuple(str(m.get(k, "")) for k in keywords) for m in matches)


def original(archive: Path, uid: str) -> Dataset:
    """The file dcmqrscp was given with the SOP Instance UID `uid`, without its Data Set Trailing
    Padding (FFFC,FFFC): DCMTK drops that element, which carries no information."""
    ds = pydicom.dcmread(archive / PATHS[uid])
    if TRAILING_PADDING in ds:
        del ds[TRAILING_PADDING]
    return ds


def series_of(archive: Path, uid: str) -> str:
    return pydicom.dcmread(archive / PATHS[uid], stop_before_pixels=True).SeriesInstanceUID


def assert_received(folder: Path, uids: list[str], archive: Path, qrscp: DcmQRSCP) -> None:
    """`folder` holds exactly <uid>.dcm for `uids`, each with the data set of the original file
    (all elements but the File Meta Information) and of dcmqrscp's copy."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{uid}.dcm" for uid in uids)
    held = qrscp.held()
    for uid in uids:
        received = pydicom.dcmread(folder / f"{uid}.dcm")
        assert received.file_meta.MediaStorageSOPInstanceUID == uid
        assert received.SOPInstanceUID == uid
        assert_same_data_set(received, original(archive, uid))
        assert_same_data_set(received, pydicom.dcmread(held[uid]))


def assert_same_data_set(received: Dataset, expected: Dataset) -> None:
    """The same elements with the same values; in Big Endian, OW Pixel Data holds the same
    pixels with their bytes swapped."""
    uid = received.SOPInstanceUID
    if received.file_meta.TransferSyntaxUID == EXPLICIT_BIG and "PixelData" in expected:
        assert numpy.array_equal(received.pixel_array, expected.pixel_array), uid
        received, expected = copy.deepcopy(received), copy.deepcopy(expected)
        del received.PixelData, expected.PixelData
    assert received == expected, uid


def check_retrieve(responses, count: int) -> None:
    """Pending responses counting `count` sub-operations down, then Success with all completed."""
    *pending, (final, final_identifier) = responses
    assert [s.Status in PENDING for s, _ in pending] == [True] * len(pending)
    assert [int(s.NumberOfRemainingSuboperations) for s, _ in pending] == list(range(count - 1, -1, -1))
    assert (final.Status, final_identifier) == (0x0000, None)
    assert (final.NumberOfCompletedSuboperations, final.NumberOfFailedSuboperations,
            final.NumberOfWarningSuboperations) == (count, 0, 0)


def turbodicom(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def summary(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.startswith("turbodicom ")]
    assert lines, done.stderr
    return lines[-1]


def blocks(stdout: str) -> list[dict[str, str]]:
    """findscu's matches: one dict per block of ``Keyword = value`` lines."""
    found = []
    for block in stdout.strip().split("\n\n"):
        lines = block.splitlines()
        assert re.fullmatch(r"# match \d+", lines[0]), block
        found.append({k.strip(): v.strip() for k, v in (line.split(" =", 1) for line in lines[1:])})
    return found


# --- what dcmqrscp holds ------------------------------------------------------------------------------------


def test_dcmqrscp_holds_the_files(qrscp, archive):
    held = qrscp.held()
    assert sorted(held) == sorted(PATHS)
    for uid, path in held.items():
        assert pydicom.dcmread(path) == original(archive, uid), uid
    assert pydicom.dcmread(held[RLE]).file_meta.TransferSyntaxUID == RLE_LOSSLESS


def test_unknown_called_ae_title_is_rejected(qrscp):
    ae = AE("TURBO_SCU")
    ae.add_requested_context(PATIENT_ROOT_FIND)
    assoc = ae.associate("127.0.0.1", qrscp.port, ae_title="NOT_" + QR_AET)
    assert not assoc.is_established
    assert assoc.is_rejected


# --- C-FIND -----------------------------------------------------------------------------------------------


def test_find_patients(qrscp):
    matches = find(qrscp, PATIENT_ROOT_FIND, QueryRetrieveLevel="PATIENT", PatientID="", PatientName="")
    assert values(matches, "PatientID", "PatientName") == [("P1", "Doe^John"), ("P2", "Smith^Jane"),
                                                           ("P3", "John Doe"), ("P4", LATIN_NAME)]
    assert {m.RetrieveAETitle for m in matches} == {QR_AET}
    matches = find(qrscp, PATIENT_ROOT_FIND, QueryRetrieveLevel="PATIENT", PatientID="P2", PatientName="")
    assert values(matches, "PatientID", "PatientName") == [("P2", "Smith^Jane")]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("*John*", ["P1", "P3"]),
    ("Doe*", ["P1"]),
    ("?mith^Jane", ["P2"]),
    ("*", ["P1", "P2", "P3", "P4"]),
    ("M*", ["P4"]),
    ("X?Z*", []),
])
def test_find_patients_by_name_with_wildcards(qrscp, pattern, expected):
    matches = find(qrscp, PATIENT_ROOT_FIND, QueryRetrieveLevel="PATIENT", PatientName=pattern, PatientID="")
    assert [v for v, in values(matches, "PatientID")] == expected


@pytest.mark.parametrize("charset", ["ISO_IR 100", "ISO_IR 192"])
def test_find_names_in_the_character_set_of_the_request(qrscp, charset):
    """dcmqrscp answers in the character set of the request: ISO 8859-1 or UTF-8."""
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="STUDY", SpecificCharacterSet=charset,
                   PatientName="M\u00fcll*", StudyInstanceUID="", PatientID="")
    assert values(matches, "StudyInstanceUID", "PatientID", "PatientName", "SpecificCharacterSet") == [
        (LATIN_STUDY, "P4", LATIN_NAME, charset)]


def test_find_studies_study_root(qrscp):
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="STUDY", StudyInstanceUID="", PatientID="",
                   PatientName="", StudyDate="")
    assert values(matches, "StudyInstanceUID", "PatientID", "PatientName", "StudyDate") == sorted([
        (CT_STUDY, "P1", "Doe^John", "20040115"), (MR_STUDY, "P1", "Doe^John", "20050620"),
        (PLAN_STUDY, "P2", "Smith^Jane", "20041231"), (RLE_STUDY, "P3", "John Doe", "20060101"),
        (LATIN_STUDY, "P4", LATIN_NAME, "20070707")])
    # A name wildcard and a date range together; an open-ended range.
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="STUDY", StudyInstanceUID="", PatientName="*John*",
                   StudyDate="20040101-20051231")
    assert values(matches, "StudyInstanceUID") == sorted([(CT_STUDY,), (MR_STUDY,)])
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="STUDY", StudyInstanceUID="", StudyDate="20041231-")
    assert values(matches, "StudyInstanceUID") == sorted([(MR_STUDY,), (PLAN_STUDY,), (RLE_STUDY,), (LATIN_STUDY,)])


def test_find_studies_patient_root(qrscp):
    matches = find(qrscp, PATIENT_ROOT_FIND, QueryRetrieveLevel="STUDY", PatientID="P1", StudyInstanceUID="",
                   StudyDate="")
    assert values(matches, "StudyInstanceUID", "StudyDate") == sorted([(CT_STUDY, "20040115"),
                                                                      (MR_STUDY, "20050620")])


def test_find_series(qrscp, archive):
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="SERIES", StudyInstanceUID=CT_STUDY,
                   SeriesInstanceUID="", Modality="")
    assert values(matches, "SeriesInstanceUID", "Modality", "StudyInstanceUID") == [(CT_SERIES, "CT", CT_STUDY)]
    matches = find(qrscp, PATIENT_ROOT_FIND, QueryRetrieveLevel="SERIES", PatientID="P1", StudyInstanceUID=MR_STUDY,
                   SeriesInstanceUID="", Modality="")
    assert values(matches, "SeriesInstanceUID", "Modality") == [(series_of(archive, MR), "MR")]
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="SERIES", StudyInstanceUID=PLAN_STUDY,
                   SeriesInstanceUID="", Modality="RTPLAN")
    assert values(matches, "SeriesInstanceUID", "Modality") == [(series_of(archive, PLAN), "RTPLAN")]


def test_find_images(qrscp, archive):
    matches = find(qrscp, PATIENT_ROOT_FIND, QueryRetrieveLevel="IMAGE", PatientID="P1", StudyInstanceUID=CT_STUDY,
                   SeriesInstanceUID=CT_SERIES, SOPInstanceUID="", InstanceNumber="")
    assert values(matches, "SOPInstanceUID", "InstanceNumber") == sorted([(CT_1, "1"), (CT_2, "2")])
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="IMAGE", StudyInstanceUID=RLE_STUDY,
                   SeriesInstanceUID=series_of(archive, RLE), SOPInstanceUID="", InstanceNumber="")
    assert values(matches, "SOPInstanceUID", "InstanceNumber") == [(RLE, "1")]
    # One instance by its UID.
    matches = find(qrscp, STUDY_ROOT_FIND, QueryRetrieveLevel="IMAGE", StudyInstanceUID=CT_STUDY,
                   SeriesInstanceUID=CT_SERIES, SOPInstanceUID=CT_2)
    assert values(matches, "SOPInstanceUID") == [(CT_2,)]


@pytest.mark.parametrize("syntax", [IMPLICIT_LITTLE, EXPLICIT_BIG])
def test_find_in_other_transfer_syntaxes(qrscp, syntax):
    assoc = associate(qrscp, (STUDY_ROOT_FIND, syntax))
    try:
        assert [c.transfer_syntax for c in assoc.accepted_contexts] == [[syntax]]
        responses = list(assoc.send_c_find(identifier(QueryRetrieveLevel="STUDY", PatientName="*John*",
                                                      StudyInstanceUID="", StudyDate="", PatientID=""),
                                           STUDY_ROOT_FIND))
    finally:
        assoc.release()
    assert [s.Status for s, _ in responses] == [0xFF00] * 3 + [0x0000]
    assert values([i for _, i in responses[:-1]], "StudyInstanceUID", "PatientID", "StudyDate") == sorted([
        (CT_STUDY, "P1", "20040115"), (MR_STUDY, "P1", "20050620"), (RLE_STUDY, "P3", "20060101")])


def test_find_cancelled(qrscp):
    """A C-CANCEL after the first match ends the C-FIND (0xFE00) unless dcmqrscp had already sent
    every match; the association then answers the next query."""
    assoc = associate(qrscp, PATIENT_ROOT_FIND)
    try:
        statuses = []
        for status, _ in assoc.send_c_find(identifier(QueryRetrieveLevel="IMAGE", PatientID="*", StudyInstanceUID="",
                                                      SeriesInstanceUID="", SOPInstanceUID=""),
                                           PATIENT_ROOT_FIND, msg_id=7):
            statuses.append(status.Status)
            if len(statuses) == 1:
                assoc.send_c_cancel(7, query_model=PATIENT_ROOT_FIND)
        after = list(assoc.send_c_find(identifier(QueryRetrieveLevel="PATIENT", PatientID="P2"), PATIENT_ROOT_FIND,
                                       msg_id=8))
    finally:
        assoc.release()
    assert statuses[0] == 0xFF00
    assert statuses[-1] == 0xFE00 and statuses[:-1] == [0xFF00] * (len(statuses) - 1) \
        or statuses == [0xFF00] * len(PATHS) + [0x0000], statuses
    assert [(s.Status, i and i.PatientID) for s, i in after] == [(0xFF00, "P2"), (0x0000, None)]


# --- C-MOVE -----------------------------------------------------------------------------------------------


def test_move_study_series_and_image(qrscp, dest, archive, tmp_path):
    assoc = associate(qrscp, PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE)
    try:
        study = list(assoc.send_c_move(identifier(QueryRetrieveLevel="STUDY", StudyInstanceUID=CT_STUDY),
                                       DEST_AET, STUDY_ROOT_MOVE))
        check_retrieve(study, 2)
        assert dest.take(tmp_path) == {CT_1: EXPLICIT_LITTLE, CT_2: EXPLICIT_LITTLE}
        # A patient, Patient Root; the RT Plan was stored Implicit VR, dcmqrscp keeps it Explicit VR.
        patient = list(assoc.send_c_move(identifier(QueryRetrieveLevel="PATIENT", PatientID="P2"), DEST_AET,
                                         PATIENT_ROOT_MOVE, msg_id=2))
        check_retrieve(patient, 1)
        assert dest.take(tmp_path) == {PLAN: EXPLICIT_LITTLE}
        series = list(assoc.send_c_move(identifier(QueryRetrieveLevel="SERIES", StudyInstanceUID=MR_STUDY,
                                                   SeriesInstanceUID=series_of(archive, MR)),
                                        DEST_AET, STUDY_ROOT_MOVE, msg_id=3))
        check_retrieve(series, 1)
        image = list(assoc.send_c_move(identifier(QueryRetrieveLevel="IMAGE", PatientID="P1",
                                                  StudyInstanceUID=CT_STUDY, SeriesInstanceUID=CT_SERIES,
                                                  SOPInstanceUID=CT_2),
                                       DEST_AET, PATIENT_ROOT_MOVE, msg_id=4))
        check_retrieve(image, 1)
        assert dest.take(tmp_path) == {MR: EXPLICIT_LITTLE, CT_2: EXPLICIT_LITTLE}
    finally:
        assoc.release()
    assert_received(tmp_path, [CT_1, CT_2, PLAN, MR], archive, qrscp)


def test_move_to_unknown_destination(qrscp, dest):
    assoc = associate(qrscp, PATIENT_ROOT_MOVE)
    try:
        responses = list(assoc.send_c_move(identifier(QueryRetrieveLevel="PATIENT", PatientID="P1"), "NOWHERE",
                                           PATIENT_ROOT_MOVE))
    finally:
        assoc.release()
    assert len(responses) == 1
    status, found = responses[0]
    assert status.Status == 0xA801  # Refused: move destination unknown
    assert found is None
    assert dest.received == {}


def test_move_nothing_matches(qrscp, dest):
    assoc = associate(qrscp, STUDY_ROOT_MOVE)
    try:
        responses = list(assoc.send_c_move(identifier(QueryRetrieveLevel="STUDY", StudyInstanceUID="1.2.3.4"),
                                           DEST_AET, STUDY_ROOT_MOVE))
    finally:
        assoc.release()
    assert [(s.Status, s.get("NumberOfCompletedSuboperations", 0)) for s, _ in responses] == [(0x0000, 0)]
    assert dest.received == {}


# --- C-GET ------------------------------------------------------------------------------------------------


def _writer(folder: Path, syntaxes: dict[str, str]):
    def store(event) -> int:
        uid = str(event.request.AffectedSOPInstanceUID)
        syntaxes[uid] = str(event.context.transfer_syntax[0])
        (folder / f"{uid}.dcm").write_bytes(event.encoded_dataset(include_meta=True))
        return 0x0000
    return store


def _getter(qrscp: DcmQRSCP, folder: Path, syntaxes: dict, storage: list[tuple[str, str]], **kwargs):
    """An association for C-GET offering `storage` (SOP class, transfer syntax) with the SCP role."""
    roles = [build_role(uid, scp_role=True) for uid in dict.fromkeys(uid for uid, _ in storage)]
    return associate(qrscp, PATIENT_ROOT_GET, STUDY_ROOT_GET, *storage, title="TURBO_GET", ext_neg=roles,
                     evt_handlers=[(evt.EVT_C_STORE, _writer(folder, syntaxes))], **kwargs)


def test_get_patient_and_study(qrscp, archive, tmp_path):
    syntaxes: dict[str, str] = {}
    assoc = _getter(qrscp, tmp_path, syntaxes, [(CT_STORAGE, EXPLICIT_LITTLE), (MR_STORAGE, EXPLICIT_LITTLE),
                                                (RT_PLAN_STORAGE, EXPLICIT_LITTLE)])
    try:
        accepted = {(str(c.abstract_syntax), c.as_scp) for c in assoc.accepted_contexts}
        assert {(CT_STORAGE, True), (MR_STORAGE, True), (RT_PLAN_STORAGE, True)} <= accepted
        patient = list(assoc.send_c_get(identifier(QueryRetrieveLevel="PATIENT", PatientID="P1"), PATIENT_ROOT_GET))
        check_retrieve(patient, 3)
        study = list(assoc.send_c_get(identifier(QueryRetrieveLevel="STUDY", StudyInstanceUID=PLAN_STUDY),
                                      STUDY_ROOT_GET, msg_id=2))
        check_retrieve(study, 1)
        latin = list(assoc.send_c_get(identifier(QueryRetrieveLevel="PATIENT", PatientID="P4"), PATIENT_ROOT_GET,
                                      msg_id=3))
        check_retrieve(latin, 1)
    finally:
        assoc.release()
    assert syntaxes == {uid: EXPLICIT_LITTLE for uid in (CT_1, CT_2, MR, PLAN, LATIN)}
    assert_received(tmp_path, [CT_1, CT_2, MR, PLAN, LATIN], archive, qrscp)
    assert pydicom.dcmread(tmp_path / f"{LATIN}.dcm").PatientName == LATIN_NAME


def test_get_rle_image_as_stored(qrscp, archive, tmp_path):
    """dcmqrscp sends an instance on the first context accepted for its SOP class (and cannot
    decompress RLE): offered MR Image Storage in RLE Lossless only, the image arrives as stored."""
    syntaxes: dict[str, str] = {}
    assoc = _getter(qrscp, tmp_path, syntaxes, [(MR_STORAGE, RLE_LOSSLESS)])
    try:
        responses = list(assoc.send_c_get(identifier(QueryRetrieveLevel="IMAGE", StudyInstanceUID=RLE_STUDY,
                                                     SeriesInstanceUID=series_of(archive, RLE),
                                                     SOPInstanceUID=RLE), STUDY_ROOT_GET))
    finally:
        assoc.release()
    check_retrieve(responses, 1)
    assert syntaxes == {RLE: RLE_LOSSLESS}
    assert_received(tmp_path, [RLE], archive, qrscp)
    assert pydicom.dcmread(tmp_path / f"{RLE}.dcm").PixelData == original(archive, RLE).PixelData


@pytest.mark.parametrize("syntax", [IMPLICIT_LITTLE, EXPLICIT_BIG])
def test_get_in_other_transfer_syntaxes(qrscp, archive, tmp_path, syntax):
    """dcmqrscp converts what it holds (Explicit VR Little Endian) to the syntax accepted."""
    syntaxes: dict[str, str] = {}
    assoc = _getter(qrscp, tmp_path, syntaxes, [(CT_STORAGE, syntax), (RT_PLAN_STORAGE, syntax)])
    try:
        studies = identifier(QueryRetrieveLevel="STUDY", StudyInstanceUID=[CT_STUDY, PLAN_STUDY])  # a UID list
        responses = list(assoc.send_c_get(studies, STUDY_ROOT_GET))
    finally:
        assoc.release()
    check_retrieve(responses, 3)
    assert syntaxes == {CT_1: syntax, CT_2: syntax, PLAN: syntax}
    assert_received(tmp_path, [CT_1, CT_2, PLAN], archive, qrscp)


def test_get_with_a_failed_sub_operation(qrscp, archive, tmp_path):
    """MR Image Storage accepted in Explicit VR Little Endian first: dcmqrscp sends the RLE
    image on that context, which it cannot do without an RLE decoder. The other image of the
    request arrives; the final status is 0xB000, its identifier lists the failed instance."""
    syntaxes: dict[str, str] = {}
    assoc = _getter(qrscp, tmp_path, syntaxes, [(MR_STORAGE, EXPLICIT_LITTLE), (MR_STORAGE, RLE_LOSSLESS)])
    try:
        responses = list(assoc.send_c_get(identifier(QueryRetrieveLevel="STUDY",
                                                     StudyInstanceUID=[MR_STUDY, RLE_STUDY]), STUDY_ROOT_GET))
        only_rle = list(assoc.send_c_get(identifier(QueryRetrieveLevel="PATIENT", PatientID="P3"), PATIENT_ROOT_GET,
                                         msg_id=2))
    finally:
        assoc.release()
    if RLE in syntaxes:
        pytest.skip("this dcmqrscp decompresses RLE Lossless")
    assert syntaxes == {MR: EXPLICIT_LITTLE}
    assert_received(tmp_path, [MR], archive, qrscp)
    *pending, (final, failed) = responses
    assert [s.Status for s, _ in pending] == [0xFF00] * len(pending)
    assert (final.Status, final.NumberOfCompletedSuboperations, final.NumberOfFailedSuboperations,
            final.NumberOfWarningSuboperations) == (0xB000, 1, 1, 0)
    assert failed.FailedSOPInstanceUIDList == RLE
    # Every sub-operation failed: 0xA702.
    final, failed = only_rle[-1]
    assert (final.Status, final.NumberOfCompletedSuboperations, final.NumberOfFailedSuboperations) == (0xA702, 0, 1)
    assert failed.FailedSOPInstanceUIDList == RLE


def test_get_cancelled(qrscp, archive, tmp_path):
    """A C-CANCEL after the first sub-operation: dcmqrscp stops (0xFE00) with the counts of
    what it did and what remains, unless it had already done everything."""
    syntaxes: dict[str, str] = {}
    assoc = _getter(qrscp, tmp_path, syntaxes, [(CT_STORAGE, EXPLICIT_LITTLE), (MR_STORAGE, EXPLICIT_LITTLE)])
    try:
        responses = []
        for status, found in assoc.send_c_get(identifier(QueryRetrieveLevel="PATIENT", PatientID="P1"),
                                              PATIENT_ROOT_GET, msg_id=5):
            responses.append((status, found))
            if len(responses) == 1:
                assoc.send_c_cancel(5, query_model=PATIENT_ROOT_GET)
        before = dict(syntaxes)
        after = list(assoc.send_c_get(identifier(QueryRetrieveLevel="PATIENT", PatientID="P1"), PATIENT_ROOT_GET,
                                      msg_id=6))
    finally:
        assoc.release()
    first, final = responses[0][0], responses[-1][0]
    assert (first.Status, first.NumberOfRemainingSuboperations, first.NumberOfCompletedSuboperations) == (0xFF00, 2, 1)
    if final.Status == 0xFE00:
        done = int(final.NumberOfCompletedSuboperations)
        assert done + int(final.NumberOfRemainingSuboperations) == 3
        assert final.NumberOfFailedSuboperations == 0
    else:
        check_retrieve(responses, 3)
        done = 3
    assert len(before) == done
    check_retrieve(after, 3)  # the association goes on
    assert_received(tmp_path, [CT_1, CT_2, MR], archive, qrscp)


# --- the commands -----------------------------------------------------------------------------------------


def test_findscu_command(qrscp):
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-S", "-k", "QueryRetrieveLevel=STUDY",
                      "-k", "PatientName=*John*", "-k", "StudyDate=20040101-20051231", "-k", "StudyInstanceUID",
                      "-k", "PatientID")
    assert done.returncode == 0, done.stderr
    assert sorted((m["StudyInstanceUID"], m["PatientID"], m["StudyDate"], m["PatientName"])
                  for m in blocks(done.stdout)) == sorted([(CT_STUDY, "P1", "20040115", "Doe^John"),
                                                          (MR_STUDY, "P1", "20050620", "Doe^John")])
    assert summary(done) == "turbodicom findscu: 2 matches (Study Root); final status 0x0000 Success"
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-k", "QueryRetrieveLevel=IMAGE",
                      "-k", "PatientID=P1", "-k", f"StudyInstanceUID={CT_STUDY}",
                      "-k", f"SeriesInstanceUID={CT_SERIES}",
                      "-k", "SOPInstanceUID")
    assert done.returncode == 0, done.stderr
    assert sorted(m["SOPInstanceUID"] for m in blocks(done.stdout)) == sorted([CT_1, CT_2])
    assert summary(done) == "turbodicom findscu: 2 matches (Patient Root); final status 0x0000 Success"
    # A value that is not ASCII: the request in UTF-8, and so the answer.
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-S", "-k", "QueryRetrieveLevel=STUDY",
                      "-k", "PatientName=M\u00fcll*", "-k", "StudyInstanceUID")
    assert done.returncode == 0, done.stderr
    assert blocks(done.stdout) == [{"SpecificCharacterSet": "ISO_IR 192", "QueryRetrieveLevel": "STUDY",
                                    "RetrieveAETitle": QR_AET, "PatientName": LATIN_NAME,
                                    "StudyInstanceUID": LATIN_STUDY}]


def test_findscu_command_failure(qrscp):
    # The Study Root model has no PATIENT level: dcmqrscp answers 0xC000.
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-S", "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID")
    assert (done.returncode, done.stdout) == (1, "")
    assert summary(done).startswith("turbodicom findscu: 0 matches (Study Root); final status 0xC000 "), summary(done)


def test_findscu_command_names_unable_to_process(qrscp):
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-S", "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID")
    assert done.returncode == 1
    assert re.fullmatch(r"turbodicom findscu: 0 matches \(Study Root\); final status 0xC000 Failed: unable to "
                        r"process", summary(done)), summary(done)


def test_movescu_command(qrscp, cli_dest, archive):
    done = turbodicom("movescu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-S", "--dest", CLI_DEST_AET,
                      "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={CT_STUDY}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["pending: 1 remaining, 1 completed, 0 failed, 0 warning",
                                        "pending: 0 remaining, 2 completed, 0 failed, 0 warning"]
    assert re.fullmatch(rf"turbodicom movescu: moved to {CLI_DEST_AET} \(Study Root\): 2 completed, 0 failed, "
                        r"0 warning; final status 0x0000 Success \(\d+\.\d\d s\)", summary(done)), summary(done)
    assert_received(cli_dest.out, [CT_1, CT_2], archive, qrscp)
    done = turbodicom("movescu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "--dest", "NOWHERE",
                      "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=P2")
    assert (done.returncode, done.stdout) == (1, "")
    assert summary(done).startswith("turbodicom movescu: moved to NOWHERE (Patient Root): 0 completed, 0 failed, "
                                    "0 warning; final status 0xA801 "), summary(done)


def test_getscu_command(qrscp, archive, tmp_path):
    out = tmp_path / "got"
    done = turbodicom("getscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID=P1", "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "pending: 0 remaining, 3 completed, 0 failed, 0 warning"
    assert re.fullmatch(r"turbodicom getscu: 3 completed, 0 failed, 0 warning \(Patient Root\); 3 files written to "
                        rf"{re.escape(str(out))}; final status 0x0000 Success \(\d+\.\d\d s\)", summary(done)), \
        summary(done)
    assert_received(out, [CT_1, CT_2, MR], archive, qrscp)
    done = turbodicom("getscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-S", "-k", "QueryRetrieveLevel=SERIES",
                      "-k", f"StudyInstanceUID={PLAN_STUDY}", "-k", f"SeriesInstanceUID={series_of(archive, PLAN)}",
                      "--out", tmp_path / "plan")
    assert done.returncode == 0, done.stderr
    assert_received(tmp_path / "plan", [PLAN], archive, qrscp)


def test_getscu_command_reports_failed_instances(qrscp, tmp_path):
    """getscu offers the uncompressed syntaxes only, and dcmqrscp cannot decompress the RLE image:
    the sub-operation fails (0xA702), getscu names the instance and exits 1."""
    done = turbodicom("getscu", "127.0.0.1", qrscp.port, "-aec", QR_AET, "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID=P3", "--out", tmp_path)
    if done.returncode == 0:
        pytest.skip("this dcmqrscp decompresses RLE Lossless")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == ["pending: 0 remaining, 0 completed, 1 failed, 0 warning"]
    assert f"turbodicom getscu: failed: {RLE}" in done.stderr.splitlines()
    assert summary(done).startswith(f"turbodicom getscu: 0 completed, 1 failed, 0 warning (Patient Root); 0 files "
                                    f"written to {tmp_path}; final status 0xA702 "), summary(done)
    assert list(tmp_path.iterdir()) == []
