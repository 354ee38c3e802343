"""Query/Retrieve: C-FIND, C-MOVE and C-GET, as SCU (methods of the association) and as SCP
(the generator handlers of ``evt.EVT_C_FIND``, ``EVT_C_MOVE`` and ``EVT_C_GET``), with
pynetdicom's conventions for both."""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections import deque
from collections.abc import Iterator
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import UID

from turbodicom import _core
from turbodicom.net import events as evt
from turbodicom.net.dimse import (
    C_CANCEL_RQ,
    C_FIND_RQ,
    C_FIND_RSP,
    C_GET_RQ,
    C_GET_RSP,
    C_MOVE_RQ,
    C_MOVE_RSP,
    C_STORE_RQ,
    C_STORE_RSP,
    NO_DATASET,
    Message,
    TextIdentifier,
    decode_dataset,
    encode_dataset,
    encode_identifier,
    status_dataset,
)

LOGGER = logging.getLogger("turbodicom.net")

__all__ = ["QueryRetrieveMixin", "query_model_uid"]

# Statuses (PS3.4 C.4).
PENDING = (0xFF00, 0xFF01)
CANCEL = 0xFE00
SUCCESS = 0x0000
SUBOPERATIONS_FAILED = 0xB000  # warning: some sub-operations failed
UNABLE_TO_PERFORM = 0xA702  # every sub-operation failed
UNKNOWN_DESTINATION = 0xA801
HANDLER_FAILED = 0xC000
LOOKAHEAD = 64  # C-MOVE: data sets read ahead to choose the destination's contexts
IDENTIFIER_INVALID = 0xC310  # "unable to process": an identifier that cannot be decoded
A_ABORT = 0x07

_MODELS = {
    # pynetdicom 1.x letters, still written in tutorials
    "P": "PatientRootQueryRetrieveInformationModel",
    "S": "StudyRootQueryRetrieveInformationModel",
    "O": "PatientStudyOnlyQueryRetrieveInformationModel",
}
_SUFFIX = {C_FIND_RQ: "Find", C_MOVE_RQ: "Move", C_GET_RQ: "Get"}


def query_model_uid(query_model: str, command: int) -> UID:
    """The SOP class of `query_model`: a UID, a keyword (``"PatientRootQueryRetrieve
    InformationModelFind"``), or the letters ``"P"``, ``"S"``, ``"O"`` of pynetdicom 1."""
    from turbodicom.net.sop_class import uid_for

    text = str(query_model)
    if text[:1].isdigit():
        return UID(text)
    if text in _MODELS:
        text = _MODELS[text] + _SUFFIX[command]
    uid = uid_for(text)
    if uid is None:
        raise ValueError(f"Unknown 'query_model' value '{query_model}'")
    return uid


def _is_pending(status: int | None) -> bool:
    return status in PENDING


