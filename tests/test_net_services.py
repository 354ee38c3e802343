"""C-ECHO and C-STORE between turbodicom and real peers: pynetdicom, DCMTK and turbodicom
itself, as SCU and as SCP. Every stored instance must arrive equal to what was sent."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import ImplicitVRLittleEndian

from net_peers import dataset_bytes, dcmtk, free_port, process
from turbodicom.net import AE, evt
from turbodicom.net.contexts import ALL_TRANSFER_SYNTAXES

CT = get_testdata_file("CT_small.dcm")             # Explicit VR Little Endian
MR = get_testdata_file("MR_small.dcm")             # Explicit VR Little Endian
RLE = get_testdata_file("MR_small_RLE.dcm")        # RLE Lossless
JPEG = get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")  # JPEG Baseline
FILES = [CT, MR, RLE, JPEG]

pytestmark = pytest.mark.timeout(120)


def _sop_classes(files):
    return sorted({pydicom.dcmread(f, stop_before_pixels=True).SOPClassUID for f in files})


class Collected:
    """A C-STORE handler that keeps what arrived: (SOP Instance UID, transfer syntax, bytes)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.items.append((event.request.AffectedSOPInstanceUID, str(event.context.transfer_syntax[0]),
                               event.encoded_dataset(include_meta=False)))
        return 0x0000


@pytest.fixture
def turbodicom_scp():
    """A turbodicom storage SCP on a free port, accepting every transfer syntax."""
    ae = AE("TURBO_SCP")
    ae.maximum_associations = 32
    ae.add_supported_context("1.2.840.10008.1.1")
    for uid in _sop_classes(FILES):
        ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
    collected = Collected()
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, collected)])
    yield server.server_address[1], collected
    server.shutdown()


def _requestor() -> AE:
    ae = AE("TURBO_SCU")
    ae.add_requested_context("1.2.840.10008.1.1")
    for f in FILES:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        ae.add_requested_context(ds.SOPClassUID, [ds.file_meta.TransferSyntaxUID])
    return ae


# --- turbodicom to turbodicom ---------------------------------------------------------------


def test_echo_and_store_turbodicom_to_turbodicom(turbodicom_scp):
    port, collected = turbodicom_scp
    assoc = _requestor().associate("127.0.0.1", port, ae_title="TURBO_SCP")
    assert assoc.is_established
    status = assoc.send_c_echo()
    assert status.Status == 0x0000
    for f in FILES:
        assert assoc.send_c_store(f).Status == 0x0000
    assoc.release()
    assert assoc.is_released
    assert len(collected.items) == len(FILES)
    for f, (uid, syntax, data) in zip(FILES, collected.items):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert uid == ds.SOPInstanceUID
        assert syntax == ds.file_meta.TransferSyntaxUID  # compressed data passes through
        assert data == dataset_bytes(f)


def test_store_a_dataset_converts_to_the_accepted_syntax(turbodicom_scp):
    port, collected = turbodicom_scp
    ae = AE()
    ds = pydicom.dcmread(CT)
    ae.add_requested_context(ds.SOPClassUID, ImplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port)
    assert assoc.is_established
    assert assoc.send_c_store(ds).Status == 0x0000
    assoc.release()
    (uid, syntax, data), = collected.items
    assert syntax == ImplicitVRLittleEndian
    from turbodicom.net.dimse import decode_dataset

    received = decode_dataset(data, syntax)
    assert received.SOPInstanceUID == ds.SOPInstanceUID
    assert received.PixelData == ds.PixelData


def test_store_without_an_accepted_context_raises(turbodicom_scp):
    port, _ = turbodicom_scp
    ae = AE()
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate("127.0.0.1", port)
    with pytest.raises(ValueError):
        assoc.send_c_store(CT)
    assoc.release()


# --- pynetdicom ------------------------------------------------------------------------------


