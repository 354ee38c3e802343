"""DIMSE messages: command sets (encoded and decoded in C++), the request and response
objects handlers see, and the data sets that travel with them."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import UID

from turbodicom import _core
from turbodicom.reader import _new_dataset, read_dataset_bytes

__all__ = ["Message", "TextIdentifier", "decode_dataset", "encode_dataset", "encode_identifier", "part10_header",
           "status_dataset", "status_only"]

# Command Field values (PS3.7 E.1).
C_STORE_RQ, C_STORE_RSP = 0x0001, 0x8001
C_GET_RQ, C_GET_RSP = 0x0010, 0x8010
C_FIND_RQ, C_FIND_RSP = 0x0020, 0x8020
C_MOVE_RQ, C_MOVE_RSP = 0x0021, 0x8021
C_ECHO_RQ, C_ECHO_RSP = 0x0030, 0x8030
C_CANCEL_RQ = 0x0FFF
NO_DATASET = 0x0101

#: Command elements: tag -> (keyword, VR).
COMMAND_ELEMENTS: dict[int, tuple[str, str]] = {
    0x00000002: ("AffectedSOPClassUID", "UI"),
    0x00000003: ("RequestedSOPClassUID", "UI"),
    0x00000100: ("CommandField", "US"),
    0x00000110: ("MessageID", "US"),
    0x00000120: ("MessageIDBeingRespondedTo", "US"),
    0x00000600: ("MoveDestination", "AE"),
    0x00000700: ("Priority", "US"),
    0x00000800: ("CommandDataSetType", "US"),
    0x00000900: ("Status", "US"),
    0x00000901: ("OffendingElement", "AT"),
    0x00000902: ("ErrorComment", "LO"),
    0x00000903: ("ErrorID", "US"),
    0x00001000: ("AffectedSOPInstanceUID", "UI"),
    0x00001001: ("RequestedSOPInstanceUID", "UI"),
    0x00001020: ("NumberOfRemainingSuboperations", "US"),
    0x00001021: ("NumberOfCompletedSuboperations", "US"),
    0x00001022: ("NumberOfFailedSuboperations", "US"),
    0x00001023: ("NumberOfWarningSuboperations", "US"),
    0x00001030: ("MoveOriginatorApplicationEntityTitle", "AE"),
    0x00001031: ("MoveOriginatorMessageID", "US"),
}
_TAGS = {keyword: tag for tag, (keyword, _vr) in COMMAND_ELEMENTS.items()}


def _encode_value(vr: str, value: Any) -> bytes:
    if vr == "US":
        return struct.pack("<H", int(value))
    if vr == "UL":
        return struct.pack("<I", int(value))
    if vr == "AT":
        tags = value if isinstance(value, (list, tuple)) else [value]
        return b"".join(struct.pack("<HH", int(t) >> 16, int(t) & 0xFFFF) for t in tags)
    raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    if len(raw) % 2:
        raw += b"\x00" if vr == "UI" else b" "
    return raw


def _decode_value(vr: str, raw: bytes) -> Any:
    if vr == "US":
        return struct.unpack("<H", raw)[0] if len(raw) == 2 else None
    if vr == "AT":
        return [(g << 16) | e for g, e in struct.iter_unpack("<HH", raw[: len(raw) // 4 * 4])]
    text = raw.decode("ascii", "replace").rstrip("\x00 ")
    if vr == "UI":
        return str.__new__(UID, text)  # as UID(text), without its validation on every message
    return text.lstrip() if vr == "AE" else text


class Message:
    """A DIMSE request or response: its command elements as attributes named by keyword
    (``MessageID``, ``AffectedSOPClassUID``, ``Status``, ...; ``None`` when absent)."""

    def __init__(self, **elements: Any) -> None:
        for keyword, value in elements.items():
            if keyword not in _TAGS:
                raise AttributeError(f"'{keyword}' is not a command element")
            setattr(self, keyword, value)
        self.context_id: int | None = None

    @property
    def has_dataset(self) -> bool:
        return self.CommandDataSetType is not None and self.CommandDataSetType != NO_DATASET

    def encode(self) -> bytes:
        elements = []
        for keyword, tag in _TAGS.items():
            value = getattr(self, keyword)
            if value is None or value == "":
                continue
            elements.append((tag, _encode_value(COMMAND_ELEMENTS[tag][1], value)))
        return _core.command_encode(elements)

    @classmethod
    def decode(cls, data: bytes) -> "Message":
        message = cls()
        for tag, raw in _core.command_decode(data):
            entry = COMMAND_ELEMENTS.get(tag)
            if entry is not None:
                setattr(message, entry[0], _decode_value(entry[1], raw))
        return message

    @property
    def name(self) -> str:
        return {
            C_STORE_RQ: "C-STORE-RQ", C_STORE_RSP: "C-STORE-RSP", C_ECHO_RQ: "C-ECHO-RQ",
            C_ECHO_RSP: "C-ECHO-RSP", C_FIND_RQ: "C-FIND-RQ", C_FIND_RSP: "C-FIND-RSP",
            C_MOVE_RQ: "C-MOVE-RQ", C_MOVE_RSP: "C-MOVE-RSP", C_GET_RQ: "C-GET-RQ",
            C_GET_RSP: "C-GET-RSP", C_CANCEL_RQ: "C-CANCEL-RQ",
        }.get(self.CommandField, f"command 0x{self.CommandField or 0:04X}")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in _TAGS if getattr(self, k) is not None)
        return f"<{self.name} {fields}>"


# Absent elements read as None: class attributes, so that a message sets only what it holds.
for _keyword in _TAGS:
    setattr(Message, _keyword, None)
del _keyword


def status_dataset(response: Message) -> Dataset:
    """The Status of a response, with its related elements, as pynetdicom returns it."""
    # Raw elements, as a data set read from the command's bytes holds them (converted on
    # access), but Status, which every caller reads, ready.
    elements = {_STATUS_TAG: _status_element(response.Status)}
    for tag in _STATUS_RELATED:
        value = getattr(response, COMMAND_ELEMENTS[tag][0])
        if value is not None:
            key = _core.tag(tag)
            elements[key] = _raw_element(key, COMMAND_ELEMENTS[tag][1], value)
    return _new_dataset(Dataset, elements, default_encoding)


def status_only(status: int) -> Dataset:
    """The status data set of a response that holds no other status element."""
    return _new_dataset(Dataset, {_STATUS_TAG: _status_element(status)}, default_encoding)


def _status_element(status: Any) -> Any:
    """The (0000,0900) Status element holding `status`, already converted: made by copying
    the state of one made by DataElement() (as reader.py makes data sets), since reading
    Status back from a raw element cost more than the rest of a C-FIND response's Python."""
    if type(status) is not int or not 0 <= status <= 0xFFFF:
        return _raw_element(_STATUS_TAG, "US", status)
    element = object.__new__(DataElement)
    element.__dict__.update(_STATUS_STATE)
    element._value = status
    return element


