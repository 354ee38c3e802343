"""turbodicom.dask.scan on a dask.distributed cluster gives what turbodicom.scan gives."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from pydicom.data import get_testdata_file  # noqa: E402

import turbodicom  # noqa: E402
import turbodicom.dask  # noqa: E402
from conftest import corpus_files  # noqa: E402

TAGS = [
    "PatientID",
    "PatientName",
    "Modality",
    "Rows",
    "Columns",
    "InstanceNumber",
    "PixelSpacing",
    "ImagePositionPatient",
    "WindowCenter",
    "ImageType",
    "SliceThickness",
    "StudyDate",
    "SpecificCharacterSet",
    "ReferencedImageSequence",
    "SourceImageSequence[0].ReferencedSOPInstanceUID",
    "(0009,0010)",
    "(0029,1110)",
]

# Columns whose dtype follows from the dictionary and is the same however the files are batched.
TYPED = {"path": "text", "PatientID": "text", "Modality": "text", "Rows": "Int64", "Columns": "Int64",
         "SliceThickness": "float64", "ReferencedImageSequence": "Int64", "error": "text"}


@pytest.fixture(scope="module")
def client():
    # Threads in this process: starts in well under a second, and the workers see this
    # process's installed turbodicom; what the tasks carry is checked to pickle separately.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory) -> Path:
    """A directory of real files from several sources, a non-DICOM file and a truncated one."""
    root = tmp_path_factory.mktemp("archive")
    files = corpus_files()[::3] or []
    names = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "MR_small_bigendian.dcm",
             "liver_1frame.dcm", "SC_rgb_small_odd.dcm", "MR_small_implicit.dcm", "image_dfl.dcm")
    files += [Path(get_testdata_file(n)) for n in names]
    for i, path in enumerate(files):
        sub = root / f"series{i % 4}"
        sub.mkdir(exist_ok=True)
        (sub / f"{i:03d}-{path.name}").symlink_to(path)
    (root / "notes.txt").write_text("not DICOM\n")
    (root / "cut.dcm").write_bytes(Path(get_testdata_file("CT_small.dcm")).read_bytes()[:130])
    return root


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _same_cell(a, b) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_same_cell(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


def _kind_of(dtype) -> str:
    if isinstance(dtype, pd.Int64Dtype):
        return "Int64"
    if dtype == "float64":
        return "float64"
    if pd.api.types.is_string_dtype(dtype) and dtype != object or dtype == pd.Series(["x"]).dtype:
        return "text"
    return str(dtype)


def assert_same_table(got, want) -> None:
    """Same columns, rows in the same order, the same values; the dictionary's dtypes."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    assert list(got.index) == list(want.index)
    for name in want.columns:
        a, b = got[name].tolist(), want[name].tolist()
        bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if not _same_cell(x, y)]
        assert not bad, f"{name}: first differences (row, dask, scan): {bad[:3]}"
    for name, kind in TYPED.items():
        if name in got.columns:
            assert _kind_of(got[name].dtype) == kind, (name, got[name].dtype)


def test_same_table_as_scan(client, source_dir) -> None:
    ddf = turbodicom.dask.scan(source_dir, TAGS, files_per_partition=5)
    n_files = len([p for p in source_dir.rglob("*") if p.is_file()])
    assert ddf.npartitions == math.ceil(n_files / 5)
    assert ddf.known_divisions
    assert list(ddf.columns) == ["path", *[turbodicom.scan([], [t]).column_names[1] for t in TAGS], "error"]
    got = ddf.compute()
    want = turbodicom.scan(source_dir, TAGS).to_pandas()
    assert len(want) == n_files
    assert want["error"].notna().sum() >= 2  # the text file and the cut one
    assert_same_table(got, want)
    # meta and the partitions agree on the dtypes of the typed columns
    for name in TYPED:
        assert _kind_of(ddf.dtypes[name]) == _kind_of(got[name].dtype), name


def test_one_partition_per_batch_and_loc(client, source_dir) -> None:
    ddf = turbodicom.dask.scan(source_dir, ["PatientID", "Rows"], files_per_partition=4)
    full = turbodicom.scan(source_dir, ["PatientID", "Rows"]).to_pandas()
    sizes = ddf.map_partitions(len).compute().tolist()
    assert sizes == [min(4, len(full) - i) for i in range(0, len(full), 4)]
    row = ddf.loc[len(full) - 1].compute()
    assert row["path"].tolist() == [full["path"].iloc[-1]]


