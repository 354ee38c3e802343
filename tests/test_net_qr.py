"""Query/Retrieve between turbodicom, pynetdicom and DCMTK: C-FIND, C-GET (with the C-STORE
sub-operations on the same association) and C-MOVE (to a third AE), as SCU and as SCP."""

from __future__ import annotations

import os
import subprocess

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from net_peers import dataset_bytes, dcmtk, free_port
from turbodicom.net import AE, build_role, evt
from turbodicom.net.contexts import ALL_TRANSFER_SYNTAXES

pytestmark = pytest.mark.timeout(120)

FILES = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")]
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"


def _headers():
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in FILES]


def _matches(identifier: Dataset) -> list[int]:
    """Indexes of FILES whose PatientID matches the identifier's (empty or '*': all)."""
    wanted = str(identifier.get("PatientID", "") or "")
    return [i for i, ds in enumerate(_headers()) if wanted in ("", "*") or ds.PatientID == wanted]


def handle_find(event):
    for i in _matches(event.identifier):
        if event.is_cancelled:
            yield 0xFE00, None
            return
        ds = _headers()[i]
        match = Dataset()
        match.QueryRetrieveLevel = event.identifier.QueryRetrieveLevel
        match.PatientID = ds.PatientID
        match.PatientName = ds.PatientName
        match.SOPInstanceUID = ds.SOPInstanceUID
        yield 0xFF00, match


def handle_get(event):
    found = _matches(event.identifier)
    yield len(found)
    for i in found:
        yield 0xFF00, FILES[i]  # a path: the file's data set is sent as stored


def _move_handler(destinations):
    def handle_move(event):
        where = destinations.get(event.move_destination if hasattr(event, "move_destination")
                                 else event.request.MoveDestination)
        if where is None:
            yield None, None
            return
        yield where
        found = _matches(event.identifier)
        yield len(found)
        for i in found:
            yield 0xFF00, pydicom.dcmread(FILES[i])
    return handle_move


def _qr_scp(destinations=None):
    ae = AE("QR_SCP")
    for uid in (PATIENT_ROOT_FIND, STUDY_ROOT_FIND, PATIENT_ROOT_MOVE, PATIENT_ROOT_GET):
        ae.add_supported_context(uid)
    for ds in _headers():
        ae.add_supported_context(ds.SOPClassUID, ALL_TRANSFER_SYNTAXES, scu_role=True, scp_role=True)
    handlers = [(evt.EVT_C_FIND, handle_find), (evt.EVT_C_GET, handle_get),
                (evt.EVT_C_MOVE, _move_handler(destinations or {}))]
    return ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)


def _query(patient_id: str = "*") -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "PATIENT"
    ds.PatientID = patient_id
    ds.PatientName = ""
    return ds


def _store_collector():
    received = []

    def store(event):
        received.append(event.encoded_dataset(include_meta=False))
        syntaxes.append(str(event.context.transfer_syntax[0]))
        return 0x0000

    syntaxes = []
    store.syntaxes = syntaxes

    return received, store


# --- C-FIND ---------------------------------------------------------------------------------------


def test_find_turbodicom_to_turbodicom():
    server = _qr_scp()
    try:
        ae = AE()
        ae.add_requested_context(PATIENT_ROOT_FIND)
        assoc = ae.associate("127.0.0.1", server.server_address[1])
        assert assoc.is_established
        results = list(assoc.send_c_find(_query(), "P"))
        statuses = [s.Status for s, _ in results]
        assert statuses == [0xFF00] * len(FILES) + [0x0000]
        assert [i.PatientID for _, i in results[:-1]] == [ds.PatientID for ds in _headers()]
        assert results[-1][1] is None
        one = list(assoc.send_c_find(_query(_headers()[0].PatientID), PATIENT_ROOT_FIND, msg_id=2))
        assert [s.Status for s, _ in one] == [0xFF00, 0x0000]
        assoc.release()
    finally:
        server.shutdown()


