"""Presentation contexts: an abstract syntax (a SOP class) with the transfer syntaxes
offered or accepted for it, shaped like pynetdicom's."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from pydicom._uid_dict import UID_dictionary
from pydicom.uid import UID

__all__ = [
    "ALL_TRANSFER_SYNTAXES",
    "DEFAULT_TRANSFER_SYNTAXES",
    "PresentationContext",
    "StoragePresentationContexts",
    "VerificationPresentationContexts",
    "build_context",
    "build_role",
]

#: What a requestor offers when it names no transfer syntaxes (as pynetdicom does).
DEFAULT_TRANSFER_SYNTAXES = [
    UID("1.2.840.10008.1.2"),        # Implicit VR Little Endian
    UID("1.2.840.10008.1.2.1"),      # Explicit VR Little Endian
    UID("1.2.840.10008.1.2.1.99"),   # Deflated Explicit VR Little Endian
    UID("1.2.840.10008.1.2.2"),      # Explicit VR Big Endian
]

#: Every transfer syntax pydicom knows, for an acceptor that takes whatever is offered.
ALL_TRANSFER_SYNTAXES = DEFAULT_TRANSFER_SYNTAXES + sorted(
    UID(uid) for uid, entry in UID_dictionary.items()
    if entry[1] == "Transfer Syntax" and entry[3] != "Retired" and UID(uid) not in DEFAULT_TRANSFER_SYNTAXES
)

VERIFICATION_SOP_CLASS = UID("1.2.840.10008.1.1")

# Results of a presentation context in the A-ASSOCIATE-AC (PS3.8 9.3.3.2).
ACCEPTANCE = 0
USER_REJECTION = 1
PROVIDER_REJECTION = 2
ABSTRACT_SYNTAX_NOT_SUPPORTED = 3
TRANSFER_SYNTAX_NOT_SUPPORTED = 4


class PresentationContext:
    """A presentation context: ``context_id``, ``abstract_syntax``, ``transfer_syntax``
    (a list: offered or supported; after negotiation the one accepted), ``result`` and
    the SCP/SCU roles (``scu_role``, ``scp_role``: ``None`` when not negotiated)."""

    def __init__(self) -> None:
        self.context_id: int | None = None
        self._abstract_syntax: UID | None = None
        self._transfer_syntax: list[UID] = []
        self.result: int | None = None
        self.scu_role: bool | None = None
        self.scp_role: bool | None = None
        # After role negotiation: whether this side acts as SCU / SCP for the context.
        self.as_scu: bool | None = None
        self.as_scp: bool | None = None

    @property
    def abstract_syntax(self) -> UID | None:
        return self._abstract_syntax

    @abstract_syntax.setter
    def abstract_syntax(self, uid: str) -> None:
        uid = _uid(uid)
        if not _is_valid(uid):
            raise ValueError(f"'{uid}' is not a valid UID")
        self._abstract_syntax = uid

    @property
    def transfer_syntax(self) -> list[UID]:
        return self._transfer_syntax

    @transfer_syntax.setter
    def transfer_syntax(self, syntaxes: Iterable[str]) -> None:
        self._transfer_syntax = []
        for uid in syntaxes:
            self.add_transfer_syntax(uid)

    def add_transfer_syntax(self, uid: str) -> None:
        uid = _uid(uid)
        if not _is_valid(uid):
            raise ValueError(f"'{uid}' is not a valid transfer syntax UID")
        if uid not in self._transfer_syntax:
            self._transfer_syntax.append(uid)

    @property
    def status(self) -> str:
        return {
            None: "Pending",
            ACCEPTANCE: "Accepted",
            USER_REJECTION: "User Rejected",
            PROVIDER_REJECTION: "Provider Rejected",
            ABSTRACT_SYNTAX_NOT_SUPPORTED: "Abstract Syntax Not Supported",
            TRANSFER_SYNTAX_NOT_SUPPORTED: "Transfer Syntax(es) Not Supported",
        }.get(self.result, "Unknown")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PresentationContext):
            return NotImplemented
        return (self.context_id == other.context_id and self.abstract_syntax == other.abstract_syntax
                and self.transfer_syntax == other.transfer_syntax)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = self.abstract_syntax.name if self.abstract_syntax else None
        return f"<PresentationContext {self.context_id} {name} {[t.name for t in self.transfer_syntax]}>"

    __str__ = __repr__


def _uid(value: str | bytes) -> UID:
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if type(value) is UID:
        return value
    return _uid_of(str(value))


# Contexts are made for every association from the same few UIDs; pydicom's UID() checks
# its value with regular expressions each time (a fifth of an association's Python time).
@functools.lru_cache(maxsize=4096)
def _uid_of(value: str) -> UID:
    if not value[:1].isdigit():  # a keyword such as "CTImageStorage"
        keyword = _KEYWORDS.get(value)
        if keyword is None:
            raise ValueError(f"'{value}' is neither a UID nor a known SOP class keyword")
        value = keyword
    return cached_uid(value)


# UID(text), shared: the same text gives the same (immutable) object.
cached_uid = functools.lru_cache(maxsize=4096)(UID)


@functools.lru_cache(maxsize=4096)
def _is_valid(uid: UID) -> bool:
    return len(uid) <= 64 and uid.is_valid


_KEYWORDS = {entry[4]: uid for uid, entry in UID_dictionary.items() if entry[4]}


def build_context(abstract_syntax: str, transfer_syntax: str | Sequence[str] | None = None) -> PresentationContext:
    """A context for `abstract_syntax` (a UID or keyword) with `transfer_syntax` (one or a
    list; default :data:`DEFAULT_TRANSFER_SYNTAXES`)."""
    context = PresentationContext()
    context.abstract_syntax = abstract_syntax
    if transfer_syntax is None:
        transfer_syntax = DEFAULT_TRANSFER_SYNTAXES
    elif isinstance(transfer_syntax, (str, bytes)):
        transfer_syntax = [transfer_syntax]
    context.transfer_syntax = transfer_syntax
    return context


def build_role(uid: str, scu_role: bool = False, scp_role: bool = False):
    """An SCP/SCU Role Selection item for `uid`, as pynetdicom's ``build_role`` makes."""
    from turbodicom.net.pdu import RoleSelection

    return RoleSelection(_uid(uid), scu_role, scp_role)


def _storage_sop_classes() -> list[UID]:
    names = [(uid, entry[0]) for uid, entry in UID_dictionary.items()
             if entry[1] == "SOP Class" and "Storage" in entry[0] and entry[3] != "Retired"
             and "Storage Commitment" not in entry[0] and "Directory" not in entry[0]]
    return [UID(uid) for uid, _ in sorted(names, key=lambda item: [int(p) for p in item[0].split(".")])]


#: Every storage SOP class pydicom knows (requested contexts are limited to 128 per
#: association; like pynetdicom's list this one is for acceptors, or to pick from).
STORAGE_SOP_CLASSES = _storage_sop_classes()
StoragePresentationContexts = [build_context(uid) for uid in STORAGE_SOP_CLASSES[:120]]
AllStoragePresentationContexts = [build_context(uid) for uid in STORAGE_SOP_CLASSES]
VerificationPresentationContexts = [build_context(VERIFICATION_SOP_CLASS)]