def _raw_element(tag: Any, vr: str, value: Any) -> RawDataElement:
    if isinstance(value, str):  # text decoded with U+FFFD for what was not ASCII: kept as "?"
        value = value.encode("ascii", "replace")
    raw = _encode_value(vr, value)
    return RawDataElement(tag, vr, len(raw), raw, 0, True, True)


_STATUS_TAG = _core.tag(0x00000900)
_STATUS_STATE = dict(DataElement(_STATUS_TAG, "US", 0).__dict__)
# The elements of a response that pynetdicom puts in its status data set besides Status,
# in tag order.
_STATUS_RELATED = (0x00000901, 0x00000902, 0x00000903, 0x00001020, 0x00001021, 0x00001022, 0x00001023)


def _syntax_flags(transfer_syntax: str) -> tuple[bool, bool, bool]:
    ts = str(transfer_syntax)
    deflated = ts == "1.2.840.10008.1.2.1.99"
    if ts == "1.2.840.10008.1.2":
        return True, True, deflated
    if ts == "1.2.840.10008.1.2.2":
        return False, False, deflated
    return False, True, deflated  # explicit VR little endian, and every compressed syntax


def decode_dataset(raw: bytes, transfer_syntax: str) -> Dataset:
    """A data set received in `transfer_syntax`, read by pydicom."""
    implicit, little, deflated = _syntax_flags(transfer_syntax)
    if deflated:
        raw = zlib.decompress(raw, -zlib.MAX_WBITS)
    return read_dataset_bytes(raw, implicit, little)


def encode_identifier(ds: Dataset, transfer_syntax: str) -> bytes:
    """A query's identifier written in `transfer_syntax`: as :func:`encode_dataset`, without
    pydicom's writer when it holds only text (a C-FIND, C-MOVE or C-GET request's usually does)."""
    text = TextIdentifier.from_dataset(ds)
    raw = text.encode(transfer_syntax) if text is not None else None
    return raw if raw is not None else encode_dataset(ds, transfer_syntax)


