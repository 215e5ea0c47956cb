#!/usr/bin/env python3
"""Asks Tessera and stock Orthanc (Debian package, started here) for the decoded images of the same files and
compares the answers: status codes, Content-Type, and the content — pixels of PNG/PAM answers (exact for
image-uint8/uint16/int16, within one grey level for preview and rendered), JPEG answers within a small mean
difference, NumPy arrays (shape, dtype, values), Matlab text, raw frames and PDF documents byte for byte.
Each file is stored on both sides, compared, then deleted on both (pydicom's corpus repeats SOP Instance UIDs).

  image_compare.py --api http://127.0.0.1:8042 [--allowed ALLOWED.json] [--series] [--pydicom] FILE...

ALLOWED.json: [{"file": basename, "route": prefix of the request or "*", "reason": "...", "reference": "pydicom",
"tolerance": N}]. With "reference", where Tessera answers otherwise than Orthanc its decoding is checked instead
against pydicom's (frame 0 of /numpy?rescale=0 against pixel_array, values within "tolerance", 0 by default); a
mismatch there is never allowed. Prints one JSON object: {"orthanc": version, "files": N, "compared": N,
"referenced": N, "different": [...], "allowed": [...]}; a difference is {"file", "route", "why"}.
"""
import argparse
import gzip
import io
import json
import os
import sys
import urllib.error
import urllib.request
import zipfile

import numpy
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from stock_orthanc import StockOrthanc  # noqa: E402

IMAGE_ROUTES = ["preview", "image-uint8", "image-uint16", "image-int16", "rendered"]


def fetch(base, path, headers=None, method="GET", data=None):
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        answer = urllib.request.urlopen(request, timeout=120)
    except urllib.error.HTTPError as error:
        answer = error
    with answer:
        body = answer.read()
        return answer.status, (answer.headers.get("Content-Type") or "").split(";")[0].strip(), body


def pixels(body):
    """(mode, array) of a PNG, JPEG or PAM answer (Pillow reads no PAM: parsed here)."""
    if body.startswith(b"P7\n"):
        header, _, data = body.partition(b"ENDHDR\n")
        fields = dict(line.split(b" ", 1) for line in header.split(b"\n")[1:] if b" " in line)
        width, height, depth = int(fields[b"WIDTH"]), int(fields[b"HEIGHT"]), int(fields[b"DEPTH"])
        wide = int(fields[b"MAXVAL"]) > 255
        array = numpy.frombuffer(data, dtype=">u2" if wide else "u1").reshape(height, width, depth)
        return "PAM%d/%d" % (depth, 16 if wide else 8), array.astype(numpy.int64)
    image = Image.open(io.BytesIO(body))
    image.load()
    return image.mode, numpy.array(image).astype(numpy.int64)


def numpy_array(body):
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = archive.namelist()
            if names != ["arr_0"]:
                raise ValueError("npz entries %s" % names)
            body = archive.read("arr_0")
    return numpy.load(io.BytesIO(body), allow_pickle=False)


def same_content(route, ours, theirs, content_type):
    """None when the two bodies agree for this route, else why not."""
    if ours == theirs:
        return None
    name = route.split("?")[0].rsplit("/", 1)[-1]
    if content_type in ("image/png", "image/x-portable-arbitrarymap", "image/jpeg") and name in IMAGE_ROUTES:
        mode_a, a = pixels(ours)
        mode_b, b = pixels(theirs)
        if mode_a != mode_b or a.shape != b.shape:
            return "image %s %s, Orthanc %s %s" % (mode_a, a.shape, mode_b, b.shape)
        difference = numpy.abs(a - b)
        if content_type == "image/jpeg":
            return None if difference.mean() <= 1.0 else "JPEG differs, mean %.2f" % difference.mean()
        tolerance = 1 if name in ("preview", "rendered") else 0
        if difference.max() > tolerance:
            where = numpy.argwhere(difference > tolerance)[0].tolist()
            return "pixel %s: %s, Orthanc %s (%d differ)" % (where, a[tuple(where)], b[tuple(where)],
                                                            int((difference > tolerance).sum()))
        return None
    if name == "numpy":
        a, b = numpy_array(ours), numpy_array(theirs)
        if ours[:2] != theirs[:2]:
            return "one is compressed, the other not"
        if a.dtype != b.dtype or a.shape != b.shape:
            return "array %s %s, Orthanc %s %s" % (a.dtype, a.shape, b.dtype, b.shape)
        if not numpy.array_equal(a, b, equal_nan=True):
            where = numpy.argwhere(a != b)[0].tolist()
            return "value at %s: %s, Orthanc %s" % (where, a[tuple(where)], b[tuple(where)])
        if not ours.startswith(b"PK") and ours[:128] != theirs[:128]:
            return "npy header differs: %r vs %r" % (ours[:100], theirs[:100])
        return None
    if name == "raw.gz":
        return None if gzip.decompress(ours) == gzip.decompress(theirs) else "raw.gz content differs"
    if name == "matlab":
        return "matlab text differs: %r vs %r" % (ours[:80], theirs[:80])
    return "body differs (%d bytes, Orthanc %d)" % (len(ours), len(theirs))


