"""Orthanc as a peer: turbodicom stores into Orthanc, and Orthanc stores (from its REST API)
into a turbodicom SCP configured as one of its modalities. Orthanc runs from its Debian
package with a minimal configuration on free ports, started and stopped by the fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from net_peers import Orthanc, dataset_bytes
from turbodicom.net import AE, evt
from turbodicom.net.contexts import ALL_TRANSFER_SYNTAXES

FILES = [get_testdata_file("CT_small.dcm"), get_testdata_file("MR_small_RLE.dcm")]
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def received():
    return []


@pytest.fixture
def turbodicom_scp(received):
    ae = AE("TURBO_SCP")
    ae.add_supported_context("1.2.840.10008.1.1")
    for f in FILES:
        ae.add_supported_context(pydicom.dcmread(f, stop_before_pixels=True).SOPClassUID, ALL_TRANSFER_SYNTAXES)

    def store(event):
        received.append((event.request.AffectedSOPInstanceUID, str(event.context.transfer_syntax[0]),
                         event.encoded_dataset(include_meta=False)))
        return 0

    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, store)])
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def orthanc(tmp_path, turbodicom_scp):
    peer = Orthanc(tmp_path, {"turbo": ["TURBO_SCP", "127.0.0.1", turbodicom_scp]})
    yield peer
    peer.stop()


def test_turbodicom_stores_into_orthanc(orthanc):
    ae = AE("TURBO_SCU")
    ae.add_requested_context("1.2.840.10008.1.1")
    for f in FILES:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", orthanc.dicom_port, ae_title="ORTHANC")
    assert assoc.is_established
    assert assoc.send_c_echo().Status == 0
    for f in FILES:
        assert assoc.send_c_store(f).Status == 0
    assoc.release()
    instances = orthanc.rest("GET", "/instances")
    assert len(instances) == len(FILES)
    stored = sorted(orthanc.rest("GET", f"/instances/{i}/file") for i in instances)
    # Orthanc keeps the files as received: their data sets are ours, byte for byte.
    assert sorted(dataset_bytes(s) for s in stored) == sorted(dataset_bytes(f) for f in FILES)


def test_orthanc_stores_into_turbodicom(orthanc, received):
    ids = [orthanc.rest("POST", "/instances", Path(f).read_bytes())["ID"] for f in FILES]
    orthanc.rest("POST", "/modalities/turbo/echo", b"{}")  # raises HTTPError unless the C-ECHO succeeded
    result = orthanc.rest("POST", "/modalities/turbo/store", json.dumps({"Resources": ids, "Synchronous": True})
                          .encode())
    assert result.get("FailedInstancesCount", 0) == 0
    assert sorted(uid for uid, _, _ in received) == sorted(
        pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in FILES)
    from turbodicom.net.dimse import decode_dataset

    for uid, syntax, data in received:
        original = next(pydicom.dcmread(f) for f in FILES if pydicom.dcmread(f).SOPInstanceUID == uid)
        ds = decode_dataset(data, syntax)
        if syntax == original.file_meta.TransferSyntaxUID:  # passed through: the same pixel data
            assert ds.PixelData == original.PixelData
        assert ds.SOPInstanceUID == uid
