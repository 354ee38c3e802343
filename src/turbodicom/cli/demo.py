"""``turbodicom demo``: pydicom's bundled test files, read by turbodicom and by pydicom.

Needs no download. Every DICOM file among ``pydicom.data.get_testdata_files()``
(the text, JSON, dump, ICC and gzip files there are skipped) is read by both
libraries in full and with ``stop_before_pixels=True``; the two results agree
when the datasets are equal, the file meta groups are equal, the preambles,
original encodings and warnings are the same, or when both libraries refuse the
file (some are broken on purpose). Files without the 'DICM' prefix are read
with ``force=True``, as pydicom needs.

Then both libraries are timed on the same files (header-only and full reads,
best of a few rounds) and on reading CT_small.dcm and accessing ten attributes,
``--repeat`` times.

Then :func:`turbodicom.scan` reads eight attributes of every file into a table
(a few rows are shown, one per modality); its values are checked against a
loop of ``pydicom.dcmread(path, stop_before_pixels=True, specific_tags=tags,
force=True)`` and both are timed (best of a few rounds). The exit status is 1
if any file or scanned value disagrees.

Last, every RLE and JPEG file is decoded by :func:`turbodicom.pixel_array` and by
pydicom with its first other working plugin (its own RLE decoder, pylibjpeg, GDCM or
Pillow, whichever is installed); the arrays must agree (lossless exactly, lossy within
2) and both are timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from turbodicom.cli.arguments import positive_int

from turbodicom.cli.progress import Progress

#: What a typical indexing or sorting pass reads from each file.
ATTRIBUTES = (
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "Modality",
    "Rows",
    "Columns",
    "InstanceNumber",
    "ImagePositionPatient",
    "PixelSpacing",
)
#: What the scan part of the demo reads from every file, and how its table heads them.
SCAN_TAGS = {
    "PatientID": "PatientID",
    "Modality": "Modality",
    "StudyDate": "StudyDate",
    "Rows": "Rows",
    "Columns": "Columns",
    "NumberOfFrames": "Frames",
    "BitsAllocated": "Bits",
    "PhotometricInterpretation": "Photometric",
}
SCAN_ROWS = 4  # rows of the scan table shown
SCAN_CELL = 14  # characters of a cell shown
SCAN_FILE_CELL = 20  # characters of a file name shown
SAMPLE = "CT_small.dcm"
ROUNDS = 5  # timed passes over the test files per library and read mode; the best one counts
DEFAULT_REPEAT = 200
MAX_PROBLEM = 120  # characters of a disagreement shown in the summary

Reader = Callable[..., Any]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo",
        help="check turbodicom against pydicom on pydicom's test files, and time both",
        description=(
            "Read every DICOM file bundled with pydicom with turbodicom and with pydicom, "
            "check that the results agree, and compare their speed. Needs no download; "
            "takes a few seconds. Exit status 1 if any file disagrees."
        ),
    )
    parser.add_argument(
        "--repeat", type=positive_int, default=DEFAULT_REPEAT, metavar="N",
        help=f"how many times to read {SAMPLE} and access {len(ATTRIBUTES)} attributes "
             f"(default {DEFAULT_REPEAT})",
    )
    return parser


# -- the files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoFile:
    path: str
    name: str    # relative to pydicom's test file folder
    force: bool  # no 'DICM' prefix: read with force=True


def find_test_files() -> tuple[list[DemoFile], int]:
    """The DICOM files bundled with pydicom, and how many other files were skipped.

    A file is DICOM if it has the 'DICM' prefix or its name ends in '.dcm'.
    """
    from pydicom.data import get_testdata_file, get_testdata_files

    root = os.path.dirname(get_testdata_file(SAMPLE))
    files = []
    skipped = 0
    for path in get_testdata_files():
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            prefixed = f.read(132)[128:] == b"DICM"
        if not prefixed and not path.lower().endswith(".dcm"):
            skipped += 1
            continue
        name = os.path.relpath(path, root).replace(os.sep, "/")
        files.append(DemoFile(path, name, not prefixed))
    files.sort(key=lambda f: f.name)
    return files, skipped


# -- agreement ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    dataset: Any
    error: Exception | None
    warnings: list[str]


def read_outcome(dcmread: Reader, demo_file: DemoFile, stop_before_pixels: bool) -> Outcome:
    """Read `demo_file`, catching the exception and recording the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = dcmread(demo_file.path, stop_before_pixels=stop_before_pixels, force=demo_file.force)
        except Exception as exc:  # both libraries refusing a file is a valid outcome
            return Outcome(None, exc, [str(w.message) for w in caught])
    return Outcome(ds, None, [str(w.message) for w in caught])


