"""Scanning archives with dask: one partition per batch of files, read on the workers.

>>> import turbodicom.dask
>>> df = turbodicom.dask.scan("archive/", ["PatientID", "Modality", "Rows"], files_per_partition=500)
>>> df.groupby("Modality").Rows.max().compute()

Needs dask with its dataframe part (``pip install 'turbodicom[dask]'``); dask
is imported when :func:`scan` is called, not with this module.

Each partition runs :func:`turbodicom.scan` on its batch of files on a dask
worker and returns the batch's :meth:`ScanResult.to_pandas` table, so the
files must be readable from the workers under the same paths (a shared
filesystem). The file list itself is made on the client when the source is a
directory.

The partitions' columns and dtypes (dask's ``meta``) come from the data
dictionary, not from reading files: an attribute with one value (VM 1) of an
integer VR (US, SS, UL, SL, UV, SV, IS, AT) is ``Int64``, of a decimal VR
(FL, FD, DS) ``float64``, of a text VR the dtype pandas gives text; a
sequence (its item count) is ``Int64``; everything else (multi-valued
attributes, binary VRs, private attributes the dictionary does not know) is
``object``. Inferring ``meta`` by scanning a first batch instead would read
files on the client, possibly a thousand, which may not even see them; and a
batch where an attribute happens to be absent everywhere, or single-valued
everywhere, would give a dtype the other partitions contradict. Each
partition is converted to these dtypes where that loses nothing (absent
values, integers or decimals in an ``object`` column); a value the dictionary
does not foresee (two values in a VM 1 attribute, text in a number column) is
kept as it is, and that partition's column then stays ``object``.

The index is the file's position in the list of files, and the divisions are
known (the first position of each batch), so ``df.loc[i]`` finds its
partition. With ``on_error="skip"`` unreadable files leave gaps in the index.

Selecting columns (``df[["PatientID"]]``) reaches the scan: the workers read
only the attributes selected, which stops each file's parsing earlier. It is
not done with ``on_error="skip"`` (which files are kept must not depend on the
columns) nor when the ``error`` column is selected (a conversion error of an
attribute not selected would be missing from it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from turbodicom.scan import _files_of, parse_tag_path

__all__ = ["scan"]

_INTEGER_VRS = {"US", "SS", "UL", "SL", "UV", "SV", "IS", "AT", "US or SS"}
_DECIMAL_VRS = {"FL", "FD", "DS"}
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DT", "TM", "LO", "LT", "PN", "SH", "ST", "UC", "UI", "UR", "UT"}


def _import_dask():
    try:
        import dask
        import dask.dataframe as dd
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "turbodicom.dask needs dask with its dataframe part and pandas: "
            "pip install 'turbodicom[dask]' (or: pip install 'dask[dataframe,distributed]' pandas)"
        ) from exc
    return dask, dd, pd


def _kind(steps: list[tuple[int, int]]) -> str:
    """"integer", "decimal", "text" or "object": what the values at `steps` are, from the dictionary."""
    from pydicom.datadict import dictionary_VM, dictionary_VR

    tag = steps[-1][0]
    try:
        vr, vm = dictionary_VR(tag), dictionary_VM(tag)
    except KeyError:
        element = tag & 0xFFFF
        if (tag >> 16) & 1 and 0x10 <= element <= 0xFF:
            return "text"  # a private creator: LO
        return "object"
    if vr == "SQ":
        return "integer"  # the item count
    if vm != "1":
        return "object"  # one value or a list, file by file
    if vr in _INTEGER_VRS:
        return "integer"
    if vr in _DECIMAL_VRS:
        return "decimal"
    if vr in _TEXT_VRS:
        return "text"
    return "object"


def _dtype(pd, kind: str):
    if kind == "integer":
        return pd.Int64Dtype()
    if kind == "decimal":
        return pd.api.types.pandas_dtype("float64")
    if kind == "text":
        return pd.Series(["text"]).dtype  # what to_pandas gives text with this pandas
    return pd.api.types.pandas_dtype("object")


def _meta(pd, names: list[str], kinds: list[str], with_error: bool):
    columns = {"path": _dtype(pd, "text")}
    columns.update({name: _dtype(pd, kind) for name, kind in zip(names, kinds)})
    if with_error:
        columns["error"] = _dtype(pd, "text")
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in columns.items()},
                        index=pd.Index([], dtype="int64"))


def _conform(pd, df, meta):
    """`df` with `meta`'s dtypes, column by column, where the conversion loses nothing."""
    for name in df.columns:
        want = meta.dtypes[name]
        column = df[name]
        if column.dtype == want:
            continue
        if column.isna().all():
            df[name] = pd.Series([None] * len(column), index=df.index, dtype=object).astype(want)
        elif want == object:
            df[name] = column.astype(object).where(column.notna(), None)
    return df