class QueryRetrieveMixin:
    """The C-FIND, C-MOVE, C-GET and C-CANCEL requests of an :class:`Association`."""

    # --- SCU -----------------------------------------------------------------------------------

    def send_c_find(self, dataset: Dataset, query_model: str, msg_id: int = 1,
                    priority: int = 2) -> Iterator[tuple[Dataset, Dataset | None]]:
        """Send a C-FIND; yields ``(status, identifier)`` for each response (the identifier
        of each pending match, ``None`` with the final status)."""
        yield from self._query(C_FIND_RQ, C_FIND_RSP, dataset, query_model, msg_id, priority)

    def send_c_move(self, dataset: Dataset, move_aet: str, query_model: str, msg_id: int = 1,
                    priority: int = 2) -> Iterator[tuple[Dataset, Dataset | None]]:
        """Send a C-MOVE asking the peer to store the matches at `move_aet`; yields
        ``(status, identifier)`` for each response (sub-operation counts in the status)."""
        yield from self._query(C_MOVE_RQ, C_MOVE_RSP, dataset, query_model, msg_id, priority,
                               MoveDestination=move_aet)

    def send_c_get(self, dataset: Dataset, query_model: str, msg_id: int = 1,
                   priority: int = 2) -> Iterator[tuple[Dataset, Dataset | None]]:
        """Send a C-GET; the matches arrive as C-STORE requests on this association, handled
        by the ``evt.EVT_C_STORE`` handler bound to it. Yields ``(status, identifier)``."""
        yield from self._query(C_GET_RQ, C_GET_RSP, dataset, query_model, msg_id, priority)

    def send_c_cancel(self, msg_id: int, context_id: int | None = None, query_model: str | None = None) -> None:
        """Ask the peer to cancel the C-FIND, C-MOVE or C-GET with message ID `msg_id`."""
        if context_id is None:
            if query_model is None:
                raise ValueError("'send_c_cancel' needs 'context_id' or 'query_model'")
            for command in (C_FIND_RQ, C_MOVE_RQ, C_GET_RQ):
                try:
                    context_id = self._context_for(query_model_uid(query_model, command), None).context_id
                    break
                except ValueError:
                    continue
            if context_id is None:
                raise ValueError(f"No accepted presentation context for '{query_model}'")
        self._send(context_id, Message(CommandField=C_CANCEL_RQ, MessageIDBeingRespondedTo=msg_id,
                                       CommandDataSetType=NO_DATASET))

    def _query(self, command: int, response_field: int, dataset: Dataset, query_model: str, msg_id: int,
               priority: int, **elements: Any) -> Iterator[tuple[Dataset, Dataset | None]]:
        if not self.is_established:
            raise RuntimeError("The association with a peer SCP must be established before sending a "
                               f"{_SUFFIX[command].upper()} request")
        uid = query_model_uid(query_model, command)
        context = self._context_for(uid, None)
        syntax = context.transfer_syntax[0]
        request = Message(CommandField=command, MessageID=msg_id, AffectedSOPClassUID=uid, Priority=priority,
                          CommandDataSetType=0x0001, **elements)
        with self._lock:
            try:
                self._send(context.context_id, request, encode_identifier(dataset, syntax))
            except _core.NetError as exc:
                LOGGER.error("%s failed: %s", request.name, exc)
                self.abort()
                yield Dataset(), None
                return
            while True:
                response = self._receive_for_query(response_field, msg_id)
                if response is None:
                    yield Dataset(), None
                    return
                status = status_dataset(response)
                identifier = None
                if response.dataset is not None:
                    try:
                        identifier = decode_dataset(response.dataset, syntax)
                    except Exception as exc:  # a response we cannot read: as pynetdicom, no identifier
                        LOGGER.error("Cannot decode the identifier of %s: %s", response.name, exc)
                yield status, identifier
                if not _is_pending(response.Status):
                    return

    def _receive_for_query(self, response_field: int, msg_id: int) -> Message | None:
        """The next response to `msg_id`, answering the C-STORE sub-operations of a C-GET
        that arrive in between."""
        while True:
            if self._connection is None:  # aborted, by this side (another thread) or the peer
                return None
            message = self._receive_response(0, streamed=response_field == C_GET_RSP)
            if message is None:
                return None
            if message.CommandField == C_STORE_RQ:
                self._answer_store(message)
                continue
            if message.CommandField == response_field and message.MessageIDBeingRespondedTo in (msg_id, None):
                return message
            LOGGER.error("Unexpected %s while waiting for a response to message %d", message.name, msg_id)
            self.abort()
            return None

    def _answer_store(self, request: Message) -> None:
        """A C-STORE request arriving on this association (a C-GET's sub-operation)."""
        context = next(c for c in self.accepted_contexts if c.context_id == request.context_id)
        path = getattr(request, "dataset_path", None)
        attributes = ({"_dataset_bytes": request.dataset} if path is None
                      else {"_dataset_path": path, "_dataset_offset": request.dataset_offset})
        try:
            status = self._status_of(evt.EVT_C_STORE, request, context, **attributes)
        finally:
            if path is not None:  # not taken by the handler
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        if self._connection is None:  # the association was aborted while the handler ran
            return
        try:
            self._send_store_response(request, status)
        except _core.NetError as exc:
            LOGGER.error("Cannot answer the C-STORE sub-operation: %s", exc)
            self.abort()

    # --- SCP -------------------------------------------------------------------------------------

    def _serve_query(self, request: Message, context: Any, dataset: bytes | None) -> None:
        """Answer a C-FIND, C-MOVE or C-GET request with the bound generator handler."""
        field = request.CommandField
        response_field = {C_FIND_RQ: C_FIND_RSP, C_MOVE_RQ: C_MOVE_RSP, C_GET_RQ: C_GET_RSP}[field]
        event = {C_FIND_RQ: evt.EVT_C_FIND, C_MOVE_RQ: evt.EVT_C_MOVE, C_GET_RQ: evt.EVT_C_GET}[field]
        syntax = context.transfer_syntax[0]
        self._cancelled: set[int] = getattr(self, "_cancelled", set())

        def respond(status: int, identifier: Dataset | None = None, **counts: Any) -> None:
            if self._peer_gone():
                return  # the requestor aborted or the connection closed: nobody to answer
            response = Message(CommandField=response_field, MessageIDBeingRespondedTo=request.MessageID,
                               AffectedSOPClassUID=request.AffectedSOPClassUID,
                               CommandDataSetType=NO_DATASET if identifier is None else 0x0001, Status=status,
                               **counts)
            self._send(context.context_id, response, None if identifier is None else _encoded(identifier, syntax))

        try:
            identifier = _decode_identifier(dataset or b"", syntax)
        except Exception as exc:
            LOGGER.error("Cannot decode the identifier of %s: %s", request.name, exc)
            respond(IDENTIFIER_INVALID)
            return
        attributes = {"request": request, "context": context, "_dataset": identifier,
                      "_is_cancelled": lambda: self._check_cancel(request.MessageID)}
        try:
            results = evt.trigger(self._handlers, self, event, **attributes)
            iterator = iter(results)
        except Exception:
            LOGGER.exception("Exception in the handler bound to %s", event.name)
            respond(HANDLER_FAILED)
            return
        if field == C_FIND_RQ:
            self._serve_find(iterator, respond)
        else:
            self._serve_retrieve(field, request, iterator, respond)

    def _serve_find(self, results: Iterator, respond: Any) -> None:
        try:
            for item in results:
                status, match = item
                code = int(status.Status) if isinstance(status, Dataset) else int(status)
                if code == CANCEL:
                    respond(CANCEL)
                    return
                if not _is_pending(code):
                    respond(code)
                    return
                respond(code, match)
        except _core.NetError:
            raise  # a response could not be sent: the association ends
        except Exception:
            LOGGER.exception("Exception in the handler bound to EVT_C_FIND")
            respond(HANDLER_FAILED)
            return
        respond(SUCCESS)

    def _serve_retrieve(self, field: int, request: Message, results: Iterator, respond: Any) -> None:
        store_on: Any = None  # C-MOVE: the association to the destination
        try:
            if field == C_MOVE_RQ:
                destination = next(results)
                host, port = destination[0], destination[1]
                if host is None:
                    respond(UNKNOWN_DESTINATION)
                    return
            count = int(next(results))
        except Exception:
            LOGGER.exception("Exception in the handler bound to %s", request.name)
            respond(HANDLER_FAILED)
            return
        remaining, completed, failed, warning = count, 0, 0, 0
        failed_uids: list[str] = []
        ahead: deque = deque()  # items read early, to know which storage contexts to offer

        def items() -> Iterator:
            while True:
                if ahead:
                    yield ahead.popleft()
                    continue
                try:
                    yield next(results)
                except StopIteration:
                    return

        source = items()
        try:
            for status, dataset in source:
                code = _code(status)
                if code == CANCEL or self._check_cancel(request.MessageID):
                    respond(CANCEL, _failed_identifier(failed_uids), **_counts(remaining, completed, failed, warning))
                    return
                if not _is_pending(code):
                    respond(code, _failed_identifier(failed_uids), **_counts(None, completed, failed, warning))
                    return
                if dataset is None:
                    continue
                if field == C_MOVE_RQ and (store_on is None or not _can_store(store_on, dataset)):
                    # (Re)associate, offering what this and the next data sets need.
                    while len(ahead) < LOOKAHEAD:
                        try:
                            ahead.append(next(results))
                        except StopIteration:
                            break
                    needed = [dataset] + [d for _s, d in ahead if d is not None]
                    if store_on is not None:
                        store_on.release()
                    store_on = self._open_move_association(host, port, request, needed)
                    if store_on is None:
                        # The destination cannot be reached: this and every remaining
                        # sub-operation fail (PS3.4 C.4.2.3.1; DCMTK's qrscp answers so too).
                        for item in [dataset, *_pending_items(source)]:
                            failed += 1
                            failed_uids.append(_instance_uid(item))
                        break
                # The next file to send is read while the peer stores this one.
                if not ahead:
                    try:
                        ahead.append(next(results))
                    except StopIteration:
                        pass
                next_path = _next_path(ahead)
                if field == C_MOVE_RQ:
                    result = _store_sub_operation(store_on, dataset, (self.requestor.ae_title, request.MessageID),
                                                  next_path)
                else:
                    result = self._get_sub_operation(dataset, next_path)
                remaining = max(remaining - 1, 0)
                if result == SUCCESS:
                    completed += 1
                elif result is not None and (result & 0xF000) == 0xB000:
                    warning += 1
                else:
                    failed += 1
                    failed_uids.append(_instance_uid(dataset))
                if self._peer_gone():
                    LOGGER.info("The association ended during %s: its sub-operations stop", request.name)
                    return
                respond(0xFF00, None, **_counts(remaining, completed, failed, warning))
        except _core.NetError:
            raise  # a response could not be sent: the association ends
        except Exception:
            LOGGER.exception("Exception in the handler bound to %s", request.name)
            respond(HANDLER_FAILED, _failed_identifier(failed_uids), **_counts(None, completed, failed, warning))
            return
        finally:
            if store_on is not None:
                store_on.release()
        final = SUCCESS if not failed else (UNABLE_TO_PERFORM if not completed and not warning
                                            else SUBOPERATIONS_FAILED)
        respond(final, _failed_identifier(failed_uids), **_counts(None, completed, failed, warning))

    def _get_sub_operation(self, item: Any, next_path: str = "") -> int | None:
        """One C-STORE sub-operation of a C-GET, over the requesting association itself:
        the request is sent, then its response awaited. A C-CANCEL arriving meanwhile is
        recorded for the C-GET (it is not the response); an A-ABORT or A-RELEASE-RQ is left
        for the association to handle once the C-GET stops. Returns the response's status,
        or None when there is none (no context for the data set, a file that cannot be
        read, the association ended). A file whose data set goes as stored is sent in one
        C++ call, with `next_path` read ahead meanwhile."""
        from turbodicom.net.association import EVT_P_DATA_RECEIVED

        if self._peer_gone():
            return None
        if isinstance(item, (str, os.PathLike)) and isinstance(self._connection, _core.Connection):
            sent, status = self._c_store_file(os.fspath(item), self._next_message_id(), 2, None, None,
                                              next_path, within_query=True, as_code=True)
            if sent:
                return status
        msg_id = self._next_message_id()
        try:
            context, request, source, data = self._store_request(item, msg_id)
        except (ValueError, OSError) as exc:
            LOGGER.error("C-STORE sub-operation failed: %s", exc)
            return None
        try:
            self._send_store(context, request, source, data)
        except _core.NetError as exc:
            LOGGER.error("C-STORE sub-operation failed: %s", exc)
            self._response_failed(exc)
            return None
        timeout = float(self.dimse_timeout or 0) or 0.0
        accepted_ids = [c.context_id for c in self.accepted_contexts]
        while True:
            try:
                result = self._connection.receive_message(accepted_ids, timeout, "", "")
            except _core.NetError as exc:
                self._response_failed(exc)
                return None
            if result[0] == "pdu":
                self._deferred_pdu = result
                return None
            self._event(EVT_P_DATA_RECEIVED)
            message = Message.decode(result[2])
            if message.CommandField == C_CANCEL_RQ:
                self._cancelled.add(message.MessageIDBeingRespondedTo)
                continue
            if message.CommandField == C_STORE_RSP and message.MessageIDBeingRespondedTo == msg_id:
                return int(message.Status) if message.Status is not None else None
            LOGGER.error("Unexpected %s while waiting for a C-STORE-RSP: ignored", message.name)

    def _open_move_association(self, host: str, port: int, request: Message, needed: list) -> Any:
        """The association to a C-MOVE destination, offering a context for each (SOP class,
        transfer syntax) of the data sets about to be sent (uncompressed ones may also be
        sent in the other uncompressed syntaxes)."""
        from turbodicom.net.ae import AE
        from turbodicom.net.contexts import DEFAULT_TRANSFER_SYNTAXES, build_context

        ae = AE(self.ae.ae_title)
        offered, seen = [], set()
        for item in needed:
            key = _class_and_syntax(item)
            if key in seen:
                continue
            seen.add(key)
            sop_class, syntax = key
            if syntax is None or not UID(syntax).is_compressed:
                syntaxes = ([syntax] if syntax else []) + [t for t in DEFAULT_TRANSFER_SYNTAXES if t != syntax]
            else:
                syntaxes = [syntax]
            offered.append(build_context(sop_class, syntaxes))
        assoc = ae.associate(host, int(port), contexts=offered[:128], ae_title=request.MoveDestination or "ANY-SCP")
        if not assoc.is_established:
            LOGGER.error("Cannot associate with the move destination %s at %s:%s", request.MoveDestination, host, port)
            return None
        return assoc

    def _peer_gone(self) -> bool:
        """Whether the association ended under a running query: the connection closed, or
        an A-ABORT arrived (it waits for the association to handle it)."""
        connection = self._connection
        if connection is None or not connection.is_open:
            return True
        deferred = getattr(self, "_deferred_pdu", None)
        return deferred is not None and deferred[1] == A_ABORT

    def _check_cancel(self, msg_id: int) -> bool:
        """Whether a C-CANCEL for `msg_id` arrived (looked for without waiting), or the
        association is ending (an A-ABORT or A-RELEASE-RQ arrived, the connection broke)."""
        cancelled = getattr(self, "_cancelled", set())
        if msg_id in cancelled:
            return True
        if getattr(self, "_deferred_pdu", None) is not None:
            return True
        connection = self._connection
        if connection is None:
            return True
        if not hasattr(connection, "readable") or not connection.readable(0.0):
            return False
        accepted = [c.context_id for c in self.accepted_contexts]
        try:
            result = connection.receive_message(accepted, float(self.network_timeout or 0) or 0.0, "", "")
        except _core.NetError as exc:
            self._response_failed(exc)  # the association is gone: stop the operation
            return True
        if result[0] == "pdu":
            self._deferred_pdu = result
            return True
        message = Message.decode(result[2])
        if message.CommandField == C_CANCEL_RQ:
            cancelled.add(message.MessageIDBeingRespondedTo)
            self._cancelled = cancelled
            return message.MessageIDBeingRespondedTo == msg_id
        LOGGER.error("Unexpected %s during a query: ignored", message.name)
        return False