def check_reference(api, instance, path, tolerance):
    """None when Tessera's decoded frame 0 equals pydicom's pixel_array (within `tolerance`), else why not."""
    import pydicom
    dataset = pydicom.dcmread(path)
    expected = dataset.pixel_array
    if int(dataset.get("NumberOfFrames", 1) or 1) > 1:
        expected = expected[0]
    status, _, body = fetch(api, "/instances/%s/frames/0/numpy?rescale=0" % instance)
    if status != 200:
        return "Tessera answered %d" % status
    ours = numpy_array(body)
    if dataset.PhotometricInterpretation == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut
        expected = apply_color_lut(expected, dataset)
        if expected.dtype.itemsize == 2 and ours.dtype.itemsize == 1:
            expected = expected >> 8
    expected = expected.reshape(ours.shape)
    difference = numpy.abs(ours.astype(numpy.int64) - expected.astype(numpy.int64))
    if difference.max() > tolerance:
        where = numpy.argwhere(difference > tolerance)[0].tolist()
        return "pixel %s: %s, pydicom %s" % (where, ours[tuple(where)], expected[tuple(where)])
    return None


def requests_for(frames):
    """(route, headers) of every request asked of one instance."""
    last = max(0, frames - 1)
    routes = []
    for route in IMAGE_ROUTES:
        routes.append(("/%s" % route, None))
        routes.append(("/frames/%d/%s" % (last, route), None))
    routes += [
        ("/preview", {"Accept": "image/jpeg"}),
        ("/preview?quality=50", {"Accept": "image/jpeg"}),
        ("/image-uint8", {"Accept": "image/x-portable-arbitrarymap"}),
        ("/image-uint16", {"Accept": "image/x-portable-arbitrarymap"}),
        ("/image-int16", {"Accept": "image/jpeg"}),
        ("/preview", {"Accept": "text/html"}),
        ("/preview", {"Accept": "text/html, image/*;q=0.5"}),
        ("/preview?quality=0", None),
        ("/rendered?width=64", None),
        ("/rendered?height=37&smooth=1", None),
        ("/rendered?width=300&height=40", None),
        ("/rendered?window-center=100&window-width=50", None),
        ("/frames/%d/preview" % frames, None),
        ("/frames/abc/preview", None),
        ("/frames/-1/image-uint8", None),
        ("/numpy", None),
        ("/numpy?rescale=0", None),
        ("/numpy?compress=1", None),
        ("/numpy?rescale=maybe", None),
        ("/frames/%d/numpy" % last, None),
        ("/frames/%d/numpy?rescale=false" % last, None),
        ("/frames/%d/numpy" % frames, None),
        ("/matlab", None),
        ("/frames/%d/matlab" % last, None),
        ("/frames/0/raw", None),
        ("/frames/%d/raw" % last, None),
        ("/frames/%d/raw" % frames, None),
        ("/frames/0/raw.gz", None),
        ("/frames/x/raw", None),
        ("/pdf", None),
    ]
    return routes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--allowed")
    parser.add_argument("--series", action="store_true", help="also compare /series/{id}/numpy of all files at once")
    parser.add_argument("--pydicom", action="store_true", help="also every file of pydicom's bundled test data")
    parser.add_argument("files", nargs="*")
    options = parser.parse_args()
    if options.pydicom:
        import pydicom.data
        folder = os.path.join(os.path.dirname(pydicom.data.__file__), "test_files")
        options.files += sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names)
    allowed = json.load(open(options.allowed)) if options.allowed else []
    options.allowed_entries = allowed
    report = {"files": 0, "compared": 0, "referenced": 0, "different": [], "allowed": [], "statuses": {}}

    def record(path, route, why):
        name = os.path.basename(path)
        for entry in allowed:
            if entry["file"] in (name, "*") and (entry["route"] == "*" or route.startswith(entry["route"])):
                report["allowed"].append({"file": name, "route": route, "why": why, "reason": entry["reason"]})
                return
        report["different"].append({"file": name, "route": route, "why": why})

    series_names = {}
    if options.series:
        import pydicom
        for path in options.files:
            try:
                uid = str(pydicom.dcmread(path, stop_before_pixels=True, force=True).get("SeriesInstanceUID", ""))
            except Exception:
                continue
            series_names.setdefault(uid, os.path.basename(path))
    with StockOrthanc() as orthanc:
        try:
            compare_all(options, orthanc, report, record, series_names)
        finally:
            # Orthanc can take long to stop on SIGTERM after the crash-prone requests of this corpus: kill it.
            orthanc.server.kill()
            orthanc.server.wait()
    print(json.dumps(report))