def _first_difference(a: Any, b: Any) -> str:
    for tag in sorted(set(a.keys()) | set(b.keys())):
        if tag not in a or tag not in b or a[tag] != b[tag]:
            return str(tag)
    return "?"


def difference(ours: Outcome, theirs: Outcome) -> str | None:
    """How turbodicom's outcome differs from pydicom's, or None if they agree."""
    if ours.error is not None or theirs.error is not None:
        if ours.error is not None and theirs.error is not None:
            return None
        if ours.error is not None:
            return f"turbodicom raised {type(ours.error).__name__} ({ours.error}), pydicom read it"
        return f"pydicom raised {type(theirs.error).__name__} ({theirs.error}), turbodicom read it"
    a, b = ours.dataset, theirs.dataset
    try:
        if a.preamble != b.preamble:
            return "preambles differ"
        if a.file_meta != b.file_meta:
            return f"file_meta differs at {_first_difference(a.file_meta, b.file_meta)}"
        if a != b:
            return f"datasets differ at {_first_difference(a, b)}"
        if a.original_encoding != b.original_encoding:
            return f"encoding {a.original_encoding} instead of {b.original_encoding}"
    except Exception as exc:
        return f"comparing raised {type(exc).__name__}: {exc}"
    if ours.warnings != theirs.warnings:
        return f"warnings {ours.warnings} instead of {theirs.warnings}"
    return None


@dataclass
class Agreement:
    disagreements: list[tuple[str, str]]  # (file name, what differs)
    refused_by_both: int


def check_agreement(files: Sequence[DemoFile], ours: Reader, theirs: Reader) -> Agreement:
    disagreements = []
    refused = 0
    with Progress(len(files), "comparing", unit="file") as bar:
        for demo_file in files:
            for stop_before_pixels in (False, True):
                mine = read_outcome(ours, demo_file, stop_before_pixels)
                reference = read_outcome(theirs, demo_file, stop_before_pixels)
                problem = difference(mine, reference)
                if problem is not None:
                    mode = "header-only read" if stop_before_pixels else "full read"
                    if len(problem) > MAX_PROBLEM:
                        problem = problem[: MAX_PROBLEM - 3] + "..."
                    disagreements.append((demo_file.name, f"{mode}: {problem}"))
                    break
                if not stop_before_pixels and mine.error is not None:
                    refused += 1
            bar.update()
    return Agreement(disagreements, refused)


# -- timing -------------------------------------------------------------------------------------


def time_files(dcmread: Reader, files: Sequence[DemoFile], stop_before_pixels: bool) -> float:
    """Seconds to read every file once."""
    start = time.perf_counter()
    for demo_file in files:
        try:
            dcmread(demo_file.path, stop_before_pixels=stop_before_pixels, force=demo_file.force)
        except Exception:
            pass
    return time.perf_counter() - start


