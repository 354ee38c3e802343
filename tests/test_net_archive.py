"""The Query/Retrieve archive (``turbodicom.net.archive``) and the ``turbodicom qrscp``
command: C-FIND matching rules on a folder of known files, then the command answering
turbodicom, pynetdicom, DCMTK and Orthanc, our SCU against Orthanc, and the tutorial's
Query/Retrieve examples run as a user runs them."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from net_peers import QRSCP, Orthanc, dataset_bytes, dcmtk, free_port, process
from qr_archive_files import (CT_1, CT_2, CT_SERIES, CT_STUDY, FILES, MR, MR_STUDY, PLAN,
                              PLAN_STUDY, RLE, RLE_STUDY, UIDS, path_of, write_archive)
from turbodicom.net import AE, build_role, evt
from turbodicom.net.archive import Archive, QueryError
from turbodicom.net.contexts import ALL_TRANSFER_SYNTAXES
from turbodicom.net.dimse import decode_dataset

pytestmark = pytest.mark.timeout(120)

COMMAND = [sys.executable, "-m", "turbodicom.cli.main"]
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
PATIENT_FIND, PATIENT_MOVE, PATIENT_GET = (f"1.2.840.10008.5.1.4.1.2.1.{i}" for i in (1, 2, 3))
STUDY_FIND, STUDY_MOVE, STUDY_GET = (f"1.2.840.10008.5.1.4.1.2.2.{i}" for i in (1, 2, 3))



@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = write_archive(tmp_path_factory.mktemp("archive"))
    (root / "notes.txt").write_text("not DICOM")
    return root


@pytest.fixture(scope="module")
def archive(folder) -> Archive:
    return Archive(folder)


def query(level: str | None, **keys) -> Dataset:
    ds = Dataset()
    if level is not None:
        ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def found(archive: Archive, identifier: Dataset, key: str, model: str | None = None) -> list:
    return [r.get(key) for r in archive.find(identifier, model)]


# --- Archive: the index and the matching rules ------------------------------------------------------


def test_entities_of_disagreeing_instances_are_merged(tmp_path):
    """A study whose instances carry two patient names is one study: the groups SQLite makes
    per name are merged, its attributes are its first instance's, its counts cover both."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for number, name in enumerate(["Adams^Ann", "Allen^Ann", "Brown^Bob"], start=1):
        ds.PatientName = name
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.1.{number}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = number
        ds.save_as(tmp_path / f"{number}.dcm")
    archive = Archive(tmp_path)
    (study,) = archive.find(query("STUDY", PatientName="A*", StudyInstanceUID="", NumberOfStudyRelatedInstances=""))
    assert study.StudyInstanceUID == ds.StudyInstanceUID and study.PatientName == "Adams^Ann"
    assert study.NumberOfStudyRelatedInstances == 3
    assert [r.InstanceNumber for r in archive.find(query("IMAGE", StudyInstanceUID=ds.StudyInstanceUID,
                                                         SeriesInstanceUID=ds.SeriesInstanceUID,
                                                         PatientName="A*", InstanceNumber=""))] == [1, 2]


def test_index(archive, folder):
    assert len(archive) == 5
    assert archive.skipped == 1  # notes.txt
    assert sorted(r["SOPInstanceUID"] for r in archive.rows) == sorted(UIDS.values())
    rle = next(r for r in archive.rows if r["SOPInstanceUID"] == RLE)
    assert rle["TransferSyntaxUID"] == "1.2.840.10008.1.2.5"
    assert rle["path"] == path_of(folder, "rle")


def test_universal_matching_one_response_per_entity(archive):
    assert found(archive, query("PATIENT", PatientID=""), "PatientID") == ["P1", "P2", "P3"]
    assert found(archive, query("PATIENT", PatientID="*"), "PatientID") == ["P1", "P2", "P3"]
    assert sorted(found(archive, query("STUDY", StudyInstanceUID=""), "StudyInstanceUID")) == sorted(
        [CT_STUDY, MR_STUDY, PLAN_STUDY, RLE_STUDY])
    assert len(list(archive.find(query("SERIES", SeriesInstanceUID="")))) == 4
    assert sorted(found(archive, query("IMAGE", SOPInstanceUID=""), "SOPInstanceUID")) == sorted(UIDS.values())


