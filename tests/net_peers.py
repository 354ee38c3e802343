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


@contextlib.contextmanager
def process(args: list[str], port: int, **kwargs):
    """Run a server process until the block ends."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    try:
        wait_for_port(port)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dataset_bytes(path: str | Path) -> bytes:
    """The data set of a Part 10 file, as stored (after the File Meta Information)."""
    from turbodicom.net.association import _StoredFile

    stored = _StoredFile(path)
    with open(stored.path, "rb") as f:
        f.seek(stored.offset)
        return f.read()