def test_turbodicom_scu_to_pynetdicom_scp(tmp_path):
    pynetdicom = pytest.importorskip("pynetdicom")
    received = []

    def handle(event):
        received.append((event.request.AffectedSOPInstanceUID, event.encoded_dataset(include_meta=False)))
        return 0x0000

    scp = pynetdicom.AE("PYNETDICOM")
    scp.add_supported_context("1.2.840.10008.1.1")
    for uid in _sop_classes(FILES):
        scp.add_supported_context(uid, pynetdicom.ALL_TRANSFER_SYNTAXES)
    port = free_port()
    server = scp.start_server(("127.0.0.1", port), block=False, evt_handlers=[(pynetdicom.evt.EVT_C_STORE, handle)])
    try:
        assoc = _requestor().associate("127.0.0.1", port, ae_title="PYNETDICOM")
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0x0000
        for f in FILES:
            assert assoc.send_c_store(f).Status == 0x0000
        assoc.release()
        assert assoc.is_released
    finally:
        server.shutdown()
    assert [uid for uid, _ in received] == [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in FILES]
    for f, (_uid, data) in zip(FILES, received):
        assert data == dataset_bytes(f)


def test_pynetdicom_scu_to_turbodicom_scp(turbodicom_scp):
    pynetdicom = pytest.importorskip("pynetdicom")
    port, collected = turbodicom_scp
    ae = pynetdicom.AE("PYNETDICOM")
    ae.add_requested_context("1.2.840.10008.1.1")
    for f in FILES:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="TURBO_SCP")
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0x0000
    for f in FILES:
        assert assoc.send_c_store(pydicom.dcmread(f)).Status == 0x0000
    assoc.release()
    assert len(collected.items) == len(FILES)
    for f, (uid, syntax, data) in zip(FILES, collected.items):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert (uid, syntax) == (ds.SOPInstanceUID, ds.file_meta.TransferSyntaxUID)
        # pynetdicom re-encodes the data set: compare what it decodes to.
        from turbodicom.net.dimse import decode_dataset

        _assert_same_public_values(decode_dataset(data, syntax), pydicom.dcmread(f))


# --- DCMTK -------------------------------------------------------------------------------------


def test_turbodicom_scu_to_dcmtk_storescp(tmp_path):
    storescp = dcmtk("storescp")
    port = free_port()
    out = tmp_path / "received"
    out.mkdir()
    # +uf: unique file names (two of the files share a SOP Instance UID); +B: the data sets
    # written as they arrived, so that they can be compared byte for byte.
    with process([storescp, "+xa", "+uf", "+B", "-aet", "DCMTK", "-od", str(out), str(port)], port):
        assoc = _requestor().associate("127.0.0.1", port, ae_title="DCMTK")
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0x0000
        for f in FILES:
            assert assoc.send_c_store(f).Status == 0x0000
        assoc.release()
        assert assoc.is_released
    written = sorted(out.iterdir())
    assert len(written) == len(FILES)
    assert sorted(dataset_bytes(p) for p in written) == sorted(dataset_bytes(f) for f in FILES)