def test_single_value_matching_is_exact_and_case_sensitive(archive):
    assert found(archive, query("PATIENT", PatientName="Doe^John", PatientID=""), "PatientID") == ["P1"]
    assert found(archive, query("PATIENT", PatientName="John Doe", PatientID=""), "PatientID") == ["P3"]
    assert found(archive, query("PATIENT", PatientName="doe^john"), "PatientName") == []
    assert found(archive, query("PATIENT", PatientName="Doe"), "PatientName") == []
    assert found(archive, query("STUDY", StudyDate="20050620", StudyInstanceUID=""), "StudyInstanceUID") == [MR_STUDY]
    assert found(archive, query("SERIES", Modality="CT", SeriesInstanceUID=""), "SeriesInstanceUID") == [CT_SERIES]
    assert found(archive, query("IMAGE", InstanceNumber="2", SOPInstanceUID=""), "SOPInstanceUID") == [CT_2]


def test_wildcard_matching(archive):
    def patients(name):
        return found(archive, query("PATIENT", PatientName=name, PatientID=""), "PatientID")

    assert patients("Doe*") == ["P1"]
    assert patients("*Doe") == ["P3"]
    assert patients("*o*") == ["P1", "P3"]
    assert patients("?oe^John") == ["P1"]
    assert patients("?oe^Joh") == []
    assert patients("S*^J?ne") == ["P2"]
    assert patients("doe*") == []  # case sensitive
    assert found(archive, query("PATIENT", PatientID="P?"), "PatientID") == ["P1", "P2", "P3"]


def test_range_matching_of_dates_and_times(archive):
    def studies(**keys):
        return sorted(found(archive, query("STUDY", StudyInstanceUID="", **keys), "StudyInstanceUID"))

    assert studies(StudyDate="20040101-20041231") == sorted([CT_STUDY, PLAN_STUDY])
    assert studies(StudyDate="-20041231") == sorted([CT_STUDY, PLAN_STUDY])
    assert studies(StudyDate="20050101-") == sorted([MR_STUDY, RLE_STUDY])
    assert studies(StudyDate="20040115-20040115") == [CT_STUDY]
    assert studies(StudyDate="20070101-") == []
    # StudyTime: CT 072730, plan 153557, MR and RLE 185059
    assert studies(StudyTime="0700-0800") == [CT_STUDY]
    assert studies(StudyTime="-1535") == sorted([CT_STUDY, PLAN_STUDY])
    assert studies(StudyTime="1536-") == sorted([MR_STUDY, RLE_STUDY])
    assert studies(StudyTime="072730") == [CT_STUDY]


def test_list_of_uid_matching(archive):
    identifier = query("STUDY", StudyInstanceUID=[CT_STUDY, RLE_STUDY, "1.2.3.999"])
    assert sorted(found(archive, identifier, "StudyInstanceUID")) == sorted([CT_STUDY, RLE_STUDY])
    identifier = query("IMAGE", SOPInstanceUID=f"{CT_1}\\{PLAN}")
    assert sorted(found(archive, identifier, "SOPInstanceUID")) == sorted([CT_1, PLAN])


