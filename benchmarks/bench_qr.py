"""Query/Retrieve over loopback: turbodicom qrscp against DCMTK dcmqrscp, Orthanc and pynetdicom.

Every server holds the same archive: 10,000 small CT instances (8 x 8 pixels, generated
headers: 100 patients, 200 studies, 400 series, one of which has 328 instances) and a
500-slice CT series (512 x 512, about 260 MB) as a study of its own, 10,500 instances in all.
The archive is written once per pytest run in a temporary folder; each server runs in its
own process, started once and given the files:

* ``turbodicom qrscp --dir DIR``: the folder indexed at start (the index in memory);
* DCMTK ``dcmqrscp`` (default forking mode, ``-q``), the files stored into it by
  ``storescu`` before timing (about 5 minutes: dcmqrscp reads its whole index file for
  every instance it stores);
* Orthanc (no plugins), the files uploaded through its REST API (``POST /instances``);
* a pynetdicom Q/R SCP (the script ``PYNETDICOM_SCP`` below): an in-memory index read with
  pydicom at start, C-FIND by wildcard matching on it, C-GET by reading the files.

DCMTK and Orthanc run with ``TCP_NODELAY=1`` in their environment; every side uses 128 KiB
PDUs. The client is turbodicom's ``AE`` in this process, so no program start-up is timed; one
round is one association: associate, one request, every response consumed, release.

* ``find-study``: Study Root C-FIND at STUDY level, ``PatientName=A*`` (10 studies);
* ``find-image``: Study Root C-FIND at IMAGE level for the series of 328 instances;
* ``get-ct``: Study Root C-GET of the 500-slice CT series (SERIES level), the instances
  written by the EVT_C_STORE handler to a folder on tmpfs (/dev/shm), in MB/s.

The finds are reported in µs per query; the baseline is the faster of dcmqrscp and Orthanc
(``peer``), turbodicom's target 2x (finds) and 1.5x (C-GET); pynetdicom is an extra row, with
a target of 10x for turbodicom's finds (its ratio is in turbodicom's ``extra_info`` as
``speedup_vs_pynetdicom`` and printed). Each benchmark first checks its answer.

The client AE sets ``maximum_pdu_size`` besides ``associate(max_pdu=PDU)``: the latter only
announces the size to the peer, and the connection refuses PDUs over the AE's
``maximum_pdu_size`` (16382 by default).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from make_ct_series import CORPUS, default_source, make_ct_series
from net_servers import empty, executable, free_port, make_inbox, stop_process, wait_for

CHART = "network"
PDU = 131072
PATIENTS = 100
STUDIES = 200
SERIES = 400
INSTANCES = 10_000
BIG_SERIES = 328
CT_SLICES = 500
ROUNDS = {"find": 30, "get": 8}
FIND_TARGET = 2.0
PYNETDICOM_FIND_TARGET = 10.0
GET_TARGET = 1.5
BIG_CT = CORPUS / "pydicom-data" / "693_UNCI.dcm"  # a 512 x 512 CT slice
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
# One surname per initial; patient p gets SURNAMES[p % 20], so 5 of the 100 patients
# (10 studies) match A*.
SURNAMES = ["Adams", "Brown", "Clark", "Davis", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones",
            "King", "Lopez", "Martin", "Nguyen", "Olsen", "Perez", "Reyes", "Smith", "Taylor", "Walker"]
KINDS = ["dcmqrscp", "orthanc", "pynetdicom", "turbodicom"]  # turbodicom last: its ratios use the others

_means: dict[tuple[str, str], float] = {}


# --- the archive ----------------------------------------------------------------------------------


class Archive:
    def __init__(self, root: Path, small: list[Path], ct: list[Path], a_studies: int, big_series: tuple[str, str],
                 ct_series: tuple[str, str]) -> None:
        self.root = root
        self.small = small
        self.ct = ct
        self.a_studies = a_studies  # studies of patients named A*
        self.big_series = big_series  # (StudyInstanceUID, SeriesInstanceUID) of the 328-instance series
        self.ct_series = ct_series
        self.ct_megabytes = sum(p.stat().st_size for p in ct) / 1e6

    @property
    def files(self) -> list[Path]:
        return self.small + self.ct


def _series_sizes() -> list[int]:
    """Instances per series: the first has BIG_SERIES, the others share the rest evenly."""
    rest = INSTANCES - BIG_SERIES
    base, extra = divmod(rest, SERIES - 1)
    return [BIG_SERIES] + [base + (1 if i < extra else 0) for i in range(SERIES - 1)]


def _template() -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT_STORAGE
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CT_STORAGE
    ds.StudyTime = "101500"
    ds.Modality = "CT"
    ds.Manufacturer = "turbodicom-bench"
    ds.ReferringPhysicianName = "Referrer^Dr"
    ds.PatientSex = "O"
    ds.BodyPartExamined = "CHEST"
    ds.SliceThickness = "1.0"
    ds.KVP = "120"
    ds.PatientPosition = "HFS"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 8
    ds.Columns = 8
    ds.PixelSpacing = [0.5, 0.5]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.PixelData = np.arange(64, dtype="<u2").tobytes()
    return ds


def _uid(*parts: object) -> str:
    return generate_uid(entropy_srcs=["turbodicom-bench-qr", "|".join(map(str, parts))])


def make_archive(root: Path) -> Archive:
    ds = _template()
    small_dir = root / "archive"
    sizes = _series_sizes()
    small: list[Path] = []
    big_series = ("", "")
    serial = 0
    for r, size in enumerate(sizes):
        study = r // (SERIES // STUDIES)
        patient = study // (STUDIES // PATIENTS)
        study_uid, series_uid = _uid("study", study), _uid("series", r)
        if r == 0:
            big_series = (study_uid, series_uid)
        ds.PatientName = f"{SURNAMES[patient % len(SURNAMES)]}^P{patient:03d}"
        ds.PatientID = f"PAT{patient:03d}"
        ds.PatientBirthDate = f"19{40 + patient % 60:02d}0{1 + patient % 9}15"
        ds.StudyInstanceUID = study_uid
        ds.StudyDate = f"2024{1 + study % 12:02d}{1 + study % 28:02d}"
        ds.StudyID = str(study + 1)
        ds.AccessionNumber = f"ACC{study:05d}"
        ds.StudyDescription = f"Study {study}"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = r % 2 + 1
        ds.SeriesDescription = f"Series {r}"
        ds.FrameOfReferenceUID = _uid("frame", r)
        folder = small_dir / f"s{r:03d}"
        folder.mkdir(parents=True)
        for i in range(size):
            sop = _uid("instance", serial)
            serial += 1
            ds.SOPInstanceUID = sop
            ds.file_meta.MediaStorageSOPInstanceUID = sop
            ds.InstanceNumber = i + 1
            ds.ImagePositionPatient = [0, 0, i]
            path = folder / f"i{i:04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            small.append(path)
    source = BIG_CT if BIG_CT.is_file() else default_source()
    ct = make_ct_series(root / "ct", n=CT_SLICES, source=source)
    head = pydicom.dcmread(ct[0], stop_before_pixels=True)
    a_patients = sum(1 for p in range(PATIENTS) if SURNAMES[p % len(SURNAMES)].startswith("A"))
    a_studies = a_patients * (STUDIES // PATIENTS) + (1 if str(head.PatientName).startswith("A") else 0)
    return Archive(root, small, ct, a_studies, big_series, (head.StudyInstanceUID, head.SeriesInstanceUID))


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Archive:
    root = tmp_path_factory.mktemp("qr_archive")
    start = time.monotonic()
    data = make_archive(root)
    os.sync()
    for p in data.files:
        p.read_bytes()
    print(f"\narchive: {len(data.files)} files written in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return data


# --- the servers ----------------------------------------------------------------------------------


PYNETDICOM_SCP = textwrap.dedent("""
    import re, sys, time
    from pathlib import Path
    import pydicom
    from pydicom.dataset import Dataset
    from pynetdicom import AE, evt, StoragePresentationContexts
    from pynetdicom.sop_class import (StudyRootQueryRetrieveInformationModelFind,
                                      StudyRootQueryRetrieveInformationModelGet,
                                      PatientRootQueryRetrieveInformationModelFind,
                                      PatientRootQueryRetrieveInformationModelGet)

    folder, port, pdu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    KEYS = ["PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
            "StudyTime", "StudyID", "AccessionNumber", "StudyDescription", "ReferringPhysicianName",
            "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "SOPInstanceUID",
            "SOPClassUID", "InstanceNumber"]
    UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
              "IMAGE": "SOPInstanceUID"}
    LEVEL_KEYS = {"PATIENT": KEYS[:4], "STUDY": KEYS[:11], "SERIES": KEYS[:15], "IMAGE": KEYS}
    records = []
    for path in sorted(Path(folder).rglob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=KEYS)
        record = {k: str(ds.get(k, "")) for k in KEYS}
        record["path"] = str(path)
        records.append(record)

    def matcher(value):
        value = str(value)
        if not value or value == "*":
            return None
        if "*" in value or "?" in value:
            pattern = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
                                 + r"\\Z", re.S)
            return lambda text: pattern.match(text) is not None
        if "\\\\" in value:
            options = set(value.split("\\\\"))
            return lambda text: text in options
        return lambda text: text == value

    def matches(identifier):
        level = str(identifier.get("QueryRetrieveLevel", ""))
        if level not in UNIQUE:
            return level, None
        tests = []
        for element in identifier:
            keyword = element.keyword
            if keyword in KEYS and keyword in LEVEL_KEYS[level]:
                test = matcher(element.value if element.value is not None else "")
                if test is not None:
                    tests.append((keyword, test))
        seen, found = set(), []
        for record in records:
            if all(test(record[k]) for k, test in tests):
                key = record[UNIQUE[level]]
                if key not in seen:
                    seen.add(key)
                    found.append(record)
        return level, found

    def handle_find(event):
        identifier = event.identifier
        level, found = matches(identifier)
        if found is None:
            yield 0xA900, None
            return
        for record in found:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            answer = Dataset()
            answer.QueryRetrieveLevel = level
            for element in identifier:
                keyword = element.keyword
                if keyword in record:
                    setattr(answer, keyword, record[keyword] or None)
                elif keyword and keyword != "QueryRetrieveLevel":
                    answer.add(element)
            if "SpecificCharacterSet" in identifier:
                answer.SpecificCharacterSet = identifier.SpecificCharacterSet
            yield 0xFF00, answer

    def handle_get(event):
        level, found = matches(event.identifier)
        if found is None:
            yield 0
            yield 0xA900, None
            return
        keys = {f[UNIQUE[level]] for f in found}
        send = [r for r in records if r[UNIQUE[level]] in keys]
        yield len(send)
        for record in send:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, pydicom.dcmread(record["path"])

    ae = AE("PYNETDICOM")
    ae.maximum_pdu_size = pdu
    ae.maximum_associations = 16
    for uid in (StudyRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelGet,
                PatientRootQueryRetrieveInformationModelFind, PatientRootQueryRetrieveInformationModelGet):
        ae.add_supported_context(uid)
    for context in StoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, scu_role=True, scp_role=True)
    ae.start_server(("127.0.0.1", port), evt_handlers=[(evt.EVT_C_FIND, handle_find), (evt.EVT_C_GET, handle_get)])