def _encoded(identifier: Any, syntax: str) -> bytes:
    """A response identifier (a pydicom Dataset or a TextIdentifier) in `syntax`."""
    if isinstance(identifier, TextIdentifier):
        raw = identifier.encode(syntax)
        return raw if raw is not None else encode_dataset(identifier.to_dataset(), syntax)
    return encode_dataset(identifier, syntax)


def _counts(remaining: int | None, completed: int, failed: int, warning: int) -> dict:
    counts = {"NumberOfCompletedSuboperations": completed, "NumberOfFailedSuboperations": failed,
              "NumberOfWarningSuboperations": warning}
    if remaining is not None:
        counts["NumberOfRemainingSuboperations"] = remaining
    return counts


def _failed_identifier(failed_uids: list[str]) -> Dataset | None:
    failed_uids = [uid for uid in failed_uids if uid]
    if not failed_uids:
        return None
    ds = Dataset()
    ds.FailedSOPInstanceUIDList = failed_uids
    return ds


def _can_store(assoc: Any, item: Any) -> bool:
    sop_class, syntax = _class_and_syntax(item)
    try:
        assoc._context_for(sop_class, syntax)
    except ValueError:
        return False
    return True


def _class_and_syntax(item: Any) -> tuple[str, str | None]:
    if isinstance(item, (str, os.PathLike)):
        from turbodicom.net.association import _StoredFile

        stored = _StoredFile(item)
        return stored.sop_class, stored.transfer_syntax
    meta = getattr(item, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    return item.SOPClassUID, syntax


def _instance_uid(item: Any) -> str:
    """The SOP Instance UID of a data set or file to send ("" when it cannot be read)."""
    try:
        if isinstance(item, (str, os.PathLike)):
            from turbodicom.net.association import _StoredFile

            return str(_StoredFile(item).sop_instance or "")
        return str(item.SOPInstanceUID)
    except Exception:
        return ""


def _code(status: Any) -> int:
    return int(status.Status) if isinstance(status, Dataset) else int(status)


def _pending_items(results: Iterator) -> Iterator:
    """The data sets of the pending items left in a retrieve handler's `results`."""
    for status, dataset in results:
        if not _is_pending(_code(status)):
            return
        if dataset is not None:
            yield dataset


def _next_path(ahead: deque) -> str:
    """The file of the next pending item read ahead, "" when it is not a file."""
    if not ahead:
        return ""
    status, item = ahead[0]
    try:
        if not _is_pending(_code(status)) or not isinstance(item, (str, os.PathLike)):
            return ""
    except (TypeError, ValueError, AttributeError):
        return ""
    return os.fspath(item)


def _store_sub_operation(assoc: Any, item: Any, originator: tuple[str, int], next_path: str = "") -> int | None:
    """One C-STORE sub-operation of a C-MOVE, over the association to the destination (with
    the move originator's AE title and message ID); a file's next one, `next_path`, is read
    meanwhile. Returns its status, or None when it could not be sent."""
    try:
        if isinstance(item, (str, os.PathLike)):
            return assoc._send_stored_file(os.fspath(item), next_path, assoc._next_message_id(), originator[0],
                                           originator[1])
        status = assoc.send_c_store(item, msg_id=assoc._next_message_id(), originator_aet=originator[0],
                                    originator_id=originator[1])
    except (ValueError, _core.NetError) as exc:
        LOGGER.error("C-STORE sub-operation failed: %s", exc)
        return None
    return int(status.Status) if status and "Status" in status else None


# --- identifiers as received -------------------------------------------------------------------

_VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL",
                  "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US",
                  "UT", "UV"})
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_MAX_DEPTH = 256


