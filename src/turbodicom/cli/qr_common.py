"""What ``findscu``, ``movescu`` and ``getscu`` share: their options (DCMTK's names), the
query keys given with ``-k`` as DCMTK's tools take them, the identifier built from them,
the names of the Query/Retrieve statuses (PS3.4 C.4), and the lines printed for a data
set and for the sub-operation counts of a C-MOVE or C-GET response.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from turbodicom.cli.echoscu import add_association_options, associate, configure_ae, status_text

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
QUERY_RETRIEVE_LEVEL = 0x00080052
SPECIFIC_CHARACTER_SET = 0x00080005

PENDING = (0xFF00, 0xFF01)
SUCCESS = 0x0000

# Query/Retrieve statuses (PS3.4 C.4.1.1.4, C.4.2.1.5, C.4.3.1.4); the others are named by
# echoscu's status_text.
QR_STATUS_TEXT = {
    0xA700: "Refused: out of resources",
    0xA701: "Refused: out of resources, unable to calculate the number of matches",
    0xA702: "Refused: out of resources, unable to perform sub-operations",
    0xA801: "Refused: move destination unknown",
    0xA900: "Identifier does not match SOP class",
    0xB000: "Warning: sub-operations complete, one or more failures or warnings",
    0xFE00: "Cancelled",
    0xFF00: "Pending",
    0xFF01: "Pending: optional keys not supported",
}

# VRs whose values are given as numbers.
_INT_VRS = {"US", "UL", "SS", "SL", "UV", "SV"}
_FLOAT_VRS = {"FL", "FD"}
_UNSUPPORTED_VRS = {"SQ", "OB", "OW", "OD", "OF", "OL", "OV", "UN", "AT"}
_TAG = re.compile(r"\(?\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)?")


def qr_status_text(status: int) -> str:
    """``0xA900 Identifier does not match SOP class``: the status in hex and its meaning."""
    text = QR_STATUS_TEXT.get(status)
    if text is None and 0xC000 <= status <= 0xCFFF:
        text = "Failed: unable to process"  # PS3.4 C.4: every 0xCxxx of a query or retrieve
    return f"0x{status:04X} {text}" if text else status_text(status)


def is_failure(status: int) -> bool:
    """A failure or a cancel: neither success, warning nor pending."""
    return not (status == SUCCESS or status in PENDING or status == 0x0001 or 0xB000 <= status <= 0xBFFF)


# -- the -k keys --------------------------------------------------------------------------------------


class QueryKey:
    """One ``-k`` key: its tag, VR and value (None: an empty value, "return this key")."""

    def __init__(self, tag: int, vr: str, value: Any, text: str) -> None:
        self.tag = tag
        self.vr = vr
        self.value = value
        self.text = text


def query_key(text: str) -> QueryKey:
    """An argparse type: ``KEY=VALUE`` or ``KEY`` (asked to be returned, empty value), KEY a
    keyword (``PatientName``) or a tag (``0010,0010`` or ``(0010,0010)``) of pydicom's
    dictionary, as DCMTK's ``-k``. The VR is the dictionary's."""
    from pydicom.datadict import dictionary_has_tag, dictionary_VR, tag_for_keyword

    name, has_value, value = text.partition("=")
    name = name.strip()
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r}: no key before '=' (write KEY=VALUE or KEY)")
    match = _TAG.fullmatch(name)
    if match is not None:
        tag = int(match.group(1) + match.group(2), 16)
        if not dictionary_has_tag(tag):
            raise argparse.ArgumentTypeError(
                f"{text!r}: ({tag >> 16:04X},{tag & 0xFFFF:04X}) is not in the DICOM dictionary "
                "(private tags are not supported)")
    else:
        found = tag_for_keyword(name)
        if found is None:
            raise argparse.ArgumentTypeError(
                f"{text!r}: {name!r} is neither a DICOM keyword (such as PatientName) nor a tag "
                "(such as 0010,0010)")
        tag = found
    vr = dictionary_VR(tag).split(" or ")[0]
    if vr in _UNSUPPORTED_VRS:
        raise argparse.ArgumentTypeError(f"{text!r}: keys of VR {vr} are not supported")
    if not has_value or value == "":
        return QueryKey(tag, vr, None, text)
    try:
        if vr in _INT_VRS or vr in _FLOAT_VRS:
            convert = int if vr in _INT_VRS else float
            parts = [convert(part) for part in value.split("\\")]
            converted: Any = parts[0] if len(parts) == 1 else parts
        else:
            converted = value
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a value of VR {vr}") from None
    if tag == QUERY_RETRIEVE_LEVEL:
        converted = value.strip().upper()
        if converted not in LEVELS:
            raise argparse.ArgumentTypeError(
                f"{text!r}: unknown level {value!r} (one of {', '.join(LEVELS)})")
    return QueryKey(tag, vr, converted, text)


def build_identifier(keys: list[QueryKey]) -> Any:
    """The identifier of the request: one element per key (a later key replaces an earlier
    one with the same tag); Specific Character Set ISO_IR 192 when a value is not ASCII
    and no key gives one."""
    from pydicom.dataelem import DataElement
    from pydicom.dataset import Dataset

    ds = Dataset()
    for key in keys:
        ds.add(DataElement(key.tag, key.vr, key.value))
    if SPECIFIC_CHARACTER_SET not in ds and any(isinstance(k.value, str) and not k.value.isascii() for k in keys):
        ds.add(DataElement(SPECIFIC_CHARACTER_SET, "CS", "ISO_IR 192"))
    return ds


def check_level(identifier: Any) -> str:
    """'' when the identifier has a query/retrieve level, else what to add. (A level the
    model does not have, PATIENT with -S, is sent: the peer answers with a failure.)"""
    if not identifier.get("QueryRetrieveLevel"):
        return "no query/retrieve level: add -k QueryRetrieveLevel=PATIENT, STUDY, SERIES or IMAGE"
    return ""


# -- options -------------------------------------------------------------------------------------------


def add_qr_options(parser: argparse.ArgumentParser, calling: str) -> None:
    """HOST, PORT, the association options, -P/-S and -k."""
    add_association_options(parser, calling)
    model = parser.add_mutually_exclusive_group()
    model.add_argument("-P", "--patient", dest="model", action="store_const", const="P",
                       help="use the Patient Root information model (default)")
    model.add_argument("-S", "--study", dest="model", action="store_const", const="S",
                       help="use the Study Root information model")
    parser.set_defaults(model="P")
    parser.add_argument("-k", "--key", dest="keys", action="append", type=query_key, required=True,
                        metavar="KEY[=VALUE]",
                        help="a key of the identifier: a keyword or a tag (gggg,eeee), with =VALUE to "
                             "match (wildcards * and ?, date ranges A-B, UID lists A\\B) or without, "
                             "to have it returned; repeat for more keys")


def model_name(model: str) -> str:
    return {"P": "Patient Root", "S": "Study Root"}[model]


class Extras:
    """An AE whose associate() also sends `ext_neg` and binds `handlers` (echoscu's
    associate() passes only its own handler)."""

    def __init__(self, ae: Any, ext_neg: list | None = None, handlers: list | None = None) -> None:
        self.ae = ae
        self.ext_neg = ext_neg
        self.handlers = handlers or []

    def associate(self, *args: Any, evt_handlers: list | None = None, **kwargs: Any) -> Any:
        return self.ae.associate(*args, ext_neg=self.ext_neg, evt_handlers=list(evt_handlers or []) + self.handlers,
                                 **kwargs)


# -- output --------------------------------------------------------------------------------------------------


def format_value(element: Any) -> str:
    value = element.value
    if element.VR == "SQ":
        return f"(sequence of {len(value)} item{'s' if len(value) != 1 else ''})"
    if value is None or value == "" or value == b"":
        return ""
    if isinstance(value, (bytes, bytearray)):
        return f"({len(value)} bytes)"
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def identifier_lines(ds: Any) -> list[str]:
    """``Keyword = value`` per element (the tag instead of a keyword pydicom does not know)."""
    lines = []
    for element in ds:
        name = element.keyword or f"({element.tag.group:04X},{element.tag.element:04X})"
        value = format_value(element)
        lines.append(f"{name} = {value}" if value else f"{name} =")
    return lines


def counts_of(status: Any) -> tuple[int | None, int, int, int]:
    """(remaining, completed, failed, warning) of a C-MOVE or C-GET response status."""
    def get(keyword: str) -> int | None:
        value = status.get(keyword)
        return None if value is None or value == "" else int(value)

    return (get("NumberOfRemainingSuboperations"), get("NumberOfCompletedSuboperations") or 0,
            get("NumberOfFailedSuboperations") or 0, get("NumberOfWarningSuboperations") or 0)


def counts_text(remaining: int | None, completed: int, failed: int, warning: int) -> str:
    left = "" if remaining is None else f"{remaining} remaining, "
    return f"{left}{completed} completed, {failed} failed, {warning} warning"


# -- the request -------------------------------------------------------------------------------------------


def prepare(prefix: str, args: argparse.Namespace) -> tuple[Any, int]:
    """The identifier of ``args.keys``, or (None, 2) after saying why it cannot be sent."""
    identifier = build_identifier(args.keys)
    why = check_level(identifier)
    if why:
        print(f"{prefix}: error: {why}", file=sys.stderr)
        return None, 2
    return identifier, 0


def request(prefix: str, args: argparse.Namespace, log: Any, command: int, storage: list | None = None,
            ext_neg: list | None = None, handlers: list | None = None) -> tuple[Any, Any]:
    """Associate offering the information model of `command` (and the `storage` contexts);
    returns (association, model UID), or (None, None) after saying why not on stderr."""
    from turbodicom.net import AE
    from turbodicom.net.qr import query_model_uid

    uid = query_model_uid(args.model, command)
    ae = AE(args.aetitle)
    configure_ae(ae, args.timeout)
    ae.add_requested_context(uid)
    for context in storage or []:
        ae.add_requested_context(context.abstract_syntax, context.transfer_syntax)
    assoc, why = associate(Extras(ae, ext_neg, handlers), args, log)
    if assoc is None:
        print(f"{prefix}: {why}", file=sys.stderr)
        return None, None
    if not any(c.abstract_syntax == uid for c in assoc.accepted_contexts):
        assoc.release()
        print(f"{prefix}: {args.host}:{args.port} did not accept the {model_name(args.model)} "
              f"information model ({uid.name})", file=sys.stderr)
        return None, None
    return assoc, uid


def no_answer(prefix: str, args: argparse.Namespace, log: Any, what: str) -> None:
    reason = f": {log.errors[-1]}" if log.errors else ""
    print(f"{prefix}: no final answer to the {what} from {args.host}:{args.port} "
          f"(association aborted){reason}", file=sys.stderr)


def follow_retrieve(responses: Any, prefix: str, args: argparse.Namespace) -> tuple[int | None, tuple, list[str]]:
    """Print the progress of a C-MOVE or C-GET from its responses; returns the final status
    (None when none came), the last sub-operation counts and the failed SOP Instance UIDs."""
    final: int | None = None
    counts: tuple[int | None, int, int, int] = (None, 0, 0, 0)
    failed_uids: list[str] = []
    for status, answer in responses:
        if "Status" not in status:
            break
        code = int(status.Status)
        counts = counts_of(status)
        if code in PENDING:
            print(f"pending: {counts_text(*counts)}", flush=True)
            continue
        final = code
        if answer is not None and "FailedSOPInstanceUIDList" in answer:
            value = answer.FailedSOPInstanceUIDList
            failed_uids = [str(value)] if isinstance(value, str) else [str(v) for v in value]
        comment = status.get("ErrorComment")
        if comment:
            print(f"{prefix}: {args.host}:{args.port} says: {comment}", file=sys.stderr)
    return final, counts, failed_uids
