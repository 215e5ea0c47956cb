#!/usr/bin/env python3
"""Side by side with stock Orthanc (Debian package, started here): /tools/create-dicom, /studies/{id}/split,
/studies/{id}/merge, /tools/bulk-modify and /tools/bulk-anonymize, the same requests on both, the same files stored
on both beforehand (so both sides have the same public IDs). Prints one JSON object:

  restructure_compare.py --api http://127.0.0.1:8042 FILE...

Output: {"orthanc": version, "compared": N, "instances": M, "different": [{"case", "why"}], "statuses": {case: status}}.

create-dicom: the status and OrthancStatus, the answer's fields, and every element of each created file (its meta
header's SOP class and transfer syntax too); identifiers made anew (UIDs, a generated PatientID) and the current date
and time are compared by shape, never by value, but must equal the parent's where a Parent gives them.
split, merge, bulk: the status and OrthancStatus, the answer's fields, and afterwards every instance either side holds,
each flattened with new identifiers (values that no stored original has) written as NEW, generated patient names as
Anonymized<N>: the sorted lists must be equal (originals kept or deleted alike, the same tags written), and the new
Series Instance UIDs must group the instances alike. Before each case both sides are emptied and the files stored again.
"""
import argparse
import base64
import io
import json
import os
import re
import sys

import pydicom
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from modify_compare import call, first_difference, flatten  # noqa: E402
from stock_orthanc import StockOrthanc  # noqa: E402

DATES = {"00080012", "00080013", "00080020", "00080021", "00080022", "00080023", "00080030", "00080031", "00080032",
         "00080033"}
IDENTIFIERS = {"00080018", "0020000D", "0020000E", "00100020"}


def get_json(base, path):
    status, body = call(base, "GET", path)
    return json.loads(body) if status == 200 else None


def uri(image, kind):
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return "data:image/%s;base64,%s" % (kind.lower(), base64.b64encode(buffer.getvalue()).decode())


def images():
    grey = Image.new("L", (5, 3))
    grey.putdata([(i * 37) % 256 for i in range(15)])
    grey16 = Image.new("I;16", (4, 2))
    grey16.putdata([0, 1, 255, 256, 1000, 4095, 40000, 65535])
    rgb = Image.new("RGB", (3, 3))
    rgb.putdata([(i * 20, 255 - i * 20, i * 7) for i in range(9)])
    rgba = Image.new("RGBA", (3, 1))
    rgba.putdata([(1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12)])
    palette = grey.convert("P")
    pdf = "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4\n% a small document\n%%EOF").decode()
    return {"grey": uri(grey, "PNG"), "grey16": uri(grey16, "PNG"), "rgb": uri(rgb, "PNG"), "rgba": uri(rgba, "PNG"),
            "palette": uri(palette, "PNG"), "jpeg-grey": uri(grey, "JPEG"), "jpeg-rgb": uri(rgb, "JPEG"), "pdf": pdf}