def test_only_the_requested_keys_are_returned(archive):
    identifier = query("STUDY", PatientID="P1", StudyInstanceUID="", ModalitiesInStudy="",
                       NumberOfStudyRelatedInstances="", StudyDescription="", PatientComments="")
    identifier.SpecificCharacterSet = "ISO_IR 100"
    results = sorted(archive.find(identifier), key=lambda r: r.StudyInstanceUID)
    assert len(results) == 2
    for r in results:
        assert sorted(e.keyword for e in r) == sorted(
            ["SpecificCharacterSet", "QueryRetrieveLevel", "PatientID", "StudyInstanceUID", "ModalitiesInStudy",
             "NumberOfStudyRelatedInstances", "StudyDescription", "PatientComments"])
        assert r.QueryRetrieveLevel == "STUDY"
        assert r.SpecificCharacterSet == "ISO_IR 100"
        assert r.PatientComments in (None, "")  # not known to the archive: returned empty
    ct, mr = (results[0], results[1]) if results[0].StudyInstanceUID == CT_STUDY else (results[1], results[0])
    assert (ct.ModalitiesInStudy, ct.NumberOfStudyRelatedInstances) == ("CT", 2)
    assert (mr.ModalitiesInStudy, mr.NumberOfStudyRelatedInstances) == ("MR", 1)
    patient = list(archive.find(query("PATIENT", PatientID="P1", NumberOfPatientRelatedStudies="",
                                      NumberOfPatientRelatedInstances="")))
    assert [(p.NumberOfPatientRelatedStudies, p.NumberOfPatientRelatedInstances) for p in patient] == [(2, 3)]
    modalities = query("STUDY", ModalitiesInStudy="MR", StudyInstanceUID="")
    assert sorted(found(archive, modalities, "StudyInstanceUID")) == sorted([MR_STUDY, RLE_STUDY])


def test_lower_levels_and_unique_keys_above(archive):
    # IMAGE level under a series: the two CT instances, one response each
    identifier = query("IMAGE", StudyInstanceUID=CT_STUDY, SeriesInstanceUID=CT_SERIES, SOPInstanceUID="",
                       InstanceNumber="")
    assert sorted((r.SOPInstanceUID, r.InstanceNumber) for r in archive.find(identifier)) == sorted(
        [(CT_1, 1), (CT_2, 2)])
    assert found(archive, query("SERIES", PatientID="P2", SeriesInstanceUID="", Modality=""), "Modality") == ["RTPLAN"]


def test_failures(archive):
    for identifier, model in ((query(None, PatientName="John Doe"), None),
                              (query("FRAME", PatientID=""), None),
                              (query("PATIENT", PatientID=""), STUDY_FIND)):  # no PATIENT level in Study Root
        with pytest.raises(QueryError) as info:
            list(archive.find(identifier, model))
        assert info.value.status == 0xA900
    assert found(archive, query("STUDY", StudyInstanceUID=""), "StudyInstanceUID", STUDY_FIND) != []


def test_files(archive, folder):
    assert sorted(archive.files(query("PATIENT", PatientID="P1"))) == sorted(
        path_of(folder, n) for n in ("ct1", "mr", "ct2"))
    assert sorted(archive.files(query("STUDY", StudyInstanceUID=f"{CT_STUDY}\\{RLE_STUDY}"))) == sorted(
        path_of(folder, n) for n in ("ct1", "ct2", "rle"))
    assert archive.files(query("IMAGE", SOPInstanceUID=PLAN)) == [path_of(folder, "plan")]
    assert archive.files(query("PATIENT", PatientID="nobody")) == []


def test_not_recursive(folder):
    assert sorted(r["SOPInstanceUID"] for r in Archive(folder, recursive=False).rows) == sorted([CT_1, MR, PLAN])


class FakeEvent:
    """An event whose requestor cancels after `after` checks."""

    def __init__(self, identifier: Dataset, after: int, model: str = PATIENT_FIND) -> None:
        self.identifier = identifier
        self.request = type("Request", (), {"AffectedSOPClassUID": model, "MoveDestination": "DEST"})()
        self.checks, self.after = 0, after

    @property
    def is_cancelled(self) -> bool:
        self.checks += 1
        return self.checks > self.after


