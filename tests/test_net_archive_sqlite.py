"""The persistent archive: ``turbodicom qrscp --store DIR --db FILE --config FILE`` storing
what it receives (our SCU and DCMTK's storescu) and serving it back, ``turbodicom index``,
the recovery pass after a crash, duplicates, move destinations from a configuration file,
and queries answered while instances are being stored."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from net_peers import QRSCP, dataset_bytes, dcmtk, free_port
from turbodicom.net import AE, AllStoragePresentationContexts, build_role, evt
from turbodicom.net.archive import Archive, load_destinations
from turbodicom.net.contexts import ALL_TRANSFER_SYNTAXES

pytestmark = pytest.mark.timeout(120)

COMMAND = [sys.executable, "-m", "turbodicom.cli.main"]
PATIENT_FIND, PATIENT_MOVE, PATIENT_GET = (f"1.2.840.10008.5.1.4.1.2.1.{i}" for i in (1, 2, 3))
STUDY_FIND, STUDY_MOVE, STUDY_GET = (f"1.2.840.10008.5.1.4.1.2.2.{i}" for i in (1, 2, 3))
CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
CT_SERIES = "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322"
CT_1 = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
CT_2 = "1.2.826.0.1.3680043.8.498.1001"
MR = "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"
RLE_STUDY = "1.2.826.0.1.3680043.8.498.3000"
RLE = "1.2.826.0.1.3680043.8.498.3001"

# name: (source, changes)
FILES = {
    "ct1": ("CT_small.dcm", {"PatientID": "P1", "PatientName": "Doe^John", "StudyDate": "20040115"}),
    "ct2": ("CT_small.dcm", {"PatientID": "P1", "PatientName": "Doe^John", "StudyDate": "20040115",
                             "SOPInstanceUID": CT_2, "InstanceNumber": 2}),
    "mr": ("MR_small.dcm", {"PatientID": "P1", "PatientName": "Doe^John", "StudyDate": "20050620"}),
    "rle": ("MR_small_RLE.dcm", {"PatientID": "P3", "PatientName": "John Doe", "StudyDate": "20060101",
                                 "SOPInstanceUID": RLE, "StudyInstanceUID": RLE_STUDY,
                                 "SeriesInstanceUID": RLE_STUDY + ".1"}),
}


def make(source: str, changes: dict, path: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file(source))
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path)
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sources")
    return {name: make(source, changes, root / f"{name}.dcm") for name, (source, changes) in FILES.items()}


def query(level: str | None, **keys) -> Dataset:
    ds = Dataset()
    if level is not None:
        ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def stored_path(store: Path, ds_path: Path) -> Path:
    ds = pydicom.dcmread(ds_path, stop_before_pixels=True)
    return store / ds.StudyInstanceUID / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"


class Collector:
    """A storage SCP keeping the SOP Instance UIDs and data sets it receives."""

    def __init__(self, title: str = "DEST") -> None:
        self.received: dict[str, bytes] = {}
        ae = AE(title)
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self.server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, self.store)])
        self.port = self.server.server_address[1]

    def store(self, event):
        self.received[str(event.request.AffectedSOPInstanceUID)] = event.encoded_dataset(include_meta=False)
        return 0x0000


@pytest.fixture(scope="module")
def collector():
    peer = Collector()
    yield peer
    peer.server.shutdown()


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory, collector) -> Path:
    root = tmp_path_factory.mktemp("qr")
    (root / "destinations.toml").write_text(
        f'# where C-MOVE sends\n[destinations]\nDEST = "127.0.0.1:{collector.port}"\n'
        f'NOWHERE = "127.0.0.1:{free_port()}"\n')
    return root


@pytest.fixture(scope="module")
def qrscp(archive_dir):
    server = QRSCP("--store", str(archive_dir / "store"), "--db", str(archive_dir / "archive.sqlite"),
                   "--config", str(archive_dir / "destinations.toml"))
    yield server
    code, _output, errors = server.stop()
    assert code == 0, errors
    assert server.lines[-1] == "stopped"


def associate(port: int, *contexts: str, storage: bool = False, roles: bool = False, store=None):
    ae = AE("TURBO_SCU")
    for uid in contexts:
        ae.add_requested_context(uid)
    ext_neg = []
    if storage or roles:
        for source in sorted({source for source, _changes in FILES.values()}):
            ds = pydicom.dcmread(get_testdata_file(source), stop_before_pixels=True)
            ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
            if roles:
                ext_neg.append(build_role(ds.SOPClassUID, scp_role=True))
    handlers = [(evt.EVT_C_STORE, store)] if store else []
    assoc = ae.associate("127.0.0.1", port, ae_title="QRSCP", ext_neg=ext_neg or None, evt_handlers=handlers)
    assert assoc.is_established
    return assoc


def find(port: int, identifier: Dataset, key: str, model: str = PATIENT_FIND) -> list:
    assoc = associate(port, model)
    try:
        responses = list(assoc.send_c_find(identifier, model))
    finally:
        assoc.release()
    assert responses[-1][0].Status == 0x0000, responses[-1][0]
    return sorted(str(ds.get(key)) for status, ds in responses[:-1])


def store_all(port: int, paths) -> list[int]:
    assoc = associate(port, storage=True)
    try:
        return [assoc.send_c_store(str(path)).Status for path in paths]
    finally:
        assoc.release()


def rows_of(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute('SELECT "SOPInstanceUID", path FROM instances'))


# --- qrscp: store, then find, get and move ------------------------------------------------------------


def test_store_with_our_scu_then_find_get_move(qrscp, archive_dir, sources, collector):
    assert qrscp.files == 0
    store = archive_dir / "store"
    assert store_all(qrscp.port, [sources["ct1"], sources["ct2"], sources["mr"]]) == [0, 0, 0]
    for name in ("ct1", "ct2", "mr"):  # written where the layout says, as sent, and indexed
        path = stored_path(store, sources[name])
        assert dataset_bytes(path) == dataset_bytes(sources[name])
    assert sorted(rows_of(archive_dir / "archive.sqlite")) == sorted([CT_1, CT_2, MR])
    assert not list(store.glob("**/.*.part"))

    assert find(qrscp.port, query("PATIENT", PatientID="", PatientName="Doe*"), "PatientID") == ["P1"]
    assert find(qrscp.port, query("STUDY", StudyInstanceUID="", StudyDate="20040101-20041231"),
                "StudyInstanceUID", STUDY_FIND) == [CT_STUDY]
    assert find(qrscp.port, query("SERIES", StudyInstanceUID=CT_STUDY, SeriesInstanceUID="",
                                  NumberOfSeriesRelatedInstances=""), "NumberOfSeriesRelatedInstances",
                STUDY_FIND) == ["2"]
    assert find(qrscp.port, query("IMAGE", PatientID="P1", StudyInstanceUID=CT_STUDY, SeriesInstanceUID=CT_SERIES,
                                  SOPInstanceUID=""), "SOPInstanceUID") == sorted([CT_1, CT_2])

    received = {}

    def on_store(event):
        received[str(event.request.AffectedSOPInstanceUID)] = event.encoded_dataset(include_meta=False)
        return 0x0000

    assoc = associate(qrscp.port, PATIENT_GET, STUDY_GET, roles=True, store=on_store)
    try:
        results = list(assoc.send_c_get(query("PATIENT", PatientID="P1"), PATIENT_GET))
    finally:
        assoc.release()
    assert results[-1][0].Status == 0x0000
    assert sorted(received) == sorted([CT_1, CT_2, MR])
    assert received[MR] == dataset_bytes(sources["mr"])

    # C-MOVE destinations come from the configuration file; an unknown one is 0xA801
    collector.received.clear()
    assoc = associate(qrscp.port, STUDY_MOVE)
    try:
        results = list(assoc.send_c_move(query("STUDY", StudyInstanceUID=CT_STUDY), "DEST", STUDY_MOVE))
        assert results[-1][0].Status == 0x0000
        assert results[-1][0].NumberOfCompletedSuboperations == 2
        unknown = list(assoc.send_c_move(query("STUDY", StudyInstanceUID=CT_STUDY), "UNKNOWN", STUDY_MOVE))
        assert unknown[-1][0].Status == 0xA801
    finally:
        assoc.release()
    assert sorted(collector.received) == sorted([CT_1, CT_2])
    assert any(re.search(rf"C-STORE {re.escape(MR)}: stored$", line) for line in qrscp.lines)


def test_store_with_dcmtk_storescu(qrscp, archive_dir, sources):
    done = subprocess.run([dcmtk("storescu"), "-xr", "-aet", "DCMTK", "-aec", "QRSCP", "127.0.0.1", str(qrscp.port),
                           str(sources["ct2"]), str(sources["rle"])], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    stored = pydicom.dcmread(stored_path(archive_dir / "store", sources["rle"]))  # as DCMTK encoded it
    assert stored.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
    assert stored.PixelData == pydicom.dcmread(sources["rle"]).PixelData
    assert find(qrscp.port, query("PATIENT", PatientID="P3", PatientName=""), "PatientName") == ["John Doe"]
    assert find(qrscp.port, query("IMAGE", StudyInstanceUID=RLE_STUDY, SeriesInstanceUID=RLE_STUDY + ".1",
                                  SOPInstanceUID="", SOPClassUID=""), "SOPInstanceUID", STUDY_FIND) == [RLE]


def test_duplicate_uid_replaces_file_and_row(qrscp, archive_dir, sources, tmp_path):
    # the same instance again, now in another study: the old file goes, the new one is served
    changes = dict(FILES["ct1"][1], PatientName="Doe^Johnny", StudyInstanceUID="1.2.3.4.5")
    again = make("CT_small.dcm", changes, tmp_path / "again.dcm")
    old = stored_path(archive_dir / "store", sources["ct1"])
    assert old.exists()
    assert store_all(qrscp.port, [again]) == [0]
    assert not old.exists()
    new = stored_path(archive_dir / "store", again)
    assert rows_of(archive_dir / "archive.sqlite")[CT_1] == str(new)
    assert find(qrscp.port, query("IMAGE", PatientID="P1", StudyInstanceUID="1.2.3.4.5", SeriesInstanceUID=CT_SERIES,
                                  SOPInstanceUID="", PatientName=""), "PatientName") == ["Doe^Johnny"]
    assert find(qrscp.port, query("STUDY", StudyInstanceUID=CT_STUDY, NumberOfStudyRelatedInstances=""),
                "NumberOfStudyRelatedInstances", STUDY_FIND) == ["1"]


def test_concurrent_finds_while_storing(qrscp, tmp_path):
    bulk = [make("CT_small.dcm", {"PatientID": "BULK", "PatientName": "Bulk^Load",
                                  "SOPInstanceUID": f"1.2.826.0.1.3680043.8.498.5000.{i}", "InstanceNumber": i},
                 tmp_path / f"bulk{i}.dcm") for i in range(40)]
    statuses: list[int] = []
    storing = threading.Thread(target=lambda: statuses.extend(store_all(qrscp.port, bulk)))
    answers: list = []
    errors: list = []

    def finder():
        try:
            answers.append((find(qrscp.port, query("PATIENT", PatientID="P1", PatientName=""), "PatientName"),
                            len(find(qrscp.port, query("IMAGE", PatientID="BULK", StudyInstanceUID=CT_STUDY,
                                                       SeriesInstanceUID=CT_SERIES, SOPInstanceUID=""),
                                     "SOPInstanceUID"))))
        except Exception as exc:  # reported below, with the others
            errors.append(exc)

    storing.start()
    finders = [threading.Thread(target=finder) for _ in range(10)]
    for thread in finders:
        thread.start()
    for thread in finders + [storing]:
        thread.join(60)
    assert not errors, errors
    assert len(answers) == 10
    assert all(names == ["Doe^John"] and 0 <= count <= 40 for names, count in answers), answers
    assert statuses == [0] * 40
    assert len(find(qrscp.port, query("IMAGE", PatientID="BULK", StudyInstanceUID=CT_STUDY,
                                      SeriesInstanceUID=CT_SERIES, SOPInstanceUID=""), "SOPInstanceUID")) == 40


def test_qrscp_restart_serves_what_was_stored(archive_dir, qrscp):
    # a second process on a copy of the database and store answers the same
    count = len(rows_of(archive_dir / "archive.sqlite"))
    copy = archive_dir.parent / (archive_dir.name + "-copy")
    import shutil

    shutil.copytree(archive_dir / "store", copy / "store")
    server = QRSCP("--store", str(copy / "store"))  # --db: DIR/archive.sqlite, made by recovery
    try:
        assert server.files == count
        assert "recovered" in server.first
        assert find(server.port, query("PATIENT", PatientID="P3", PatientName=""), "PatientName") == ["John Doe"]
    finally:
        assert server.stop()[0] == 0


# --- turbodicom index -------------------------------------------------------------------------------


def test_index_command_then_query(sources, tmp_path):
    db = tmp_path / "index.sqlite"
    (sources["ct1"].parent / "notes.txt").write_text("not DICOM")
    done = subprocess.run([*COMMAND, "index", str(sources["ct1"].parent), "--db", str(db)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.match(r"indexed 4 files \(1 skipped\) from .* 4 instances in the index", done.stdout), done.stdout
    assert rows_of(db)[RLE] == str(sources["rle"].resolve())
    archive = Archive(db=db)
    try:
        assert len(archive) == 4
        assert [r.PatientID for r in archive.find(query("PATIENT", PatientID=""))] == ["P1", "P3"]
    finally:
        archive.close()
    server = QRSCP("--db", str(db))
    try:
        assert server.files == 4
        assert find(server.port, query("STUDY", PatientID="P1", StudyInstanceUID=""), "StudyInstanceUID") == sorted(
            {CT_STUDY, "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"})
    finally:
        assert server.stop()[0] == 0
    done = subprocess.run([*COMMAND, "index", str(tmp_path / "absent"), "--db", str(db)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not a folder" in done.stderr


# --- crash consistency -------------------------------------------------------------------------------


def test_recovery_makes_index_and_disk_agree(sources, tmp_path):
    store, db = tmp_path / "store", tmp_path / "store" / "archive.sqlite"
    archive = Archive(db=db, store=store)
    for name in ("ct1", "ct2", "mr"):
        copy = store / f".{name}.part"
        copy.write_bytes(sources[name].read_bytes())
        archive.add(copy)
    archive.close()
    assert sorted(rows_of(db)) == sorted([CT_1, CT_2, MR])
    # a crash: a temporary file left behind, a row whose file is gone, a file with no row
    (store / ".0123abc7.part").write_bytes(b"half a data set")
    os.unlink(stored_path(store, sources["ct2"]))
    orphan = stored_path(store, sources["rle"])
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(sources["rle"].read_bytes())
    archive = Archive(db=db, store=store)
    try:
        assert archive.recovered == {"temporary": 1, "missing": 1, "indexed": 1, "superseded": 0}
        on_disk = sorted(str(p) for p in store.glob("*/*/*.dcm"))
        assert sorted(r["path"] for r in archive.rows) == on_disk
        assert sorted(r["SOPInstanceUID"] for r in archive.rows) == sorted([CT_1, MR, RLE])
        assert not list(store.glob("**/.*.part"))
        assert [r.PatientID for r in archive.find(query("PATIENT", PatientID="P3"))] == ["P3"]
    finally:
        archive.close()
    # a replaced instance whose old file outlived the commit: the indexed file wins
    stale = store / "9.9" / "9.9" / f"{MR}.dcm"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(sources["mr"].read_bytes())
    archive = Archive(db=db, store=store)
    try:
        assert archive.recovered["superseded"] == 1 and not stale.exists()
        assert rows_of(db)[MR] == str(stored_path(store, sources["mr"]))
    finally:
        archive.close()


def test_failed_store_leaves_neither_file_nor_row(tmp_path):
    store = tmp_path / "store"
    archive = Archive(db=tmp_path / "a.sqlite", store=store)
    try:
        bad = store / ".bad.part"
        bad.write_bytes(b"not DICOM at all")
        with pytest.raises(ValueError):
            archive.add(bad)
        assert len(archive) == 0
    finally:
        archive.close()


# --- the configuration file ----------------------------------------------------------------------------


def test_destinations_file(tmp_path):
    toml = tmp_path / "d.toml"
    toml.write_text('[other]\nX = "1"\n[destinations]\nSTORESCP = "127.0.0.1:11113"  # ours\n'
                    "'PACS' = 'pacs.example:104'\n")
    assert load_destinations(toml) == {"STORESCP": ("127.0.0.1", 11113), "PACS": ("pacs.example", 104)}
    from turbodicom.net import archive as module

    assert module._destinations_table(toml.read_text())["destinations"] == {"STORESCP": "127.0.0.1:11113",
                                                                            "PACS": "pacs.example:104"}
    (tmp_path / "d.json").write_text('{"destinations": {"A": "h:1"}}')
    assert load_destinations(tmp_path / "d.json") == {"A": ("h", 1)}
    (tmp_path / "bad.toml").write_text('[destinations]\nA = "nohost"\n')
    with pytest.raises(ValueError):
        load_destinations(tmp_path / "bad.toml")
    done = subprocess.run([*COMMAND, "qrscp", "--port", "0", "--store", str(tmp_path / "s"), "--config",
                           str(tmp_path / "bad.toml")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "--config" in done.stderr
