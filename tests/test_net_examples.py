"""The network examples of docs/examples (the tutorial's, and pynetdicom's documented storage
SCU and SCP, with only the imports changed) run against real peers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from net_peers import dcmtk, free_port, process

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
CT = get_testdata_file("CT_small.dcm")

pytestmark = pytest.mark.timeout(120)


def run_example(name: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


@pytest.fixture
def dcmtk_storescp(tmp_path):
    storescp = dcmtk("storescp")
    port = free_port()
    with process([storescp, "+xa", "-od", str(tmp_path), str(port)], port):
        yield port, tmp_path


def test_tutorial_echo(dcmtk_storescp):
    port, _ = dcmtk_storescp
    done = run_example("tutorial_echo.py", REMOTE_PORT=str(port))
    assert done.returncode == 0, done.stderr
    assert "DICOM device is reachable" in done.stdout


def test_tutorial_echo_without_a_peer():
    done = run_example("tutorial_echo.py", REMOTE_PORT=str(free_port()))
    # As with pynetdicom: the association is never established, so send_c_echo raises.
    assert done.returncode != 0
    assert "must be established" in done.stderr


def test_tutorial_store(dcmtk_storescp):
    port, folder = dcmtk_storescp
    done = run_example("tutorial_store.py", REMOTE_PORT=str(port), DICOM_FILE=CT)
    assert done.returncode == 0, done.stderr
    assert "DICOM object stored successfully" in done.stdout
    (written,) = list(folder.iterdir())
    assert pydicom.dcmread(written).SOPInstanceUID == pydicom.dcmread(CT).SOPInstanceUID


def test_pynetdicom_storage_scu(dcmtk_storescp):
    port, folder = dcmtk_storescp
    done = run_example("pynetdicom_storage_scu.py", REMOTE_PORT=str(port), DICOM_FILE=CT)
    assert done.returncode == 0, done.stderr
    assert "C-STORE request status: 0x0000" in done.stdout
    assert len(list(folder.iterdir())) == 1


def _server(name: str, port: int, cwd: Path):
    return process([sys.executable, str(EXAMPLES / name)], port, cwd=cwd, env={**os.environ, "PORT": str(port)})


def test_tutorial_scp_answers_dcmtk_echoscu(tmp_path):
    echoscu = dcmtk("echoscu")
    port = free_port()
    with _server("tutorial_scp.py", port, tmp_path):
        done = subprocess.run([echoscu, "-aec", "MY_AE_TITLE", "127.0.0.1", str(port)], capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr


def test_pynetdicom_storage_scp_stores_what_dcmtk_sends(tmp_path):
    storescu = dcmtk("storescu")
    port = free_port()
    with _server("pynetdicom_storage_scp.py", port, tmp_path):
        done = subprocess.run([storescu, "127.0.0.1", str(port), CT], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
    original = pydicom.dcmread(CT)
    stored = pydicom.dcmread(tmp_path / original.SOPInstanceUID)
    assert stored.PixelData == original.PixelData
    assert stored.PatientName == original.PatientName


def test_pynetdicom_scu_against_the_tutorial_scp(tmp_path):
    pynetdicom = pytest.importorskip("pynetdicom")
    port = free_port()
    with _server("tutorial_scp.py", port, tmp_path):
        ae = pynetdicom.AE()
        ae.add_requested_context("1.2.840.10008.1.1")
        assoc = ae.associate("127.0.0.1", port)
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0
        assoc.release()
