#!/usr/bin/env python3
"""The live differential harness of the REST API: stock Orthanc (Debian package, started here) and Tessera get the same
files (every file given: pydicom's test data and generated edge cases), then the same read requests, and the answers
are compared field by field. Then the same generated /tools/find queries. Prints one JSON object:

  rest_compare.py --api http://127.0.0.1:8042 --allowed ALLOWED.json [--queries N] [--pydicom] FILE...

Output: {"orthanc": version, "documents": N, "queries": M, "different": [{"route", "file", "why"}],
"allowed": K}. A difference is allowed when an entry of ALLOWED.json ({"route": regex on the route template, "file":
regex on the file name, "field": regex on the differing field, "value": regex on the two values as printed — each
but "route" optional — and "reason": "..."}) matches it.

Volatile fields are left out on both sides: dates of reception and update, stability, storage identifiers, and the
fields Orthanc 1.12 added that the Debian 1.10.1 oracle lacks (Labels). Routes per instance: /instances/{id},
/tags (plain, ?simplify, ?short), /simplified-tags, /metadata?expand, /attachments, /content; per series, study and
patient: the resource, ?expand lists of children, /shared-tags, /module. Finds: every main tag value of the corpus
under each constraint form (exact, lower case with CaseSensitive false, prefix wildcard, single-character wildcard,
date ranges, lists), with and without Expand, and Limit/Since.
"""
import argparse
import json
import os
import random
import re
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from stock_orthanc import StockOrthanc  # noqa: E402

VOLATILE = {"LastUpdate", "IsStable", "ReceptionDate", "FileUuid", "Uuid", "Labels"}


