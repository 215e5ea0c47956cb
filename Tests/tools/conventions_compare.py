#!/usr/bin/env python3
"""Side by side with stock Orthanc (Debian package, started here), Orthanc's HTTP conventions and the slice order:
XML answers (`Accept: application/xml`) of the resource routes, `/series/{id}/ordered-slices` of every series,
HTTP method faking (`X-HTTP-Method-Override`, `?_method=`), the upload forms (`multipart/form-data`, gzip bodies),
and `/tools/log-level`. The same files are stored on both sides first (so both have
the same public IDs). Prints one JSON object:

  conventions_compare.py --api http://127.0.0.1:8042 FILE...

Output: {"orthanc": version, "compared": N, "different": [{"case", "why"}], "statuses": {case: status}}.
Volatile values (LastUpdate, IsStable, FileUuid) are blanked on both sides before comparing, and the `Labels` Orthanc
1.12 shows (and Tessera with it) are dropped from ours, since the Debian 1.10.1 oracle has none.
"""
import argparse
import gzip
import io
import json
import os
import re
import sys
import urllib.error
import urllib.request

import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from stock_orthanc import StockOrthanc  # noqa: E402

VOLATILE = re.compile(r"<(LastUpdate|IsStable|FileUuid)>[^<]*</\1>")
LABELS = re.compile(r"^ *<Labels />\n|^ *<Labels>\n.*?</Labels>\n", re.M | re.S)


def normalized(body):
    return LABELS.sub("", VOLATILE.sub(r"<\1 />", body.decode("utf-8", "replace")))


def call(base, method, path, data=None, headers=None):
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("files", nargs="+")
    options = parser.parse_args()
    report = {"compared": 0, "different": [], "statuses": {}}
    with StockOrthanc() as orthanc:
        report["orthanc"] = orthanc.version
        try:
            run(options.api, orthanc.base, options.files, report)
        finally:
            orthanc.server.kill()
            orthanc.server.wait()
    print(json.dumps(report))


def differ(report, case, why):
    if why:
        report["different"].append({"case": case, "why": why})


def run(api, theirs, files, report):
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        for base in (api, theirs):
            call(base, "POST", "/instances", data, {"Content-Type": "application/dicom"})
    studies = json.loads(call(theirs, "GET", "/studies")[2])
    series = json.loads(call(theirs, "GET", "/series")[2])
    instances = json.loads(call(theirs, "GET", "/instances")[2])
    paths = ["/patients", "/studies", "/studies?expand", "/series?expand"]
    paths += ["/studies/%s" % s for s in studies] + ["/series/%s" % s for s in series]
    paths += ["/instances/%s" % i for i in instances[:10]] + ["/instances/%s/simplified-tags" % i for i in instances[:10]]
    paths += ["/series/%s/study" % s for s in series[:2]] + ["/instances/%s/patient" % i for i in instances[:2]]
    for accept in ("application/xml", "application/xml;q=0.9", "text/html,application/xml", "application/xml;application/json"):
        for path in paths if accept == "application/xml" else paths[:2]:
            case = "xml %s %s" % (accept, path)
            a, b = call(api, "GET", path, headers={"Accept": accept}), call(theirs, "GET", path, headers={"Accept": accept})
            report["compared"] += 1
            report["statuses"][case] = a[0]
            if a[0] != b[0]:
                differ(report, case, "status %d vs %d" % (a[0], b[0]))
            elif a[1].split(";")[0] != b[1].split(";")[0]:
                differ(report, case, "content type %s vs %s" % (a[1], b[1]))
            elif "xml" in b[1]:
                ours, stock = normalized(a[2]), normalized(b[2])
                if ours != stock:
                    line = next((i for i, (x, y) in enumerate(zip(ours.splitlines(), stock.splitlines())) if x != y), None)
                    where = "line %s: %r vs %r" % (line, ours.splitlines()[line], stock.splitlines()[line]) if line is not None \
                        else "lengths %d vs %d" % (len(ours), len(stock))
                    differ(report, case, where)
    # A find answered as XML.
    body = json.dumps({"Level": "Study", "Query": {}, "Expand": True}).encode()
    a = call(api, "POST", "/tools/find", body, {"Accept": "application/xml"})
    b = call(theirs, "POST", "/tools/find", body, {"Accept": "application/xml"})
    report["compared"] += 1
    if normalized(a[2]) != normalized(b[2]):
        differ(report, "xml find", "the XML answers differ: %s vs %s" % (normalized(a[2])[:300], normalized(b[2])[:300]))
    # Instance metadata (PixelDataOffset included), the reception date aside.
    for instance in instances:
        case = "metadata %s" % instance
        a, b = (call(base, "GET", "/instances/%s/metadata?expand" % instance) for base in (api, theirs))
        report["compared"] += 1
        ours, stock = (dict(json.loads(side[2]), ReceptionDate=None) if side[0] == 200 else side[0] for side in (a, b))
        if ours != stock:
            differ(report, case, "%s vs %s" % (ours, stock))
    for item in series:
        case = "ordered-slices %s" % item
        a, b = call(api, "GET", "/series/%s/ordered-slices" % item), call(theirs, "GET", "/series/%s/ordered-slices" % item)
        report["compared"] += 1
        report["statuses"][case] = a[0]
        if a[0] != b[0]:
            differ(report, case, "status %d vs %d" % (a[0], b[0]))
        elif a[0] == 200 and json.loads(a[2]) != json.loads(b[2]):
            differ(report, case, "%s vs %s" % (a[2][:300], b[2][:300]))
    uploads(api, theirs, files[0], report)
    log_levels(api, theirs, report)
    # Method faking, each on an instance both sides hold.
    faked = [("override-delete", "POST", "/instances/%s", {"X-HTTP-Method-Override": "DELETE"}),
             ("override-delete-lower", "POST", "/instances/%s", {"X-HTTP-Method-Override": "delete"}),
             ("query-method", "GET", "/instances/%s?_method=DELETE", {}),
             ("override-get", "POST", "/instances/%s", {"X-HTTP-Method-Override": "GET"}),
             ("override-put", "POST", "/tools/metrics#%s", {"X-HTTP-Method-Override": "PUT"})]
    for index, (case, method, template, headers) in enumerate(faked):
        target = instances[-(index + 1)]
        path = (template % target).split("#")[0]
        body = b"1" if "metrics" in path else b""
        a = call(api, method, path, body, headers)
        b = call(theirs, method, path, body, headers)
        report["compared"] += 1
        report["statuses"][case] = a[0]
        if a[0] != b[0]:
            differ(report, case, "status %d vs %d" % (a[0], b[0]))
            continue
        gone_a = call(api, "GET", "/instances/%s" % target)[0] == 404
        gone_b = call(theirs, "GET", "/instances/%s" % target)[0] == 404
        if gone_a != gone_b:
            differ(report, case, "instance deleted: %s vs %s" % (gone_a, gone_b))