def time_attributes(dcmread: Reader, path: str, repeat: int, bar: Progress) -> float:
    """Seconds to read `path` and access the ten attributes, `repeat` times.

    Timed in batches so that drawing the progress bar is not counted.
    """
    batch = max(1, repeat // 100)
    elapsed = 0.0
    done = 0
    while done < repeat:
        n = min(batch, repeat - done)
        start = time.perf_counter()
        for _ in range(n):
            ds = dcmread(path)
            for keyword in ATTRIBUTES:
                getattr(ds, keyword)
        elapsed += time.perf_counter() - start
        done += n
        bar.update(n)
    return elapsed


@dataclass
class Timing:
    label: str
    count: int                 # reads per pass
    seconds: dict[str, float]  # library -> seconds per pass


def run_timings(files: Sequence[DemoFile], readers: dict[str, Reader], repeat: int) -> list[Timing]:
    modes = (("header only", True), ("full read", False))
    best = {(mode, lib): float("inf") for mode, _ in modes for lib in readers}
    order = list(readers)
    with Progress(ROUNDS * len(modes) * len(readers), "timing files", unit="pass") as bar:
        for round_index in range(ROUNDS):
            # Alternate which library goes first, so neither always finds warmer caches.
            libs = order if round_index % 2 == 0 else order[::-1]
            for mode, stop_before_pixels in modes:
                for lib in libs:
                    seconds = time_files(readers[lib], files, stop_before_pixels)
                    best[mode, lib] = min(best[mode, lib], seconds)
                    bar.update()
    timings = [Timing(f"{mode}, {len(files)} files", len(files), {lib: best[mode, lib] for lib in readers})
               for mode, _ in modes]

    from pydicom.data import get_testdata_file

    sample = get_testdata_file(SAMPLE)
    attribute_seconds = {}
    with Progress(repeat * len(readers), f"timing {SAMPLE}", unit="read") as bar:
        for lib in order:
            readers[lib](sample)  # warm up
            attribute_seconds[lib] = time_attributes(readers[lib], sample, repeat, bar)
    timings.append(Timing(f"{SAMPLE} + 10 attrs", repeat, attribute_seconds))
    return timings


# -- scan ---------------------------------------------------------------------------------------


@dataclass
class ScanCheck:
    result: Any                # the turbodicom.scan ScanResult
    disagreements: list[str]   # names of the files whose values differ from pydicom's
    seconds: dict[str, float]  # "turbodicom" / "pydicom" -> best seconds per pass


def _pydicom_values(paths: Sequence[str]) -> list[Any]:
    """The scan's values read by a pydicom loop: a list per file, or the exception raised."""
    import pydicom

    from turbodicom.scan import _plain

    tags = list(SCAN_TAGS)
    values: list[Any] = []
    for path in paths:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=tags, force=True)
            values.append([_plain(ds.get(keyword)) for keyword in tags])
        except Exception as exc:
            values.append(exc)
    return values


def check_scan(files: Sequence[DemoFile]) -> ScanCheck:
    """Scan `files` with turbodicom and pydicom, compare the values and time both."""
    import turbodicom

    paths = [f.path for f in files]
    tags = list(SCAN_TAGS)
    best = {"turbodicom": float("inf"), "pydicom": float("inf")}
    with Progress(ROUNDS * 2, "timing scan", unit="pass") as bar:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            result = turbodicom.scan(paths, tags, force=True)
            best["turbodicom"] = min(best["turbodicom"], time.perf_counter() - start)
            start = time.perf_counter()
            reference = _pydicom_values(paths)
            best["pydicom"] = min(best["pydicom"], time.perf_counter() - start)
            bar.update(2)
    disagreements = []
    for demo_file, row, theirs in zip(files, result.to_pylist(), reference):
        ours = [row[keyword] for keyword in tags] if row["error"] is None else None
        if isinstance(theirs, Exception) != (ours is None) or (ours is not None and ours != theirs):
            disagreements.append(demo_file.name)
    return ScanCheck(result, disagreements, best)


@dataclass
class PixelCheck:
    decoded: int               # files turbodicom decoded
    compared: int              # of those, files pydicom's own plugins decoded too
    by_syntax: dict[str, int]  # transfer syntax name -> files decoded
    disagreements: list[str]   # "name: what differs"
    seconds: dict[str, float]  # best seconds per pass over the compared files


_SHORT_SYNTAX_NAMES = {
    "1.2.840.10008.1.2.5": "RLE",
    "1.2.840.10008.1.2.4.50": "JPEG baseline",
    "1.2.840.10008.1.2.4.51": "JPEG extended",
    "1.2.840.10008.1.2.4.55": "JPEG progressive",
    "1.2.840.10008.1.2.4.57": "JPEG lossless",
    "1.2.840.10008.1.2.4.70": "JPEG lossless",
}


