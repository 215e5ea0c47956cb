"""Seeds and byte-level mutations of DICOM files, for scripts/fuzz.

A seed is a valid DICOM file split into its parts (preamble, File Meta elements, encoded dataset) with the
transfer syntax that encodes the dataset. `Mutator.mutate(index)` derives one mutated file from a seed,
deterministically from (campaign seed, index): the same campaign seed always yields the same files.

Mutations work on the encoded bytes. The only structure they rely on is the element map `walk()` computes
(offsets of tags, length fields and values, at every nesting depth), so they can damage exactly one length
field, one VR or one value and leave the rest of the file as it was. pydicom is used only to build the
seeds and for its data dictionary (to know which tags are sequences in implicit VR).
"""
from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass, field

from pydicom.datadict import dictionary_VR

# Transfer syntaxes whose dataset encoding this module understands (the rest is mutated as opaque bytes).
IMPLICIT_LE = "1.2.840.10008.1.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE = "1.2.840.10008.1.2.2"

# Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2); the others have a 2-byte length.
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"}
TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
BINARY_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "UV": "Q", "SV": "q"}

ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
PIXEL_DATA = 0x7FE00010
MAX_WALK_DEPTH = 64
MAX_WALK_ELEMENTS = 50_000

# UID root of the Tessera test data (scripts/make-test-dicom.py); ".77" marks fuzzer-made UIDs.
UID_ROOT = "1.2.826.0.1.3680043.10.1199.77"


def tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def dictionary_vr(tag: int) -> str:
    """The VR of a standard tag ("UN" when unknown; the first of "US or SS"-style alternatives)."""
    try:
        return dictionary_VR(tag).split(" ")[0]
    except KeyError:
        return "UN"


# ---------------------------------------------------------------------------------------------------------------
# Element map


@dataclass
class Element:
    """One element as encoded: where its tag, length field and value are. Offsets are absolute in the buffer."""
    offset: int
    tag: int
    vr: str  # the explicit VR as written; "" for items, delimiters and implicit VR
    length_offset: int
    length_size: int  # 2 or 4 bytes
    length: int  # raw value of the length field (UNDEFINED for undefined length)
    value_offset: int
    end: int  # first byte after the element, its nested content and its delimiter included
    depth: int  # 0 for top-level elements
    parent: int | None  # index (in the map) of the enclosing sequence or item
    kind: str  # "element", "sequence", "item", "delimiter" or "fragment"


class Encoding:
    """How a dataset is encoded: explicit or implicit VR, little or big endian."""

    def __init__(self, explicit: bool, little: bool):
        self.explicit, self.little = explicit, little
        self.prefix = "<" if little else ">"

    @staticmethod
    def of(transfer_syntax: str) -> Encoding | None:
        """The encoding of a transfer syntax; None when the dataset is deflated (opaque to the element map)."""
        if transfer_syntax == IMPLICIT_LE:
            return Encoding(False, True)
        if transfer_syntax == EXPLICIT_BE:
            return Encoding(True, False)
        if transfer_syntax == DEFLATED_LE:
            return None
        return Encoding(True, True)  # explicit VR little endian and every encapsulated syntax

    def u16(self, buf, pos):
        return struct.unpack_from(self.prefix + "H", buf, pos)[0]

    def u32(self, buf, pos):
        return struct.unpack_from(self.prefix + "I", buf, pos)[0]

    def pack(self, fmt: str, *values) -> bytes:
        return struct.pack(self.prefix + fmt, *values)

    def tag_at(self, buf, pos) -> int:
        return (self.u16(buf, pos) << 16) | self.u16(buf, pos + 2)


META_ENCODING = Encoding(True, True)


def walk(buf: bytes, start: int, stop: int, enc: Encoding) -> list[Element]:
    """The element map of the dataset encoded in buf[start:stop], best effort: walking stops (keeping what it
    found) at the first thing that does not parse."""
    elements: list[Element] = []
    try:
        _walk_dataset(buf, start, stop, enc, elements, 0, None, False)
    except (struct.error, ValueError, IndexError, RecursionError):
        pass
    return elements