def test_dcmtk_echoscu_and_storescu_to_turbodicom(turbodicom_scp):
    import subprocess

    port, collected = turbodicom_scp
    echoscu, storescu = dcmtk("echoscu"), dcmtk("storescu")
    done = subprocess.run([echoscu, "-aec", "TURBO_SCP", "127.0.0.1", str(port)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # +r: no re-encoding; -xs/-xe offer what the files hold.
    done = subprocess.run([storescu, "-aec", "TURBO_SCP", "127.0.0.1", str(port), CT, MR], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [uid for uid, _, _ in collected.items] == [
        pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in (CT, MR)]
    from turbodicom.net.dimse import decode_dataset

    for f, (_uid, syntax, data) in zip((CT, MR), collected.items):
        _assert_same_public_values(decode_dataset(data, syntax), pydicom.dcmread(f))


def _assert_same_public_values(received, original):
    """The same public elements with the same values (a peer may re-encode the data set in
    another transfer syntax, where private elements become UN)."""
    def public_tags(ds):  # Data Set Trailing Padding may be dropped on the way
        return [e.tag for e in ds if not e.tag.is_private and e.tag != 0xFFFCFFFC]

    public = public_tags(original)
    assert public_tags(received) == public
    for tag in public:
        assert received[tag].value == original[tag].value, tag


# --- negotiation ---------------------------------------------------------------------------------


def test_rejections():
    ae = AE("STRICT")
    ae.add_supported_context("1.2.840.10008.1.1")
    ae.require_called_aet = True
    ae.require_calling_aet = ["FRIEND"]
    server = ae.start_server(("127.0.0.1", 0), block=False)
    port = server.server_address[1]
    try:
        scu = AE("STRANGER")
        scu.add_requested_context("1.2.840.10008.1.1")
        assoc = scu.associate("127.0.0.1", port, ae_title="STRICT")
        assert assoc.is_rejected and (assoc.rejection.source, assoc.rejection.reason) == (1, 3)
        assoc = scu.associate("127.0.0.1", port, ae_title="WRONG")
        assert assoc.is_rejected and (assoc.rejection.source, assoc.rejection.reason) == (1, 7)
        friend = AE("FRIEND")
        friend.add_requested_context("1.2.840.10008.1.1")
        friend.add_requested_context("1.2.840.10008.5.1.4.1.1.2")  # CT storage: not supported
        assoc = friend.associate("127.0.0.1", port, ae_title="STRICT")
        assert assoc.is_established
        assert [c.abstract_syntax for c in assoc.rejected_contexts] == ["1.2.840.10008.5.1.4.1.1.2"]
        assert assoc.rejected_contexts[0].result == 3
        assert assoc.send_c_echo().Status == 0x0000
        assoc.release()
    finally:
        server.shutdown()


def test_concurrent_associations(turbodicom_scp):
    port, collected = turbodicom_scp
    results = []

    def one():
        assoc = _requestor().associate("127.0.0.1", port)
        ok = assoc.is_established and assoc.send_c_store(CT).Status == 0 and assoc.send_c_echo().Status == 0
        assoc.release()
        results.append(ok)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 20
    assert len(collected.items) == 20


def test_association_limit():
    ae = AE("BUSY")
    ae.maximum_associations = 1
    ae.add_supported_context("1.2.840.10008.1.1")
    server = ae.start_server(("127.0.0.1", 0), block=False)
    port = server.server_address[1]
    try:
        scu = AE()
        scu.add_requested_context("1.2.840.10008.1.1")
        first = scu.associate("127.0.0.1", port)
        assert first.is_established
        second = scu.associate("127.0.0.1", port)
        assert second.is_rejected
        assert (second.rejection.result, second.rejection.source, second.rejection.reason) == (2, 3, 2)
        first.release()
        import time

        deadline = time.monotonic() + 5
        while server.active_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        third = scu.associate("127.0.0.1", port)  # the server keeps serving
        assert third.is_established
        third.release()
    finally:
        server.shutdown()


def test_data_sets_streamed_to_files(tmp_path, monkeypatch):
    """With STORE_RECV_CHUNKED_DATASET the SCP writes each data set to a DICOM file as it
    arrives; the handler finds it at event.dataset_path, and the file is gone after the handler."""
    from turbodicom.net import config

    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET", True)
    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET_DIR", str(tmp_path))
    seen = []

    def store(event):
        path = event.dataset_path
        assert path is not None and os.path.dirname(path) == str(tmp_path)
        meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
        seen.append((path, dataset_bytes(path), event.encoded_dataset(include_meta=False), event.dataset.SOPInstanceUID,
                     meta, event.encoded_dataset() == open(path, "rb").read()))
        return 0x0000

    ae = AE("STREAM")
    for f in FILES:
        ae.add_supported_context(pydicom.dcmread(f, stop_before_pixels=True).SOPClassUID, ALL_TRANSFER_SYNTAXES)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, store)])
    try:
        assoc = _requestor().associate("127.0.0.1", server.server_address[1])
        for f in FILES:
            assert assoc.send_c_store(f).Status == 0
        assoc.release()
    finally:
        server.shutdown()
    assert len(seen) == len(FILES)
    for f, (path, on_disk, encoded, uid, meta, whole_file) in zip(FILES, seen):
        # The file is a DICOM file: File Meta Information, then the data set as it arrived.
        assert on_disk == encoded == dataset_bytes(f)
        original = pydicom.dcmread(f, stop_before_pixels=True)
        assert uid == original.SOPInstanceUID
        assert meta.MediaStorageSOPInstanceUID == original.SOPInstanceUID
        assert meta.MediaStorageSOPClassUID == original.SOPClassUID
        assert meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        assert meta.SourceApplicationEntityTitle == "TURBO_SCU"  # the calling AE title
        assert whole_file
        assert not os.path.exists(path)
    assert list(tmp_path.iterdir()) == []


# --- C-STORE of a file in one call -----------------------------------------------------------


