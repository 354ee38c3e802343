"""The ``turbodicom dump`` and ``turbodicom scan`` commands, and the scan part of the demo."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

import turbodicom
from turbodicom.cli import demo, main
from turbodicom.cli import dump as dump_command
from turbodicom.cli import scan as scan_command

COMMAND = [sys.executable, "-m", "turbodicom.cli.main"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=300)


def _testdata(name: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_testdata_file(name)


CT = _testdata("CT_small.dcm")
RTPLAN = _testdata("rtplan.dcm")


# -- dump ---------------------------------------------------------------------------------------


def _dataset_part(lines: list[str]) -> list[str]:
    return lines[lines.index("# Dicom-Data-Set") + 2:]


@pytest.fixture(scope="module")
def ct_dump() -> list[str]:
    result = _run("dump", CT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_dump_lists_meta_then_dataset(ct_dump):
    assert ct_dump[:4] == [
        "# Dicom-File-Format",
        "",
        "# Dicom-Meta-Information-Header",
        "# Used TransferSyntax: Explicit VR Little Endian",
    ]
    assert "(0002,0010) UI [1.2.840.10008.1.2.1]                    #  20, 1 TransferSyntaxUID" in ct_dump
    assert ct_dump.index("# Dicom-Data-Set") > ct_dump.index(
        "(0002,0016) AE [CLUNIE1]                                #   8, 1 SourceApplicationEntityTitle")


def test_dump_lines_of_ct_small(ct_dump):
    expected = [
        "(0008,0005) CS [ISO_IR 100]                             #  10, 1 SpecificCharacterSet",
        "(0008,0008) CS [ORIGINAL\\PRIMARY\\AXIAL]                 #  22, 3 ImageType",
        "(0008,0050) SH (no value available)                     #   0, 0 AccessionNumber",
        "(0010,0010) PN [CompressedSamples^CT1]                  #  22, 1 PatientName",
        "(0010,0020) LO [1CT1]                                   #   4, 1 PatientID",
        "(0020,0032) DS [-158.135803\\-179.035797\\-75.699997]     #  34, 3 ImagePositionPatient",
        "(0028,0010) US 128                                      #   2, 1 Rows",
        "(0028,0030) DS [0.661468\\0.661468]                      #  18, 2 PixelSpacing",
        "(0028,0120) SS -2000                                    #   2, 1 PixelPaddingValue",
        "(0043,1012) SS 14\\2\\3                                   #   6, 3 GEMS_PARM_01 [X-ray chain]",
        "(0027,1047) FL -1.0                                     #   4, 1 GEMS_IMAG_01 [Normal S coord]",
        # private creator and private element with its creator and dictionary name
        "(0009,0010) LO [GEMS_IDEN_01]                           #  12, 1 PrivateCreator",
        "(0009,1001) LO [GE_GENESIS_FF]                          #  14, 1 GEMS_IDEN_01 [Full fidelity]",
        # a long binary value: the first bytes in hex, cut, with its length
        "(0043,1029) OB 00\\00\\00\\01\\43\\cf\\52\\14\\02\\d7\\00\\00\\08\\e6\\00\\00... (2068 bytes) "
        "# 2068, 1 GEMS_PARM_01 [Histogram tables]",
        # a sequence of explicit length: items indented, with delimitation lines
        "(0010,1002) SQ (Sequence with explicit length #=2)      #  72, 1 OtherPatientIDsSequence",
        "  (fffe,e000) na (Item with explicit length #=2)          #  28, 1 Item",
        "    (0010,0020) LO [ABCD1234]                               #   8, 1 PatientID",
        "  (fffe,e00d) na (ItemDelimitationItem for re-encoding)   #   0, 0 ItemDelimitationItem",
        "(fffe,e0dd) na (SequenceDelimitationItem for re-encod.) #   0, 0 SequenceDelimitationItem",
        # pixel data summarised
        "(7fe0,0010) OW (pixel data: 1 frame, 128 rows x 128 columns, 1 sample, 16 bits, 32768 bytes) "
        "# 32768, 1 PixelData",
    ]
    for line in expected:
        assert line in ct_dump, line


def test_dump_has_one_line_per_element_of_pydicoms_dataset(ct_dump):
    reference = pydicom.dcmread(CT)
    top_level = [line for line in _dataset_part(ct_dump) if not line.startswith(" ")
                 and not line.startswith("(fffe,e0dd)")]
    expected = [f"({t.group:04x},{t.element:04x}) {reference[t].VR} " for t in reference.keys()]
    assert [line[:15] for line in top_level] == expected
    meta = ct_dump[4:ct_dump.index("# Dicom-Data-Set") - 1]
    assert [line[:15] for line in meta] == [
        f"({t.group:04x},{t.element:04x}) {reference.file_meta[t].VR} " for t in reference.file_meta.keys()]


def _walk(ds: pydicom.Dataset, depth: int = 0):
    """(indent, element) for every element inside items too, in dump order."""
    for elem in ds:
        yield depth, elem
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _walk(item, depth + 4)  # item lines at +2, their elements at +4


def test_dump_of_nested_sequences():
    result = _run("dump", RTPLAN)
    assert result.returncode == 0, result.stderr
    lines = _dataset_part(result.stdout.splitlines())
    reference = pydicom.dcmread(RTPLAN)

    # Every element appears at the depth of its nesting, in order; items and delimiters between.
    elements = [line for line in lines if "(fffe," not in line]
    walked = list(_walk(reference))
    assert len(elements) == len(walked)
    for line, (depth, elem) in zip(elements, walked):
        indent = len(line) - len(line.lstrip(" "))
        assert indent == depth, line
        assert line.lstrip().startswith(f"({elem.tag.group:04x},{elem.tag.element:04x}) {elem.VR} "), line
        assert line.endswith(f" {elem.keyword}"), line

    sequences = [e for _, e in walked if e.VR == "SQ"]
    items = sum(len(e.value) for e in sequences)
    assert sum("(fffe,e0dd) na (SequenceDelimitationItem" in line for line in lines) == len(sequences)
    assert sum("(fffe,e000) na (Item with" in line for line in lines) == items
    assert sum("(fffe,e00d) na (ItemDelimitationItem" in line for line in lines) == items

    beams = reference.BeamSequence
    assert (f"(300a,00b0) SQ (Sequence with explicit length #={len(beams)})" in result.stdout)
    control_points = beams[0].ControlPointSequence
    line = next(line for line in lines if "ControlPointSequence" in line)
    assert line.startswith(f"    (300a,0111) SQ (Sequence with explicit length #={len(control_points)})")
    assert "        (300a,0112) IS [0]" in result.stdout  # ControlPointIndex, two sequences deep


def test_dump_undefined_length_sequence_and_encapsulated_pixel_data():
    path = _testdata("SC_rgb_rle_2frame.dcm")
    result = _run("dump", path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\(7fe0,0010\) OB \(encapsulated pixel data: 2 frames in 2 fragments, "
                     r"100 rows x 100 columns\) +# u/l, 1 PixelData$", result.stdout, re.M)


def test_dump_max_width():
    default = _run("dump", CT).stdout
    line = next(l for l in default.splitlines() if l.endswith("ImageOrientationPatient"))
    assert "[1.000000\\0.000000\\0.000000\\0.000000\\1.000000\\0.000000]" in line
    narrow = _run("dump", "--max-width", "30", CT).stdout
    line = next(l for l in narrow.splitlines() if l.endswith("ImageOrientationPatient"))
    value = "[1.000000\\0.0000... (54 bytes)"  # cut to 30 characters, the length noted
    assert len(value) == 30 and line.startswith(f"(0020,0037) DS {value} ")
    wide = _run("dump", "--max-width", "0", CT).stdout
    line = next(l for l in wide.splitlines() if l.endswith("[Histogram tables]"))
    assert "... (2068 bytes)" in line  # binary values show at most a few words
    assert _run("dump", "--max-width", "3", CT).returncode == 2


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "SC_rgb_rle_2frame.dcm",
                                  "MR_small_bigendian.dcm"])
def test_dump_json_equals_pydicom(name):
    path = _testdata(name)
    result = _run("dump", "--json", path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == pydicom.dcmread(path).to_json_dict()
    assert result.stdout.startswith('{\n  "')  # indent=2


def test_dump_json_writes_binary_inline():
    document = json.loads(_run("dump", "--json", CT).stdout)
    assert set(document["7FE00010"]) == {"vr", "InlineBinary"}  # 32 KiB inline, no BulkDataURI


def test_dump_force_reads_a_file_without_prefix():
    path = _testdata("rtstruct.dcm")
    refused = _run("dump", path)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    result = _run("dump", "--force", path)
    assert result.returncode == 0
    assert "# Dicom-Meta-Information-Header" not in result.stdout
    assert "# Used TransferSyntax: Implicit VR Little Endian" in result.stdout
    assert "(0008,0060) CS [RTSTRUCT]" in result.stdout


def test_dump_errors(tmp_path):
    missing = tmp_path / "missing.dcm"
    result = _run("dump", str(missing))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and str(missing) in result.stderr
    assert "No such file or directory" in result.stderr

    text = tmp_path / "notes.txt"
    text.write_text("not a DICOM file\n" * 20)
    result = _run("dump", str(text))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "not DICOM" in result.stderr and str(text) in result.stderr


def test_format_value_rules():
    assert dump_command.format_value("OW", b"\x01\x00\x02\x00", 4) == "0001\\0002"
    assert dump_command.format_value("OW", b"\x01\x00\x02\x00", 4, little=False) == "0100\\0200"
    assert dump_command.format_value("AT", [0x00100010, 0x7FE00010], 8) == "(0010,0010)\\(7fe0,0010)"
    assert dump_command.format_value("LT", "line one\nline two", 17) == "[line one\\nline two]"
    cut = dump_command.format_value("UT", "x" * 100, 100, max_width=40)
    assert cut == "[" + "x" * 24 + "... (100 bytes)" and len(cut) == 40
    assert dump_command.format_value("US", [], 0) == "(no value available)"


# -- scan ---------------------------------------------------------------------------------------

TAGS = ["PatientID", "Modality", "Rows", "Columns", "ImagePositionPatient"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three DICOM files, one of them in a subfolder, and a text file."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    shutil.copy(CT, root / "ct.dcm")
    shutil.copy(RTPLAN, root / "rtplan.dcm")
    shutil.copy(_testdata("MR_small.dcm"), root / "sub" / "mr.dcm")
    (root / "readme.txt").write_text("not DICOM\n")
    return root


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_scan_to_csv(folder, tmp_path):
    out = tmp_path / "table.csv"
    result = _run("scan", str(folder), "--tags", ",".join(TAGS), "--out", str(out))
    assert result.returncode == 0, result.stderr
    header, *rows = _read_csv(out)
    assert header == ["path", *TAGS, "error"]
    by_name = {os.path.basename(row[0]): dict(zip(header, row)) for row in rows}
    assert set(by_name) == {"ct.dcm", "rtplan.dcm", "mr.dcm", "readme.txt"}

    for name in ("ct.dcm", "rtplan.dcm", "sub/mr.dcm"):
        row = by_name[os.path.basename(name)]
        reference = pydicom.dcmread(folder / name)
        assert row["error"] == ""
        assert row["PatientID"] == reference.PatientID
        assert row["Modality"] == reference.Modality
        assert row["Rows"] == str(reference.get("Rows", ""))
        position = reference.get("ImagePositionPatient")
        if position is None:
            assert row["ImagePositionPatient"] == ""  # absent: empty
        else:  # several values joined with a backslash
            assert [float(v) for v in row["ImagePositionPatient"].split("\\")] == [float(v) for v in position]
    assert by_name["rtplan.dcm"]["Rows"] == ""
    assert "not DICOM" in by_name["readme.txt"]["error"]
    assert by_name["readme.txt"]["PatientID"] == ""


def test_scan_summary_line(folder, tmp_path):
    out = tmp_path / "table.csv"
    result = _run("scan", str(folder), "--tags", "PatientID", "--out", str(out))
    assert result.returncode == 0
    assert result.stdout == ""
    assert re.fullmatch(r"turbodicom scan: 4 files, 1 error in (\d+\.\d\d s|\d+\.\d ms) \([\d,]+ files/s\); "
                        rf"4 rows written to {re.escape(str(out))}\n", result.stderr)


def test_scan_options(folder, tmp_path):
    out = tmp_path / "table.csv"
    result = _run("scan", str(folder), "--tags", "PatientID", "--out", str(out), "--on-error", "skip",
                  "--no-recursive", "--workers", "1")
    assert result.returncode == 0, result.stderr
    header, *rows = _read_csv(out)
    assert header == ["path", "PatientID"]  # no error column when errors are skipped
    assert sorted(os.path.basename(r[0]) for r in rows) == ["ct.dcm", "rtplan.dcm"]
    assert "3 files, 1 error (left out)" in result.stderr

    (folder / "bare.dcm").write_bytes(Path(_testdata("rtstruct.dcm")).read_bytes())
    result = _run("scan", str(folder), "--tags", "Modality", "--out", str(out), "--force", "--no-recursive")
    assert result.returncode == 0
    rows = {os.path.basename(r[0]): r[1] for r in _read_csv(out)[1:]}
    assert rows["bare.dcm"] == "RTSTRUCT"


def test_scan_hex_tags_and_sequence_paths(folder, tmp_path):
    out = tmp_path / "table.csv"
    tags = "(0009,1001),OtherPatientIDsSequence[1].PatientID,00100020"
    result = _run("scan", str(folder / "ct.dcm"), "--tags", tags, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert _read_csv(out) == [
        ["path", "(0009,1001)", "OtherPatientIDsSequence[1].PatientID", "PatientID", "error"],
        [str(folder / "ct.dcm"), "GE_GENESIS_FF", "1234ABCD", "1CT1", ""],
    ]


def test_scan_to_parquet_equals_to_arrow(folder, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "table.parquet"
    result = _run("scan", str(folder), "--tags", ",".join(TAGS), "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = pq.read_table(out)
    expected = turbodicom.scan(str(folder), TAGS).to_arrow()
    assert written.column_names == ["path", *TAGS, "error"]
    assert written.equals(expected)


def test_scan_parquet_without_pyarrow(folder, tmp_path):
    out = tmp_path / "table.parquet"
    code = ("import sys; sys.modules['pyarrow'] = None; from turbodicom.cli.main import main; "
            f"sys.exit(main(['scan', {str(folder)!r}, '--tags', 'PatientID', '--out', {str(out)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "pyarrow" in result.stderr and "pip install pyarrow" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}", "--tags", "PatientID", "--out", "{out}"], "no such file or directory"),
        (["{folder}", "--tags", "", "--out", "{out}"], "--tags is empty"),
        (["{folder}", "--tags", " , ", "--out", "{out}"], "--tags is empty"),
        (["{folder}", "--tags", "PatientID,PatientId", "--out", "{out}"],
         "unknown tag or keyword: 'PatientId' (did you mean PatientID?)"),
        (["{folder}", "--tags", "PatientID,PatientID", "--out", "{out}"], "twice"),
        (["{folder}", "--tags", "PatientID", "--out", "{tmp}/no/such/folder/table.csv"], "does not exist"),
        (["{folder}", "--tags", "PatientID", "--out", "{folder}/ct.dcm/table.csv"], "does not exist"),
        (["{folder}", "--tags", "PatientID", "--out", "{tmp}/table.xlsx"], "unknown format '.xlsx'"),
        (["{folder}", "--tags", "PatientID", "--out", "{tmp}/table"], "unknown format"),
    ],
)
def test_scan_errors(folder, tmp_path, args, message):
    values = {"missing": str(tmp_path / "missing"), "folder": str(folder), "tmp": str(tmp_path),
              "out": str(tmp_path / "table.csv")}
    result = _run("scan", *(a.format(**values) for a in args))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("turbodicom scan: ")
    assert message in result.stderr
    assert not (tmp_path / "table.csv").exists()


def test_scan_unwritable_output(folder, tmp_path):
    if os.name == "nt" or os.geteuid() == 0:  # root writes anywhere: use a folder the kernel refuses
        target = "/proc/turbodicom-table.csv"
        if not os.path.isdir("/proc"):
            pytest.skip("no read-only folder to write into")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "table.csv")
    result = _run("scan", str(folder), "--tags", "PatientID", "--out", target)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("turbodicom scan: ")
    assert target in result.stderr
    assert not os.path.exists(target)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_scan_draws_one_progress_bar_on_a_terminal(folder, tmp_path, monkeypatch):
    from turbodicom.cli import progress

    made = []

    class Counting(progress.Progress):
        def __init__(self, *args, **kwargs):
            made.append(kwargs.get("unit"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(progress, "Progress", Counting)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = main.main(["scan", str(folder), "--tags", "PatientID", "--out", str(tmp_path / "t.csv")])
    assert status == 0
    assert made == ["files"]  # the bar drawn by turbodicom.scan(progress=True), and no other
    assert terminal.getvalue().rsplit("\r", 1)[-1].startswith("turbodicom scan: 4 files, 1 error in ")

    made.clear()
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: no bar asked for
    assert main.main(["scan", str(folder), "--tags", "PatientID", "--out", str(tmp_path / "t.csv")]) == 0
    assert made == []


def test_split_tags_and_csv_cells():
    assert scan_command.split_tags("PatientID, (0009,1001) ,Rows,,") == ["PatientID", "(0009,1001)", "Rows"]
    assert scan_command.split_tags(" ") == []
    assert scan_command.csv_cell(None) == ""
    assert scan_command.csv_cell([1.5, -2.0]) == "1.5\\-2.0"
    assert scan_command.csv_cell(b"\x00\xff") == "00ff"
    assert scan_command.csv_cell(128) == "128"


# -- demo ---------------------------------------------------------------------------------------


def test_demo_shows_the_scan():
    result = _run("demo", "--repeat", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) <= 28
    files, _ = demo.find_test_files()
    start = next(i for i, line in enumerate(lines) if line.startswith("Scan     turbodicom.scan("))
    assert f": {len(files)} files, 0 errors;" in lines[start]
    assert f"a pydicom loop's for {len(files)} of {len(files)}" in lines[start + 1]
    header = lines[start + 2].split()
    assert header == ["file", "PatientID", "Modality", "StudyDate", "Rows", "Columns", "Frames", "Bits",
                      "Photometric"]
    table = lines[start + 3:start + 3 + demo.SCAN_ROWS]
    assert table[0].split()[:3] == ["693_J2KI.dcm", "CQ500-CT-310", "CT"]
    assert all(line.startswith("  ") for line in table)
    (timing,) = [line for line in lines if line.strip().startswith(f"scan, {len(files)} files x 8 tags")]
    assert re.search(r"\d+\.\dx$", timing)


def test_demo_scan_table_is_aligned():
    result = turbodicom.scan([CT, RTPLAN, _testdata("MR_small.dcm")], list(demo.SCAN_TAGS))
    table = demo.scan_table(result)
    assert len(table) == 4
    header, *rows = table
    assert rows[0].split()[:3] == ["CT_small.dcm", "1CT1", "CT"]
    assert rows[1].split()[:2] == ["rtplan.dcm", "id00001"]
    start = header.index("Modality")
    assert [row[start:start + 8].strip() for row in rows] == ["CT", "RTPLAN", "MR"]
    end = header.index("Rows") + len("Rows")  # numbers are right-aligned under their heading
    assert rows[0][:end].endswith("128") and rows[2][:end].endswith(" 64")


def test_demo_reports_a_scan_disagreement(monkeypatch):
    files = [f for f in demo.find_test_files()[0] if f.name in ("CT_small.dcm", "MR_small.dcm")]
    real = demo._pydicom_values

    def altered(paths):
        values = real(paths)
        values[1][0] = "someone else"
        return values

    monkeypatch.setattr(demo, "_pydicom_values", altered)
    check = demo.check_scan(files)
    assert check.disagreements == ["MR_small.dcm"]
    assert set(check.seconds) == {"pydicom", "turbodicom"}
