"""Accepting associations: a listening socket, and a thread per association at a time
(threads are reused: starting one cost about a fifth of a short association)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from turbodicom import _core
from turbodicom.net import events as evt
from turbodicom.net.association import Association

if TYPE_CHECKING:
    from turbodicom.net.ae import AE

LOGGER = logging.getLogger("turbodicom.net")

POLL_SECONDS = 0.2  # how often the accept loop checks for shutdown
SHUTDOWN_WAIT = 10.0  # seconds shutdown() waits for the aborted associations' threads
IDLE_SECONDS = 30.0  # a thread that waited this long for another association ends


class AssociationServer:
    """Listens on (host, port); each connection is served by an :class:`Association` on
    its own thread. ``server_address`` is the bound address (port 0 picks a free port)."""

    def __init__(self, ae: "AE", address: tuple[str, int], ae_title: str, contexts: list,
                 handlers: evt.Handlers, ssl_context: Any = None) -> None:
        self.ae = ae
        self.ssl_context = ssl_context
        self.ae_title = ae_title
        self.contexts = contexts
        self._handlers = ae._handlers.merged(handlers)
        host, port = address
        self._listener = _core.Listener(host or "", int(port))
        self.server_address = (host or "0.0.0.0", self._listener.port)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._associations: list[Association] = []
        self._threads: set[threading.Thread] = set()
        self._work: queue.SimpleQueue = queue.SimpleQueue()  # (association, fd), or None: stop
        self._idle = 0  # threads waiting for work and not yet promised an item of it

    # --- handlers (as pynetdicom's server offers them) -------------------------------------

    def bind(self, event: Any, handler: Any, args: list | None = None) -> None:
        self._handlers.bind(event, handler, args)

    def unbind(self, event: Any, handler: Any) -> None:
        self._handlers.unbind(event, handler)

    def get_handlers(self, event: Any) -> list:
        return self._handlers.get(event)

    @property
    def active_associations(self) -> list[Association]:
        with self._lock:
            return list(self._associations)

    def active_count(self) -> int:
        with self._lock:
            return len(self._associations)

    def _supported_by_uid(self) -> dict:
        """The supported contexts by abstract syntax (built again when the list changes)."""
        key = (id(self.contexts), len(self.contexts))
        cached = getattr(self, "_by_uid", None)
        if cached is None or cached[0] != key:
            cached = self._by_uid = (key, {str(c.abstract_syntax): c for c in self.contexts})
        return cached[1]

    # --- serving -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name=f"server-{self.server_address[1]}",
                                        daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            try:
                accepted = self._listener.accept(POLL_SECONDS)
            except _core.NetError as exc:
                if self._stop.is_set():
                    break
                LOGGER.error("accept failed: %s", exc)
                continue
            if accepted is None:
                continue
            fd = accepted
            assoc = Association(self.ae, "acceptor", self._handlers)
            assoc._supported_contexts = self.contexts
            assoc._supported_by_uid = self._supported_by_uid()
            with self._lock:
                self._associations.append(assoc)
                # Put under the lock: an idle thread that times out checks the queue under it.
                self._work.put((assoc, fd))
                thread = None
                if self._idle:
                    self._idle -= 1
                else:
                    thread = threading.Thread(target=self._worker, name=f"{self.ae_title}-association",
                                              daemon=True)
                    self._threads.add(thread)
            if thread is not None:
                thread.start()

    def _worker(self) -> None:
        """Serve associations from the queue until told to stop or idle for IDLE_SECONDS."""
        try:
            while True:
                try:
                    item = self._work.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    with self._lock:
                        if self._work.empty():
                            self._idle -= 1
                            return
                    continue
                if item is None:
                    return
                self._serve_one(*item)
                with self._lock:
                    self._idle += 1
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _serve_one(self, assoc: Association, fd: int) -> None:
        try:
            assoc._accept(self, fd)
        except Exception:
            LOGGER.exception("association with %s:%d failed", assoc.requestor.address, assoc.requestor.port)
        finally:
            with self._lock:
                if assoc in self._associations:
                    self._associations.remove(assoc)

    def shutdown(self) -> None:
        """Stop accepting, abort the associations still open, close the socket, and wait
        (up to SHUTDOWN_WAIT seconds) for their threads to end: a thread still inside the
        network layer when the interpreter exits would bring the process down."""
        self._stop.set()
        self._listener.close()
        for assoc in self.active_associations:
            assoc.abort()
        current = threading.current_thread()
        if self._thread is not None and self._thread is not current:
            self._thread.join(timeout=5)
        with self._lock:
            threads = [t for t in self._threads if t is not current]
        for _ in threads:  # wakes the idle ones
            self._work.put(None)
        deadline = time.monotonic() + SHUTDOWN_WAIT
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    server_close = shutdown
