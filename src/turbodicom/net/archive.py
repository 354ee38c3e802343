"""A Query/Retrieve archive: an index of DICOM instances in SQLite (made with
:func:`turbodicom.scan`), C-FIND matching (PS3.4 C.2.2.2), storage of received instances,
and the generator handlers of ``evt.EVT_C_STORE``, ``EVT_C_FIND``, ``EVT_C_GET`` and
``EVT_C_MOVE`` in pynetdicom's protocol.

::

    archive = Archive(db="/data/archive.sqlite", store="/data/store")   # persistent
    archive.index("/data/old")            # existing files, indexed where they are
    handlers = [(evt.EVT_C_STORE, archive.handle_store),
                (evt.EVT_C_FIND, archive.handle_find), (evt.EVT_C_GET, archive.handle_get),
                (evt.EVT_C_MOVE, archive.handle_move({"STORESCP": ("127.0.0.1", 11113)}))]

    Archive("/data/dicom")                # a folder indexed once, in an in-memory database

The index is one table, ``instances``: one row per SOP Instance UID with the attributes of
:data:`SCANNED` and the absolute ``path`` of its file. The database is in WAL mode; one
connection serves every thread, under a lock (handlers run on association threads).

Crash consistency (``store``): a received instance is (1) complete and fsynced under a
temporary name ``.<name>.part`` in the store folder, (2) renamed to
``<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`` and its folder fsynced,
(3) then its row is inserted and committed, and (4) only then is Success answered. A
duplicate SOP Instance UID replaces the previous row, and the previous file once the new
row is committed. When the archive opens with a store folder, :meth:`Archive.recover`
deletes leftover ``.part`` files, removes the rows whose file is missing, and indexes the
files under the store folder that have no row (a file whose SOP Instance UID is already
indexed with another file that exists is the superseded copy of a replaced instance, and
is deleted). So after any crash, once recovery ran, every stored file is in the index and
every indexed file is on disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from pydicom.dataset import Dataset

from turbodicom.net.dimse import TextIdentifier

__all__ = ["Archive", "QueryError", "LEVELS", "MODELS", "load_destinations"]

SUCCESS = 0x0000
PENDING = 0xFF00
CANCEL = 0xFE00
IDENTIFIER_DOES_NOT_MATCH = 0xA900  # PS3.4 C.4.1.1.4 / C.4.2.1.5 / C.4.3.1.4
OUT_OF_RESOURCES = 0xA700  # PS3.4 B.2.3
MOVE_DESTINATION_UNKNOWN = 0xA801  # PS3.4 C.4.2.1.5

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
_BATCH = 500  # rowids per SELECT ... IN (...)
# The indexes: each matching key with the unique keys after it, so that a query selecting
# on it finds its entities (GROUP BY on the unique keys, MIN(rowid)) in the index alone.
_INDEXES = {
    "PatientName": ("PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"),
    "PatientID": ("PatientID", "StudyInstanceUID", "SeriesInstanceUID"),
    "StudyInstanceUID": ("StudyInstanceUID", "PatientID", "SeriesInstanceUID"),
    "StudyDate": ("StudyDate", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"),
    "AccessionNumber": ("AccessionNumber", "PatientID", "StudyInstanceUID"),
    "SeriesInstanceUID": ("SeriesInstanceUID", "PatientID", "StudyInstanceUID"),
}


class QueryError(ValueError):
    """An identifier the archive cannot answer; ``status`` is the failure status to send."""

    def __init__(self, message: str, status: int = IDENTIFIER_DOES_NOT_MATCH) -> None:
        super().__init__(message)
        self.status = status


class Archive:
    """An index of DICOM instances in SQLite, with the files of a folder indexed at once.

    `folder`: files indexed when the archive is created (with its subfolders when
    `recursive`), see :meth:`index`. `db`: the SQLite database file (created when missing);
    None keeps the index in memory. `store`: the folder received instances are written to
    (created when missing); it is recovered (:meth:`recover`) when the archive opens.

    Files that cannot be read as DICOM, or have no SOP Instance UID, are left out (their
    number is :attr:`skipped`). :attr:`rows` holds one dict per instance: ``path`` and the
    attributes of :data:`SCANNED`."""

    def __init__(self, folder: str | os.PathLike | None = None, recursive: bool = True,
                 workers: int | None = None, *, db: str | os.PathLike | None = None,
                 store: str | os.PathLike | None = None) -> None:
        import sqlite3
        import threading

        self.folder = os.fspath(folder) if folder is not None else None
        self.db = os.path.abspath(os.fspath(db)) if db is not None else None
        self.store = os.path.abspath(os.fspath(store)) if store is not None else None
        self.skipped = 0
        self.recovered: dict[str, int] = {}
        self._lock = threading.RLock()  # the connection, and each store's rename-and-commit
        if self.db is not None:
            os.makedirs(os.path.dirname(self.db) or ".", exist_ok=True)
        self._db = sqlite3.connect(self.db or ":memory:", check_same_thread=False, isolation_level=None,
                                   timeout=30)
        with self._lock:
            if self.db is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
            columns = ", ".join(f'"{name}"' for name in SCANNED if name != "SOPInstanceUID")
            self._db.execute(f'CREATE TABLE IF NOT EXISTS instances ("SOPInstanceUID" TEXT PRIMARY KEY, '
                             f'{columns}, path TEXT NOT NULL UNIQUE)')
            for name, indexed in _INDEXES.items():
                self._db.execute(f'DROP INDEX IF EXISTS "instances_{name}"')  # one column only: replaced
                self._db.execute(f'CREATE INDEX IF NOT EXISTS "instances_by_{name}" ON instances '
                                 f'({", ".join(_quoted(list(indexed)))})')
        if self.store is not None:
            os.makedirs(self.store, exist_ok=True)
            self.recovered = self.recover(workers)
        if self.folder is not None:
            _added, self.skipped = self.index(self.folder, recursive, workers)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM instances").fetchone()[0]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every instance: ``path`` and the attributes of :data:`SCANNED`, in the order indexed."""
        return self._select("", ())

    def _select(self, where: str, parameters: tuple) -> list[dict[str, Any]]:
        names = [*SCANNED, "path"]
        columns = ", ".join(f'"{name}"' for name in names)
        with self._lock:
            found = self._db.execute(f"SELECT {columns} FROM instances {where} ORDER BY rowid", parameters).fetchall()
        return [{name: _from_sql(value) for name, value in zip(names, row)} for row in found]

    # --- indexing ------------------------------------------------------------------------------

    def _scan(self, source: Any, recursive: bool = True, workers: int | None = None) -> tuple[list[dict], int]:
        import turbodicom

        result = turbodicom.scan(source, list(SCANNED), recursive=recursive, workers=workers)
        rows, skipped, seen = [], 0, set()
        for row in result.to_pylist():
            uid = row.get("SOPInstanceUID")
            if row.get("error") is not None or not uid or uid in seen:
                skipped += 1
                continue
            seen.add(uid)
            row.pop("error", None)
            row["path"] = os.path.abspath(row["path"])
            for key in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID"):
                if row.get(key) is None:
                    row[key] = ""
            rows.append(row)
        return rows, skipped

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert or replace `rows` (the caller holds the lock), in one transaction."""
        names = [*SCANNED, "path"]
        sql = (f'INSERT OR REPLACE INTO instances ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
               f'VALUES ({", ".join("?" for _ in names)})')
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(sql, [tuple(_to_sql(row.get(name)) for name in names) for row in rows])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def index(self, folder: str | os.PathLike, recursive: bool = True, workers: int | None = None) -> tuple[int, int]:
        """Index the DICOM files under `folder` where they are (paths stored absolute); an
        instance already indexed gets the new row. Returns (indexed, skipped)."""
        rows, skipped = self._scan(os.fspath(folder), recursive, workers)
        with self._lock:
            self._insert(rows)
        return len(rows), skipped

    def recover(self, workers: int | None = None) -> dict[str, int]:
        """Make the index and the disk agree after a crash: delete the ``.part`` files left
        under the store folder, remove the rows whose file is missing, and index the files
        under the store folder that have no row. Returns the counts of each."""
        counts = {"temporary": 0, "missing": 0, "indexed": 0, "superseded": 0}
        with self._lock:
            if self.store is not None:
                for root, _dirs, names in os.walk(self.store):
                    for name in names:
                        if name.startswith(".") and name.endswith(".part"):
                            os.unlink(os.path.join(root, name))
                            counts["temporary"] += 1
            gone = [(path,) for (path,) in self._db.execute("SELECT path FROM instances") if not os.path.exists(path)]
            if gone:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("DELETE FROM instances WHERE path = ?", gone)
                self._db.execute("COMMIT")
            counts["missing"] = len(gone)
            if self.store is None:
                return counts
            known = {path for (path,) in self._db.execute("SELECT path FROM instances")}
            ours = {os.path.realpath(p) for p in (self.db, f"{self.db}-wal", f"{self.db}-shm", f"{self.db}-journal")
                    if p}
            unindexed = []
            for root, _dirs, names in os.walk(self.store):
                for name in names:
                    path = os.path.join(root, name)
                    if path not in known and os.path.realpath(path) not in ours:
                        unindexed.append(path)
            if not unindexed:
                return counts
            rows, _skipped = self._scan(sorted(unindexed), workers=workers)
            fresh = []
            for row in rows:
                existing = self._db.execute('SELECT path FROM instances WHERE "SOPInstanceUID" = ?',
                                            (row["SOPInstanceUID"],)).fetchone()
                if existing is not None and os.path.exists(existing[0]):
                    os.unlink(row["path"])  # the copy a later store of the instance replaced
                    counts["superseded"] += 1
                else:
                    fresh.append(row)
            self._insert(fresh)
            counts["indexed"] = len(fresh)
        return counts

    # --- storing -------------------------------------------------------------------------------

    def add(self, received: str | os.PathLike) -> dict[str, Any]:
        """Store the DICOM file `received` (a file in the store folder, complete; it is
        moved): fsync it, rename it to its place in the store, fsync the folder, then insert
        its row and commit (replacing an earlier instance with the same SOP Instance UID,
        whose file is deleted afterwards). Returns the row; raises on failure, leaving
        neither the file nor a row."""
        if self.store is None:
            raise ValueError("the archive has no store folder")
        received = os.path.abspath(os.fspath(received))
        fd = os.open(received, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        rows, _skipped = self._scan([received], workers=1)
        if not rows:
            raise ValueError("the data set cannot be read, or has no SOP Instance UID")
        row = rows[0]
        folder = os.path.join(self.store, _name(row["StudyInstanceUID"]), _name(row["SeriesInstanceUID"]))
        target = os.path.join(folder, _name(row["SOPInstanceUID"]) + ".dcm")
        row["path"] = target
        _make_folders(folder)
        with self._lock:
            previous = self._db.execute('SELECT path FROM instances WHERE "SOPInstanceUID" = ?',
                                        (row["SOPInstanceUID"],)).fetchone()
            os.rename(received, target)
            try:
                fsync_folder(folder)
                self._insert([row])
            except BaseException:
                try:  # an indexed file is always on disk, a stored file always indexed
                    os.unlink(target)
                except OSError:
                    pass
                raise
            if previous is not None and previous[0] != target and _inside(previous[0], self.store):
                try:
                    os.unlink(previous[0])
                    fsync_folder(os.path.dirname(previous[0]))
                except OSError:
                    pass
        return row

    def handle_store(self, event: Any) -> Any:
        """The ``evt.EVT_C_STORE`` handler: the data set is stored (:meth:`add`), from the
        file the network layer streamed it to (``turbodicom.net.config.STORE_RECV_CHUNKED_DATASET``
        with ``STORE_RECV_CHUNKED_DATASET_DIR`` the store folder) or from memory. Success
        is answered once the row is committed; a failure is 0xA700 with an Error Comment."""
        import tempfile

        temp = None
        try:
            received = event.dataset_path
            if received is None or os.path.dirname(os.path.abspath(received)) != self.store:
                data = event.encoded_dataset(include_meta=True)
                fd, temp = tempfile.mkstemp(prefix=".", suffix=".part", dir=self.store)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                received = temp
            self.add(received)
            temp = None
            return SUCCESS
        except Exception as exc:
            status = Dataset()
            status.Status = OUT_OF_RESOURCES
            status.ErrorComment = f"cannot store: {exc}"[:64]
            return status
        finally:
            if temp is not None and os.path.exists(temp):
                os.unlink(temp)

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

    def entities(self, identifier: Dataset, model: str | None = None,
                 returned: set[str] | None = None) -> Iterator[tuple[dict[str, Any], list]]:
        """``(attributes, keys)`` of each entity at the identifier's level that matches it:
        its attributes (those of its level and above; only those named in `returned`, with
        the unique keys, when given) and its unique keys from the top level down to its own,
        in the order the entities were first indexed.

        SQLite does the work where it can. The unique keys (single value and UID lists) and
        the single-valued text keys (single value, and wildcards as GLOB) select the
        instances; a GROUP BY on the unique keys of the level and above makes the entities,
        each represented by its first instance (the indexes hold those keys, so this reads
        no table rows); the attributes are then read from those instances only, and the
        derived ones (counts, lists of modalities and SOP classes) are aggregated per
        entity when asked for. Date, time and numeric keys and derived attributes are
        matched here, entity by entity."""
        level = self.level_of(identifier, model)
        depth = LEVELS.index(level)
        keys = _query_keys(identifier, depth)
        where, parameters, remaining = _sql_filter(keys)
        path_keys = [UNIQUE_KEYS[lv] for lv in LEVELS[:depth + 1]]
        matched = _names(remaining)
        in_sql = [name for name, _vr, _value in keys if name not in matched]
        names = [name for lv in LEVELS[:depth + 1] for name in ATTRIBUTES[lv]
                 if returned is None or name in returned or name in path_keys or name in matched]
        plain = [name for name in names if name not in _COUNTS and name not in _LISTS]
        derived = [name for name in names if name in _COUNTS or name in _LISTS]
        if depth == len(LEVELS) - 1:
            found = self._instances(plain, derived, where, parameters)
        else:
            found = self._grouped(plain, derived, path_keys, where, parameters, in_sql[0] if in_sql else None)
        for attributes in found:
            if all(_matches(vr, text, attributes.get(name)) for name, vr, text in remaining):
                yield attributes, [attributes[k] or "" for k in path_keys]

    def _instances(self, plain: list[str], derived: list[str], where: str, parameters: tuple) -> list[dict]:
        """The attributes of each instance selected by `where` (the entities of the IMAGE
        level), derived ones counted over the instance itself."""
        sources = [_COUNTS.get(name) or _LISTS[name] for name in derived]
        columns = plain + [c for c in dict.fromkeys(sources) if c not in plain]
        sql = f"SELECT {', '.join(_quoted(columns))} FROM instances {where} ORDER BY rowid"
        with self._lock:
            found = self._db.execute(sql, parameters).fetchall()
        entities = []
        for values in found:
            row = dict(zip(columns, values))
            attributes = {name: _from_sql(row[name]) for name in plain}
            for name, source in zip(derived, sources):
                value = row[source]
                attributes[name] = (0 if value is None else 1) if name in _COUNTS else ([value] if value else [])
            entities.append(attributes)
        return entities

    def _grouped(self, plain: list[str], derived: list[str], path_keys: list[str], where: str,
                 parameters: tuple, leading: str | None) -> list[dict]:
        """The attributes of each entity (grouped by `path_keys`) of the instances selected
        by `where`: those of its first instance, and the `derived` ones over all of its
        instances.

        `leading`, a key `where` selects on, leads the GROUP BY: the rows then come grouped
        in the order of its index (its column, then the unique keys), and SQLite sorts
        nothing. It is one value per entity; where the data disagree (one study under two
        patient names), the groups of an entity are merged here."""
        grouping = ", ".join(_quoted(([leading] if leading else []) + [k for k in path_keys if k != leading]))
        columns = ", ".join(["rowid", *_quoted(plain)])
        aggregates = [f'COUNT(DISTINCT "{_COUNTS[n]}")' if n in _COUNTS else f'GROUP_CONCAT(DISTINCT "{_LISTS[n]}")'
                      for n in derived]
        per_entity = (f"SELECT {', '.join(aggregates)} FROM instances WHERE "
                      + " AND ".join(f'"{k}" = ?' for k in path_keys))
        entities = []
        with self._lock:
            first_of: dict[tuple, int] = {}
            sql = f"SELECT MIN(rowid), {', '.join(_quoted(path_keys))} FROM instances {where} GROUP BY {grouping}"
            for rowid, *entity in self._db.execute(sql, parameters):
                key = tuple(entity)
                if rowid < first_of.get(key, rowid + 1):
                    first_of[key] = rowid
            firsts = sorted(first_of.values())
            rows: dict[int, tuple] = {}
            for start in range(0, len(firsts), _BATCH):
                batch = firsts[start:start + _BATCH]
                sql = f"SELECT {columns} FROM instances WHERE rowid IN ({', '.join('?' for _ in batch)})"
                for rowid, *values in self._db.execute(sql, batch):
                    rows[rowid] = values
            for first in firsts:
                values = rows[first]
                attributes = {name: _from_sql(value) for name, value in zip(plain, values)}
                if derived:
                    raw = dict(zip(plain, values))
                    totals = self._db.execute(per_entity, [raw[k] for k in path_keys]).fetchone()
                    for name, value in zip(derived, totals):
                        if name in _LISTS:
                            value = sorted(v for v in value.split(",") if v) if value else []
                        attributes[name] = value
                entities.append(attributes)
        return entities

    def find(self, identifier: Dataset, model: str | None = None) -> Iterator[Dataset]:
        """The C-FIND responses to `identifier`: one data set per matching patient, study,
        series or instance (as its Query/Retrieve Level asks), holding the requested keys
        (empty when the archive does not know them), the Query/Retrieve Level and the
        Specific Character Set when the identifier has one. Raises QueryError."""
        for match in self._responses(identifier, model):
            yield match.to_dataset()

    def _responses(self, identifier: Dataset, model: str | None) -> Iterator[TextIdentifier]:
        """The responses of :meth:`find` as :class:`TextIdentifier` (encoded without
        building a pydicom data set)."""
        plan = _response_plan(identifier)
        returned = {name for _tag, _vr, name, _value in plan if name}
        for attributes, _keys in self.entities(identifier, model, returned):
            yield TextIdentifier([(tag, vr, attributes.get(name) if name else value)
                                  for tag, vr, name, value in plan])

    def files(self, identifier: Dataset, model: str | None = None) -> list[str]:
        """The paths of every instance under the entities matching `identifier`, for a
        C-MOVE or C-GET, in the order indexed. Raises QueryError."""
        depth = LEVELS.index(self.level_of(identifier, model))
        keys = _query_keys(identifier, depth)
        where, parameters, remaining = _sql_filter(keys)
        path_keys = [UNIQUE_KEYS[lv] for lv in LEVELS[:depth + 1]]
        columns = ", ".join(["path", *(f'"{k}"' for k in path_keys)])
        wanted = None
        if remaining:
            wanted = {tuple(entity_keys) for _attributes, entity_keys in self.entities(identifier, model, set())}
        with self._lock:
            found = self._db.execute(f"SELECT {columns} FROM instances {where} ORDER BY rowid", parameters).fetchall()
        if wanted is None:
            return [row[0] for row in found]
        return [row[0] for row in found if tuple(v or "" for v in row[1:]) in wanted]

    # --- the handlers -----------------------------------------------------------------------

    def handle_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        """The ``evt.EVT_C_FIND`` handler."""
        try:
            matches = self._responses(event.identifier, _model(event))
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


def load_destinations(path: str | os.PathLike) -> dict[str, tuple[str, int]]:
    """The C-MOVE destinations of a configuration file: a TOML file with a
    ``[destinations]`` table of ``AE = "host:port"`` lines, or a JSON file
    (``{"destinations": {"AE": "host:port"}}``). Raises ValueError on a bad file."""
    import json

    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    if os.fspath(path).lower().endswith(".json"):
        document = json.loads(text)
    else:
        try:
            import tomllib
        except ImportError:  # Python 3.10: the one table this file needs
            document = _destinations_table(text)
        else:
            try:
                document = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{os.fspath(path)}: {exc}") from None
    table = document.get("destinations") if isinstance(document, dict) else None
    if not isinstance(table, dict):
        raise ValueError(f"{os.fspath(path)}: no [destinations] table")
    destinations = {}
    for title, address in table.items():
        host, colon, port = str(address).strip().rpartition(":")
        title = str(title).strip()
        if not title or len(title) > 16 or not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"{os.fspath(path)}: {title} = {address!r} is not AE = \"host:port\"")
        destinations[title] = (host, int(port))
    return destinations


def _destinations_table(text: str) -> dict[str, dict[str, str]]:
    """The ``[destinations]`` table of a TOML file of ``key = "value"`` lines."""
    found: dict[str, str] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            inside = line.split("#", 1)[0].replace(" ", "") == "[destinations]"
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"line {number}: not key = value")
        value = value.strip()
        if value[:1] in ("'", '"'):
            value = value[1:value.index(value[0], 1)] if value[0] in value[1:] else value
        if inside:
            found[key.strip().strip("\"'")] = value
    return {"destinations": found}


_SAFE_UID = re.compile(r"[0-9]+(\.[0-9]+)*")


def _name(uid: Any) -> str:
    """A UID as a file or folder name: itself when only digits and dots, else ``unknown``
    (a UID comes from the peer, and must not name a path such as ``../x``)."""
    text = str(uid or "").strip().rstrip("\x00")
    return text if len(text) <= 64 and _SAFE_UID.fullmatch(text) else "unknown"


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), folder]) == folder


def fsync_folder(folder: str) -> None:
    """Make the entries of `folder` (a rename into it) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_folders(folder: str) -> None:
    """Create `folder` and its missing parents, each made durable in its parent."""
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        fsync_folder(os.path.dirname(path))