def _walk_dataset(buf, pos, stop, enc, out, depth, parent, in_undefined_item) -> int:
    """Walks elements from pos until stop (or an item delimiter when in_undefined_item); returns the end."""
    while pos + 8 <= stop and len(out) < MAX_WALK_ELEMENTS:
        tag = enc.tag_at(buf, pos)
        if tag == ITEM_END:
            if not in_undefined_item:
                raise ValueError("stray item delimiter")
            out.append(Element(pos, tag, "", pos + 4, 4, enc.u32(buf, pos + 4), pos + 8, pos + 8, depth,
                               parent, "delimiter"))
            return pos + 8
        if tag >> 16 == 0xFFFE:
            raise ValueError("unexpected item tag")
        if enc.explicit:
            vr = buf[pos + 4:pos + 6].decode("ascii")
            if not (vr.isalpha() and vr.isupper()):
                raise ValueError("not a VR")
            if vr in LONG_VRS:
                length_offset, length_size, value_offset = pos + 8, 4, pos + 12
                length = enc.u32(buf, length_offset)
            else:
                length_offset, length_size, value_offset = pos + 6, 2, pos + 8
                length = enc.u16(buf, length_offset)
        else:
            vr, length_offset, length_size, value_offset = "", pos + 4, 4, pos + 8
            length = enc.u32(buf, length_offset)
        index = len(out)
        is_sequence = vr == "SQ" or (not enc.explicit and (
            dictionary_vr(tag) == "SQ" or (length == UNDEFINED and tag != PIXEL_DATA)))
        element = Element(pos, tag, vr, length_offset, length_size, length, value_offset, 0, depth, parent,
                          "sequence" if is_sequence else "element")
        out.append(element)
        if is_sequence:
            element.end = _walk_items(buf, value_offset, stop, enc, out, depth + 1, index, length, False)
        elif length == UNDEFINED and tag == PIXEL_DATA:
            element.end = _walk_items(buf, value_offset, stop, enc, out, depth + 1, index, length, True)
        elif length == UNDEFINED:
            raise ValueError("undefined length on a non-sequence")
        else:
            element.end = value_offset + length
        if element.end > stop:
            raise ValueError("element past its container")
        pos = element.end
    if in_undefined_item:
        raise ValueError("unterminated item")
    return pos


def _walk_items(buf, pos, stop, enc, out, depth, parent, length, fragments) -> int:
    """Walks the items of a sequence (or the fragments of encapsulated pixel data); returns the end."""
    if depth > MAX_WALK_DEPTH:
        raise ValueError("too deep")
    end = stop if length == UNDEFINED else pos + length
    while pos + 8 <= end:
        tag = enc.tag_at(buf, pos)
        item_length = enc.u32(buf, pos + 4)
        if tag == SEQUENCE_END:
            out.append(Element(pos, tag, "", pos + 4, 4, item_length, pos + 8, pos + 8, depth, parent, "delimiter"))
            return pos + 8
        if tag != ITEM:
            raise ValueError("not an item")
        index = len(out)
        item = Element(pos, tag, "", pos + 4, 4, item_length, pos + 8, 0, depth, parent,
                       "fragment" if fragments else "item")
        out.append(item)
        if fragments or item_length != UNDEFINED:
            if item_length == UNDEFINED:
                raise ValueError("undefined fragment length")
            item.end = pos + 8 + item_length
            if not fragments:
                _walk_dataset(buf, pos + 8, item.end, enc, out, depth + 1, index, False)
        else:
            item.end = _walk_dataset(buf, pos + 8, end, enc, out, depth + 1, index, True)
        pos = item.end
    if length == UNDEFINED:
        raise ValueError("unterminated sequence")
    return end


# ---------------------------------------------------------------------------------------------------------------
# Encoding


def pad(vr: str, value: bytes) -> bytes:
    """Pads a value to an even length as PS3.5 says (NUL for UI and binary VRs, space for text)."""
    if len(value) % 2 == 0:
        return value
    return value + (b" " if vr in TEXT_VRS and vr != "UI" else b"\0")


def encode_element(tag: int, vr: str, value: bytes, enc: Encoding, length: int | None = None) -> bytes:
    """One element, header and value (value used as given: pad it first if it must be even). `length` overrides
    the length field (to write a lie or an undefined length)."""
    length = len(value) if length is None else length
    tag_bytes = enc.pack("HH", tag >> 16, tag & 0xFFFF)
    if not enc.explicit or tag >> 16 == 0xFFFE:
        return tag_bytes + enc.pack("I", length) + value
    if vr in LONG_VRS:
        return tag_bytes + vr.encode("latin-1") + b"\0\0" + enc.pack("I", length) + value
    if length > 0xFFFF:  # does not fit a 2-byte length: say UN (as PS3.5 6.2.2 allows)
        return tag_bytes + b"UN\0\0" + enc.pack("I", length) + value
    return tag_bytes + vr.encode("latin-1")[:2].ljust(2, b"\0") + enc.pack("H", length) + value


def encode_value(vr: str, value, enc: Encoding) -> bytes:
    """A Python value as the bytes of `vr` (str for text VRs, int/float or a list of them for binary VRs)."""
    if isinstance(value, bytes):
        return value
    if vr in BINARY_FORMATS:
        values = value if isinstance(value, (list, tuple)) else [value]
        fmt = BINARY_FORMATS[vr]
        out = b""
        for v in values:
            try:
                out += enc.pack(fmt, v)
            except struct.error:  # out of range for the VR: keep the low bits
                out += enc.pack(fmt, int(v) & ((1 << (8 * struct.calcsize(fmt))) - 1))
        return out
    return str(value).encode("utf-8", "surrogateescape")