def _pydicom_plugin_array(ds: Any) -> Any:
    """The array pydicom's first working plugin other than turbodicom's gives, or None."""
    import pydicom
    from pydicom.pixels.decoders.base import get_decoder

    for name in get_decoder(ds.file_meta.TransferSyntaxUID)._available:
        if name == "turbodicom":
            continue
        try:
            return name, pydicom.pixels.pixel_array(ds, decoding_plugin=name)
        except Exception:
            continue
    return None, None


def check_pixels(files: Sequence[DemoFile]) -> PixelCheck:
    """Decode every RLE and JPEG file with turbodicom and with pydicom's other plugins.

    Lossless results must be equal; lossy ones within 2 per sample (two different
    IDCTs and colour conversions). Both are timed over the files both decode.
    """
    import numpy as np
    import pydicom

    import turbodicom
    from turbodicom import _core

    candidates = []
    for f in files:
        try:
            ds = pydicom.dcmread(f.path, force=f.force)
            ts = ds.file_meta.TransferSyntaxUID
        except Exception:
            continue
        if "PixelData" in ds and _core.pixel_codec(ts) is not None:
            candidates.append((f, ds, ts))
    by_syntax: dict[str, int] = {}
    disagreements = []
    compared = []
    for f, ds, ts in candidates:
        try:
            ours = turbodicom.pixel_array(ds)
        except Exception as exc:
            if _pydicom_plugin_array(ds)[1] is not None:
                disagreements.append(f"{f.name}: turbodicom: {exc}")
            continue
        kind = _SHORT_SYNTAX_NAMES.get(ts, ts.name)
        by_syntax[kind] = by_syntax.get(kind, 0) + 1
        plugin, theirs = _pydicom_plugin_array(ds)
        if theirs is None:
            continue
        lossy = ts in (pydicom.uid.JPEGBaseline8Bit, pydicom.uid.JPEGExtended12Bit)
        if ours.shape != theirs.shape:
            disagreements.append(f"{f.name}: shape {ours.shape} vs {theirs.shape} ({plugin})")
            continue
        worst = int(np.abs(ours.astype(np.int64) - theirs.astype(np.int64)).max()) if ours.size else 0
        if worst > (2 if lossy else 0):
            disagreements.append(f"{f.name}: differs by up to {worst} from {plugin}")
            continue
        compared.append((ds, plugin))
    best = {"turbodicom": float("inf"), "pydicom": float("inf")}
    with Progress(ROUNDS * 2, "timing pixels", unit="pass") as bar:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for ds, _plugin in compared:
                turbodicom.pixel_array(ds)
            best["turbodicom"] = min(best["turbodicom"], time.perf_counter() - start)
            start = time.perf_counter()
            for ds, plugin in compared:
                pydicom.pixels.pixel_array(ds, decoding_plugin=plugin)
            best["pydicom"] = min(best["pydicom"], time.perf_counter() - start)
            bar.update(2)
    return PixelCheck(sum(by_syntax.values()), len(compared), by_syntax, disagreements, best)


def _cell(value: Any, width: int = SCAN_CELL) -> str:
    if value is None:
        return ""
    text = "\\".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text if len(text) <= width else text[: width - 2] + ".."


