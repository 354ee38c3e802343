"""A folder of DICOM files as a Query/Retrieve archive: an index read with
:func:`turbodicom.scan`, C-FIND matching (PS3.4 C.2.2.2), and the generator handlers of
``evt.EVT_C_FIND``, ``EVT_C_GET`` and ``EVT_C_MOVE`` in pynetdicom's protocol.

::

    archive = Archive("/data/dicom")
    handlers = [(evt.EVT_C_FIND, archive.handle_find), (evt.EVT_C_GET, archive.handle_get),
                (evt.EVT_C_MOVE, archive.handle_move({"STORESCP": ("127.0.0.1", 11113)}))]

The index is made once, when the archive is created; files added later are not seen.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from pydicom.dataset import Dataset

__all__ = ["Archive", "QueryError", "LEVELS", "MODELS"]

SUCCESS = 0x0000
PENDING = 0xFF00
CANCEL = 0xFE00
IDENTIFIER_DOES_NOT_MATCH = 0xA900  # PS3.4 C.4.1.1.4 / C.4.2.1.5 / C.4.3.1.4

#: The levels of the Patient Root and Study Root models, top to bottom.
LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
#: The unique key of each level.
UNIQUE_KEYS = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
               "IMAGE": "SOPInstanceUID"}
#: The attributes the archive knows at each level (PS3.4 C.6.1.1 and C.6.2.1).
ATTRIBUTES = {
    "PATIENT": ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "NumberOfPatientRelatedStudies",
                "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances"),
    "STUDY": ("StudyDate", "StudyTime", "AccessionNumber", "StudyID", "StudyInstanceUID", "StudyDescription",
              "ReferringPhysicianName", "ModalitiesInStudy", "SOPClassesInStudy", "NumberOfStudyRelatedSeries",
              "NumberOfStudyRelatedInstances"),
    "SERIES": ("Modality", "SeriesNumber", "SeriesInstanceUID", "SeriesDescription",
               "NumberOfSeriesRelatedInstances"),
    "IMAGE": ("SOPInstanceUID", "SOPClassUID", "InstanceNumber"),
}
#: The levels each information model (its C-FIND, C-MOVE and C-GET SOP classes) allows.
MODELS = {
    "1.2.840.10008.5.1.4.1.2.1.1": LEVELS,  # Patient Root Find
    "1.2.840.10008.5.1.4.1.2.1.2": LEVELS,  # Patient Root Move
    "1.2.840.10008.5.1.4.1.2.1.3": LEVELS,  # Patient Root Get
    "1.2.840.10008.5.1.4.1.2.2.1": LEVELS[1:],  # Study Root Find
    "1.2.840.10008.5.1.4.1.2.2.2": LEVELS[1:],  # Study Root Move
    "1.2.840.10008.5.1.4.1.2.2.3": LEVELS[1:],  # Study Root Get
}
#: What is read from each file.
SCANNED = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
           "StudyTime", "AccessionNumber", "StudyID", "StudyDescription", "ReferringPhysicianName",
           "SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "SOPInstanceUID", "SOPClassUID",
           "InstanceNumber", "TransferSyntaxUID")
# Derived from the instances an entity holds: counts of distinct values of a scanned attribute,
# and lists of the distinct values of one.
_COUNTS = {"NumberOfPatientRelatedStudies": "StudyInstanceUID", "NumberOfPatientRelatedSeries": "SeriesInstanceUID",
           "NumberOfPatientRelatedInstances": "SOPInstanceUID", "NumberOfStudyRelatedSeries": "SeriesInstanceUID",
           "NumberOfStudyRelatedInstances": "SOPInstanceUID", "NumberOfSeriesRelatedInstances": "SOPInstanceUID"}
_LISTS = {"ModalitiesInStudy": "Modality", "SOPClassesInStudy": "SOPClassUID"}
_NOT_MATCHED = {"QueryRetrieveLevel", "SpecificCharacterSet", "TimezoneOffsetFromUTC"}


class QueryError(ValueError):
    """An identifier the archive cannot answer; ``status`` is the failure status to send."""

    def __init__(self, message: str, status: int = IDENTIFIER_DOES_NOT_MATCH) -> None:
        super().__init__(message)
        self.status = status


class Archive:
    """The DICOM files under `folder` (with its subfolders when `recursive`), indexed at once.

    Files that cannot be read as DICOM, or have no SOP Instance UID, are left out (their
    number is :attr:`skipped`). :attr:`rows` holds one dict per instance: ``path`` and the
    attributes of :data:`SCANNED`."""

    def __init__(self, folder: str | os.PathLike, recursive: bool = True, workers: int | None = None) -> None:
        import turbodicom

        self.folder = os.fspath(folder)
        result = turbodicom.scan(self.folder, list(SCANNED), recursive=recursive, workers=workers)
        self.rows: list[dict[str, Any]] = []
        self.skipped = 0
        seen: set[str] = set()
        for row in result.to_pylist():
            uid = row.get("SOPInstanceUID")
            if row.get("error") is not None or not uid or uid in seen:
                self.skipped += 1
                continue
            seen.add(uid)
            row.pop("error", None)
            for key in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID"):
                if row.get(key) is None:
                    row[key] = ""
            self.rows.append(row)

    def __len__(self) -> int:
        return len(self.rows)

    # --- queries -----------------------------------------------------------------------------

    @staticmethod
    def level_of(identifier: Dataset, model: str | None = None) -> str:
        """The identifier's Query/Retrieve Level, checked against the information model
        `model` (a C-FIND, C-MOVE or C-GET SOP class UID) when given; raises QueryError."""
        if "QueryRetrieveLevel" not in identifier:
            raise QueryError("the identifier has no Query/Retrieve Level (0008,0052)")
        level = str(identifier.QueryRetrieveLevel or "").strip().upper()
        if level not in LEVELS:
            raise QueryError(f"unknown Query/Retrieve Level {level!r}")
        if model is not None:
            allowed = MODELS.get(str(model))
            if allowed is None:
                raise QueryError(f"unsupported information model {model}")
            if level not in allowed:
                raise QueryError(f"level {level} is not part of the information model {model}")
        return level

    def entities(self, identifier: Dataset, model: str | None = None) -> Iterator[tuple[dict[str, Any], list]]:
        """``(attributes, rows)`` of each entity at the identifier's level that matches it:
        its attributes (those of its level and above) and the instances it holds."""
        level = self.level_of(identifier, model)
        depth = LEVELS.index(level)
        known = {name for lv in LEVELS[:depth + 1] for name in ATTRIBUTES[lv]}
        keys = []
        for element in identifier:
            name = element.keyword
            if not name or name in _NOT_MATCHED or element.VR == "SQ" or name not in known:
                continue  # not matched: unknown attributes are returned empty
            value = _text(element.value)
            if value in ("", "*"):
                continue  # universal matching
            keys.append((name, element.VR, value))
        groups: dict[tuple, list] = {}
        path_keys = [UNIQUE_KEYS[lv] for lv in LEVELS[:depth + 1]]
        for row in self.rows:
            groups.setdefault(tuple(row[k] or "" for k in path_keys), []).append(row)
        for rows in groups.values():
            attributes = _attributes(rows, depth)
            if all(_matches(vr, value, attributes.get(name)) for name, vr, value in keys):
                yield attributes, rows

    def find(self, identifier: Dataset, model: str | None = None) -> Iterator[Dataset]:
        """The C-FIND responses to `identifier`: one data set per matching patient, study,
        series or instance (as its Query/Retrieve Level asks), holding the requested keys
        (empty when the archive does not know them), the Query/Retrieve Level and the
        Specific Character Set when the identifier has one. Raises QueryError."""
        for attributes, _rows in self.entities(identifier, model):
            response = Dataset()
            for element in identifier:
                if element.tag.is_private or element.tag.group == 0x0002:
                    continue
                name = element.keyword
                if name == "QueryRetrieveLevel":
                    response.QueryRetrieveLevel = str(element.value).strip().upper()
                elif name == "SpecificCharacterSet":
                    response.SpecificCharacterSet = element.value
                elif element.VR == "SQ":
                    response.add_new(element.tag, "SQ", [])
                else:
                    response.add_new(element.tag, element.VR, _response_value(attributes.get(name)))
            yield response

    def files(self, identifier: Dataset, model: str | None = None) -> list[str]:
        """The paths of every instance under the entities matching `identifier`, for a
        C-MOVE or C-GET. Raises QueryError."""
        paths: list[str] = []
        for _attributes, rows in self.entities(identifier, model):
            paths.extend(row["path"] for row in rows)
        return paths

    # --- the handlers -----------------------------------------------------------------------

    def handle_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        """The ``evt.EVT_C_FIND`` handler."""
        try:
            identifier = event.identifier
            matches = self.find(identifier, _model(event))
            for response in matches:
                if event.is_cancelled:
                    yield CANCEL, None
                    return
                yield PENDING, response
        except QueryError as exc:
            yield exc.status, None

    def handle_get(self, event: Any) -> Iterator[Any]:
        """The ``evt.EVT_C_GET`` handler: the number of files, then each file's path (its
        data set is sent as stored)."""
        try:
            paths = self.files(event.identifier, _model(event))
        except QueryError as exc:
            yield 0
            yield exc.status, None
            return
        yield len(paths)
        for path in paths:
            if event.is_cancelled:
                yield CANCEL, None
                return
            yield PENDING, path

    def handle_move(self, destinations: dict[str, tuple[str, int]]) -> Callable[[Any], Iterator[Any]]:
        """The ``evt.EVT_C_MOVE`` handler for the move destinations `destinations` (AE
        title: (host, port)); an unknown destination is answered with 0xA801."""
        known = {str(title).strip(): (host, int(port)) for title, (host, port) in destinations.items()}

        def handle_move(event: Any) -> Iterator[Any]:
            title = getattr(event, "move_destination", None) or event.request.MoveDestination
            if isinstance(title, bytes):
                title = title.decode("ascii", "replace")
            where = known.get(str(title or "").strip())
            if where is None:
                yield None, None
                return
            yield where
            try:
                paths = self.files(event.identifier, _model(event))
            except QueryError as exc:
                yield 0
                yield exc.status, None
                return
            yield len(paths)
            for path in paths:
                if event.is_cancelled:
                    yield CANCEL, None
                    return
                yield PENDING, path

        return handle_move


def _model(event: Any) -> str | None:
    request = getattr(event, "request", None)
    uid = getattr(request, "AffectedSOPClassUID", None)
    return str(uid) if uid else None


def _attributes(rows: list[dict[str, Any]], depth: int) -> dict[str, Any]:
    """The attributes of an entity at level LEVELS[depth] holding the instances `rows`."""
    first = rows[0]
    attributes: dict[str, Any] = {}
    for level in LEVELS[:depth + 1]:
        for name in ATTRIBUTES[level]:
            if name in _COUNTS:
                attributes[name] = len({row[_COUNTS[name]] for row in rows})
            elif name in _LISTS:
                attributes[name] = sorted({row[_LISTS[name]] for row in rows if row[_LISTS[name]]})
            else:
                attributes[name] = first.get(name)
    return attributes


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _response_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value] if value else None
    return value


def _values(value: Any) -> list[str]:
    """An entity's value as strings (several for a multi-valued attribute)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


