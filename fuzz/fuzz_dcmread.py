"""atheris target: turbodicom.dcmread over arbitrary bytes.

    python fuzz/fuzz_dcmread.py CORPUS_DIR [SEED_DIR ...] [libFuzzer flags]
    e.g. python fuzz/fuzz_dcmread.py corpus seeds -max_total_time=30 -timeout=2 -rss_limit_mb=2048

``dcmread(data, force=True)`` must return a dataset or raise
``turbodicom.InvalidDicomError``; any other exception, a crash or a hang is a
finding. Each dataset's values are then all converted (turbodicom converts the
common VRs in C++), where pydicom's own conversion errors are allowed.

With TURBODICOM_FUZZ_PYDICOM=1 the outcome is also compared with pydicom's:
when pydicom raises, turbodicom must raise InvalidDicomError, and when pydicom
reads the input, the two datasets must be equal.
"""

from __future__ import annotations

import io
import os
import sys
import warnings

import atheris

# Instrument turbodicom only: pydicom is imported first so that it is not.
import pydicom  # noqa: E402
from pydicom.sequence import Sequence  # noqa: E402

with atheris.instrument_imports(include=["turbodicom"]):
    import turbodicom

DIFFERENTIAL = os.environ.get("TURBODICOM_FUZZ_PYDICOM") == "1"
warnings.simplefilter("ignore")


def touch(ds, depth: int = 0) -> None:
    """Convert every value; pydicom's converters may raise on damaged values."""
    datasets = [ds.file_meta, ds] if depth == 0 else [ds]
    for dataset in datasets:
        for tag in list(dataset.keys()):
            try:
                elem = dataset[tag]
            except Exception:
                continue
            if isinstance(elem.value, Sequence) and depth < 16:
                for item in elem.value:
                    touch(item, depth + 1)


def same(a, b) -> bool:
    try:
        return a == b and a.file_meta == b.file_meta and a.preamble == b.preamble
    except Exception:
        return True  # a value neither can convert: left to tests/test_malformed.py


def TestOneInput(data: bytes) -> None:
    for kwargs in ({"force": True}, {"force": True, "stop_before_pixels": True}):
        try:
            ds = turbodicom.dcmread(data, **kwargs)
        except turbodicom.InvalidDicomError:
            ds = None
        if ds is not None:
            touch(ds)
        if DIFFERENTIAL:
            buffer = io.BytesIO(data)
            buffer.name = "<bytes>"
            try:
                theirs = pydicom.dcmread(buffer, **kwargs)
            except Exception as exc:  # any failure of pydicom's
                if ds is not None:
                    raise AssertionError(f"pydicom raised {exc!r}, turbodicom returned a dataset") from None
                continue
            if ds is None:
                raise AssertionError("pydicom read the input, turbodicom raised InvalidDicomError")
            mine = turbodicom.dcmread(data, **kwargs)  # fresh: touch() converted the first one
            if not same(theirs, mine):
                raise AssertionError("the dataset differs from pydicom's")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
