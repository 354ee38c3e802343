"""Events of an association and their handlers, shaped like pynetdicom's ``evt``.

Bind handlers with ``evt_handlers=[(evt.EVT_C_STORE, handler), (evt.EVT_C_ECHO, other,
[arg])]`` in ``AE.associate`` or ``AE.start_server``. Intervention events (the DIMSE
services) take one handler whose return value is the response status; notification events
take any number of handlers whose return values are ignored.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, NamedTuple

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

LOGGER = logging.getLogger("turbodicom.net")

__all__ = [
    "EVT_ABORTED", "EVT_ACCEPTED", "EVT_CONN_CLOSE", "EVT_CONN_OPEN", "EVT_C_ECHO", "EVT_C_FIND",
    "EVT_C_GET", "EVT_C_MOVE", "EVT_C_STORE", "EVT_ESTABLISHED", "EVT_REJECTED", "EVT_RELEASED",
    "EVT_REQUESTED", "Event", "InterventionEvent", "NotificationEvent",
]


class NotificationEvent(NamedTuple):
    name: str
    description: str
    is_intervention: bool = False
    is_notification: bool = True


class InterventionEvent(NamedTuple):
    name: str
    description: str
    is_intervention: bool = True
    is_notification: bool = False


EVT_CONN_OPEN = NotificationEvent("EVT_CONN_OPEN", "Connection with remote opened")
EVT_CONN_CLOSE = NotificationEvent("EVT_CONN_CLOSE", "Connection with remote closed")
EVT_REQUESTED = NotificationEvent("EVT_REQUESTED", "Association requested")
EVT_ACCEPTED = NotificationEvent("EVT_ACCEPTED", "Association request accepted")
EVT_REJECTED = NotificationEvent("EVT_REJECTED", "Association request rejected")
EVT_ESTABLISHED = NotificationEvent("EVT_ESTABLISHED", "Association established")
EVT_RELEASED = NotificationEvent("EVT_RELEASED", "Association released")
EVT_ABORTED = NotificationEvent("EVT_ABORTED", "Association aborted")

EVT_C_ECHO = InterventionEvent("EVT_C_ECHO", "C-ECHO request received")
EVT_C_STORE = InterventionEvent("EVT_C_STORE", "C-STORE request received")
EVT_C_FIND = InterventionEvent("EVT_C_FIND", "C-FIND request received")
EVT_C_MOVE = InterventionEvent("EVT_C_MOVE", "C-MOVE request received")
EVT_C_GET = InterventionEvent("EVT_C_GET", "C-GET request received")

_INTERVENTION = (EVT_C_ECHO, EVT_C_STORE, EVT_C_FIND, EVT_C_MOVE, EVT_C_GET)

Handler = Callable[..., Any]


class Handlers:
    """The handlers bound to one AE or association: event -> [(handler, args)]."""

    def __init__(self, bound: list | None = None) -> None:
        self._handlers: dict[Any, list[tuple[Handler, list]]] = {}
        for item in bound or []:
            self.bind(*item)

    def bind(self, event: Any, handler: Handler, args: list | None = None) -> None:
        entry = (handler, list(args or []))
        if event.is_intervention:
            self._handlers[event] = [entry]  # one handler: the last bound wins
        else:
            current = self._handlers.setdefault(event, [])
            if all(h is not handler for h, _ in current):
                current.append(entry)

    def unbind(self, event: Any, handler: Handler) -> None:
        current = self._handlers.get(event, [])
        self._handlers[event] = [(h, a) for h, a in current if h is not handler]

    def get(self, event: Any) -> list[tuple[Handler, list]]:
        return list(self._handlers.get(event, []))

    def merged(self, other: "Handlers") -> "Handlers":
        """These handlers, with `other`'s added (intervention handlers of `other` win)."""
        result = Handlers()
        for source in (self, other):
            for event, entries in source._handlers.items():
                for handler, args in entries:
                    result.bind(event, handler, args)
        return result

    def bound(self) -> list[tuple[Any, Handler, list]]:
        return [(event, h, a) for event, entries in self._handlers.items() for h, a in entries]


