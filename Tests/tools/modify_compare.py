#!/usr/bin/env python3
"""POSTs the same /instances/{id}/modify bodies to Tessera and to stock Orthanc (Debian package, started here) for
the same files, and compares what comes back: the HTTP status, and for a modified file every element pydicom reads
(sequences item by item, the meta header's UIDs and transfer syntax). UIDs that Orthanc regenerates are compared by
behaviour: both sides regenerated them (a new value, the meta header following) or both kept them. Prints one JSON
object on stdout:

  modify_compare.py --api http://127.0.0.1:8042 --bodies BODIES.json FILE...
  modify_compare.py --api ... --resources RESOURCE-BODIES.json FILE...

BODIES.json: [{"name": "...", "body": {...} or "raw text"}]. Output: {"orthanc": version, "compared": N,
"different": [{"file", "body", "why"}], "statuses": {name: [status per file]}}.

With --resources, the files (one study or more) are stored on both sides and each entry {"name", "level": "Patient" |
"Study" | "Series", "body"} modifies the first resource of that level (POST /{level}/{id}/modify) on both: the
status, the answer's fields, the new resource's tree and every new instance (matched to Orthanc's through their
ModifiedFrom metadata, which names the same original on both sides) are compared; the new resources are deleted
after each entry, and the originals stored again when KeepSource removed them.
"""
import argparse
import io
import json
import os
import sys
import urllib.error
import urllib.request

import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from stock_orthanc import StockOrthanc  # noqa: E402

REGENERATED = {0x0020000D: "StudyInstanceUID", 0x0020000E: "SeriesInstanceUID", 0x00080018: "SOPInstanceUID"}


def oracle_body(body, route):
    """An anonymization body names 2021b when it names no version: Debian's 1.10.1 defaults to 2021b, Tessera (as Orthanc
    1.12.1 and later) to 2023b, so the comparison asks both for the profile the oracle knows."""
    if route == "anonymize" and isinstance(body, dict) and "DicomVersion" not in body:
        return dict(body, DicomVersion="2021b")
    return body


