"""The ``turbodicom findscu``, ``movescu`` and ``getscu`` commands against ``turbodicom qrscp``
(a process serving a folder of known files) and Orthanc: exact matches of wildcard and date
range queries at STUDY and IMAGE level, C-MOVE into a ``turbodicom storescp`` process,
C-GET into a folder, and the exit statuses of the failures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pydicom
import pytest

from net_peers import Orthanc, dataset_bytes, free_port
from qr_archive_files import (CT_1, CT_2, CT_SERIES, CT_STUDY, MR, MR_STUDY, PLAN, PLAN_STUDY, RLE, UIDS,
                              path_of, write_archive)

pytestmark = pytest.mark.timeout(120)

COMMAND = [sys.executable, "-m", "turbodicom.cli.main"]



def turbodicom(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, timeout=timeout)


class Server:
    """A ``turbodicom`` server command in a process: its port (from its first line) and output."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([*COMMAND, *args, "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.first = self.proc.stdout.readline()
        match = re.match(r"listening on [\d.]+:(\d+)", self.first)
        if match is None:
            self.proc.kill()
            raise AssertionError(f"{args[0]} did not start: {self.first}{self.proc.communicate()[1]}")
        self.port = int(match.group(1))
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(line.rstrip() for line in self.proc.stdout),
                         daemon=True).start()

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = write_archive(tmp_path_factory.mktemp("archive"))
    return root


@pytest.fixture(scope="module")
def storescp(tmp_path_factory):
    out = tmp_path_factory.mktemp("moved")
    server = Server("storescp", "--out", str(out), "--aetitle", "DEST")
    server.out = out
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def qrscp(folder, storescp):
    server = Server("qrscp", "--dir", str(folder), "--aetitle", "QRSCP", "--move", f"DEST=127.0.0.1:{storescp.port}")
    yield server
    assert server.stop() == 0


def blocks(stdout: str) -> list[dict[str, str]]:
    """findscu's matches: one dict per block of ``Keyword = value`` lines."""
    found = []
    for block in stdout.strip().split("\n\n"):
        lines = block.splitlines()
        assert re.fullmatch(r"# match \d+", lines[0]), block
        found.append(dict(line.split(" =", 1) for line in lines[1:]))
    return [{k: v.strip() for k, v in match.items()} for match in found]


def summary(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.startswith("turbodicom ")]
    assert lines, done.stderr
    return lines[-1]


def take(folder: Path) -> dict[str, bytes]:
    """The files in `folder` by name, removed from it after reading them."""
    got = {p.name: p.read_bytes() for p in folder.iterdir()}
    for p in folder.iterdir():
        p.unlink()
    return got


# --- findscu ----------------------------------------------------------------------------------------------


def test_find_studies_with_wildcard_and_date_range(qrscp):
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-S", "-k", "QueryRetrieveLevel=STUDY",
                      "-k", "PatientName=Doe*", "-k", "StudyDate=20040101-20041231", "-k", "StudyInstanceUID",
                      "-k", "(0020,1208)")
    assert done.returncode == 0, done.stderr
    assert blocks(done.stdout) == [{"QueryRetrieveLevel": "STUDY", "StudyDate": "20040115", "PatientName": "Doe^John",
                                    "StudyInstanceUID": CT_STUDY, "NumberOfStudyRelatedInstances": "2"}]
    assert summary(done) == "turbodicom findscu: 1 match (Study Root); final status 0x0000 Success"
    # Both studies of Doe^John (Patient Root, the default), with an open-ended range.
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-k", "QueryRetrieveLevel=STUDY", "-k", "PatientID=P1",
                      "-k", "StudyDate=20040601-", "-k", "StudyInstanceUID", "--aetitle", "ME", "--call", "QRSCP")
    assert done.returncode == 0, done.stderr
    assert [(m["StudyInstanceUID"], m["StudyDate"]) for m in blocks(done.stdout)] == [(MR_STUDY, "20050620")]
    assert summary(done) == "turbodicom findscu: 1 match (Patient Root); final status 0x0000 Success"


def test_find_images_as_json(qrscp):
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-S", "--json", "-k", "QueryRetrieveLevel=IMAGE",
                      "-k", f"StudyInstanceUID={CT_STUDY}", "-k", f"SeriesInstanceUID={CT_SERIES}",
                      "-k", "SOPInstanceUID", "-k", "InstanceNumber", "-k", "PatientName=*John*")
    assert done.returncode == 0, done.stderr
    matches = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted((m["00080018"]["Value"][0], m["00200013"]["Value"][0]) for m in matches) == sorted(
        [(CT_1, 1), (CT_2, 2)])
    assert all(m["00080052"] == {"vr": "CS", "Value": ["IMAGE"]} for m in matches)
    assert summary(done) == "turbodicom findscu: 2 matches (Study Root); final status 0x0000 Success"
    # A wildcard matching nothing: no match, still a success.
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientName=X?Z*")
    assert (done.returncode, done.stdout) == (0, "")
    assert summary(done) == "turbodicom findscu: 0 matches (Patient Root); final status 0x0000 Success"