def test_iterable_source_and_workers_per_task(client) -> None:
    files = [Path(get_testdata_file(n)) for n in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")] * 3
    got = turbodicom.dask.scan(files, TAGS, files_per_partition=2, workers_per_task=2).compute()
    assert_same_table(got, turbodicom.scan(files, TAGS).to_pandas())
    one = turbodicom.dask.scan(files, TAGS, files_per_partition=100).compute()
    assert_same_table(one, turbodicom.scan(files, TAGS).to_pandas())


def test_on_error_skip_and_raise(client, source_dir) -> None:
    got = turbodicom.dask.scan(source_dir, TAGS, files_per_partition=6, on_error="skip").compute()
    want = turbodicom.scan(source_dir, TAGS, on_error="skip").to_pandas()
    assert "error" not in got.columns
    assert_same_table(got.reset_index(drop=True), want)
    # the index keeps each file's position in the listing
    listing = turbodicom.scan(source_dir, ["PatientID"])["path"]
    assert [listing[i] for i in got.index] == got["path"].tolist()
    with pytest.raises(turbodicom.InvalidDicomError):
        turbodicom.dask.scan(source_dir, TAGS, files_per_partition=6, on_error="raise").compute()
    _wait_until_idle(client)  # the other partitions may still be running


def _wait_until_idle(client, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_selected_columns_are_the_only_ones_read(client, source_dir, monkeypatch) -> None:
    scan_module = sys.modules["turbodicom.scan"]
    original = scan_module.scan
    asked: list[list] = []

    def spy(files, tags, **kwargs):
        asked.append(list(tags))
        return original(files, tags, **kwargs)

    monkeypatch.setattr(scan_module, "scan", spy)  # the workers are threads of this process
    ddf = turbodicom.dask.scan(source_dir, TAGS, files_per_partition=8)
    got = ddf[["path", "Rows", "PatientID"]].compute()
    want = original(source_dir, TAGS).to_pandas()[["path", "Rows", "PatientID"]]
    assert_same_table(got, want)
    assert asked and all(sorted(tags) == ["PatientID", "Rows"] for tags in asked)
    # the error column needs every attribute
    asked.clear()
    ddf[["path", "error"]].compute()
    assert asked and all(tags == TAGS for tags in asked)


def test_empty_directory(client, tmp_path) -> None:
    ddf = turbodicom.dask.scan(tmp_path, ["PatientID", "Rows"])
    got = ddf.compute()
    assert list(got.columns) == ["path", "PatientID", "Rows", "error"]
    assert len(got) == 0
    assert isinstance(got["Rows"].dtype, pd.Int64Dtype)


def test_bad_arguments(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        turbodicom.dask.scan(tmp_path / "absent", ["PatientID"])
    with pytest.raises(ValueError):
        turbodicom.dask.scan(tmp_path, ["PatientID"], files_per_partition=0)
    with pytest.raises(ValueError):
        turbodicom.dask.scan(tmp_path, ["PatientID", "PatientID"])
    with pytest.raises(ValueError):
        turbodicom.dask.scan(tmp_path, ["NoSuchKeyword"])
    with pytest.raises(ValueError):
        turbodicom.dask.scan(tmp_path, ["PatientID"], on_error="ignore")


def test_tasks_pickle(source_dir) -> None:
    """What a partition's task carries survives pickling, as it must to reach worker processes."""
    import pickle

    ddf = turbodicom.dask.scan(source_dir, TAGS, files_per_partition=5)
    graph = dict(ddf.__dask_graph__())
    restored = pickle.loads(pickle.dumps(graph))
    assert len(restored) == len(graph)
    # and the synchronous scheduler, without a cluster, gives the same table
    got = ddf.compute(scheduler="sync")
    assert_same_table(got, turbodicom.scan(source_dir, TAGS).to_pandas())


def test_worker_processes(source_dir) -> None:
    """Workers in processes of their own: the tasks travel pickled and the workers import turbodicom."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster):
        got = turbodicom.dask.scan(source_dir, TAGS, files_per_partition=7).compute()
    assert_same_table(got, turbodicom.scan(source_dir, TAGS).to_pandas())


def test_dask_is_imported_only_when_used(tmp_path) -> None:
    code = "import sys, turbodicom, turbodicom.dask; print('dask' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.split() == ["False", "False"]


def test_missing_dask_message(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)  # makes `import dask` fail
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError, match=r"turbodicom\[dask\]"):
        turbodicom.dask.scan(tmp_path, ["PatientID"])
