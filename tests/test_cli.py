"""The ``turbodicom`` command: entry points, the demo, and the progress helper."""

from __future__ import annotations

import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pydicom
import pytest

import turbodicom
from turbodicom.cli import demo, main
from turbodicom.cli.progress import Progress, format_line, track


def _console_script() -> str | None:
    """The installed ``turbodicom`` script of this Python, else the one on PATH."""
    name = "turbodicom.exe" if os.name == "nt" else "turbodicom"
    beside = os.path.join(sysconfig.get_path("scripts"), name)
    return beside if os.path.isfile(beside) else shutil.which("turbodicom")


ENTRY_POINTS = {
    "module": [sys.executable, "-m", "turbodicom.cli.main"],
    "script": [_console_script()],
}


def _command(kind: str) -> list[str]:
    command = ENTRY_POINTS[kind]
    if command[0] is None:
        pytest.skip("the turbodicom console script is not installed")
    return command


def _run(command: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)


# -- entry points -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ENTRY_POINTS))
def test_version(kind):
    result = _run(_command(kind), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"turbodicom {turbodicom.__version__} ")
    assert f"pydicom {pydicom.__version__}" in result.stdout


def test_no_command_prints_usage():
    result = _run(ENTRY_POINTS["module"])
    assert result.returncode == 2
    assert "usage: turbodicom" in result.stderr
    assert "demo" in result.stderr


def test_every_registered_command_has_the_two_functions():
    for module_name in main.COMMANDS:
        module = importlib.import_module(module_name)
        assert callable(module.add_parser) and callable(module.run), module_name
    parser = main.build_parser()
    args = parser.parse_args(["demo", "--repeat", "3"])
    assert args._run is demo.run and args.repeat == 3


def test_demo_rejects_a_bad_repeat(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.main(["demo", "--repeat", "0"])
    assert exit_info.value.code == 2
    assert "--repeat" in capsys.readouterr().err


# -- the demo -----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(ENTRY_POINTS))
def demo_run(request):
    return _run(_command(request.param), "demo", "--repeat", "5")


def test_demo_succeeds_and_all_files_agree(demo_run):
    assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr
    out = demo_run.stdout
    files, _ = demo.find_test_files()
    assert f"Agree    {len(files)} of {len(files)}," in out
    assert f"OK: all {len(files)} files agree with pydicom" in out
    assert "DIFFERS" not in out


def test_demo_output_is_short_and_quiet(demo_run):
    lines = demo_run.stdout.splitlines()
    assert len(lines) <= 28
    for label in ("header only", "full read", "CT_small.dcm + 10 attrs"):
        (line,) = [line for line in lines if line.strip().startswith(label)]
        assert line.rstrip().endswith("x")  # the speed-up column
    # No progress bar (stderr is not a terminal) and no reader warnings.
    assert demo_run.stderr == ""


def test_demo_test_files_skip_non_dicom():
    files, skipped = demo.find_test_files()
    names = {f.name for f in files}
    assert "CT_small.dcm" in names and "dicomdirtests/DICOMDIR" in names
    assert not any(name.endswith((".txt", ".json", ".dump", ".gz", ".icc")) for name in names)
    assert skipped > 0
    assert {f.name for f in files if f.force} >= {"no_meta.dcm", "rtstruct.dcm"}


def test_demo_reports_a_disagreement():
    files = [f for f in demo.find_test_files()[0] if f.name in ("CT_small.dcm", "MR_small.dcm")]

    def altered(path, **kwargs):
        ds = turbodicom.dcmread(path, **kwargs)
        if path.endswith("MR_small.dcm"):
            ds.PatientName = "Someone Else"
        return ds

    agreement = demo.check_agreement(files, altered, pydicom.dcmread)
    assert agreement.disagreements == [("MR_small.dcm", "full read: datasets differ at (0010,0010)")]


def test_demo_difference_rules():
    read = demo.Outcome(pydicom.Dataset(), None, [])
    refused = demo.Outcome(None, turbodicom.InvalidDicomError("not DICOM"), [])
    also_refused = demo.Outcome(None, OSError("cut short"), [])
    assert demo.difference(refused, also_refused) is None
    assert demo.difference(refused, read).startswith("turbodicom raised InvalidDicomError")
    assert demo.difference(read, also_refused).startswith("pydicom raised OSError")


# -- the progress helper ------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_writes_nothing_when_not_a_terminal():
    stream = io.StringIO()
    with Progress(total=1000, label="reading", stream=stream, min_interval=0) as bar:
        for _ in range(1000):
            bar.update()
    assert bar.enabled is False
    assert bar.count == 1000
    assert stream.getvalue() == ""
    assert list(track(range(50), label="x", stream=stream)) == list(range(50))
    assert stream.getvalue() == ""


def test_progress_defaults_to_stderr_and_stays_silent_under_capture(capsys):
    with Progress(total=10, min_interval=0) as bar:
        bar.update(10)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_draws_and_erases_on_a_terminal():
    stream = _Terminal()
    with Progress(total=4, label="decoding", unit="frame", stream=stream, min_interval=0) as bar:
        bar.update(2)
        drawn = stream.getvalue()
        assert drawn.startswith("\rdecoding [")
        assert " 2/4 " in drawn and "50%" in drawn and "frame/s" in drawn and "ETA" in drawn
    assert stream.getvalue().endswith("\r")
    last = stream.getvalue().rsplit("\r", 2)[-2]
    assert last.strip() == ""  # the line is erased at the end


def test_format_line():
    line = format_line(450, 1000, 0.375, "reading", "file", width=80)
    assert line.startswith("reading [")
    assert "450/1000" in line and "45%" in line and "1.2k file/s" in line and "ETA 0:00" in line
    assert len(line) <= 80
    assert format_line(30, 600, 10.0, width=80).endswith("ETA 3:10")
    assert format_line(7, None, 2.0, "scanning", "file") == "scanning 7 file  3.5 file/s"
    assert len(format_line(5, 10, 1.0, "a long label " * 10, width=40)) <= 40


def test_demo_decodes_pixels_and_agrees(demo_run):
    """The pixel part: RLE and JPEG test files decoded by turbodicom, compared and timed."""
    lines = demo_run.stdout.splitlines()
    (summary,) = [line for line in lines if line.startswith("Pixels   turbodicom.pixel_array decoded ")]
    decoded = int(summary.split("decoded ")[1].split()[0])
    assert decoded >= 20  # pydicom's test files hold 26 RLE and JPEG files we decode
    assert "RLE" in summary and "JPEG baseline" in summary
    compared = int(summary.split("the ")[-1].split()[0])
    (timing,) = [line for line in lines if line.strip().startswith(f"pixels, {compared} files")]
    assert re.search(r"\d+\.\dx$", timing)
