#!/usr/bin/env python3
"""Records the public IDs that stock Orthanc (Debian package `orthanc`) gives to a set of files, with the
identifiers it read from them: Tests/UnitTests/Fixtures/orthanc-ids.json, the fixture Tessera's IDs are checked against.

usage: orthanc-golden-ids.py OUTPUT.json FILE...   (needs `apt-get install orthanc`; starts it on free loopback ports)
"""
import json
import os
import sys

from stock_orthanc import StockOrthanc


def main():
    output, files = sys.argv[1], sys.argv[2:]
    with StockOrthanc() as orthanc:
        records = []
        for path in files:
            with open(path, "rb") as f:
                answer = orthanc.post("/instances", f.read())
            tags = orthanc.get(f"/instances/{answer['ID']}/simplified-tags")
            records.append({
                "File": os.path.basename(path),
                "PatientID": tags.get("PatientID", ""), "StudyInstanceUID": tags["StudyInstanceUID"],
                "SeriesInstanceUID": tags["SeriesInstanceUID"], "SOPInstanceUID": tags["SOPInstanceUID"],
                "ID": answer["ID"], "ParentSeries": answer["ParentSeries"],
                "ParentStudy": answer["ParentStudy"], "ParentPatient": answer["ParentPatient"],
            })
        with open(output, "w") as out:
            json.dump({"Orthanc": orthanc.version, "Instances": records}, out, indent=1)


if __name__ == "__main__":
    main()