def encode_meta(elements: list[tuple[int, str, bytes]]) -> bytes:
    """File Meta elements (explicit VR little endian) preceded by a correct (0002,0000) group length."""
    body = b"".join(encode_element(tag, vr, value, META_ENCODING) for tag, vr, value in elements if tag != 0x00020000)
    return encode_element(0x00020000, "UL", struct.pack("<I", len(body)), META_ENCODING) + body


# ---------------------------------------------------------------------------------------------------------------
# Seeds


@dataclass
class Seed:
    name: str
    preamble: bytes
    meta: list[tuple[int, str, bytes]]  # File Meta elements but the group length: (tag, VR, padded value)
    dataset: bytes  # encoded dataset, as in the file
    transfer_syntax: str
    sop_class: str
    sop_instance: str
    encoding: Encoding | None  # None: deflated, the dataset is opaque
    top_level: list[Element] = field(default_factory=list)  # element map of the dataset, top level only

    @staticmethod
    def parse(name: str, data: bytes) -> Seed | None:
        """A seed from a DICOM file (preamble, DICM, meta with a transfer syntax, a dataset whose top level
        walks to its end and has SOPClassUID and SOPInstanceUID); None when the file does not qualify."""
        if len(data) < 132 or data[128:132] != b"DICM":
            return None
        meta_elements = walk(data, 132, len(data), META_ENCODING)
        meta, pos = [], 132
        for el in meta_elements:
            if el.tag >> 16 != 2 or el.depth:
                break
            if el.tag != 0x00020000:
                meta.append((el.tag, el.vr, data[el.value_offset:el.end]))
            pos = el.end
        values = {tag: value.rstrip(b"\0 ").decode("ascii", "replace") for tag, vr, value in meta}
        ts = values.get(0x00020010)
        if not ts:
            return None
        dataset = data[pos:]
        enc = Encoding.of(ts)
        seed = Seed(name, data[:128], meta, dataset, ts, "", "", enc)
        if enc is None:  # deflated: take the UIDs from the meta
            seed.sop_class, seed.sop_instance = values.get(0x00020002, ""), values.get(0x00020003, "")
        else:
            elements = walk(dataset, 0, len(dataset), enc)
            seed.top_level = [e for e in elements if e.depth == 0]
            if not seed.top_level or seed.top_level[-1].end != len(dataset):
                return None  # the seed itself does not walk: not a valid starting point
            uids = {e.tag: dataset[e.value_offset:e.end].rstrip(b"\0 ").decode("ascii", "replace")
                    for e in seed.top_level if e.tag in (0x00080016, 0x00080018)}
            seed.sop_class, seed.sop_instance = uids.get(0x00080016, ""), uids.get(0x00080018, "")
        if not seed.sop_class or not seed.sop_instance:
            return None
        return seed


# ---------------------------------------------------------------------------------------------------------------
# Mutations


@dataclass
class Mutant:
    """A mutated file and how to deliver it."""
    index: int
    seed: str
    mutations: list[str]
    data: bytes
    # Where the dataset starts in `data`; None when the File Meta is damaged, so that only HTTP (which sends the
    # whole file) exercises the damage (C-STORE never transmits the File Meta).
    dataset_offset: int | None
    sop_class: str  # for the C-STORE presentation context and command
    sop_instance: str
    transfer_syntax: str

    def describe(self) -> str:
        return f"{self.seed}: " + "; ".join(self.mutations)


class State:
    """A file being mutated: preamble, magic, File Meta bytes and dataset bytes kept apart."""

    def __init__(self, seed: Seed):
        self.seed = seed
        self.enc = seed.encoding
        self.preamble, self.magic = seed.preamble, b"DICM"
        self.meta_elements = list(seed.meta)
        self.meta_bytes: bytes | None = None  # set once the meta is damaged at the byte level
        self.dataset = seed.dataset
        self.meta_damaged = False
        self.sop_instance = seed.sop_instance

    def meta(self) -> bytes:
        return self.meta_bytes if self.meta_bytes is not None else encode_meta(self.meta_elements)

    def set_meta_value(self, tag: int, vr: str, value: bytes):
        self.meta_elements = [e for e in self.meta_elements if e[0] != tag] + [(tag, vr, pad(vr, value))]
        self.meta_elements.sort(key=lambda e: e[0])

    def elements(self) -> list[Element]:
        return walk(self.dataset, 0, len(self.dataset), self.enc) if self.enc else []

    def top_level(self) -> list[Element]:
        return [e for e in self.elements() if e.depth == 0]

    def splice(self, start: int, end: int, new: bytes, elements: list[Element] | None = None, parent=None):
        """Replaces dataset[start:end] by `new`; when the change is inside containers of defined length (parent =
        index of the innermost one in `elements`), their length fields follow, so the file stays well formed."""
        delta = len(new) - (end - start)
        data = bytearray(self.dataset[:start] + new + self.dataset[end:])
        while parent is not None and elements is not None:
            container = elements[parent]
            if container.length != UNDEFINED:
                fmt = "I" if container.length_size == 4 else "H"
                limit = 0xFFFFFFFE if container.length_size == 4 else 0xFFFF
                struct.pack_into(self.enc.prefix + fmt, data, container.length_offset,
                                 max(0, min(limit, container.length + delta)))
            parent = container.parent
        self.dataset = bytes(data)

    def set_value(self, tag: int, vr: str, value: bytes, length: int | None = None):
        """Sets a top-level element (replacing it, or inserting it in tag order), value padded to even length."""
        value = pad(vr, value)
        top = self.top_level()
        new = encode_element(tag, vr, value, self.enc, length)
        for e in top:
            if e.tag == tag:
                self.splice(e.offset, e.end, new)
                return
            if e.tag > tag:
                self.splice(e.offset, e.offset, new)
                return
        end = top[-1].end if top else 0
        self.splice(end, end, new)

    def build(self, index: int, mutations: list[str]) -> Mutant:
        if self.magic is None:  # no File Meta at all: the bare dataset, as some old modalities wrote files
            data, offset = self.dataset, 0
        else:
            head = self.preamble + self.magic + self.meta()
            data, offset = head + self.dataset, len(head)
        return Mutant(index, self.seed.name, mutations, data, None if self.meta_damaged else offset,
                      self.seed.sop_class, self.sop_instance, self.seed.transfer_syntax)


