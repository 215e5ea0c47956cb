#!/usr/bin/env python3
"""Records what stock Orthanc (Debian package `orthanc`) answers for the tag routes of a set of DICOM files, as the
fixtures Tessera's tag JSON is checked against: for each FILE, FOLDER/<name> (a copy of the file) and
FOLDER/<name>.json = {"Orthanc": version, "Routes": {route: answer}} for /tags, /tags?simplify, /tags?short,
/simplified-tags, /header, /header?simplify, /header?short.

usage: orthanc-tag-fixtures.py FOLDER FILE...   (needs `apt-get install orthanc`; starts it on free loopback ports)
"""
import json
import os
import shutil
import sys
import urllib.error

from stock_orthanc import StockOrthanc

ROUTES = ["tags", "tags?simplify", "tags?short", "simplified-tags", "header", "header?simplify", "header?short"]


def main():
    folder, files = sys.argv[1], sys.argv[2:]
    os.makedirs(folder, exist_ok=True)
    with StockOrthanc() as orthanc:
        for path in files:
            name = os.path.basename(path)
            with open(path, "rb") as f:
                try:
                    answer = orthanc.post("/instances", f.read())
                except urllib.error.HTTPError as error:
                    print(f"{name}: refused by Orthanc ({error.code}), skipped", file=sys.stderr)
                    continue
            routes = {route: orthanc.get(f"/instances/{answer['ID']}/{route}") for route in ROUTES}
            # Several test files share their UIDs: remove each before the next, or Orthanc keeps the first.
            orthanc.delete(f"/instances/{answer['ID']}")
            shutil.copyfile(path, os.path.join(folder, name))
            with open(os.path.join(folder, name + ".json"), "w") as out:
                json.dump({"Orthanc": orthanc.version, "Routes": routes}, out, indent=1, ensure_ascii=False)
                out.write("\n")


if __name__ == "__main__":
    main()
