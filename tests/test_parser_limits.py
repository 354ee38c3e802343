"""Inputs crafted to make a reader slow: reading time stays linear in the input size."""

from __future__ import annotations

import struct
import time

import turbodicom


def chained_undefined_values(elements: int, chain: int) -> bytes:
    """Undefined-length OB elements whose first item jumps to one long chain of
    empty items without a delimiter; each element's own delimiter follows its
    first item, so every element first walks the whole chain, then finds it."""
    header = 12 + 8 + 8  # element header, item header, delimiter
    chain_start = elements * header
    out = bytearray()
    for i in range(elements):
        here = len(out)
        out += struct.pack("<HH2sHI", 0x0009, 0x1000 + (i % 0xF000), b"OB", 0, 0xFFFFFFFF)
        jump = chain_start - (here + 12 + 8)
        out += struct.pack("<HHI", 0xFFFE, 0xE000, jump)
        out += struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    out += struct.pack("<HHI", 0xFFFE, 0xE000, 0) * chain
    return bytes(out)


def test_walks_over_items_do_not_repeat() -> None:
    data = chained_undefined_values(25_000, 25_000)
    start = time.perf_counter()
    try:
        turbodicom.dcmread(data, force=True)
    except turbodicom.InvalidDicomError:
        pass
    assert time.perf_counter() - start < 1.0