# Values for the tags Tessera computes with. Integers for binary VRs, strings for the others.
HUGE_IS = ["2147483647", "2147483648", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
           "3037000500", "-2147483648", "-9223372036854775808", "99999999999999999999", "1e309", "-1", "0"]
ABSURD = [
    # (keyword, tag, VR, values)
    ("NumberOfFrames", 0x00280008, "IS", ["2147483647", "2147483648", "-1", "0", "1e309", "99999999999999999999",
                                          "NaN", "1.5", " ", "+0", "4294967296", "0x10", "1\\2"]),
    ("Rows", 0x00280010, "US", [0, 65535, 1, 32768]),
    ("Columns", 0x00280011, "US", [0, 65535, 1, 32768]),
    ("BitsAllocated", 0x00280100, "US", [0, 65535, 1, 7, 33, 64]),
    ("BitsStored", 0x00280101, "US", [0, 65535, 64]),
    ("HighBit", 0x00280102, "US", [0, 65535]),
    ("SamplesPerPixel", 0x00280002, "US", [0, 65535, 3]),
    ("PixelRepresentation", 0x00280103, "US", [2, 65535]),
    ("PlanarConfiguration", 0x00280006, "US", [65535]),
    ("ImagesInAcquisition", 0x00201002, "IS", HUGE_IS),
    ("NumberOfTemporalPositions", 0x00200105, "IS", HUGE_IS),
    ("NumberOfSlices", 0x00540081, "US", [65535, 0, 32768]),
    ("NumberOfTimeSlices", 0x00540101, "US", [65535, 0, 32768]),
    ("CardiacNumberOfImages", 0x00181090, "IS", HUGE_IS),
    ("InstanceNumber", 0x00200013, "IS", ["2147483647", "2147483648", "-2147483649", "9223372036854775808", "-1",
                                          "1e400", "", "0x10", "\u0661\u0662", "1\\2\\3"]),
    ("SeriesNumber", 0x00200011, "IS", ["2147483648", "-1", "1e400", "99999999999999999999"]),
    ("AcquisitionNumber", 0x00200012, "IS", ["2147483648", "-1", "99999999999999999999"]),
    ("TemporalPositionIdentifier", 0x00200100, "IS", ["9223372036854775808", "-1"]),
    ("ImageIndex", 0x00541330, "US", [0, 65535]),
    ("ImagePositionPatient", 0x00200032, "DS", ["1e309\\0\\0", "NaN\\NaN\\NaN", "0\\0", "-inf\\inf\\0", "1\\2\\3\\4"]),
    ("SliceLocation", 0x00201041, "DS", ["1e309", "NaN", "-0"]),
    ("SpecificCharacterSet", 0x00080005, "CS", ["ISO_IR 999", "\\\\\\\\", "ISO 2022 IR 87\\ISO 2022 IR 159", "X" * 64,
                                                 "GB18030\\ISO_IR 192", "", "ISO_IR 192\\ISO_IR 100\\ISO_IR 6",
                                                 "ISO 2022 IR 6\\ISO 2022 IR 13\\ISO 2022 IR 87\\ISO 2022 IR 149",
                                                 "\0\0\0\0", "ISO_IR\xff192"]),
    ("StudyDate", 0x00080020, "DA", ["99999999", "00000000", "2026-13-45", "\0", "1-1-1", "20260101-20250101"]),
    ("PatientBirthDate", 0x00100030, "DA", ["99999999", "00000000", "-", "\0"]),
    ("Modality", 0x00080060, "CS", ["", "\0\0", "CT\\MR\\PT\\US\\" * 20]),
]
# Pairs whose product Tessera computes (a series' ExpectedNumberOfInstances): both huge to overflow 64 bits.
PRODUCTS = [
    ((0x00201002, "IS"), (0x00200105, "IS")),  # ImagesInAcquisition x NumberOfTemporalPositions
    ((0x00540081, "US"), (0x00540101, "US")),  # NumberOfSlices x NumberOfTimeSlices
]
IDENTIFIERS = [
    ("PatientID", 0x00100020, "LO"), ("StudyInstanceUID", 0x0020000D, "UI"), ("SeriesInstanceUID", 0x0020000E, "UI"),
    ("SOPInstanceUID", 0x00080018, "UI"), ("AccessionNumber", 0x00080050, "SH"), ("PatientName", 0x00100010, "PN"),
    ("StudyID", 0x00200010, "SH"), ("StudyDescription", 0x00081030, "LO"), ("SeriesDescription", 0x0008103E, "LO"),
    ("InstitutionName", 0x00080080, "LO"),
]
IDENTIFIER_LENGTHS = [256, 1000, 2700, 2800, 5000, 6000, 8191, 10000, 65534]
GARBAGE_TEXT = [b"\0", b"\0\0\0\0", b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe2\x82", b"\x80",
                b"\xf4\x90\x80\x80", b"\x1b$B", b"\x1b(J\x1b", b"\\", b"\\\\\\", b"%s%n", b"\r\n", b"\x7f", b"^^^^",
                b"'; DROP TABLE instances; --", b"*", b"?", b"\xef\xbb\xbf"]