def test_find_failure_status_exits_1(qrscp):
    # The Study Root model has no PATIENT level: qrscp answers "Identifier does not match SOP class".
    done = turbodicom("findscu", "127.0.0.1", qrscp.port, "-S", "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID")
    assert (done.returncode, done.stdout) == (1, "")
    assert summary(done) == ("turbodicom findscu: 0 matches (Study Root); "
                             "final status 0xA900 Identifier does not match SOP class")


# --- movescu ----------------------------------------------------------------------------------------------


def test_move_study_into_storescp(qrscp, storescp, folder):
    done = turbodicom("movescu", "127.0.0.1", qrscp.port, "-S", "--dest", "DEST", "-k", "QueryRetrieveLevel=STUDY",
                      "-k", f"StudyInstanceUID={CT_STUDY}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["pending: 1 remaining, 1 completed, 0 failed, 0 warning",
                                        "pending: 0 remaining, 2 completed, 0 failed, 0 warning"]
    assert re.fullmatch(r"turbodicom movescu: moved to DEST \(Study Root\): 2 completed, 0 failed, 0 warning; "
                        r"final status 0x0000 Success \(\d+\.\d\d s\)", summary(done))
    got = take(storescp.out)
    assert sorted(got) == sorted([f"{CT_1}.dcm", f"{CT_2}.dcm"])
    for name in ("ct1", "ct2"):
        assert dataset_bytes(_write(got[f"{UIDS[name]}.dcm"])) == dataset_bytes(path_of(folder, name))
    # Patient Root, a whole patient, the RLE image moved as stored.
    done = turbodicom("movescu", "127.0.0.1", qrscp.port, "-aem", "DEST", "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID=P3")
    assert done.returncode == 0, done.stderr
    got = take(storescp.out)
    assert list(got) == [f"{RLE}.dcm"]
    assert dataset_bytes(_write(got[f"{RLE}.dcm"])) == dataset_bytes(path_of(folder, "rle"))


_scratch: list[Path] = []


def _write(data: bytes) -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(suffix=".dcm")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    _scratch.append(Path(name))
    return Path(name)


def test_move_to_unknown_destination_exits_1(qrscp):
    done = turbodicom("movescu", "127.0.0.1", qrscp.port, "--dest", "NOWHERE", "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID=P1")
    assert done.returncode == 1
    assert done.stdout == ""
    assert summary(done).startswith("turbodicom movescu: moved to NOWHERE (Patient Root): 0 completed, 0 failed, "
                                    "0 warning; final status 0xA801 Refused: move destination unknown")


# --- getscu -----------------------------------------------------------------------------------------------


def test_get_patient_into_folder(qrscp, folder, tmp_path):
    out = tmp_path / "got" / "here"  # created
    done = turbodicom("getscu", "127.0.0.1", qrscp.port, "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=P1",
                      "--out", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "pending: 0 remaining, 3 completed, 0 failed, 0 warning"
    assert re.fullmatch(r"turbodicom getscu: 3 completed, 0 failed, 0 warning \(Patient Root\); 3 files written to "
                        rf"{re.escape(str(out))}; final status 0x0000 Success \(\d+\.\d\d s\)", summary(done))
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{uid}.dcm" for uid in (CT_1, CT_2, MR))
    for name in ("ct1", "ct2", "mr"):  # Explicit VR Little Endian files: received unchanged
        written = out / f"{UIDS[name]}.dcm"
        assert dataset_bytes(written) == dataset_bytes(path_of(folder, name))
        meta = pydicom.dcmread(written, stop_before_pixels=True).file_meta
        assert meta.MediaStorageSOPInstanceUID == UIDS[name]
        assert meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def test_get_study_root_implicit_file(qrscp, folder, tmp_path):
    done = turbodicom("getscu", "127.0.0.1", qrscp.port, "-S", "-k", "QueryRetrieveLevel=STUDY",
                      "-k", f"StudyInstanceUID={PLAN_STUDY}", "-od", tmp_path)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"{PLAN}.dcm"]
    received, original = pydicom.dcmread(tmp_path / f"{PLAN}.dcm"), pydicom.dcmread(path_of(folder, "plan"))
    assert received == original  # same elements, whatever syntax the peer sent it in


# --- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["findscu", "movescu", "getscu"])
def test_unreachable_peer_exits_1(command, tmp_path):
    port = free_port()
    extra = {"findscu": [], "movescu": ["--dest", "DEST"], "getscu": ["--out", str(tmp_path)]}[command]
    done = turbodicom(command, "127.0.0.1", port, "-k", "QueryRetrieveLevel=STUDY", *extra, timeout=30)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"turbodicom {command}: cannot connect to 127.0.0.1:{port}: "), done.stderr