def call(base, method, path, data=None):
    request = urllib.request.Request(base + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def clean(value):
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def first_difference(a, b, path=""):
    """The path of the first difference between two JSON values, with both sides; None when equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return path + "/" + key, a.get(key, "<absent>"), b.get(key, "<absent>")
            found = first_difference(a[key], b[key], path + "/" + key)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return path + "[#]", len(a), len(b)
        for index, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, "%s[%d]" % (path, index))
            if found:
                return found
        return None
    return None if a == b else (path, a, b)


class Harness:
    def __init__(self, api, orthanc, allowed):
        self.api, self.orthanc, self.allowed = api, orthanc, allowed
        self.report = {"documents": 0, "queries": 0, "different": [], "allowed": 0}

    def compare(self, route, path, file="", method="GET", data=None, unordered=False):
        a_status, a_body = call(self.api, method, path, data)
        b_status, b_body = call(self.orthanc, method, path, data)
        self.report["documents" if method == "GET" else "queries"] += 1
        if a_status != b_status:
            return self.differ(route, file, "status", "%d vs %d" % (a_status, b_status))
        if a_status != 200:
            return None
        try:
            a, b = clean(json.loads(a_body)), clean(json.loads(b_body))
        except ValueError:
            if a_body != b_body:
                return self.differ(route, file, "body", "%r vs %r" % (a_body[:100], b_body[:100]))
            return None
        if unordered and isinstance(a, list) and isinstance(b, list):
            a, b = sorted(a, key=json.dumps), sorted(b, key=json.dumps)
        found = first_difference(a, b)
        if found:
            self.differ(route, file, found[0], "%s vs %s" % (json.dumps(found[1])[:200], json.dumps(found[2])[:200]))
        return a

    def differ(self, route, file, field, why):
        for entry in self.allowed:
            if re.search(entry["route"], route) and re.search(entry.get("file", ""), file) \
                    and re.search(entry.get("field", ""), field) and re.search(entry.get("value", ""), why):
                self.report["allowed"] += 1
                return None
        self.report["different"].append({"route": route, "file": file, "field": field, "why": why})
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--allowed", required=True)
    parser.add_argument("--queries", type=int, default=240)
    parser.add_argument("--pydicom", action="store_true", help="add every file of pydicom's test data")
    parser.add_argument("files", nargs="*")
    options = parser.parse_args()
    if options.pydicom:
        import glob
        import pydicom.data
        folder = os.path.join(os.path.dirname(pydicom.data.__file__), "test_files")
        options.files = sorted(glob.glob(os.path.join(folder, "*.dcm"))) + options.files
    with open(options.allowed) as handle:
        allowed = json.load(handle)
    with StockOrthanc() as orthanc:
        harness = Harness(options.api, orthanc.base, allowed)
        harness.report["orthanc"] = orthanc.version
        try:
            run(harness, options)
        finally:
            orthanc.server.kill()
            orthanc.server.wait()
    print(json.dumps(harness.report))


def run(harness, options):
    names = {}
    for path in options.files:
        with open(path, "rb") as handle:
            data = handle.read()
        a_status, a_body = call(harness.api, "POST", "/instances", data)
        b_status, b_body = call(harness.orthanc, "POST", "/instances", data)
        if a_status != b_status:
            harness.differ("POST /instances", os.path.basename(path), "status", "%d vs %d" % (a_status, b_status))
            continue
        if b_status == 200:
            names.setdefault(json.loads(b_body)["ID"], os.path.basename(path))
    for instance, file in sorted(names.items()):
        for route in ("/instances/%s", "/instances/%s/tags", "/instances/%s/tags?simplify", "/instances/%s/tags?short",
                      "/instances/%s/simplified-tags", "/instances/%s/metadata?expand", "/instances/%s/attachments",
                      "/instances/%s/content"):
            harness.compare(route.replace("%s", "{id}"), route % instance, file, unordered=route.endswith("content"))
    for level in ("series", "studies", "patients"):
        for resource in json.loads(call(harness.orthanc, "GET", "/" + level)[1]):
            for route in ("/%s/%%s" % level, "/%s/%%s/shared-tags" % level, "/%s/%%s/module" % level,
                          "/%s/%%s/instances?expand" % level):
                harness.compare(route.replace("%s", "{id}"), route % resource, unordered=route.endswith("expand"))
    finds(harness, options.queries)


def finds(harness, count):
    """Generated /tools/find queries over the values the corpus holds."""
    rng = random.Random(20261130)
    values = {}
    for level, tags in (("Patient", ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")),
                        ("Study", ("StudyDate", "StudyDescription", "AccessionNumber", "StudyID", "ReferringPhysicianName")),
                        ("Series", ("Modality", "SeriesDescription", "SeriesNumber", "BodyPartExamined")),
                        ("Instance", ("InstanceNumber", "SOPInstanceUID"))):
        collection = {"Patient": "patients", "Study": "studies", "Series": "series", "Instance": "instances"}[level]
        for item in json.loads(call(harness.orthanc, "GET", "/%s?expand" % collection)[1]):
            for tag in tags:
                value = item.get("MainDicomTags", {}).get(tag)
                if value:
                    values.setdefault((level, tag), set()).add(value)
    keys = sorted(values)
    for _ in range(count):
        level, tag = rng.choice(keys)
        value = rng.choice(sorted(values[(level, tag)]))
        form = rng.choice(["exact", "lower", "prefix", "single", "range", "list", "star"])
        query, sensitive = value, True
        if form == "lower":
            query, sensitive = value.lower(), False
        elif form == "prefix" and len(value) > 1:
            query = value[:max(1, len(value) // 2)] + "*"
        elif form == "single" and len(value) > 1:
            position = rng.randrange(len(value))
            query = value[:position] + "?" + value[position + 1:]
        elif form == "range" and tag.endswith("Date") and len(value) == 8:
            query = rng.choice([value + "-", "-" + value, "19000101-" + value])
        elif form == "list":
            query = value + "\\" + rng.choice(sorted(values[(level, tag)]))
        elif form == "star":
            query = "*"
        body = {"Level": level, "Query": {tag: query}, "Expand": rng.random() < 0.5, "CaseSensitive": sensitive}
        if rng.random() < 0.2:
            body["Limit"] = rng.randint(1, 3)
            body["Since"] = 0
        route = "/tools/find %s %s %s" % (level, tag, form)
        if "Limit" in body:
            # Which answers a limit keeps depends on an order neither server promises: the count is compared.
            answers = [call(base, "POST", "/tools/find", json.dumps(body).encode()) for base in (harness.api, harness.orthanc)]
            harness.report["queries"] += 1
            sizes = [len(json.loads(text)) if status == 200 else status for status, text in answers]
            if sizes[0] != sizes[1]:
                harness.differ(route, "/tools/find", "count", "%s vs %s" % (sizes[0], sizes[1]))
            continue
        harness.compare(route, "/tools/find", method="POST", data=json.dumps(body).encode(), unordered=True)


if __name__ == "__main__":
    main()