def create_cases(study, series, patient, instance):
    i = images()
    return [
        ("plain", {"Tags": {"PatientName": "Hello^World", "StudyDescription": "Created"}}),
        ("legacy", {"PatientName": "Legacy^Form", "Modality": "OT"}),
        ("png-grey", {"Tags": {"PatientName": "Grey"}, "Content": i["grey"]}),
        ("png-grey16", {"Tags": {"PatientName": "Grey16"}, "Content": i["grey16"]}),
        ("png-rgb", {"Tags": {}, "Content": i["rgb"]}),
        ("png-rgba", {"Tags": {}, "Content": i["rgba"]}),
        ("png-palette", {"Tags": {}, "Content": i["palette"]}),
        ("monochrome1-kept", {"Tags": {"PhotometricInterpretation": "MONOCHROME1"}, "Content": i["grey"]}),
        ("jpeg-grey", {"Tags": {}, "Content": i["jpeg-grey"]}),
        ("jpeg-rgb", {"Tags": {}, "Content": i["jpeg-rgb"]}),
        ("pdf", {"Tags": {"Modality": "DOC"}, "Content": i["pdf"]}),
        ("pdf-no-modality", {"Tags": {}, "Content": i["pdf"]}),
        ("not-pdf", {"Tags": {}, "Content": "data:application/pdf;base64," + base64.b64encode(b"hello").decode()}),
        ("text-content", {"Tags": {}, "Content": "data:text/plain;base64,aGVsbG8="}),
        ("not-uri", {"Tags": {}, "Content": "hello"}),
        ("bad-png", {"Tags": {}, "Content": "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nnope").decode()}),
        ("sequence", {"Tags": {"PatientName": "Seq", "ReferencedStudySequence": [
            {"ReferencedSOPClassUID": "1.2.840.10008.3.1.2.3.1", "ReferencedSOPInstanceUID": "1.2.3.4"}]}}),
        ("binary-tag", {"Tags": {"PatientComments": "data:application/octet-stream;base64,aGVsbG8="}}),
        ("binary-tag-literal", {"Tags": {"PatientComments": "data:application/octet-stream;base64,aGVsbG8="},
                                "InterpretBinaryTags": False}),
        ("charset-utf8", {"Tags": {"SpecificCharacterSet": "ISO_IR 192", "PatientName": "Jérôme^Ça"}}),
        ("charset-latin1", {"Tags": {"PatientName": "Jérôme^Ça"}}),
        ("charset-unknown", {"Tags": {"SpecificCharacterSet": "nope"}}),
        ("private", {"Tags": {"0009,0010": "ACME", "0009,1001": "private value"}, "PrivateCreator": "ACME"}),
        ("uid-without-force", {"Tags": {"SOPInstanceUID": "1.2.3.4.5.6.7.8"}}),
        ("uid-with-force", {"Tags": {"SOPInstanceUID": "1.2.3.4.5.6.7.8", "StudyInstanceUID": "1.2.3.4.5.6.9"},
                            "Force": True}),
        ("dates-without-force", {"Tags": {"StudyDate": "20200101", "SeriesTime": "101010", "PatientID": "PID1"}}),
        ("pixel-data-tag", {"Tags": {"PixelData": "abc"}}),
        ("content-number", {"Tags": {}, "Content": 3}),
        ("tags-not-object", {"Tags": "x"}),
        ("not-json", "nope"),
        ("interpret-not-bool", {"Tags": {}, "InterpretBinaryTags": 1}),
        ("number-value", {"Tags": {"PatientName": 3}}),
        ("parent-study", {"Tags": {"SeriesDescription": "Child"}, "Parent": study}),
        ("parent-series", {"Tags": {"InstanceNumber": "99"}, "Parent": series}),
        ("parent-patient", {"Tags": {"StudyDescription": "Another"}, "Parent": patient}),
        ("parent-override", {"Tags": {"PatientName": "Other"}, "Parent": study}),
        ("parent-instance", {"Tags": {}, "Parent": instance}),
        ("parent-unknown", {"Tags": {}, "Parent": "0a1b2c3d-00000000-00000000-00000000-00000000"}),
        ("series", {"Tags": {"PatientName": "Series^Made", "SeriesDescription": "Three"},
                    "Content": [i["grey"], {"Content": i["rgb"], "Tags": {"ImageComments": "second"}}, i["pdf"]]}),
        ("series-override", {"Tags": {"SeriesDescription": "X"},
                             "Content": [{"Content": i["grey"], "Tags": {"SeriesDescription": "Y"}}]}),
        ("series-empty-list", {"Tags": {"PatientName": "Empty^List"}, "Content": []}),
    ]


def created_files(base, answer):
    """The files a create-dicom answer names: one instance, or a series' instances by InstanceNumber."""
    if answer.get("Path", "").startswith("/series/"):
        instances = get_json(base, "/series/%s/instances" % answer["ID"]) or []
        files = [call(base, "GET", "/instances/%s/file" % item["ID"])[1] for item in instances]
        return sorted(files, key=lambda data: int(pydicom.dcmread(io.BytesIO(data), force=True).get("InstanceNumber", 0)))
    return [call(base, "GET", "/instances/%s/file" % answer["ID"])[1]]


def compare_created(a_files, b_files, known):
    if len(a_files) != len(b_files):
        return "%d files vs %d" % (len(a_files), len(b_files))
    for a_data, b_data in zip(a_files, b_files):
        a, b = (pydicom.dcmread(io.BytesIO(data), force=True) for data in (a_data, b_data))
        for keyword in ("MediaStorageSOPClassUID", "TransferSyntaxUID"):
            if str(a.file_meta.get(keyword, "")) != str(b.file_meta.get(keyword, "")):
                return "meta %s: %s vs %s" % (keyword, a.file_meta.get(keyword), b.file_meta.get(keyword))
        if str(a.file_meta.get("MediaStorageSOPInstanceUID", "")) != str(a.get("SOPInstanceUID", "")):
            return "the meta header does not follow the SOP Instance UID"
        fa, fb = flatten(a), flatten(b)
        for key in set(fa) | set(fb):
            if fa.get(key) == fb.get(key) or key not in DATES | IDENTIFIERS:
                continue
            va, vb = (str(side.get(key, "")).partition(" ")[2] for side in (fa, fb))
            if key in DATES and all(re.fullmatch(r"\d{8}|\d{6}\.\d{6}", v) for v in (va, vb)):
                fa[key] = fb[key]  # both the current date or time
            elif key in IDENTIFIERS and va and vb and va not in known and vb not in known:
                fa[key] = fb[key]  # both made anew
        why = first_difference(fa, fb)
        if why:
            return why
    return None