def scan_table(result: Any) -> list[str]:
    """A few rows of the scan (the first file of each modality), as aligned text."""
    rows, modalities = [], set()
    for row in result.to_pylist():
        if row["error"] is None and row["Modality"] and row["Modality"] not in modalities:
            modalities.add(row["Modality"])
            rows.append([_cell(os.path.basename(row["path"]), SCAN_FILE_CELL),
                         *(_cell(row[k]) for k in SCAN_TAGS)])
        if len(rows) == SCAN_ROWS:
            break
    table = [["file", *SCAN_TAGS.values()], *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    numeric = [all(r[i].isdigit() or not r[i] for r in rows) for i in range(len(widths))]
    return ["  " + "  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(r, widths, numeric)).rstrip()
            for r in table]


# -- report -------------------------------------------------------------------------------------


def _total(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def _mean(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e3:.3f} ms"


def run(args: argparse.Namespace) -> int:
    import pydicom

    import turbodicom

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files, skipped = find_test_files()
        agreement = check_agreement(files, turbodicom.dcmread, pydicom.dcmread)
        timings = run_timings(files, {"pydicom": pydicom.dcmread, "turbodicom": turbodicom.dcmread},
                              args.repeat)
        scanned = check_scan(files)
        pixels = check_pixels(files)

    forced = sum(f.force for f in files)
    bad_files = {name for name, _ in agreement.disagreements}
    lines = [
        f"turbodicom {turbodicom.__version__} vs pydicom {pydicom.__version__}, "
        f"Python {platform.python_version()}: pydicom's bundled test files",
        "",
        f"Files    {len(files)} DICOM files ({skipped} non-DICOM skipped; "
        f"{forced} lacking 'DICM' read with force=True)",
        f"Agree    {len(files) - len(bad_files)} of {len(files)}, in full and header-only reads: "
        "equal datasets and",
        f"         file_meta, same preamble, encoding and warnings ({agreement.refused_by_both} refused by both)",
    ]
    for name, problem in agreement.disagreements:
        lines.append(f"  DIFFERS  {name}: {problem}")
    errors = sum(e is not None for e in scanned.result["error"])
    lines += [
        f"Scan     turbodicom.scan(files, {len(SCAN_TAGS)} tags, force=True): {len(scanned.result)} files, "
        f"{errors} errors; values equal to",
        f"         a pydicom loop's for {len(files) - len(scanned.disagreements)} of {len(files)}. "
        "The first file of each modality:",
        *scan_table(scanned.result),
    ]
    lines += [f"  DIFFERS  {name}: scanned values" for name in scanned.disagreements]
    syntaxes = ", ".join(f"{count} {name}" for name, count in sorted(pixels.by_syntax.items()))
    lines += [
        f"Pixels   turbodicom.pixel_array decoded {pixels.decoded} files ({syntaxes}); the "
        f"{pixels.compared} that pydicom's",
        "         other plugins decode agree (lossless exactly, lossy within 2)",
    ]
    lines += [f"  DIFFERS  {problem}" for problem in pixels.disagreements]
    timings.append(Timing(f"scan, {len(files)} files x {len(SCAN_TAGS)} tags", len(files), scanned.seconds))
    if pixels.compared:
        timings.append(Timing(f"pixels, {pixels.compared} files", pixels.compared, pixels.seconds))
    lines += [
        "",
        f"Timing                      {'pydicom':>19}  {'turbodicom':>19}",
        f"                            {'total':>9} {'mean':>9}  {'total':>9} {'mean':>9}  speed-up",
    ]
    for t in timings:
        mine, reference = t.seconds["turbodicom"], t.seconds["pydicom"]
        lines.append(
            f"  {t.label:<26}{_total(reference):>9} {_mean(reference, t.count):>9}  "
            f"{_total(mine):>9} {_mean(mine, t.count):>9}  {reference / max(mine, 1e-9):>7.1f}x"
        )
    lines += [
        f"  best of {ROUNDS} passes over the files; {SAMPLE} read + {len(ATTRIBUTES)} attributes "
        f"{args.repeat} times;",
        "  scan: turbodicom.scan vs pydicom.dcmread(stop_before_pixels=True, specific_tags=tags) per file",
        "  pixels: turbodicom.pixel_array vs pydicom.pixels.pixel_array with its first other working plugin",
        "",
    ]
    bad_files |= set(scanned.disagreements)
    bad_files |= {problem.split(":", 1)[0] for problem in pixels.disagreements}
    elapsed = time.perf_counter() - started
    if bad_files:
        lines.append(f"FAILED: {len(bad_files)} of {len(files)} files disagree with pydicom ({elapsed:.1f} s)")
    else:
        lines.append(f"OK: all {len(files)} files agree with pydicom ({elapsed:.1f} s)")
    print("\n".join(lines))
    return 1 if bad_files else 0
