#!/usr/bin/env python3
"""Hostile inputs and misbehaving peers for Tessera's integration tests.

The Swift tests run this with the project venv (`.tools/venv/bin/python`: pydicom 3, pynetdicom) as a subprocess.
Every subcommand prints exactly one JSON object (one line) on stdout and exits 0: a refused association, an error
status or a connection the server closed is a *result*, reported in that object. Only a failure of the tool itself
(bad arguments, unreadable input, a bug) exits non-zero, with {"error": "..."} on stdout and a traceback on stderr.
Times are seconds (floats, monotonic clock). Every network operation has a timeout (--timeout).

Generators. The DICOM ones build a CT Image (8x8, 16 bits, MONOCHROME2) in Explicit VR Little Endian with a Part-10
meta header, with random UIDs, or UIDs derived from --uids-from SEED (same seed, same UIDs). They print
    {"out", "bytes", "sop_instance_uid", "series_instance_uid", "study_instance_uid", "patient_id", ...options}
  nested --depth N --out F [--defined-length]    N nested ContentSequence (0040,A730) elements, one item each;
                                                 undefined lengths unless --defined-length. Built iteratively.
  overflow --out F [--value 2147483647]          ImagesInAcquisition, NumberOfTemporalPositions, CardiacNumberOf-
                                                 Images, NumberOfFrames = value (one 8x8 frame of pixel data);
                                                 NumberOfSlices, NumberOfTimeSlices (US) = 65535
  longid --field PatientID|StudyInstanceUID|SOPInstanceUID --length N --out F
  latin1 --patient-id-hex HEX --charset "ISO_IR 100"|"" --out F    PatientID = those raw bytes; "" = no (0008,0005)
  path-names --out F                             PatientID "..", PatientName "../../..", Modality "..",
                                                 SeriesDescription "../x", AccessionNumber "..",
                                                 StudyDescription "/etc/passwd"
  big --out F --mb N                             about N MiB of 16-bit pixel data (4096 columns; 1 frame up to
                                                 511 MiB, else 4096-row frames), streamed to disk;
                                                 adds {"frames", "rows", "columns", "pixel_bytes"}
  truncated --in F --bytes N --out F             the first N bytes of F: {"out", "bytes", "source_bytes"}
ZIP generators print {"out", "bytes", "entries": [{"name", ...}]}:
  zipbomb --out F --inflated-mb N                one deflated entry "zeros.dcm" of N MiB of zeros
  zip64lie --out F                               hand-built, 170 bytes: entry "x.dcm" (20 bytes, deflated) whose
                                                 ZIP64 extra field declares 2^62 bytes; adds
                                                 {"python_zipfile_file_size"} (what Python's zipfile believes)
  nestedzip --out F --dicom F [--inner-dicom F]  "a.dcm" and "inner.zip" holding "inner/b.dcm"
  traversalzip --out F --dicom F [--name N]      one entry named "../../x.dcm" holding the DICOM file
  manyzip --out F --entries N --dicom F          N empty entries, then the DICOM file as "last.dcm"

DICOM peers (--host 127.0.0.1 by default, --calling HOSTILE):
  query --port P --aet AET --identifier garbage|overlong|open-sequence|no-level|bad-level
      One Study Root C-FIND whose identifier is those raw bytes. {"association", "statuses": [int...], "aborted",
       "released"}: the statuses answered, whether the association was aborted, else whether it still releases.
  store --port P --aet AET --files F... [--timeout 60]
      One association, one C-STORE per file; each file's dataset bytes are sent exactly as they are on disk.
      {"association": "accepted"|"rejected"|"aborted"|"failed", "reject": {"result", "source", "reason"} (if
       rejected), "statuses": [int|null per file], "errors": [str|null per file], "file_seconds": [...],
       "end": "released"|"aborted" (if accepted), "error" (if failed), "seconds"}
  hold-associations --port P --aet AET --count N --seconds S [--timeout 30]
      N associations, one C-ECHO each, then idle until S seconds passed or the server ended them.
      {"accepted", "rejected", "aborted_at_association", "failed", "rejects": [{"result", "source", "reason"}],
       "echo_statuses": [...], "aborted_by_server_after": [seconds after establishment], "still_open", "seconds"}
  silent-tcp --port P --count N --seconds S [--source ADDRESS]
      N TCP connections that send nothing (from a local ADDRESS such as 127.0.0.2).
      {"opened", "connect_failed", "closed_by_server", "closed_after": [...], "still_open",
       "received_before_close": {PDU name: count}, "seconds"}
  reset-tcp --port P --count N
      N TCP connections, each reset (RST) as soon as it is made.
      {"reset", "connect_failed", "seconds"}
  trickle-association --port P --interval S --max-seconds T [--chunk 1] [--aet TESSERA]
      A valid A-ASSOCIATE-RQ (Verification), --chunk bytes every --interval seconds.
  trickle-store --port P --aet AET --file F --interval S --max-seconds T [--chunk 1]
      A normal association (raw upper layer, no pynetdicom), then the C-STORE command and dataset P-DATA PDUs,
      --chunk bytes every --interval seconds; "status" is the C-STORE response status if one came.
      Both print {"connected": true, "closed_by_server", "closed_after", "close_error", "send_stalled",
       "bytes_sent", "total_bytes", "completed", "received": [{"pdu": "A-ABORT", "source", "reason"}, ...],
       "seconds"}; trickle-store adds {"association", "status"}. "closed_after" counts from the first trickled
       byte and is when this tool noticed: a server that drops a connection with unread bytes resets it, and a
       server that stops reading without closing is noticed at the next byte.

HTTP peers:
  half-http --port P --count N --seconds S [--head "POST /instances HTTP/1.1\r\nHost: x\r\nContent-"]
      N connections that send a partial request head and then nothing; sampled every 0.5 s.
      {"opened", "connect_failed", "closed_by_server", "closed_after": [...], "still_open", "max_open",
       "responses": {first line of what the server sent before closing, "" for nothing: count},
       "samples": [{"t", "open"} whenever the number of open connections changed], "seconds"}
  upload --url URL --file F [--chunked] [--gzip] [--content-type T] [--timeout 300]
      POST streamed from disk (Content-Length, or chunked); --gzip adds Content-Encoding: gzip. Basic
      authentication from the URL (http://user:password@host:port/instances).
      {"status": int|null, "body": JSON|text|null, "seconds", "sent_bytes", "error": str|null}; an early answer
      (e.g. 413 while the body is still being sent) is read and reported with "error": "send: ...".
  concurrent-uploads --url URL --file F --count N [--chunked] [--gzip]
      N uploads of the same file started together.
      {"count", "statuses": [...], "seconds": [...], "errors": [...], "bodies": [...], "total_seconds"}
"""
import argparse
import base64
import gzip
import http.client
import io
import json
import os
import resource
import secrets
import select
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zipfile
import zlib

from pydicom import config as pydicom_config
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

# Hostile values are the point: never let pydicom refuse or "fix" them.
pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE

MIB = 1024 * 1024
now = time.monotonic


def elapsed(since):
    return round(now() - since, 3)


# ----------------------------------------------------------------------------------------------------------------
# DICOM encoding helpers (Explicit VR Little Endian)
# ----------------------------------------------------------------------------------------------------------------

