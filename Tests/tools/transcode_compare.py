#!/usr/bin/env python3
"""Transcoding side by side with stock Orthanc (Debian package, started here), and Tessera's own routes checked against
the files they came from. Prints one JSON object on stdout: {"orthanc", "compared", "checked", "different": [{"case",
"file", "why"}]}.

  transcode_compare.py --api URL archives FILE...
      every file stored on both sides; for each target syntax, GET /studies/{id}/archive?transcode= and POST
      /tools/create-media {"Transcode"} of each study on both: the ZIP entries' names, and each entry's dataset
      (element by element, pixel data included; SOP Instance UIDs by behaviour, kept or renewed on both sides)
  transcode_compare.py --api URL file FILE...
      GET /instances/{id}/file?transcode= (Orthanc 1.12.2's route, absent from Debian's 1.10.1): the answer is in the
      asked syntax and decodes to the stored file's pixels (lossless targets), or a clear error
  transcode_compare.py --api URL ingest SYNTAX FILE...
      Tessera started with IngestTranscoding SYNTAX (by the caller), Orthanc here with the same: each file uploaded to
      both, the stored files compared (matched by their original SOP Instance UID when a lossy syntax renewed it)
"""
import argparse
import io
import json
import os
import sys
import urllib.error
import urllib.request
import zipfile

import numpy
import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from stock_orthanc import StockOrthanc  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from modify_compare import zero_padding  # noqa: E402

LOSSLESS = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.57",
            "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80"]
LOSSY = ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81"]


def fetch(base, path, method="GET", data=None):
    request = urllib.request.Request(base + path, data=data, method=method)
    try:
        answer = urllib.request.urlopen(request, timeout=300)
    except urllib.error.HTTPError as error:
        answer = error
    with answer:
        return answer.status, (answer.headers.get("Content-Type") or "").split(";")[0], answer.read()


def normalized(dataset):
    """Element -> value, pixel fragments with the byte padding an odd JPEG fragment after its EOI set to 0 (DCMTK's
    JPEG-LS encoder leaves it uninitialised); SOP Instance UID and meta header left out (compared apart)."""
    zero_padding(dataset)
    values = {}

    def walk(item, prefix):
        for element in item:
            if element.tag in (0x00080018, 0xFFFCFFFC) or element.tag.element == 0:
                continue
            key = "%s(%04X,%04X)" % (prefix, element.tag.group, element.tag.element)
            if element.VR == "SQ":
                values[key] = len(element.value)
                for index, child in enumerate(element.value):
                    walk(child, "%s[%d]" % (key, index))
            else:
                values[key] = element.value if not isinstance(element.value, bytes) else element.value.hex()
    walk(dataset, "")
    return values


def compare_files(ours, theirs, original_uid):
    """None when the two files agree, else why not."""
    a, b = pydicom.dcmread(io.BytesIO(ours)), pydicom.dcmread(io.BytesIO(theirs))
    if a.file_meta.TransferSyntaxUID != b.file_meta.TransferSyntaxUID:
        return "transfer syntax %s, Orthanc %s" % (a.file_meta.TransferSyntaxUID, b.file_meta.TransferSyntaxUID)
    renewed_a, renewed_b = str(a.SOPInstanceUID) != original_uid, str(b.SOPInstanceUID) != original_uid
    if renewed_a != renewed_b:
        return "SOP Instance UID renewed by %s only" % ("Tessera" if renewed_a else "Orthanc")
    if str(a.file_meta.MediaStorageSOPInstanceUID) != str(a.SOPInstanceUID):
        return "the meta header does not follow the SOP Instance UID"
    fa, fb = normalized(a), normalized(b)
    for key in sorted(set(fa) | set(fb)):
        if fa.get(key) != fb.get(key):
            # Lossy targets reference the predecessor, whose UID is the original on both sides.
            return "%s: %s vs %s" % (key, str(fa.get(key))[:120], str(fb.get(key))[:120])
    return None


def pixels_of(data):
    """The pixel values of a DICOM file: pydicom's own decoders, DCMTK's dcmdjpeg/dcmdjpls for JPEG lossless and JPEG-LS
    (pydicom needs plugins for them)."""
    dataset = pydicom.dcmread(io.BytesIO(data))
    return stored_values(*decoded_array(dataset, data))