def call(base, method, path, data=None, content_type=None):
    request = urllib.request.Request(base + path, data=data, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def flatten(dataset, prefix=""):
    """{path: value} for every element, sequences expanded item by item."""
    values = {}
    for element in dataset:
        if element.tag.element == 0:
            continue  # group lengths follow the lengths of regenerated UIDs, which vary from one UID to the next
        name = prefix + "%08X" % int(element.tag)
        if element.VR == "SQ":
            values[name] = "items:%d" % len(element.value)
            for index, item in enumerate(element.value):
                values.update(flatten(item, "%s[%d]." % (name, index)))
        else:
            value = element.value
            if isinstance(value, bytes):
                value = value.hex()
            values[name] = "%s %s" % (element.VR, value)
    return values


def first_difference(fa, fb):
    """The first element (in path order) whose value differs, or None."""
    for key in sorted(set(fa) | set(fb)):
        if fa.get(key) != fb.get(key):
            return "%s: %s vs %s" % (key, str(fa.get(key))[:200], str(fb.get(key))[:200])
    return None


def read_all(*files):
    return [pydicom.dcmread(io.BytesIO(data), force=True) for data in files]


def normalized(source, answer):
    """An anonymized file's elements, each new identifier (a UI value, or the PatientID, that differs from the source's
    at the same place) written as the source value it replaces, the generated names and methods in their shape; None
    when one original value got two different new values (a broken relationship)."""
    values = flatten(answer)
    before = flatten(source)
    new_of = {}
    for key, value in list(values.items()):
        tag = key.rsplit(".", 1)[-1]
        vr, _, text = value.partition(" ")
        old = before.get(key, "").partition(" ")[2]
        if (vr == "UI" or tag == "00100020") and text != old and text:
            if new_of.setdefault(old, text) != text:
                return None
            values[key] = "%s new-for:%s" % (vr, old)
        elif tag == "00100010" and text.startswith("Anonymized") and text[len("Anonymized"):].isdigit():
            values[key] = "PN Anonymized<N>"
        elif tag == "00120063":
            values[key] = "LO ... - " + text.split(" - ", 1)[-1]
    return values


def compare_anonymized(original, ours, theirs):
    try:
        source, a, b = read_all(original, ours, theirs)
    except Exception as error:  # noqa: BLE001 - an unreadable answer is a difference
        return "unreadable answer: %s" % error
    fa, fb = normalized(source, a), normalized(source, b)
    if fa is None or fb is None:
        return "one original UID got two new values (%s)" % ("Tessera" if fa is None else "Orthanc")
    why = first_difference(fa, fb)
    if why:
        return why
    if str(a.file_meta.get("MediaStorageSOPInstanceUID", "")) != str(a.get("SOPInstanceUID", "")):
        return "Tessera's meta header does not follow the SOP Instance UID"
    return None


def items(fragments):
    """Encapsulated pixel data made of `fragments` as they are (the first one the basic offset table)."""
    data = b""
    for fragment in fragments:
        data += b"\xfe\xff\x00\xe0" + len(fragment).to_bytes(4, "little") + fragment
    return data + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"


def zero_padding(dataset):
    """Encapsulated pixel data with the byte padding each odd JPEG fragment after its EOI set to 0: DCMTK's JPEG-LS
    encoder leaves it uninitialised (stock Orthanc's files carry whatever was in memory there)."""
    if "PixelData" not in dataset or not dataset.file_meta.TransferSyntaxUID.is_encapsulated:
        return
    fragments = []
    for fragment in pydicom.encaps.generate_fragments(dataset.PixelData):
        if len(fragment) >= 3 and fragment[-3:-1] == b"\xff\xd9":
            fragment = fragment[:-1] + b"\x00"
        fragments.append(fragment)
    dataset.PixelData = items(fragments) if fragments else dataset.PixelData


def compare(original, ours, theirs):
    """Why the two modified files differ, or None."""
    try:
        source, a, b = read_all(original, ours, theirs)
        zero_padding(a)
        zero_padding(b)
    except Exception as error:  # noqa: BLE001 - an unreadable answer is a difference
        return "unreadable answer: %s" % error
    fa, fb = flatten(a), flatten(b)
    for tag, name in REGENERATED.items():
        key = "%08X" % tag
        before = str(source.get(tag).value) if tag in source else None
        new_a, new_b = fa.pop(key, None), fb.pop(key, None)
        changed_a = new_a is not None and new_a.split(" ", 1)[-1] != before
        changed_b = new_b is not None and new_b.split(" ", 1)[-1] != before
        if changed_a != changed_b:
            return "%s: regenerated by %s only (%s vs %s, was %s)" % (
                name, "Tessera" if changed_a else "Orthanc", new_a, new_b, before)
        if not changed_a and new_a != new_b:
            return "%s: %s vs %s" % (name, new_a, new_b)
    if str(a.file_meta.get("MediaStorageSOPInstanceUID", "")) != str(a.get("SOPInstanceUID", "")):
        return "Tessera's meta header does not follow the SOP Instance UID"
    for keyword in ("TransferSyntaxUID", "MediaStorageSOPClassUID"):
        if str(a.file_meta.get(keyword, "")) != str(b.file_meta.get(keyword, "")):
            return "meta %s: %s vs %s" % (keyword, a.file_meta.get(keyword), b.file_meta.get(keyword))
    why = first_difference(fa, fb)
    if why:
        return why
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--bodies")
    parser.add_argument("--resources")
    parser.add_argument("files", nargs="+")
    options = parser.parse_args()
    if options.resources:
        return compare_resources(options)
    with open(options.bodies) as handle:
        bodies = json.load(handle)
    report = {"compared": 0, "different": [], "statuses": {}}
    with StockOrthanc() as orthanc:
        report["orthanc"] = orthanc.version
        try:
            for path in options.files:
                with open(path, "rb") as handle:
                    data = handle.read()
                ours_status, ours_body = call(options.api, "POST", "/instances", data, "application/dicom")
                theirs_status, theirs_body = orthanc.request("POST", "/instances", data)
                if ours_status != 200 or theirs_status != 200:
                    continue
                ours_id, theirs_id = json.loads(ours_body)["ID"], theirs_body["ID"]
                try:
                    compare_all(options.api, orthanc, path, data, ours_id, theirs_id, bodies, report)
                finally:
                    # Files sharing a SOP Instance UID (the same image in two transfer syntaxes) must not meet.
                    call(options.api, "DELETE", "/instances/%s" % ours_id)
                    orthanc.request("DELETE", "/instances/%s" % theirs_id)
        finally:
            orthanc.server.kill()
            orthanc.server.wait()
    print(json.dumps(report))


def compare_all(api, orthanc, path, data, ours_id, theirs_id, bodies, report):
    """Every body on one file, on both sides."""
    for entry in bodies:
        route = entry.get("route", "modify")
        body = oracle_body(entry["body"], route)
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        a_status, a_bytes = call(api, "POST", "/instances/%s/%s" % (ours_id, route), raw)
        b_status, _, b_bytes = orthanc.fetch("POST", "/instances/%s/%s" % (theirs_id, route), raw)
        report["compared"] += 1
        report["statuses"].setdefault(entry["name"], []).append(a_status)
        why = None
        if a_status != b_status:
            why = "status %d vs Orthanc's %d: %s" % (a_status, b_status, a_bytes[:300].decode("utf-8", "replace"))
        elif a_status == 200:
            why = compare_anonymized(data, a_bytes, b_bytes) if route == "anonymize" else compare(data, a_bytes, b_bytes)
        elif not a_bytes.strip().startswith(b"{"):
            why = "an error without Orthanc's JSON body"
        if why:
            report["different"].append({"file": os.path.basename(path), "body": entry["name"], "why": why})


COLLECTION = {"Patient": "patients", "Study": "studies", "Series": "series"}


def get_json(base, path):
    status, body = call(base, "GET", path)
    return json.loads(body) if status == 200 else None


def store_all(api, orthanc, files):
    """Stores the files on both sides; {Orthanc's instance ID: file bytes}."""
    stored = {}
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        call(api, "POST", "/instances", data, "application/dicom")
        status, body = orthanc.request("POST", "/instances", data)
        if status == 200 and isinstance(body, dict):
            stored[body["ID"]] = data
    return stored


def new_instances(base, collection, resource, metadata="ModifiedFrom"):
    """{original instance ID: file bytes} for the instances of a new resource, through their ModifiedFrom (or
    AnonymizedFrom) metadata."""
    result = {}
    for instance in get_json(base, "/%s/%s/instances" % (collection, resource)) or []:
        origin = (get_json(base, "/instances/%s/metadata?expand" % instance["ID"]) or {}).get(metadata)
        if origin is None:
            continue  # an original in a resource whose identifier was kept
        _, data = call(base, "GET", "/instances/%s/file" % instance["ID"])
        result[origin] = data
    return result


def shape(base, collection, resource):
    """The number of studies, series and instances below a resource."""
    counts = []
    for child in ("studies", "series", "instances"):
        if collection == child or (collection == "series" and child == "studies"):
            continue
        counts.append(len(get_json(base, "/%s/%s/%s" % (collection, resource, child)) or []))
    return counts


def compare_resources(options):
    with open(options.resources) as handle:
        entries = json.load(handle)
    report = {"compared": 0, "instances": 0, "different": [], "statuses": {}}
    orthanc_base = None
    with StockOrthanc() as orthanc:
        report["orthanc"] = orthanc.version
        orthanc_base = orthanc.base
        try:
            originals = store_all(options.api, orthanc, options.files)
            for entry in entries:
                collection = COLLECTION[entry["level"]]
                resource = sorted(get_json(orthanc_base, "/" + collection))[0]
                route = entry.get("route", "modify")
                raw = json.dumps(oracle_body(entry["body"], route)).encode()
                a_status, a_body = call(options.api, "POST", "/%s/%s/%s" % (collection, resource, route), raw)
                b_status, b_body = call(orthanc_base, "POST", "/%s/%s/%s" % (collection, resource, route), raw)
                report["compared"] += 1
                report["statuses"][entry["name"]] = a_status
                why = None
                if a_status != b_status:
                    why = "status %d vs Orthanc's %d: %s" % (a_status, b_status, a_body[:300].decode("utf-8", "replace"))
                elif a_status == 200:
                    why = compare_answers(json.loads(a_body), json.loads(b_body), options.api, orthanc_base, collection,
                                          resource, originals, report, anonymized=route == "anonymize")
                # What either side made goes before the next entry (also when only one side made it); deleting a new
                # resource may take originals with it (a kept identifier): they are stored again.
                for side, status, body in ((options.api, a_status, a_body), (orthanc_base, b_status, b_body)):
                    if status == 200:
                        made = json.loads(body).get("ID")
                        if made:
                            call(side, "DELETE", "/%s/%s" % (collection, made))
                store_all(options.api, orthanc, options.files)
                if why:
                    report["different"].append({"body": entry["name"], "why": why})
        finally:
            orthanc.server.kill()
            orthanc.server.wait()
    print(json.dumps(report))


def compare_answers(a, b, api, orthanc_base, collection, resource, originals, report, anonymized=False):
    if sorted(a) != sorted(b):
        return "answer fields %s vs %s" % (sorted(a), sorted(b))
    for key in ("Type", "InstancesCount", "FailedInstancesCount", "IsAnonymization", "Description"):
        if a.get(key) != b.get(key):
            return "%s: %s vs %s" % (key, a.get(key), b.get(key))
    if (a["ID"] == resource) != (b["ID"] == resource):
        return "the new resource is the original on one side only"
    if shape(api, collection, a["ID"]) != shape(orthanc_base, collection, b["ID"]):
        return "tree below the new resource: %s vs %s" % (shape(api, collection, a["ID"]), shape(orthanc_base, collection, b["ID"]))
    kept_a = get_json(api, "/%s/%s" % (collection, resource)) is not None
    kept_b = get_json(orthanc_base, "/%s/%s" % (collection, resource)) is not None
    if kept_a != kept_b:
        return "original kept: %s vs %s" % (kept_a, kept_b)
    metadata = "AnonymizedFrom" if anonymized else "ModifiedFrom"
    ours, theirs = new_instances(api, collection, a["ID"], metadata), new_instances(orthanc_base, collection, b["ID"], metadata)
    if sorted(map(str, ours)) != sorted(map(str, theirs)):
        return "ModifiedFrom of the new instances: %s vs %s" % (sorted(map(str, ours))[:3], sorted(map(str, theirs))[:3])
    for origin, data in ours.items():
        report["instances"] += 1
        if origin not in originals:
            return "ModifiedFrom %s names no original instance" % origin
        why = (compare_anonymized if anonymized else compare)(originals[origin], data, theirs[origin])
        if why:
            return "instance from %s: %s" % (origin, why)
    return None


if __name__ == "__main__":
    main()