def _scan_batch(batch: tuple[int, list[str]], specs: list[tuple[str, Any]], *, template, workers: int,
                on_error: str, force: bool, columns: list[str] | None = None):
    """One partition: the scan of a batch of files, as a pandas DataFrame indexed by file position."""
    import pandas as pd

    from turbodicom.scan import scan

    start, files = batch
    wanted = specs
    if columns is not None and "error" not in columns:
        chosen = set(columns)
        wanted = [(name, spec) for name, spec in specs if name in chosen]
    record = "record" if on_error == "skip" else on_error
    result = scan(files, [spec for _, spec in wanted], workers=workers, on_error=record, force=force)
    df = result.to_pandas()
    df.index = pd.RangeIndex(start, start + len(files))
    if on_error == "skip":
        df = df[df["error"].isna()].drop(columns="error")
    df = _conform(pd, df, template)
    return df[list(columns)] if columns is not None else df[list(template.columns)]


def scan(
    source: str | os.PathLike | Iterable[str | os.PathLike],
    tags: Sequence[Any],
    *,
    files_per_partition: int = 1000,
    recursive: bool = True,
    on_error: str = "record",
    force: bool = False,
    workers_per_task: int = 1,
):
    """A dask DataFrame of `tags` read from every DICOM file of `source`.

    The arguments are those of :func:`turbodicom.scan`; the files are cut
    into batches of `files_per_partition`, one partition each, scanned on
    the dask workers with `workers_per_task` threads each (dask runs
    several tasks at once already). Computing it gives the rows and values
    ``turbodicom.scan(source, tags).to_pandas()`` gives, in the same order.
    """
    dask, dd, pd = _import_dask()
    if on_error not in ("record", "skip", "raise"):
        raise ValueError("on_error is 'record', 'skip' or 'raise'")
    if int(files_per_partition) < 1:
        raise ValueError("files_per_partition is at least 1")
    if int(workers_per_task) < 0:
        raise ValueError("workers_per_task is not negative (0: one per core)")
    files_per_partition = int(files_per_partition)
    parsed = [parse_tag_path(t) for t in tags]  # bad tags fail here, on the client
    names = [name for name, _ in parsed]
    if len(set(names)) != len(names):
        raise ValueError("a tag is requested twice")
    if {"path", "error"} & set(names):
        raise ValueError("'path' and 'error' are the names of scan's own columns")
    files, walk_errors = _files_of(source, recursive)
    if walk_errors and on_error == "raise":
        raise OSError(walk_errors[0])

    meta = _meta(pd, names, [_kind(steps) for _, steps in parsed], with_error=on_error != "skip")
    if not files:
        with dask.config.set({"dataframe.convert-string": False}):
            return dd.from_pandas(meta, npartitions=1)
    batches = [(start, files[start:start + files_per_partition])
               for start in range(0, len(files), files_per_partition)]
    divisions = tuple(start for start, _ in batches) + (len(files) - 1,)
    function = _scan_batch if on_error != "skip" else _scan_batch_all_columns
    # dask would turn object columns into strings (lists and bytes included) with
    # its "convert-string" option: the columns keep the types scan gives them.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            function,
            batches,
            meta=meta,
            divisions=divisions,
            label="turbodicom-scan",
            enforce_metadata=False,
            specs=list(zip(names, tags)),
            template=meta,
            workers=int(workers_per_task),
            on_error=on_error,
            force=bool(force),
        )


def _scan_batch_all_columns(batch, specs, *, template, workers, on_error, force):
    """:func:`_scan_batch` without column projection (no ``columns`` argument for dask to fill)."""
    return _scan_batch(batch, specs, template=template, workers=workers, on_error=on_error, force=force)
