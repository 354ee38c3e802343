"""SOP class UIDs by keyword, as pynetdicom's ``sop_class`` module offers them:
``from turbodicom.net.sop_class import CTImageStorage, Verification``."""

from __future__ import annotations

from pydicom._uid_dict import UID_dictionary
from pydicom.uid import UID

_BY_KEYWORD = {entry[4]: UID(uid) for uid, entry in UID_dictionary.items()
               if entry[4] and entry[1] in ("SOP Class", "Meta SOP Class")}
_BY_KEYWORD.setdefault("Verification", UID("1.2.840.10008.1.1"))


def __getattr__(name: str) -> UID:
    try:
        return _BY_KEYWORD[name]
    except KeyError:
        raise AttributeError(f"module 'turbodicom.net.sop_class' has no attribute '{name}'") from None


def uid_for(keyword: str) -> UID | None:
    """The UID of a SOP class keyword, or None."""
    return _BY_KEYWORD.get(keyword)


def __dir__() -> list[str]:
    return sorted(_BY_KEYWORD)
