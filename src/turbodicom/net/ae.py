"""The Application Entity: the local side of every association, shaped like pynetdicom's ``AE``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydicom.uid import UID

from turbodicom import __version__
from turbodicom.net import events as evt
from turbodicom.net.association import Association
from turbodicom.net.contexts import (
    ALL_TRANSFER_SYNTAXES,
    DEFAULT_TRANSFER_SYNTAXES,
    PresentationContext,
    build_context,
)

LOGGER = logging.getLogger("turbodicom.net")

__all__ = ["AE", "IMPLEMENTATION_CLASS_UID", "IMPLEMENTATION_VERSION_NAME"]

#: turbodicom's Implementation Class UID (under the UUID-derived root 2.25, PS3.5 B.2).
IMPLEMENTATION_CLASS_UID = UID("2.25.200933716316217553929327931339622425318")
IMPLEMENTATION_VERSION_NAME = ("TURBODICOM_" + __version__.replace(".", ""))[:16]

MAX_CONTEXTS = 128  # presentation context ids are the odd numbers 1..255


def _ae_title(value: str | bytes) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii")
    value = str(value).strip()
    if not value or len(value) > 16 or "\\" in value or any(ord(c) < 0x20 for c in value):
        raise ValueError(f"Invalid AE title '{value}': 1 to 16 characters, no backslash or control characters")
    return value


class AE:
    """A DICOM Application Entity: requests associations (``associate``) and accepts them
    (``start_server``)."""

    def __init__(self, ae_title: str | bytes = "TURBODICOM") -> None:
        self._ae_title = _ae_title(ae_title)
        self._requested: list[PresentationContext] = []
        self._supported: dict[str, PresentationContext] = {}
        self.acse_timeout: float | None = 30
        self.dimse_timeout: float | None = 30
        self.network_timeout: float | None = 60
        self.connection_timeout: float | None = None
        self.maximum_associations = 10
        self.maximum_pdu_size = 16382
        self.require_called_aet = False
        self.require_calling_aet: list[str] = []
        self.implementation_class_uid = IMPLEMENTATION_CLASS_UID
        self.implementation_version_name = IMPLEMENTATION_VERSION_NAME
        self._servers: list[Any] = []
        self._handlers = evt.Handlers()
        self._store_folder: Any = None  # an association.StoreFolder: C-STOREs stored by the C++ layer

    # --- identity ----------------------------------------------------------------------

    @property
    def ae_title(self) -> str:
        return self._ae_title

    @ae_title.setter
    def ae_title(self, value: str | bytes) -> None:
        self._ae_title = _ae_title(value)

    # --- presentation contexts -----------------------------------------------------------

    @property
    def requested_contexts(self) -> list[PresentationContext]:
        return list(self._requested)

    @requested_contexts.setter
    def requested_contexts(self, contexts: Sequence[PresentationContext]) -> None:
        self._requested = []
        for context in contexts:
            self.add_requested_context(context.abstract_syntax, context.transfer_syntax)

    def add_requested_context(self, abstract_syntax: str, transfer_syntax: str | Sequence[str] | None = None) -> None:
        """Offer `abstract_syntax` with `transfer_syntax` (default: the uncompressed ones) in
        every association this AE requests; at most 128 contexts."""
        if len(self._requested) >= MAX_CONTEXTS:
            raise ValueError("Failed to add the requested presentation context as there are already the "
                             "maximum allowed number of requested contexts")
        self._requested.append(build_context(abstract_syntax, transfer_syntax))

    def remove_requested_context(self, abstract_syntax: str, transfer_syntax: str | Sequence[str] | None = None) -> None:
        uid = build_context(abstract_syntax).abstract_syntax
        if transfer_syntax is None:
            self._requested = [c for c in self._requested if c.abstract_syntax != uid]
            return
        removing = [transfer_syntax] if isinstance(transfer_syntax, str) else list(transfer_syntax)
        for context in [c for c in self._requested if c.abstract_syntax == uid]:
            context.transfer_syntax = [t for t in context.transfer_syntax if t not in removing]
            if not context.transfer_syntax:
                self._requested.remove(context)

    @property
    def supported_contexts(self) -> list[PresentationContext]:
        return sorted(self._supported.values(), key=lambda c: [int(p) for p in str(c.abstract_syntax).split(".")])

    @supported_contexts.setter
    def supported_contexts(self, contexts: Sequence[PresentationContext]) -> None:
        self._supported = {}
        for context in contexts:
            self.add_supported_context(context.abstract_syntax, context.transfer_syntax,
                                       context.scu_role, context.scp_role)

    def add_supported_context(self, abstract_syntax: str, transfer_syntax: str | Sequence[str] | None = None,
                              scu_role: bool | None = None, scp_role: bool | None = None) -> None:
        """Accept `abstract_syntax` with any of `transfer_syntax` (default: the uncompressed
        ones) when a peer requests it; `scu_role` / `scp_role` answer a role selection."""
        context = build_context(abstract_syntax, transfer_syntax)
        existing = self._supported.get(str(context.abstract_syntax))
        if existing is not None:
            for uid in context.transfer_syntax:
                existing.add_transfer_syntax(uid)
            context = existing
        else:
            self._supported[str(context.abstract_syntax)] = context
        context.scu_role = scu_role
        context.scp_role = scp_role

    def remove_supported_context(self, abstract_syntax: str, transfer_syntax: str | Sequence[str] | None = None) -> None:
        uid = str(build_context(abstract_syntax).abstract_syntax)
        if transfer_syntax is None:
            self._supported.pop(uid, None)
            return
        context = self._supported.get(uid)
        if context is None:
            return
        removing = [transfer_syntax] if isinstance(transfer_syntax, str) else list(transfer_syntax)
        context.transfer_syntax = [t for t in context.transfer_syntax if t not in removing]
        if not context.transfer_syntax:
            del self._supported[uid]

    # --- requesting ----------------------------------------------------------------------------

    def associate(self, addr: str, port: int, contexts: Sequence[PresentationContext] | None = None,
                  ae_title: str | bytes = "ANY-SCP", max_pdu: int = 16382, ext_neg: list | None = None,
                  bind_address: tuple[str, int] = ("", 0), tls_args: Any = None,
                  evt_handlers: list | None = None) -> Association:
        """Request an association with the AE at `addr`:`port` called `ae_title`. Returns the
        :class:`Association`; check ``is_established`` before using it. `tls_args` is
        ``(ssl.SSLContext, server_hostname)`` for an association over TLS, as pynetdicom's."""
        contexts = list(contexts) if contexts is not None else self.requested_contexts
        if not contexts:
            raise RuntimeError("At least one requested presentation context is required before "
                               "associating with a peer")
        if len(contexts) > MAX_CONTEXTS:
            raise ValueError("A maximum of 128 presentation contexts can be requested")
        roles = [item for item in (ext_neg or []) if hasattr(item, "scu_role")]
        assoc = Association(self, "requestor", self._handlers.merged(evt.Handlers(evt_handlers)))
        contexts = [build_context(c.abstract_syntax, c.transfer_syntax) for c in contexts]
        assoc._request(addr, port, _ae_title(ae_title), contexts, max_pdu, roles,
                       self.connection_timeout or self.network_timeout, tls_args)
        return assoc

    # --- accepting ---------------------------------------------------------------------------------

    def start_server(self, address: tuple[str, int], block: bool = True, ssl_context: Any = None,
                     evt_handlers: list | None = None, ae_title: str | bytes | None = None,
                     contexts: Sequence[PresentationContext] | None = None) -> Any:
        """Listen on `address` (host, port) for association requests. With `block` this call
        serves until interrupted; otherwise it returns the running server (``shutdown()``
        stops it). With `ssl_context` (an ``ssl.SSLContext`` for the server side) every
        association runs over TLS."""
        from turbodicom.net.server import AssociationServer

        supported = list(contexts) if contexts is not None else self.supported_contexts
        if not supported:
            raise ValueError("No supported Presentation Contexts have been defined")
        server = AssociationServer(self, address, _ae_title(ae_title) if ae_title else self.ae_title,
                                   supported, evt.Handlers(evt_handlers), ssl_context)
        self._servers.append(server)
        if block:
            try:
                server.serve_forever()
            finally:
                server.shutdown()
            return None
        server.start()
        return server

    def shutdown(self) -> None:
        """Stop every server this AE started."""
        for server in self._servers:
            server.shutdown()
        self._servers = []

    @property
    def active_associations(self) -> list[Association]:
        return [a for server in self._servers for a in server.active_associations]

    def __repr__(self) -> str:
        return f"<AE {self.ae_title}: {len(self._requested)} requested, {len(self._supported)} supported contexts>"


__all__ += ["ALL_TRANSFER_SYNTAXES", "DEFAULT_TRANSFER_SYNTAXES"]
