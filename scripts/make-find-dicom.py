#!/usr/bin/env python3
"""Writes the deterministic dataset of bench/find: COUNT small instances (64x64, 8-bit) in studies of 2 series x 10
instances, 2 studies per patient (100,000 instances = 5,000 studies = 2,500 patients), with realistic, varied
study-level attributes for /tools/find:

  PatientName       FAMILY^GIVEN, drawn from lists of common family and given names (a few with accents, as in
                    European hospitals), so a wildcard such as "SMI*" selects a small subset
  PatientID         P<seed>-<patient:06d>; PatientBirthDate, PatientSex
  StudyDate         spread uniformly over 2015-01-01 .. 2024-12-31; StudyTime
  AccessionNumber   unique per study
  StudyDescription  one per modality; Modality (CT, MR, CR, DX, US; the same for both series of a study, with the
                    matching storage SOP class); ReferringPhysicianName, InstitutionName, StudyID, SeriesDescription

Everything is a pure function of (seed, index): the same arguments always give byte-identical files. Files are
spread over 16 folders s00..s15 (by study, so a study's files are in one folder) for sending over parallel
associations with `storescu +sd`. manifest.json lists the studies with their attributes and Orthanc IDs (SHA-1 of
PatientID|StudyInstanceUID, computed here independently of Tessera's code).

usage: make-find-dicom.py --out DIR [--count 100000] [--seed 2026] [--jobs N]
"""
import argparse
import datetime
import hashlib
import json
import multiprocessing
import os
import random

from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

ROOT = "1.2.826.0.1.3680043.10.1199.7"
SERIES_PER_STUDY = 2
INSTANCES_PER_SERIES = 10
STUDIES_PER_PATIENT = 2
INSTANCES_PER_STUDY = SERIES_PER_STUDY * INSTANCES_PER_SERIES
SHARDS = 16
SIZE = 64
FIRST_DAY = datetime.date(2015, 1, 1)
DAYS = (datetime.date(2024, 12, 31) - FIRST_DAY).days + 1