""")


def _nodelay_env() -> dict[str, str]:
    return {**os.environ, "TCP_NODELAY": "1"}


class Server:
    """A Q/R SCP process holding the archive: `port`, `ae_title`, `stop()`, `setup_seconds`."""

    process: subprocess.Popen
    port: int
    ae_title: str
    setup_seconds: float = 0.0
    version: str = "?"

    def stop(self) -> None:
        stop_process(self.process)


class TurbodicomServer(Server):
    def __init__(self, data: Archive, work: Path) -> None:
        self.port, self.ae_title = free_port(), "QRSCP"
        start = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "turbodicom.cli.main", "qrscp", "--dir", str(data.root), "--port", str(self.port),
             "--max-pdu", str(PDU), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.port, 120, self.process)
        self.setup_seconds = time.monotonic() - start
        self.version = _version("turbodicom")


class PynetdicomServer(Server):
    def __init__(self, data: Archive, work: Path) -> None:
        try:
            self.version = metadata.version("pynetdicom")
        except metadata.PackageNotFoundError:
            pytest.skip("pynetdicom is not installed")
        self.port, self.ae_title = free_port(), "PYNETDICOM"
        start = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-c", PYNETDICOM_SCP, str(data.root), str(self.port),
                                         str(PDU)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.port, 180, self.process)
        self.setup_seconds = time.monotonic() - start


class DcmqrscpServer(Server):
    def __init__(self, data: Archive, work: Path) -> None:
        binary = executable("/usr/bin/dcmqrscp", "/usr/local/bin/dcmqrscp")
        storescu = executable("/usr/bin/storescu", "/usr/local/bin/storescu")
        if binary is None or storescu is None:
            pytest.skip("DCMTK dcmqrscp or storescu is not installed")
        self.port, self.ae_title = free_port(), "QRSCP"
        storage = work / "dcmqrscp"
        storage.mkdir()
        config = work / "dcmqrscp.cfg"
        config.write_text(textwrap.dedent(f"""\
            NetworkTCPPort  = {self.port}
            MaxPDUSize      = {PDU}
            MaxAssociations = 16
            HostTable BEGIN
            HostTable END
            VendorTable BEGIN
            VendorTable END
            AETable BEGIN
            {self.ae_title}  {storage}  RW  (500, 2048mb)  ANY
            AETable END
        """))
        start = time.monotonic()
        self.process = subprocess.Popen([binary, "-q", "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=_nodelay_env(), cwd=work)
        wait_for(self.port, 20, self.process)
        # storescu reads the folder itself (+sd, +r); one association for all 10,500 files.
        subprocess.run([storescu, "-aec", self.ae_title, "-pdu", str(PDU), "+sd", "+r", "127.0.0.1",
                        str(self.port), str(data.root)], check=True, env=_nodelay_env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.setup_seconds = time.monotonic() - start
        first = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split("\n")[0].split()
        self.version = first[2] if len(first) > 2 else "?"


class OrthancServer(Server):
    def __init__(self, data: Archive, work: Path) -> None:
        binary = executable("/usr/sbin/Orthanc", "/usr/bin/Orthanc", shutil.which("Orthanc") or "")
        if binary is None:
            pytest.skip("Orthanc is not installed")
        self.port, self.http_port, self.ae_title = free_port(), free_port(), "ORTHANC"
        folder = work / "orthanc"
        folder.mkdir()
        config = {
            "Name": "turbodicom-bench",
            "DicomAet": self.ae_title,
            "DicomPort": self.port,
            "HttpPort": self.http_port,
            "StorageDirectory": str(folder / "storage"),
            "IndexDirectory": str(folder / "index"),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": False,
            "DicomCheckModalityHost": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowGet": True,
            "DicomAlwaysAllowMove": True,
            "DicomModalities": {"bench": ["BENCH_SCU", "127.0.0.1", 11112]},
            "MaximumPduLength": PDU,
            "Plugins": [],
            "LimitFindResults": 0,
            "LimitFindInstances": 0,
            "SaveJobs": False,
            "LogExportedResources": False,
        }
        (folder / "orthanc.json").write_text(json.dumps(config))
        start = time.monotonic()
        self.process = subprocess.Popen([binary, str(folder / "orthanc.json")], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=_nodelay_env())
        deadline = time.monotonic() + 30
        while True:
            try:
                self.version = self._rest("GET", "/system")["Version"]
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Orthanc did not start")
                time.sleep(0.1)
        self._upload(data.files)
        stats = self._rest("GET", "/statistics")
        assert stats["CountInstances"] == len(data.files), stats
        self.setup_seconds = time.monotonic() - start

    def _rest(self, method: str, path: str, body: bytes | None = None, connection=None):
        own = connection is None
        connection = connection or http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=60)
        try:
            connection.request(method, path, body=body)
            response = connection.getresponse()
            data = response.read()
            if response.status >= 400:
                raise RuntimeError(f"Orthanc: {method} {path}: HTTP {response.status} {data[:200]!r}")
        finally:
            if own:
                connection.close()
        return json.loads(data) if data[:1] in (b"{", b"[") else data

    def _upload(self, files: list[Path], threads: int = 4) -> None:
        """POST /instances over keep-alive connections, one per thread."""
        chunks = [files[i::threads] for i in range(threads)]

        def upload(chunk: list[Path]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=60)
            try:
                for path in chunk:
                    self._rest("POST", "/instances", path.read_bytes(), connection)
            finally:
                connection.close()

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(upload, chunks))


SERVERS = {"turbodicom": TurbodicomServer, "dcmqrscp": DcmqrscpServer, "orthanc": OrthancServer,
           "pynetdicom": PynetdicomServer}


@pytest.fixture(scope="session")
def servers(archive, tmp_path_factory):
    """Start each server on first use, and keep it for the session."""
    running: dict[str, Server] = {}

    def get(kind: str) -> Server:
        if kind not in running:
            server = SERVERS[kind](archive, tmp_path_factory.mktemp(f"qr_{kind}"))
            print(f"\n{kind}: ready with {len(archive.files)} instances in {server.setup_seconds:.1f} s",
                  file=sys.stderr)
            running[kind] = server
        return running[kind]

    yield get
    for server in running.values():
        server.stop()


def _version(kind: str) -> str:
    try:
        return metadata.version(kind)
    except metadata.PackageNotFoundError:
        return "?"


# --- the client -----------------------------------------------------------------------------------


def _study_query() -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientName = "A*"
    ds.PatientID = ""
    ds.StudyInstanceUID = ""
    ds.StudyDate = ""
    ds.StudyTime = ""
    ds.AccessionNumber = ""
    ds.StudyID = ""
    ds.StudyDescription = ""
    return ds


def _image_query(study_uid: str, series_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.SOPInstanceUID = ""
    ds.SOPClassUID = ""
    ds.InstanceNumber = ""
    return ds


def _find_round(server: Server, query: Dataset):
    from turbodicom.net import AE

    ae = AE("BENCH_SCU")
    ae.maximum_pdu_size = PDU  # what we accept; associate(max_pdu=PDU) only announces it
    ae.add_requested_context(STUDY_ROOT_FIND, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])

    def run() -> int:
        assoc = ae.associate("127.0.0.1", server.port, ae_title=server.ae_title, max_pdu=PDU)
        assert assoc.is_established
        count = 0
        status = None
        for status, identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
            if identifier is not None and status.Status in (0xFF00, 0xFF01):
                count += 1
        assoc.release()
        assert status is not None and status.Status == 0x0000, status
        return count

    return run


def _get_round(server: Server, data: Archive, inbox: Path):
    from turbodicom.net import AE, build_role, evt

    ae = AE("BENCH_SCU")
    ae.maximum_pdu_size = PDU  # what we accept; associate(max_pdu=PDU) only announces it
    ae.add_requested_context(STUDY_ROOT_GET, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    ae.add_requested_context(CT_STORAGE, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    roles = [build_role(CT_STORAGE, scp_role=True)]
    query = Dataset()
    query.QueryRetrieveLevel = "SERIES"
    query.StudyInstanceUID, query.SeriesInstanceUID = data.ct_series

    def store(event) -> int:
        uid = str(event.request.AffectedSOPInstanceUID).rstrip("\0 ")
        with open(inbox / f"{uid}.dcm", "wb") as f:
            f.write(event.encoded_dataset())
        return 0x0000

    def run() -> Dataset:
        assoc = ae.associate("127.0.0.1", server.port, ae_title=server.ae_title, max_pdu=PDU, ext_neg=roles,
                             evt_handlers=[(evt.EVT_C_STORE, store)])
        assert assoc.is_established
        status = None
        for status, _identifier in assoc.send_c_get(query, STUDY_ROOT_GET):
            pass
        assoc.release()
        return status

    return run


@pytest.fixture
def inbox():
    folder = make_inbox("qr")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _common_info(benchmark, kind: str, server: Server, group: str) -> None:
    benchmark.extra_info.update({"library": kind, "label": kind, "version": server.version, "chart": CHART})
    if kind in ("dcmqrscp", "orthanc"):
        benchmark.extra_info["peer"] = True


def _report_ratios(benchmark, group: str, kind: str, capsys, target_vs_pynetdicom: float | None) -> None:
    """Record the mean; for turbodicom (run last), its ratio to each other server."""
    mean = benchmark.stats.stats.mean
    _means[(group, kind)] = mean
    if kind != "turbodicom":
        return
    lines = []
    peers = {k: _means[(group, k)] for k in ("dcmqrscp", "orthanc") if (group, k) in _means}
    if peers:
        fastest = min(peers, key=peers.get)
        benchmark.extra_info["speedup_vs_fastest_peer"] = peers[fastest] / mean
        lines.append(f"{peers[fastest] / mean:.1f}x {fastest} (the faster peer)")
    if (group, "pynetdicom") in _means:
        ratio = _means[(group, "pynetdicom")] / mean
        benchmark.extra_info["speedup_vs_pynetdicom"] = ratio
        lines.append(f"{ratio:.1f}x pynetdicom" + (f" (target {target_vs_pynetdicom:g}x)"
                                                    if target_vs_pynetdicom else ""))
        if target_vs_pynetdicom:
            benchmark.extra_info["target_vs_pynetdicom"] = target_vs_pynetdicom
    with capsys.disabled():
        print(f"\n{group}: turbodicom {mean * 1e6:.0f} µs per round: " + ", ".join(lines))


@pytest.mark.benchmark(group="find-study")
@pytest.mark.parametrize("kind", KINDS)
def test_find_study(benchmark, archive, servers, capsys, kind):
    server = servers(kind)
    run = _find_round(server, _study_query())
    assert run() == archive.a_studies  # checks the answer, and warms up both sides
    _common_info(benchmark, kind, server, "find-study")
    benchmark.extra_info.update({
        "files": 1,
        "description": f"Study Root C-FIND at STUDY level, PatientName=A* ({archive.a_studies} of "
                       f"{STUDIES + 1} studies), {len(archive.files)} instances in the archive, one association "
                       f"per query, µs per query; targets for turbodicom: {FIND_TARGET:g}x the faster of "
                       f"dcmqrscp and Orthanc, {PYNETDICOM_FIND_TARGET:g}x pynetdicom",
    })
    if kind == "turbodicom":
        benchmark.extra_info["target_speedup"] = FIND_TARGET
    benchmark.pedantic(run, rounds=ROUNDS["find"], iterations=1)
    _report_ratios(benchmark, "find-study", kind, capsys, PYNETDICOM_FIND_TARGET)


@pytest.mark.benchmark(group="find-image")
@pytest.mark.parametrize("kind", KINDS)
def test_find_image(benchmark, archive, servers, capsys, kind):
    server = servers(kind)
    run = _find_round(server, _image_query(*archive.big_series))
    assert run() == BIG_SERIES
    _common_info(benchmark, kind, server, "find-image")
    benchmark.extra_info.update({
        "files": 1,
        "description": f"Study Root C-FIND at IMAGE level for one series ({BIG_SERIES} matches), "
                       f"{len(archive.files)} instances in the archive, one association per query, µs per "
                       f"query; targets for turbodicom: {FIND_TARGET:g}x the faster of dcmqrscp and Orthanc, "
                       f"{PYNETDICOM_FIND_TARGET:g}x pynetdicom",
    })
    if kind == "turbodicom":
        benchmark.extra_info["target_speedup"] = FIND_TARGET
    benchmark.pedantic(run, rounds=ROUNDS["find"], iterations=1)
    _report_ratios(benchmark, "find-image", kind, capsys, PYNETDICOM_FIND_TARGET)


@pytest.mark.benchmark(group="get-ct")
@pytest.mark.parametrize("kind", KINDS)
def test_get_ct(benchmark, archive, servers, capsys, inbox, kind):
    server = servers(kind)
    run = _get_round(server, archive, inbox)
    status = run()  # checks that every instance arrives, and warms up both sides
    received = list(inbox.iterdir())
    assert status is not None and status.Status == 0x0000, status
    assert len(received) == CT_SLICES, f"{len(received)} of {CT_SLICES} instances received"
    assert sum(p.stat().st_size for p in received) >= archive.ct_megabytes * 1e6 * 0.99
    empty(inbox)
    _common_info(benchmark, kind, server, "get-ct")
    benchmark.extra_info.update({
        "files": CT_SLICES,
        "megabytes": archive.ct_megabytes,
        "description": f"Study Root C-GET of a {CT_SLICES}-slice CT series ({archive.ct_megabytes:.0f} MB, "
                       f"512 x 512) into tmpfs, one association, {PDU // 1024} KiB PDUs; target for "
                       f"turbodicom: {GET_TARGET:g}x the faster of dcmqrscp and Orthanc",
    })
    if kind == "turbodicom":
        benchmark.extra_info["target_speedup"] = GET_TARGET
    benchmark.pedantic(run, setup=lambda: empty(inbox), rounds=ROUNDS["get"], iterations=1)
    _report_ratios(benchmark, "get-ct", kind, capsys, None)
