#!/usr/bin/env python3
"""Prints what an archive or medium answered by a server holds, in the shape of
Tests/UnitTests/Fixtures/resources/archives.json (recorded from stock Orthanc by scripts/orthanc-resource-fixtures.py,
whose ZIP and DICOMDIR readers this reuses):

    zip_report.py ZIP_FILE  ->  {"entries": [...], "md5": {name: md5}, "dicomdir": [...], "dicomdirHeader": {...}}
"""
import hashlib
import importlib.util
import io
import json
import os
import sys
import zipfile

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "fixtures", os.path.join(here, "..", "..", "scripts", "orthanc-resource-fixtures.py"))
fixtures = importlib.util.module_from_spec(spec)
sys.path.insert(0, os.path.join(here, "..", "..", "scripts"))
spec.loader.exec_module(fixtures)


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    report = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        print(json.dumps({"zipError": str(error)}))
        return 0
    report["entries"] = archive.namelist()
    report["md5"] = {name: hashlib.md5(archive.read(name)).hexdigest() for name in archive.namelist()}
    report["crcOk"] = archive.testzip() is None
    if "DICOMDIR" in archive.namelist():
        report["dicomdir"], report["dicomdirHeader"] = fixtures.dicomdir_records(archive.read("DICOMDIR"))
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
