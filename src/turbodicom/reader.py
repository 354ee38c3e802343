"""Reading DICOM Part 10 files into pydicom datasets.

The C++ core parses the file into an element index and builds the raw
elements pydicom keeps in ``Dataset._dict``; this module wraps them in
pydicom's own ``FileDataset``/``FileMetaDataset``/``Dataset`` objects, exactly
as ``pydicom.dcmread`` would have built them.
"""

from __future__ import annotations

import io
import os
import warnings
import zlib
from collections.abc import Iterable
from typing import Any, BinaryIO

from pydicom import config
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.misc import size_in_bytes, warn_and_log
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import PrivateTransferSyntaxes
from pydicom.values import convert_string

from turbodicom import _core
from turbodicom.dataset import FileDataset
from turbodicom.errors import InvalidDicomError

__all__ = ["dcmread", "read_dataset_bytes"]

_CHARSET = _core.tag(0x00080005)
_GROUP_LENGTH = _core.tag(0x00020000)
_TRANSFER_SYNTAX = _core.tag(0x00020010)
_getitem = _core.dataset_getitem
_EOF_WARNING = "\x01"  # marks warnings that pydicom completes with the file name


def _state_template(ds: Dataset) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The instance attributes pydicom's constructor gives a dataset, and which are mutable."""
    state = dict(ds.__dict__)
    mutable = tuple(k for k, v in state.items() if isinstance(v, (dict, list, set)) and k != "_dict")
    return state, mutable


_DATASET_STATE, _DATASET_MUTABLE = _state_template(Dataset())
_FILE_META_STATE, _FILE_META_MUTABLE = _state_template(FileMetaDataset())


def _new_dataset(cls: type, elements: dict, parent_encoding: Any, template=None) -> Any:
    """A dataset of class `cls` holding `elements`, as its constructor would set it up."""
    state_template, mutable = template or (_DATASET_STATE, _DATASET_MUTABLE)
    ds = object.__new__(cls)
    state = ds.__dict__
    state.update(state_template)
    for key in mutable:
        state[key] = state_template[key].copy()
    state["_dict"] = elements
    state["_parent_encoding"] = parent_encoding
    return ds


def _config_flags() -> int:
    flags = 0
    if config.assume_implicit_vr_switch:
        flags |= 1
    if config.settings.infer_sq_for_un_vr:
        flags |= 2
    if config.replace_un_with_known_vr:
        flags |= 4
    if config.settings.reading_validation_mode == config.RAISE:
        flags |= 8
    if config.use_none_as_empty_text_VR_value:
        flags |= 16
    return flags


def _private_syntaxes() -> list[tuple[str, bool, bool]]:
    return [(str(uid), uid.is_implicit_VR, uid.is_little_endian) for uid in PrivateTransferSyntaxes]


def _own_encoding(elements: dict, parent_encoding: Any) -> Any:
    """The character set a dataset records for itself (pydicom's read_dataset)."""
    raw = elements.get(_CHARSET)
    if raw is None:
        return parent_encoding
    value = raw.value if isinstance(raw, DataElement) else convert_raw_data_element(raw).value
    return convert_encodings(value)


_GOOD_CHARSETS: set[bytes] = set()


def _check_charset(value: bytes) -> None:
    """Decode a Specific Character Set value as pydicom does the moment it reads one."""
    if value in _GOOD_CHARSETS:
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convert_encodings(convert_string(value, True))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not caught and len(_GOOD_CHARSETS) < 1024:
        _GOOD_CHARSETS.add(value)


def _assemble(built: tuple, parent_encoding: Any, name: str) -> tuple[dict, bool]:
    """Turn the core's (dicts, sequences, items, warnings, implicit) into pydicom objects.

    Returns the top-level element dict and whether it was read as implicit VR.
    """
    dicts, sequences, items, warns, implicit, charsets = built
    for value in charsets:
        _check_charset(value)
    for message in warns:
        if message.startswith(_EOF_WARNING):
            message = f"{message[1:]} in file {name}"
        warn_and_log(message, UserWarning)
    if not sequences:
        return dicts[0], implicit

    # Top-down: each item's parent encoding is the character set in effect
    # where its sequence starts.
    encodings: dict[int, Any] = {0: parent_encoding}
    item_datasets: dict[int, Dataset] = {}
    kept = []
    for entry in sequences:
        dict_index, _tag, _vr, _tell, item_ids, charset = entry
        if dict_index not in encodings:
            continue  # inside a sequence that a later element with the same tag replaced
        kept.append(entry)
        if charset is not None:
            encoding = convert_encodings(convert_string(charset or b"", True))
        else:
            encoding = encodings[dict_index]
        for k in item_ids:
            item_tell, undefined, item_implicit, item_little = items[k - 1]
            encodings[k] = encoding
            elements = dicts[k]
            ds = _new_dataset(Dataset, elements, encoding)
            state = ds.__dict__
            state["_read_implicit"] = item_implicit
            state["_read_little"] = item_little
            state["is_undefined_length_sequence_item"] = undefined
            state["seq_item_tell"] = item_tell
            state["file_tell"] = item_tell
            item_datasets[k] = ds
    # Bottom-up: inner sequences are complete before the items that hold them.
    for dict_index, tag, vr, tell, item_ids, _charset in reversed(kept):
        for k in item_ids:
            ds = item_datasets[k]
            ds.__dict__["_read_charset"] = _own_encoding(dicts[k], encodings[k])
        seq = Sequence([item_datasets[k] for k in item_ids])
        seq.is_undefined_length = True
        dicts[dict_index][tag] = DataElement(tag, vr, seq, tell, is_undefined_length=True)
    return dicts[0], implicit


