"""DICOM networking with pynetdicom's API: the upper layer and DIMSE messages in C++.

>>> from turbodicom.net import AE
>>> ae = AE()
>>> ae.add_requested_context("1.2.840.10008.1.1")
>>> assoc = ae.associate("127.0.0.1", 11112)
>>> if assoc.is_established:
...     status = assoc.send_c_echo()
...     assoc.release()
"""

from turbodicom.net import events as evt
from turbodicom.net.ae import AE
from turbodicom.net.association import Association
from turbodicom.net.contexts import (
    ALL_TRANSFER_SYNTAXES,
    DEFAULT_TRANSFER_SYNTAXES,
    AllStoragePresentationContexts,
    PresentationContext,
    StoragePresentationContexts,
    VerificationPresentationContexts,
    build_context,
    build_role,
)
from turbodicom.net.events import debug_logger

__all__ = [
    "AE",
    "ALL_TRANSFER_SYNTAXES",
    "AllStoragePresentationContexts",
    "Association",
    "DEFAULT_TRANSFER_SYNTAXES",
    "PresentationContext",
    "StoragePresentationContexts",
    "VerificationPresentationContexts",
    "build_context",
    "build_role",
    "debug_logger",
    "evt",
]
