"""Associations over TLS (an ``ssl.SSLContext`` as pynetdicom takes it), between turbodicom and
pynetdicom both ways, with a self-signed certificate made for the test."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pydicom
import pytest
from pydicom.data import get_testdata_file

from net_peers import dataset_bytes, free_port
from turbodicom.net import AE, evt

CT = get_testdata_file("CT_small.dcm")
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    return str(key), str(cert)


def server_context(certificate) -> ssl.SSLContext:
    key, cert = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def client_context(certificate) -> ssl.SSLContext:
    _key, cert = certificate
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cert)


def _scp(certificate, received):
    ae = AE("TLS_SCP")
    ae.add_supported_context("1.2.840.10008.1.1")
    ae.add_supported_context(pydicom.dcmread(CT, stop_before_pixels=True).SOPClassUID)

    def store(event):
        received.append(event.encoded_dataset(include_meta=False))
        return 0

    return ae.start_server(("127.0.0.1", 0), block=False, ssl_context=server_context(certificate),
                           evt_handlers=[(evt.EVT_C_STORE, store)])


def _scu() -> AE:
    ae = AE("TLS_SCU")
    ae.add_requested_context("1.2.840.10008.1.1")
    ds = pydicom.dcmread(CT, stop_before_pixels=True)
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)  # sent as stored
    return ae


def test_turbodicom_to_turbodicom_over_tls(certificate):
    received = []
    server = _scp(certificate, received)
    try:
        port = server.server_address[1]
        assoc = _scu().associate("127.0.0.1", port, tls_args=(client_context(certificate), "localhost"))
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        assert assoc.send_c_store(CT).Status == 0
        assoc.release()
        assert assoc.is_released
        # A client without TLS gets nowhere, and the server keeps serving.
        plain = _scu().associate("127.0.0.1", port)
        assert not plain.is_established
        again = _scu().associate("127.0.0.1", port, tls_args=(client_context(certificate), "localhost"))
        assert again.is_established
        again.release()
    finally:
        server.shutdown()
    assert received == [dataset_bytes(CT)]


def test_pynetdicom_scu_to_turbodicom_scp_over_tls(certificate):
    pynetdicom = pytest.importorskip("pynetdicom")
    received = []
    server = _scp(certificate, received)
    try:
        ae = pynetdicom.AE()
        ae.add_requested_context("1.2.840.10008.1.1")
        ae.add_requested_context(pydicom.dcmread(CT, stop_before_pixels=True).SOPClassUID)
        assoc = ae.associate("127.0.0.1", server.server_address[1],
                             tls_args=(client_context(certificate), "localhost"))
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        assert assoc.send_c_store(pydicom.dcmread(CT)).Status == 0
        assoc.release()
    finally:
        server.shutdown()
    assert len(received) == 1


def test_turbodicom_scu_to_pynetdicom_scp_over_tls(certificate):
    pynetdicom = pytest.importorskip("pynetdicom")
    received = []

    def store(event):
        received.append(event.encoded_dataset(include_meta=False))
        return 0

    ae = pynetdicom.AE("PYNETDICOM")
    ae.add_supported_context("1.2.840.10008.1.1")
    ae.add_supported_context(pydicom.dcmread(CT, stop_before_pixels=True).SOPClassUID)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, ssl_context=server_context(certificate),
                             evt_handlers=[(pynetdicom.evt.EVT_C_STORE, store)])
    try:
        assoc = _scu().associate("127.0.0.1", port, tls_args=(client_context(certificate), "localhost"))
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        assert assoc.send_c_store(CT).Status == 0
        assoc.release()
    finally:
        server.shutdown()
    assert received == [dataset_bytes(CT)]
