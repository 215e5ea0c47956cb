#!/usr/bin/env python3
"""Records how stock Orthanc (Debian package `orthanc`) answers the per-resource routes beside the tags: instance
content (/content/...), frames lists, shared-tags / module / module-patient / instances-tags, statistics, metadata and
attachments (read and write), exports, DELETE /changes and POST /tools/bulk-delete; and how it builds ZIP archives and
DICOM media. Two fixtures:

Tests/UnitTests/Fixtures/resources/cases.json: the format of Fixtures/find/cases.json, a JSON array of {"name",
  "method", "path", "body" (JSON value, or a raw string with "raw": true, or null for no body), "status", "answer"
  (parsed JSON answer, or null when the body is empty or not JSON)} plus, here, "headers" (the Content-Type,
  Content-Disposition, ETag and Allow headers Orthanc sent, lower-case names, only those present) and, when the body
  is not JSON: "text" (the body, when it is printable UTF-8) or "bodySize" + "bodyMd5" (+ "bodyBase64" when at most
  64 bytes) for binary bodies. A body is parsed as JSON only when its Content-Type is application/json or absent
  (Orthanc's error bodies have none): text/plain answers such as "9844" or "0" stay text.

Tests/UnitTests/Fixtures/resources/archives.json: a JSON array of {"name", "method", "path", "body", "status",
  "headers" {"content-type", "content-disposition"} (null when absent), "answer" (JSON answer when the body is not a
  ZIP), "entries" [entry names, in ZIP order], "details" [{"name", "method" ("stored"/"deflated"), "size",
  "compressedSize", "crc32", "md5", "source" (the uploaded file the entry is byte-identical to: "tags/<file>" or
  "derived:<label>", or null)}] (null sizes and checksums for DICOMDIR: its MediaStorageSOPInstanceUID is random), "zip" {"comment", "dataDescriptor", "zip64", "versionMadeBy", "versionNeeded",
  "flags", "externalAttributes"}, "dicomdir" [{"RecordType", "ReferencedFileID", "Tags" {other tags of the record
  but the offsets and the in-use flag}}] and "dicomdirHeader" for media, "zipError" + "bodySize" + "received" (entries
  whose data arrived complete) when the ZIP is truncated, "bodySize" when the body is not a ZIP}.

Uploads Tests/UnitTests/Fixtures/tags/*.dcm in sorted file-name order (except rtplan.dcm; files sharing a
SOPInstanceUID keep the first stored: MR_small_bigendian.dcm is the same instance as MR_small_RLE.dcm, so the RLE one
is stored). The cases run on a first Orthanc ("StableAge": 100000, "UserMetadata": {"Sample": 1024},
"UserContentType": {"report": [1025, "application/pdf"]}, "LogExportedResources": true, a modality "self" that is
this Orthanc's own DICOM port); the writes (metadata, attachments, exports, changes, bulk-delete) come last. The
archives are made on a second Orthanc ("LogExportedResources": false) where four derived instances are added (made
with /instances/{id}/modify from JPEG-lossy.dcm, with explicit UIDs so they are the same bytes each run): they give the
NM study of JPEG-lossy.dcm / JPEG2000.dcm three series (one with odd characters in its SeriesDescription, one with the
same directory name as the original series), and its patient a second study (same description, so the directory
names collide) with a series without Modality and a series whose Modality is one lower-case letter. The exports cases
with "LogExportedResources": false are recorded on that second Orthanc, after the archives, at the end of cases.json.

Not deterministic from one run to the next, like Fixtures/find: dates ("ReceptionDate", "LastUpdate", the "Date" of
changes and exports), attachment "Uuid"s (and the Content-Disposition of .../data that names them), the ETag of a
timestamp metadata, the job ID of the asynchronous archive (replaced by "<job-id>"), the revision in the ETag of
PUT .../attachments on an unknown instance (uninitialized in Orthanc 1.10.1; replaced by "<revision>").

usage: orthanc-resource-fixtures.py [OUTPUT-FOLDER]   (needs `apt-get install orthanc`; starts it on free loopback
ports; default output folder Tests/UnitTests/Fixtures/resources)
"""
import base64
import binascii
import glob
import hashlib
import io
import json
import os
import struct
import sys
import time
import zipfile

from stock_orthanc import StockOrthanc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = os.path.join(ROOT, "Tests", "UnitTests", "Fixtures", "tags")
OUTPUT = os.path.join(ROOT, "Tests", "UnitTests", "Fixtures", "resources")
SKIPPED = {"rtplan.dcm"}
UNKNOWN = "00000000-00000000-00000000-00000000-00000000"
KEPT_HEADERS = ("content-type", "content-disposition", "etag", "allow")


# ---------------------------------------------------------------------------------------------------------------
# Recording one request


def is_printable(text):
    return all(c in "\t\n\r" or (ord(c) >= 0x20 and ord(c) != 0x7f) for c in text)


def run(orthanc, case):
    """Runs one case {"name", "method", "path", "body", ["raw"]} and returns it with the answer."""
    body = case.get("body")
    if body is None:
        data = None
    elif case.get("raw"):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    status, headers, content = orthanc.fetch(case["method"], case["path"], data)
    result = dict(case, body=body, status=status, answer=None,
                  headers={k: headers[k] for k in KEPT_HEADERS if k in headers})
    if result.pop("maskEtagRevision", False) and "etag" in headers:
        # Orthanc 1.10.1 sends an uninitialized revision there: a different number each run
        result["headers"]["etag"] = '"<revision>-' + headers["etag"].strip('"').split("-", 1)[1] + '"'
    content_type = headers.get("content-type", "")
    if content.strip():
        parsed = False
        if content_type == "" or content_type.startswith("application/json"):
            try:
                result["answer"] = json.loads(content)
                parsed = True
            except ValueError:
                pass
        if not parsed:
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and is_printable(text):
                result["text"] = text
            else:
                result["bodySize"] = len(content)
                result["bodyMd5"] = hashlib.md5(content).hexdigest()
                if len(content) <= 64:
                    result["bodyBase64"] = base64.b64encode(content).decode()
    elif content:
        result["text"] = content.decode("utf-8", "replace")
    return result