def _decode_identifier(raw: bytes, transfer_syntax: str) -> Dataset:
    """The identifier of a C-FIND, C-MOVE or C-GET request, decoded; raises ValueError when
    it is not a well-formed data set (see :func:`_check_structure`) or a value cannot be
    read. The reader alone is lenient (a truncated element is dropped, an overlong value cut
    short), and a query missing a key that was sent matches more than was asked for."""
    from turbodicom.net.dimse import _syntax_flags

    implicit, little, deflated = _syntax_flags(transfer_syntax)
    identifier = decode_dataset(raw, transfer_syntax)
    try:
        plain = zlib.decompress(raw, -zlib.MAX_WBITS) if deflated else raw
    except zlib.error as exc:
        raise ValueError(f"cannot inflate the data set: {exc}") from None
    _check_structure(plain, implicit, little)
    try:
        _read_values(identifier)
    except Exception as exc:
        raise ValueError(str(exc)) from None
    return identifier


def _read_values(ds: Dataset) -> None:
    """Converts every value that is not empty now (items of sequences too), so that a value
    that cannot be read fails here. Empty values, most keys of a query, cannot fail and stay
    unconverted (converting every element cost a fifth of a C-FIND's Python time)."""
    for tag, element in list(ds._dict.items()):
        if isinstance(element, RawDataElement) and not element.value and element.VR != "SQ":
            continue
        element = ds[tag]
        if element.VR == "SQ":
            for item in element.value:
                _read_values(item)


