"""Associations over TLS: the same calls as the C++ connection, on a Python ``ssl`` socket.

Encryption is Python's ``ssl`` module (OpenSSL, as Python was built with it), so that an
``ssl.SSLContext`` configured by the user is used as it is, exactly as pynetdicom's
``tls_args`` / ``ssl_context``. The PDUs are still made and read by the C++ codec; only
moving the bytes happens here.
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
import uuid
from typing import Any

from turbodicom import _core

P_DATA_TF = 0x04
READ_CHUNK = 1 << 20
DEFAULT_PEER_MAX = 1 << 20
MAX_CONTROL_PDU = 512 * 1024


def _error(code: str, message: str) -> Exception:
    exc = _core.NetError(message)
    exc.code = code
    exc.offset = 0
    exc.detail = message
    return exc


class TLSConnection:
    """A connection over an ``ssl.SSLSocket``, with the methods of ``_core.Connection``."""

    def __init__(self, sock: ssl.SSLSocket, options: dict) -> None:
        self._sock = sock
        self._timeout = float(options.get("network_timeout") or 0) or None
        max_pdu = int(options.get("max_pdu_receive") or 0)
        self._max_pdu = max_pdu or (64 << 20)
        self._max_dataset = int(options.get("max_dataset") or (4 << 30))
        self._pending: list[tuple[int, bool, bool, bytes]] = []
        self._open = True
        try:
            self.peer_address, self.peer_port = sock.getpeername()[:2]
        except OSError:
            self.peer_address, self.peer_port = "", 0

    @classmethod
    def connect(cls, host: str, port: int, timeout: float, options: dict, context: ssl.SSLContext,
                server_hostname: str | None) -> "TLSConnection":
        try:
            raw = socket.create_connection((host, port), timeout=timeout or None)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock = context.wrap_socket(raw, server_hostname=server_hostname)
        except (OSError, ssl.SSLError) as exc:
            raise _error("io", f"TLS connection to {host}:{port} failed: {exc}") from None
        return cls(sock, options)

    @classmethod
    def adopt(cls, fd: int, options: dict, context: ssl.SSLContext) -> "TLSConnection":
        raw = socket.socket(fileno=fd)
        raw.setblocking(True)
        raw.settimeout(float(options.get("network_timeout") or 0) or None)
        try:
            sock = context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            raw.close()
            raise _error("io", f"TLS handshake failed: {exc}") from None
        return cls(sock, options)

    # --- bytes ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._open

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self._sock.close()
            except OSError:
                pass

    def send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except socket.timeout:
            raise _error("timeout", "sending timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise _error("io", f"send failed: {exc}") from None

    def _read_exactly(self, n: int, timeout: float) -> bytes:
        self._sock.settimeout(timeout if timeout > 0 else self._timeout)
        chunks = bytearray()
        try:
            while len(chunks) < n:
                chunk = self._sock.recv(min(n - len(chunks), READ_CHUNK))
                if not chunk:
                    raise _error("closed", "peer closed the connection")
                chunks += chunk
        except socket.timeout:
            raise _error("timeout", "nothing arrived in time") from None
        except ssl.SSLError as exc:
            raise _error("io", f"TLS error: {exc}") from None
        except OSError as exc:
            if getattr(exc, "code", None):
                raise
            raise _error("io", f"receive failed: {exc}") from None
        return bytes(chunks)

    def receive(self, timeout: float = 0.0) -> tuple[int, bytes]:
        header = self._read_exactly(6, timeout)
        kind, length = header[0], struct.unpack(">I", header[2:6])[0]
        if kind < 1 or kind > 7:
            raise _error("bad PDU", f"unknown PDU type 0x{kind:02X}")
        limit = self._max_pdu if kind == P_DATA_TF else MAX_CONTROL_PDU
        if length > limit:
            raise _error("too large", f"a PDU of {length} bytes, over the limit of {limit}")
        return kind, self._read_exactly(length, timeout)

    def readable(self, timeout: float = 0.0) -> bool:
        if self._pending or self._sock.pending():
            return True
        import select

        ready, _, _ = select.select([self._sock], [], [], max(timeout, 0.0))
        return bool(ready)

    # --- messages ----------------------------------------------------------------------------

    def send_message(self, context_id: int, command: bytes, dataset: Any, peer_max: int) -> None:
        payload = max(2, ((peer_max or DEFAULT_PEER_MAX) - 6) & ~1)
        self._send_fragments(context_id, memoryview(command), True, payload)
        if dataset is not None:
            self._send_fragments(context_id, memoryview(dataset).cast("B"), False, payload)

    def send_message_from_file(self, context_id: int, command: bytes, path: str, offset: int, length: int,
                               peer_max: int) -> None:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(length)
        self.send_message(context_id, command, data, peer_max)

    def _send_fragments(self, context_id: int, data: memoryview, command: bool, payload: int) -> None:
        total = len(data)
        start = 0
        while True:
            part = data[start : start + payload]
            last = start + len(part) >= total
            control = (0x01 if command else 0x00) | (0x02 if last else 0x00)
            item = struct.pack(">IBB", len(part) + 2, context_id, control)
            self.send(struct.pack(">BBI", P_DATA_TF, 0, len(item) + len(part)) + item + bytes(part))
            start += len(part)
            if last:
                return

    @staticmethod
    def _file_header(request: Any, context: int, file_meta: tuple) -> bytes:
        from turbodicom.net.dimse import part10_header

        implementation_uid, version, source_ae, syntaxes = file_meta
        return part10_header(request.AffectedSOPClassUID, request.AffectedSOPInstanceUID, syntaxes.get(context, ""),
                             implementation_uid, version, source_ae)

    def receive_message(self, accepted: list[int], timeout: float, dataset_dir: str,
                        dataset_name: str, file_meta: tuple | None = None, store_folder: str = "",
                        peer_max: int = 0) -> tuple:
        # store_folder: over TLS, C-STOREs always go to the Python handler (no "stored" results).
        command = bytearray()
        dataset = bytearray()
        context = None
        command_done = False
        expects_dataset = False
        target = None
        path = None
        offset = 0
        try:
            while True:
                if not self._pending:
                    kind, body = self.receive(timeout)
                    if kind != P_DATA_TF:
                        if path:
                            target.close()
                            os.unlink(path)
                        return ("pdu", kind, body)
                    self._pending = list(_core.pdu_decode_p_data(body))
                context_id, is_command, last, data = self._pending.pop(0)
                if context_id not in accepted or (context is not None and context_id != context):
                    raise _error("protocol error", f"a PDV for presentation context {context_id}")
                context = context_id
                if is_command:
                    if command_done:
                        raise _error("protocol error", "a command fragment after the command ended")
                    command += data
                    if last:
                        command_done = True
                        from turbodicom.net.dimse import Message

                        expects_dataset = Message.decode(bytes(command)).has_dataset
                        if not expects_dataset:
                            return ("message", context, bytes(command), None, None, 0)
                        if dataset_dir:
                            path = os.path.join(dataset_dir, dataset_name or f"{uuid.uuid4().hex}.part")
                            target = open(path, "xb")
                            if file_meta is not None:
                                header = self._file_header(Message.decode(bytes(command)), context, file_meta)
                                target.write(header)
                                offset = len(header)
                    continue
                if not command_done:
                    raise _error("protocol error", "a data set fragment before the command")
                if target is not None:
                    target.write(data)
                else:
                    dataset += data
                    if len(dataset) > self._max_dataset:
                        raise _error("too large", "the data set is over the limit")
                if last:
                    if target is not None:
                        target.close()
                        return ("message", context, bytes(command), None, path, offset)
                    return ("message", context, bytes(command), bytes(dataset), None, 0)
        except BaseException:
            if target is not None:
                target.close()
                if path and os.path.exists(path):
                    os.unlink(path)
            raise