def known_identifiers(files):
    known = set()
    for path in files:
        dataset = pydicom.dcmread(path, force=True)
        for keyword in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
            known.add(str(dataset.get(keyword, "")))
    return known


def error_fields(body):
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer.get("OrthancStatus") if isinstance(answer, dict) else None


def reset(api, orthanc_base, files):
    for base in (api, orthanc_base):
        for patient in get_json(base, "/patients") or []:
            call(base, "DELETE", "/patients/%s" % patient)
        for path in files:
            with open(path, "rb") as handle:
                call(base, "POST", "/instances", handle.read(), "application/dicom")


def snapshot(base, known):
    """Every instance the side holds, flattened, new identifiers as NEW; with the grouping of instances by series."""
    dumps = []
    groups = {}
    for instance in get_json(base, "/instances") or []:
        data = call(base, "GET", "/instances/%s/file" % instance)[1]
        values = flatten(pydicom.dcmread(io.BytesIO(data), force=True))
        for key, value in list(values.items()):
            vr, _, text = value.partition(" ")
            tag = key.rsplit(".", 1)[-1]
            if (vr == "UI" or tag == "00100020") and text and text not in known:
                values[key] = "%s NEW" % vr
            elif tag == "00100010" and re.fullmatch(r"Anonymized\d+", text):
                values[key] = "PN Anonymized<N>"
            elif tag == "00120063":
                values[key] = "LO ... - " + text.split(" - ", 1)[-1]
        series = values.get("0020000E", "")
        groups[series] = groups.get(series, 0) + 1
        dumps.append(json.dumps(values, sort_keys=True))
    return sorted(dumps), sorted(groups.values())