def case(name, method, path, body=None, raw=False):
    c = dict(name=name, method=method, path=path, body=body)
    if raw:
        c["raw"] = True
    return c


def get(name, path):
    return case(name, "GET", path)


def upload_all(orthanc):
    """file name -> {"Instance", "Series", "Study", "Patient"} for the stored files; also md5 -> source name."""
    resources, sources = {}, {}
    for path in sorted(glob.glob(os.path.join(FILES, "*.dcm"))):
        name = os.path.basename(path)
        if name in SKIPPED:
            continue
        with open(path, "rb") as f:
            data = f.read()
        status, answer = orthanc.request("POST", "/instances", data)
        if status != 200:
            print(f"{name}: refused by Orthanc ({status}), skipped", file=sys.stderr)
            continue
        if answer["Status"] == "Success":
            sources.setdefault(hashlib.md5(data).hexdigest(), "tags/" + name)
        resources[name] = {"Instance": answer["ID"], "Series": answer["ParentSeries"],
                           "Study": answer["ParentStudy"], "Patient": answer["ParentPatient"]}
    return resources, sources


# ---------------------------------------------------------------------------------------------------------------
# Task 1: cases.json


def read_cases(r):
    """The read-only requests. `r` maps a file name to its resources."""
    rt = r["rtstruct.dcm"]["Instance"]
    sr = r["test-SR.dcm"]["Instance"]
    ct = r["CT_small.dcm"]["Instance"]
    rle2 = r["SC_rgb_rle_2frame.dcm"]["Instance"]
    jap = r["chrJapMulti.dcm"]["Instance"]
    lossy = r["JPEG-lossy.dcm"]
    nm_series, nm_study, nm_patient = lossy["Series"], lossy["Study"], lossy["Patient"]
    anon_patient = r["image_dfl.dcm"]["Patient"]      # empty PatientID: image_dfl, reportsi, test-SR (3 studies)
    anon_study = r["image_dfl.dcm"]["Study"]
    ct_series = r["CT_small.dcm"]["Series"]
    li = lossy["Instance"]
    c = []

    # /instances/{id}/content
    c += [
        get("content: list of the top-level tags (rtstruct)", f"/instances/{rt}/content"),
        get("content: list of the top-level tags (CT_small, with private tags and pixel data)",
            f"/instances/{ct}/content"),
        get("content: tag as gggg-eeee", f"/instances/{rt}/content/0010-0010"),
        get("content: tag as gggg,eeee", f"/instances/{rt}/content/0010,0010"),
        get("content: tag as ggggeeee", f"/instances/{rt}/content/00100010"),
        get("content: tag as a dictionary name", f"/instances/{rt}/content/PatientName"),
        get("content: upper-case hex 0020-000D", f"/instances/{rt}/content/0020-000D"),
        get("content: lower-case hex 0020-000d", f"/instances/{rt}/content/0020-000d"),
        get("content: malformed tag 0010", f"/instances/{ct}/content/0010"),
        get("content: malformed tag zzzz", f"/instances/{ct}/content/zzzz"),
        get("content: well-formed tag absent from the file", f"/instances/{ct}/content/1234-5678"),
        get("content: SpecificCharacterSet (raw value, padding kept)", f"/instances/{ct}/content/0008-0005"),
        get("content: private tag (raw value)", f"/instances/{ct}/content/0043-1028"),
        get("content: US tag Rows (binary little-endian value)", f"/instances/{ct}/content/0028-0010"),
        get("content: PN in ISO 2022 (raw bytes, not converted to UTF-8)", f"/instances/{jap}/content/0010-0010"),
        get("content: sequence tag lists its item indexes", f"/instances/{rt}/content/3006-0020"),
        get("content: sequence item lists its tags", f"/instances/{rt}/content/3006-0020/0"),
        get("content: tag inside a sequence item", f"/instances/{rt}/content/3006-0020/0/3006-0022"),
        get("content: item index out of range (99)", f"/instances/{rt}/content/3006-0020/99"),
        get("content: item index just past the end (3 items)", f"/instances/{rt}/content/3006-0020/3"),
        get("content: item index -1", f"/instances/{rt}/content/3006-0020/-1"),
        get("content: item index not a number", f"/instances/{rt}/content/3006-0020/x"),
        get("content: trailing slash after an item", f"/instances/{rt}/content/3006-0020/0/"),
        get("content: nested sequence inside an item", f"/instances/{rt}/content/3006-0039/0/3006-0040"),
        get("content: item of a nested sequence", f"/instances/{rt}/content/3006-0039/0/3006-0040/0"),
        get("content: tag two sequence levels down (ContourData)",
            f"/instances/{rt}/content/3006-0039/0/3006-0040/0/3006-0050"),
        get("content: item index after a non-sequence tag two levels down",
            f"/instances/{rt}/content/3006-0039/0/3006-0040/0/3006-0050/0"),
        get("content: item index after a non-sequence tag", f"/instances/{rt}/content/0010-0010/0"),
        get("content: SR ContentSequence items", f"/instances/{sr}/content/0040-a730"),
        get("content: SR item 4 (the last)", f"/instances/{sr}/content/0040-a730/4"),
        get("content: SR item -1 (the last item)", f"/instances/{sr}/content/0040-a730/-1"),
        get("content: SR item -2", f"/instances/{sr}/content/0040-a730/-2"),
        get("content: SR item 18446744073709551615 (2^64-1, the last item)",
            f"/instances/{sr}/content/0040-a730/18446744073709551615"),
        get("content: SR item 4294967295", f"/instances/{sr}/content/0040-a730/4294967295"),
        get("content: SR item 01 (leading zero)", f"/instances/{sr}/content/0040-a730/01"),
        get("content: SR item two levels down",
            f"/instances/{sr}/content/0040-a730/3/0040-a730/0/0040-a043/0"),
        get("content: SR tag three sequence levels down",
            f"/instances/{sr}/content/0040-a730/3/0040-a730/0/0040-a043/0/0008-0104"),
        get("content: native PixelData lists one item", f"/instances/{ct}/content/7fe0-0010"),
        get("content: native PixelData item 0 is the whole pixel data", f"/instances/{ct}/content/7fe0-0010/0"),
        get("content: native PixelData item 1", f"/instances/{ct}/content/7fe0-0010/1"),
        get("content: encapsulated PixelData lists offset table + fragments (2-frame RLE)",
            f"/instances/{rle2}/content/7fe0-0010"),
        get("content: encapsulated PixelData item 0 (basic offset table)", f"/instances/{rle2}/content/7fe0-0010/0"),
        get("content: encapsulated PixelData item 1 (first fragment)", f"/instances/{rle2}/content/7fe0-0010/1"),
        get("content: encapsulated PixelData item past the end", f"/instances/{rle2}/content/7fe0-0010/3"),
        get("content: unknown instance", f"/instances/{UNKNOWN}/content"),
        get("content: a study ID at /instances", f"/instances/{nm_study}/content"),
        case("content: POST", "POST", f"/instances/{rt}/content", "x", raw=True),
    ]

    # /instances/{id}/frames
    c += [
        get("frames: single-frame CT", f"/instances/{ct}/frames"),
        get("frames: 2-frame RLE", f"/instances/{rle2}/frames"),
        get("frames: JPEG baseline, one frame", f"/instances/{li}/frames"),
        get("frames: rtstruct (no pixel data)", f"/instances/{rt}/frames"),
        get("frames: SR (no pixel data)", f"/instances/{sr}/frames"),
        get("frames: unknown instance", f"/instances/{UNKNOWN}/frames"),
    ]

    # shared-tags, module, module-patient, instances-tags
    for level, rid, what in [("patients", nm_patient, "NM patient, one series of 2 instances"),
                             ("studies", nm_study, "NM study, one series of 2 instances"),
                             ("series", nm_series, "NM series of 2 instances")]:
        for option in ["", "?simplify", "?short"]:
            c.append(get(f"shared-tags{option} at {level} ({what})", f"/{level}/{rid}/shared-tags{option}"))
    c += [
        get("shared-tags?short of a patient with 3 studies (image_dfl, reportsi, test-SR)",
            f"/patients/{anon_patient}/shared-tags?short"),
        get("shared-tags?short of a series of one instance", f"/series/{ct_series}/shared-tags?short"),
        get("shared-tags at instances: no such route", f"/instances/{li}/shared-tags"),
        get("shared-tags of an unknown series", f"/series/{UNKNOWN}/shared-tags"),
        get("shared-tags: a series ID at /studies", f"/studies/{nm_series}/shared-tags"),
        case("shared-tags: POST", "POST", f"/series/{nm_series}/shared-tags", "x", raw=True),
    ]
    for level, rid in [("patients", nm_patient), ("studies", nm_study), ("series", nm_series), ("instances", li)]:
        for option in ["", "?simplify", "?short"]:
            c.append(get(f"module{option} at {level}", f"/{level}/{rid}/module{option}"))
    c += [
        get("module?simplify of the patient with an empty PatientID", f"/patients/{anon_patient}/module?simplify"),
        get("module?short of a study with ReferringPhysicianName ^^^^", f"/studies/{anon_study}/module?short"),
        get("module of an unknown patient", f"/patients/{UNKNOWN}/module"),
    ]
    for option in ["", "?simplify", "?short"]:
        c.append(get(f"module-patient{option} at studies", f"/studies/{nm_study}/module-patient{option}"))
    c += [
        get("module-patient at patients: no such route", f"/patients/{nm_patient}/module-patient"),
        get("module-patient at series: no such route", f"/series/{nm_series}/module-patient"),
        get("module-patient at instances: no such route", f"/instances/{li}/module-patient"),
    ]
    for option in ["", "?simplify", "?short"]:
        c.append(get(f"instances-tags{option} at series (2 instances)", f"/series/{nm_series}/instances-tags{option}"))
    c += [
        get("instances-tags?short at studies", f"/studies/{nm_study}/instances-tags?short"),
        get("instances-tags?simplify at patients", f"/patients/{nm_patient}/instances-tags?simplify"),
        get("instances-tags?short of a patient with 3 studies", f"/patients/{anon_patient}/instances-tags?short"),
        get("instances-tags at instances: no such route", f"/instances/{li}/instances-tags"),
        get("instances-tags of an unknown study", f"/studies/{UNKNOWN}/instances-tags"),
    ]

    # statistics
    c += [
        get("statistics of a patient", f"/patients/{nm_patient}/statistics"),
        get("statistics of a study", f"/studies/{nm_study}/statistics"),
        get("statistics of a series", f"/series/{nm_series}/statistics"),
        get("statistics of an instance", f"/instances/{li}/statistics"),
        get("statistics of a patient with 3 studies", f"/patients/{anon_patient}/statistics"),
        get("statistics of the 2-frame RLE instance", f"/instances/{rle2}/statistics"),
        get("statistics of an unknown patient", f"/patients/{UNKNOWN}/statistics"),
        get("statistics: a series ID at /patients (answered as a series)", f"/patients/{nm_series}/statistics"),
        get("module: a series ID at /patients", f"/patients/{nm_series}/module?short"),
        get("instances-tags: a study ID at /series", f"/series/{nm_study}/instances-tags?short"),
        get("module-patient: a series ID at /studies", f"/studies/{nm_series}/module-patient?short"),
    ]

    # metadata and attachments, reading
    c += [
        get("metadata: list of an instance", f"/instances/{li}/metadata"),
        get("metadata?expand of an instance", f"/instances/{li}/metadata?expand"),
        get("metadata?expand of a series", f"/series/{nm_series}/metadata?expand"),
        get("metadata?expand of a study", f"/studies/{nm_study}/metadata?expand"),
        get("metadata?expand of a patient", f"/patients/{nm_patient}/metadata?expand"),
        get("metadata: IndexInSeries", f"/instances/{li}/metadata/IndexInSeries"),
        get("metadata: TransferSyntax", f"/instances/{li}/metadata/TransferSyntax"),
        get("metadata: SopClassUid by number (10)", f"/instances/{li}/metadata/10"),
        get("metadata: user metadata declared but not set (by name)", f"/instances/{li}/metadata/Sample"),
        get("metadata: user metadata not set (by number)", f"/instances/{li}/metadata/1024"),
        get("metadata: unknown name", f"/instances/{li}/metadata/NoSuchName"),
        get("metadata: unknown instance", f"/instances/{UNKNOWN}/metadata"),
        get("attachments: list", f"/instances/{li}/attachments"),
        get("attachments?full", f"/instances/{li}/attachments?full"),
        get("attachments of a series: none", f"/series/{nm_series}/attachments"),
        get("attachments/dicom: the operations", f"/instances/{li}/attachments/dicom"),
        get("attachments/1: the dicom attachment by number", f"/instances/{li}/attachments/1"),
        get("attachments/dicom/info", f"/instances/{li}/attachments/dicom/info"),
        get("attachments/dicom/data (md5 = the uploaded file's)", f"/instances/{li}/attachments/dicom/data"),
        get("attachments/dicom/size", f"/instances/{li}/attachments/dicom/size"),
        get("attachments/dicom/compressed-size", f"/instances/{li}/attachments/dicom/compressed-size"),
        get("attachments/dicom/md5", f"/instances/{li}/attachments/dicom/md5"),
        get("attachments/dicom/compressed-md5", f"/instances/{li}/attachments/dicom/compressed-md5"),
        get("attachments/dicom/is-compressed", f"/instances/{li}/attachments/dicom/is-compressed"),
        get("attachments/dicom/compressed-data", f"/instances/{li}/attachments/dicom/compressed-data"),
        get("attachments/dicom/uncompressed-data: no such route", f"/instances/{li}/attachments/dicom/uncompressed-data"),
        get("attachments/dicom/uuid: listed but GET", f"/instances/{li}/attachments/dicom/uuid"),
        get("attachments/1/md5", f"/instances/{li}/attachments/1/md5"),
        case("attachments/dicom/verify-md5", "POST", f"/instances/{li}/attachments/dicom/verify-md5", "", raw=True),
        get("attachments/dicom/verify-md5 with GET", f"/instances/{li}/attachments/dicom/verify-md5"),
        get("attachments/dicom-until-pixel-data: absent", f"/instances/{li}/attachments/dicom-until-pixel-data"),
        get("attachments: declared user type not attached", f"/instances/{li}/attachments/report"),
        get("attachments: unknown name", f"/instances/{li}/attachments/nosuch"),
        get("attachments: number not attached", f"/instances/{li}/attachments/9999"),
        get("attachments of an unknown instance", f"/instances/{UNKNOWN}/attachments"),
    ]
    return c


