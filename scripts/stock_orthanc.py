"""Starts stock Orthanc (Debian package `orthanc`) on free loopback ports in a scratch folder, for the scripts that
record its behaviour as test fixtures (orthanc-golden-ids.py, orthanc-tag-fixtures.py).

    with StockOrthanc() as orthanc:
        answer = orthanc.post("/instances", data)
        tags = orthanc.get("/instances/%s/tags" % answer["ID"])
        status, body = orthanc.request("POST", "/tools/find", b"{}")   # no exception on HTTP errors
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StockOrthanc:
    def __init__(self, **configuration):
        self.work = tempfile.mkdtemp(prefix="stock-orthanc-")
        self.http = free_port()
        self.configuration = {"Name": "stock", "StorageDirectory": self.work + "/db",
                              "IndexDirectory": self.work + "/db", "HttpPort": self.http,
                              "DicomPort": free_port(), "RemoteAccessAllowed": False,
                              "AuthenticationEnabled": False, "Plugins": []}
        self.configuration.update(configuration)
        self.base = f"http://127.0.0.1:{self.http}"
        self.server = None
        self.version = None

    def __enter__(self):
        config = os.path.join(self.work, "orthanc.json")
        with open(config, "w") as f:
            json.dump(self.configuration, f)
        self.server = subprocess.Popen(["Orthanc", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                self.version = self.get("/system")["Version"]
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("stock Orthanc did not start")

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)
        shutil.rmtree(self.work, ignore_errors=True)

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as answer:
            return json.load(answer)

    def delete(self, path):
        request = urllib.request.Request(self.base + path, method="DELETE")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.read()

    def post(self, path, data):
        request = urllib.request.Request(self.base + path, data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def fetch(self, method, path, data=None, headers=None):
        """(HTTP status, {lower-case header name: value}, body bytes), without raising on HTTP error statuses. A
        streamed answer that Orthanc aborts half-way (e.g. a ZIP whose creation fails after the 200 was sent) gives
        the bytes received before the connection closed."""
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            answer = urllib.request.urlopen(request, timeout=60)
        except urllib.error.HTTPError as error:
            answer = error
        with answer:
            try:
                body = answer.read()
            except http.client.IncompleteRead as error:
                body = error.partial
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, body

    def request(self, method, path, data=None):
        """(HTTP status, parsed JSON answer or None if the body is empty or not JSON), without raising on HTTP
        error statuses. `data` is bytes, or None for no body."""
        request = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        try:
            return status, json.loads(body) if body.strip() else None
        except ValueError:
            return status, None
