#!/usr/bin/env python3
"""Compares the datasets of DICOM files element by element (pydicom), for tests of what peers receive. Prints one
JSON object on stdout.

  dataset_compare.py A B [A B ...]   {"pairs": N, "different": [{"a", "b", "differences": [...]}]}

Group lengths (gggg,0000) and the dataset trailing padding (FFFC,FFFC) are ignored: DCMTK recomputes the first and
drops the second when it re-encodes a dataset to send it (as Orthanc and storescu do). Sequences are compared item by
item, values as pydicom decodes them, and the transfer syntaxes of the files too.
"""
import json
import sys

import pydicom


def elements(dataset, path=""):
    for element in dataset:
        if element.tag.element == 0 or element.tag == 0xFFFCFFFC:
            continue
        name = f"{path}({element.tag.group:04X},{element.tag.element:04X})"
        if element.VR == "SQ":
            yield name, ("SQ", len(element.value))
            for index, item in enumerate(element.value):
                yield from elements(item, f"{name}[{index}]")
        else:
            yield name, (element.VR, repr(element.value))


def compare(a, b):
    one = pydicom.dcmread(a, force=True)
    two = pydicom.dcmread(b, force=True)
    first, second = dict(elements(one)), dict(elements(two))
    differences = []
    for tag in sorted(set(first) | set(second)):
        if first.get(tag) != second.get(tag):
            differences.append(tag)
    syntaxes = one.file_meta.get("TransferSyntaxUID"), two.file_meta.get("TransferSyntaxUID")
    if None not in syntaxes and syntaxes[0] != syntaxes[1]:  # a file without meta header names no syntax
        differences.append("transfer syntax")
    return differences


def main():
    files = sys.argv[1:]
    different = []
    for a, b in zip(files[0::2], files[1::2]):
        differences = compare(a, b)
        if differences:
            different.append({"a": a, "b": b, "differences": differences[:20]})
    print(json.dumps({"pairs": len(files) // 2, "different": different}))


if __name__ == "__main__":
    main()