def log_levels(api, theirs, report):
    """/tools/log-level and its categories: the same sequence of reads and writes on both sides."""
    steps = [("GET", "/tools/log-level", None), ("PUT", "/tools/log-level", b"verbose"), ("GET", "/tools/log-level", None),
             ("GET", "/tools/log-level-http", None), ("PUT", "/tools/log-level-dicom", b"trace"),
             ("GET", "/tools/log-level-dicom", None), ("GET", "/tools/log-level", None), ("PUT", "/tools/log-level", b"nope"),
             ("PUT", "/tools/log-level-jobs", b"Verbose"), ("PUT", "/tools/log-level", b"default"),
             ("GET", "/tools/log-level-dicom", None), ("GET", "/tools/log-level-nope", None)]
    for index, (method, path, body) in enumerate(steps):
        case = "log-level %d %s %s %s" % (index, method, path, body)
        a, b = call(api, method, path, body), call(theirs, method, path, body)
        report["compared"] += 1
        report["statuses"][case] = a[0]
        if a[0] != b[0]:
            differ(report, case, "status %d vs %d" % (a[0], b[0]))
        elif a[0] == 200 and a[2] != b[2]:
            differ(report, case, "%r vs %r" % (a[2][:100], b[2][:100]))


def variant(path, number):
    """The file with a SOP Instance UID of its own (both sides get the same bytes, so the same IDs)."""
    dataset = pydicom.dcmread(path, force=True)
    dataset.SOPInstanceUID = "1.2.826.0.1.3680043.10.1199.77.%d" % number
    if "MediaStorageSOPInstanceUID" in dataset.file_meta:
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def multipart(boundary, parts):
    body = b""
    for name, filename, content in parts:
        disposition = 'form-data; name="%s"' % name + ('; filename="%s"' % filename if filename else "")
        body += b"--" + boundary + b"\r\nContent-Disposition: " + disposition.encode() + b"\r\n"
        body += b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


def uploads(api, theirs, path, report):
    """Upload forms: each case on both sides, then the instances it should have stored looked up on both."""
    boundary = b"tessera-boundary-0123"
    form = {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()}
    one, two, three, four = (variant(path, n) for n in range(1, 5))
    cases = [
        ("multipart-two-files", multipart(boundary, [("files[]", "a.dcm", one), ("files[]", "b.dcm", two)]), form, [one, two]),
        ("multipart-text-part", multipart(boundary, [("comment", None, b"hello")]), form, []),
        ("multipart-no-part", b"not a multipart body at all", form, []),
        ("gzip", gzip.compress(three), {"Content-Encoding": "gzip"}, [three]),
        ("multipart-quoted-boundary", multipart(boundary, [("file", "d.dcm", four)]),
         {"Content-Type": 'multipart/form-data; boundary="%s"' % boundary.decode()}, [four]),
    ]
    for case, body, headers, stored in cases:
        a, b = call(api, "POST", "/instances", body, headers), call(theirs, "POST", "/instances", body, headers)
        report["compared"] += 1
        report["statuses"][case] = a[0]
        if a[0] != b[0]:
            differ(report, case, "status %d vs %d: %s" % (a[0], b[0], a[2][:200]))
            continue
        if (a[2].strip() == b"") != (b[2].strip() == b""):
            differ(report, case, "answer %r vs %r" % (a[2][:200], b[2][:200]))
        for data in stored:
            uid = str(pydicom.dcmread(io.BytesIO(data), force=True).SOPInstanceUID)
            query = json.dumps({"Level": "Instance", "Query": {"SOPInstanceUID": uid}}).encode()
            found = [json.loads(call(base, "POST", "/tools/find", query)[2]) for base in (api, theirs)]
            if found[0] != found[1] or not found[0]:
                differ(report, case, "instance %s stored: %s vs %s" % (uid, found[0], found[1]))


if __name__ == "__main__":
    main()