def _to_sql(value: Any) -> Any:
    """A scanned value as SQLite stores it: several values joined with backslashes (no
    scanned attribute has a VR whose values may hold one)."""
    if isinstance(value, (list, tuple)):
        return "\\".join(str(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def _from_sql(value: Any) -> Any:
    if isinstance(value, str) and "\\" in value:
        return value.split("\\")
    return value


def _model(event: Any) -> str | None:
    request = getattr(event, "request", None)
    uid = getattr(request, "AffectedSOPClassUID", None)
    return str(uid) if uid else None


def _query_keys(identifier: Dataset, depth: int) -> list[tuple[str, str, str]]:
    """The matching keys of `identifier` for a query at LEVELS[depth]: (keyword, VR, value)
    of each attribute the archive knows at that level or above whose value is not
    universal (empty or ``*``)."""
    known = {name for lv in LEVELS[:depth + 1] for name in ATTRIBUTES[lv]}
    keys = []
    for element in identifier:
        name = element.keyword
        if not name or name in _NOT_MATCHED or element.VR == "SQ" or name not in known:
            continue  # not matched: unknown attributes are returned empty
        value = _text(element.value)
        if value not in ("", "*"):
            keys.append((name, element.VR, value))
    return keys


def _quoted(names: list[str]) -> list[str]:
    return [f'"{name}"' for name in names]


def _names(keys: list[tuple[str, str, str]]) -> set[str]:
    return {name for name, _vr, _value in keys}


_NOT_IN_SQL = {"DA", "TM", "DT", "IS", "SS", "US", "SL", "UL", "DS", "FL", "FD"}


def _sql_filter(keys: list[tuple[str, str, str]]) -> tuple[str, tuple, list[tuple[str, str, str]]]:
    """The WHERE clause selecting the instances of the entities that `keys` match, and the
    keys left to match entity by entity (dates, times, numbers, derived attributes). Every
    attribute of :data:`ATTRIBUTES` stored per instance has a value multiplicity of 1, so
    SQL's ``=``, ``IN`` and ``GLOB`` on the stored text are the matching rules themselves."""
    where: list[str] = []
    parameters: list[str] = []
    remaining = []
    for name, vr, value in keys:
        if name in _COUNTS or name in _LISTS or vr in _NOT_IN_SQL:
            remaining.append((name, vr, value))
        elif vr == "UI":
            wanted = sorted({u.strip() for u in value.split("\\")})
            where.append(f'"{name}" IN ({", ".join("?" for _ in wanted)})')
            parameters.extend(wanted)
        elif "*" in value or "?" in value:
            where.append(f'"{name}" GLOB ?')
            parameters.append(value.replace("[", "[[]"))  # GLOB's own '*' and '?' are DICOM's
        else:
            where.append(f'"{name}" = ?')
            parameters.append(value)
    return ("WHERE " + " AND ".join(where) if where else ""), tuple(parameters), remaining


def _response_plan(identifier: Dataset) -> list[tuple[int, str, str | None, Any]]:
    """How each response to `identifier` is made: (tag, VR, attribute or None, fixed value)
    for each element it returns, in the identifier's order (ascending tags)."""
    plan = []
    for element in identifier:
        if element.tag.is_private or element.tag.group == 0x0002:
            continue
        name = element.keyword
        if name == "QueryRetrieveLevel":
            plan.append((int(element.tag), "CS", None, str(element.value).strip().upper()))
        elif name == "SpecificCharacterSet":
            plan.append((int(element.tag), "CS", None, element.value))
        elif element.VR == "SQ":
            plan.append((int(element.tag), "SQ", None, []))
        else:
            plan.append((int(element.tag), element.VR, name or None, None))
    return plan


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


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
