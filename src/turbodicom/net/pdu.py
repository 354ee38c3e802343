"""The association PDUs as Python values (the bytes are made and read in C++)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from pydicom.uid import UID

__all__ = ["RejectReason", "RoleSelection", "ServiceUser", "abort_reason_text", "reject_reason_text"]


class RoleSelection(NamedTuple):
    sop_class_uid: UID
    scu_role: bool
    scp_role: bool


class RejectReason(NamedTuple):
    result: int  # 1 permanent, 2 transient
    source: int  # 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation)
    reason: int


@dataclass
class ServiceUser:
    """One side of an association, as pynetdicom's ``assoc.requestor`` / ``assoc.acceptor``."""

    ae_title: str = ""
    address: str = ""
    port: int = 0
    maximum_length: int = 16382
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    roles: list = field(default_factory=list)

    @property
    def primitive(self) -> "ServiceUser":
        return self


_REJECT_REASONS = {
    (1, 1): "No reason given", (1, 2): "Application context name not supported",
    (1, 3): "Calling AE title not recognised", (1, 7): "Called AE title not recognised",
    (2, 1): "No reason given", (2, 2): "Protocol version not supported",
    (3, 1): "Temporary congestion", (3, 2): "Local limit exceeded",
}


def reject_reason_text(source: int, reason: int) -> str:
    return _REJECT_REASONS.get((source, reason), f"reason {reason}")


_ABORT_REASONS = {
    0: "reason not specified", 1: "unrecognized PDU", 2: "unexpected PDU",
    4: "unrecognized PDU parameter", 5: "unexpected PDU parameter", 6: "invalid PDU parameter value",
}


def abort_reason_text(source: int, reason: int) -> str:
    who = "service-user" if source == 0 else "service-provider"
    return f"{who}: {_ABORT_REASONS.get(reason, f'reason {reason}')}" if source == 2 else who
