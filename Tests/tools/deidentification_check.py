#!/usr/bin/env python3
"""Checks de-identification itself, independently of any oracle: a file holding every attribute the profile lists
(2021b by default, from Shared/Modification/AnonymizationProfile+Tables.swift; 2023b adds the differences in
AnonymizationProfile+2023b.swift, read from Orthanc 1.12's table), at the top level and again inside sequence items two
levels deep, each with a value of its own, is stored in Tessera and anonymized with that profile; then at every depth a
removed attribute must be gone, an emptied one empty, a mapped one changed, no private tag left and no original
identifying value anywhere. Prints one JSON object: {"checked", "violations"}.

  deidentification_check.py --api http://127.0.0.1:8042 [--version 2023b]
"""
import argparse
import io
import json
import os
import re
import urllib.error
import urllib.request

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = os.path.join(HERE, "..", "..", "Shared", "Modification", "AnonymizationProfile+Tables.swift")
TABLES_2023B = os.path.join(HERE, "..", "..", "Shared", "Modification", "AnonymizationProfile+2023b.swift")
TAG = r"T\(0x([0-9A-F]{4}), 0x([0-9A-F]{4})\)"


def differences_2023b():
    """The sets 2023b adds to 2021b: {"emptiedSince2021b": set, "removedSince2021b": set, "mappedSince2021b": set}."""
    text = open(TABLES_2023B).read()
    result = {}
    for name in ("emptiedSince2021b", "removedSince2021b", "mappedSince2021b"):
        part = text[text.index("let %s" % name):]
        part = part[:part.index("]")]
        result[name] = {int(g, 16) << 16 | int(e, 16) for g, e in re.findall(TAG, part)}
    return result


def profile(version="2021b"):
    """{"removed": set, "emptied": set, "mapped": set} of tags, read from the generated Swift tables."""
    if version == "2023b":
        base, more = profile("2021b"), differences_2023b()
        removed = base["removed"] | more["removedSince2021b"]
        return {"removed": removed, "emptied": (base["emptied"] - more["removedSince2021b"]) | more["emptiedSince2021b"],
                "mapped": base["mapped"] | more["mappedSince2021b"]}
    text = open(TABLES).read()
    block = text[text.index('static let v%s' % version):]
    block = block[:block.index("])") + 2]
    result = {}
    for name in ("removed", "emptied", "mapped"):
        part = block[block.index(name + ": ["):]
        part = part[:part.index("]")]
        result[name] = {int(g, 16) << 16 | int(e, 16) for g, e in re.findall(TAG, part)}
    return result


def value(tag, vr):
    unique = "%08X" % tag
    simple = {"AE": "A" + unique, "AS": "030Y", "AT": 0x00100010, "CS": "C" + unique, "DA": "20200101", "DS": "1.5",
              "DT": "20200101120000", "FL": 1.5, "FD": 1.5, "IS": "7", "LO": "L" + unique, "LT": "T" + unique,
              "OB": b"\x01\x02", "OD": b"\0" * 8, "OF": b"\0" * 4, "OL": b"\0" * 4, "OV": b"\0" * 8, "OW": b"\x01\x02",
              "PN": "P" + unique, "SH": "S" + unique, "SL": 1, "SS": 1, "ST": "T" + unique, "SV": 1, "TM": "120000",
              "UC": "U" + unique, "UI": "1.2.3.%d.%d" % (tag >> 16, tag & 0xFFFF), "UL": 1, "UN": b"\x01\x02",
              "UR": "http://x/" + unique, "US": 1, "UT": "T" + unique, "UV": 1}
    return simple.get(vr)


CARRIERS = (0x00081115, 0x00081140)  # ReferencedSeriesSequence, ReferencedImageSequence


def fill(dataset, tags, depth):
    """Every attribute of `tags`; the carrier sequences hold an item with every attribute again (two levels deep),
    the other sequences an item with one UID."""
    for tag in sorted(tags):
        try:
            vr = dictionary_VR(tag).split(" or ")[0]
        except KeyError:
            continue
        if vr == "SQ":
            item = Dataset()
            if tag in CARRIERS and depth < 2:
                fill(item, tags, depth + 1)
            else:
                item.ReferencedSOPInstanceUID = "1.2.3.99.%d" % (tag & 0xFFFF)
            dataset.add_new(tag, "SQ", [item])
            continue
        if value(tag, vr) is not None:
            dataset.add_new(tag, vr, value(tag, vr))
    # Private tags at every depth.
    dataset.add_new(0x00110010, "LO", "PRIVATE CREATOR")
    dataset.add_new(0x00111001, "LO", "PRIVATE VALUE")


def walk(dataset, path=""):
    for element in dataset:
        yield path, element
        if element.VR == "SQ":
            for index, item in enumerate(element.value):
                yield from walk(item, "%s%08X[%d]." % (path, int(element.tag), index))


def post(url, data):
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.read()
    except urllib.error.HTTPError as error:
        raise SystemExit("%s: %d %s" % (url, error.code, error.read()[:500].decode("utf-8", "replace")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--route", default="anonymize", help="modify shows what the check catches when nothing is done")
    parser.add_argument("--version", default="2021b")
    options = parser.parse_args()
    lists = profile(options.version)
    every = lists["removed"] | lists["emptied"] | lists["mapped"]
    source = Dataset()
    fill(source, every | {0x00081115, 0x00081140}, 0)
    source.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    source.PatientName = "Doe^Jane"
    source.SpecificCharacterSet = "ISO_IR 100"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = source.SOPClassUID, source.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    source.file_meta = meta
    buffer = io.BytesIO()
    source.save_as(buffer, write_like_original=False)
    instance = json.loads(post(options.api + "/instances", buffer.getvalue()))["ID"]
    anonymized = pydicom.dcmread(io.BytesIO(post(options.api + "/instances/%s/%s" % (instance, options.route),
                                                    json.dumps({"DicomVersion": options.version}).encode() if options.route == "anonymize" else b"{}")), force=True)
    originals = {}
    for path, element in walk(source):
        if element.VR in ("PN", "LO", "SH", "UI", "AE", "UT", "LT", "ST", "UC", "UR") and int(element.tag) in every:
            originals[str(element.value)] = path + "%08X" % int(element.tag)
    checked, violations = 0, []
    for path, element in walk(anonymized):
        tag, where = int(element.tag), path + "%08X" % int(element.tag)
        checked += 1
        if element.tag.is_private:
            violations.append("%s: a private tag is left" % where)
        elif tag in lists["removed"]:
            violations.append("%s: should be removed" % where)
        elif tag in lists["emptied"] and element.VR != "SQ" and element.value not in (None, "", b""):
            violations.append("%s: should be empty, is %s" % (where, str(element.value)[:60]))
        elif tag in lists["emptied"] and element.VR == "SQ" and len(element.value) > 0:
            violations.append("%s: should be an empty sequence" % where)
        elif element.VR != "SQ" and str(element.value) in originals and tag not in (0x00080016, 0x00081150):
            violations.append("%s: keeps the original value of %s" % (where, originals[str(element.value)]))
    if str(anonymized.get("PatientName", "")) == "Doe^Jane":
        violations.append("PatientName kept")
    print(json.dumps({"checked": checked, "violations": violations[:50], "count": len(violations)}))


if __name__ == "__main__":
    main()