def test_handlers_honour_cancel(archive, folder):
    find = list(archive.handle_find(FakeEvent(query("IMAGE", SOPInstanceUID=""), after=2)))
    assert [status for status, _ in find] == [0xFF00, 0xFF00, 0xFE00]
    assert find[-1][1] is None
    get = list(archive.handle_get(FakeEvent(query("PATIENT", PatientID="P1"), after=1, model=PATIENT_GET)))
    assert get == [3, (0xFF00, path_of(folder, "ct1")), (0xFE00, None)]
    move = archive.handle_move({"DEST": ("127.0.0.1", 104)})
    items = list(move(FakeEvent(query("PATIENT", PatientID="P2"), after=5, model=PATIENT_MOVE)))
    assert items == [("127.0.0.1", 104), 1, (0xFF00, path_of(folder, "plan"))]
    items = list(move(FakeEvent(query(None, PatientID="P2"), after=5, model=PATIENT_MOVE)))
    assert items == [("127.0.0.1", 104), 0, (0xA900, None)]
    unknown = archive.handle_move({"OTHER": ("127.0.0.1", 104)})
    assert list(unknown(FakeEvent(query("PATIENT", PatientID="P2"), after=5, model=PATIENT_MOVE))) == [(None, None)]


# --- turbodicom qrscp ---------------------------------------------------------------------------------


class Collector:
    """A turbodicom storage SCP keeping what it receives: (SOP instance UID, syntax, bytes)."""

    def __init__(self, title: str = "DEST") -> None:
        self.received: list[tuple[str, str, bytes]] = []
        ae = AE(title)
        ae.add_supported_context("1.2.840.10008.1.1")
        for source, _name, _changes in FILES.values():
            ae.add_supported_context(_sop_class(source), ALL_TRANSFER_SYNTAXES)
        self.server = ae.start_server(("127.0.0.1", 0), block=False,
                                      evt_handlers=[(evt.EVT_C_STORE, self.store)])
        self.port = self.server.server_address[1]

    def store(self, event):
        self.received.append((str(event.request.AffectedSOPInstanceUID), str(event.context.transfer_syntax[0]),
                              event.encoded_dataset(include_meta=False)))
        return 0x0000

    def take(self) -> dict[str, bytes]:
        got = {uid: data for uid, _syntax, data in self.received}
        self.received.clear()
        return got


def _sop_class(source: str) -> str:
    return str(pydicom.dcmread(get_testdata_file(source), stop_before_pixels=True).SOPClassUID)


@pytest.fixture(scope="module")
def collector():
    peer = Collector()
    yield peer
    peer.server.shutdown()


DCMTK_DEST_PORT = free_port()
ORTHANC_DICOM_PORT = free_port()


@pytest.fixture(scope="module")
def qrscp(folder, collector):
    server = QRSCP("--dir", str(folder), "--aetitle", "QRSCP", "--move", f"DEST=127.0.0.1:{collector.port}",
                   "--move", f"DCMDEST=127.0.0.1:{DCMTK_DEST_PORT}",
                   "--move", f"ORTHANC=127.0.0.1:{ORTHANC_DICOM_PORT}")
    yield server
    code, _output, errors = server.stop()
    assert code == 0, errors
    assert server.lines[-1] == "stopped"


def test_qrscp_starts(qrscp, folder):
    assert qrscp.files == 5
    assert qrscp.title == "QRSCP"
    assert qrscp.first.startswith("listening on 0.0.0.0:")
    assert "(1 skipped)" in qrscp.first