def _check_structure(raw: bytes, implicit: bool, little: bool) -> None:
    """Raises ValueError unless `raw` is a data set whose every element header and value
    lies within it, with known VRs (explicit VR), and sequences and items properly
    delimited. As pydicom's reader, a data set or item whose first element looks encoded in
    the other VR encoding is read in that one (implicit VR items in explicit VR data)."""
    endian = "<" if little else ">"
    half, word = struct.Struct(endian + "H"), struct.Struct(endian + "I")

    def tag_at(pos: int) -> int:
        return (half.unpack_from(raw, pos)[0] << 16) | half.unpack_from(raw, pos + 2)[0]

    def looks_explicit(pos: int, end: int) -> bool:
        return pos + 6 <= end and 0x40 < raw[pos + 4] < 0x5B and 0x40 < raw[pos + 5] < 0x5B

    def elements(pos: int, end: int, implicit: bool, depth: int, in_item: bool) -> int:
        """Checks the elements from `pos`; returns where they end (after the Item
        Delimitation Item of an undefined length item)."""
        if depth > _MAX_DEPTH:
            raise ValueError("sequences nested too deep")
        while pos < end:
            if pos + 8 > end:
                raise ValueError(f"element header cut short at byte {pos}")
            tag = tag_at(pos)
            if tag == _ITEM_END and in_item:
                return pos + 8
            if tag >> 16 == 0xFFFE:
                raise ValueError(f"item or delimiter ({tag >> 16:04X},{tag & 0xFFFF:04X}) out of place at byte {pos}")
            if implicit:
                vr, length, pos = None, word.unpack_from(raw, pos + 4)[0], pos + 8
            else:
                vr = raw[pos + 4:pos + 6].decode("latin-1")
                if vr not in _VRS:
                    raise ValueError(f"unknown VR {vr!r} at byte {pos}")
                if vr in _LONG_VRS:
                    if pos + 12 > end:
                        raise ValueError(f"element header cut short at byte {pos}")
                    length, pos = word.unpack_from(raw, pos + 8)[0], pos + 12
                else:
                    length, pos = half.unpack_from(raw, pos + 6)[0], pos + 8
            if length == _UNDEFINED:
                pos = items(pos, end, implicit, depth + 1, None)
                continue
            if pos + length > end:
                raise ValueError(f"a value of {length} bytes runs past the end at byte {pos}")
            if vr == "SQ":
                items(pos, pos + length, implicit, depth + 1, pos + length)
            pos += length
        if in_item:
            raise ValueError("an item of undefined length has no Item Delimitation Item")
        return pos

    def items(pos: int, end: int, implicit: bool, depth: int, limit: int | None) -> int:
        """Checks the items of a sequence (of undefined length when `limit` is None: up to
        its Sequence Delimitation Item); returns where the sequence ends."""
        while limit is None or pos < limit:
            if pos + 8 > end:
                raise ValueError("a sequence of undefined length has no Sequence Delimitation Item")
            tag, length = tag_at(pos), word.unpack_from(raw, pos + 4)[0]
            pos += 8
            if tag == _SEQUENCE_END and limit is None:
                return pos
            if tag != _ITEM:
                raise ValueError(f"({tag >> 16:04X},{tag & 0xFFFF:04X}) where an item was expected at byte {pos - 8}")
            item_implicit = implicit or not looks_explicit(pos, end)
            if length == _UNDEFINED:
                pos = elements(pos, end, item_implicit, depth, True)
                continue
            if pos + length > end:
                raise ValueError(f"an item of {length} bytes runs past the end at byte {pos}")
            elements(pos, pos + length, item_implicit, depth, False)
            pos += length
        return pos

    top_implicit = implicit
    if len(raw) >= 8 and looks_explicit(0, len(raw)) == implicit:
        top_implicit = not implicit  # the reader switches too (pydicom's heuristic)
    elements(0, len(raw), top_implicit, 0, False)