def _read_options(defer_size, specific_tags) -> tuple[int, list[int] | None]:
    defer = size_in_bytes(defer_size)
    if defer is None or defer == float("inf"):
        defer_bytes = -1
    else:
        defer_bytes = max(int(defer), 0)
    tags = [int(Tag(t)) for t in specific_tags] if specific_tags else None
    return defer_bytes, tags


def _raise_invalid(exc: Exception, base: int = 0) -> None:
    offset = getattr(exc, "offset", None)
    if offset is not None and base:
        offset += base
        detail = getattr(exc, "detail", "")
        message = f"{exc.code} at byte offset {offset}: {detail}"
    else:
        message = str(exc)
    raise InvalidDicomError(message, offset, getattr(exc, "code", None)) from None


def _check_meta_values(file_meta: FileMetaDataset, reread_implicit: bool) -> None:
    """Convert what pydicom converts while reading the meta group, so that a
    value pydicom cannot convert fails the read here too."""
    elements = file_meta._dict
    try:
        if elements and not reread_implicit:
            _getitem(file_meta, next(iter(elements)))
        if _GROUP_LENGTH in elements:
            _getitem(file_meta, _GROUP_LENGTH)
        if _TRANSFER_SYNTAX in elements:
            _getitem(file_meta, _TRANSFER_SYNTAX)
    except Exception as exc:  # noqa: BLE001 - whatever pydicom's converters raise
        raise InvalidDicomError(f"File Meta Information: {exc}", None, "bad value") from None


def dcmread(
    fp: str | os.PathLike | BinaryIO | bytes | bytearray | memoryview,
    defer_size: str | int | float | None = None,
    stop_before_pixels: bool = False,
    force: bool = False,
    specific_tags: Iterable[Any] | None = None,
) -> FileDataset:
    """Read a DICOM file into a :class:`pydicom.dataset.FileDataset`.

    The signature and the result are those of :func:`pydicom.dcmread`: the
    returned dataset compares equal to pydicom's and supports everything
    pydicom offers on it. ``fp`` is a path, a path-like, a binary file object
    (read from its current position) or a bytes-like object.

    Raises :class:`turbodicom.InvalidDicomError` (a subclass of pydicom's) when
    the input is not DICOM (without ``force``) or its structure cannot be read,
    with the byte offset of the problem; files pydicom reads with a warning are
    read with the same warning. Values cut off by the end of the input are kept
    as far as they go, as pydicom keeps them.
    """
    defer_bytes, tags = _read_options(defer_size, specific_tags)
    flags = _config_flags()
    private = _private_syntaxes() if PrivateTransferSyntaxes else []
    source: Any
    zipped = None
    if isinstance(fp, (bytes, bytearray, memoryview)):
        source = io.BytesIO(fp)
        name = "<no filename>"
        try:
            result = _core.read_buffer(fp, 0, stop_before_pixels, defer_bytes, force, tags, flags, private)
        except _core.ParseError as exc:
            _raise_invalid(exc)
    else:
        if isinstance(fp, os.PathLike):
            fp = os.fspath(fp)
        if isinstance(fp, bytes):
            fp = os.fsdecode(fp)
        if isinstance(fp, str):
            source = fp
            name = fp
            try:
                result, zipped = _core.read_path(fp, stop_before_pixels, defer_bytes, force, tags, flags, private)
            except _core.ParseError as exc:
                if exc.code == "I/O error":
                    open(fp, "rb").close()  # raises the OSError pydicom would
                _raise_invalid(exc)
        elif fp is None or not all(hasattr(fp, a) for a in ("read", "seek", "tell")):
            raise TypeError(
                "dcmread: Expected a file path, file-like or readable buffer, "
                f"but got {type(fp).__name__}"
            )
        else:
            source = fp
            name = getattr(fp, "name", "<no filename>")
            base = fp.tell()
            data = fp.read()
            try:
                result = _core.read_buffer(data, base, stop_before_pixels, defer_bytes, force, tags, flags, private)
            except _core.ParseError as exc:
                _raise_invalid(exc, base)
            fp.seek(result[9])
    try:
        return _build_file_dataset(result, zipped, source, name, stop_before_pixels, defer_bytes, tags, flags)
    except InvalidDicomError:
        raise
    except Exception as exc:  # noqa: BLE001 - pydicom's converters reject a value read here
        raise InvalidDicomError(f"{type(exc).__name__} while building the dataset: {exc}", None, "bad value") from None