FAMILY = """SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ GONZALEZ WILSON
ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER
YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL FLORES GREEN ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER
ROBERTS GOMEZ PHILLIPS EVANS TURNER DIAZ PARKER CRUZ EDWARDS COLLINS REYES STEWART MORRIS MORALES MURPHY COOK ROGERS
GUTIERREZ ORTIZ MORGAN COOPER PETERSON BAILEY REED KELLY HOWARD RAMOS KIM COX WARD RICHARDSON WATSON BROOKS CHAVEZ WOOD
JAMES BENNETT GRAY MENDOZA RUIZ HUGHES PRICE ALVAREZ CASTILLO SANDERS PATEL MYERS LONG ROSS FOSTER JIMENEZ POWELL
JENKINS PERRY RUSSELL SULLIVAN BELL COLEMAN BUTLER HENDERSON BARNES FISHER MULLEN SCHMIDT SCHNEIDER FISCHER WEBER MEYER
WAGNER BECKER SCHULZ HOFFMANN KOCH RICHTER KLEIN WOLF SCHRODER NEUMANN DUBOIS MOREAU LAURENT SIMON MICHEL LEROY ROUX
DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE ROSSI RUSSO FERRARI ESPOSITO BIANCHI ROMANO COLOMBO
RICCI MARINO GRECO PEETERS JANSSENS MAES JACOBS MERTENS WILLEMS CLAES GOOSSENS WOUTERS DE^JONG VAN^DIJK""".split()
# A few names with letters outside ASCII (ISO_IR 100), as real patient lists have.
FAMILY += ["MÜLLER", "GARCÍA", "LEFÈVRE", "NÚÑEZ", "PÉREZ", "SØRENSEN", "GONZÁLEZ", "BJÖRK"]
FAMILY = [f.replace("^", " ") for f in FAMILY]
GIVEN = """JAMES:M JOHN:M ROBERT:M MICHAEL:M WILLIAM:M DAVID:M RICHARD:M JOSEPH:M THOMAS:M CHARLES:M CHRISTOPHER:M DANIEL:M
MATTHEW:M ANTHONY:M MARK:M PAUL:M STEVEN:M ANDREW:M KENNETH:M JOSHUA:M KEVIN:M BRIAN:M GEORGE:M PETER:M LUCAS:M PIERRE:M
HANS:M MARCO:M JAN:M LUC:M MARY:F PATRICIA:F JENNIFER:F LINDA:F ELIZABETH:F BARBARA:F SUSAN:F JESSICA:F SARAH:F KAREN:F
NANCY:F LISA:F BETTY:F MARGARET:F SANDRA:F ASHLEY:F EMILY:F DONNA:F MICHELLE:F CAROL:F AMANDA:F MELISSA:F ANNA:F MARIE:F
SOPHIE:F GIULIA:F EMMA:F CLAIRE:F LAURA:F INGRID:F""".split()
GIVEN = [tuple(g.split(":")) for g in GIVEN]
MODALITIES = {  # modality: (SOP class, study descriptions, series descriptions)
    "CT": ("1.2.840.10008.5.1.4.1.1.2", ["CT CHEST W/O CONTRAST", "CT ABDOMEN PELVIS W CONTRAST", "CT HEAD W/O CONTRAST",
                                         "CTA CHEST PE PROTOCOL"], ["AXIAL 5MM", "CORONAL MPR"]),
    "MR": ("1.2.840.10008.5.1.4.1.1.4", ["MRI BRAIN W/O CONTRAST", "MRI KNEE LEFT", "MRI LUMBAR SPINE"],
           ["T1 SAG", "T2 AX"]),
    "CR": ("1.2.840.10008.5.1.4.1.1.1", ["XR CHEST 2 VIEWS", "XR HAND RIGHT"], ["PA", "LATERAL"]),
    "DX": ("1.2.840.10008.5.1.4.1.1.1.1", ["XR KNEE BILATERAL", "XR PELVIS AP"], ["AP", "LATERAL"]),
    "US": ("1.2.840.10008.5.1.4.1.1.6.1", ["US ABDOMEN COMPLETE", "US THYROID"], ["TRANSVERSE", "SAGITTAL"]),
}
MODALITY_WEIGHTS = {"CT": 30, "MR": 20, "CR": 25, "DX": 15, "US": 10}
PHYSICIANS = ["HOUSE^GREGORY", "GREY^MEREDITH", "ROSS^DOUG", "CARTER^JOHN", "QUINN^MICHAELA", "KILDARE^JAMES"]
INSTITUTIONS = ["GENERAL HOSPITAL", "ST MARY CLINIC", "UNIVERSITY MEDICAL CENTER"]


def orthanc_id(text):
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    return "-".join(digest[i:i + 8] for i in range(0, 40, 8))


def patient(seed, p):
    rng = random.Random(f"{seed}/patient/{p}")
    family = rng.choice(FAMILY)
    given, sex = rng.choice(GIVEN)
    birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 85))
    return {"PatientID": f"P{seed}-{p:06d}", "PatientName": f"{family}^{given}",
            "PatientBirthDate": birth.strftime("%Y%m%d"), "PatientSex": sex}