def restructure_cases(studies, series_of, instances_of, patient):
    s0, s1 = studies
    a, b = series_of[s0], series_of[s1]
    return [
        ("split-series", "/studies/%s/split" % s0, {"Series": [a[0]], "Replace": {"StudyDescription": "Split",
                                                                              "PatientID": "NEWPID"},
                                                   "Remove": ["AccessionNumber"]}),
        ("split-keep", "/studies/%s/split" % s0, {"Series": [a[0]], "KeepSource": True}),
        ("split-instances", "/studies/%s/split" % s0, {"Instances": instances_of[a[-1]][:1]}),
        ("split-nothing", "/studies/%s/split" % s0, {}),
        ("split-foreign", "/studies/%s/split" % s0, {"Series": [b[0]]}),
        ("split-series-tag", "/studies/%s/split" % s0, {"Series": [a[0]], "Replace": {"Modality": "CT"}}),
        ("split-remove-uid", "/studies/%s/split" % s0, {"Series": [a[0]], "Remove": ["StudyInstanceUID"]}),
        ("split-number", "/studies/%s/split" % s0, {"Series": [a[0]], "Replace": {"PatientName": 3}}),
        ("merge-study", "/studies/%s/merge" % s0, {"Resources": [s1]}),
        ("merge-series-keep", "/studies/%s/merge" % s0, {"Resources": [b[0]], "KeepSource": True}),
        ("merge-instance", "/studies/%s/merge" % s0, {"Resources": instances_of[b[0]][:1]}),
        ("merge-self", "/studies/%s/merge" % s0, {"Resources": [s0]}),
        ("merge-own-series", "/studies/%s/merge" % s0, {"Resources": [a[0]]}),
        ("merge-patient", "/studies/%s/merge" % s0, {"Resources": [patient]}),
        ("merge-unknown", "/studies/%s/merge" % s0, {"Resources": ["nope"]}),
        ("merge-missing", "/studies/%s/merge" % s0, {}),
        ("bulk-modify", "/tools/bulk-modify", {"Resources": [instances_of[a[0]][0], b[0]],
                                               "Replace": {"InstitutionName": "Bulk"}}),
        ("bulk-modify-study", "/tools/bulk-modify", {"Resources": [s0], "Level": "Study",
                                                     "Replace": {"StudyDescription": "Bulk study"}, "KeepSource": False}),
        ("bulk-modify-force", "/tools/bulk-modify", {"Resources": [s1], "Replace": {"PatientID": "BULK"}, "Force": True}),
        ("bulk-modify-unforced", "/tools/bulk-modify", {"Resources": [s1], "Replace": {"PatientID": "BULK"}}),
        ("bulk-modify-empty", "/tools/bulk-modify", {"Resources": [], "Replace": {"InstitutionName": "X"}}),
        ("bulk-modify-unknown", "/tools/bulk-modify", {"Resources": ["nope"]}),
        ("bulk-modify-missing", "/tools/bulk-modify", {"Replace": {"InstitutionName": "X"}}),
        # 2021b named: the oracle (1.10.1) defaults to it, Tessera to 2023b as Orthanc 1.12.
        ("bulk-anonymize", "/tools/bulk-anonymize", {"Resources": [s1, a[0]], "DicomVersion": "2021b"}),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("files", nargs="+")
    options = parser.parse_args()
    report = {"compared": 0, "instances": 0, "different": [], "statuses": {}}
    known = known_identifiers(options.files)
    with StockOrthanc() as orthanc:
        report["orthanc"] = orthanc.version
        try:
            run(options, orthanc.base, known, report)
        finally:
            orthanc.server.kill()
            orthanc.server.wait()
    print(json.dumps(report))


def compare_statuses(name, a_status, a_body, b_status, b_body, report):
    report["compared"] += 1
    report["statuses"][name] = a_status
    if a_status != b_status:
        return "status %d vs Orthanc's %d: %s" % (a_status, b_status, a_body[:300].decode("utf-8", "replace"))
    if a_status != 200 and error_fields(a_body) != error_fields(b_body):
        return "OrthancStatus %s vs %s" % (error_fields(a_body), error_fields(b_body))
    return None


def run(options, orthanc_base, known, report):
    api = options.api
    reset(api, orthanc_base, options.files)
    studies = sorted(get_json(orthanc_base, "/studies"))
    series_of = {study: sorted(get_json(orthanc_base, "/studies/%s" % study)["Series"]) for study in studies}
    instances_of = {series: sorted(get_json(orthanc_base, "/series/%s" % series)["Instances"])
                    for study in studies for series in series_of[study]}
    patient = get_json(orthanc_base, "/patients")[0]
    first_series = series_of[studies[0]][0]
    for name, body in create_cases(studies[0], first_series, patient, instances_of[first_series][0]):
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        a_status, a_body = call(api, "POST", "/tools/create-dicom", raw)
        b_status, b_body = call(orthanc_base, "POST", "/tools/create-dicom", raw)
        why = compare_statuses(name, a_status, a_body, b_status, b_body, report)
        if why is None and a_status == 200:
            a, b = json.loads(a_body), json.loads(b_body)
            if sorted(a) != sorted(b) or a.get("Status") != b.get("Status"):
                why = "answer %s vs %s" % (a, b)
            else:
                a_files, b_files = created_files(api, a), created_files(orthanc_base, b)
                report["instances"] += len(a_files)
                why = compare_created(a_files, b_files, known)
            for base, answer in ((api, a), (orthanc_base, b)):
                call(base, "DELETE", answer["Path"])
        if why:
            report["different"].append({"case": name, "why": why})
    for name, route, body in restructure_cases(studies, series_of, instances_of, patient):
        reset(api, orthanc_base, options.files)
        raw = json.dumps(body).encode()
        a_status, a_body = call(api, "POST", route, raw)
        b_status, b_body = call(orthanc_base, "POST", route, raw)
        why = compare_statuses(name, a_status, a_body, b_status, b_body, report)
        if why is None and a_status == 200:
            a, b = json.loads(a_body), json.loads(b_body)
            if sorted(a) != sorted(b):
                why = "answer fields %s vs %s" % (sorted(a), sorted(b))
            elif [r["Type"] for r in a.get("Resources", [])] != [r["Type"] for r in b.get("Resources", [])]:
                why = "resources made: %s vs %s" % (a.get("Resources"), b.get("Resources"))
            elif a.get("InstancesCount") != b.get("InstancesCount"):
                why = "InstancesCount %s vs %s" % (a.get("InstancesCount"), b.get("InstancesCount"))
            else:
                (a_dumps, a_groups), (b_dumps, b_groups) = snapshot(api, known), snapshot(orthanc_base, known)
                report["instances"] += len(a_dumps)
                if a_groups != b_groups:
                    why = "instances per series: %s vs %s" % (a_groups, b_groups)
                elif len(a_dumps) != len(b_dumps):
                    why = "%d instances vs %d" % (len(a_dumps), len(b_dumps))
                else:
                    for da, db in zip(a_dumps, b_dumps):
                        why = first_difference(json.loads(da), json.loads(db))
                        if why:
                            break
        if why:
            report["different"].append({"case": name, "why": why})


if __name__ == "__main__":
    main()