def write_cases(r):
    """Metadata and attachment writes, in order (each may depend on the previous ones)."""
    lossy = r["JPEG-lossy.dcm"]
    li, nm_series, nm_patient = lossy["Instance"], lossy["Series"], lossy["Patient"]
    m, a = f"/instances/{li}/metadata", f"/instances/{li}/attachments"
    report = "%PDF-1.4\n% not a real PDF: a report attached by the fixture recorder\n"
    return [
        case("metadata PUT 1024 (text body)", "PUT", f"{m}/1024", "hello text", raw=True),
        get("metadata GET 1024", f"{m}/1024"),
        get("metadata GET Sample (UserMetadata name of 1024)", f"{m}/Sample"),
        case("metadata PUT Sample (by name, replaces)", "PUT", f"{m}/Sample", "by name", raw=True),
        get("metadata GET 1024 after the PUT by name", f"{m}/1024"),
        get("metadata list with the user metadata", m),
        get("metadata?expand with the user metadata", f"{m}?expand"),
        case("metadata PUT UTF-8 text", "PUT", f"{m}/Sample", "Grüße ✓ 日本", raw=True),
        get("metadata GET UTF-8 text", f"{m}/Sample"),
        case("metadata PUT empty body", "PUT", f"{m}/Sample", "", raw=True),
        get("metadata GET empty value", f"{m}/Sample"),
        case("metadata PUT JSON body (stored as text)", "PUT", f"{m}/Sample", {"a": [1, 2]}),
        get("metadata GET the JSON text", f"{m}/Sample"),
        case("metadata PUT system name ReceptionDate", "PUT", f"{m}/ReceptionDate", "x", raw=True),
        case("metadata PUT system number 1", "PUT", f"{m}/1", "x", raw=True),
        case("metadata PUT 1023 (reserved range)", "PUT", f"{m}/1023", "x", raw=True),
        case("metadata PUT 1025 (undeclared number >= 1024)", "PUT", f"{m}/1025", "x", raw=True),
        get("metadata list with an undeclared number", m),
        get("metadata?expand with an undeclared number", f"{m}?expand"),
        case("metadata PUT 65535", "PUT", f"{m}/65535", "y", raw=True),
        case("metadata PUT 65536", "PUT", f"{m}/65536", "y", raw=True),
        case("metadata PUT unknown name", "PUT", f"{m}/NoSuchName", "x", raw=True),
        case("metadata POST", "POST", f"{m}/Sample", "x", raw=True),
        case("metadata DELETE system name ReceptionDate", "DELETE", f"{m}/ReceptionDate"),
        case("metadata DELETE 1025", "DELETE", f"{m}/1025"),
        case("metadata DELETE 65535", "DELETE", f"{m}/65535"),
        case("metadata DELETE Sample", "DELETE", f"{m}/Sample"),
        case("metadata DELETE Sample again (not set)", "DELETE", f"{m}/Sample"),
        get("metadata GET Sample after DELETE", f"{m}/Sample"),
        case("metadata DELETE unknown name", "DELETE", f"{m}/NoSuchName"),
        case("metadata PUT on an unknown instance", "PUT", f"/instances/{UNKNOWN}/metadata/Sample", "x", raw=True),
        case("metadata PUT at series level", "PUT", f"/series/{nm_series}/metadata/Sample", "series value",
             raw=True),
        get("metadata GET at series level", f"/series/{nm_series}/metadata/Sample"),
        get("metadata?expand at series level", f"/series/{nm_series}/metadata?expand"),
        case("metadata PUT LastUpdate at series level", "PUT", f"/series/{nm_series}/metadata/LastUpdate", "x",
             raw=True),
        case("metadata DELETE at series level", "DELETE", f"/series/{nm_series}/metadata/Sample"),
        case("metadata PUT at patient level", "PUT", f"/patients/{nm_patient}/metadata/1024", "patient value",
             raw=True),
        get("metadata?expand at patient level", f"/patients/{nm_patient}/metadata?expand"),

        case("attachments PUT report (user content type 1025)", "PUT", f"{a}/report", report, raw=True),
        get("attachments list with the report", a),
        get("attachments?full with the report", f"{a}?full"),
        get("attachments/report: the operations", f"{a}/report"),
        get("attachments/report/data", f"{a}/report/data"),
        get("attachments/report/size", f"{a}/report/size"),
        get("attachments/report/md5", f"{a}/report/md5"),
        get("attachments/report/compressed-size", f"{a}/report/compressed-size"),
        get("attachments/report/compressed-md5", f"{a}/report/compressed-md5"),
        get("attachments/report/is-compressed", f"{a}/report/is-compressed"),
        get("attachments/report/info", f"{a}/report/info"),
        get("attachments/1025/size (by number)", f"{a}/1025/size"),
        case("attachments/report/compress", "POST", f"{a}/report/compress", "", raw=True),
        get("attachments/report/is-compressed after compress", f"{a}/report/is-compressed"),
        get("attachments/report/compressed-size after compress", f"{a}/report/compressed-size"),
        get("attachments/report/compressed-md5 after compress", f"{a}/report/compressed-md5"),
        get("attachments/report/md5 after compress", f"{a}/report/md5"),
        get("attachments/report/data after compress (uncompressed)", f"{a}/report/data"),
        get("attachments/report/compressed-data after compress", f"{a}/report/compressed-data"),
        case("attachments/report/verify-md5 after compress", "POST", f"{a}/report/verify-md5", "", raw=True),
        case("attachments/report/uncompress", "POST", f"{a}/report/uncompress", "", raw=True),
        get("attachments/report/is-compressed after uncompress", f"{a}/report/is-compressed"),
        case("attachments PUT report again (replaces)", "PUT", f"{a}/report", "second version", raw=True),
        get("attachments/report/data after the replacement", f"{a}/report/data"),
        case("attachments PUT dicom: refused", "PUT", f"{a}/dicom", "x", raw=True),
        case("attachments PUT 1 (dicom by number): refused", "PUT", f"{a}/1", "x", raw=True),
        case("attachments PUT dicom-until-pixel-data: refused", "PUT", f"{a}/dicom-until-pixel-data", "x",
             raw=True),
        case("attachments DELETE dicom: refused", "DELETE", f"{a}/dicom"),
        case("attachments PUT unknown name", "PUT", f"{a}/nosuch", "x", raw=True),
        case("attachments PUT undeclared number 9999", "PUT", f"{a}/9999", "x", raw=True),
        get("attachments/9999/data", f"{a}/9999/data"),
        get("attachments?full with 9999", f"{a}?full"),
        case("attachments DELETE 9999", "DELETE", f"{a}/9999"),
        case("attachments DELETE report", "DELETE", f"{a}/report"),
        case("attachments DELETE report again", "DELETE", f"{a}/report"),
        get("attachments/report after DELETE", f"{a}/report"),
        dict(case("attachments PUT on an unknown instance", "PUT", f"/instances/{UNKNOWN}/attachments/report", "x",
                  raw=True), maskEtagRevision=True),
        get("attachments of the unknown instance after that PUT", f"/instances/{UNKNOWN}/attachments"),
        get("attachments/report of the unknown instance after that PUT",
            f"/instances/{UNKNOWN}/attachments/report/data"),
        case("attachments PUT at series level", "PUT", f"/series/{nm_series}/attachments/report", "series report",
             raw=True),
        get("attachments list at series level", f"/series/{nm_series}/attachments"),
        get("attachments data at series level", f"/series/{nm_series}/attachments/report/data"),
        case("attachments DELETE at series level", "DELETE", f"/series/{nm_series}/attachments/report"),
    ]


