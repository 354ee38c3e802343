"""What the network benchmarks share: free ports, waiting for a server, finding the peers'
programs, and an inbox folder on tmpfs emptied between rounds."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SHM = Path("/dev/shm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    """Wait until something accepts connections on `port` (or `process` exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"no server on port {port}")


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate a server, and kill it when it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def executable(*candidates: str) -> str | None:
    """The first of `candidates` that can be run, or None."""
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    return None


def dcmtk(tool: str) -> str | None:
    """DCMTK's `tool` by absolute path (pynetdicom installs scripts of the same names)."""
    return executable(*(os.path.join(folder, tool) for folder in ("/usr/bin", "/usr/local/bin")))


def make_inbox(name: str) -> Path:
    """A new folder on tmpfs (or /tmp) for what a benchmark receives."""
    base = SHM if SHM.is_dir() else Path("/tmp")
    folder = base / f"turbodicom-bench-{name}-{os.getpid()}-{time.monotonic_ns()}"
    folder.mkdir()
    return folder


def empty(folder: Path) -> None:
    """Remove everything in `folder` (between rounds, not timed)."""
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
