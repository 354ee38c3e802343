"""Storing a CT series over loopback: turbodicom, DCMTK and pynetdicom as SCU and SCP.

One round stores every file of a 500-slice CT series (512 x 512, about 250 MB) from an
SCU to an SCP that writes each instance into a folder on tmpfs (/dev/shm), over one
association. Each SCP is a server process started once per benchmark; the folder is
emptied between rounds (not timed). DCMTK runs with ``TCP_NODELAY=1`` in its
environment and a 128 KiB maximum PDU on both sides, turbodicom and pynetdicom with the
same PDU size. Reported in MB/s (the bytes of the files sent), ratios against
DCMTK -> DCMTK:

* ``store-loopback``: turbodicom -> turbodicom (target 1.5x DCMTK -> DCMTK),
  turbodicom -> DCMTK and DCMTK -> turbodicom (each target 1.0x), DCMTK -> DCMTK
  (baseline);
* ``store-pynetdicom``: turbodicom -> turbodicom against pynetdicom -> pynetdicom
  (baseline, target 10x), on the first 100 files (pynetdicom takes seconds per round).

The turbodicom SCU is the Python API in this process (``AE.associate`` and
``send_c_store(path)`` for each file); the SCPs are ``turbodicom storescp``, DCMTK's
``storescp`` and a pynetdicom storage SCP, each in its own process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pydicom
import pytest

from make_ct_series import CORPUS, default_source, make_ct_series
from net_servers import dcmtk, empty, free_port, make_inbox, stop_process, wait_for

CHART = "network"
SERIES = 500
PYNETDICOM_FILES = 100
PDU = 131072
ROUNDS = {"fast": 8, "pynetdicom": 2}
STORE_TARGET = 1.5
PEER_TARGET = 1.0
PYNETDICOM_TARGET = 10.0
BIG_CT = CORPUS / "pydicom-data" / "693_UNCI.dcm"  # a 512 x 512 CT slice


@pytest.fixture(scope="session")
def series(tmp_path_factory) -> list[Path]:
    """500 CT slices of 512 x 512 (the corpus' CQ500 slice with new identifiers)."""
    source = BIG_CT if BIG_CT.is_file() else default_source()
    out = tmp_path_factory.mktemp("net_series")
    paths = make_ct_series(out, n=SERIES, source=source)
    os.sync()
    for p in paths:
        p.read_bytes()
    return paths


@pytest.fixture
def inbox():
    folder = make_inbox("net")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


PYNETDICOM_SCP = textwrap.dedent("""
    import sys
    from pynetdicom import AE, evt, AllStoragePresentationContexts
    out, port = sys.argv[1], int(sys.argv[2])
    def handle(event):
        with open(f"{out}/{event.request.AffectedSOPInstanceUID}.dcm", "wb") as f:
            f.write(event.encoded_dataset())
        return 0x0000
    ae = AE("PYNETDICOM")
    ae.maximum_pdu_size = %d
    ae.supported_contexts = AllStoragePresentationContexts
    ae.start_server(("127.0.0.1", port), evt_handlers=[(evt.EVT_C_STORE, handle)])
""" % PDU)


def _scp_command(kind: str, port: int, out: Path) -> list[str] | None:
    if kind == "turbodicom":
        return [sys.executable, "-m", "turbodicom.cli.main", "storescp", "--port", str(port), "--out", str(out),
                "--max-pdu", str(PDU), "--quiet"]
    if kind == "dcmtk":
        storescp = dcmtk("storescp")
        return None if storescp is None else [storescp, "-pdu", str(PDU), "-od", str(out), str(port)]
    if kind == "pynetdicom":
        return [sys.executable, "-c", PYNETDICOM_SCP, str(out), str(port)]
    raise ValueError(kind)


class Server:
    def __init__(self, kind: str, out: Path) -> None:
        command = _scp_command(kind, 0, out)
        if command is None:
            pytest.skip(f"{kind} SCP is not installed")
        self.port = free_port()
        command = _scp_command(kind, self.port, out)
        env = {**os.environ, "TCP_NODELAY": "1"}
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_for(self.port)

    def stop(self) -> None:
        stop_process(self.process, timeout=10)


def _sop_class(paths: list[Path]) -> str:
    return pydicom.dcmread(paths[0], stop_before_pixels=True).SOPClassUID


def _transfer_syntax(paths: list[Path]) -> str:
    return pydicom.dcmread(paths[0], stop_before_pixels=True).file_meta.TransferSyntaxUID


def _turbodicom_scu(paths: list[Path], port: int):
    from turbodicom.net import AE

    ae = AE("TURBO_SCU")
    ae.add_requested_context(_sop_class(paths), _transfer_syntax(paths))
    names = [str(p) for p in paths]

    def run() -> None:
        assoc = ae.associate("127.0.0.1", port, max_pdu=PDU)
        assert assoc.is_established
        for name in names:
            status = assoc.send_c_store(name)
            assert status and status.Status == 0
        assoc.release()

    return run


def _dcmtk_scu(paths: list[Path], port: int):
    storescu = dcmtk("storescu")
    if storescu is None:
        pytest.skip("DCMTK storescu is not installed")
    command = [storescu, "-pdu", str(PDU), "127.0.0.1", str(port), *map(str, paths)]
    env = {**os.environ, "TCP_NODELAY": "1"}

    def run() -> None:
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return run


def _pynetdicom_scu(paths: list[Path], port: int):
    pynetdicom = pytest.importorskip("pynetdicom")
    ae = pynetdicom.AE("PYNETDICOM")
    ae.add_requested_context(_sop_class(paths), _transfer_syntax(paths))
    names = [str(p) for p in paths]

    def run() -> None:
        assoc = ae.associate("127.0.0.1", port, max_pdu=PDU)
        assert assoc.is_established
        for name in names:
            status = assoc.send_c_store(name)
            assert status and status.Status == 0
        assoc.release()

    return run


SCUS = {"turbodicom": _turbodicom_scu, "dcmtk": _dcmtk_scu, "pynetdicom": _pynetdicom_scu}


def _version(kind: str) -> str:
    if kind == "dcmtk":
        storescu = dcmtk("storescu")
        if storescu:
            first = subprocess.run([storescu, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
            return first.split()[2] if len(first.split()) > 2 else "?"
        return "?"
    try:
        return metadata.version(kind)
    except metadata.PackageNotFoundError:
        return "?"


def _measure(benchmark, scu: str, scp: str, paths: list[Path], inbox: Path, *, group: str, baseline: bool,
             target: float | None, rounds: int) -> None:
    server = Server(scp, inbox)
    try:
        run = SCUS[scu](paths, server.port)
        run()  # a first transfer: checks that everything arrives, and warms up both sides
        stored = [p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")]
        assert len(stored) == len(paths), f"{len(stored)} of {len(paths)} files stored"
        empty(inbox)
        size = sum(p.stat().st_size for p in paths)
        benchmark.extra_info.update({
            "library": scu if scu == scp else f"{scu} -> {scp}",
            "label": f"{scu} -> {scp}",
            "version": f"{_version(scu)} / {_version(scp)}" if scu != scp else _version(scu),
            "files": len(paths),
            "megabytes": size / 1e6,
            "chart": CHART,
            "description": f"{len(paths)} CT files of {size / len(paths) / 1e3:.0f} kB stored over loopback "
                           f"into tmpfs, one association, {PDU // 1024} KiB PDUs",
        })
        if baseline:
            benchmark.extra_info["baseline"] = True
        if target is not None:
            benchmark.extra_info["target_speedup"] = target
        benchmark.pedantic(run, setup=lambda: empty(inbox), rounds=rounds, iterations=1)
    finally:
        server.stop()


PAIRS = [
    ("dcmtk", "dcmtk", True, None),
    ("turbodicom", "turbodicom", False, STORE_TARGET),
    ("turbodicom", "dcmtk", False, PEER_TARGET),
    ("dcmtk", "turbodicom", False, PEER_TARGET),
]


@pytest.mark.benchmark(group="store-loopback")
@pytest.mark.parametrize("scu,scp,baseline,target", PAIRS, ids=[f"{a}-{b}" for a, b, _, _ in PAIRS])
def test_store_loopback(benchmark, series, inbox, scu, scp, baseline, target):
    _measure(benchmark, scu, scp, series, inbox, group="store-loopback", baseline=baseline, target=target,
             rounds=ROUNDS["fast"])


@pytest.mark.benchmark(group="store-pynetdicom")
@pytest.mark.parametrize("kind", ["pynetdicom", "turbodicom"])
def test_store_against_pynetdicom(benchmark, series, inbox, kind):
    _measure(benchmark, kind, kind, series[:PYNETDICOM_FILES], inbox, group="store-pynetdicom",
             baseline=kind == "pynetdicom", target=PYNETDICOM_TARGET if kind == "turbodicom" else None,
             rounds=ROUNDS["pynetdicom"] if kind == "pynetdicom" else ROUNDS["fast"])
