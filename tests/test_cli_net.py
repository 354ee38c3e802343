"""The ``turbodicom echoscu``, ``storescu`` and ``storescp`` commands, against DCMTK's tools and
against each other: what arrives must be what was sent, byte for byte in the data set, and
nothing half-written may be left behind."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from net_peers import dataset_bytes, dcmtk, free_port, process

CT = get_testdata_file("CT_small.dcm")             # Explicit VR Little Endian, with trailing padding
MR = get_testdata_file("MR_small.dcm")             # Explicit VR Little Endian
RLE = get_testdata_file("MR_small_RLE.dcm")        # RLE Lossless (the SOP Instance UID of MR_small)
JPEG = get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")  # JPEG Baseline
DISTINCT = [CT, RLE, JPEG]  # three different SOP Instance UIDs

COMMAND = [sys.executable, "-m", "turbodicom.cli.main"]

pytestmark = pytest.mark.timeout(120)


def _header(path) -> pydicom.Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True)


def turbodicom(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def _summary(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if " files sent, " in line]
    assert lines, done.stderr
    return lines[-1]


class Server:
    """Our storescp running in a process: its port, and its output read as it comes."""

    def __init__(self, out: Path, *options: str) -> None:
        self.out = out
        self.proc = subprocess.Popen([*COMMAND, "storescp", "--port", "0", "--out", str(out), *options],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        match = re.match(r"listening on 0\.0\.0\.0:(\d+)", first)
        if match is None:
            self.proc.kill()
            raise AssertionError(f"storescp did not start: {first}{self.proc.communicate()[1]}")
        self.port = int(match.group(1))
        self.lines = [first.rstrip("\n")]
        self.errors: list[str] = []
        self.returncode: int | None = None
        self._readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                         for stream, into in ((self.proc.stdout, self.lines), (self.proc.stderr, self.errors))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in {self.lines} / {self.errors}")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.returncode is None:
            self.proc.send_signal(signum)
            try:
                self.returncode = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.returncode = self.proc.wait()
            for reader in self._readers:
                reader.join(timeout=5)
        return self.returncode


@contextlib.contextmanager
def storescp(out: Path, *options: str):
    server = Server(out, *options)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def dcmtk_storescp(out: Path, *options: str):
    """DCMTK's storescp, writing data sets as they arrive (+B), accepting every syntax (+xa)
    unless `options` say otherwise, with unique file names (+uf: MR_small and MR_small_RLE
    share a SOP Instance UID)."""
    port = free_port()
    out.mkdir(exist_ok=True)
    with process([dcmtk("storescp"), "+B", "+uf", "-aet", "DCMTK", "-od", str(out), *options, str(port)], port):
        yield port


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _no_part_files(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.endswith(".part")]


def _assert_stored_as_sent(written: Path, source: str) -> None:
    """A file our storescp wrote: named by the SOP Instance UID, File Meta Information for the
    instance, and the data set bytes of `source` unchanged."""
    header = _header(source)
    assert written.name == f"{header.SOPInstanceUID}.dcm"
    meta = pydicom.dcmread(written, stop_before_pixels=True).file_meta
    assert meta.MediaStorageSOPInstanceUID == header.SOPInstanceUID
    assert meta.MediaStorageSOPClassUID == header.SOPClassUID
    assert meta.TransferSyntaxUID == header.file_meta.TransferSyntaxUID
    assert dataset_bytes(written) == dataset_bytes(source)


# --- echoscu ------------------------------------------------------------------------------------------


def test_echoscu_against_dcmtk_storescp(tmp_path):
    with dcmtk_storescp(tmp_path / "out") as port:
        done = turbodicom("echoscu", "127.0.0.1", port, "--call", "DCMTK", "--aetitle", "ME", "--repeat", "3")
    assert done.returncode == 0, done.stderr
    assert "3 C-ECHOs to DCMTK at 127.0.0.1" in done.stdout and "success" in done.stdout


def test_echoscu_against_our_storescp(tmp_path):
    with storescp(tmp_path / "out", "--aetitle", "OURS") as scp:
        done = turbodicom("echoscu", "127.0.0.1", scp.port, "-aec", "OURS", "-aet", "PINGER")
        assert done.returncode == 0, done.stderr
        scp.wait_for(r"^PINGER@127\.0\.0\.1:\d+: 0 files, 0\.0 MB in .* s, released$")
    assert scp.returncode == 0
    assert scp.lines[-1] == "stopped: 0 files, 0.0 MB received"


def test_echoscu_rejected(tmp_path):
    with dcmtk_storescp(tmp_path / "out", "--refuse") as port:
        done = turbodicom("echoscu", "127.0.0.1", port)
    assert done.returncode == 1
    assert "association rejected by 127.0.0.1" in done.stderr


def test_storescu_aborted_by_the_peer(tmp_path):
    with dcmtk_storescp(tmp_path / "out", "--abort-after") as port:  # aborts on a C-STORE only
        done = turbodicom("storescu", "127.0.0.1", port, CT)
    assert done.returncode == 1
    assert "0 files sent, 1 failed" in _summary(done)


def test_echoscu_unreachable():
    port = free_port()  # nothing listens there
    done = turbodicom("echoscu", "127.0.0.1", port, "--timeout", "5")
    assert done.returncode == 1
    assert done.stderr.strip() == f"turbodicom echoscu: cannot connect to 127.0.0.1:{port}: Connection refused"
    done = turbodicom("echoscu", "no-such-host.invalid", "104", "--timeout", "5")
    assert done.returncode == 1
    assert "cannot connect to no-such-host.invalid:104" in done.stderr


# --- storescu ----------------------------------------------------------------------------------------------


def test_storescu_to_dcmtk_storescp(tmp_path):
    out = tmp_path / "out"
    with dcmtk_storescp(out, "+xa") as port:
        done = turbodicom("storescu", "127.0.0.1", port, "-aec", "DCMTK", CT, MR, RLE, JPEG, "--no-progress")
    assert done.returncode == 0, done.stderr
    assert re.search(r"4 files sent, 0 failed, 0 skipped; 0\.\d MB in [\d.]+ s", _summary(done))
    written = _files(out)
    assert len(written) == 4
    assert sorted(dataset_bytes(p) for p in written) == sorted(dataset_bytes(f) for f in (CT, MR, RLE, JPEG))
    syntaxes = sorted(str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID) for p in written)
    assert syntaxes == sorted(str(_header(f).file_meta.TransferSyntaxUID) for f in (CT, MR, RLE, JPEG))


def test_storescu_syntax_not_accepted(tmp_path):
    # DCMTK's storescp accepts only uncompressed syntaxes by default: the JPEG file cannot go.
    with dcmtk_storescp(tmp_path / "out") as port:
        done = turbodicom("storescu", "127.0.0.1", port, CT, JPEG)
    assert done.returncode == 1
    assert re.search(r"127\.0\.0\.1:\d+ did not accept Secondary Capture Image Storage "
                     r"\(1\.2\.840\.10008\.5\.1\.4\.1\.1\.7\) in JPEG Baseline .*"
                     r"\(1\.2\.840\.10008\.1\.2\.4\.50\): 1 file not sent", done.stderr)
    assert "1 files sent, 1 failed, 0 skipped" in _summary(done)
    assert len(_files(tmp_path / "out")) == 1


def test_storescu_to_our_storescp_flat(tmp_path):
    out = tmp_path / "out"
    with storescp(out) as scp:
        done = turbodicom("storescu", "127.0.0.1", scp.port, *DISTINCT, "-pdu", "4096")
        assert done.returncode == 0, done.stderr
        scp.wait_for(r"^STORESCU@127\.0\.0\.1:\d+: 3 files, 0\.\d MB in .* s, released$")
    assert scp.returncode == 0, scp.errors
    assert "3 files sent, 0 failed, 0 skipped" in _summary(done)
    written = {p.name: p for p in _files(out)}
    assert len(written) == 3
    for source in DISTINCT:
        _assert_stored_as_sent(written[f"{_header(source).SOPInstanceUID}.dcm"], source)
    _no_part_files(out)


def _tree(root: Path) -> Path:
    """root/a.dcm, root/notes.txt, root/sub/b.dcm, root/sub/deeper/c.dcm (copies of CT, RLE, JPEG)."""
    (root / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(CT, root / "a.dcm")
    (root / "notes.txt").write_text("not DICOM\n")
    shutil.copy(RLE, root / "sub" / "b.dcm")
    shutil.copy(JPEG, root / "sub" / "deeper" / "c.dcm")
    return root


def test_storescu_folders_and_our_storescp_series_layout(tmp_path):
    source = _tree(tmp_path / "source")
    out = tmp_path / "out"
    with storescp(out, "--layout", "series") as scp:
        flat = turbodicom("storescu", "127.0.0.1", scp.port, source)
        deep = turbodicom("storescu", "127.0.0.1", scp.port, source, "--recursive")
    assert scp.returncode == 0, scp.errors
    assert flat.returncode == 0, flat.stderr
    assert "1 files sent, 0 failed, 1 skipped" in _summary(flat)
    assert deep.returncode == 0, deep.stderr
    assert "3 files sent, 0 failed, 1 skipped" in _summary(deep)
    for original in DISTINCT:
        header = _header(original)
        written = out / header.StudyInstanceUID / header.SeriesInstanceUID / f"{header.SOPInstanceUID}.dcm"
        _assert_stored_as_sent(written, original)
    assert len(_files(out)) == 3
    _no_part_files(out)


def test_storescu_more_contexts_than_one_association_holds(tmp_path):
    """130 files of 65 SOP classes in 2 transfer syntaxes: 130 presentation contexts, more than
    the 128 of one association."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

    from turbodicom.net.contexts import STORAGE_SOP_CLASSES

    source = tmp_path / "source"
    source.mkdir()
    for i in range(130):
        ds = Dataset()
        ds.SOPClassUID = STORAGE_SOP_CLASSES[i // 2]
        ds.SOPInstanceUID = generate_uid()
        ds.PatientID = f"P{i}"
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)[i % 2]
        ds.save_as(source / f"{i:03d}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    with storescp(out) as scp:
        done = turbodicom("storescu", "127.0.0.1", scp.port, source)
        assert done.returncode == 0, done.stderr
        scp.wait_for(r": 2 files, .*released$")  # the second association: the last 2 pairs
    assert "130 files sent, 0 failed, 0 skipped (2 associations)" in _summary(done)
    assert len(_files(out)) == 130
    for path in sorted(source.iterdir()):
        uid = pydicom.dcmread(path).SOPInstanceUID
        assert dataset_bytes(out / f"{uid}.dcm") == dataset_bytes(path)
    assert any(re.search(r": 128 files, .*released$", line) for line in scp.lines)


def test_storescu_unreachable():
    port = free_port()
    done = turbodicom("storescu", "127.0.0.1", port, CT, MR)
    assert done.returncode == 1
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in done.stderr
    assert "0 files sent, 2 failed, 0 skipped (2 not sent)" in _summary(done)


def test_storescu_without_dicom_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not DICOM\n")
    (tmp_path / "sub").mkdir()
    shutil.copy(CT, tmp_path / "sub" / "a.dcm")
    done = turbodicom("storescu", "127.0.0.1", "104", tmp_path)
    assert done.returncode == 1
    assert "no DICOM files to send" in done.stderr and "use --recursive" in done.stderr
    done = turbodicom("storescu", "127.0.0.1", "104", tmp_path / "missing.dcm")
    assert done.returncode == 1
    assert "missing.dcm: no such file or directory" in done.stderr
    done = turbodicom("storescu", "127.0.0.1", "104", CT, "--max-pdu", "100")
    assert done.returncode == 2  # a usage error


def test_progress_line_shows_the_data_rate():
    from turbodicom.cli.storescu import TransferProgress

    stream = io.StringIO()
    with TransferProgress(10, enabled=True, stream=stream, min_interval=0) as bar:
        time.sleep(0.01)
        bar.sent(4, 2_000_000)
    drawn = stream.getvalue()
    assert re.search(r"sending \[#+-+\]  4/10 +40%  .* file/s  ETA .*  \d+\.\d MB/s", drawn), drawn
    assert drawn.endswith("\r")  # erased at the end


# --- storescp ---------------------------------------------------------------------------------------------------


def test_dcmtk_storescu_to_our_storescp_study_layout(tmp_path):
    storescu = dcmtk("storescu")
    out = tmp_path / "out"
    with storescp(out, "--layout", "study", "--aetitle", "OURS") as scp:
        # DCMTK offers a compressed syntax only when told to: RLE with -xr, JPEG 8-bit with -xy.
        for option, files in (("-xr", [CT, RLE]), ("-xy", [JPEG])):
            done = subprocess.run([storescu, option, "-aec", "OURS", "127.0.0.1", str(scp.port), *files],
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stdout + done.stderr
        scp.wait_for(r"^STORESCU@127\.0\.0\.1:\d+: 1 files, .*released$")
    assert scp.returncode == 0, scp.errors
    for source in DISTINCT:
        header = _header(source)
        written = out / header.StudyInstanceUID / f"{header.SOPInstanceUID}.dcm"
        assert pydicom.dcmread(written).file_meta.TransferSyntaxUID == header.file_meta.TransferSyntaxUID
        # DCMTK re-encodes the data set and leaves out the Data Set Trailing Padding (FFFC,FFFC)
        # that ends CT_small.dcm and MR_small_RLE.dcm; everything before it arrives unchanged.
        assert dataset_bytes(written) == _without_trailing_padding(dataset_bytes(source))
    assert len(_files(out)) == 3
    _no_part_files(out)


def _without_trailing_padding(data: bytes) -> bytes:
    """Explicit VR little endian `data` without its last element when that is a (FFFC,FFFC)
    Data Set Trailing Padding."""
    offset = data.rfind(b"\xfc\xff\xfc\xffOB\x00\x00")
    if offset >= 0 and offset + 12 + struct.unpack_from("<I", data, offset + 8)[0] == len(data):
        return data[:offset]
    return data


def test_storescp_failure_answers_out_of_resources_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    study = out / _header(CT).StudyInstanceUID
    study.write_text("a file where the study folder should be")
    with storescp(out, "--layout", "study") as scp:
        done = turbodicom("storescu", "127.0.0.1", scp.port, CT, "--no-progress")
        scp.wait_for(r": 0 files, 1 failed, .*released$")
    assert scp.returncode == 0
    assert done.returncode == 1
    assert "status 0xA700 Out of resources (cannot store: " in done.stderr
    assert "0 files sent, 1 failed, 0 skipped" in _summary(done)
    assert any(line.startswith("turbodicom storescp: cannot store ") for line in scp.errors), scp.errors
    assert _files(out) == [study]
    _no_part_files(out)


def _store_with_uid(port: int, uid: str) -> int:
    """C-STORE of CT_small with `uid` as its SOP Instance UID; the response status."""
    from turbodicom.net import AE

    ds = pydicom.dcmread(CT)
    ds.SOPInstanceUID = uid
    ae = AE("SENDER")
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="STORESCP")
    assert assoc.is_established
    try:
        return int(assoc.send_c_store(ds).Status)
    finally:
        assoc.release()


def test_storescp_flat_layout_stores_in_cpp_and_falls_back_to_the_handler(tmp_path):
    """In the flat layout the network layer stores instances itself; what it cannot store
    (a UID that is no plain file name, a rename that fails) reaches the Python handler,
    whose answer and cleanup are as always."""
    out = tmp_path / "out"
    blocked = "1.2.826.0.1.3680043.8.498.2"
    with storescp(out) as scp:
        assert _store_with_uid(scp.port, "1.2.826.0.1.3680043.8.498.1") == 0x0000
        (out / f"{blocked}.dcm").mkdir()  # a folder where the file should go: rename fails
        assert _store_with_uid(scp.port, blocked) == 0xA700
        assert _store_with_uid(scp.port, "1.2.3..4") == 0xA700  # not a name we use
        scp.wait_for(r": 0 files, 1 failed, .*released$")
    assert scp.returncode == 0
    assert any("unusable Affected SOP Instance UID '1.2.3..4'" in line for line in scp.errors), scp.errors
    assert any(f"cannot store {blocked}" in line for line in scp.errors), scp.errors
    assert [p.name for p in _files(out)] == ["1.2.826.0.1.3680043.8.498.1.dcm"]
    assert (out / f"{blocked}.dcm").is_dir() and not list((out / f"{blocked}.dcm").iterdir())
    stored = pydicom.dcmread(out / "1.2.826.0.1.3680043.8.498.1.dcm")
    assert stored.SOPInstanceUID == stored.file_meta.MediaStorageSOPInstanceUID == "1.2.826.0.1.3680043.8.498.1"
    assert stored.PatientName == pydicom.dcmread(CT).PatientName
    _no_part_files(out)


def test_storescp_aborted_transfer_leaves_no_file(tmp_path):
    """A C-STORE whose data set is cut off by an A-ABORT: nothing may be written."""
    from pydicom.uid import ExplicitVRLittleEndian

    from turbodicom.net import AE
    from turbodicom.net.dimse import C_STORE_RQ, Message

    header = _header(CT)
    out = tmp_path / "out"
    with storescp(out) as scp:
        ae = AE("ABORTER")
        ae.add_requested_context(header.SOPClassUID, ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", scp.port, ae_title="STORESCP")
        assert assoc.is_established
        context_id = assoc.accepted_contexts[0].context_id
        command = Message(CommandField=C_STORE_RQ, MessageID=1, AffectedSOPClassUID=header.SOPClassUID,
                          AffectedSOPInstanceUID=header.SOPInstanceUID, Priority=2,
                          CommandDataSetType=0x0000).encode()
        half = dataset_bytes(CT)[:10_000]

        def pdv(control: int, data: bytes) -> bytes:  # PS3.8 9.3.5.1: length, context id, header
            return struct.pack(">IBB", len(data) + 2, context_id, control) + data

        items = pdv(0x03, command) + pdv(0x00, half)  # the whole command; the data set, not its last part
        assoc._connection.send(struct.pack(">BBI", 0x04, 0, len(items)) + items)  # P-DATA-TF
        time.sleep(0.2)
        assoc.abort()
        scp.wait_for(r"^ABORTER@127\.0\.0\.1:\d+: 0 files, 0\.0 MB in .* s, aborted$")
        done = turbodicom("storescu", "127.0.0.1", scp.port, CT)  # the server still serves
        assert done.returncode == 0, done.stderr
    assert scp.returncode == 0
    assert [p.name for p in _files(out)] == [f"{header.SOPInstanceUID}.dcm"]
    _assert_stored_as_sent(out / f"{header.SOPInstanceUID}.dcm", CT)


def test_storescp_stops_cleanly_on_ctrl_c(tmp_path):
    scp = Server(tmp_path / "out", "--quiet")
    try:
        done = turbodicom("storescu", "127.0.0.1", scp.port, CT)
        assert done.returncode == 0, done.stderr
    finally:
        assert scp.stop(signal.SIGINT) == 0
    assert scp.lines[1:] == []  # --quiet: only the port (asked for with --port 0)
    assert scp.errors == []


def test_storescp_out_not_writable(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("")
    started = time.monotonic()
    done = turbodicom("storescp", "--port", "0", "--out", blocker / "sub")
    assert done.returncode == 1
    assert f"--out {blocker / 'sub'}: cannot write there: " in done.stderr
    assert time.monotonic() - started < 10


def test_storescp_port_in_use(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = turbodicom("storescp", "--port", port, "--out", tmp_path / "out", "--bind", "127.0.0.1")
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