def stored_values(dataset, array):
    """The pixel values as DICOM defines them: the BitsStored bits below HighBit (an encoder may move them down)."""
    shift = int(dataset.get("HighBit", 0)) + 1 - int(dataset.get("BitsStored", 0) or 0)
    if shift > 0 and array.dtype.kind in "ui":
        # pydicom masks to BitsStored without shifting: read native samples as stored instead.
        if not dataset.file_meta.TransferSyntaxUID.is_encapsulated and int(dataset.BitsAllocated) == 16:
            array = numpy.frombuffer(dataset.PixelData, dtype="<u2" if dataset.file_meta.TransferSyntaxUID.is_little_endian
                                     else ">u2")[:array.size].reshape(array.shape)
        return (array.astype(numpy.int64) >> shift) & ((1 << int(dataset.BitsStored)) - 1)
    return array


def decoded_array(dataset, data):
    """(native dataset, pixel array): compressed files decompressed by DCMTK's tools first (pydicom needs plugins for
    JPEG and JPEG-LS, and its RLE decoder masks samples above BitsStored away)."""
    import subprocess
    import tempfile
    syntax = str(dataset.file_meta.TransferSyntaxUID)
    tool = {"1.2.840.10008.1.2.4.57": "dcmdjpeg", "1.2.840.10008.1.2.4.70": "dcmdjpeg",
            "1.2.840.10008.1.2.4.80": "dcmdjpls", "1.2.840.10008.1.2.4.81": "dcmdjpls",
            "1.2.840.10008.1.2.5": "dcmdrle"}.get(syntax)
    if tool is None:
        return dataset, dataset.pixel_array
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "in.dcm"), os.path.join(folder, "out.dcm")
        open(source, "wb").write(data)
        subprocess.run([tool, source, target], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        native = pydicom.dcmread(target)
        return native, native.pixel_array


def upload_all(api, orthanc, files):
    """{file: (Tessera's instance, Orthanc's instance)} of the files both stored."""
    stored = {}
    for path in files:
        data = open(path, "rb").read()
        a = fetch(api, "/instances", "POST", data)
        b = fetch(orthanc.base, "/instances", "POST", data)
        if a[0] == 200 and b[0] == 200:
            stored[path] = (json.loads(a[2]), json.loads(b[2]))
    return stored


def archives(options, orthanc, report):
    stored = upload_all(options.api, orthanc, options.files)
    studies = sorted({(a["ParentStudy"], b["ParentStudy"]) for a, b in stored.values()})
    originals = {}
    for path in stored:
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
        originals[str(dataset.SOPInstanceUID)] = str(dataset.SOPInstanceUID)
    for syntax in LOSSLESS + LOSSY:
        for ours, theirs in studies:
            for case, route, body in [("archive", "/studies/%s/archive?transcode=" + syntax, None),
                                      ("media", "/tools/create-media", {"Resources": [None], "Transcode": syntax})]:
                a = fetch(options.api, route % ours if body is None else route, "GET" if body is None else "POST",
                          None if body is None else json.dumps(dict(body, Resources=[ours])).encode())
                b = fetch(orthanc.base, route % theirs if body is None else route, "GET" if body is None else "POST",
                          None if body is None else json.dumps(dict(body, Resources=[theirs])).encode())
                label = "%s %s" % (case, syntax)
                report["compared"] += 1
                if a[0] != b[0] or a[0] != 200:
                    report["different"].append({"case": label, "file": ours, "why": "status %d, Orthanc %d" % (a[0], b[0])})
                    continue
                za, zb = zipfile.ZipFile(io.BytesIO(a[2])), zipfile.ZipFile(io.BytesIO(b[2]))
                names_a, names_b = sorted(za.namelist()), sorted(zb.namelist())
                if names_a != names_b:
                    report["different"].append({"case": label, "file": ours, "why": "entries %s vs %s" % (names_a[:5], names_b[:5])})
                    continue
                for name in names_a:
                    if name.endswith("DICOMDIR"):
                        continue
                    ea, eb = za.read(name), zb.read(name)
                    source = pydicom.dcmread(io.BytesIO(eb), stop_before_pixels=True)
                    # The predecessor of a renewed instance (SourceImageSequence) names its original UID.
                    original = str(source.SourceImageSequence[0].ReferencedSOPInstanceUID) \
                        if "SourceImageSequence" in source and syntax in LOSSY else str(source.SOPInstanceUID)
                    why = compare_files(ea, eb, original)
                    report["checked"] += 1
                    if why:
                        report["different"].append({"case": label, "file": name, "why": why})


def file_route(options, report):
    for path in options.files:
        data = open(path, "rb").read()
        answer = fetch(options.api, "/instances", "POST", data)
        if answer[0] != 200:
            continue
        instance = json.loads(answer[2])["ID"]
        original = pydicom.dcmread(path)
        try:
            reference = stored_values(original, original.pixel_array) if "PixelData" in original else None
        except Exception:  # noqa: BLE001 - a file pydicom cannot decode is checked for its syntax only
            reference = None
        # RLE too: Tessera writes it where Orthanc's core cannot.
        for syntax in LOSSLESS + ["1.2.840.10008.1.2.5"]:
            status, content_type, body = fetch(options.api, "/instances/%s/file?transcode=%s" % (instance, syntax))
            report["compared"] += 1
            label = "file %s" % syntax
            if status != 200:
                message = json.loads(body).get("Details", "") if body.startswith(b"{") else ""
                # A file whose pixels cannot be re-encoded: Orthanc's error JSON, with the reason.
                if status != 500 or "Cannot transcode" not in message:
                    report["different"].append({"case": label, "file": os.path.basename(path), "why": "status %d %s" % (status, message)})
                continue
            result = pydicom.dcmread(io.BytesIO(body))
            if content_type != "application/dicom" or result.file_meta.TransferSyntaxUID != syntax:
                report["different"].append({"case": label, "file": os.path.basename(path),
                                            "why": "%s in %s" % (content_type, result.file_meta.TransferSyntaxUID)})
                continue
            if str(result.SOPInstanceUID) != str(original.SOPInstanceUID):
                report["different"].append({"case": label, "file": os.path.basename(path), "why": "a lossless syntax renewed the UID"})
            # pydicom reads 32-bit big endian OW differently from DCMTK, and converts YBR colours on its own: those
            # are compared with Orthanc's files by the archive mode instead.
            ambiguous = (syntax == "1.2.840.10008.1.2.2" and int(original.get("BitsAllocated", 8)) > 16) or \
                str(original.get("PhotometricInterpretation", "")).startswith("YBR")
            if reference is not None and not ambiguous:
                report["checked"] += 1
                if not numpy.array_equal(numpy.asarray(pixels_of(body), dtype=numpy.int64), numpy.asarray(reference, dtype=numpy.int64)):
                    report["different"].append({"case": label, "file": os.path.basename(path), "why": "pixels differ"})
        for syntax, expected in [("1.2.3.4", 400), ("1.2.840.10008.1.2.4.90", 500)]:
            status, _, body = fetch(options.api, "/instances/%s/file?transcode=%s" % (instance, syntax))
            report["compared"] += 1
            if status != expected and not (syntax.endswith(".90") and original.file_meta.TransferSyntaxUID == syntax):
                report["different"].append({"case": "file %s" % syntax, "file": os.path.basename(path), "why": "status %d" % status})
        fetch(options.api, "/instances/%s" % instance, "DELETE")


def ingest(options, orthanc, report):
    syntax = options.syntax
    for path in options.files:
        data = open(path, "rb").read()
        a = fetch(options.api, "/instances", "POST", data)
        b = fetch(orthanc.base, "/instances", "POST", data)
        report["compared"] += 1
        if a[0] != b[0]:
            report["different"].append({"case": "ingest", "file": os.path.basename(path), "why": "status %d, Orthanc %d" % (a[0], b[0])})
            continue
        if a[0] != 200:
            continue
        ours, theirs = json.loads(a[2])["ID"], json.loads(b[2])["ID"]
        renewed = ours != theirs
        original = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        fa = fetch(options.api, "/instances/%s/file" % ours)[2]
        fb = fetch(orthanc.base, "/instances/%s/file" % theirs)[2]
        why = compare_files(fa, fb, original)
        if not why and renewed and syntax in LOSSLESS:
            why = "a lossless syntax gave another instance ID"
        report["checked"] += 1
        if why:
            report["different"].append({"case": "ingest %s" % syntax, "file": os.path.basename(path), "why": why})
        metadata = fetch(options.api, "/instances/%s/metadata/TransferSyntax" % ours)[2].decode()
        if metadata != str(pydicom.dcmread(io.BytesIO(fa), stop_before_pixels=True).file_meta.TransferSyntaxUID):
            report["different"].append({"case": "ingest %s" % syntax, "file": os.path.basename(path),
                                        "why": "metadata TransferSyntax %s" % metadata})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("mode", choices=["archives", "file", "ingest"])
    parser.add_argument("rest", nargs="+")
    options = parser.parse_args()
    if options.mode == "ingest":
        options.syntax, options.files = options.rest[0], options.rest[1:]
    else:
        options.files = options.rest
    report = {"compared": 0, "checked": 0, "different": []}
    if options.mode == "file":
        file_route(options, report)
    else:
        configuration = {"IngestTranscoding": options.syntax} if options.mode == "ingest" else {}
        with StockOrthanc(**configuration) as orthanc:
            try:
                report["orthanc"] = orthanc.version
                (archives if options.mode == "archives" else ingest)(options, orthanc, report)
            finally:
                orthanc.server.kill()
                orthanc.server.wait()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