def encode_dataset(ds: Dataset, transfer_syntax: str) -> bytes:
    """`ds` written in `transfer_syntax` (compressed syntaxes: the pixel data must already be
    encapsulated in it)."""
    implicit, little, deflated = _syntax_flags(transfer_syntax)
    buffer = DicomBytesIO()
    buffer.is_implicit_VR = implicit
    buffer.is_little_endian = little
    write_dataset(buffer, ds)
    raw = buffer.getvalue()
    if deflated:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
        raw = compressor.compress(raw) + compressor.flush()
        if len(raw) % 2:  # PS3.5 A.5: the deflated stream is padded to even length
            raw += b"\x00"
    return raw


# Explicit VR little endian: the VRs whose length takes 4 bytes after 2 reserved ones.
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
                       "UR", "UT"})
_IMPLICIT_LITTLE, _EXPLICIT_LITTLE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"


class TextIdentifier:
    """A response identifier made of text elements, as a Query/Retrieve SCP answers:
    ``(tag, VR, value)`` in ascending tag order, a value being None (empty), a string or
    number, or a list of them (several values); an SQ element is an empty sequence.

    It is encoded in the little endian transfer syntaxes without building a pydicom data
    set (a C-FIND answers thousands of them); :meth:`to_dataset` gives the pydicom data
    set, which encodes to the same bytes."""

    __slots__ = ("elements",)

    def __init__(self, elements: list[tuple[int, str, Any]]) -> None:
        self.elements = elements

    @classmethod
    def from_dataset(cls, ds: Dataset) -> "TextIdentifier | None":
        """`ds` as a TextIdentifier when it is one: every element of a text VR with text (or
        nothing) as its value; else None."""
        elements = []
        for element in ds:
            vr, value = element.VR, element.value
            if vr not in _TEXT_VRS:
                return None
            if value is None or isinstance(value, (str, PersonName)):
                elements.append((int(element.tag), vr, None if value is None else str(value)))
            elif isinstance(value, (list, tuple, MultiValue)) and all(
                    isinstance(v, (str, PersonName)) for v in value):
                elements.append((int(element.tag), vr, [str(v) for v in value]))
            else:
                return None  # numbers keep pydicom's formatting
        return cls(elements)

    def to_dataset(self) -> Dataset:
        ds = Dataset()
        for tag, vr, value in self.elements:
            if vr == "SQ":
                ds.add_new(tag, "SQ", [])
            elif isinstance(value, (list, tuple)):
                ds.add_new(tag, vr, [str(v) for v in value] if value else None)
            else:
                ds.add_new(tag, vr, value)
        return ds

    def encode(self, transfer_syntax: str) -> bytes | None:
        """The encoded data set, or None where pydicom must do it (another transfer syntax,
        a value that is not ASCII text, a VR that is not text)."""
        if transfer_syntax == _IMPLICIT_LITTLE:
            implicit = True
        elif transfer_syntax == _EXPLICIT_LITTLE:
            implicit = False
        else:
            return None
        pack = struct.pack
        parts = []
        for tag, vr, value in self.elements:
            if vr == "SQ":
                raw = b""
            elif vr not in _TEXT_VRS or isinstance(value, bytes):
                return None
            else:
                if value is None:
                    text = ""
                elif isinstance(value, (list, tuple)):
                    text = "\\".join(str(v) for v in value)
                else:
                    text = str(value)
                if not text.isascii():
                    return None  # the Specific Character Set decides: pydicom's writer
                raw = text.encode("ascii")
                if len(raw) & 1:
                    raw += b"\x00" if vr == "UI" else b" "
            group, element = tag >> 16, tag & 0xFFFF
            if implicit:
                parts.append(pack("<HHI", group, element, len(raw)))
            elif vr in _LONG_VRS:
                parts.append(pack("<HH2sHI", group, element, vr.encode(), 0, len(raw)))
            elif len(raw) > 0xFFFF:
                return None
            else:
                parts.append(pack("<HH2sH", group, element, vr.encode(), len(raw)))
            parts.append(raw)
        return b"".join(parts)


def part10_header(sop_class: str, sop_instance: str, transfer_syntax: str, implementation_class_uid: str,
                  implementation_version_name: str = "", source_ae: str = "") -> bytes:
    """The preamble, 'DICM' and File Meta Information of a file holding a received data set,
    written in C++ as PS3.10 7.1 lays it out; an empty version name or source AE title is
    left out."""
    return _core.part10_header(str(sop_class or ""), str(sop_instance or ""), str(transfer_syntax or ""),
                               str(implementation_class_uid or ""), str(implementation_version_name or ""),
                               str(source_ae or ""))
