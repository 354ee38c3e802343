"""Malformed and hostile peers (PS3.8 section 9.2): each gets the answer the upper layer state
machine prescribes, and the server keeps serving.

The hostile side is a raw socket that sends hand-made or corrupted PDUs; the other side is a
turbodicom SCP or SCU with short timeouts, so that every wait in here is bounded.
Abort reasons are those of PS3.8 9.3.8: source 2 (service-provider) with 1 unrecognized PDU,
2 unexpected PDU, 6 invalid PDU parameter value; ARTIM expiry in Sta2 (AA-2) closes the
connection without a PDU.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time

import pytest

from turbodicom import _core
from turbodicom.net import AE, config, evt
from turbodicom.net.dimse import Message

pytestmark = pytest.mark.timeout(60)

VERIFICATION = "1.2.840.10008.1.1"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"  # not supported by the SCP below
IMPLICIT = "1.2.840.10008.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"

TIMEOUT = 0.5  # the SCP's ACSE, network and DIMSE timeouts
MAX_PDU = 16382  # the Maximum Length the SCP announces
SCP_TITLE = "ROBUST_SCP"

A_ASSOCIATE_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ = 0x01, 0x02, 0x03
P_DATA_TF, A_RELEASE_RQ, A_RELEASE_RP, A_ABORT = 0x04, 0x05, 0x06, 0x07

# A-ABORT bodies (PS3.8 9.3.8: two reserved bytes, source, reason/diagnostic).
UNRECOGNIZED_PDU = b"\x00\x00\x02\x01"
UNEXPECTED_PDU = b"\x00\x00\x02\x02"
INVALID_PARAMETER = b"\x00\x00\x02\x06"
PROVIDER_NO_REASON = b"\x00\x00\x02\x00"


# --- building PDUs ------------------------------------------------------------------------------


def associate_rq(called: str = SCP_TITLE, calling: str = "HOSTILE", max_length: int = 16384,
                 contexts: list | None = None) -> bytes:
    contexts = contexts if contexts is not None else [(1, VERIFICATION, [IMPLICIT]), (3, CT_STORAGE, [IMPLICIT])]
    return _core.pdu_encode_associate_rq({
        "called_ae": called, "calling_ae": calling, "contexts": contexts,
        "user": {"max_length": max_length, "implementation_class_uid": "1.2.3.4",
                 "implementation_version_name": "HOSTILE"},
    })


def associate_ac(contexts: list | None = None, max_length: int = 16384) -> bytes:
    return _core.pdu_encode_associate_ac({
        "called_ae": "ANY-SCP", "calling_ae": "TURBODICOM",
        "contexts": contexts if contexts is not None else [(1, 0, IMPLICIT)],
        "user": {"max_length": max_length, "implementation_class_uid": "1.2.3.4",
                 "implementation_version_name": "HOSTILE"},
    })


def pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def pdv(context_id: int, control: int, data: bytes) -> bytes:
    """A PDV item: control bit 0 command, bit 1 last fragment (PS3.8 E.2)."""
    return struct.pack(">IBB", len(data) + 2, context_id, control) + data


def p_data(*pdvs: bytes) -> bytes:
    return pdu(P_DATA_TF, b"".join(pdvs))


def echo_command(message_id: int = 1) -> bytes:
    return Message(CommandField=0x0030, MessageID=message_id, AffectedSOPClassUID=VERIFICATION,
                   CommandDataSetType=0x0101).encode()


def store_command(instance: str = "1.2.3.4.5.6") -> bytes:
    return Message(CommandField=0x0001, MessageID=7, AffectedSOPClassUID=CT_STORAGE, AffectedSOPInstanceUID=instance,
                   Priority=2, CommandDataSetType=0x0000).encode()


def abort_pdu(source: int = 0, reason: int = 0) -> bytes:
    return _core.pdu_encode_abort(source, reason)


# --- a raw peer -------------------------------------------------------------------------------------


class Closed(Exception):
    """The other side closed the connection."""


class RawPeer:
    """A TCP connection driven by hand: send bytes, read whole PDUs."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    @classmethod
    def connect(cls, port: int) -> "RawPeer":
        return cls(socket.create_connection(("127.0.0.1", port), timeout=5))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self, n: int, deadline: float) -> bytes:
        while len(self._buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no PDU in time")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no PDU in time") from None
            if not chunk:
                raise Closed(self._buffer)
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def read_pdu(self, timeout: float = 5.0) -> tuple[int, bytes]:
        """The next whole PDU as (type, body); Closed when the connection ends first."""
        deadline = time.monotonic() + timeout
        kind, _, length = struct.unpack(">BBI", self._read(6, deadline))
        assert length < 1 << 24, f"PDU of type {kind} with length {length}"
        return kind, self._read(length, deadline)

    def expect_closed(self, timeout: float = 5.0) -> float:
        """Asserts that nothing more arrives and the connection closes; returns the wait."""
        start = time.monotonic()
        with pytest.raises(Closed) as info:
            self.read_pdu(timeout)
        assert info.value.args[0] == b"", f"bytes before the close: {info.value.args[0]!r}"
        return time.monotonic() - start

    def expect_abort(self, body: bytes, timeout: float = 5.0) -> None:
        """Asserts an A-ABORT PDU with `body`, then the connection closing."""
        assert self.read_pdu(timeout) == (A_ABORT, body)
        self.expect_closed(timeout)

    def associate(self, **kwargs) -> dict:
        self.send(associate_rq(**kwargs))
        kind, body = self.read_pdu()
        assert kind == A_ASSOCIATE_AC, (kind, body)
        return _core.pdu_decode_associate_ac(body)

    def close(self) -> None:
        self.sock.close()


