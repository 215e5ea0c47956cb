#!/usr/bin/env python3
"""Records the public IDs that stock Orthanc (Debian package `orthanc`) gives to a set of files, with the
identifiers it read from them: Tests/UnitTests/Fixtures/orthanc-ids.json, the fixture Tessera's IDs are checked against.

usage: orthanc-golden-ids.py OUTPUT.json FILE...   (needs `apt-get install orthanc`; starts it on free loopback ports)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    output, files = sys.argv[1], sys.argv[2:]
    work = tempfile.mkdtemp(prefix="orthanc-golden-")
    http = free_port()
    config = os.path.join(work, "orthanc.json")
    with open(config, "w") as f:
        json.dump({"Name": "golden", "StorageDirectory": work + "/db", "IndexDirectory": work + "/db",
                   "HttpPort": http, "DicomPort": free_port(), "RemoteAccessAllowed": False,
                   "AuthenticationEnabled": False, "Plugins": []}, f)
    server = subprocess.Popen(["Orthanc", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http}"
    try:
        for _ in range(100):
            try:
                version = json.load(urllib.request.urlopen(base + "/system", timeout=2))["Version"]
                break
            except OSError:
                time.sleep(0.1)
        records = []
        for path in files:
            with open(path, "rb") as f:
                answer = json.load(urllib.request.urlopen(urllib.request.Request(base + "/instances", data=f.read(), method="POST"), timeout=10))
            tags = json.load(urllib.request.urlopen(f"{base}/instances/{answer['ID']}/simplified-tags", timeout=10))
            records.append({
                "File": os.path.basename(path),
                "PatientID": tags.get("PatientID", ""), "StudyInstanceUID": tags["StudyInstanceUID"],
                "SeriesInstanceUID": tags["SeriesInstanceUID"], "SOPInstanceUID": tags["SOPInstanceUID"],
                "ID": answer["ID"], "ParentSeries": answer["ParentSeries"],
                "ParentStudy": answer["ParentStudy"], "ParentPatient": answer["ParentPatient"],
            })
        with open(output, "w") as out:
            json.dump({"Orthanc": version, "Instances": records}, out, indent=1)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
