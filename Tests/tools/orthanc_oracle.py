#!/usr/bin/env python3
"""Asks stock Orthanc (Debian package `orthanc`, started on free loopback ports) how it answers, for tests that
compare Tessera side by side with it. Prints one JSON object on stdout.

  orthanc_oracle.py upload FILE...   {"version", "uploads": [{"file", "status", "body", "patient": MainDicomTags}]}
                                     each file POSTed to /instances; for an accepted one, its patient's MainDicomTags
  orthanc_oracle.py tags FILE        {"version", "status", "tags": GET /instances/{id}/tags of the uploaded file}
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from stock_orthanc import StockOrthanc  # noqa: E402


def upload(orthanc, path):
    """(status, parsed body); status None when Orthanc dropped the connection (it crashes on some inputs)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return orthanc.request("POST", "/instances", data)
    except OSError as error:
        return None, str(error)


def main():
    command, files = sys.argv[1], sys.argv[2:]
    with StockOrthanc() as orthanc:
        try:
            answer(orthanc, command, files)
        finally:
            # Orthanc can take long to stop on SIGTERM (or ignore it after a crash-prone request): the answer is printed,
            # so kill it before StockOrthanc's own cleanup.
            orthanc.server.kill()
            orthanc.server.wait()


def answer(orthanc, command, files):
    if command == "upload":
        uploads = []
        for path in files:
            status, body = upload(orthanc, path)
            record = {"file": path, "status": status, "body": body}
            if status == 200 and isinstance(body, dict) and "ParentPatient" in body:
                record["patient"] = orthanc.get("/patients/%s" % body["ParentPatient"])["MainDicomTags"]
            uploads.append(record)
        print(json.dumps({"version": orthanc.version, "uploads": uploads}))
    elif command == "tags":
        status, body = upload(orthanc, files[0])
        tags = orthanc.get("/instances/%s/tags" % body["ID"]) if status == 200 else None
        print(json.dumps({"version": orthanc.version, "status": status, "tags": tags}))
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    main()