# --- the SCP under attack -----------------------------------------------------------------------------


class Scp:
    def __init__(self, server, stored: list, chunks) -> None:
        self.server = server
        self.port = server.server_address[1]
        self.stored = stored
        self.chunks = chunks

    def peer(self) -> RawPeer:
        return RawPeer.connect(self.port)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Waits until the server has finished with every connection."""
        deadline = time.monotonic() + timeout
        while self.server.active_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.active_count() == 0, "the server still holds a connection"

    def assert_serving(self) -> None:
        """A normal association still gets a C-ECHO answered."""
        scu = AE("FRIEND")
        scu.acse_timeout = scu.dimse_timeout = scu.network_timeout = 5
        scu.add_requested_context(VERIFICATION)
        assoc = scu.associate("127.0.0.1", self.port, ae_title=SCP_TITLE)
        assert assoc.is_established
        assert assoc.send_c_echo().Status == 0x0000
        assoc.release()
        assert assoc.is_released


@pytest.fixture
def scp(tmp_path, monkeypatch, caplog):
    """A turbodicom SCP (Verification, CT Image Storage in Implicit VR) with 0.5 s timeouts,
    streaming received data sets to files in its own folder."""
    chunks = tmp_path / "chunks"
    chunks.mkdir()
    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET", True)
    monkeypatch.setattr(config, "STORE_RECV_CHUNKED_DATASET_DIR", str(chunks))
    stored = []

    def on_store(event):
        stored.append((event.request.AffectedSOPInstanceUID, len(event.encoded_dataset(include_meta=False))))
        return 0x0000

    ae = AE(SCP_TITLE)
    ae.acse_timeout = ae.network_timeout = ae.dimse_timeout = TIMEOUT
    ae.maximum_pdu_size = MAX_PDU
    ae.maximum_associations = 32
    ae.add_supported_context(VERIFICATION)
    ae.add_supported_context(CT_STORAGE, [IMPLICIT])
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        yield Scp(server, stored, chunks)
        # Whatever happened, the server must end up idle, with no data set file left over.
        Scp(server, stored, chunks).wait_idle()
        assert list(chunks.iterdir()) == []
        # Every failure was handled as a protocol case: no exception escaped to the server.
        assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    finally:
        server.shutdown()


# --- before the association: Sta2 -----------------------------------------------------------------


def test_random_bytes_instead_of_a_request(scp):
    rng = random.Random(1)
    for _ in range(5):
        junk = bytes([rng.choice([0x00, 0x08, 0x10, 0x47, 0xFF])]) + rng.randbytes(rng.randint(5, 300))
        peer = scp.peer()
        peer.send(junk)
        peer.expect_abort(UNRECOGNIZED_PDU)  # Evt19 in Sta2: AA-1
        peer.close()
    scp.assert_serving()


@pytest.mark.parametrize("kind", [0x00, 0x08, 0x09, 0x80, 0xFF])
def test_unknown_pdu_type_before_the_association(scp, kind):
    peer = scp.peer()
    peer.send(bytes([kind]) + associate_rq()[1:])
    peer.expect_abort(UNRECOGNIZED_PDU)
    scp.assert_serving()


@pytest.mark.parametrize("unexpected", [
    associate_ac(), _core.pdu_encode_associate_rj(1, 1, 1), p_data(pdv(1, 3, echo_command())),
    _core.pdu_release_rq(), _core.pdu_release_rp(),
], ids=["AC", "RJ", "P-DATA", "RELEASE-RQ", "RELEASE-RP"])
def test_unexpected_pdu_before_the_association(scp, unexpected):
    peer = scp.peer()
    peer.send(unexpected)
    peer.expect_abort(UNEXPECTED_PDU)  # Evt3/4/10/12/13 in Sta2: AA-1
    scp.assert_serving()


def test_abort_before_the_association_closes_without_answer(scp):
    peer = scp.peer()
    peer.send(abort_pdu())
    peer.expect_closed()  # Evt16 in Sta2: AA-2, no PDU
    scp.assert_serving()


def test_nothing_sent_closes_after_artim(scp):
    peer = scp.peer()
    waited = peer.expect_closed()  # Evt18 in Sta2: AA-2, no PDU
    assert TIMEOUT * 0.8 <= waited < TIMEOUT + 2
    scp.assert_serving()


@pytest.mark.parametrize("cut", [3, 6, 40, -1])
def test_truncated_request_then_silence_closes_after_artim(scp, cut):
    rq = associate_rq()
    peer = scp.peer()
    peer.send(rq[:cut])
    waited = peer.expect_closed()
    assert TIMEOUT * 0.8 <= waited < TIMEOUT + 2
    scp.assert_serving()


def test_request_trickled_byte_by_byte_does_not_extend_artim(scp):
    rq = associate_rq()
    peer = scp.peer()
    start = time.monotonic()
    with pytest.raises((Closed, BrokenPipeError, ConnectionResetError)):
        for byte in rq:
            peer.send(bytes([byte]))
            time.sleep(0.05)
            peer.sock.settimeout(0.001)
            try:
                if peer.sock.recv(1) == b"":
                    raise Closed(b"")
            except socket.timeout:
                pass
    assert time.monotonic() - start < TIMEOUT + 2
    scp.assert_serving()


def _with_length(data: bytes, length: int) -> bytes:
    return data[:2] + struct.pack(">I", length) + data[6:]


def test_request_length_shorter_than_its_items(scp):
    rq = associate_rq()
    peer = scp.peer()
    peer.send(_with_length(rq, len(rq) - 6 - 10))
    peer.expect_abort(INVALID_PARAMETER)  # the User Information item overruns the PDU
    scp.assert_serving()


@pytest.mark.parametrize("length", [0, 10, 67])
def test_request_length_shorter_than_the_fixed_fields(scp, length):
    rq = associate_rq()
    peer = scp.peer()
    peer.send(_with_length(rq, length)[: 6 + length])
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_request_length_longer_than_sent_waits_for_artim(scp):
    rq = associate_rq()
    peer = scp.peer()
    peer.send(_with_length(rq, len(rq) - 6 + 100))
    waited = peer.expect_closed()
    assert TIMEOUT * 0.8 <= waited < TIMEOUT + 2
    scp.assert_serving()


def test_request_length_over_the_limit_is_refused_at_once(scp):
    peer = scp.peer()
    peer.send(_with_length(associate_rq(), 0xFFFFFFF0))
    # Refused from the header: waiting for the body would end in ARTIM expiry (no PDU).
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_request_item_length_wrong(scp):
    rq = bytearray(associate_rq())
    # The first item after the 68 bytes of fixed fields is the Application Context item.
    assert rq[6 + 68] == 0x10
    struct.pack_into(">H", rq, 6 + 68 + 2, 0xFFF0)
    peer = scp.peer()
    peer.send(bytes(rq))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_request_with_even_context_id(scp):
    rq = bytearray(associate_rq(contexts=[(1, VERIFICATION, [IMPLICIT])]))
    at = rq.index(b"\x20\x00", 6 + 68)  # the Presentation Context item
    rq[at + 4] = 2
    peer = scp.peer()
    peer.send(bytes(rq))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def _set_title(rq: bytes, offset: int, title: bytes) -> bytes:
    data = bytearray(rq)
    data[6 + offset : 6 + offset + 16] = title.ljust(16, b" ")
    return bytes(data)


@pytest.mark.parametrize("title", [b"", b"BAD\\TITLE", b"BAD\x01TITLE", b"\xc3\xa9T\xc3\xa9"],
                         ids=["blank", "backslash", "control", "non-ascii"])
def test_invalid_called_ae_title_is_rejected(scp, title):
    peer = scp.peer()
    peer.send(_set_title(associate_rq(), 4, title))  # Called AE Title: bytes 11-26 of the PDU
    assert peer.read_pdu() == (A_ASSOCIATE_RJ, b"\x00\x01\x01\x07")  # permanent, user, called AE
    peer.expect_closed()
    scp.assert_serving()


@pytest.mark.parametrize("title", [b"", b"BAD\\TITLE", b"\xff\xfe"], ids=["blank", "backslash", "non-ascii"])
def test_invalid_calling_ae_title_is_rejected(scp, title):
    peer = scp.peer()
    peer.send(_set_title(associate_rq(), 20, title))  # Calling AE Title: bytes 27-42
    assert peer.read_pdu() == (A_ASSOCIATE_RJ, b"\x00\x01\x01\x03")  # permanent, user, calling AE
    peer.expect_closed()
    scp.assert_serving()


def test_unsupported_protocol_version_is_rejected(scp):
    rq = bytearray(associate_rq())
    struct.pack_into(">H", rq, 6, 0x0002)  # bit 0 (version 1) not set
    peer = scp.peer()
    peer.send(bytes(rq))
    assert peer.read_pdu() == (A_ASSOCIATE_RJ, b"\x00\x01\x02\x02")  # permanent, provider ACSE, version
    peer.expect_closed()
    scp.assert_serving()


def test_unknown_application_context_is_rejected(scp):
    rq = _core.pdu_encode_associate_rq({
        "called_ae": SCP_TITLE, "calling_ae": "HOSTILE", "application_context": "1.2.3.4.5",
        "contexts": [(1, VERIFICATION, [IMPLICIT])], "user": {"max_length": 16384, "implementation_class_uid": "1.2.3"},
    })
    peer = scp.peer()
    peer.send(rq)
    assert peer.read_pdu() == (A_ASSOCIATE_RJ, b"\x00\x01\x01\x02")  # application context name not supported
    peer.expect_closed()
    scp.assert_serving()


def test_connections_reset_at_once(scp):
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", scp.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
        sock.close()
    scp.wait_idle()
    scp.assert_serving()


def test_stalled_peers_do_not_block_others(scp):
    stalled = [scp.peer() for _ in range(5)]
    for peer in stalled:
        peer.send(associate_rq()[:20])
    scp.assert_serving()  # served while five connections wait for their ARTIM
    for peer in stalled:
        peer.expect_closed()


# --- an established association: Sta6 ------------------------------------------------------------------


def test_echo_over_a_raw_association(scp):
    """The raw peer itself is correct: a C-ECHO gets its response, a release its RP."""
    peer = scp.peer()
    ac = peer.associate()
    assert [c[:2] for c in ac["contexts"]] == [(1, 0), (3, 0)]
    assert ac["user"]["max_length"] == MAX_PDU
    peer.send(p_data(pdv(1, 3, echo_command(5))))
    kind, body = peer.read_pdu()
    assert kind == P_DATA_TF
    (cid, command, last, data), = _core.pdu_decode_p_data(body)
    response = Message.decode(data)
    assert (cid, command, last, response.CommandField, response.MessageIDBeingRespondedTo, response.Status) == (
        1, True, True, 0x8030, 5, 0)
    peer.send(_core.pdu_release_rq())
    assert peer.read_pdu() == (A_RELEASE_RP, b"\x00\x00\x00\x00")
    peer.expect_closed()


@pytest.mark.parametrize("kind", [0x00, 0x08, 0xFF])
def test_unknown_pdu_type_during_the_association(scp, kind):
    peer = scp.peer()
    peer.associate()
    peer.send(pdu(kind, b"\x00" * 10))
    peer.expect_abort(UNRECOGNIZED_PDU)  # Evt19 in Sta6: AA-8
    scp.assert_serving()


@pytest.mark.parametrize("unexpected", [associate_rq(), associate_ac(), _core.pdu_encode_associate_rj(1, 1, 1),
                                        _core.pdu_release_rp()], ids=["RQ", "AC", "RJ", "RELEASE-RP"])
def test_unexpected_pdu_during_the_association(scp, unexpected):
    peer = scp.peer()
    peer.associate()
    peer.send(unexpected)
    peer.expect_abort(UNEXPECTED_PDU)  # Evt3/4/6/13 in Sta6: AA-8
    scp.assert_serving()


def test_empty_p_data(scp):
    peer = scp.peer()
    peer.associate()
    peer.send(pdu(P_DATA_TF, b""))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_pdv_length_overrunning_its_pdu(scp):
    peer = scp.peer()
    peer.associate()
    item = bytearray(pdv(1, 3, echo_command()))
    struct.pack_into(">I", item, 0, len(item) + 100)
    peer.send(pdu(P_DATA_TF, bytes(item)))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_p_data_at_the_announced_maximum_is_accepted(scp):
    peer = scp.peer()
    peer.associate()
    peer.send(p_data(pdv(3, 3, store_command())))
    peer.send(p_data(pdv(3, 2, b"\x00" * (MAX_PDU - 6))))  # PDU length exactly MAX_PDU
    kind, body = peer.read_pdu()
    assert kind == P_DATA_TF
    (_cid, _command, _last, data), = _core.pdu_decode_p_data(body)
    assert Message.decode(data).Status == 0x0000
    assert scp.stored == [("1.2.3.4.5.6", MAX_PDU - 6)]
    peer.send(_core.pdu_release_rq())
    assert peer.read_pdu()[0] == A_RELEASE_RP


def test_p_data_over_the_announced_maximum_is_refused(scp):
    peer = scp.peer()
    peer.associate()
    peer.send(p_data(pdv(3, 3, store_command())))
    peer.send(p_data(pdv(3, 2, b"\x00" * (MAX_PDU - 5))))  # one byte over
    peer.expect_abort(INVALID_PARAMETER)
    scp.wait_idle()
    assert scp.stored == []
    scp.assert_serving()


def test_abort_reaches_a_peer_that_is_still_sending(scp):
    peer = scp.peer()
    peer.associate()
    try:
        peer.send(struct.pack(">BBI", P_DATA_TF, 0, 0xFFFFFFFF) + b"\x00" * (16 << 20))
    except OSError:
        pass  # the server stopped reading and closed: the rest could not be delivered
    assert peer.read_pdu() == (A_ABORT, INVALID_PARAMETER)
    scp.assert_serving()


def test_p_data_with_a_huge_length_is_refused_at_once(scp):
    peer = scp.peer()
    peer.associate()
    peer.send(struct.pack(">BBI", P_DATA_TF, 0, 0xFFFFFFFF) + b"\x00" * 100)
    # Refused from the header: waiting for the body would end in the network timeout's abort.
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


@pytest.mark.parametrize("context_id", [2, 3, 5, 255], ids=["even", "rejected", "never-offered", "255"])
def test_pdv_for_a_context_not_accepted(scp, context_id):
    peer = scp.peer()
    # Context 3 is offered but rejected (MR storage is not supported).
    ac = peer.associate(contexts=[(1, VERIFICATION, [IMPLICIT]), (3, MR_STORAGE, [IMPLICIT])])
    assert [c[:2] for c in ac["contexts"]] == [(1, 0), (3, 3)]
    peer.send(p_data(pdv(context_id, 3, echo_command())))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_pdv_switching_context_inside_a_message(scp):
    peer = scp.peer()
    peer.associate()
    command = echo_command()
    peer.send(p_data(pdv(1, 1, command[:20]), pdv(3, 3, command[20:])))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_data_set_for_a_command_without_one(scp):
    peer = scp.peer()
    peer.associate()
    peer.send(p_data(pdv(1, 3, echo_command()), pdv(1, 2, b"\x00" * 8)))
    # The echo is answered, then the stray data set fragment aborts the association.
    kind, _ = peer.read_pdu()
    assert kind == P_DATA_TF
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_invalid_uids_in_a_request_reject_their_context(scp):
    rq = bytearray(associate_rq(contexts=[(1, VERIFICATION, [IMPLICIT]), (3, CT_STORAGE, [IMPLICIT]),
                                          (5, CT_STORAGE, [IMPLICIT])]))
    first = rq.index(CT_STORAGE.encode())
    rq[first + 3] = 0xFF  # the abstract syntax of context 3: not a UID
    rq[rq.index(IMPLICIT.encode(), first + len(CT_STORAGE) + 10) + 2] = ord(" ")  # a transfer syntax of context 5
    peer = scp.peer()
    peer.send(bytes(rq))
    kind, body = peer.read_pdu()
    assert kind == A_ASSOCIATE_AC
    ac = _core.pdu_decode_associate_ac(body)
    assert [c[:2] for c in ac["contexts"]] == [(1, 0), (3, 3), (5, 4)]
    peer.send(_core.pdu_release_rq())
    assert peer.read_pdu()[0] == A_RELEASE_RP
    scp.assert_serving()


def test_non_ascii_uid_in_a_command(scp):
    peer = scp.peer()
    peer.associate()
    command = echo_command().replace(b"1.2.840", b"1.\xff.840")
    peer.send(p_data(pdv(1, 3, command)))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_unsupported_dimse_service(scp):
    peer = scp.peer()
    peer.associate()
    n_get = Message(CommandField=0x0110, MessageID=1, CommandDataSetType=0x0101).encode()  # N-GET-RQ
    peer.send(p_data(pdv(1, 3, n_get)))
    peer.expect_abort(PROVIDER_NO_REASON)
    scp.assert_serving()


def test_query_on_a_verification_context(scp):
    """A C-FIND on a context of another service is answered "unrecognized operation"."""
    peer = scp.peer()
    peer.associate()
    find = Message(CommandField=0x0020, MessageID=5, AffectedSOPClassUID=VERIFICATION, Priority=2,
                   CommandDataSetType=0x0101).encode()
    peer.send(p_data(pdv(1, 3, find)))
    kind, body = peer.read_pdu()
    assert kind == 0x04
    (_context, _is_command, _last, command), = turbodicom_core().pdu_decode_p_data(body)
    response = Message.decode(command)
    assert (response.CommandField, response.MessageIDBeingRespondedTo, response.Status) == (0x8020, 5, 0x0211)
    scp.assert_serving()


def turbodicom_core():
    from turbodicom import _core

    return _core


def test_garbage_command_set(scp):
    peer = scp.peer()
    peer.associate()
    peer.send(p_data(pdv(1, 3, b"\xff" * 13)))
    peer.expect_abort(INVALID_PARAMETER)
    scp.assert_serving()


def test_half_a_pdu_then_silence_aborts_after_the_network_timeout(scp):
    peer = scp.peer()
    peer.associate()
    message = p_data(pdv(1, 3, echo_command()))
    peer.send(message[: len(message) // 2])
    start = time.monotonic()
    peer.expect_abort(PROVIDER_NO_REASON, timeout=TIMEOUT + 3)
    assert TIMEOUT * 0.8 <= time.monotonic() - start < TIMEOUT + 2
    scp.assert_serving()


def test_pdu_trickled_byte_by_byte_does_not_extend_the_network_timeout(scp):
    peer = scp.peer()
    peer.associate()
    message = p_data(pdv(1, 3, echo_command())) * 20
    start = time.monotonic()
    received = b""
    try:
        for byte in message:
            peer.send(bytes([byte]))
            time.sleep(0.02)
            peer.sock.settimeout(0.001)
            try:
                chunk = peer.sock.recv(65536)
            except socket.timeout:
                continue
            received += chunk
            if not chunk or A_ABORT in received[:1] or time.monotonic() - start > TIMEOUT + 3:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 2.5, "the server kept waiting for the trickled PDU"
    scp.assert_serving()


# --- aborted and broken C-STORE transfers -------------------------------------------------------------


def _start_store(scp: Scp) -> RawPeer:
    """An association that has sent a C-STORE command and part of its data set; returns
    once the server has created the data set's file."""
    peer = scp.peer()
    peer.associate()
    peer.send(p_data(pdv(3, 3, store_command())))
    peer.send(p_data(pdv(3, 0, b"\x08\x00\x16\x00" + b"\x00" * 1000)))  # not the last fragment
    deadline = time.monotonic() + 5
    while not list(scp.chunks.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(list(scp.chunks.iterdir())) == 1, "the data set is not being streamed to a file"
    return peer


def test_abort_inside_a_data_set_leaves_no_file(scp):
    peer = _start_store(scp)
    peer.send(abort_pdu(0, 0))
    peer.expect_closed()  # Evt16 in Sta6: AA-3, no answer
    scp.wait_idle()
    assert list(scp.chunks.iterdir()) == []
    assert scp.stored == []
    scp.assert_serving()


def test_connection_closed_inside_a_data_set_leaves_no_file(scp):
    peer = _start_store(scp)
    peer.close()
    scp.wait_idle()
    assert list(scp.chunks.iterdir()) == []
    assert scp.stored == []
    scp.assert_serving()


def test_connection_closed_inside_a_data_set_pdu_leaves_no_file(scp):
    peer = _start_store(scp)
    peer.send(p_data(pdv(3, 2, b"\x00" * 2000))[:500])
    peer.close()
    scp.wait_idle()
    assert list(scp.chunks.iterdir()) == []
    assert scp.stored == []
    scp.assert_serving()


def test_stall_inside_a_data_set_leaves_no_file(scp):
    peer = _start_store(scp)
    peer.expect_abort(PROVIDER_NO_REASON, timeout=TIMEOUT + 3)
    scp.wait_idle()
    assert list(scp.chunks.iterdir()) == []
    assert scp.stored == []
    scp.assert_serving()


def test_release_inside_a_data_set_leaves_no_file(scp):
    peer = _start_store(scp)
    peer.send(_core.pdu_release_rq())
    assert peer.read_pdu()[0] == A_RELEASE_RP
    peer.expect_closed()
    scp.wait_idle()
    assert list(scp.chunks.iterdir()) == []
    assert scp.stored == []
    scp.assert_serving()


def test_complete_store_after_broken_ones(scp):
    for _ in range(3):
        _start_store(scp).close()
        scp.wait_idle()  # each broken transfer's file is gone before the next one starts
        assert list(scp.chunks.iterdir()) == []
    peer = scp.peer()
    peer.associate()
    peer.send(p_data(pdv(3, 3, store_command("1.2.3.9"))))
    peer.send(p_data(pdv(3, 0, b"\x00" * 100)) + p_data(pdv(3, 2, b"\x00" * 100)))
    kind, body = peer.read_pdu()
    assert kind == P_DATA_TF
    assert Message.decode(_core.pdu_decode_p_data(body)[0][3]).Status == 0
    peer.send(_core.pdu_release_rq())
    assert peer.read_pdu()[0] == A_RELEASE_RP
    assert scp.stored == [("1.2.3.9", 200)]


# --- fuzzing ------------------------------------------------------------------------------------------


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    choice = rng.randrange(6)
    if choice == 0:  # bit flips
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif choice == 1:  # the PDU length
        struct.pack_into(">I", data, 2, max(0, len(data) - 6 + rng.choice([-50, -7, -1, 1, 2, 200, 70000])))
    elif choice == 2:  # an item or sub-item length
        if len(data) > 80:
            i = rng.randrange(6, len(data) - 2)
            struct.pack_into(">H", data, i, rng.choice([0, 1, 2, 3, 0xFF, 0xFFFF, rng.randrange(0x10000)]))
    elif choice == 3:  # truncated
        del data[rng.randrange(1, len(data)):]
    elif choice == 4:  # random bytes written over a stretch
        i = rng.randrange(len(data))
        data[i : i + 8] = rng.randbytes(8)
    else:  # bytes inserted and the length kept
        i = rng.randrange(6, len(data))
        data[i:i] = rng.randbytes(rng.randint(1, 16))
    return bytes(data)


def _exchange(port: int, before: list[bytes], fuzzed: bytes) -> list[tuple[int, bytes]]:
    """Sends `before` (answered PDUs) then `fuzzed`, ends the sending side, and returns
    every PDU that comes back until the server closes."""
    peer = RawPeer.connect(port)
    try:
        for data in before:
            peer.send(data)
            assert peer.read_pdu()[0] == A_ASSOCIATE_AC
        try:
            peer.send(fuzzed)
            peer.sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answers = []
        while True:
            try:
                answers.append(peer.read_pdu(timeout=5))
            except Closed as end:
                assert end.args[0] == b"", f"a partial PDU: {end.args[0]!r}"
                return answers
            except ConnectionResetError:
                return answers
    finally:
        peer.close()


def _valid_answer(kind: int, body: bytes) -> bool:
    """Whether (kind, body) is a PDU the SCP may send: it decodes, and an A-ABORT carries a
    provider reason of PS3.8 9.3.8."""
    try:
        if kind == A_ASSOCIATE_AC:
            _core.pdu_decode_associate_ac(body)
        elif kind == A_ASSOCIATE_RJ:
            _core.pdu_decode_associate_rj(body)
        elif kind == P_DATA_TF:
            _core.pdu_decode_p_data(body)
        elif kind == A_RELEASE_RP:
            return body == b"\x00" * 4
        elif kind == A_ABORT:
            return body[:3] == b"\x00\x00\x02" and body[3] in (0, 1, 2, 4, 5, 6) and len(body) == 4
        else:
            return False
    except _core.NetError:
        return False
    return True


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom on the fuzzed UIDs
def test_fuzzed_requests_and_messages(scp):
    """Mutated A-ASSOCIATE-RQ and P-DATA-TF PDUs: every answer is a valid PDU, every
    connection ends, and the server still serves afterwards."""
    rng = random.Random(20261125)
    rq = associate_rq(contexts=[(1, VERIFICATION, [IMPLICIT, EXPLICIT]), (3, CT_STORAGE, [IMPLICIT])])
    echo = p_data(pdv(1, 3, echo_command()))
    store = p_data(pdv(3, 3, store_command())) + p_data(pdv(3, 2, b"\x08\x00\x16\x00\x00\x00\x00\x00"))
    release = _core.pdu_release_rq()
    start = time.monotonic()
    iterations = 0
    while iterations < 2000 and time.monotonic() - start < 12:
        target = rng.randrange(6)
        if target >= 3:
            before, fuzzed = [], _mutate(rng, rq)
        elif target == 1:
            before, fuzzed = [rq], _mutate(rng, echo)
        elif target == 2:
            before, fuzzed = [rq], _mutate(rng, store)
        else:
            before, fuzzed = [rq], echo + _mutate(rng, release)
        answers = _exchange(scp.port, before, fuzzed)
        for kind, body in answers:
            assert _valid_answer(kind, body), (iterations, fuzzed.hex(), kind, body.hex())
        iterations += 1
    assert iterations >= 300
    scp.wait_idle()
    scp.assert_serving()


# --- the SCU against a hostile acceptor -----------------------------------------------------------------


class HostileAcceptor:
    """A raw socket server answering one association request with `behaviour(peer)`;
    keeps what the SCU sent after the request."""

    def __init__(self, behaviour) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.behaviour = behaviour
        self.received: list[tuple[int, bytes]] = []
        self.request: tuple[int, bytes] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.listener.settimeout(10)
            sock, _ = self.listener.accept()
            peer = RawPeer(sock)
            try:
                self.request = peer.read_pdu()
                self.behaviour(peer)
                while True:
                    self.received.append(peer.read_pdu(timeout=5))
            except (Closed, ConnectionResetError, TimeoutError):
                pass
            finally:
                sock.close()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def finish(self) -> None:
        self.thread.join(timeout=10)
        self.listener.close()
        assert not self.thread.is_alive()
        assert self.error is None, self.error
        assert self.request is not None and self.request[0] == A_ASSOCIATE_RQ


def _scu() -> AE:
    ae = AE("TURBO_SCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    ae.add_requested_context(VERIFICATION)
    return ae


def _associate(acceptor: HostileAcceptor):
    start = time.monotonic()
    assoc = _scu().associate("127.0.0.1", acceptor.port, ae_title="HOSTILE")
    elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 2, "associate() outlived its timeouts"
    assert not assoc.is_established
    assert not assoc.is_alive
    return assoc


def test_scu_rejected():
    acceptor = HostileAcceptor(lambda peer: peer.send(_core.pdu_encode_associate_rj(2, 3, 1)))
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_rejected and not assoc.is_aborted
    assert tuple(assoc.rejection) == (2, 3, 1)
    assert acceptor.received == []  # AE-4: the SCU just closes


def test_scu_aborted():
    acceptor = HostileAcceptor(lambda peer: peer.send(abort_pdu(2, 0)))
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_aborted and not assoc.is_rejected
    assert acceptor.received == []  # AA-3: no answer to an A-ABORT


def test_scu_connection_closed():
    acceptor = HostileAcceptor(lambda peer: peer.sock.shutdown(socket.SHUT_RDWR))
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_aborted


def test_scu_no_answer():
    acceptor = HostileAcceptor(lambda peer: time.sleep(TIMEOUT * 3))
    start = time.monotonic()
    assoc = _associate(acceptor)
    assert time.monotonic() - start >= TIMEOUT * 0.8
    acceptor.finish()
    assert assoc.is_aborted
    assert acceptor.received == [(A_ABORT, b"\x00\x00\x00\x00")]  # the SCU gives up: A-ABORT from the user


def test_scu_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connecting is refused
        start = time.monotonic()
        assoc = _scu().associate("127.0.0.1", port)
    assert time.monotonic() - start < 2
    assert assoc.is_aborted and not assoc.is_established


@pytest.mark.parametrize("garbage", [b"\x00" * 10, b"\xff" + bytes(range(50)), b"\x09\x00\x00\x00\x00\x02ab"],
                         ids=["zeros", "0xFF", "type-9"])
def test_scu_garbage_answer(garbage):
    acceptor = HostileAcceptor(lambda peer: peer.send(garbage))
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_aborted
    assert acceptor.received == [(A_ABORT, UNRECOGNIZED_PDU)]  # Evt19 in Sta5: AA-8


@pytest.mark.parametrize("answer", [associate_rq(called="TURBO_SCU"), p_data(pdv(1, 3, echo_command())),
                                    _core.pdu_release_rq(), _core.pdu_release_rp()],
                         ids=["RQ", "P-DATA", "RELEASE-RQ", "RELEASE-RP"])
def test_scu_unexpected_answer(answer):
    acceptor = HostileAcceptor(lambda peer: peer.send(answer))
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_aborted
    assert acceptor.received == [(A_ABORT, UNEXPECTED_PDU)]  # Evt6/10/12/13 in Sta5: AA-8


@pytest.mark.parametrize("answer", [
    pdu(A_ASSOCIATE_AC, b"\x00\x01" + b"\x00" * 20),  # fixed fields cut short
    _with_length(associate_ac(), len(associate_ac()) - 6 - 9)[: len(associate_ac()) - 9],  # items overrun
    pdu(A_ASSOCIATE_RJ, b"\x00\x01\x01\x01\x00\x00"),  # RJ body longer than 4 bytes
    pdu(A_ASSOCIATE_AC, b"\x00" * 0x10000 * 9),  # over the limit for an A-ASSOCIATE-AC
], ids=["AC-short", "AC-overrun", "RJ-long", "AC-huge"])
def test_scu_malformed_answer(answer):
    acceptor = HostileAcceptor(lambda peer: peer.send(answer))
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_aborted
    assert acceptor.received == [(A_ABORT, INVALID_PARAMETER)]


def test_scu_ac_with_non_ascii_title():
    ac = bytearray(associate_ac())
    ac[6 + 4 : 6 + 8] = b"\xc3\x28\xa0\xa1"  # not UTF-8 either
    acceptor = HostileAcceptor(lambda peer: peer.send(bytes(ac)))
    # PS3.8 9.3.3: the AE title fields of an A-ASSOCIATE-AC are not tested.
    assoc = _scu().associate("127.0.0.1", acceptor.port, ae_title="HOSTILE")
    assert assoc.is_established
    assoc.abort()
    acceptor.finish()
    assert acceptor.received == [(A_ABORT, b"\x00\x00\x00\x00")]


def test_scu_half_an_answer_then_silence():
    acceptor = HostileAcceptor(lambda peer: (peer.send(associate_ac()[:30]), time.sleep(TIMEOUT * 3)))
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_aborted


def test_scu_trickled_answer_bounded_by_the_acse_timeout():
    def trickle(peer):
        for byte in associate_ac():
            try:
                peer.send(bytes([byte]))
            except OSError:
                return
            time.sleep(0.05)

    acceptor = HostileAcceptor(trickle)
    assoc = _associate(acceptor)
    acceptor.finish()
    assert assoc.is_aborted


def _established_then(behaviour, expect: int = P_DATA_TF):
    """An acceptor that accepts the association, reads a PDU of type `expect` (the C-ECHO
    request), then does `behaviour(peer)`."""
    def run(peer):
        peer.send(associate_ac())
        kind, _ = peer.read_pdu()
        assert kind == expect
        behaviour(peer)
    return run


@pytest.mark.parametrize("answer, reason", [
    (b"\x0a\x00\x00\x00\x00\x00", UNRECOGNIZED_PDU),
    (p_data(pdv(7, 3, b"")), INVALID_PARAMETER),  # context 7 was never accepted
    (pdu(P_DATA_TF, b""), INVALID_PARAMETER),
    (associate_ac(), UNEXPECTED_PDU),
], ids=["type-10", "context-7", "empty-P-DATA", "AC"])
def test_scu_hostile_dimse_answer(answer, reason):
    acceptor = HostileAcceptor(_established_then(lambda peer: peer.send(answer)))
    ae = _scu()
    assoc = ae.associate("127.0.0.1", acceptor.port)
    assert assoc.is_established
    start = time.monotonic()
    status = assoc.send_c_echo()
    assert time.monotonic() - start < TIMEOUT + 2
    assert "Status" not in status
    assert assoc.is_aborted and not assoc.is_established
    acceptor.finish()
    assert acceptor.received == [(A_ABORT, reason)]


def test_scu_no_dimse_answer():
    acceptor = HostileAcceptor(_established_then(lambda peer: time.sleep(TIMEOUT * 3)))
    assoc = _scu().associate("127.0.0.1", acceptor.port)
    assert assoc.is_established
    start = time.monotonic()
    status = assoc.send_c_echo()
    assert TIMEOUT * 0.8 <= time.monotonic() - start < TIMEOUT + 2
    assert "Status" not in status
    assert assoc.is_aborted
    acceptor.finish()
    assert acceptor.received == [(A_ABORT, b"\x00\x00\x00\x00")]


@pytest.mark.parametrize("answer, sent_back", [
    (None, b"\x00\x00\x00\x00"),  # no answer: the SCU gives up after the ACSE timeout
    (b"\x11\x00\x00\x00\x00\x00", UNRECOGNIZED_PDU),  # Evt19 in Sta7: AA-8
    (associate_ac(), UNEXPECTED_PDU),  # Evt3 in Sta7: AA-8
], ids=["silence", "type-17", "AC"])
def test_scu_hostile_release_answer(answer, sent_back):
    acceptor = HostileAcceptor(_established_then(
        lambda peer: peer.send(answer) if answer else time.sleep(TIMEOUT * 3), expect=A_RELEASE_RQ))
    assoc = _scu().associate("127.0.0.1", acceptor.port)
    assert assoc.is_established
    start = time.monotonic()
    assoc.release()
    assert time.monotonic() - start < TIMEOUT + 2
    assert assoc.is_aborted and not assoc.is_released and not assoc.is_alive
    acceptor.finish()
    assert acceptor.received == [(A_ABORT, sent_back)]


def test_scu_release_answered_by_a_close():
    acceptor = HostileAcceptor(_established_then(lambda peer: peer.sock.shutdown(socket.SHUT_RDWR),
                                                 expect=A_RELEASE_RQ))
    assoc = _scu().associate("127.0.0.1", acceptor.port)
    assert assoc.is_established
    assoc.release()
    assert assoc.is_aborted and not assoc.is_alive
    acceptor.finish()
