"""Helpers for the network tests: free ports, DCMTK's tools, and servers started and stopped
around a test."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

DCMTK_DIRS = ("/usr/bin", "/usr/local/bin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dcmtk(tool: str) -> str:
    """The path of DCMTK's `tool` (pynetdicom installs Python scripts of the same names, so
    PATH alone is not enough): skips the test when DCMTK is not installed."""
    candidates = [os.path.join(d, tool) for d in DCMTK_DIRS] + [shutil.which(tool) or ""]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            try:
                out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if "dcmtk" in (out.stdout + out.stderr).lower():
                return path
    pytest.skip(f"DCMTK's {tool} is not installed")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> int:
    """Terminate `proc`, kill it when it has not exited within `timeout` seconds; its exit status."""
    proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


@contextlib.contextmanager
def process(args: list[str], port: int, **kwargs):
    """Run a server process until the block ends."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    try:
        wait_for_port(port)
        yield proc
    finally:
        stop_process(proc, timeout=10)


def dataset_bytes(source: str | Path | bytes) -> bytes:
    """The data set of a Part 10 file (its path, or its bytes) as stored: what follows the
    File Meta Information, which pydicom's reader locates."""
    import io

    from pydicom.filereader import _read_file_meta_info, read_preamble

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    stream = io.BytesIO(data)
    read_preamble(stream, False)
    _read_file_meta_info(stream)
    return data[stream.tell():]


class QRSCP:
    """``turbodicom qrscp`` in a process, on a port it picks (``port``): ``first`` is the line
    it prints when ready, ``title`` its AE title, ``files`` how many instances it serves,
    ``lines`` what it prints after that (read as it comes). ``stop()``: (exit status, that
    output, stderr)."""

    def __init__(self, *options: str) -> None:
        import re
        import sys
        import threading

        self.proc = subprocess.Popen([sys.executable, "-m", "turbodicom.cli.main", "qrscp", "--port", "0", *options],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.first = self.proc.stdout.readline()
        match = re.match(r"listening on [\d.]+:(\d+) as (\S+), serving (\d+) files", self.first)
        if match is None:
            self.proc.kill()
            raise AssertionError(f"qrscp did not start: {self.first}{self.proc.communicate()[1]}")
        self.port, self.title, self.files = int(match.group(1)), match.group(2), int(match.group(3))
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(line.rstrip("\n") for line in self.proc.stdout),
                                        daemon=True)
        self._reader.start()

    def stop(self) -> tuple[int, str, str]:
        code = stop_process(self.proc)
        self._reader.join(timeout=5)
        return code, "".join(line + "\n" for line in self.lines), self.proc.stderr.read()


class Orthanc:
    """Orthanc (the Debian package) in a process, with a minimal configuration: its DICOM
    port (`dicom_port`, a free one unless given) and HTTP port (`http_port`), the
    `modalities` it knows ({name: [AE title, host, port]}), C-ECHO and C-STORE accepted from
    any AE, and `allowed` more services from any AE ("Find", "Get", "Move"). Skips the test
    when Orthanc is not installed. `rest()` answers parsed JSON, or the bytes of other
    answers; what Orthanc prints goes to orthanc.log in `folder`."""

    def __init__(self, folder: Path, modalities: dict, dicom_port: int | None = None,
                 allowed: tuple[str, ...] = ()) -> None:
        import json

        binary = next((path for path in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc", shutil.which("Orthanc") or "")
                       if path and os.access(path, os.X_OK)), None)
        if binary is None:
            pytest.skip("Orthanc is not installed")
        self.dicom_port = dicom_port or free_port()
        self.http_port = free_port()
        config = {
            "Name": "turbodicom-test", "DicomAet": "ORTHANC", "DicomPort": self.dicom_port,
            "HttpPort": self.http_port, "StorageDirectory": str(folder / "storage"),
            "IndexDirectory": str(folder / "index"), "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "DicomCheckCalledAet": False, "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True, "DicomCheckModalityHost": False, "DicomModalities": modalities,
            "Plugins": [], "ConcurrentJobs": 1, "LogExportedResources": False,
            **{f"DicomAlwaysAllow{service}": True for service in allowed},
        }
        self.config_path = folder / "orthanc.json"
        self.config_path.write_text(json.dumps(config))
        self.log = folder / "orthanc.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([binary, str(self.config_path)], stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "TCP_NODELAY": "1"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.rest("GET", "/system")
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("Orthanc exited: " + self.log.read_text(errors="replace")[-2000:])
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("Orthanc did not start")

    def rest(self, method: str, path: str, body: bytes | dict | str | None = None):
        import json
        import urllib.request

        if isinstance(body, (dict, str)):
            body = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=body, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
        return json.loads(data) if data[:1] in (b"{", b"[") else data

    def stop(self) -> None:
        stop_process(self.process)
