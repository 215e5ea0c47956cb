#!/usr/bin/env python3
"""Writes a deterministic set of CT-like DICOM files and a manifest with the Orthanc IDs they must get.

The IDs are computed here with hashlib, independently of Tessera's Swift code, by Orthanc's rule
(SHA-1 of PatientID[|StudyInstanceUID[|SeriesInstanceUID[|SOPInstanceUID]]], 5 groups of 8 hex digits).

usage: make-test-dicom.py --out DIR [--count N] [--patients P] [--studies S] [--series K] [--size 64] [--seed 1]
"""
import argparse
import hashlib
import json
import os
import random

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, CTImageStorage

ROOT = "1.2.826.0.1.3680043.10.1199"


def orthanc_id(text):
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    return "-".join(digest[i:i + 8] for i in range(0, 40, 8))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--patients", type=int, default=2)
    parser.add_argument("--studies", type=int, default=2, help="studies per patient")
    parser.add_argument("--series", type=int, default=1, help="series per study")
    parser.add_argument("--size", type=int, default=64, help="rows and columns")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--omit", action="append", default=[], help="leave this attribute out (to make bad input)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    buckets = args.patients * args.studies * args.series
    manifest = []
    for index in range(args.count):
        bucket = index % buckets
        p = bucket // (args.studies * args.series)
        s = (bucket // args.series) % args.studies
        k = bucket % args.series
        patient_id = f"TESSERA-{args.seed}-{p:04d}"
        study_uid = f"{ROOT}.{args.seed}.{p}.{s}"
        series_uid = f"{study_uid}.{k}"
        sop_uid = f"{series_uid}.{index}"

        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = f"{ROOT}.99"
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop_uid
        ds.StudyDate = f"2026{1 + s % 12:02d}{1 + p % 28:02d}"
        ds.StudyTime = "101500"
        ds.AccessionNumber = f"ACC{args.seed}{p:04d}{s:03d}"
        ds.Modality = "CT"
        ds.Manufacturer = "Tessera"
        ds.PatientName = f"Test^Patient{p}"
        ds.PatientID = patient_id
        ds.PatientBirthDate = "19700101"
        ds.PatientSex = "O"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = f"S{s}"
        ds.SeriesNumber = k + 1
        ds.InstanceNumber = index // buckets + 1
        ds.StudyDescription = f"Study {s} of patient {p}"
        ds.SeriesDescription = f"Series {k}"
        ds.ImagePositionPatient = [0, 0, index]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = args.size
        ds.Columns = args.size
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.PixelData = rng.randbytes(args.size * args.size * 2)
        for keyword in args.omit:
            delattr(ds, keyword)
        name = os.path.join(args.out, f"{index:06d}.dcm")
        ds.save_as(name, enforce_file_format=True)
        manifest.append({
            "File": name,
            "PatientID": patient_id, "StudyInstanceUID": study_uid,
            "SeriesInstanceUID": series_uid, "SOPInstanceUID": sop_uid,
            "ID": orthanc_id(f"{patient_id}|{study_uid}|{series_uid}|{sop_uid}"),
            "ParentSeries": orthanc_id(f"{patient_id}|{study_uid}|{series_uid}"),
            "ParentStudy": orthanc_id(f"{patient_id}|{study_uid}"),
            "ParentPatient": orthanc_id(patient_id),
        })
    with open(os.path.join(args.out, "manifest.json"), "w") as out:
        json.dump(manifest, out, indent=1)


if __name__ == "__main__":
    main()