class Event:
    """What a handler receives: the association, the event type, and for DIMSE events the
    presentation context, the request and (for C-STORE) its data set."""

    def __init__(self, assoc: Any, event: Any, **attributes: Any) -> None:
        self.assoc = assoc
        self.event = event
        self.timestamp = datetime.now()
        self._dataset: Dataset | None = None
        self._hash = None
        for name, value in attributes.items():
            setattr(self, name, value)

    @property
    def is_cancelled(self) -> bool:
        """For C-FIND, C-MOVE and C-GET: whether the requestor has sent a C-CANCEL."""
        check = getattr(self, "_is_cancelled", None)
        return bool(check()) if check is not None else False

    @property
    def move_destination(self) -> str | None:
        """For C-MOVE: the AE title the matches are to be stored at."""
        request = getattr(self, "request", None)
        return getattr(request, "MoveDestination", None)

    @property
    def message_id(self) -> int | None:
        request = getattr(self, "request", None)
        return getattr(request, "MessageID", None)

    # --- the data set of a C-STORE (or the identifier of a C-FIND/C-MOVE/C-GET) -----

    @property
    def dataset(self) -> Dataset:
        """The received data set, decoded (with pydicom) from the bytes on first access."""
        if self._dataset is None:
            self._dataset = self._decode(self._raw_dataset())
        return self._dataset

    @property
    def identifier(self) -> Dataset:
        return self.dataset

    @property
    def dataset_path(self) -> str | None:
        """Where the received data set was written, when the server streams data sets to
        files (``turbodicom.net.config.STORE_RECV_CHUNKED_DATASET``): a DICOM file, File
        Meta Information first, that the handler may move (otherwise it is deleted after
        the handler returns)."""
        return getattr(self, "_dataset_path", None)

    def _raw_dataset(self) -> bytes:
        raw = getattr(self, "_dataset_bytes", None)
        if raw is not None:
            return raw
        path = self.dataset_path
        if path is not None:
            return streamed_dataset(path, getattr(self, "_dataset_offset", 0))
        raise AttributeError(f"{self.event.name} has no data set")

    def _decode(self, raw: bytes) -> Dataset:
        from turbodicom.net.dimse import decode_dataset

        return decode_dataset(raw, self.context.transfer_syntax[0])

    @property
    def file_meta(self) -> FileMetaDataset:
        """The File Meta Information a file of the received C-STORE data set needs."""
        request = self.request
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = request.AffectedSOPClassUID
        meta.MediaStorageSOPInstanceUID = request.AffectedSOPInstanceUID
        meta.TransferSyntaxUID = UID(self.context.transfer_syntax[0])
        from turbodicom.net.ae import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME

        meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        return meta

    def encoded_dataset(self, include_meta: bool = True) -> bytes:
        """The data set as received, with a preamble and File Meta Information in front
        when `include_meta`: the bytes of a DICOM file, without decoding anything."""
        path = self.dataset_path
        if include_meta and path is not None and getattr(self, "_dataset_offset", 0):
            with open(path, "rb") as f:  # the file is already a DICOM file
                return f.read()
        raw = self._raw_dataset()
        if not include_meta:
            return raw if isinstance(raw, bytes) else bytes(raw)
        from turbodicom.net.ae import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME
        from turbodicom.net.dimse import part10_header

        request = self.request
        return part10_header(request.AffectedSOPClassUID, request.AffectedSOPInstanceUID,
                             self.context.transfer_syntax[0], IMPLEMENTATION_CLASS_UID,
                             IMPLEMENTATION_VERSION_NAME) + raw


def streamed_dataset(path: str, offset: int) -> bytes:
    """The data set bytes of a file that a received data set was streamed to: what follows
    `offset` (its File Meta Information, when the file has some)."""
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read()


def trigger(handlers: Handlers, assoc: Any, event: Any, **attributes: Any) -> Any:
    """Run the handlers bound to `event`. Notification handlers' exceptions are logged and
    ignored; an intervention handler's return value is returned (its exceptions propagate
    to the caller, which answers with a failure status)."""
    entries = handlers.get(event)
    if event.is_intervention:
        if not entries:
            return _default(event, attributes)
        handler, args = entries[0]
        return handler(Event(assoc, event, **attributes), *args)
    for handler, args in entries:
        try:
            handler(Event(assoc, event, **attributes), *args)
        except Exception:
            LOGGER.exception("the handler for %s raised an exception", event.name)
    return None


def _default(event: Any, attributes: dict) -> Any:
    """As pynetdicom: C-ECHO succeeds; every other service needs a handler bound."""
    if event is EVT_C_ECHO:
        return 0x0000
    raise NotImplementedError(f"No handler has been bound to 'evt.{event.name}'")


def debug_logger() -> None:
    """Log everything the network layer does to the console (pynetdicom's ``debug_logger``)."""
    logger = logging.getLogger("turbodicom.net")
    logger.setLevel(logging.DEBUG)
    if not any(isinstance(h, logging.StreamHandler) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname).1s: %(message)s"))
        logger.addHandler(handler)