def test_store_file_fast_path_feeds_the_same_events(turbodicom_scp, monkeypatch):
    """A file stored as it is (the C++ path) feeds the state machine P-DATA request then
    P-DATA received, as the Python path does, and returns a pydicom status Dataset."""
    from pydicom.dataset import Dataset

    from turbodicom.net import association

    port, collected = turbodicom_scp
    assoc = _requestor().associate("127.0.0.1", port)
    assert assoc.is_established
    events = []
    original = association.Association._event

    def record(self, event, condition=True):
        if self is assoc:  # not the SCP's association in this process
            events.append(event)
        return original(self, event, condition)

    monkeypatch.setattr(association.Association, "_event", record)
    status = assoc.send_c_store(Path(CT), msg_id=7)
    assert isinstance(status, Dataset) and status.Status == 0x0000 and list(status.keys()) == [0x00000900]
    assert events == [association.EVT_P_DATA_REQUEST, association.EVT_P_DATA_RECEIVED]
    assert assoc._state == 6
    assoc.release()
    (uid, _syntax, data), = collected.items
    assert uid == pydicom.dcmread(CT, stop_before_pixels=True).SOPInstanceUID
    assert data == dataset_bytes(CT)


def test_store_file_fast_path_falls_back(turbodicom_scp, tmp_path):
    """Files the C++ path does not take (no File Meta, a transfer syntax that was not
    accepted) go the Python way: nothing is sent twice."""
    port, collected = turbodicom_scp
    ds = pydicom.dcmread(CT)
    bare = tmp_path / "bare.dcm"
    from turbodicom.net.dimse import encode_dataset

    bare.write_bytes(encode_dataset(ds, ImplicitVRLittleEndian))  # no preamble, no File Meta
    ae = AE()
    ae.add_requested_context(ds.SOPClassUID, ImplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port)
    assert assoc.is_established
    assert assoc.send_c_store(str(bare)).Status == 0x0000
    assert assoc.send_c_store(CT).Status == 0x0000  # Explicit VR file on an Implicit VR context
    assoc.release()
    assert [syntax for _uid, syntax, _data in collected.items] == [ImplicitVRLittleEndian] * 2
    assert all(uid == ds.SOPInstanceUID for uid, _syntax, _data in collected.items)


def test_store_file_fast_path_error_status(tmp_path):
    """A failure status with an Error Comment comes back with its elements; a missing file
    raises as before."""
    def refuse(event):
        from pydicom.dataset import Dataset

        status = Dataset()
        status.Status = 0xA700
        status.ErrorComment = "disk full"
        return status

    ae = AE("SCP")
    ae.add_supported_context(pydicom.dcmread(CT, stop_before_pixels=True).SOPClassUID, ALL_TRANSFER_SYNTAXES)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, refuse)])
    try:
        assoc = _requestor().associate("127.0.0.1", server.server_address[1])
        status = assoc.send_c_store(CT)
        assert status.Status == 0xA700 and status.ErrorComment == "disk full"
        with pytest.raises(FileNotFoundError):
            assoc.send_c_store(tmp_path / "missing.dcm")
        assert assoc.is_established
        assoc.release()
    finally:
        server.shutdown()


def test_store_file_fast_path_response_timeout():
    """No response within the DIMSE timeout: the association is aborted, the status empty."""
    import socket

    from turbodicom import _core

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    done = threading.Event()

    def silent_scp():
        conn, _ = listener.accept()
        connection = _core.Connection.adopt(conn.detach(), {})
        kind, body = connection.receive(5.0)
        request = _core.pdu_decode_associate_rq(body)
        contexts = [(cid, 0, syntaxes[0]) for cid, _abstract, syntaxes in request["contexts"]]
        connection.send(_core.pdu_encode_associate_ac({
            "called_ae": request["called_ae"], "calling_ae": request["calling_ae"], "contexts": contexts,
            "user": {"max_length": 16384, "implementation_class_uid": "1.2.3"}}))
        connection.receive_message([c[0] for c in contexts], 5.0)  # the C-STORE-RQ, never answered
        done.wait(10)
        connection.close()

    thread = threading.Thread(target=silent_scp, daemon=True)
    thread.start()
    try:
        ae = _requestor()
        ae.dimse_timeout = 0.3
        assoc = ae.associate("127.0.0.1", port)
        assert assoc.is_established
        status = assoc.send_c_store(CT)
        assert "Status" not in status
        assert assoc.is_aborted and not assoc.is_established
    finally:
        done.set()
        thread.join(10)
        listener.close()