def study(seed, s):
    p = s // STUDIES_PER_PATIENT
    rng = random.Random(f"{seed}/study/{s}")
    modality = rng.choices(list(MODALITY_WEIGHTS), weights=list(MODALITY_WEIGHTS.values()))[0]
    date = FIRST_DAY + datetime.timedelta(days=rng.randrange(DAYS))
    info = patient(seed, p)
    info.update({
        "StudyInstanceUID": f"{ROOT}.{seed}.{p}.{s}",
        "StudyDate": date.strftime("%Y%m%d"),
        "StudyTime": f"{rng.randrange(7, 20):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}",
        # unique: the study number in the middle, a check-like digit pair from the random stream around it
        "AccessionNumber": f"A{date.year % 100:02d}{s:07d}{rng.randrange(100):02d}",
        "StudyDescription": rng.choice(MODALITIES[modality][1]),
        "StudyID": str(rng.randrange(1, 100000)),
        "ReferringPhysicianName": rng.choice(PHYSICIANS),
        "InstitutionName": rng.choice(INSTITUTIONS),
        "Modality": modality,
    })
    info["ID"] = orthanc_id(f"{info['PatientID']}|{info['StudyInstanceUID']}")
    info["ParentPatient"] = orthanc_id(info["PatientID"])
    return info


def write_study(job):
    out, seed, s, count = job
    info = study(seed, s)
    sop_class, _, series_descriptions = MODALITIES[info["Modality"]]
    written = 0
    folder = os.path.join(out, f"s{s % SHARDS:02d}")
    for k in range(SERIES_PER_STUDY):
        series_uid = f"{info['StudyInstanceUID']}.{k}"
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop_class
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = f"{ROOT}.99"
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.SOPClassUID = sop_class
        ds.StudyDate = info["StudyDate"]
        ds.SeriesDate = info["StudyDate"]
        ds.StudyTime = info["StudyTime"]
        ds.AccessionNumber = info["AccessionNumber"]
        ds.Modality = info["Modality"]
        ds.Manufacturer = "Tessera"
        ds.InstitutionName = info["InstitutionName"]
        ds.ReferringPhysicianName = info["ReferringPhysicianName"]
        ds.StudyDescription = info["StudyDescription"]
        ds.SeriesDescription = series_descriptions[k]
        ds.PatientName = info["PatientName"]
        ds.PatientID = info["PatientID"]
        ds.PatientBirthDate = info["PatientBirthDate"]
        ds.PatientSex = info["PatientSex"]
        ds.StudyInstanceUID = info["StudyInstanceUID"]
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = info["StudyID"]
        ds.SeriesNumber = k + 1
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = SIZE
        ds.Columns = SIZE
        ds.BitsAllocated = 8
        ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelRepresentation = 0
        for n in range(INSTANCES_PER_SERIES):
            index = s * INSTANCES_PER_STUDY + k * INSTANCES_PER_SERIES + n
            if index >= count:
                return written
            sop_uid = f"{series_uid}.{n + 1}"
            meta.MediaStorageSOPInstanceUID = sop_uid
            ds.SOPInstanceUID = sop_uid
            ds.InstanceNumber = n + 1
            ds.ImagePositionPatient = [0, 0, 5 * n]
            ds.PixelData = random.Random(seed * 1_000_003 + index).randbytes(SIZE * SIZE)
            dcmwrite(os.path.join(folder, f"{index:06d}.dcm"), ds, enforce_file_format=True)
            written += 1
    return written


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    for shard in range(SHARDS):
        os.makedirs(os.path.join(args.out, f"s{shard:02d}"), exist_ok=True)
    studies = (args.count + INSTANCES_PER_STUDY - 1) // INSTANCES_PER_STUDY
    jobs = [(args.out, args.seed, s, args.count) for s in range(studies)]
    with multiprocessing.Pool(args.jobs) as pool:
        written = sum(pool.imap_unordered(write_study, jobs, chunksize=16))
    assert written == args.count, (written, args.count)
    manifest = {"Count": args.count, "Seed": args.seed, "InstancesPerStudy": INSTANCES_PER_STUDY,
                "Studies": [study(args.seed, s) for s in range(studies)]}
    for entry in manifest["Studies"]:
        entry["Instances"] = min(INSTANCES_PER_STUDY, args.count - (int(entry["StudyInstanceUID"].rsplit(".", 1)[1])
                                                                    * INSTANCES_PER_STUDY))
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