def export_cases(r, logged):
    lossy = r["JPEG-lossy.dcm"]
    label = "" if logged else " [LogExportedResources false]"
    c = [get("exports before any export" + label, "/exports")]
    c += [
        case("store an instance to the modality self" + label, "POST", "/modalities/self/store",
             lossy["Instance"], raw=False),
        case("store a series to the modality self (Resources)" + label, "POST", "/modalities/self/store",
             {"Resources": [lossy["Series"]]}),
        case("store a patient to the modality self" + label, "POST", "/modalities/self/store",
             {"Resources": [r["CT_small.dcm"]["Patient"]]}),
        get("exports after 3 exports" + label, "/exports"),
    ]
    if logged:
        c += [
            get("exports?limit=1", "/exports?limit=1"),
            get("exports?since=1&limit=1", "/exports?since=1&limit=1"),
            get("exports?since=1", "/exports?since=1"),
            get("exports?limit=0", "/exports?limit=0"),
            get("exports?last", "/exports?last"),
        ]
    c += [
        case("DELETE /exports" + label, "DELETE", "/exports"),
        get("exports after DELETE /exports" + label, "/exports"),
    ]
    if logged:
        c += [
            case("store an instance after DELETE /exports", "POST", "/modalities/self/store", lossy["Instance"]),
            get("exports after a new export (Seq after the deletion)", "/exports"),
            case("exports: POST", "POST", "/exports", "", raw=True),
        ]
    return c