UNDEFINED_LENGTH = 0xFFFFFFFF
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
ITEM_TAG = (0xFFFE, 0xE000)
ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
SEQUENCE_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def element_header(group, number, vr, length):
    """Header of one Explicit VR Little Endian element (12 bytes for the long VRs, else 8)."""
    if vr in LONG_VRS:
        return struct.pack("<HH2sHI", group, number, vr, 0, length)
    return struct.pack("<HH2sH", group, number, vr, length)


def element(group, number, vr, value):
    """One Explicit VR Little Endian element, its value padded to an even length."""
    if len(value) % 2:
        value += b"\0" if vr == b"UI" else b" "
    return element_header(group, number, vr, len(value)) + value


def item_header(length):
    return struct.pack("<HHI", *ITEM_TAG, length)


class UIDs:
    """Unique UIDs: random, or derived from a seed (the same seed and role give the same UID on every run)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, role):
        return generate_uid(entropy_srcs=[self.seed, role]) if self.seed is not None else generate_uid()


def pixel_pattern(length):
    """`length` bytes of a repeating 0..255 ramp (not zeros, so that nothing can hide it by compressing)."""
    return (bytes(range(256)) * (length // 256 + 1))[:length]


def base_dataset(uids, rows=8, columns=8, pixels=True):
    """A small valid CT Image (16-bit MONOCHROME2) with a Part-10 meta header, in Explicit VR Little Endian.

    Its highest tag below (7FE0,0010) PixelData is in group 0028, so the byte-level generators may append elements
    of groups 0029..7FDF after it. `pixels=False` leaves PixelData out (the caller writes it)."""
    ds = Dataset()
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = uids("instance")
    ds.StudyDate = "20240102"
    ds.SeriesDate = "20240102"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "HOSTILE1"
    ds.Modality = "CT"
    ds.Manufacturer = "Tessera hostile.py"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "hostile input"
    ds.SeriesDescription = "hostile series"
    ds.PatientName = "Hostile^Test"
    ds.PatientID = "HOSTILE"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.SliceThickness = "1"
    ds.StudyInstanceUID = uids("study")
    ds.SeriesInstanceUID = uids("series")
    ds.StudyID = "1"
    ds.SeriesNumber = "1"
    ds.InstanceNumber = "1"
    ds.ImagePositionPatient = ["0", "0", "0"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.FrameOfReferenceUID = uids("frame-of-reference")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.PixelSpacing = ["1", "1"]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    if pixels:
        ds.PixelData = pixel_pattern(rows * columns * 2)
        ds["PixelData"].VR = "OW"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def encode_file(ds):
    """The Part-10 bytes pydicom writes for `ds` (preamble, meta header, dataset)."""
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def describe_instance(path, ds, **extra):
    """The JSON answer of a DICOM generator."""
    answer = {"out": path, "bytes": os.path.getsize(path), "sop_instance_uid": str(ds.SOPInstanceUID),
              "series_instance_uid": str(ds.SeriesInstanceUID), "study_instance_uid": str(ds.StudyInstanceUID)}
    patient_id = ds.PatientID
    answer["patient_id"] = patient_id.decode("latin-1") if isinstance(patient_id, bytes) else str(patient_id)
    answer.update(extra)
    return answer


def read_meta(path):
    """(meta elements {(group, element): raw value bytes}, offset of the dataset) of a Part-10 file, read by hand
    so that nothing after the meta header is parsed. Raises ValueError if there is no readable meta header."""
    with open(path, "rb") as f:
        head = f.read(132)
        if len(head) < 132 or head[128:132] != b"DICM":
            raise ValueError("%s: no DICM prefix" % path)
        meta, offset = {}, 132
        while True:
            header = f.read(8)
            if len(header) < 8:
                break
            group, number, vr = struct.unpack("<HH2s", header[:6])
            if group != 2:
                break
            if vr in LONG_VRS:
                extended = f.read(4)
                if len(extended) < 4:
                    raise ValueError("%s: truncated meta header" % path)
                length = struct.unpack("<I", extended)[0]
                size = 12 + length
            else:
                length = struct.unpack("<H", header[6:8])[0]
                size = 8 + length
            value = f.read(length)
            if len(value) < length:
                raise ValueError("%s: truncated meta header" % path)
            meta[(group, number)] = value
            offset += size
    return meta, offset


def meta_uid(meta, number):
    return meta.get((2, number), b"").rstrip(b"\0 ").decode("ascii", "replace")


# ----------------------------------------------------------------------------------------------------------------
# Generators: DICOM files
# ----------------------------------------------------------------------------------------------------------------

def nested_sequence(depth, defined_length):
    """Bytes of `depth` nested ContentSequence (0040,A730) elements, each with one item holding the next one; the
    innermost item holds TextValue "leaf". Built iteratively: no recursion in Python, however deep."""
    leaf = element(0x0040, 0xA160, b"UT", b"leaf")
    if not defined_length:
        opening = element_header(0x0040, 0xA730, b"SQ", UNDEFINED_LENGTH) + item_header(UNDEFINED_LENGTH)
        return opening * depth + leaf + (ITEM_END + SEQUENCE_END) * depth
    # Lengths from the inside out: item k holds sequence k+1 (12-byte header + 8-byte item header + content).
    item_lengths = [0] * depth
    content = len(leaf)
    for level in reversed(range(depth)):
        item_lengths[level] = content
        content = 12 + 8 + content
    if content > UNDEFINED_LENGTH - 1:
        raise ValueError("too deep for 32-bit defined lengths")
    parts = []
    for length in item_lengths:
        parts.append(element_header(0x0040, 0xA730, b"SQ", 8 + length) + item_header(length))
    parts.append(leaf)
    return b"".join(parts)


def generate_nested(args):
    if args.depth < 1:
        raise ValueError("--depth must be at least 1")
    ds = base_dataset(UIDs(args.uids_from), pixels=False)
    # The sequence (0040,A730) sorts after every element of the base dataset and before PixelData.
    data = encode_file(ds) + nested_sequence(args.depth, args.defined_length) \
        + element(0x7FE0, 0x0010, b"OW", pixel_pattern(8 * 8 * 2))
    with open(args.out, "wb") as f:
        f.write(data)
    return describe_instance(args.out, ds, depth=args.depth, defined_length=args.defined_length)


def generate_overflow(args):
    """Counters that Orthanc-style servers multiply or allocate by, all at or near their maximum."""
    ds = base_dataset(UIDs(args.uids_from))
    ds.NumberOfFrames = args.value                      # (0028,0008) IS, with a single 8x8 frame of pixel data
    ds.ImagesInAcquisition = args.value                 # (0020,1002) IS
    ds.NumberOfTemporalPositions = args.value           # (0020,0105) IS
    ds.CardiacNumberOfImages = args.value               # (0018,1090) IS
    ds.NumberOfSlices = 65535                           # (0054,0081) US: its maximum
    ds.NumberOfTimeSlices = 65535                       # (0054,0101) US: its maximum
    ds.save_as(args.out, enforce_file_format=True)
    return describe_instance(args.out, ds, value=args.value)


def long_uid(length):
    """A syntactically valid UID of exactly `length` characters: "2.25." then random digits (no leading zero)."""
    if length <= 5:
        return "1" * length
    digits = str(secrets.randbits(128))
    digits = (digits + "1" * length)[:length - 5]
    return "2.25." + digits


def generate_longid(args):
    ds = base_dataset(UIDs(args.uids_from))
    if args.field == "PatientID":
        value = ("LONGID-%s-" % secrets.token_hex(4).upper())
        ds.PatientID = (value + "X" * args.length)[:args.length]
    elif args.field == "StudyInstanceUID":
        ds.StudyInstanceUID = long_uid(args.length)
    else:
        ds.SOPInstanceUID = long_uid(args.length)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(args.out, enforce_file_format=True)
    return describe_instance(args.out, ds, field=args.field, length=args.length)


def generate_latin1(args):
    ds = base_dataset(UIDs(args.uids_from))
    ds.PatientID = bytes.fromhex(args.patient_id_hex)   # raw bytes, written as they are
    if args.charset:
        ds.SpecificCharacterSet = args.charset
    ds.save_as(args.out, enforce_file_format=True)
    return describe_instance(args.out, ds, patient_id_hex=args.patient_id_hex, charset=args.charset)


def generate_path_names(args):
    """Values a careless server might turn into file or folder names (archives, media, storage)."""
    ds = base_dataset(UIDs(args.uids_from))
    ds.PatientID = ".."
    ds.PatientName = "../../.."
    ds.Modality = ".."
    ds.SeriesDescription = "../x"
    ds.AccessionNumber = ".."
    ds.StudyDescription = "/etc/passwd"
    ds.save_as(args.out, enforce_file_format=True)
    return describe_instance(args.out, ds)


def generate_truncated(args):
    with open(args.input, "rb") as source, open(args.out, "wb") as target:
        remaining = args.bytes
        while remaining > 0:
            block = source.read(min(remaining, MIB))
            if not block:
                break
            target.write(block)
            remaining -= len(block)
    return {"out": args.out, "bytes": os.path.getsize(args.out), "source_bytes": os.path.getsize(args.input)}


def big_geometry(mib):
    """(frames, rows, columns) of 16-bit pixel data of about `mib` MiB: 4096 columns, rows up to 65535 in one
    frame, else frames of 4096 rows (rounds up to a multiple of 32 MiB)."""
    columns = 4096
    total_rows = max(1, mib * MIB // (2 * columns))
    if total_rows <= 65535:
        return 1, total_rows, columns
    rows = 4096
    return -(-total_rows // rows), rows, columns


def generate_big(args):
    frames, rows, columns = big_geometry(args.mb)
    length = frames * rows * columns * 2
    if length >= UNDEFINED_LENGTH:
        raise ValueError("pixel data of %d bytes does not fit a 32-bit length" % length)
    ds = base_dataset(UIDs(args.uids_from), rows=rows, columns=columns, pixels=False)
    if frames > 1:
        ds.NumberOfFrames = str(frames)
    block = pixel_pattern(MIB)                          # the only large buffer: 1 MiB, written again and again
    with open(args.out, "wb") as f:
        dcmwrite(f, ds, enforce_file_format=True)
        f.write(element_header(0x7FE0, 0x0010, b"OW", length))
        remaining = length
        while remaining:
            n = min(remaining, len(block))
            f.write(block if n == len(block) else block[:n])
            remaining -= n
    return describe_instance(args.out, ds, frames=frames, rows=rows, columns=columns, pixel_bytes=length)


# ----------------------------------------------------------------------------------------------------------------
# Generators: ZIP files
# ----------------------------------------------------------------------------------------------------------------

def describe_zip(path, **extra):
    answer = {"out": path, "bytes": os.path.getsize(path)}
    answer.update(extra)
    return answer


def generate_zipbomb(args):
    size = args.inflated_mb * MIB
    zeros = bytes(MIB)
    info = zipfile.ZipInfo("zeros.dcm", date_time=(2024, 1, 2, 3, 4, 6))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(args.out, "w", compresslevel=9) as archive:
        with archive.open(info, "w", force_zip64=size >= 0xFFFFFFFF) as entry:
            for _ in range(args.inflated_mb):
                entry.write(zeros)
    return describe_zip(args.out, entries=[{"name": info.filename, "uncompressed": size}])


def generate_zip64lie(args):
    """A hand-built ZIP of one short deflated entry whose local and central headers say "see ZIP64" (sizes
    0xFFFFFFFF) and whose ZIP64 extra field declares an uncompressed size of 2^62 (the real size is 20 bytes)."""
    name = b"x.dcm"
    content = b"hostile zip64 entry\n"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = compressor.compress(content) + compressor.flush()
    crc = zlib.crc32(content)
    declared = 1 << 62
    extra = struct.pack("<HHQQ", 0x0001, 16, declared, len(compressed))  # ZIP64: uncompressed, then compressed
    dos_time, dos_date = 0, (2024 - 1980) << 9 | 1 << 5 | 2
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, dos_time, dos_date, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(name), len(extra)) + name + extra
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, dos_time, dos_date, crc, 0xFFFFFFFF,
                          0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0) + name + extra
    central_offset = len(local) + len(compressed)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), central_offset, 0)
    with open(args.out, "wb") as f:
        f.write(local + compressed + central + end)
    # What a standard reader makes of it (Python's zipfile trusts the declared size).
    try:
        with zipfile.ZipFile(args.out) as archive:
            python_size = archive.infolist()[0].file_size
    except Exception as error:                           # noqa: BLE001 - reported, not fatal
        python_size = "error: %s" % error
    return describe_zip(args.out, entries=[{"name": name.decode(), "uncompressed": len(content),
                                            "declared_uncompressed": declared}],
                        python_zipfile_file_size=python_size)


def generate_nestedzip(args):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(args.inner_dicom or args.dicom, "inner/b.dcm")
    with zipfile.ZipFile(args.out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(args.dicom, "a.dcm")
        archive.writestr("inner.zip", inner.getvalue())
    return describe_zip(args.out, entries=[{"name": "a.dcm"}, {"name": "inner.zip", "contains": ["inner/b.dcm"]}])


def generate_manyzip(args):
    with zipfile.ZipFile(args.out, "w", zipfile.ZIP_STORED) as archive:
        for index in range(args.entries):
            archive.writestr("empty/%06d" % index, b"")
        archive.write(args.dicom, "last.dcm")
    return describe_zip(args.out, entries=[{"name": "empty/*", "count": args.entries}, {"name": "last.dcm"}])


def generate_traversalzip(args):
    info = zipfile.ZipInfo(args.name, date_time=(2024, 1, 2, 3, 4, 6))   # zipfile keeps ".." as given
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(args.dicom, "rb") as f:
        data = f.read()
    with zipfile.ZipFile(args.out, "w") as archive:
        archive.writestr(info, data)
    return describe_zip(args.out, entries=[{"name": args.name, "uncompressed": len(data)}])


# ----------------------------------------------------------------------------------------------------------------
# Raw DICOM upper layer (PS3.8): just enough to associate and send P-DATA byte by byte
# ----------------------------------------------------------------------------------------------------------------

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.10.1427.1"   # any syntactically valid UID
PDU_NAMES = {1: "A-ASSOCIATE-RQ", 2: "A-ASSOCIATE-AC", 3: "A-ASSOCIATE-RJ", 4: "P-DATA-TF", 5: "A-RELEASE-RQ",
             6: "A-RELEASE-RP", 7: "A-ABORT"}


def ul_item(item_type, payload):
    return struct.pack(">BBH", item_type, 0, len(payload)) + payload


def ul_uid(uid):
    return uid.encode("ascii")


def associate_rq(called, calling, contexts, max_pdu=16384):
    """A-ASSOCIATE-RQ PDU. `contexts`: [(presentation context ID, abstract syntax, [transfer syntaxes])]."""
    body = struct.pack(">HH", 1, 0) + called.encode()[:16].ljust(16) + calling.encode()[:16].ljust(16) + bytes(32)
    body += ul_item(0x10, ul_uid(APPLICATION_CONTEXT))
    for context_id, abstract_syntax, transfer_syntaxes in contexts:
        payload = struct.pack(">BBBB", context_id, 0, 0, 0) + ul_item(0x30, ul_uid(abstract_syntax))
        for syntax in transfer_syntaxes:
            payload += ul_item(0x40, ul_uid(syntax))
        body += ul_item(0x20, payload)
    user = ul_item(0x51, struct.pack(">I", max_pdu)) + ul_item(0x52, ul_uid(IMPLEMENTATION_CLASS_UID)) \
        + ul_item(0x55, b"HOSTILE_PY")
    body += ul_item(0x50, user)
    return struct.pack(">BBI", 1, 0, len(body)) + body


def release_rq():
    return struct.pack(">BBIxxxx", 5, 0, 4)


def p_data(context_id, data, is_command, last):
    """One P-DATA-TF PDU holding one PDV."""
    control = (1 if is_command else 0) | (2 if last else 0)
    pdv = struct.pack(">IBB", len(data) + 2, context_id, control) + data
    return struct.pack(">BBI", 4, 0, len(pdv)) + pdv


def implicit_element(group, number, value):
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", group, number, len(value)) + value


def c_store_rq(message_id, sop_class, sop_instance):
    """C-STORE-RQ command set (Implicit VR Little Endian, with its group length)."""
    fields = [(0x0002, ul_uid(sop_class)), (0x0100, struct.pack("<H", 0x0001)), (0x0110, struct.pack("<H", message_id)),
              (0x0700, struct.pack("<H", 0)), (0x0800, struct.pack("<H", 0x0000)), (0x1000, ul_uid(sop_instance))]
    body = b"".join(implicit_element(0, number, value) for number, value in fields)
    return implicit_element(0, 0, struct.pack("<I", len(body))) + body


def parse_command(pdv_data):
    """{element number: raw value} of a command set (group 0000, Implicit VR Little Endian)."""
    fields, i = {}, 0
    while i + 8 <= len(pdv_data):
        _, number, length = struct.unpack_from("<HHI", pdv_data, i)
        fields[number] = pdv_data[i + 8:i + 8 + length]
        i += 8 + length
    return fields


def describe_pdu(pdu_type, body):
    """A JSON-friendly description of one received PDU."""
    described = {"pdu": PDU_NAMES.get(pdu_type, "0x%02x" % pdu_type), "length": len(body)}
    if pdu_type == 3 and len(body) >= 4:
        described.update(result=body[1], source=body[2], reason=body[3])
    elif pdu_type == 7 and len(body) >= 4:
        described.update(source=body[2], reason=body[3])
    elif pdu_type == 2:
        described.update(parse_associate_ac(body))
    elif pdu_type == 4 and len(body) >= 6:
        _, context_id, control = struct.unpack_from(">IBB", body)
        described.update(context_id=context_id, command=bool(control & 1), last=bool(control & 2))
        if control & 1:
            status = parse_command(body[6:]).get(0x0900)
            if status is not None and len(status) == 2:
                described["status"] = struct.unpack("<H", status)[0]
    return described


def parse_associate_ac(body):
    """{"contexts": {id: result}, "max_pdu": n} of an A-ASSOCIATE-AC body (after the 6-byte PDU header)."""
    contexts, max_pdu, i = {}, None, 68
    while i + 4 <= len(body):
        item_type, _, length = struct.unpack_from(">BBH", body, i)
        payload = body[i + 4:i + 4 + length]
        if item_type == 0x21 and len(payload) >= 4:
            contexts[str(payload[0])] = payload[2]
        elif item_type == 0x50:
            j = 0
            while j + 4 <= len(payload):
                sub_type, _, sub_length = struct.unpack_from(">BBH", payload, j)
                if sub_type == 0x51 and sub_length == 4:
                    max_pdu = struct.unpack_from(">I", payload, j + 4)[0]
                j += 4 + sub_length
        i += 4 + length
    return {"contexts": contexts, "max_pdu": max_pdu}


class RawPeer:
    """A TCP connection that collects whatever the server sends, PDU by PDU, and notices when it closes."""

    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.received = []          # descriptions of the complete PDUs received
        self.closed = False
        self.close_error = None
        self.stalled = False        # a send timed out: the server stopped reading without closing

    def _take_pdus(self):
        while len(self.buffer) >= 6:
            pdu_type, _, length = struct.unpack_from(">BBI", self.buffer)
            if len(self.buffer) < 6 + length:
                return
            self.received.append(describe_pdu(pdu_type, self.buffer[6:6 + length]))
            self.buffer = self.buffer[6 + length:]

    def poll(self, wait):
        """Read what arrived within `wait` seconds; True once the server closed the connection."""
        if self.closed:
            return True
        deadline = now() + wait
        while True:
            remaining = max(0.0, deadline - now())
            readable, _, _ = select.select([self.sock], [], [], remaining)
            if not readable:
                return False
            try:
                data = self.sock.recv(65536)
            except OSError as error:                     # ECONNRESET: closed
                self.close_error = type(error).__name__
                data = b""
            if not data:
                self.closed = True
                self._take_pdus()
                return True
            self.buffer += data
            self._take_pdus()
            if now() >= deadline:
                return False

    def send(self, data):
        """Send bytes; False if the server closed the connection or stopped reading (`stalled`)."""
        try:
            self.sock.sendall(data)
            return True
        except TimeoutError:
            self.stalled = True
            return False
        except OSError as error:
            self.closed = True
            self.close_error = type(error).__name__
            return False

    def wait_for_pdu(self, count, timeout):
        """Wait until `count` PDUs were received in all, the connection closed, or `timeout` passed."""
        deadline = now() + timeout
        while len(self.received) < count and not self.closed and now() < deadline:
            self.poll(min(0.2, max(0.0, deadline - now())))
        return len(self.received) >= count

    def close(self):
        self.sock.close()


def trickle(peer, data, interval, chunk, deadline):
    """Send `data` `chunk` bytes every `interval` seconds until all is sent, the server closes, or `deadline`.
    Returns the number of bytes sent."""
    sent = 0
    while sent < len(data) and now() < deadline:
        if not peer.send(data[sent:sent + chunk]):
            break
        sent = min(len(data), sent + chunk)
        if peer.poll(min(interval, max(0.0, deadline - now()))):
            break
    return sent


def raise_nofile(needed):
    """Raise the soft RLIMIT_NOFILE so that `needed` more sockets fit (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


# ----------------------------------------------------------------------------------------------------------------
# DICOM peers
# ----------------------------------------------------------------------------------------------------------------

def pynetdicom_ae(timeout, calling):
    from pynetdicom import AE, _config
    # Send a file's dataset bytes as they are (read from disk in PDU-sized chunks, never decoded or re-encoded):
    # pydicom reads only the meta header (pynetdicom.dsutils.split_dataset) and the presentation context must then
    # match the file's transfer syntax exactly.
    _config.STORE_SEND_CHUNKED_DATASET = True
    # Let over-long or malformed UIDs (e.g. a 200-character SOP Instance UID) reach the command set unchecked.
    _config.VALIDATORS["UI"] = lambda value: (True, "")
    ae = AE(ae_title=calling)
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    ae.connection_timeout = timeout
    return ae


def reject_of(assoc):
    primitive = assoc.acceptor.primitive
    if primitive is None:
        return None
    return {"result": primitive.result, "source": primitive.result_source, "reason": primitive.diagnostic}


def associate(ae, host, port, called):
    """(association, whether the TCP connection was made): pynetdicom reports a refused connection as an abort."""
    from pynetdicom import evt
    connected = threading.Event()
    assoc = ae.associate(host, port, ae_title=called,
                         evt_handlers=[(evt.EVT_CONN_OPEN, lambda event: connected.set())])
    return assoc, connected.is_set()


def still_established(assoc, grace=0.0):
    """Whether the association is still up. Right after a C-STORE that got no answer because the server aborted,
    pynetdicom's reactor may not have processed the A-ABORT yet: `grace` seconds give it time to notice."""
    deadline = now() + grace
    while assoc.is_established and not assoc.is_aborted:
        if assoc.acse.is_aborted():                      # an A-ABORT / A-P-ABORT waits in the queue
            return False
        if now() >= deadline:
            return True
        time.sleep(0.01)
    return False


def release(assoc):
    """Releases the association unless the server ended it. An A-ABORT that crosses our A-RELEASE-RQ can be taken by
    pynetdicom's reactor before the release waits for it, which then waits its whole ACSE timeout: a release that
    gets no answer within 5 seconds ends as aborted."""
    if still_established(assoc):
        assoc.acse_timeout = min(assoc.acse_timeout, 5)
        assoc.release()


def association_outcome(assoc, connected):
    if not connected:
        return "failed"
    if assoc.is_established:
        return "accepted"
    if assoc.is_rejected:
        return "rejected"
    if assoc.is_aborted:
        return "aborted"
    return "failed"


def peer_store(args):
    """One association, one C-STORE per file, the files' dataset bytes sent unchanged."""
    started = now()
    ae = pynetdicom_ae(args.timeout, args.calling)
    files = []
    for path in args.files:
        try:
            meta, _ = read_meta(path)
            sop_class, syntax = meta_uid(meta, 0x0002), meta_uid(meta, 0x0010)
            if not (sop_class and syntax and meta_uid(meta, 0x0003)):
                raise ValueError("%s: the meta header lacks (0002,0002), (0002,0003) or (0002,0010)" % path)
            files.append((path, sop_class, syntax, None))
        except (OSError, ValueError) as error:
            files.append((path, None, None, str(error)))
    contexts = sorted({(sop_class, syntax) for _, sop_class, syntax, _ in files if sop_class and syntax})
    if len(contexts) > 128:
        raise ValueError("more than 128 (SOP class, transfer syntax) pairs")
    for sop_class, syntax in contexts:
        ae.add_requested_context(sop_class, [syntax])
    answer = {"association": "failed", "statuses": [None] * len(files), "errors": [None] * len(files),
              "file_seconds": [None] * len(files)}
    if not contexts:
        answer.update(error="no file has a readable meta header", seconds=elapsed(started))
        return answer
    try:
        assoc, connected = associate(ae, args.host, args.port, args.aet)
    except Exception as error:                           # noqa: BLE001 - pynetdicom raises on some bad input
        answer.update(error=str(error), seconds=elapsed(started))
        return answer
    answer["association"] = association_outcome(assoc, connected)
    if not connected:
        answer["error"] = "could not connect"
    if assoc.is_rejected:
        answer["reject"] = reject_of(assoc)
    if assoc.is_established:
        for index, (path, _, _, error) in enumerate(files):
            if error is not None:
                answer["errors"][index] = error
                continue
            if not still_established(assoc):
                answer["errors"][index] = "association aborted before this file"
                continue
            sent = now()
            try:
                status = assoc.send_c_store(path, msg_id=index + 1)
            except Exception as error:                   # noqa: BLE001 - e.g. no accepted presentation context
                answer["errors"][index] = "%s: %s" % (type(error).__name__, error)
                continue
            answer["file_seconds"][index] = elapsed(sent)
            if "Status" in status:
                answer["statuses"][index] = int(status.Status)
            else:                                        # no answer: aborted, or our DIMSE timeout
                still_established(assoc, grace=1.0)
        # How the association ended: "released" by us, or "aborted" (by the server, or after a DIMSE timeout).
        release(assoc)
        answer["end"] = "released" if assoc.is_released else "aborted"
    answer["seconds"] = elapsed(started)
    return answer


def peer_hold_associations(args):
    """N associations, one C-ECHO each, then idle until `seconds` passed or the server ended them."""
    from pynetdicom.sop_class import Verification
    raise_nofile(args.count)
    started = now()
    # Our side must not give up on an idle association before the server does.
    ae = pynetdicom_ae(args.timeout, args.calling)
    ae.network_timeout = args.seconds + args.timeout
    ae.dimse_timeout = args.timeout
    ae.add_requested_context(Verification)
    held, rejects, echo_statuses = [], [], []
    counts = {"accepted": 0, "rejected": 0, "aborted": 0, "failed": 0}
    for _ in range(args.count):
        try:
            assoc, connected = associate(ae, args.host, args.port, args.aet)
        except Exception:                                # noqa: BLE001
            counts["failed"] += 1
            continue
        outcome = association_outcome(assoc, connected)
        counts[outcome] += 1
        if outcome == "rejected":
            rejects.append(reject_of(assoc))
        if outcome != "accepted":
            continue
        status = assoc.send_c_echo()
        echo_statuses.append(int(status.Status) if "Status" in status else None)
        held.append([assoc, now(), None])               # [association, established at, ended after]
    deadline = started + args.seconds
    while now() < deadline and any(entry[2] is None for entry in held):
        for entry in held:
            if entry[2] is None and not entry[0].is_established:
                entry[2] = elapsed(entry[1])
        time.sleep(0.1)
    ended = sorted(entry[2] for entry in held if entry[2] is not None)
    still_open = [entry[0] for entry in held if entry[2] is None]
    releasers = [threading.Thread(target=assoc.release, daemon=True) for assoc in still_open]
    for releaser in releasers:
        releaser.start()
    for releaser in releasers:
        releaser.join(args.timeout)
    return {"accepted": counts["accepted"], "rejected": counts["rejected"], "aborted_at_association": counts["aborted"],
            "failed": counts["failed"], "rejects": rejects, "echo_statuses": echo_statuses,
            "aborted_by_server_after": ended, "still_open": len(still_open), "seconds": elapsed(started)}


def watch_connections(sockets, deadline, sample=0.2):
    """Wait until `deadline` or until every socket closed; returns {index: (seconds after open, first bytes)} of the
    ones the server closed. `sockets`: [(socket, opened at)]."""
    closed, received = {}, {}
    poller = select.poll()
    by_fd = {}
    for index, (sock, _) in enumerate(sockets):
        poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        by_fd[sock.fileno()] = index
    while len(closed) < len(sockets):
        remaining = deadline - now()
        if remaining <= 0:
            break
        for fd, _ in poller.poll(min(sample, remaining) * 1000):
            index = by_fd[fd]
            sock, opened = sockets[index]
            try:
                data = sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                received[index] = received.get(index, b"") + data
                continue
            closed[index] = (elapsed(opened), received.get(index, b""))
            poller.unregister(fd)
    return closed


def open_sockets(host, port, count, timeout, source=None):
    """[(socket, opened at)] and the number of connections that failed."""
    sockets, failed = [], 0
    for _ in range(count):
        try:
            address = (source, 0) if source else None
            sockets.append((socket.create_connection((host, port), timeout=timeout, source_address=address), now()))
        except OSError:
            failed += 1
    return sockets, failed


def peer_reset_tcp(args):
    """N connections, each reset (RST, not FIN) the moment it is accepted."""
    started = now()
    opened, failed = 0, 0
    for _ in range(args.count):
        try:
            sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
        except OSError:
            failed += 1
            continue
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        opened += 1
    return {"reset": opened, "connect_failed": failed, "seconds": elapsed(started)}


def peer_silent_tcp(args):
    raise_nofile(args.count)
    started = now()
    sockets, failed = open_sockets(args.host, args.port, args.count, args.timeout, args.source)
    closed = watch_connections(sockets, started + args.seconds)
    for sock, _ in sockets:
        sock.close()
    received = {}                # first PDU type the server sent before closing: count
    for _, data in closed.values():
        if data:
            name = PDU_NAMES.get(data[0], "0x%02x" % data[0])
            received[name] = received.get(name, 0) + 1
    return {"opened": len(sockets), "connect_failed": failed, "closed_by_server": len(closed),
            "closed_after": sorted(seconds for seconds, _ in closed.values()), "still_open": len(sockets) - len(closed),
            "received_before_close": received, "seconds": elapsed(started)}


def trickle_report(peer, sent, total, started):
    return {"connected": True, "closed_by_server": peer.closed, "closed_after": elapsed(started) if peer.closed else None,
            "close_error": peer.close_error, "send_stalled": peer.stalled, "bytes_sent": sent, "total_bytes": total,
            "completed": sent == total, "received": peer.received}


def peer_trickle_association(args):
    """A valid A-ASSOCIATE-RQ (Verification), `chunk` bytes every `interval` seconds."""
    request = associate_rq(args.aet, args.calling, [(1, "1.2.840.10008.1.1", [ExplicitVRLittleEndian])])
    started = now()
    deadline = started + args.max_seconds
    try:
        peer = RawPeer(args.host, args.port, args.timeout)
    except OSError as error:
        return {"connected": False, "error": "%s: %s" % (type(error).__name__, error), "seconds": elapsed(started)}
    try:
        sent = trickle(peer, request, args.interval, args.chunk, deadline)
        closed_at = now() if peer.closed else None
        if sent == len(request) and not peer.closed:
            peer.wait_for_pdu(1, max(0.0, min(args.timeout, deadline - now())))
            closed_at = now() if peer.closed else None
        answer = trickle_report(peer, sent, len(request), started)
        if closed_at is not None:
            answer["closed_after"] = round(closed_at - started, 3)
        if answer["received"] and answer["received"][0]["pdu"] == "A-ASSOCIATE-AC" and not peer.closed:
            peer.send(release_rq())
            peer.wait_for_pdu(2, args.timeout)
    finally:
        peer.close()
    answer["seconds"] = elapsed(started)
    return answer


def c_find_rq(message_id, sop_class):
    """C-FIND-RQ command set (Implicit VR Little Endian, with its group length), a dataset following."""
    fields = [(0x0002, ul_uid(sop_class)), (0x0100, struct.pack("<H", 0x0020)), (0x0110, struct.pack("<H", message_id)),
              (0x0700, struct.pack("<H", 0)), (0x0800, struct.pack("<H", 0x0000))]
    body = b"".join(implicit_element(0, number, value) for number, value in fields)
    return implicit_element(0, 0, struct.pack("<I", len(body))) + body


QUERY_IDENTIFIERS = {
    # Not DICOM at all.
    "garbage": bytes(range(256)) * 4,
    # An element that declares more bytes than there are.
    "overlong": implicit_element(0x0008, 0x0052, b"STUDY") + struct.pack("<HHI", 0x0010, 0x0010, 0x7FFFFFF0) + b"ABC",
    # A sequence whose item never ends.
    "open-sequence": implicit_element(0x0008, 0x0052, b"STUDY") + struct.pack("<HHI", 0x0008, 0x1115, 0xFFFFFFFF)
    + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + implicit_element(0x0020, 0x000E, b"1.2"),
    # Valid, but no QueryRetrieveLevel.
    "no-level": implicit_element(0x0010, 0x0010, b""),
    # Valid, at an unknown level.
    "bad-level": implicit_element(0x0008, 0x0052, b"FRAMES") + implicit_element(0x0010, 0x0010, b""),
}


def peer_query(args):
    """One association for Study Root C-FIND (Implicit VR Little Endian), one C-FIND-RQ whose identifier is
    --identifier (a malformed or odd one, raw bytes); reports the statuses answered, then checks that the association
    still releases."""
    model = "1.2.840.10008.5.1.4.1.2.2.1"
    started = now()
    answer = {"association": "failed"}
    try:
        peer = RawPeer(args.host, args.port, args.timeout)
    except OSError as error:
        answer.update(error="%s: %s" % (type(error).__name__, error), seconds=elapsed(started))
        return answer
    try:
        peer.send(associate_rq(args.aet, args.calling, [(1, model, [ImplicitVRLittleEndian])]))
        peer.wait_for_pdu(1, args.timeout)
        if not peer.received or peer.received[0]["pdu"] != "A-ASSOCIATE-AC":
            answer.update(association="rejected", received=peer.received)
            return answer
        answer["association"] = "accepted"
        peer.send(p_data(1, c_find_rq(1, model), True, True))
        peer.send(p_data(1, QUERY_IDENTIFIERS[args.identifier], False, True))
        # Pending responses, then a final one (or an abort / a close).
        deadline = now() + args.timeout
        while not peer.closed and now() < deadline:
            statuses = [p["status"] for p in peer.received if "status" in p]
            if statuses and statuses[-1] not in (0xFF00, 0xFF01):
                break
            peer.poll(0.2)
        answer["statuses"] = [p["status"] for p in peer.received if "status" in p]
        answer["aborted"] = any(p["pdu"] == "A-ABORT" for p in peer.received) or peer.closed
        if not answer["aborted"]:
            count = len(peer.received)
            peer.send(release_rq())
            peer.wait_for_pdu(count + 1, args.timeout)
            answer["released"] = any(p["pdu"] == "A-RELEASE-RP" for p in peer.received)
    finally:
        peer.close()
    answer["seconds"] = elapsed(started)
    return answer


def peer_trickle_store(args):
    """Associate at full speed, then trickle a C-STORE (command and dataset P-DATA PDUs) `chunk` bytes at a time."""
    meta, offset = read_meta(args.file)
    sop_class, sop_instance, syntax = meta_uid(meta, 0x0002), meta_uid(meta, 0x0003), meta_uid(meta, 0x0010)
    with open(args.file, "rb") as f:
        f.seek(offset)
        dataset = f.read()
    started = now()
    answer = {"association": "failed"}
    try:
        peer = RawPeer(args.host, args.port, args.timeout)
    except OSError as error:
        answer.update(error="%s: %s" % (type(error).__name__, error), seconds=elapsed(started))
        return answer
    try:
        if peer.send(associate_rq(args.aet, args.calling, [(1, sop_class, [syntax])])):
            peer.wait_for_pdu(1, args.timeout)
        first = peer.received[0] if peer.received else None
        if first is None:
            answer.update(closed_by_server=peer.closed, seconds=elapsed(started))
            return answer
        if first["pdu"] == "A-ASSOCIATE-RJ":
            answer.update(association="rejected", reject={k: first[k] for k in ("result", "source", "reason")},
                          seconds=elapsed(started))
            return answer
        if first["pdu"] != "A-ASSOCIATE-AC":
            answer.update(association="aborted", received=peer.received, seconds=elapsed(started))
            return answer
        answer["association"] = "accepted"
        if first["contexts"].get("1") != 0:
            answer.update(error="presentation context not accepted", received=peer.received, seconds=elapsed(started))
            return answer
        # The P-DATA PDUs as a normal sender would cut them (the server's maximum PDU length), then trickled.
        limit = first["max_pdu"] or 16384
        fragment = max(2, min(limit, 1 << 20) - 6)
        stream = [p_data(1, c_store_rq(1, sop_class, sop_instance), True, True)]
        for start in range(0, max(1, len(dataset)), fragment):
            stream.append(p_data(1, dataset[start:start + fragment], False, start + fragment >= len(dataset)))
        stream = b"".join(stream)
        trickle_started = now()
        sent = trickle(peer, stream, args.interval, args.chunk, trickle_started + args.max_seconds)
        closed_at = now() if peer.closed else None
        if sent == len(stream) and not peer.closed:
            peer.wait_for_pdu(2, args.timeout)
            closed_at = now() if peer.closed else None
        answer.update(trickle_report(peer, sent, len(stream), trickle_started))
        if closed_at is not None:
            answer["closed_after"] = round(closed_at - trickle_started, 3)
        statuses = [pdu["status"] for pdu in peer.received if "status" in pdu]
        answer["status"] = statuses[0] if statuses else None
        if answer["status"] is not None and not peer.closed:
            peer.send(release_rq())
            peer.wait_for_pdu(len(peer.received) + 1, args.timeout)
    finally:
        peer.close()
    answer["seconds"] = elapsed(started)
    return answer


# ----------------------------------------------------------------------------------------------------------------
# HTTP peers
# ----------------------------------------------------------------------------------------------------------------

def peer_half_http(args):
    """N connections that each send the start of a request head and then nothing."""
    raise_nofile(args.count)
    head = args.head.encode("latin-1")
    started = now()
    deadline = started + args.seconds
    open_now = {}                # fd: [socket, opened at, bytes received]
    closed = []                  # seconds each closed connection had been open
    opened, failed, max_open, responses = 0, 0, 0, {}
    poller = select.poll()

    def drain(until):
        """Handle what the server did (answered, closed) until `until` (at least one non-blocking look)."""
        while True:
            events = poller.poll(max(0.0, until - now()) * 1000) if open_now else []
            for fd, _ in events:
                sock, opened_at, data = open_now[fd]
                try:
                    chunk = sock.recv(65536, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    open_now[fd][2] = data + chunk
                    continue
                closed.append(elapsed(opened_at))
                line = data.split(b"\r\n", 1)[0].decode("latin-1") if data else ""
                responses[line] = responses.get(line, 0) + 1
                poller.unregister(fd)
                sock.close()
                del open_now[fd]
            if now() >= until or not open_now:
                return

    for _ in range(args.count):
        if now() >= deadline:
            break
        try:
            sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
            sock.sendall(head)
        except OSError:
            failed += 1
            continue
        opened += 1
        open_now[sock.fileno()] = [sock, now(), b""]
        poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        drain(now())
        max_open = max(max_open, len(open_now))
    # Sampled every 0.5 s; the answer keeps the samples where the number of open connections changed.
    samples = [{"t": elapsed(started), "open": len(open_now)}]
    tick = now()
    while open_now and now() < deadline:
        tick = min(tick + 0.5, deadline)
        drain(tick)
        if len(open_now) != samples[-1]["open"]:
            samples.append({"t": elapsed(started), "open": len(open_now)})
        max_open = max(max_open, len(open_now))
    for sock, _, _ in open_now.values():
        sock.close()
    return {"opened": opened, "connect_failed": failed, "closed_by_server": len(closed),
            "closed_after": sorted(closed), "still_open": len(open_now), "max_open": max_open,
            "responses": responses, "samples": samples, "seconds": elapsed(started)}


def gzipped_chunks(path):
    """The gzip stream of a file, block by block."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    with open(path, "rb") as f:
        while True:
            block = f.read(MIB)
            if not block:
                break
            out = compressor.compress(block)
            if out:
                yield out
    yield compressor.flush()


def file_chunks(path):
    with open(path, "rb") as f:
        while True:
            block = f.read(256 * 1024)
            if not block:
                return
            yield block


def upload_once(url, path, chunked, gzipped, timeout, content_type, gzip_file=None):
    """POST a file, streamed from disk. Returns {"status", "body", "seconds", "sent_bytes", "error"}; an early
    answer from the server (e.g. 413 while we are still sending) is read after the send fails."""
    parts = urllib.parse.urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    started = now()
    answer = {"status": None, "body": None, "seconds": None, "sent_bytes": 0, "error": None}
    try:
        connection.putrequest("POST", target)
        if parts.username is not None:
            credentials = "%s:%s" % (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))
            connection.putheader("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
        connection.putheader("Content-Type", content_type)
        if gzipped:
            connection.putheader("Content-Encoding", "gzip")
        source = gzip_file if gzipped and not chunked else path
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(os.path.getsize(source)))
        connection.endheaders()
        blocks = gzipped_chunks(path) if gzipped and chunked else file_chunks(source)
        try:
            for block in blocks:
                connection.send(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
                answer["sent_bytes"] += len(block)
            if chunked:
                connection.send(b"0\r\n\r\n")
        except OSError as error:                         # the server answered early and closed: read its answer
            answer["error"] = "send: %s" % type(error).__name__
        response = connection.getresponse()
        body = response.read()
        answer["status"] = response.status
        try:
            answer["body"] = json.loads(body)
        except ValueError:
            answer["body"] = body[:4096].decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as error:
        answer["error"] = (answer["error"] + "; " if answer["error"] else "") + "%s: %s" % (type(error).__name__, error)
    finally:
        connection.close()
    answer["seconds"] = elapsed(started)
    return answer


def default_content_type(path):
    return "application/zip" if path.lower().endswith(".zip") else "application/dicom"


class GzipFile:
    """A gzip-compressed temporary copy of a file (for Content-Length uploads with --gzip)."""

    def __init__(self, path, wanted):
        self.path = None
        if wanted:
            handle, self.path = tempfile.mkstemp(prefix="hostile-", suffix=".gz")
            with os.fdopen(handle, "wb") as raw, open(path, "rb") as source, \
                    gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as compressed:
                shutil.copyfileobj(source, compressed, MIB)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if self.path:
            os.unlink(self.path)


def peer_upload(args):
    with GzipFile(args.file, args.gzip and not args.chunked) as gzip_file:
        return upload_once(args.url, args.file, args.chunked, args.gzip, args.timeout,
                           args.content_type or default_content_type(args.file), gzip_file)


def peer_concurrent_uploads(args):
    raise_nofile(args.count)
    results = [None] * args.count
    with GzipFile(args.file, args.gzip and not args.chunked) as gzip_file:
        barrier = threading.Barrier(args.count)

        def upload(index):
            try:
                barrier.wait(args.timeout)
            except threading.BrokenBarrierError:
                pass
            results[index] = upload_once(args.url, args.file, args.chunked, args.gzip, args.timeout,
                                         args.content_type or default_content_type(args.file), gzip_file)

        started = now()
        threads = [threading.Thread(target=upload, args=(i,), daemon=True) for i in range(args.count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, started + args.timeout * 2 - now()))
    missing = {"status": None, "body": None, "seconds": None, "sent_bytes": 0, "error": "did not finish"}
    results = [result or missing for result in results]
    return {"count": args.count, "statuses": [r["status"] for r in results], "seconds": [r["seconds"] for r in results],
            "errors": [r["error"] for r in results], "bodies": [r["body"] for r in results],
            "total_seconds": elapsed(started)}


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    uids = argparse.ArgumentParser(add_help=False)
    uids.add_argument("--uids-from", metavar="SEED", help="derive the UIDs from SEED (default: random)")
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("--out", required=True)

    def command(name, handler, parents=(), **kw):
        sub = commands.add_parser(name, parents=list(parents), **kw)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("nested", generate_nested, [uids, out], help="sequence nested --depth levels deep")
    sub.add_argument("--depth", type=int, required=True)
    sub.add_argument("--defined-length", action="store_true", help="defined lengths (default: undefined)")
    sub = command("overflow", generate_overflow, [uids, out], help="counters at 2^31-1")
    sub.add_argument("--value", default="2147483647", help="IS value of the counters (default 2147483647)")
    sub = command("longid", generate_longid, [uids, out], help="an identifier of --length characters")
    sub.add_argument("--field", required=True, choices=["PatientID", "StudyInstanceUID", "SOPInstanceUID"])
    sub.add_argument("--length", type=int, required=True)
    sub = command("latin1", generate_latin1, [uids, out], help="PatientID as raw bytes")
    sub.add_argument("--patient-id-hex", required=True)
    sub.add_argument("--charset", required=True, help='SpecificCharacterSet, or "" for none')
    command("path-names", generate_path_names, [uids, out], help="names that look like paths")
    sub = command("truncated", generate_truncated, [out], help="the first --bytes bytes of --in")
    sub.add_argument("--in", dest="input", required=True)
    sub.add_argument("--bytes", type=int, required=True)
    sub = command("zipbomb", generate_zipbomb, [out], help="one entry inflating to --inflated-mb MiB of zeros")
    sub.add_argument("--inflated-mb", type=int, required=True)
    command("zip64lie", generate_zip64lie, [out], help="ZIP64 extra field declaring 2^62 bytes")
    sub = command("nestedzip", generate_nestedzip, [out], help="a DICOM entry and a ZIP entry holding a DICOM")
    sub.add_argument("--dicom", required=True)
    sub.add_argument("--inner-dicom", help="the DICOM inside the inner ZIP (default: --dicom)")
    sub = command("manyzip", generate_manyzip, [out], help="--entries empty entries, then a DICOM entry")
    sub.add_argument("--entries", type=int, required=True)
    sub.add_argument("--dicom", required=True)
    sub = command("traversalzip", generate_traversalzip, [out], help='a DICOM entry named "../../x.dcm"')
    sub.add_argument("--dicom", required=True)
    sub.add_argument("--name", default="../../x.dcm")
    sub = command("big", generate_big, [uids, out], help="a valid instance of about --mb MiB")
    sub.add_argument("--mb", type=int, required=True)

    def network(sub, default_timeout):
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, required=True)
        sub.add_argument("--timeout", type=float, default=default_timeout,
                         help="seconds for each network operation (default %g)" % default_timeout)

    def dicom(sub):
        sub.add_argument("--calling", default="HOSTILE", help="calling AE title")

    sub = command("store", peer_store, help="one association, one C-STORE per file (bytes unchanged)")
    network(sub, 60)
    dicom(sub)
    sub.add_argument("--aet", required=True, help="called AE title")
    sub.add_argument("--files", nargs="+", required=True)
    sub = command("query", peer_query, help="one C-FIND whose identifier is malformed or odd (raw bytes)")
    network(sub, 30)
    dicom(sub)
    sub.add_argument("--aet", required=True)
    sub.add_argument("--identifier", required=True, choices=sorted(QUERY_IDENTIFIERS))
    sub = command("hold-associations", peer_hold_associations, help="N idle associations")
    network(sub, 30)
    dicom(sub)
    sub.add_argument("--aet", required=True)
    sub.add_argument("--count", type=int, required=True)
    sub.add_argument("--seconds", type=float, required=True)
    sub = command("silent-tcp", peer_silent_tcp, help="N TCP connections that send nothing")
    network(sub, 10)
    sub.add_argument("--count", type=int, required=True)
    sub.add_argument("--seconds", type=float, required=True)
    sub.add_argument("--source", help="local address to connect from (e.g. 127.0.0.2)")
    sub = command("reset-tcp", peer_reset_tcp, help="N TCP connections reset as soon as they are made")
    network(sub, 10)
    sub.add_argument("--count", type=int, required=True)
    for name, handler in (("trickle-association", peer_trickle_association), ("trickle-store", peer_trickle_store)):
        sub = command(name, handler, help="send slowly: --chunk bytes every --interval seconds")
        network(sub, 30)
        dicom(sub)
        sub.add_argument("--aet", required=name == "trickle-store", default="TESSERA")
        sub.add_argument("--interval", type=float, required=True)
        sub.add_argument("--max-seconds", type=float, required=True)
        sub.add_argument("--chunk", type=int, default=1)
        if name == "trickle-store":
            sub.add_argument("--file", required=True)

    sub = command("half-http", peer_half_http, help="N connections with a partial request head")
    network(sub, 10)
    sub.add_argument("--count", type=int, required=True)
    sub.add_argument("--seconds", type=float, required=True)
    sub.add_argument("--head", default="POST /instances HTTP/1.1\r\nHost: x\r\nContent-")
    for name, handler in (("upload", peer_upload), ("concurrent-uploads", peer_concurrent_uploads)):
        sub = command(name, handler, help="POST a file streamed from disk")
        sub.add_argument("--url", required=True, help="e.g. http://user:password@127.0.0.1:8042/instances")
        sub.add_argument("--file", required=True)
        sub.add_argument("--chunked", action="store_true", help="chunked transfer encoding (default Content-Length)")
        sub.add_argument("--gzip", action="store_true", help="Content-Encoding: gzip")
        sub.add_argument("--content-type", help="default application/dicom, or application/zip for *.zip")
        sub.add_argument("--timeout", type=float, default=300, help="socket timeout in seconds (default 300)")
        if name == "concurrent-uploads":
            sub.add_argument("--count", type=int, required=True)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        answer = args.handler(args)
    except Exception as error:                           # noqa: BLE001 - the tool failed: say so, exit 1
        traceback.print_exc()
        print(json.dumps({"error": "%s: %s" % (type(error).__name__, error)}))
        return 1
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