def test_find_pynetdicom_scu_to_turbodicom():
    pynetdicom = pytest.importorskip("pynetdicom")
    server = _qr_scp()
    try:
        ae = pynetdicom.AE()
        ae.add_requested_context(PATIENT_ROOT_FIND)
        assoc = ae.associate("127.0.0.1", server.server_address[1])
        assert assoc.is_established
        from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelFind

        results = list(assoc.send_c_find(_query(), PatientRootQueryRetrieveInformationModelFind))
        assoc.release()
    finally:
        server.shutdown()
    assert [s.Status for s, _ in results] == [0xFF00] * len(FILES) + [0x0000]
    assert sorted(str(i.SOPInstanceUID) for _, i in results[:-1]) == sorted(ds.SOPInstanceUID for ds in _headers())


def test_find_turbodicom_scu_to_pynetdicom():
    pynetdicom = pytest.importorskip("pynetdicom")
    ae = pynetdicom.AE("PYNETDICOM")
    ae.add_supported_context(PATIENT_ROOT_FIND)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(pynetdicom.evt.EVT_C_FIND, handle_find)])
    try:
        scu = AE()
        scu.add_requested_context(PATIENT_ROOT_FIND)
        assoc = scu.associate("127.0.0.1", port)
        results = list(assoc.send_c_find(_query(), "PatientRootQueryRetrieveInformationModelFind"))
        assoc.release()
    finally:
        server.shutdown()
    assert [s.Status for s, _ in results] == [0xFF00] * len(FILES) + [0x0000]


def test_dcmtk_findscu_to_turbodicom(tmp_path):
    findscu = dcmtk("findscu")
    server = _qr_scp()
    try:
        done = subprocess.run([findscu, "-P", "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=*",
                               "-k", "PatientName", "127.0.0.1", str(server.server_address[1])],
                              capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    for ds in _headers():
        assert ds.PatientID in output


def test_find_cancel():
    server = _qr_scp()
    try:
        ae = AE()
        ae.add_requested_context(PATIENT_ROOT_FIND)
        assoc = ae.associate("127.0.0.1", server.server_address[1])
        results = []
        for status, identifier in assoc.send_c_find(_query(), "P", msg_id=7):
            results.append(status.Status)
            if len(results) == 1:
                assoc.send_c_cancel(7, query_model="P")
        assert results[0] == 0xFF00
        assert results[-1] in (0xFE00, 0x0000)  # cancelled, or already finished
        assoc.release()
        assert assoc.is_released
    finally:
        server.shutdown()


# --- C-GET ---------------------------------------------------------------------------------------


def _get_requestor(store) -> tuple[AE, list]:
    ae = AE("GET_SCU")
    ae.add_requested_context(PATIENT_ROOT_GET)
    roles = []
    for ds in _headers():
        ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        roles.append(build_role(ds.SOPClassUID, scp_role=True))
    return ae, roles


def _get_everything(store) -> list:
    """The responses to a C-GET of every instance of a _qr_scp server, whose sub-operations
    go to the EVT_C_STORE handler `store`."""
    server = _qr_scp()
    try:
        ae, roles = _get_requestor(store)
        assoc = ae.associate("127.0.0.1", server.server_address[1], ext_neg=roles,
                             evt_handlers=[(evt.EVT_C_STORE, store)])
        assert assoc.is_established
        results = list(assoc.send_c_get(_query(), "P"))
        assoc.release()
    finally:
        server.shutdown()
    return results


def test_get_turbodicom_to_turbodicom():
    received, store = _store_collector()
    results = _get_everything(store)
    final = results[-1][0]
    assert final.Status == 0x0000
    assert final.NumberOfCompletedSuboperations == len(FILES)
    assert final.NumberOfFailedSuboperations == 0
    assert [s.NumberOfRemainingSuboperations for s, _ in results[:-1]] == list(range(len(FILES) - 1, -1, -1))
    assert sorted(received) == sorted(dataset_bytes(f) for f in FILES)


def test_get_pynetdicom_scu_to_turbodicom():
    pynetdicom = pytest.importorskip("pynetdicom")
    received, store = _store_collector()
    server = _qr_scp()
    try:
        ae = pynetdicom.AE()
        ae.add_requested_context(PATIENT_ROOT_GET)
        roles = []
        for ds in _headers():
            ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
            roles.append(pynetdicom.build_role(ds.SOPClassUID, scp_role=True))
        assoc = ae.associate("127.0.0.1", server.server_address[1], ext_neg=roles,
                             evt_handlers=[(pynetdicom.evt.EVT_C_STORE, store)])
        assert assoc.is_established
        from pynetdicom.sop_class import PatientRootQueryRetrieveInformationModelGet

        results = list(assoc.send_c_get(_query(), PatientRootQueryRetrieveInformationModelGet))
        assoc.release()
    finally:
        server.shutdown()
    assert results[-1][0].Status == 0x0000
    assert sorted(received) == sorted(dataset_bytes(f) for f in FILES)


def test_get_turbodicom_scu_to_pynetdicom():
    pynetdicom = pytest.importorskip("pynetdicom")
    received, store = _store_collector()
    scp = pynetdicom.AE("PYNETDICOM")
    scp.add_supported_context(PATIENT_ROOT_GET)
    for ds in _headers():
        scp.add_supported_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID, scu_role=True, scp_role=True)

    def get(event):
        found = _matches(event.identifier)
        yield len(found)
        for i in found:
            yield 0xFF00, pydicom.dcmread(FILES[i])

    port = free_port()
    server = scp.start_server(("127.0.0.1", port), block=False, evt_handlers=[(pynetdicom.evt.EVT_C_GET, get)])
    try:
        ae, roles = _get_requestor(store)
        assoc = ae.associate("127.0.0.1", port, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, store)])
        assert assoc.is_established
        results = list(assoc.send_c_get(_query(), "P"))
        assoc.release()
    finally:
        server.shutdown()
    assert results[-1][0].Status == 0x0000
    assert len(received) == len(FILES)