def change_and_bulk_cases(r):
    j2k = r["JPEG2000.dcm"]["Instance"]
    rle = r["SC_rgb_rle_2frame.dcm"]
    return [
        get("changes?last before DELETE /changes", "/changes?last"),
        case("DELETE /changes", "DELETE", "/changes"),
        get("changes after DELETE /changes", "/changes"),
        get("changes?last after DELETE /changes", "/changes?last"),
        case("bulk-delete: empty list", "POST", "/tools/bulk-delete", {"Resources": []}),
        case("bulk-delete: unknown ID only", "POST", "/tools/bulk-delete", {"Resources": [UNKNOWN]}),
        case("bulk-delete: unknown ID and a known instance", "POST", "/tools/bulk-delete",
             {"Resources": [UNKNOWN, j2k]}),
        get("the known instance after the bulk-delete", f"/instances/{j2k}"),
        case("bulk-delete: an instance, its study and its patient", "POST", "/tools/bulk-delete",
             {"Resources": [rle["Instance"], rle["Study"], rle["Patient"]]}),
        get("the patient after the bulk-delete", f"/patients/{rle['Patient']}"),
        case("bulk-delete: the same IDs again (all gone)", "POST", "/tools/bulk-delete",
             {"Resources": [rle["Instance"], rle["Study"], rle["Patient"]]}),
        case("bulk-delete: no Resources", "POST", "/tools/bulk-delete", {}),
        case("bulk-delete: Resources holds a number", "POST", "/tools/bulk-delete", {"Resources": [5]}),
        case("bulk-delete: Resources is a string", "POST", "/tools/bulk-delete", {"Resources": j2k}),
        case("bulk-delete: body is a JSON list", "POST", "/tools/bulk-delete", [j2k]),
        case("bulk-delete: malformed JSON", "POST", "/tools/bulk-delete", "{", raw=True),
        get("bulk-delete: GET", "/tools/bulk-delete"),
        get("statistics after the bulk-deletes", "/statistics"),
    ]


