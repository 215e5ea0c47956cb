#!/usr/bin/env python3
"""Runs the same C-FIND queries with DCMTK's findscu against two DICOM servers and compares what findscu receives:
the final status and the answers (each answer's attributes as pydicom decodes them, SpecificCharacterSet aside,
answers compared as a multiset since neither server promises an order). Prints one JSON object on stdout:

  find_compare.py --a HOST:PORT:AET --b HOST:PORT:AET --aet CALLING [--ignore gggg,eeee ...] QUERIES.json

QUERIES.json: [{"name": "...", "model": "S" (Study Root) | "P" (Patient Root), "keys": ["QueryRetrieveLevel=STUDY",
"PatientName", ...]}]. Output: {"queries": N, "different": [{"name", "a", "b"}], "results": {name: {"status",
"answers"}}} where a result is the status line findscu logged and the sorted list of answers of server A.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import pydicom


def run(server, calling, query, ignored):
    host, port, aet = server.split(":")
    with tempfile.TemporaryDirectory() as folder:
        arguments = ["findscu", "-v", "-aet", calling, "-aec", aet, "-" + query.get("model", "S"), "-X", "-od", folder]
        for key in query["keys"]:
            arguments += ["-k", key]
        arguments += [host, port]
        completed = subprocess.run(arguments, capture_output=True, text=True, errors="replace", timeout=120)
        log = completed.stdout + completed.stderr
        status = "no final response"
        for line in log.splitlines():
            if "Final Find Response" in line or "error status" in line or "Association Aborted" in line \
                    or "Association Rejected" in line or "Peer aborted" in line:
                status = line.split(":", 1)[1].strip() if ":" in line else line
        answers = []
        for path in sorted(glob.glob(os.path.join(folder, "rsp*.dcm"))):
            dataset = pydicom.dcmread(path, force=True)
            answer = {}
            for element in dataset:
                name = f"{element.tag.group:04X},{element.tag.element:04X}"
                if element.tag == 0x00080005 or element.tag.element == 0 or name in ignored:
                    continue
                answer[name] = "" if element.value is None else str(element.value)
            answers.append(answer)
        answers.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return {"status": status, "answers": answers}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True)
    parser.add_argument("--b", required=True)
    parser.add_argument("--aet", default="FINDSCU")
    parser.add_argument("--ignore", action="append", default=[], help="an attribute left out of the comparison")
    parser.add_argument("queries")
    options = parser.parse_args()
    with open(options.queries) as handle:
        queries = json.load(handle)
    report = {"queries": len(queries), "different": [], "results": {}}
    for query in queries:
        ignored = {name.upper() for name in options.ignore}
        a = run(options.a, options.aet, query, ignored)
        b = run(options.b, options.aet, query, ignored)
        report["results"][query["name"]] = a
        if a != b:
            report["different"].append({"name": query["name"], "a": a, "b": b})
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