WRONG_VRS = ["SQ", "UN", "OB", "OW", "US", "UL", "FD", "AT", "UI", "PN", "DA", "UT", "XX", "ZZ", "\0\0", "  ", "sq"]
NEST_TAGS = [(0x00081140, "SQ"), (0x0040A730, "SQ"), (0x00081115, "SQ"), (0x00540016, "SQ")]
NEST_DEPTHS = [64, 200, 1000, 5000, 20000, 50000]
BAD_TRANSFER_SYNTAXES = ["", "1.2.3.4", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.4.50",
                         "1.2.840.10008.1.2", "1.2.840.10008.1.2.1" + ".1" * 40, "\0", "1.2.840.10008.1.2.4.100"]
LENGTHS_32 = [UNDEFINED, 0xFFFFFFFE, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0]
LENGTHS_16 = [0xFFFF, 0xFFFE, 0x8000, 0]


class Mutator:
    """Derives mutated files from seeds, deterministically from (campaign seed, index)."""

    # Operator (a method) -> (weight, whether it needs the element map, which deflated seeds do not have).
    OPERATORS = {
        "bit_flip": (10, False), "byte_set": (8, False), "chunk": (4, False), "truncate": (5, False),
        "truncate_at_boundary": (5, True), "bad_length": (12, True), "wrong_vr": (6, True),
        "absurd_value": (14, True), "product_overflow": (5, True), "long_identifier": (6, True),
        "text_garbage": (8, True), "deep_nesting": (5, True), "duplicate_tag": (4, True), "unsorted_tags": (3, True),
        "foreign_element": (2, True), "meta_group_length": (3, False), "meta_transfer_syntax": (3, False),
        "meta_drop": (2, False), "no_meta": (2, False), "meta_bytes": (2, False),
    }

    def __init__(self, seeds: list[Seed], campaign_seed: int, only: list[str] | None = None):
        self.seeds = seeds
        self.campaign_seed = campaign_seed
        unknown = set(only or []) - set(self.OPERATORS)
        if unknown:
            raise ValueError(f"unknown mutations: {', '.join(sorted(unknown))}")
        self.operators = [(getattr(self, name), weight, needs_map) for name, (weight, needs_map)
                          in self.OPERATORS.items() if not only or name in only]
        # Deflated seeds have no element map: usable only when some operator works without one.
        if all(needs_map for _, _, needs_map in self.operators):
            self.seeds = [s for s in seeds if s.encoding is not None]

    def rng(self, index: int, purpose: str = "mutate") -> random.Random:
        digest = hashlib.sha256(f"{self.campaign_seed}:{index}:{purpose}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def fresh_uid(self, index: int, level: int) -> str:
        return f"{UID_ROOT}.{self.campaign_seed}.{index}.{level}"

    def mutate(self, index: int) -> Mutant:
        rng = self.rng(index)
        seed = self.seeds[rng.randrange(len(self.seeds))]
        state = State(seed)
        notes = []
        # Most mutants get fresh UIDs, so that the server indexes them as new instances (sometimes new series and
        # studies, whose computed tags are then derived from the mutant) instead of answering "AlreadyStored".
        if state.enc is not None and rng.random() < 0.9:
            for level, (tag, p) in enumerate([(0x00080018, 1.0), (0x0020000E, 0.4), (0x0020000D, 0.15)]):
                if rng.random() < p:
                    uid = self.fresh_uid(index, level)
                    state.set_value(tag, "UI", uid.encode())
                    if tag == 0x00080018:
                        state.set_meta_value(0x00020003, "UI", uid.encode())
                        state.sop_instance = uid
            notes.append("fresh UIDs")
        operators = [op for op in self.operators if state.enc is not None or not op[2]]  # never empty
        rounds = 1 if rng.random() < 0.75 else rng.randint(2, 3)  # sometimes stack a few ("havoc")
        for _ in range(rounds):
            op = rng.choices([o[0] for o in operators], weights=[o[1] for o in operators])[0]
            note = op(state, rng)
            notes.append(f"{op.__name__}: {note or 'not applicable'}")
        return state.build(index, notes)

    # -- byte level ------------------------------------------------------------------------------------------

    def _region(self, state: State, rng) -> tuple[str, bytearray]:
        """Mostly the dataset; sometimes the File Meta bytes (then the meta counts as damaged)."""
        if rng.random() < 0.1 and state.magic is not None and state.meta():
            state.meta_damaged = True
            return "meta", bytearray(state.meta())
        return "dataset", bytearray(state.dataset)

    def _store(self, state: State, region: str, data: bytearray):
        if region == "meta":
            state.meta_bytes = bytes(data)
        else:
            state.dataset = bytes(data)

    def bit_flip(self, state, rng):
        region, data = self._region(state, rng)
        if not data:
            return None
        positions = sorted(rng.randrange(len(data)) for _ in range(rng.randint(1, 8)))
        for p in positions:
            data[p] ^= 1 << rng.randrange(8)
        self._store(state, region, data)
        return f"bit_flip {region}@{','.join(map(str, positions))}"

    def byte_set(self, state, rng):
        region, data = self._region(state, rng)
        if not data:
            return None
        changes = []
        for _ in range(rng.randint(1, 8)):
            p = rng.randrange(len(data))
            data[p] = rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, rng.randrange(256)])
            changes.append(f"{p}={data[p]:02X}")
        self._store(state, region, data)
        return f"byte_set {region} {' '.join(changes)}"

    def chunk(self, state, rng):
        data = bytearray(state.dataset)
        if len(data) < 2:
            return None
        start = rng.randrange(len(data))
        size = min(len(data) - start, rng.randint(1, 64))
        action = rng.choice(["delete", "duplicate", "random"])
        if action == "delete":
            del data[start:start + size]
        elif action == "duplicate":
            data[start:start] = data[start:start + size]
        else:
            data[start:start] = bytes(rng.randrange(256) for _ in range(size))
        state.dataset = bytes(data)
        return f"chunk {action} {size} bytes at {start}"

    def truncate(self, state, rng):
        meta = state.meta() if state.magic is not None else b""
        if rng.random() < 0.05 and meta:  # inside the File Meta
            state.meta_bytes, state.dataset, state.meta_damaged = meta[:rng.randrange(len(meta))], b"", True
            return f"truncate inside the meta at {len(state.meta_bytes)}"
        if not state.dataset:
            return None
        cut = rng.randrange(len(state.dataset))
        state.dataset = state.dataset[:cut]
        return f"truncate dataset at {cut}"

    # -- structure aware ----------------------------------------------------------------------------------------

    def _pick(self, elements, rng, kinds=None, depth_bias=True) -> Element | None:
        candidates = [e for e in elements if kinds is None or e.kind in kinds]
        if not candidates:
            return None
        # Half of the time prefer nested elements, which are fewer but where parsers keep more state.
        nested = [e for e in candidates if e.depth > 0]
        if depth_bias and nested and rng.random() < 0.5:
            return rng.choice(nested)
        return rng.choice(candidates)

    def truncate_at_boundary(self, state, rng):
        e = self._pick(state.elements(), rng)
        if e is None:
            return None
        where = rng.choice(["tag", "tag+2", "length", "value", "mid-value", "end-1", "end+1"])
        cut = {"tag": e.offset, "tag+2": e.offset + 2, "length": e.length_offset, "value": e.value_offset,
               "mid-value": (e.value_offset + e.end) // 2, "end-1": e.end - 1, "end+1": e.end + 1}[where]
        cut = max(0, min(cut, len(state.dataset)))
        state.dataset = state.dataset[:cut]
        return f"truncate at {where} of {e.kind} {tag_text(e.tag)} depth {e.depth} (byte {cut})"

    def bad_length(self, state, rng):
        e = self._pick(state.elements(), rng)
        if e is None:
            return None
        if e.length_size == 4:
            new = rng.choice(LENGTHS_32 + [e.length + 1, e.length - 1, e.length + 2, e.length * 2,
                                           len(state.dataset) + rng.randint(1, 4096), rng.randrange(1 << 32)])
            new &= 0xFFFFFFFF
            fmt = "I"
        else:
            new = rng.choice(LENGTHS_16 + [e.length + 1, e.length - 1, e.length + 2, rng.randrange(1 << 16)]) & 0xFFFF
            fmt = "H"
        data = bytearray(state.dataset)
        struct.pack_into(state.enc.prefix + fmt, data, e.length_offset, new)
        state.dataset = bytes(data)
        return f"length of {e.kind} {tag_text(e.tag)} depth {e.depth}: {e.length:#x} -> {new:#x}"

    def wrong_vr(self, state, rng):
        if not state.enc.explicit:
            return self.bad_length(state, rng)
        e = self._pick(state.elements(), rng, kinds={"element", "sequence"})
        if e is None:
            return None
        vr = rng.choice([v for v in WRONG_VRS if v != e.vr])
        data = bytearray(state.dataset)
        data[e.offset + 4:e.offset + 6] = vr.encode("latin-1")
        state.dataset = bytes(data)
        return f"VR of {tag_text(e.tag)} depth {e.depth}: {e.vr} -> {vr!r}"

    def _vr_for(self, state, vr, rng) -> str:
        """The VR to write a value with: its own, or (explicit VR, sometimes) a string VR, so that a number the
        dictionary says is US can arrive as a huge IS."""
        if state.enc.explicit and vr in BINARY_FORMATS and rng.random() < 0.3:
            return "IS"
        return vr

    def absurd_value(self, state, rng):
        keyword, tag, vr, values = rng.choice(ABSURD)
        value = rng.choice(values)
        vr = self._vr_for(state, vr, rng)
        if vr in BINARY_FORMATS:
            raw = encode_value(vr, value, state.enc)
            if rng.random() < 0.2:  # a value of the wrong size for its VR
                raw = rng.choice([b"", raw[:1], raw + raw[:1], raw * 2])
        else:
            raw = str(value).encode("utf-8", "surrogateescape")
        state.set_value(tag, vr, raw)
        return f"{keyword} ({vr}) = {value!r}" + (f" as {len(raw)} bytes" if vr in BINARY_FORMATS else "")

    def product_overflow(self, state, rng):
        pair = rng.choice(PRODUCTS)
        notes = []
        for tag, vr in pair:
            vr = self._vr_for(state, vr, rng)
            value = rng.choice(HUGE_IS[:10]) if vr == "IS" else 65535
            state.set_value(tag, vr, encode_value(vr, value, state.enc))
            notes.append(f"{tag_text(tag)} ({vr}) = {value}")
        return "product overflow: " + ", ".join(notes)

    def long_identifier(self, state, rng):
        keyword, tag, vr = rng.choice(IDENTIFIERS)
        n = rng.choice(IDENTIFIER_LENGTHS)
        style = rng.choice(["ascii", "digits", "utf-8", "spaces", "random", "random"])
        if style == "random":  # incompressible (PostgreSQL compresses long values before indexing them)
            alphabet = "0123456789." if vr == "UI" else "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            value = "".join(rng.choice(alphabet) for _ in range(n)).encode()
        else:
            unit = {"ascii": b"A", "digits": b"1.2", "utf-8": "\u00e9".encode(), "spaces": b" "}[style]
            value = (unit * (n // len(unit) + 1))[:n]
        state.set_value(tag, vr, value)
        return f"{keyword} of {n} bytes ({style})"

    def text_garbage(self, state, rng):
        if rng.random() < 0.4:  # an identifier Tessera indexes
            keyword, tag, vr = rng.choice(IDENTIFIERS)
            current = next((e for e in state.top_level() if e.tag == tag), None)
            base = state.dataset[current.value_offset:current.end] if current else b"X"
        else:
            texts = [e for e in state.elements() if e.kind == "element" and
                     ((e.vr or dictionary_vr(e.tag)) in TEXT_VRS) and e.tag >> 16 != 0xFFFE]
            if not texts:
                return None
            e = rng.choice(texts)
            vr = e.vr or dictionary_vr(e.tag)
            base = state.dataset[e.value_offset:e.end]
            garbage = rng.choice(GARBAGE_TEXT)
            p = rng.randint(0, len(base))
            value = pad(vr, base[:p] + garbage + base[p:])
            elements = state.elements()
            i = next(i for i, x in enumerate(elements) if x.offset == e.offset)
            state.splice(e.offset, e.end, encode_element(e.tag, e.vr, value, state.enc), elements, elements[i].parent)
            return f"garbage {garbage!r} in {tag_text(e.tag)} depth {e.depth}"
        garbage = rng.choice(GARBAGE_TEXT)
        p = rng.randint(0, len(base))
        state.set_value(tag, vr, base[:p] + garbage + base[p:])
        return f"garbage {garbage!r} in {keyword}"

    def deep_nesting(self, state, rng):
        tag, vr = rng.choice(NEST_TAGS)
        depth = rng.choice(NEST_DEPTHS)
        style = rng.choice(["undefined", "defined", "unterminated", "items only"])
        enc = state.enc
        if style == "defined":  # headers from the inside out, each length counting what it encloses
            innermost = encode_element(tag, vr, b"", enc)
            headers, enclosed = [], len(innermost)
            for _ in range(depth):
                headers.append(encode_element(ITEM, "", b"", enc, enclosed))
                enclosed += len(headers[-1])
                headers.append(encode_element(tag, vr, b"", enc, enclosed))
                enclosed += len(headers[-1])
            blob = b"".join(reversed(headers)) + innermost
        else:
            open_seq = encode_element(tag, vr, b"", enc, UNDEFINED)
            open_item = encode_element(ITEM, "", b"", enc, UNDEFINED)
            close_item = encode_element(ITEM_END, "", b"", enc, 0)
            close_seq = encode_element(SEQUENCE_END, "", b"", enc, 0)
            if style == "items only":  # one sequence holding items nested in items (not valid DICOM)
                blob = open_seq + open_item * depth + close_item * depth + close_seq
            else:
                blob = (open_seq + open_item) * depth
                if style == "undefined":
                    blob += (close_item + close_seq) * depth
        top = state.top_level()
        at = next((e.offset for e in top if e.tag > tag), top[-1].end if top else 0)
        state.splice(at, at, blob)
        return f"nested {tag_text(tag)} {depth} deep ({style})"

    def duplicate_tag(self, state, rng):
        top = [e for e in state.top_level() if e.tag != PIXEL_DATA]
        if not top:
            return None
        e = rng.choice(top)
        copy = state.dataset[e.offset:e.end]
        if e.kind == "element" and rng.random() < 0.5:  # the same tag with another value
            vr = e.vr or dictionary_vr(e.tag)
            value = pad(vr, b"DUPLICATE") if vr in TEXT_VRS else state.dataset[e.value_offset:e.end][::-1]
            copy = encode_element(e.tag, e.vr, value, state.enc)
        where = rng.choice(["after", "end"])
        at = e.end if where == "after" else len(state.dataset)
        state.splice(at, at, copy)
        return f"duplicate {tag_text(e.tag)} ({where})"

    def unsorted_tags(self, state, rng):
        top = state.top_level()
        if len(top) < 2:
            return None
        i = rng.randrange(len(top) - 1)
        a, b = top[i], top[i + 1]
        data = state.dataset
        state.dataset = data[:a.offset] + data[b.offset:b.end] + data[a.offset:a.end] + data[b.end:]
        return f"swap {tag_text(a.tag)} and {tag_text(b.tag)}"

    def foreign_element(self, state, rng):
        """Splices a top-level element of another seed (possibly of another encoding) in tag order or not."""
        other = rng.choice([s for s in self.seeds if s.top_level] or [state.seed])
        if not other.top_level:
            return None
        e = rng.choice(other.top_level)
        blob = other.dataset[e.offset:e.end]
        top = state.top_level()
        at = rng.choice([next((t.offset for t in top if t.tag > e.tag), len(state.dataset)), 0, len(state.dataset)])
        state.splice(at, at, blob)
        return f"foreign {tag_text(e.tag)} from {other.name} at {at}"

    # -- File Meta -------------------------------------------------------------------------------------------

    def meta_group_length(self, state, rng):
        meta = bytearray(state.meta())
        if len(meta) < 12:
            return None
        actual = struct.unpack_from("<I", meta, 8)[0]
        new = rng.choice([0, 1, 2, actual - 2, actual + 2, actual + 100, actual * 2, 0x7FFFFFFF, UNDEFINED]) & UNDEFINED
        struct.pack_into("<I", meta, 8, new)
        state.meta_bytes, state.meta_damaged = bytes(meta), True
        return f"meta group length {actual} -> {new}"

    def meta_transfer_syntax(self, state, rng):
        value = rng.choice(BAD_TRANSFER_SYNTAXES)
        state.set_meta_value(0x00020010, "UI", value.encode("latin-1"))
        state.meta_bytes, state.meta_damaged = None, True
        return f"meta TransferSyntaxUID = {value!r}"

    def meta_drop(self, state, rng):
        tag = rng.choice([0x00020010, 0x00020010, 0x00020002, 0x00020003, 0x00020001])
        state.meta_elements = [e for e in state.meta_elements if e[0] != tag]
        if rng.random() < 0.5:  # and a group length that still counts it
            meta = bytearray(encode_meta(state.meta_elements))
            struct.pack_into("<I", meta, 8, struct.unpack_from("<I", meta, 8)[0] + 30)
            state.meta_bytes = bytes(meta)
        state.meta_damaged = True
        return f"meta without {tag_text(tag)}" + (" (stale group length)" if state.meta_bytes else "")

    def no_meta(self, state, rng):
        style = rng.choice(["bare dataset", "preamble, no DICM", "DICM, no meta elements"])
        state.meta_damaged = True
        if style == "bare dataset":
            state.magic = None
        elif style == "preamble, no DICM":
            state.magic, state.meta_bytes = b"", b""
        else:
            state.meta_bytes = b""
        return f"no meta: {style}"

    def meta_bytes(self, state, rng):
        meta = bytearray(state.meta())
        if not meta:
            return None
        for _ in range(rng.randint(1, 4)):
            meta[rng.randrange(len(meta))] ^= 1 << rng.randrange(8)
        state.meta_bytes, state.meta_damaged = bytes(meta), True
        return "bit flips in the meta"