def test_qrscp_bad_options(folder, tmp_path):
    done = subprocess.run([*COMMAND, "qrscp", "--dir", str(folder), "--port", "0", "--move", "DEST"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "'DEST' is not AE=HOST:PORT" in done.stderr
    done = subprocess.run([*COMMAND, "qrscp", "--dir", str(tmp_path / "absent"), "--port", "0"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "not a folder" in done.stderr


def _associate(port: int, *contexts: str, roles: bool = False, store=None, title: str = "TURBO_SCU"):
    ae = AE(title)
    for uid in contexts:
        ae.add_requested_context(uid)
    ext_neg = []
    if roles:
        for source, _name, _changes in FILES.values():
            ds = pydicom.dcmread(get_testdata_file(source), stop_before_pixels=True)
            ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
            ext_neg.append(build_role(ds.SOPClassUID, scp_role=True))
    handlers = [(evt.EVT_C_STORE, store)] if store else []
    assoc = ae.associate("127.0.0.1", port, ae_title="ANY", ext_neg=ext_neg or None, evt_handlers=handlers)
    assert assoc.is_established
    return assoc


def test_turbodicom_scu_finds_at_each_level(qrscp):
    assoc = _associate(qrscp.port, PATIENT_FIND, STUDY_FIND)
    try:
        def ask(identifier, model):
            results = list(assoc.send_c_find(identifier, model))
            assert [s.Status for s, _ in results[:-1]] == [0xFF00] * (len(results) - 1)
            assert results[-1][0].Status == 0x0000 and results[-1][1] is None
            return [i for _, i in results[:-1]]

        patients = ask(query("PATIENT", PatientID="", PatientName="", NumberOfPatientRelatedInstances=""), "P")
        assert [(p.PatientID, str(p.PatientName), p.NumberOfPatientRelatedInstances) for p in patients] == [
            ("P1", "Doe^John", 3), ("P2", "Smith^Jane", 1), ("P3", "John Doe", 1)]
        studies = ask(query("STUDY", StudyDate="20040101-20041231", StudyInstanceUID=""), "S")
        assert sorted(s.StudyInstanceUID for s in studies) == sorted([CT_STUDY, PLAN_STUDY])
        series = ask(query("SERIES", StudyInstanceUID=CT_STUDY, SeriesInstanceUID="", Modality="",
                           NumberOfSeriesRelatedInstances=""), STUDY_FIND)
        assert [(s.SeriesInstanceUID, s.Modality, s.NumberOfSeriesRelatedInstances) for s in series] == [
            (CT_SERIES, "CT", 2)]
        images = ask(query("IMAGE", PatientID="P1", StudyInstanceUID=CT_STUDY, SeriesInstanceUID=CT_SERIES,
                           SOPInstanceUID=""), PATIENT_FIND)
        assert sorted(i.SOPInstanceUID for i in images) == sorted([CT_1, CT_2])
        # Failures: no level, an unknown level, a level the model does not have
        for identifier, model in ((query(None, PatientName="John Doe"), "P"), (query("FRAME"), "P"),
                                  (query("PATIENT", PatientID=""), "S")):
            assert [(s.Status, i) for s, i in assoc.send_c_find(identifier, model)] == [(0xA900, None)]
    finally:
        assoc.release()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any("C-FIND FRAME" in line for line in qrscp.lines):
        time.sleep(0.05)
    assert any(re.fullmatch(r"TURBO_SCU@127\.0\.0\.1:\d+: C-FIND PATIENT: 3 matches", line) for line in qrscp.lines)
    assert any(re.search(r": C-FIND \(no level\): status 0xA900$", line) for line in qrscp.lines)
    assert any(re.search(r": C-FIND FRAME: status 0xA900$", line) for line in qrscp.lines)


def test_turbodicom_scu_gets_files_as_stored(qrscp, folder):
    received = {}

    def store(event):
        received[str(event.request.AffectedSOPInstanceUID)] = event.encoded_dataset(include_meta=False)
        return 0x0000

    assoc = _associate(qrscp.port, PATIENT_GET, STUDY_GET, roles=True, store=store)
    try:
        results = list(assoc.send_c_get(query("PATIENT", PatientID="P1"), "P"))
        assert results[-1][0].Status == 0x0000
        assert results[-1][0].NumberOfCompletedSuboperations == 3
        assert sorted(received) == sorted([CT_1, CT_2, MR])
        received.clear()
        results = list(assoc.send_c_get(query("STUDY", StudyInstanceUID=f"{PLAN_STUDY}\\{RLE_STUDY}"), "S"))
        assert results[-1][0].Status == 0x0000
        assert [s.NumberOfRemainingSuboperations for s, _ in results[:-1]] == [1, 0]
        missing = list(assoc.send_c_get(query(None, PatientName="John Doe"), "P"))
        assert missing[-1][0].Status == 0xA900
    finally:
        assoc.release()
    assert sorted(received) == sorted([PLAN, RLE])
    for name in ("plan", "rle"):
        assert received[UIDS[name]] == dataset_bytes(path_of(folder, name))


def test_turbodicom_scu_moves_to_turbodicom_and_to_dcmtk(qrscp, collector, folder, tmp_path):
    assoc = _associate(qrscp.port, PATIENT_MOVE, STUDY_MOVE)
    try:
        results = list(assoc.send_c_move(query("PATIENT", PatientID="P1"), "DEST", "P"))
        assert results[-1][0].Status == 0x0000
        assert results[-1][0].NumberOfCompletedSuboperations == 3
        got = collector.take()
        assert sorted(got) == sorted([CT_1, CT_2, MR])
        assert all(got[UIDS[n]] == dataset_bytes(path_of(folder, n)) for n in ("ct1", "ct2", "mr"))
        results = list(assoc.send_c_move(query("STUDY", StudyInstanceUID=RLE_STUDY), "DEST", "S"))
        assert results[-1][0].Status == 0x0000
        assert collector.take() == {RLE: dataset_bytes(path_of(folder, "rle"))}  # RLE Lossless, as stored
        unknown = list(assoc.send_c_move(query("PATIENT", PatientID="P1"), "NOWHERE", "P"))
        assert unknown[-1][0].Status == 0xA801
        storescp = dcmtk("storescp")
        with process([storescp, "+xa", "-aet", "DCMDEST", "-od", str(tmp_path), str(DCMTK_DEST_PORT)],
                     DCMTK_DEST_PORT):
            results = list(assoc.send_c_move(query("PATIENT", PatientID="P2"), "DCMDEST", "P"))
        assert results[-1][0].Status == 0x0000
        assert [pydicom.dcmread(p).SOPInstanceUID for p in tmp_path.iterdir()] == [PLAN]
    finally:
        assoc.release()


def test_pynetdicom_scu(qrscp, folder):
    pynetdicom = pytest.importorskip("pynetdicom")
    ae = pynetdicom.AE("PYNETDICOM")
    ae.add_requested_context(STUDY_FIND)
    ae.add_requested_context(STUDY_GET)
    ds = pydicom.dcmread(path_of(folder, "mr"), stop_before_pixels=True)
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    received = []

    def store(event):
        received.append(event.dataset.SOPInstanceUID)
        return 0x0000

    assoc = ae.associate("127.0.0.1", qrscp.port, ext_neg=[pynetdicom.build_role(ds.SOPClassUID, scp_role=True)],
                         evt_handlers=[(pynetdicom.evt.EVT_C_STORE, store)])
    assert assoc.is_established
    try:
        results = list(assoc.send_c_find(query("STUDY", PatientName="Doe*", StudyInstanceUID="", StudyDate=""),
                                         STUDY_FIND))
        got = list(assoc.send_c_get(query("STUDY", StudyInstanceUID=MR_STUDY), STUDY_GET))
    finally:
        assoc.release()
    assert [s.Status for s, _ in results] == [0xFF00, 0xFF00, 0x0000]
    assert sorted((i.StudyInstanceUID, i.StudyDate) for _, i in results[:-1]) == sorted(
        [(CT_STUDY, "20040115"), (MR_STUDY, "20050620")])
    assert got[-1][0].Status == 0x0000
    assert received == [MR]


def test_dcmtk_findscu_getscu_movescu(qrscp, collector, tmp_path):
    findscu, getscu, movescu = dcmtk("findscu"), dcmtk("getscu"), dcmtk("movescu")
    done = subprocess.run([findscu, "-v", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientID=P1",
                           "-k", "StudyInstanceUID", "-k", "NumberOfStudyRelatedInstances",
                           "127.0.0.1", str(qrscp.port)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert output.count("Find Response: ") == 2, output
    assert "Received Final Find Response (Success)" in output
    assert CT_STUDY in output and MR_STUDY in output
    counts = re.findall(r"IS \[(\d+) *\] .*NumberOfStudyRelatedInstances", output)
    assert sorted(counts) == ["1", "2"]
    done = subprocess.run([getscu, "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={CT_STUDY}",
                           "-od", str(tmp_path), "127.0.0.1", str(qrscp.port)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(pydicom.dcmread(p).SOPInstanceUID for p in tmp_path.iterdir()) == sorted([CT_1, CT_2])
    done = subprocess.run([movescu, "-P", "-aem", "DEST", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=P2",
                           "127.0.0.1", str(qrscp.port)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(collector.take()) == [PLAN]


def run_example(name: str, port: int, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "REMOTE_IP": "127.0.0.1", "REMOTE_PORT": str(port), **env})


FAILED = {"tutorial_find.py": "Failed to find patient: (0000,0900) Status",
          "tutorial_move.py": "Failed to retrieve image: (0000,0900) Status",
          "tutorial_get.py": "Failed to retrieve image: (0000,0900) Status"}


@pytest.mark.parametrize("name", sorted(FAILED))
def test_tutorial_examples_against_qrscp(qrscp, name):
    # The tutorial's query has no QueryRetrieveLevel: the one response is 0xA900 (43264).
    done = run_example(name, qrscp.port, MOVE_DESTINATION="DEST")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(FAILED[name]) and lines[0].endswith("US: 43264")
    assert not any(line.startswith(("Patient Found", "Received image")) for line in lines)
    assert sum(line.startswith("Failed") for line in lines) == 1


# --- Orthanc -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, qrscp, collector, folder):
    # Orthanc holds P1 and P2 (uploaded); P3 (the RLE image) only our qrscp has.
    modalities = {"turbo": {"AET": "DEST", "Host": "127.0.0.1", "Port": collector.port},
                  "scu": {"AET": "TURBO_SCU", "Host": "127.0.0.1", "Port": 1},
                  "qrscp": {"AET": "QRSCP", "Host": "127.0.0.1", "Port": qrscp.port}}
    peer = Orthanc(tmp_path_factory.mktemp("orthanc"), modalities, dicom_port=ORTHANC_DICOM_PORT)
    try:
        for name in ("ct1", "ct2", "mr", "plan"):
            peer.rest("POST", "/instances", Path(path_of(folder, name)).read_bytes())
        yield peer
    finally:
        peer.stop()


def test_turbodicom_scu_queries_and_retrieves_from_orthanc(orthanc, collector, folder):
    received = {}

    def store(event):
        received[str(event.request.AffectedSOPInstanceUID)] = event.encoded_dataset(include_meta=False)
        get_syntax[str(event.request.AffectedSOPInstanceUID)] = str(event.context.transfer_syntax[0])
        return 0x0000

    get_syntax = {}
    assoc = _associate(orthanc.dicom_port, STUDY_FIND, STUDY_MOVE, STUDY_GET, roles=True, store=store)
    try:
        results = list(assoc.send_c_find(query("STUDY", PatientID="P1", StudyInstanceUID="", StudyDate="",
                                               NumberOfStudyRelatedInstances=""), "S"))
        assert [s.Status for s, _ in results] == [0xFF00, 0xFF00, 0x0000]
        assert sorted((i.StudyInstanceUID, i.StudyDate, int(i.NumberOfStudyRelatedInstances))
                      for _, i in results[:-1]) == sorted([(CT_STUDY, "20040115", 2), (MR_STUDY, "20050620", 1)])
        moved = list(assoc.send_c_move(query("STUDY", StudyInstanceUID=CT_STUDY), "DEST", "S"))
        assert moved[-1][0].Status == 0x0000
        assert moved[-1][0].NumberOfCompletedSuboperations == 2
        syntaxes = {uid: syntax for uid, syntax, _data in collector.received}
        got = collector.take()
        assert sorted(got) == sorted([CT_1, CT_2])
        for name in ("ct1", "ct2"):  # Orthanc sends what DCMTK makes of the file: compare the values
            original = pydicom.dcmread(path_of(folder, name))
            sent = decode_dataset(got[UIDS[name]], syntaxes[UIDS[name]])
            assert sent.PixelData == original.PixelData
            assert (sent.PatientID, sent.StudyDate) == ("P1", "20040115")
        results = list(assoc.send_c_get(query("STUDY", StudyInstanceUID=MR_STUDY), "S"))
        assert results[-1][0].Status == 0x0000
        assert list(received) == [MR]
        original = pydicom.dcmread(path_of(folder, "mr"))
        assert decode_dataset(received[MR], get_syntax[MR]).PixelData == original.PixelData
    finally:
        assoc.release()


def test_orthanc_queries_and_retrieves_from_qrscp(orthanc, qrscp, folder):
    orthanc.rest("POST", "/modalities/qrscp/echo", {})
    answer = orthanc.rest("POST", "/modalities/qrscp/query",
                          {"Level": "Study", "Query": {"PatientID": "P*", "StudyDate": "20050101-"}})
    answers = orthanc.rest("GET", f"/queries/{answer['ID']}/answers?expand&simplify")
    assert sorted((a["PatientID"], a["StudyInstanceUID"], a["StudyDate"]) for a in answers) == sorted(
        [("P1", MR_STUDY, "20050620"), ("P3", RLE_STUDY, "20060101")])
    answer = orthanc.rest("POST", "/modalities/qrscp/query", {"Level": "Study", "Query": {"PatientID": "P3"}})
    before = set(orthanc.rest("GET", "/instances"))
    orthanc.rest("POST", f"/queries/{answer['ID']}/retrieve", {"TargetAet": "ORTHANC", "Synchronous": True})
    (new,) = set(orthanc.rest("GET", "/instances")) - before
    stored = orthanc.rest("GET", f"/instances/{new}/file")
    assert pydicom.dcmread(io.BytesIO(stored)).SOPInstanceUID == RLE
    assert dataset_bytes(stored) == dataset_bytes(path_of(folder, "rle"))


@pytest.mark.parametrize("name", sorted(FAILED))
def test_tutorial_examples_against_orthanc(orthanc, name):
    # With the examples' AE title (our default, TURBODICOM) known to Orthanc, the query without
    # QueryRetrieveLevel is refused with 0xC000 ("Bad request: C-FIND request without the tag
    # 0008,0052" in Orthanc's log), where pynetdicom's qrscp and ours answer 0xA900.
    orthanc.rest("PUT", "/modalities/tutorial", {"AET": "TURBODICOM", "Host": "127.0.0.1", "Port": 1})
    try:
        done = run_example(name, orthanc.dicom_port, MOVE_DESTINATION="DEST")
    finally:
        orthanc.rest("DELETE", "/modalities/tutorial")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(FAILED[name]) and lines[0].endswith("US: 49152")
    assert sum(line.startswith("Failed") for line in lines) == 1


def test_tutorial_find_against_orthanc_not_knowing_its_ae_title(orthanc):
    # An AE title Orthanc does not know: it accepts the association, then aborts it at the
    # C-FIND. As with pynetdicom, the response is then an empty Dataset, which has no Status:
    # the example fails on `status.Status`.
    done = run_example("tutorial_find.py", orthanc.dicom_port)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.rstrip().endswith("AttributeError: 'Dataset' object has no attribute 'Status'")