# --- C-MOVE -----------------------------------------------------------------------------------------


def _storage_scp(received, store):
    ae = AE("DEST")
    for ds in _headers():
        ae.add_supported_context(ds.SOPClassUID, ALL_TRANSFER_SYNTAXES)
    return ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, store)])


def test_move_turbodicom_to_turbodicom():
    received, store = _store_collector()
    destination = _storage_scp(received, store)
    server = _qr_scp({"DEST": ("127.0.0.1", destination.server_address[1])})
    try:
        ae = AE("MOVE_SCU")
        ae.add_requested_context(PATIENT_ROOT_MOVE)
        assoc = ae.associate("127.0.0.1", server.server_address[1])
        results = list(assoc.send_c_move(_query(), "DEST", "P"))
        unknown = list(assoc.send_c_move(_query(), "NOWHERE", "P", msg_id=2))
        assoc.release()
    finally:
        server.shutdown()
        destination.shutdown()
    assert results[-1][0].Status == 0x0000
    assert results[-1][0].NumberOfCompletedSuboperations == len(FILES)
    assert unknown[-1][0].Status == 0xA801
    from turbodicom.net.dimse import decode_dataset

    got = sorted(str(decode_dataset(r, ts).SOPInstanceUID) for r, ts in zip(received, store.syntaxes))
    assert got == sorted(ds.SOPInstanceUID for ds in _headers())


