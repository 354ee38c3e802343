"""Seed inputs for the network fuzz targets, made with turbodicom's own encoders.

    python fuzz/make_net_seeds.py OUT

OUT/pdu: PDU bodies, each after the selector byte fuzz_pdu.cpp reads (0 A-ASSOCIATE-RQ,
1 -AC, 2 -RJ, 3 P-DATA-TF, 4/5 A-RELEASE, 6 A-ABORT). OUT/dimse: command sets.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        from turbodicom import _core
        from turbodicom.net.dimse import Message
    except ImportError:
        print("turbodicom is not importable: no network seeds")
        return 0
    out = Path(argv[0])
    (out / "pdu").mkdir(parents=True, exist_ok=True)
    (out / "dimse").mkdir(parents=True, exist_ok=True)
    user = {"max_length": 16382, "implementation_class_uid": "1.2.3.4", "implementation_version_name": "SEED",
            "roles": [("1.2.840.10008.5.1.4.1.1.2", True, True)], "async_ops": (1, 1),
            "extended": [("1.2.840.10008.5.1.4.1.2.1.1", b"\x01")],
            "identity_rq": (2, True, b"user", b"secret")}
    rq = _core.pdu_encode_associate_rq({
        "called_ae": "ANY-SCP", "calling_ae": "SEED",
        "contexts": [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"]),
                     (3, "1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])],
        "user": user})
    ac = _core.pdu_encode_associate_ac({
        "called_ae": "ANY-SCP", "calling_ae": "SEED",
        "contexts": [(1, 0, "1.2.840.10008.1.2"), (3, 4, "")],
        "user": {"max_length": 0, "implementation_class_uid": "1.2.3", "roles": []}})
    command = Message(CommandField=0x0001, MessageID=7, AffectedSOPClassUID="1.2.840.10008.5.1.4.1.1.2",
                      AffectedSOPInstanceUID="1.2.3.4.5", Priority=0, CommandDataSetType=1).encode()
    p_data = bytes([0, 0, 0, len(command) + 2, 1, 3]) + command
    seeds = {
        "rq": b"\x00" + rq[6:], "ac": b"\x01" + ac[6:], "rj": b"\x02" + _core.pdu_encode_associate_rj(1, 1, 7)[6:],
        "p_data": b"\x03" + p_data, "release": b"\x04" + _core.pdu_release_rq()[6:],
        "abort": b"\x06" + _core.pdu_encode_abort(2, 2)[6:],
    }
    for name, data in seeds.items():
        (out / "pdu" / f"{name}.bin").write_bytes(data)
    (out / "dimse" / "c_store_rq.bin").write_bytes(command)
    echo = Message(CommandField=0x8030, MessageIDBeingRespondedTo=1, AffectedSOPClassUID="1.2.840.10008.1.1",
                   CommandDataSetType=0x0101, Status=0, ErrorComment="none").encode()
    (out / "dimse" / "c_echo_rsp.bin").write_bytes(echo)
    print(f"{len(seeds)} PDU seeds, 2 command seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