@pytest.mark.parametrize(("key", "message"), [
    ("=DOE", "no key before '='"),
    ("Patientname=DOE", "'Patientname' is neither a DICOM keyword"),
    ("(0009,1010)=X", "(0009,1010) is not in the DICOM dictionary"),
    ("Rows=many", "'many' is not a value of VR US"),
    ("ReferencedStudySequence", "keys of VR SQ are not supported"),
    ("QueryRetrieveLevel=FRAME", "unknown level 'FRAME' (one of PATIENT, STUDY, SERIES, IMAGE)"),
])
def test_bad_keys_exit_2(key, message):
    done = turbodicom("findscu", "127.0.0.1", 104, "-k", key)
    assert done.returncode == 2
    assert f"turbodicom findscu: error: argument -k/--key: '{key}': {message}" in done.stderr, done.stderr


def test_bad_levels_and_arguments_exit_2(tmp_path):
    done = turbodicom("getscu", "127.0.0.1", 104, "-k", "PatientID=P1", "--out", tmp_path)
    assert done.returncode == 2
    assert "turbodicom getscu: error: no query/retrieve level: add -k QueryRetrieveLevel=" in done.stderr
    done = turbodicom("movescu", "127.0.0.1", 104, "--dest", "DEST", "-k", "QueryRetrieveLevel=patients")
    assert done.returncode == 2
    assert "unknown level 'patients'" in done.stderr
    assert turbodicom("findscu", "127.0.0.1", 104).returncode == 2  # no -k
    assert turbodicom("movescu", "127.0.0.1", 104, "-k", "QueryRetrieveLevel=STUDY").returncode == 2  # no --dest
    assert turbodicom("findscu", "127.0.0.1", 104, "-P", "-S", "-k", "QueryRetrieveLevel=STUDY").returncode == 2
    assert list(tmp_path.iterdir()) == []


# --- Orthanc --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, folder, storescp):
    peer = Orthanc(tmp_path_factory.mktemp("orthanc"), {"dest": ["DEST", "127.0.0.1", storescp.port]},
                   allowed=("Find", "Get", "Move"))
    try:
        for name in ("ct1", "ct2", "mr", "plan"):
            peer.rest("POST", "/instances", Path(path_of(folder, name)).read_bytes())
        yield peer
    finally:
        peer.stop()


def _values(path) -> tuple:
    ds = pydicom.dcmread(path)
    return (ds.SOPClassUID, ds.SOPInstanceUID, ds.StudyInstanceUID, ds.PatientID, ds.StudyDate,
            ds.get("PixelData"), ds.get("BeamSequence"))


def test_orthanc_find_move_get(orthanc, storescp, folder, tmp_path):
    port = orthanc.dicom_port
    done = turbodicom("findscu", "127.0.0.1", port, "-S", "-aec", "ORTHANC", "-k", "QueryRetrieveLevel=STUDY",
                      "-k", "PatientName=DOE*", "-k", "StudyDate=20040101-20041231", "-k", "StudyInstanceUID")
    assert done.returncode == 0, done.stderr
    assert [m["StudyInstanceUID"] for m in blocks(done.stdout)] == [CT_STUDY]  # Orthanc: names case-insensitive
    assert summary(done) == "turbodicom findscu: 1 match (Study Root); final status 0x0000 Success"
    done = turbodicom("findscu", "127.0.0.1", port, "-S", "--json", "-k", "QueryRetrieveLevel=IMAGE",
                      "-k", f"StudyInstanceUID={CT_STUDY}", "-k", f"SeriesInstanceUID={CT_SERIES}",
                      "-k", "SOPInstanceUID")
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(line)["00080018"]["Value"][0] for line in done.stdout.splitlines()) == sorted([CT_1, CT_2])

    done = turbodicom("movescu", "127.0.0.1", port, "-S", "--dest", "DEST", "-k", "QueryRetrieveLevel=STUDY",
                      "-k", f"StudyInstanceUID={CT_STUDY}")
    assert done.returncode == 0, done.stderr
    assert " 2 completed, 0 failed, 0 warning; final status 0x0000 Success" in summary(done)
    got = take(storescp.out)
    assert sorted(got) == sorted([f"{CT_1}.dcm", f"{CT_2}.dcm"])
    for name in ("ct1", "ct2"):  # Orthanc sends what DCMTK makes of the file: compare the values
        assert _values(_write(got[f"{UIDS[name]}.dcm"])) == _values(path_of(folder, name))

    done = turbodicom("getscu", "127.0.0.1", port, "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=P2",
                      "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"{PLAN}.dcm"]
    assert _values(tmp_path / f"{PLAN}.dcm") == _values(path_of(folder, "plan"))
    done = turbodicom("movescu", "127.0.0.1", port, "--dest", "NOWHERE", "-k", "QueryRetrieveLevel=PATIENT",
                      "-k", "PatientID=P2")
    assert done.returncode == 1  # Orthanc answers an unknown destination with 0xC000
    assert summary(done).startswith("turbodicom movescu: moved to NOWHERE (Patient Root): 0 completed, 0 failed, "
                                    "0 warning; final status 0xC000 ")
