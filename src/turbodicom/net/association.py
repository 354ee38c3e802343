"""An association, requested or accepted: negotiation, the DIMSE services, release and abort.

The bytes (PDUs, command sets, fragmenting and reassembling messages) are handled in C++
with the GIL released; this module decides what to send, following the upper layer state
machine of PS3.8 (its transition table is C++ too: every event goes through it).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from turbodicom import _core
from turbodicom.net import config, events as evt
from turbodicom.net.contexts import (
    ACCEPTANCE,
    ABSTRACT_SYNTAX_NOT_SUPPORTED,
    TRANSFER_SYNTAX_NOT_SUPPORTED,
    PresentationContext,
    cached_uid,
)
from turbodicom.net.dimse import (
    C_CANCEL_RQ,
    C_ECHO_RQ,
    C_FIND_RQ,
    C_GET_RQ,
    C_MOVE_RQ,
    C_ECHO_RSP,
    C_STORE_RQ,
    C_STORE_RSP,
    NO_DATASET,
    Message,
    encode_dataset,
    status_dataset,
    status_only,
)
from turbodicom.net.pdu import RejectReason, ServiceUser, abort_reason_text, reject_reason_text
from turbodicom.net.qr import QueryRetrieveMixin

if TYPE_CHECKING:
    from turbodicom.net.ae import AE

LOGGER = logging.getLogger("turbodicom.net")

# PDU types (PS3.8 9.3).
A_ASSOCIATE_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ = 0x01, 0x02, 0x03
P_DATA_TF, A_RELEASE_RQ, A_RELEASE_RP, A_ABORT = 0x04, 0x05, 0x06, 0x07

# Upper layer events (PS3.8 Table 9-2) fed to the state machine.
EVT_ASSOCIATE_REQUEST = 1
EVT_CONNECTION_CONFIRM = 2
EVT_AC_RECEIVED = 3
EVT_RJ_RECEIVED = 4
EVT_CONNECTION_INDICATION = 5
EVT_RQ_RECEIVED = 6
EVT_ACCEPT = 7
EVT_REJECT = 8
EVT_P_DATA_REQUEST = 9
EVT_P_DATA_RECEIVED = 10
EVT_RELEASE_REQUEST = 11
EVT_RELEASE_RQ_RECEIVED = 12
EVT_RELEASE_RP_RECEIVED = 13
EVT_RELEASE_RESPONSE = 14
EVT_ABORT_REQUEST = 15
EVT_ABORT_RECEIVED = 16
EVT_CONNECTION_CLOSED = 17
EVT_ARTIM_EXPIRED = 18
EVT_INVALID_PDU = 19

_PDU_EVENTS = {
    A_ASSOCIATE_RQ: EVT_RQ_RECEIVED, A_ASSOCIATE_AC: EVT_AC_RECEIVED, A_ASSOCIATE_RJ: EVT_RJ_RECEIVED,
    P_DATA_TF: EVT_P_DATA_RECEIVED, A_RELEASE_RQ: EVT_RELEASE_RQ_RECEIVED,
    A_RELEASE_RP: EVT_RELEASE_RP_RECEIVED, A_ABORT: EVT_ABORT_RECEIVED,
}

# Statuses (PS3.4 and PS3.7 C).
SUCCESS = 0x0000
STORE_HANDLER_FAILED = 0xC211  # "Unable to process": the handler raised
STORE_BAD_STATUS = 0xC001  # the handler returned something that is not a status
UNRECOGNIZED_OPERATION = 0x0211


APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"  # the DICOM Application Context Name (PS3.7 A.2.1)

# Receive errors after which nothing can be sent: the peer is gone.
_CONNECTION_LOST = ("closed", "I/O error")


def _abort_reason(exc: Exception) -> int:
    """The A-ABORT reason (PS3.8 9.3.8) for a PDU that could not be received or decoded:
    1 (unrecognized PDU) for an unknown PDU type, else 6 (invalid PDU parameter value).
    The code "bad PDU" also covers malformed bodies, hence the look at the detail."""
    if getattr(exc, "code", "") == "bad PDU" and str(getattr(exc, "detail", "")).startswith("unknown PDU type"):
        return 1
    return 6


def _valid_ae_title(title: str) -> bool:
    """1 to 16 characters of the default repertoire without backslash or control
    characters (PS3.5 AE); the PDU decoder has already removed the space padding."""
    return 0 < len(title) <= 16 and all(0x20 <= ord(c) < 0x7F and c != "\\" for c in title)


class NetworkError(OSError):
    """The connection failed, timed out or broke the protocol."""


def _connection_options(ae: "AE") -> dict:
    return {
        "network_timeout": float(ae.network_timeout or 0),
        "max_pdu_receive": int(ae.maximum_pdu_size or 0),
    }


class Association(QueryRetrieveMixin):
    """An association between this AE and a peer (``mode`` ``"requestor"`` or
    ``"acceptor"``), shaped like pynetdicom's ``Association``."""

    def __init__(self, ae: "AE", mode: str, handlers: evt.Handlers) -> None:
        self.ae = ae
        self.mode = mode
        self._handlers = handlers
        self.requestor = ServiceUser()
        self.acceptor = ServiceUser()
        self.is_established = False
        self.is_rejected = False
        self.is_aborted = False
        self.is_released = False
        self.rejection: RejectReason | None = None
        self.accepted_contexts: list[PresentationContext] = []
        self.rejected_contexts: list[PresentationContext] = []
        self.acse_timeout = ae.acse_timeout
        self.dimse_timeout = ae.dimse_timeout
        self.network_timeout = ae.network_timeout
        self._connection: Any = None
        self._state = 1  # Sta1, idle
        self._lock = threading.RLock()  # one DIMSE exchange at a time
        self._message_id = 0
        self.name = f"Association-{id(self):x}"
        self._supported_contexts: list[PresentationContext] = []  # acceptor: what the AE supports
        self._supported_by_uid: dict | None = None  # acceptor: the same by abstract syntax (from the server)
        self._scu_contexts: tuple | None = None  # _c_store_file's view of accepted_contexts

    # --- the state machine ----------------------------------------------------------

    def _event(self, event: int, condition: bool = True) -> str:
        """Feed `event` to the state machine; returns the action (``"invalid"`` when the
        event cannot happen in the current state)."""
        action, following = _core.ul_transition(self._state, event, condition)
        if action != "invalid":
            self._state = following
        return action

    # --- handlers ----------------------------------------------------------------------

    def bind(self, event: Any, handler: Any, args: list | None = None) -> None:
        self._handlers.bind(event, handler, args)

    def unbind(self, event: Any, handler: Any) -> None:
        self._handlers.unbind(event, handler)

    def get_handlers(self, event: Any) -> list:
        return self._handlers.get(event)

    def _notify(self, event: Any, **attributes: Any) -> None:
        evt.trigger(self._handlers, self, event, **attributes)

    # --- properties ----------------------------------------------------------------------

    @property
    def is_alive(self) -> bool:
        return self._connection is not None and self._connection.is_open

    @property
    def local(self) -> ServiceUser:
        return self.requestor if self.mode == "requestor" else self.acceptor

    @property
    def remote(self) -> ServiceUser:
        return self.acceptor if self.mode == "requestor" else self.requestor

    def _peer_max_pdu(self) -> int:
        return int(self.remote.maximum_length or 0)

    def _next_message_id(self) -> int:
        self._message_id = self._message_id % 65535 + 1
        return self._message_id

    # --- requestor ------------------------------------------------------------------------

    def _request(self, address: str, port: int, called: str, contexts: list[PresentationContext],
                 max_pdu: int, roles: list, timeout: float | None, tls_args: tuple | None = None) -> None:
        """Connect, send the A-ASSOCIATE-RQ and wait for the answer (requestor side)."""
        self._event(EVT_ASSOCIATE_REQUEST)
        self.requestor.ae_title = self.ae.ae_title
        self.requestor.maximum_length = max_pdu
        self.requestor.implementation_class_uid = self.ae.implementation_class_uid
        self.requestor.implementation_version_name = self.ae.implementation_version_name
        self.acceptor.ae_title = called
        self.acceptor.address, self.acceptor.port = address, port
        for i, context in enumerate(contexts):
            context.context_id = 2 * i + 1
        # What this side accepts is what it announces: `max_pdu` (0: no limit).
        options = {**_connection_options(self.ae), "max_pdu_receive": int(max_pdu or 0)}
        try:
            if tls_args is not None:
                from turbodicom.net.tls import TLSConnection

                context, hostname = tls_args
                self._connection = TLSConnection.connect(address, int(port), float(timeout or 0) or 30.0,
                                                         options, context, hostname)
            else:
                self._connection = _core.Connection.connect(address, int(port), float(timeout or 0) or 30.0,
                                                            options)
        except _core.NetError as exc:
            LOGGER.error("Association request failed: unable to connect to remote: %s", exc)
            self.is_aborted = True
            self._state = 1
            return
        self._event(EVT_CONNECTION_CONFIRM)
        self._notify(evt.EVT_CONN_OPEN, address=(address, port))
        request = {
            "called_ae": called,
            "calling_ae": self.ae.ae_title,
            "contexts": [(c.context_id, str(c.abstract_syntax), [str(t) for t in c.transfer_syntax])
                         for c in contexts],
            "user": {
                "max_length": int(max_pdu),
                "implementation_class_uid": self.ae.implementation_class_uid,
                "implementation_version_name": self.ae.implementation_version_name,
                "roles": [(str(r.sop_class_uid), bool(r.scu_role), bool(r.scp_role)) for r in roles],
            },
        }
        try:
            self._connection.send(_core.pdu_encode_associate_rq(request))
        except _core.NetError as exc:
            LOGGER.error("Association request failed: %s", exc)
            self._close(aborted=True)
            return
        try:
            kind, body = self._connection.receive(float(self.acse_timeout or 0) or 0.0)
            answer = (_core.pdu_decode_associate_ac(body) if kind == A_ASSOCIATE_AC
                      else _core.pdu_decode_associate_rj(body) if kind == A_ASSOCIATE_RJ else None)
        except _core.NetError as exc:
            LOGGER.error("Association request failed: %s", exc)
            if exc.code == "timeout":  # the ACSE timeout: give up as the service-user would
                self.abort()
            elif exc.code in _CONNECTION_LOST:
                self._close(aborted=True)
            else:  # Evt19 in Sta5: AA-8
                self._event(EVT_INVALID_PDU)
                self._send_abort(2, _abort_reason(exc))
            return
        action = self._event(_PDU_EVENTS.get(kind, EVT_INVALID_PDU))
        if kind == A_ASSOCIATE_AC:
            self._accepted(answer, contexts, roles)
        elif kind == A_ASSOCIATE_RJ:
            result, source, reason = answer
            self.rejection = RejectReason(result, source, reason)
            self.is_rejected = True
            LOGGER.error("Association rejected: %s", reject_reason_text(source, reason))
            self._notify(evt.EVT_REJECTED)
            self._close()
        elif kind == A_ABORT:
            self.is_aborted = True
            self._notify(evt.EVT_ABORTED)
            self._close()
        else:
            LOGGER.error("Unexpected PDU 0x%02X in reply to the association request (%s)", kind, action)
            self._send_abort(2, 2)  # AA-8: unexpected PDU

    def _accepted(self, answer: dict, offered: list[PresentationContext], roles: list) -> None:
        user = answer["user"]
        self.acceptor.maximum_length = user.get("max_length") or 0
        self.acceptor.implementation_class_uid = user.get("implementation_class_uid", "")
        self.acceptor.implementation_version_name = user.get("implementation_version_name", "")
        by_id = {c.context_id: c for c in offered}
        answered_roles = {uid: (scu, scp) for uid, scu, scp in user.get("roles", [])}
        asked_roles = {str(r.sop_class_uid): r for r in roles}
        for context_id, result, transfer_syntax in answer["contexts"]:
            mine = by_id.get(context_id)
            if mine is None:
                continue
            context = PresentationContext()
            context.context_id = context_id
            context.abstract_syntax = mine.abstract_syntax
            context.result = result
            if result == ACCEPTANCE:
                context.transfer_syntax = [transfer_syntax]
                uid = str(mine.abstract_syntax)
                asked = asked_roles.get(uid)
                if asked is None:  # default roles: we are the SCU
                    context.as_scu, context.as_scp = True, False
                else:
                    scu, scp = answered_roles.get(uid, (False, False))
                    context.as_scu = bool(asked.scu_role and scu) or not (asked.scu_role or asked.scp_role)
                    context.as_scp = bool(asked.scp_role and scp)
                    context.scu_role, context.scp_role = asked.scu_role, asked.scp_role
                self.accepted_contexts.append(context)
            else:
                context.transfer_syntax = mine.transfer_syntax
                self.rejected_contexts.append(context)
        self.is_established = True
        LOGGER.info("Association accepted: %d of %d contexts", len(self.accepted_contexts), len(offered))
        self._notify(evt.EVT_ACCEPTED)
        self._notify(evt.EVT_ESTABLISHED)

    # --- acceptor --------------------------------------------------------------------------

    def _accept(self, server: Any, fd: int) -> None:
        """Serve one connection (acceptor side): negotiate, then answer requests until the
        peer releases or aborts. Runs on the connection's own thread."""
        self._event(EVT_CONNECTION_INDICATION)
        if getattr(server, "ssl_context", None) is not None:
            from turbodicom.net.tls import TLSConnection

            try:
                self._connection = TLSConnection.adopt(fd, _connection_options(self.ae), server.ssl_context)
            except _core.NetError as exc:
                LOGGER.error("TLS connection failed: %s", exc)
                return
        else:
            self._connection = _core.Connection.adopt(fd, _connection_options(self.ae))
        try:
            self.requestor.address = self._connection.peer_address
            self.requestor.port = self._connection.peer_port
        except _core.NetError as exc:  # the peer reset the connection before it was served
            LOGGER.info("Connection lost at once: %s", exc)
            self._connection.close()
            self._connection = None
            return
        self._notify(evt.EVT_CONN_OPEN, address=(self.requestor.address, self.requestor.port))
        try:
            try:
                # ARTIM: the request must arrive within the ACSE timeout.
                kind, body = self._connection.receive(float(self.acse_timeout or 0) or 0.0)
            except _core.NetError as exc:
                LOGGER.info("No association request: %s", exc)
                if exc.code == "timeout":
                    self._event(EVT_ARTIM_EXPIRED)  # AA-2: close, no PDU
                elif exc.code not in _CONNECTION_LOST:
                    self._event(EVT_INVALID_PDU)  # AA-1
                    self._send_abort(2, _abort_reason(exc))
                return
            if kind != A_ASSOCIATE_RQ:
                # Sta2: an A-ABORT is AA-2 (close without answering), any other PDU AA-1.
                if self._event(_PDU_EVENTS.get(kind, EVT_INVALID_PDU)) == "AA-1":
                    self._send_abort(2, 2)  # unexpected PDU
                return
            try:
                request = _core.pdu_decode_associate_rq(body)
            except _core.NetError as exc:
                LOGGER.error("Invalid A-ASSOCIATE-RQ: %s", exc)
                self._event(EVT_INVALID_PDU)
                self._send_abort(2, 6)  # invalid PDU parameter value
                return
            acceptable = request.get("protocol_version", 1) & 1 == 1
            self._event(EVT_RQ_RECEIVED, acceptable)
            if not acceptable:
                self._reject(1, 2, 2)  # protocol version not supported
                return
            self._notify(evt.EVT_REQUESTED)
            rejection = self._check_request(server, request)
            if rejection is not None:
                self._event(EVT_REJECT)
                self._reject(*rejection)
                return
            self._send_accept(request)
            self._serve()
        finally:
            self._close(aborted=not (self.is_released or self.is_rejected or self.is_aborted)
                        and self.is_established)

    def _check_request(self, server: Any, request: dict) -> tuple[int, int, int] | None:
        ae = self.ae
        self.requestor.ae_title = request["calling_ae"]
        self.acceptor.ae_title = request["called_ae"]
        user = request["user"]
        self.requestor.maximum_length = user.get("max_length") or 0
        self.requestor.implementation_class_uid = user.get("implementation_class_uid", "")
        self.requestor.implementation_version_name = user.get("implementation_version_name", "")
        self.requestor.roles = user.get("roles", [])
        if request.get("application_context") != APPLICATION_CONTEXT:
            return (1, 1, 2)  # application context name not supported
        if not _valid_ae_title(request["called_ae"]):
            return (1, 1, 7)
        if not _valid_ae_title(request["calling_ae"]):
            return (1, 1, 3)
        if ae.require_called_aet and request["called_ae"] != server.ae_title:
            return (1, 1, 7)  # called AE title not recognised
        if ae.require_calling_aet and request["calling_ae"] not in ae.require_calling_aet:
            return (1, 1, 3)  # calling AE title not recognised
        if server is not None and server.active_count() > ae.maximum_associations:
            return (2, 3, 2)  # local limit exceeded
        return None

    def _negotiate(self, request: dict) -> list[tuple[int, int, str]]:
        """Each requested context's result, as (id, result, transfer syntax)."""
        supported = self._supported_by_uid
        if supported is None:
            supported = {str(c.abstract_syntax): c for c in self._supported_contexts}
        asked_roles = {uid: (scu, scp) for uid, scu, scp in request["user"].get("roles", [])}
        answers = []
        for context_id, abstract, syntaxes in request["contexts"]:
            context = PresentationContext()
            context.context_id = context_id
            mine = supported.get(abstract)
            # A rejected context keeps the requestor's UIDs as sent: they may be invalid, so
            # they bypass the checking setters.
            context._transfer_syntax = [cached_uid(t) for t in syntaxes]
            if mine is None:
                context._abstract_syntax = cached_uid(abstract)
                context.result = ABSTRACT_SYNTAX_NOT_SUPPORTED
                self.rejected_contexts.append(context)
                answers.append((context_id, ABSTRACT_SYNTAX_NOT_SUPPORTED, ""))
                continue
            context.abstract_syntax = abstract
            ours = [str(t) for t in mine.transfer_syntax]
            chosen = next((t for t in syntaxes if t in ours), None)
            if chosen is None:
                context.result = TRANSFER_SYNTAX_NOT_SUPPORTED
                self.rejected_contexts.append(context)
                answers.append((context_id, TRANSFER_SYNTAX_NOT_SUPPORTED, ""))
                continue
            context.result = ACCEPTANCE
            context.transfer_syntax = [chosen]
            scu, scp = asked_roles.get(abstract, (None, None))
            # The requestor proposes roles; we agree where our context allows it.
            context.as_scp = not (scu is not None and scp is not None) or bool(scu and mine.scu_role is not False)
            context.as_scu = bool(scp and mine.scp_role)
            self.accepted_contexts.append(context)
            answers.append((context_id, ACCEPTANCE, chosen))
        return answers

    def _send_accept(self, request: dict) -> None:
        answers = self._negotiate(request)
        roles = []
        supported = self._supported_by_uid
        for uid, scu, scp in request["user"].get("roles", []):
            mine = (supported.get(uid) if supported is not None
                    else next((c for c in self._supported_contexts if str(c.abstract_syntax) == uid), None))
            if mine is not None and (mine.scu_role is not None or mine.scp_role is not None):
                roles.append((uid, bool(scu and mine.scu_role), bool(scp and mine.scp_role)))
        self.acceptor.maximum_length = int(self.ae.maximum_pdu_size or 0)
        answer = {
            "called_ae": request["called_ae"],
            "calling_ae": request["calling_ae"],
            "contexts": answers,
            "user": {
                "max_length": int(self.ae.maximum_pdu_size or 0),
                "implementation_class_uid": self.ae.implementation_class_uid,
                "implementation_version_name": self.ae.implementation_version_name,
                "roles": roles,
            },
        }
        self._event(EVT_ACCEPT)
        self._connection.send(_core.pdu_encode_associate_ac(answer))
        self.is_established = True
        self._notify(evt.EVT_ACCEPTED)
        self._notify(evt.EVT_ESTABLISHED)

    def _reject(self, result: int, source: int, reason: int) -> None:
        self.rejection = RejectReason(result, source, reason)
        self.is_rejected = True
        LOGGER.info("Association rejected: %s", reject_reason_text(source, reason))
        try:
            self._connection.send(_core.pdu_encode_associate_rj(result, source, reason))
        except _core.NetError:
            pass
        self._notify(evt.EVT_REJECTED)

    def _serve(self) -> None:
        """Answer requests until the association ends."""
        accepted = [c.context_id for c in self.accepted_contexts]
        by_id = {c.context_id: c for c in self.accepted_contexts}
        timeout = float(self.network_timeout or 0) or 0.0
        while True:
            try:
                # A PDU that arrived while a query looked for a C-CANCEL is handled first.
                result, self._deferred_pdu = getattr(self, "_deferred_pdu", None), None
                if result is None:
                    result = self._connection.receive_message(accepted, timeout, *self._streaming(),
                                                              *self._store_folder())
            except _core.NetError as exc:
                if exc.code == "closed":
                    self._event(EVT_CONNECTION_CLOSED)
                    self.is_aborted = True
                    self._notify(evt.EVT_ABORTED)
                    return
                if exc.code == "timeout":
                    LOGGER.info("Network timeout: aborting the association")
                    self._send_abort(2, 0)
                    return
                LOGGER.error("Aborting the association: %s", exc)
                self._event(EVT_INVALID_PDU)
                self._send_abort(2, _abort_reason(exc))
                return
            if result[0] == "pdu":
                if self._other_pdu(result[1], result[2]):
                    return
                continue
            if result[0] == "stored":
                try:
                    self._stored(result)
                except _core.NetError as exc:
                    LOGGER.error("Sending the response failed: %s", exc)
                    self._send_abort(2, 0)
                    return
                continue
            _kind, context_id, command, dataset, path, offset = result
            self._event(EVT_P_DATA_RECEIVED)
            try:
                request = Message.decode(command)
                # Values are decoded with U+FFFD for bytes outside ASCII; such a UID could
                # neither be checked nor echoed in the response.
                if any(isinstance(v, str) and "\ufffd" in v for v in vars(request).values()):
                    raise ValueError("a command element value that is not ASCII")
            except (_core.NetError, ValueError) as exc:
                LOGGER.error("Invalid command set: %s", exc)
                if path and os.path.exists(path):
                    os.unlink(path)
                self._send_abort(2, 6)
                return
            request.context_id = context_id
            try:
                self._dispatch(request, by_id[context_id], dataset, path, offset)
            except _core.NetError as exc:
                LOGGER.error("Sending the response failed: %s", exc)
                self._send_abort(2, 0)
                return
            finally:
                if path:  # not taken by the handler
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        pass
            if self._connection is None:  # _dispatch refused the request with an A-ABORT
                return

    def _other_pdu(self, kind: int, body: bytes) -> bool:
        """A PDU other than P-DATA-TF arrived; returns True when the association is over."""
        action = self._event(_PDU_EVENTS.get(kind, EVT_INVALID_PDU), self.mode == "requestor")
        if kind == A_RELEASE_RQ:
            self._event(EVT_RELEASE_RESPONSE)
            try:
                self._connection.send(_core.pdu_release_rp())
            except _core.NetError:
                pass
            self.is_released = True
            self.is_established = False
            self._notify(evt.EVT_RELEASED)
            return True
        if kind == A_ABORT:
            source, reason = _core.pdu_decode_abort(body)
            LOGGER.info("Association aborted by the peer (%s)", abort_reason_text(source, reason))
            self.is_aborted = True
            self.is_established = False
            self._notify(evt.EVT_ABORTED)
            return True
        LOGGER.error("Unexpected PDU 0x%02X (%s): aborting", kind, action)
        self._send_abort(2, 2)
        return True

    def _dispatch(self, request: Message, context: PresentationContext, dataset: bytes | None,
                  path: str | None, offset: int = 0) -> None:
        if request.CommandField == C_ECHO_RQ:
            status = self._status_of(evt.EVT_C_ECHO, request, context)
            response = Message(CommandField=C_ECHO_RSP, MessageIDBeingRespondedTo=request.MessageID,
                               AffectedSOPClassUID=request.AffectedSOPClassUID, CommandDataSetType=NO_DATASET)
        elif request.CommandField == C_STORE_RQ:
            attributes = ({"_dataset_bytes": dataset} if path is None
                          else {"_dataset_path": path, "_dataset_offset": offset})
            status = self._status_of(evt.EVT_C_STORE, request, context, **attributes)
            self._send_store_response(request, status)
            return
        elif request.CommandField in (C_FIND_RQ, C_MOVE_RQ, C_GET_RQ):
            if not _is_query_model(context.abstract_syntax, request.CommandField):
                # A query on a context of another service (PS3.7 C.5.2: unrecognized operation).
                response = Message(CommandField=request.CommandField | 0x8000,
                                   MessageIDBeingRespondedTo=request.MessageID,
                                   AffectedSOPClassUID=request.AffectedSOPClassUID, CommandDataSetType=NO_DATASET,
                                   Status=UNRECOGNIZED_OPERATION)
                self._send(context.context_id, response)
                return
            if dataset is None and path is not None:  # a streamed identifier: read it back
                dataset = evt.streamed_dataset(path, offset)
            self._serve_query(request, context, None if dataset is None else bytes(dataset))
            return
        elif request.CommandField == C_CANCEL_RQ:
            return  # nothing of ours is running: a late C-CANCEL has nothing to cancel
        else:
            LOGGER.error("Unsupported DIMSE service %s: aborting", request.name)
            self._send_abort(2, 0)
            return
        _apply_status(response, status)
        self._send(context.context_id, response)

    def _streaming(self) -> tuple:
        """The receive_message arguments for where a data set goes: into memory, or with
        ``STORE_RECV_CHUNKED_DATASET`` into a new file (folder, name, and the File Meta
        Information that C++ writes in front of it from the command), so that it becomes a
        whole DICOM file as it arrives."""
        if not config.STORE_RECV_CHUNKED_DATASET:
            return "", "", None
        spec = getattr(self, "_file_meta_spec", None)
        if spec is None or spec[0] is not self.accepted_contexts:
            peer = self.requestor.ae_title if self.mode == "acceptor" else self.acceptor.ae_title
            meta = (str(self.ae.implementation_class_uid), self.ae.implementation_version_name, peer,
                    {c.context_id: str(c.transfer_syntax[0]) for c in self.accepted_contexts})
            spec = self._file_meta_spec = (self.accepted_contexts, meta, uuid.uuid4().hex, itertools.count())
        directory = config.STORE_RECV_CHUNKED_DATASET_DIR or _temp_dir()
        return directory, f".{spec[2]}{next(spec[3])}.part", spec[1]

    def _store_folder(self) -> tuple[str, int]:
        """The receive_message arguments that let the C++ layer store C-STOREs into the AE's
        :class:`StoreFolder` (only when data sets are streamed to files in that folder)."""
        target = self.ae._store_folder
        if target is None or not config.STORE_RECV_CHUNKED_DATASET:
            return "", 0
        return target.folder, self._peer_max_pdu()

    def _stored(self, result: tuple) -> None:
        """A C-STORE that the C++ layer stored into the StoreFolder (and answered, unless the
        folder could not be flushed); raises NetError."""
        _kind, context_id, command, path, size, error = result
        self._event(EVT_P_DATA_RECEIVED)
        request = Message.decode(command)
        request.context_id = context_id
        target = self.ae._store_folder
        if error:
            try:
                status = target.failed(self, request, path, error)
            except Exception:
                LOGGER.exception("Exception in the store folder's failure callback")
                status = STORE_HANDLER_FAILED
            self._send_store_response(request, status)
            return
        self._event(EVT_P_DATA_REQUEST)
        try:
            target.stored(self, request, path, size)
        except Exception:
            LOGGER.exception("Exception in the store folder's callback")

    def _send_store_response(self, request: Message, status: Any) -> None:
        """Answer a C-STORE-RQ with `status` (a handler's result); raises NetError."""
        if (type(status) is int and 0 <= status <= 0xFFFF and type(request.MessageID) is int
                and request.AffectedSOPClassUID and request.AffectedSOPInstanceUID):
            # The usual answer, encoded in C++: the same bytes as the Message below.
            self._event(EVT_P_DATA_REQUEST)
            self._connection.send_message(
                request.context_id,
                _core.command_c_store_rsp(request.MessageID, status, request.AffectedSOPClassUID,
                                          request.AffectedSOPInstanceUID),
                None, self._peer_max_pdu())
            return
        response = Message(CommandField=C_STORE_RSP, MessageIDBeingRespondedTo=request.MessageID,
                           AffectedSOPClassUID=request.AffectedSOPClassUID,
                           AffectedSOPInstanceUID=request.AffectedSOPInstanceUID, CommandDataSetType=NO_DATASET)
        _apply_status(response, status)
        self._send(request.context_id, response)

    def _status_of(self, event: Any, request: Message, context: PresentationContext, **attributes: Any) -> Any:
        try:
            return evt.trigger(self._handlers, self, event, request=request, context=context, **attributes)
        except Exception:
            LOGGER.exception("Exception in the handler bound to %s", event.name)
            return STORE_HANDLER_FAILED if event is evt.EVT_C_STORE else 0xC000

    # --- sending and receiving DIMSE messages ----------------------------------------------

    def _send(self, context_id: int, message: Message, dataset: bytes | None = None) -> None:
        self._event(EVT_P_DATA_REQUEST)
        self._connection.send_message(context_id, message.encode(), dataset, self._peer_max_pdu())

    def _receive_response(self, context_id: int, streamed: bool = False) -> Message | None:
        """The next message on an established association (requestor side), or None when
        the association ended (released, aborted or timed out). `streamed`: a C-STORE-RQ's
        data set (a C-GET's sub-operation) goes to a file as :meth:`_streaming` says; the
        message then has ``dataset_path`` and ``dataset_offset`` instead of ``dataset``."""
        timeout = float(self.dimse_timeout or 0) or 0.0
        accepted = [c.context_id for c in self.accepted_contexts]
        try:
            result = self._connection.receive_message(accepted, timeout,
                                                      *(self._streaming() if streamed else ("", "", None)))
        except _core.NetError as exc:
            self._response_failed(exc)
            return None
        if result[0] == "pdu":
            self._other_pdu(result[1], result[2])
            self._close()
            return None
        _kind, cid, command, dataset, path, offset = result
        self._event(EVT_P_DATA_RECEIVED)
        message = Message.decode(command)
        message.context_id = cid
        message.dataset = dataset
        if path:
            if message.CommandField == C_STORE_RQ:
                message.dataset_path, message.dataset_offset = path, offset
            else:  # a response's identifier: read back
                try:
                    message.dataset = evt.streamed_dataset(path, offset)
                finally:
                    os.unlink(path)
        return message

    def _response_failed(self, exc: Exception) -> None:
        """No response came: the connection broke, the DIMSE timeout passed, or a bad PDU."""
        LOGGER.error("No response: %s", exc)
        if exc.code in _CONNECTION_LOST:
            self.is_aborted = True
            self._close()
        elif exc.code == "timeout":
            self.abort()
        else:
            self._event(EVT_INVALID_PDU)  # AA-8
            self._send_abort(2, _abort_reason(exc))

    def _context_for(self, abstract_syntax: str, transfer_syntax: str | None) -> PresentationContext:
        """The accepted context to send `abstract_syntax` on: the one with `transfer_syntax`,
        or, for uncompressed data, any with an uncompressed syntax."""
        candidates = [c for c in self.accepted_contexts
                      if c.abstract_syntax == abstract_syntax and c.as_scu is not False]
        if transfer_syntax is not None:
            for c in candidates:
                if c.transfer_syntax[0] == transfer_syntax:
                    return c
        if transfer_syntax is None or not UID(transfer_syntax).is_compressed:
            for c in candidates:
                if not UID(c.transfer_syntax[0]).is_compressed:
                    return c
        raise ValueError(
            f"No presentation context for '{UID(abstract_syntax).name}' has been accepted by the peer "
            + (f"for the '{UID(transfer_syntax).name}' transfer syntax" if transfer_syntax else ""))

    def send_c_echo(self, msg_id: int = 1) -> Dataset:
        """Send a C-ECHO; returns the response status as a Dataset (empty when none came)."""
        if not self.is_established:
            raise RuntimeError("The association with a peer SCP must be established before sending a C-ECHO request")
        with self._lock:
            context = self._context_for("1.2.840.10008.1.1", None)
            request = Message(CommandField=C_ECHO_RQ, MessageID=msg_id,
                              AffectedSOPClassUID="1.2.840.10008.1.1", CommandDataSetType=NO_DATASET)
            try:
                self._send(context.context_id, request)
            except _core.NetError as exc:
                LOGGER.error("C-ECHO failed: %s", exc)
                self.abort()
                return Dataset()
            response = self._receive_response(context.context_id)
            if response is None or response.CommandField != C_ECHO_RSP:
                return Dataset()
            return status_dataset(response)

    def send_c_store(self, dataset: Dataset | str | os.PathLike, msg_id: int = 1, priority: int = 2,
                     originator_aet: str | None = None, originator_id: int | None = None) -> Dataset:
        """Send a C-STORE of `dataset` (a Dataset, or the path of a DICOM file, whose data set
        is then sent as it is stored when the peer accepted its transfer syntax). Returns the
        response status as a Dataset (empty when none came)."""
        if not self.is_established:
            raise RuntimeError("The association with a peer SCP must be established before sending a C-STORE request")
        with self._lock:
            if isinstance(dataset, (str, os.PathLike)) and isinstance(self._connection, _core.Connection):
                sent, status = self._c_store_file(os.fspath(dataset), msg_id, priority, originator_aet, originator_id)
                if sent:
                    return status
            context, request, source, data = self._store_request(dataset, msg_id, priority, originator_aet,
                                                                 originator_id)
            try:
                self._send_store(context, request, source, data)
            except _core.NetError as exc:
                LOGGER.error("C-STORE failed: %s", exc)
                self.abort()
                return Dataset()
            response = self._receive_response(context.context_id)
            if response is None or response.CommandField != C_STORE_RSP:
                return Dataset()
            return status_dataset(response)

    def _store_request(self, dataset: Dataset | str | os.PathLike, msg_id: int, priority: int = 2,
                       originator_aet: str | None = None, originator_id: int | None = None) -> tuple:
        """The C-STORE-RQ of `dataset` (a Dataset, or a file's path) and how its data set goes:
        (context, request, the file or None, the encoded data set or None when the file's
        data set goes as stored). Raises ValueError (no context) or OSError."""
        if isinstance(dataset, (str, os.PathLike)):
            source = _StoredFile(dataset)
            sop_class, sop_instance, syntax = source.sop_class, source.sop_instance, source.transfer_syntax
        else:
            source = None
            meta = getattr(dataset, "file_meta", None)
            syntax = meta.get("TransferSyntaxUID") if meta is not None else None
            sop_class, sop_instance = dataset.SOPClassUID, dataset.SOPInstanceUID
        context = self._context_for(sop_class, syntax)
        accepted = context.transfer_syntax[0]
        request = Message(CommandField=C_STORE_RQ, MessageID=msg_id, AffectedSOPClassUID=sop_class,
                          AffectedSOPInstanceUID=sop_instance, Priority=priority, CommandDataSetType=0x0001,
                          MoveOriginatorApplicationEntityTitle=originator_aet, MoveOriginatorMessageID=originator_id)
        data = None
        if source is None or accepted != syntax:
            data = encode_dataset(source.read() if source is not None else dataset, accepted)
        return context, request, source, data

    def _send_store(self, context: PresentationContext, request: Message, source: Any, data: bytes | None) -> None:
        """Send a request made by :meth:`_store_request`; raises NetError."""
        self._event(EVT_P_DATA_REQUEST)
        if data is None:
            self._connection.send_message_from_file(context.context_id, request.encode(), source.path, source.offset,
                                                    source.length, self._peer_max_pdu())
        else:
            self._connection.send_message(context.context_id, request.encode(), data, self._peer_max_pdu())

    def _send_stored_file(self, path: str, next_path: str, msg_id: int, originator_aet: str | None = None,
                          originator_id: int | None = None) -> int | None:
        """A C-STORE sub-operation of a C-MOVE (this association leads to the destination):
        `send_c_store(path)`, with the file `next_path` (the next sub-operation's; "" for
        none) read ahead while the peer stores this one. Returns the response's Status, or
        None when no response came."""
        if self.is_established and isinstance(self._connection, _core.Connection):
            with self._lock:
                sent, status = self._c_store_file(path, msg_id, 2, originator_aet, originator_id, next_path,
                                                  as_code=True)
            if sent:
                return status
        status = self.send_c_store(path, msg_id=msg_id, originator_aet=originator_aet, originator_id=originator_id)
        return int(status.Status) if "Status" in status else None

    def _c_store_file(self, path: str, msg_id: int, priority: int, originator_aet: str | None,
                      originator_id: int | None, next_path: str | None = None,
                      within_query: bool = False, as_code: bool = False) -> tuple[bool, Any]:
        """A C-STORE of a file's data set as stored, in one C++ call (meta group read, context
        chosen, request sent, response received): (False, None) when the file's meta group or
        transfer syntax does not allow it and nothing was sent, else (True, the status; an
        empty Dataset when no response came). With `next_path` (not None), that file is read
        ahead for the next call. `within_query`: a sub-operation of a C-GET this association
        serves: C-CANCELs that arrive first are noted for it, and a PDU that ends the
        association is left for the association to handle once the C-GET stops. `as_code`:
        the status is the Status value (None when no response came) instead of a Dataset,
        which sub-operations need alone (reading it back from a Dataset cost more than the
        rest of a sub-operation's Python)."""
        no_response = None if as_code else Dataset()
        contexts = self._scu_contexts
        if contexts is None or contexts[0] is not self.accepted_contexts or len(contexts[1]) != len(
                self.accepted_contexts):
            usable = [(c.context_id, str(c.abstract_syntax), str(c.transfer_syntax[0]))
                      for c in self.accepted_contexts if c.as_scu is not False]
            contexts = self._scu_contexts = (self.accepted_contexts, usable,
                                             [c.context_id for c in self.accepted_contexts])
        try:
            result = self._connection.c_store_file(
                contexts[1], contexts[2], path, msg_id, priority, originator_aet or "", originator_id,
                self._peer_max_pdu(), float(self.dimse_timeout or 0) or 0.0,
                None if next_path is None else self._file_prefetch(), next_path or "")
        except _core.NetError as exc:
            self._event(EVT_P_DATA_REQUEST)
            if getattr(exc, "while_receiving", False):
                self._response_failed(exc)
            else:
                LOGGER.error("C-STORE failed: %s", exc)
                self.abort()
            return True, no_response
        if result is None:
            return False, None
        self._event(EVT_P_DATA_REQUEST)
        cancelled = result[-1]
        if cancelled:
            self._cancelled = getattr(self, "_cancelled", set()) | set(cancelled)
        if result[0] == "pdu":
            if within_query:
                self._deferred_pdu = result[:3]
            else:
                self._other_pdu(result[1], result[2])
                self._close()
            return True, no_response
        _kind, _cid, command, command_field, status, plain, responding_to, _cancelled = result
        self._event(EVT_P_DATA_RECEIVED)
        if command_field != C_STORE_RSP or responding_to != msg_id:
            LOGGER.error("Unexpected %s instead of the C-STORE-RSP to message %d", Message.decode(command).name,
                         msg_id)
            return True, no_response
        if as_code:
            return True, status
        if plain:
            return True, status_only(status)
        return True, status_dataset(Message.decode(command))

    def _file_prefetch(self) -> Any:
        prefetch = getattr(self, "_prefetch", None)
        if prefetch is None:
            prefetch = self._prefetch = _core.FilePrefetch()
        return prefetch

    # --- release and abort --------------------------------------------------------------------

    def release(self) -> None:
        """Release the association (A-RELEASE), then close the connection."""
        with self._lock:
            if not self.is_established or self._connection is None:
                return
            self._event(EVT_RELEASE_REQUEST)
            try:
                self._connection.send(_core.pdu_release_rq())
                timeout = float(self.acse_timeout or 0) or 0.0
                while True:
                    kind, body = self._connection.receive(timeout)
                    action = self._event(_PDU_EVENTS.get(kind, EVT_INVALID_PDU), self.mode == "requestor")
                    if kind == A_RELEASE_RP:
                        break
                    if kind == A_RELEASE_RQ:  # release collision: answer, then wait for ours
                        if self.mode == "requestor":
                            self._event(EVT_RELEASE_RESPONSE)
                            self._connection.send(_core.pdu_release_rp())
                        continue
                    if kind == A_ABORT:
                        self.is_aborted = True
                        self._notify(evt.EVT_ABORTED)
                        self._close()
                        return
                    if kind == P_DATA_TF:
                        continue  # data may still arrive while the release is pending
                    LOGGER.error("Unexpected PDU 0x%02X while releasing (%s)", kind, action)
                    self._send_abort(2, 2)  # AA-8: unexpected PDU
                    return
            except _core.NetError as exc:
                LOGGER.error("Release failed: %s", exc)
                if exc.code in _CONNECTION_LOST:
                    self._close(aborted=True)
                elif exc.code == "timeout":
                    self.abort()
                else:  # Evt19: AA-8
                    self._event(EVT_INVALID_PDU)
                    self._send_abort(2, _abort_reason(exc))
                return
            self.is_released = True
            self.is_established = False
            self._notify(evt.EVT_RELEASED)
            self._close()

    def abort(self) -> None:
        """Abort the association (A-ABORT from the service-user) and close the connection."""
        if self._connection is None:
            return
        self._event(EVT_ABORT_REQUEST)
        self._send_abort(0, 0)

    def _send_abort(self, source: int, reason: int) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.send(_core.pdu_encode_abort(source, reason))
        except _core.NetError:
            pass
        self.is_aborted = True
        was_established = self.is_established
        self.is_established = False
        if was_established or self.mode == "acceptor":
            self._notify(evt.EVT_ABORTED)
        self._close()

    def _close(self, aborted: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if aborted and not self.is_aborted:
            self.is_aborted = True
            self._notify(evt.EVT_ABORTED)
        self.is_established = False
        connection.close()
        self._state = 1
        self._notify(evt.EVT_CONN_CLOSE)

    def __repr__(self) -> str:
        state = ("established" if self.is_established else "released" if self.is_released
                 else "rejected" if self.is_rejected else "aborted" if self.is_aborted else "pending")
        return f"<Association {self.mode} {self.local.ae_title} - {self.remote.ae_title} ({state})>"


def _is_query_model(abstract_syntax: str, command: int) -> bool:
    """Whether `abstract_syntax` is a query or retrieve SOP class of `command`'s kind
    ("... Information Model - FIND", "... Retrieve - MOVE", ...)."""
    from pydicom._uid_dict import UID_dictionary

    name = UID_dictionary.get(str(abstract_syntax), ("",))[0].upper()
    kind = {C_FIND_RQ: "FIND", C_MOVE_RQ: "MOVE", C_GET_RQ: "GET"}[command]
    return name.endswith("- " + kind) and ("INFORMATION MODEL" in name or "RETRIEVE" in name)


def _apply_status(response: Message, status: Any) -> None:
    if isinstance(status, Dataset):
        if "Status" not in status:
            response.Status = STORE_BAD_STATUS
            return
        response.Status = int(status.Status)
        for keyword in ("ErrorComment", "ErrorID", "OffendingElement"):
            if keyword in status:
                setattr(response, keyword, status.get(keyword))
        return
    try:
        response.Status = int(status)
    except (TypeError, ValueError):
        response.Status = STORE_BAD_STATUS


class StoreFolder:
    """C-STOREs that an SCP stores without a Python handler: each data set streamed to a
    file in `folder` (``STORE_RECV_CHUNKED_DATASET``, ``STORE_RECV_CHUNKED_DATASET_DIR``
    set to the same folder) is flushed, renamed to ``<SOP Instance UID>.dcm`` and the folder
    flushed by the C++ layer, which then answers Success. Set as ``ae._store_folder``. The
    callbacks run after that: ``stored(assoc, request, path, size)``, and
    ``failed(assoc, request, path, error)`` (the folder could not be flushed; its return
    value is the response status). Requests it cannot store this way (a UID that is not a
    plain file name, a failed flush or rename) go to the EVT_C_STORE handler as usual."""

    def __init__(self, folder: str, stored: Any, failed: Any) -> None:
        self.folder = folder
        self.stored = stored
        self.failed = failed


def _temp_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


class _StoredFile:
    """A DICOM file to send: where its data set starts, and what its File Meta says."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        with open(self.path, "rb") as f:
            head = f.read(16384)
            size = os.fstat(f.fileno()).st_size
        self._dataset = None
        meta = _core.read_part10_meta(head)  # the reader c_store_file uses
        if meta is None or meta[3] > size:  # no usable File Meta: the data set is read and encoded
            ds = self.read()
            self.transfer_syntax = None
            self.sop_class, self.sop_instance = ds.SOPClassUID, ds.SOPInstanceUID
            self.offset, self.length = 0, 0
            return
        self.sop_class, self.sop_instance, self.transfer_syntax, self.offset = meta
        self.length = size - self.offset

    def read(self) -> Dataset:
        if getattr(self, "_dataset", None) is None:
            from turbodicom.reader import dcmread

            self._dataset = dcmread(self.path, force=True)
        return self._dataset