def test_dcmtk_movescu_to_turbodicom_into_dcmtk_storescp(tmp_path):
    movescu, storescp = dcmtk("movescu"), dcmtk("storescp")
    from net_peers import process

    store_port = free_port()
    with process([storescp, "-aet", "DEST", "-od", str(tmp_path), str(store_port)], store_port):
        server = _qr_scp({"DEST": ("127.0.0.1", store_port)})
        try:
            done = subprocess.run([movescu, "-P", "-aem", "DEST", "-k", "QueryRetrieveLevel=PATIENT",
                                   "-k", "PatientID=*", "127.0.0.1", str(server.server_address[1])],
                                  capture_output=True, text=True, timeout=60)
        finally:
            server.shutdown()
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(pydicom.dcmread(p).SOPInstanceUID for p in tmp_path.iterdir())
    assert written == sorted(ds.SOPInstanceUID for ds in _headers())


def test_queries_with_data_sets_streamed_to_files(tmp_path, monkeypatch):
    """With STORE_RECV_CHUNKED_DATASET on, a query's identifier is streamed to a file too and
    must still reach the handler."""
    from turbodicom.net import config

    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET", True)
    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET_DIR", str(tmp_path))
    server = _qr_scp()
    try:
        ae = AE()
        ae.add_requested_context(PATIENT_ROOT_FIND)
        assoc = ae.associate("127.0.0.1", server.server_address[1])
        results = list(assoc.send_c_find(_query(_headers()[1].PatientID), "P"))
        assoc.release()
    finally:
        server.shutdown()
    assert [s.Status for s, _ in results] == [0xFF00, 0x0000]
    assert results[0][1].PatientID == _headers()[1].PatientID
    assert list(tmp_path.iterdir()) == []


def test_get_with_data_sets_streamed_to_files(tmp_path, monkeypatch):
    """With STORE_RECV_CHUNKED_DATASET on, a C-GET's sub-operations reach the handler as DICOM
    files (``event.dataset_path``; removed unless the handler moves them), and a C-GET
    response's identifier (the failed instances) still arrives as a Dataset."""
    from turbodicom.net import config

    streamed, kept = tmp_path / "streamed", tmp_path / "kept"
    streamed.mkdir()
    kept.mkdir()
    refused_class = _headers()[2].SOPClassUID  # RT Plan
    seen, refused = [], []

    def store(event):
        path = event.dataset_path
        seen.append(path)
        uid = event.request.AffectedSOPInstanceUID
        if event.request.AffectedSOPClassUID == refused_class:
            refused.append(uid)
            return 0xA700
        assert pydicom.dcmread(path).file_meta.MediaStorageSOPInstanceUID == uid
        if uid == _headers()[0].SOPInstanceUID:
            os.replace(path, kept / f"{uid}.dcm")
        return 0x0000

    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET", True)
    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET_DIR", str(streamed))
    results = _get_everything(store)
    assert len(seen) == len(FILES) and all(p.startswith(str(streamed)) for p in seen)
    final, identifier = results[-1]
    assert final.Status == 0xB000
    assert final.NumberOfCompletedSuboperations == 2 and final.NumberOfFailedSuboperations == 1
    assert len(refused) == 1 and identifier.FailedSOPInstanceUIDList == refused[0]
    assert list(streamed.iterdir()) == []
    [moved] = kept.iterdir()
    assert dataset_bytes(moved) == dataset_bytes(FILES[0])


def test_get_with_a_maximum_pdu_above_the_ae_default():
    """associate(max_pdu=...) announces what this side accepts, and the connection accepts
    exactly that, whatever the AE's own maximum_pdu_size (16382 by default)."""
    received, store = _store_collector()
    server = _qr_scp()
    try:
        ae, roles = _get_requestor(store)
        assert ae.maximum_pdu_size == 16382
        assoc = ae.associate("127.0.0.1", server.server_address[1], ext_neg=roles, max_pdu=131072,
                             evt_handlers=[(evt.EVT_C_STORE, store)])
        assert assoc.is_established
        results = list(assoc.send_c_get(_query(), "P"))
        assoc.release()
    finally:
        server.shutdown()
    assert results[-1][0].Status == 0x0000
    assert sorted(received) == sorted(dataset_bytes(f) for f in FILES)  # CT_small's 39 kB in one PDU