def changes_digest(orthanc, after):
    status, changes = orthanc.request("GET", "/changes?limit=1000")
    return dict(name=f"changes logged by DELETE /changes and the bulk-deletes (Seq > {after}): "
                     "[ChangeType, ResourceType, ID]", method="GET",
                path="/changes?limit=1000", body=None, status=status, headers={},
                answer=[[c["ChangeType"], c["ResourceType"], c["ID"]] for c in changes["Changes"]
                        if c["Seq"] > after])


def with_self_modality(orthanc):
    orthanc.configuration["DicomModalities"] = {
        "self": ["ORTHANC", "127.0.0.1", orthanc.configuration["DicomPort"]]}
    return orthanc


# ---------------------------------------------------------------------------------------------------------------
# Task 2: archives.json


LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def parse_dataset(buf, pos, end):
    """Explicit VR little endian elements from pos to end, or to an item delimitation: ({tag: value}, position)."""
    result = {}
    while pos < end:
        group, element = struct.unpack_from("<HH", buf, pos)
        if (group, element) == (0xFFFE, 0xE00D):
            return result, pos + 8
        vr = buf[pos + 4:pos + 6].decode("ascii")
        if vr in LONG_VRS:
            length = struct.unpack_from("<I", buf, pos + 8)[0]
            pos += 12
        else:
            length = struct.unpack_from("<H", buf, pos + 6)[0]
            pos += 8
        tag = "%04x,%04x" % (group, element)
        if vr == "SQ":
            value, pos = parse_sequence(buf, pos, length)
        else:
            raw = buf[pos:pos + length]
            pos += length
            if vr in ("US", "SS"):
                value = list(struct.unpack("<%d%s" % (len(raw) // 2, "H" if vr == "US" else "h"), raw))
            elif vr in ("UL", "SL", "up"):
                value = list(struct.unpack("<%d%s" % (len(raw) // 4, "l" if vr == "SL" else "L"), raw))
            elif vr in ("OB", "OW", "UN"):
                value = raw.hex()
            else:
                value = raw.decode("latin-1").rstrip(" \0")
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
        result[tag] = value
    return result, pos


def parse_sequence(buf, pos, length):
    items = []
    end = len(buf) if length == 0xFFFFFFFF else pos + length
    while pos < end:
        group, element, item_length = struct.unpack_from("<HHI", buf, pos)
        pos += 8
        if (group, element) == (0xFFFE, 0xE0DD):
            break
        if item_length == 0xFFFFFFFF:
            item, pos = parse_dataset(buf, pos, len(buf))
        else:
            item, _ = parse_dataset(buf, pos, pos + item_length)
            pos += item_length
        items.append(item)
    return items, pos


def dicomdir_records(data):
    dataset, _ = parse_dataset(data, 132, len(data))
    records = []
    for item in dataset.get("0004,1220", []):
        tags = {k: v for k, v in item.items()
                if k not in ("0004,1400", "0004,1410", "0004,1420", "0004,1430", "0004,1500")}
        records.append({"RecordType": item.get("0004,1430"), "ReferencedFileID": item.get("0004,1500"),
                        "Tags": tags})
    header = {k: dataset.get(k) for k in ("0002,0002", "0002,0010", "0004,1130", "0004,1212")}
    return records, header


def local_entries(data):
    """Walks the local file headers: [(name, flags, version needed, method, complete)]."""
    entries, pos = [], 0
    while data[pos:pos + 4] == b"PK\x03\x04" and pos + 30 <= len(data):
        _, needed, flags, method, _, _, _, compressed, _, name_length, extra_length = \
            struct.unpack_from("<IHHHHHIIIHH", data, pos)
        name = data[pos + 30:pos + 30 + name_length].decode("utf-8", "replace")
        end = pos + 30 + name_length + extra_length + compressed
        entries.append((name, flags, needed, method, end <= len(data)))
        pos = end
    return entries


METHODS = {0: "stored", 8: "deflated"}


def analyse_zip(data, sources):
    result = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        result["zipError"] = str(error)
        result["bodySize"] = len(data)
        result["received"] = [e[0] for e in local_entries(data) if e[4]]
        return result
    infos = archive.infolist()
    result["entries"] = [i.filename for i in infos]
    details, dicomdir = [], None
    for info in infos:
        content = archive.read(info)
        md5 = hashlib.md5(content).hexdigest()
        detail = {"name": info.filename, "method": METHODS.get(info.compress_type, info.compress_type),
                  "size": info.file_size, "compressedSize": info.compress_size,
                  "crc32": "%08x" % (binascii.crc32(content) & 0xffffffff), "md5": md5,
                  "source": sources.get(md5)}
        if info.filename == "DICOMDIR":
            # Its MediaStorageSOPInstanceUID is random (and of varying length): sizes and checksums change each run
            dicomdir = content
            detail.update(size=None, compressedSize=None, crc32=None, md5=None)
        details.append(detail)
    result["details"] = details
    local = local_entries(data)
    result["zip"] = {
        "comment": archive.comment.decode("latin-1"),
        "dataDescriptor": any(i.flag_bits & 0x08 for i in infos) or any(e[1] & 0x08 for e in local),
        "zip64": b"PK\x06\x06" in data or any(i.extract_version >= 45 for i in infos),
        "versionMadeBy": sorted({i.create_version for i in infos}),
        "createSystem": sorted({i.create_system for i in infos}),
        "versionNeeded": sorted({i.extract_version for i in infos} | {e[2] for e in local}),
        "flags": sorted({i.flag_bits for i in infos} | {e[1] for e in local}),
        "externalAttributes": sorted({i.external_attr for i in infos}),
        "localHeadersMatchCentral": [e[0] for e in local] == result["entries"],
    }
    if dicomdir is not None:
        result["dicomdir"], result["dicomdirHeader"] = dicomdir_records(dicomdir)
    return result


def record_archive(orthanc, sources, name, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    status, headers, content = orthanc.fetch(method, path, data)
    result = {"name": name, "method": method, "path": path, "body": body, "status": status,
              "headers": {k: headers.get(k) for k in ("content-type", "content-disposition")}}
    if content[:2] == b"PK":
        result.update(analyse_zip(content, sources))
    else:
        result["bodySize"] = len(content)
        try:
            result["answer"] = json.loads(content) if content.strip() else None
        except ValueError:
            result["answer"] = None
            result["text"] = content.decode("utf-8", "replace")
    return result


DERIVED_ROOT = "1.2.826.0.1.3680043.10.543.7"


def derive(orthanc, source, label, replace, remove=()):
    """Stores a modified copy of `source` (explicit UIDs, so the bytes are the same each run)."""
    body = {"Replace": replace, "Remove": list(remove), "Force": True}
    status, _, dicom = orthanc.fetch("POST", f"/instances/{source}/modify", json.dumps(body).encode())
    if status != 200:
        raise RuntimeError(f"modify for {label}: {status} {dicom[:300]!r}")
    answer = orthanc.post("/instances", dicom)
    return answer, hashlib.md5(dicom).hexdigest()


def archive_cases(orthanc, r, sources):
    lossy = r["JPEG-lossy.dcm"]
    nm_study, nm_patient = lossy["Study"], lossy["Patient"]
    derived = {}
    specs = [
        ("D1 NM study, series 2, odd SeriesDescription",
         {"SeriesInstanceUID": DERIVED_ROOT + ".1", "SOPInstanceUID": DERIVED_ROOT + ".1.1", "SeriesNumber": "2",
          "InstanceNumber": "1", "SeriesDescription": "Derived #2: a/b*c?d [x]_y.z   (e-f) & g'h, i+j=k~"}, ()),
        ("D2 NM study, series 3, no SeriesDescription (same folder name as series 1)",
         {"SeriesInstanceUID": DERIVED_ROOT + ".2", "SOPInstanceUID": DERIVED_ROOT + ".2.1", "SeriesNumber": "3",
          "InstanceNumber": "1"}, ("SeriesDescription",)),
        ("D3 second study of the NM patient (same StudyDescription), series without Modality",
         {"StudyInstanceUID": DERIVED_ROOT + ".3", "SeriesInstanceUID": DERIVED_ROOT + ".3.1",
          "SOPInstanceUID": DERIVED_ROOT + ".3.1.1", "Modality": "", "SeriesNumber": "1", "InstanceNumber": "1"},
         ("SeriesDescription",)),
        ("D4 second study of the NM patient, Modality of one lower-case letter, 64-character SeriesDescription",
         {"StudyInstanceUID": DERIVED_ROOT + ".3", "SeriesInstanceUID": DERIVED_ROOT + ".3.2",
          "SOPInstanceUID": DERIVED_ROOT + ".3.2.1", "Modality": "x", "SeriesNumber": "2", "InstanceNumber": "1",
          "SeriesDescription": "A series description of sixty-four characters, the LO maximum.."}, ()),
    ]
    for label, replace, remove in specs:
        answer, md5 = derive(orthanc, lossy["Instance"], label, replace, remove)
        derived[label[:2]] = answer
        sources.setdefault(md5, "derived:" + label[:2])
    second_study = derived["D3"]["ParentStudy"]
    anon = r["image_dfl.dcm"]["Patient"]
    chr_patients = [r[n]["Patient"] for n in sorted(r) if n.startswith("chr")]
    media_mix = [r[n]["Instance"] for n in ("SC_rgb_rle_2frame.dcm", "chrFren.dcm", "chrJapMulti.dcm",
                                            "chrRuss.dcm", "liver_1frame.dcm", "rtdose_1frame.dcm",
                                            "test-SR.dcm", "waveform_ecg.dcm")]

    def rec(name, method, path, body=None):
        return record_archive(orthanc, sources, name, method, path, body)

    c = [
        rec("study archive: NM study with 3 series (odd SeriesDescription, folder-name collision)", "GET",
            f"/studies/{nm_study}/archive"),
        rec("patient archive: NM patient with 2 studies of the same description", "GET",
            f"/patients/{nm_patient}/archive"),
        rec("series archive: the series with the odd SeriesDescription", "GET",
            f"/series/{derived['D1']['ParentSeries']}/archive"),
        rec("study archive: second NM study (no Modality; one-letter Modality)", "GET",
            f"/studies/{second_study}/archive"),
        rec("patient archive: empty PatientID, PatientName ^^^^ on one study, 3 studies", "GET",
            f"/patients/{anon}/archive"),
        rec("POST study archive with {} (synchronous)", "POST", f"/studies/{nm_study}/archive", {}),
        rec("instance archive: no such route", "GET", f"/instances/{lossy['Instance']}/archive"),
        rec("study archive of an unknown study", "GET", f"/studies/{UNKNOWN}/archive"),
        rec("create-archive: the patients of the chr*.dcm files (non-ASCII names)", "POST",
            "/tools/create-archive", {"Resources": chr_patients}),
        rec("create-archive: an instance, a series and the study holding both, plus another patient", "POST",
            "/tools/create-archive",
            {"Resources": [lossy["Instance"], derived["D1"]["ParentSeries"], nm_study,
                           r["CT_small.dcm"]["Patient"]]}),
        rec("create-archive: an instance and another series of the same study (only those)", "POST",
            "/tools/create-archive", {"Resources": [r["JPEG2000.dcm"]["Instance"], derived["D2"]["ParentSeries"]]}),
        rec("create-archive: every patient", "POST", "/tools/create-archive",
            {"Resources": sorted({v["Patient"] for v in r.values()})}),
        rec("create-archive: body is a plain list of IDs", "POST", "/tools/create-archive", [lossy["Instance"]]),
        rec("create-archive: empty Resources", "POST", "/tools/create-archive", {"Resources": []}),
        rec("create-archive: unknown ID", "POST", "/tools/create-archive", {"Resources": [UNKNOWN]}),
        rec("create-archive: no Resources", "POST", "/tools/create-archive", {}),
        rec("study media: NM study with 3 series", "GET", f"/studies/{nm_study}/media"),
        rec("study media?extended", "GET", f"/studies/{nm_study}/media?extended"),
        rec("patient media: NM patient with 2 studies", "GET", f"/patients/{nm_patient}/media"),
        rec("series media", "GET", f"/series/{lossy['Series']}/media"),
        rec("patient media: empty PatientID, 3 studies", "GET", f"/patients/{anon}/media"),
        rec("create-media: instances of 8 patients (RLE, charsets, SEG, RT dose, SR, ECG)", "POST",
            "/tools/create-media", {"Resources": media_mix}),
        rec("create-media-extended: NM study", "POST", "/tools/create-media-extended", {"Resources": [nm_study]}),
        rec("create-media: empty Resources", "POST", "/tools/create-media", {"Resources": []}),
        rec("media of rtstruct.dcm (no file meta header, so no TransferSyntaxUID for its DICOMDIR record): "
            "fails after the 200 was sent (empty body)", "GET", f"/series/{r['rtstruct.dcm']['Series']}/media"),
        rec("create-media: rtdose_1frame.dcm then rtstruct.dcm (no file meta header): the ZIP stops after the "
            "first file", "POST",
            "/tools/create-media", {"Resources": [r["rtdose_1frame.dcm"]["Instance"], r["rtstruct.dcm"]["Instance"]]}),
        rec("instance media: no such route", "GET", f"/instances/{lossy['Instance']}/media"),
    ]

    # Asynchronous archive: a job, then its output
    status, answer = orthanc.request("POST", f"/studies/{nm_study}/archive", b'{"Asynchronous": true}')
    job = answer["ID"]
    masked = json.loads(json.dumps(answer).replace(job, "<job-id>"))
    c.append({"name": "asynchronous study archive: the job", "method": "POST", "path": f"/studies/{nm_study}/archive",
              "body": {"Asynchronous": True}, "status": status, "answer": masked, "headers": {}})
    for _ in range(300):
        info = orthanc.get(f"/jobs/{job}")
        if info["State"] in ("Success", "Failure"):
            break
        time.sleep(0.1)
    c.append({"name": "asynchronous study archive: the finished job (selected fields)", "method": "GET",
              "path": "/jobs/<job-id>", "body": None, "status": 200, "headers": {},
              "answer": {k: info.get(k) for k in ("Type", "State", "Progress", "ErrorCode", "ErrorDescription",
                                                  "Content")}})
    output = rec("asynchronous study archive: GET /jobs/{id}/archive", "GET", f"/jobs/{job}/archive")
    output["path"] = "/jobs/<job-id>/archive"
    c.append(output)
    return c


# ---------------------------------------------------------------------------------------------------------------


def dump(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        json.dump(value, out, indent=1, sort_keys=True, ensure_ascii=False)
        out.write("\n")


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else OUTPUT
    results = []
    configuration = {"StableAge": 100000, "UserMetadata": {"Sample": 1024},
                     "UserContentType": {"report": [1025, "application/pdf"]}}

    with with_self_modality(StockOrthanc(LogExportedResources=True, **configuration)) as orthanc:
        r, _ = upload_all(orthanc)
        for c in read_cases(r):
            results.append(run(orthanc, c))
        for c in write_cases(r):
            results.append(run(orthanc, c))
        for c in export_cases(r, logged=True):
            results.append(run(orthanc, c))
        after = orthanc.get("/changes?last")["Last"]
        for c in change_and_bulk_cases(r):
            results.append(run(orthanc, c))
        results.append(changes_digest(orthanc, after))
        version = orthanc.version

    with with_self_modality(StockOrthanc(LogExportedResources=False, **configuration)) as orthanc:
        r, sources = upload_all(orthanc)
        archives = archive_cases(orthanc, r, sources)
        for c in export_cases(r, logged=False):
            results.append(run(orthanc, c))

    dump(os.path.join(folder, "cases.json"), results)
    dump(os.path.join(folder, "archives.json"), archives)
    print(f"{len(results)} cases and {len(archives)} archives from Orthanc {version} -> {folder}")


if __name__ == "__main__":
    main()