def _matches(vr: str, query: str, value: Any) -> bool:
    """Whether an entity's `value` matches the non-universal `query` of VR `vr`."""
    values = [v for v in _values(value) if v != ""]
    if not values:
        return False  # only universal matching matches an empty value
    if vr == "UI":  # list of UID matching (single value matching for one UID)
        wanted = {u.strip() for u in query.split("\\")}
        return any(v in wanted for v in values)
    if vr in ("DA", "TM", "DT") and "-" in query:
        return any(_in_range(vr, query, v) for v in values)
    if vr in ("DA", "TM", "DT"):
        return any(_normal(vr, v) == _normal(vr, query) for v in values)
    if vr in ("IS", "SS", "US", "SL", "UL", "DS", "FL", "FD"):
        try:
            return any(float(v) == float(query) for v in values)
        except ValueError:
            return False
    if "*" in query or "?" in query:  # wildcard matching
        pattern = _wildcard(query)
        return any(pattern.fullmatch(v) for v in values)
    return any(v == query for v in values)  # single value matching, case sensitive


def _wildcard(query: str) -> re.Pattern:
    parts = []
    for char in query:
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _normal(vr: str, text: str) -> str:
    """A date, time or date-time made comparable as a string: digits only, times padded to
    HHMMSS.FFFFFF (so that "0930" is 09:30:00)."""
    text = text.strip().replace(":", "").replace("-", "") if vr != "DT" else text.strip()
    if vr == "TM":
        whole, _, fraction = text.partition(".")
        return whole.ljust(6, "0") + "." + fraction.ljust(6, "0")
    if vr == "DA":
        return text.replace(".", "")  # ACR-NEMA dates YYYY.MM.DD
    return text


def _in_range(vr: str, query: str, value: str) -> bool:
    """Range matching (PS3.4 C.2.2.2.5): "low-high", "-high" or "low-", bounds included."""
    low, _, high = query.partition("-")
    low, high = low.strip(), high.strip()
    current = _normal(vr, value)
    if low and current < _normal(vr, low):
        return False
    if high:
        upper = _normal(vr, high)
        if vr == "TM":
            # "-12" includes 12:59:59.999999: the bound covers the precision it is written in
            digits = len(high.replace(":", "").partition(".")[0])
            whole, _, fraction = upper.partition(".")
            whole = whole[:digits].ljust(6, "9") if "." not in high else whole
            upper = whole + "." + (fraction if "." in high else "999999")
        if current > upper:
            return False
    return True