def read_dataset_bytes(raw: bytes | bytearray | memoryview, implicit: bool, little: bool) -> Dataset:
    """A bare data set (no preamble, no File Meta Information) encoded as `implicit` and
    `little` say: what ``pydicom.filereader.read_dataset`` returns for it, with its
    original encoding set. Raises :class:`turbodicom.InvalidDicomError`."""
    try:
        built, _end = _core.read_dataset(raw, implicit, little, False, -1, None, _config_flags())
    except _core.ParseError as exc:
        _raise_invalid(exc)
    elements, read_implicit = _assemble(built, default_encoding, "<no filename>")
    ds = _new_dataset(Dataset, elements, default_encoding)
    # What set_original_encoding sets, without Dataset.__setattr__ (a C-FIND requestor
    # reads an identifier per response).
    state = ds.__dict__
    state["_read_implicit"] = read_implicit
    state["_read_little"] = little
    charset = _own_encoding(elements, default_encoding)
    if charset is not None:
        state["_read_charset"] = charset
    return ds


def _build_file_dataset(result, zipped, source, name, stop_before_pixels, defer_bytes, tags, flags):
    (preamble, meta_built, meta_implicit, command_built, implicit, little, deflated, dataset_offset,
     dataset_built, _end, mtime) = result

    meta_dict, _ = _assemble(meta_built, default_encoding, name)
    file_meta = _new_dataset(FileMetaDataset, meta_dict, default_encoding, (_FILE_META_STATE, _FILE_META_MUTABLE))
    meta_state = file_meta.__dict__
    meta_state["_read_implicit"] = meta_implicit
    meta_state["_read_little"] = True
    meta_state["_read_charset"] = default_encoding
    _check_meta_values(file_meta, meta_implicit)
    command_dict, _ = _assemble(command_built, default_encoding, name)

    if deflated:
        # PS3.5 A.5: the dataset after the meta group is one raw deflate stream.
        if zipped is None:
            zipped = source.getvalue()[dataset_offset:] if isinstance(source, io.BytesIO) else None
            if zipped is None:
                source.seek(dataset_offset)
                zipped = source.read()
        try:
            unzipped = zlib.decompress(zipped, -zlib.MAX_WBITS)
        except zlib.error as exc:
            raise InvalidDicomError(f"inflate failed at byte offset {dataset_offset}: {exc}", dataset_offset,
                                    "inflate failed") from None
        buffer = DicomBytesIO(unzipped)
        buffer.name = getattr(source, "name", None) if not isinstance(source, str) else source
        name = buffer.name
        source = buffer
        try:
            dataset_built, _ = _core.read_dataset(unzipped, implicit, little, stop_before_pixels, defer_bytes, tags,
                                                  flags)
        except _core.ParseError as exc:
            _raise_invalid(exc)

    elements, _ = _assemble(dataset_built, default_encoding, name)
    if command_dict:
        inner = _new_dataset(Dataset, elements, default_encoding)
        inner.update(_new_dataset(Dataset, command_dict, default_encoding))

    ds = _new_dataset(FileDataset, elements, default_encoding)
    state = ds.__dict__
    state["preamble"] = preamble
    state["file_meta"] = file_meta
    if "_is_implicit_VR" in state:
        state["_is_implicit_VR"] = implicit
        state["_is_little_endian"] = little
    state["_read_implicit"] = implicit
    state["_read_little"] = little
    _set_source(state, source, mtime)
    state["_read_charset"] = ds._character_set
    return ds


def _set_source(state: dict, source: Any, mtime: float) -> None:
    """FileDataset's filename, buffer, fileobj_type and timestamp for `source`."""
    filename = None
    buffer = None
    if isinstance(source, str):
        filename = source
        fileobj_type = open
    elif isinstance(source, io.BufferedReader):
        filename = source.name
        fileobj_type = open
    else:
        buffer = source
        fileobj_type = type(source)
        if getattr(source, "name", None):
            filename = source.name
        elif getattr(source, "filename", None):
            filename = source.filename
    timestamp = None
    if filename:
        if isinstance(source, str) and mtime:
            timestamp = mtime
        elif os.path.exists(filename):
            timestamp = os.stat(filename).st_mtime
    state["fileobj_type"] = fileobj_type
    state["filename"] = filename
    state["buffer"] = buffer
    state["timestamp"] = timestamp