def compare_all(options, orthanc, report, record, series_names):
    """Stores each file on both sides and compares every request's answer (records differences in `report`)."""
    report["orthanc"] = orthanc.version
    for path in options.files:
        data = open(path, "rb").read()
        status_a, _, body_a = fetch(options.api, "/instances", method="POST", data=data)
        status_b, _, body_b = fetch(orthanc.base, "/instances", method="POST", data=data)
        if status_a != 200 or status_b != 200:
            if (status_a == 200) != (status_b == 200):
                record(path, "POST /instances", "stored: %d, Orthanc %d" % (status_a, status_b))
            continue
        ours, theirs = json.loads(body_a)["ID"], json.loads(body_b)["ID"]
        report["files"] += 1
        frames = len(json.loads(fetch(orthanc.base, "/instances/%s/frames" % theirs)[2]) or [0])
        statuses = []
        for route, headers in requests_for(frames):
            a = fetch(options.api, "/instances/%s%s" % (ours, route), headers)
            b = fetch(orthanc.base, "/instances/%s%s" % (theirs, route), headers)
            report["compared"] += 1
            statuses.append(b[0])
            label = route + (" Accept: %s" % headers["Accept"] if headers else "")
            if a[0] != b[0]:
                record(path, label, "status %d, Orthanc %d%s" % (a[0], b[0], (": " + a[2][:160].decode("utf-8", "replace")) if a[0] >= 400 else ""))
                continue
            if a[0] != 200:
                continue
            if a[1] != b[1]:
                record(path, label, "Content-Type %s, Orthanc %s" % (a[1], b[1]))
                continue
            try:
                why = same_content(route, a[2], b[2], a[1])
            except Exception as error:  # an unreadable answer is a difference, not a crash of the comparison
                why = "unreadable answer: %s" % error
            if why:
                record(path, label, why)
        report["statuses"][os.path.basename(path)] = statuses
        reference = [e for e in options.allowed_entries if e["file"] == os.path.basename(path) and e.get("reference")]
        if reference:
            why = check_reference(options.api, ours, path, reference[0].get("tolerance", 0))
            report["referenced"] += 1
            if why:
                report["different"].append({"file": os.path.basename(path), "route": "/frames/0/numpy?rescale=0 vs pydicom",
                                            "why": why})
        if not options.series:
            fetch(options.api, "/instances/%s" % ours, method="DELETE")
            fetch(orthanc.base, "/instances/%s" % theirs, method="DELETE")
    if options.series:
        for (level, listing) in [("series", "/series")]:
            ours_all = json.loads(fetch(options.api, listing)[2])
            for series in ours_all:
                uid = json.loads(fetch(options.api, "/series/%s" % series)[2])["MainDicomTags"]["SeriesInstanceUID"]
                match = json.loads(fetch(orthanc.base, "/tools/lookup", method="POST", data=uid.encode())[2])
                match = [m["ID"] for m in match if m["Type"] == "Series"]
                if not match:
                    continue
                name = series_names.get(uid, uid)
                for query in ["", "?rescale=0", "?compress=1"]:
                    a = fetch(options.api, "/series/%s/numpy%s" % (series, query))
                    b = fetch(orthanc.base, "/series/%s/numpy%s" % (match[0], query))
                    report["compared"] += 1
                    route = "/series/numpy" + query
                    if a[0] != b[0]:
                        record(name, route, "status %d, Orthanc %d" % (a[0], b[0]))
                    elif a[0] == 200:
                        why = same_content("/numpy", a[2], b[2], a[1])
                        if why:
                            record(name, route, why)


if __name__ == "__main__":
    main()
