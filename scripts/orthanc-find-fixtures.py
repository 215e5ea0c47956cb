#!/usr/bin/env python3
"""Records how stock Orthanc (Debian package `orthanc`) answers POST /tools/find, POST /tools/lookup and DELETE on
resources, as the fixture Tessera's search and deletion are checked against: Tests/UnitTests/Fixtures/find/cases.json.

Uploads Tests/UnitTests/Fixtures/tags/*.dcm in sorted file-name order (except rtplan.dcm; files Orthanc refuses are
skipped; files sharing a SOPInstanceUID keep the first stored), then runs the requests of `cases()` in order and writes
a JSON array of {"name", "method", "path", "body", "raw" (only when "body" is sent as a raw string, not as JSON),
"status", "answer" (parsed JSON answer, or null when the body is empty or not JSON)}. The DELETE cases come last:
they change the data. Answers are Orthanc's own, so "LastUpdate" (a timestamp) and an instance's "FileUuid" (random)
differ from one recording to the next; everything else is deterministic. "StableAge" is set high so every resource
stays "IsStable": false and no Stable* change is logged while recording.

usage: orthanc-find-fixtures.py [OUTPUT.json]   (needs `apt-get install orthanc`; starts it on free loopback ports)
"""
import glob
import json
import os
import sys

from stock_orthanc import StockOrthanc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = os.path.join(ROOT, "Tests", "UnitTests", "Fixtures", "tags")
OUTPUT = os.path.join(ROOT, "Tests", "UnitTests", "Fixtures", "find", "cases.json")
SKIPPED = {"rtplan.dcm"}


def find(name, body, **extra):
    return dict(name=name, method="POST", path="/tools/find", body=body, **extra)


def lookup(name, text):
    return dict(name=name, method="POST", path="/tools/lookup", body=text, raw=True)


def q(level, query, **options):
    return dict(Level=level, Query=query, **options)


def cases():
    """The search requests, run before any deletion."""
    return [
        # Levels
        find("Patient level, empty query: every patient", q("Patient", {})),
        find("Study level, empty query", q("Study", {})),
        find("Series level, empty query", q("Series", {})),
        find("Instance level, empty query", q("Instance", {})),
        find("level in lower case: study", q("study", {})),
        find("level alias: studies", q("studies", {})),
        find("level alias: Image (= Instance)", q("Image", {"Modality": "CT"})),

        # Exact matches (CaseSensitive defaults to false for every VR)
        find("PatientID exact", q("Patient", {"PatientID": "ID1"})),
        find("PatientID exact, other case (default case-insensitive)", q("Patient", {"PatientID": "id1"})),
        find("PatientName exact", q("Patient", {"PatientName": "Lestrade^G"})),
        find("PatientName exact, Cyrillic in other case", q("Patient", {"PatientName": "люкceмбypг"})),
        find("PatientName accented, upper case", q("Patient", {"PatientName": "BUC^JÉRÔME"})),
        find("PatientName without its accents: no match", q("Patient", {"PatientName": "buc^jerome"})),
        find("PatientName ^^^^ exact", q("Patient", {"PatientName": "^^^^"})),

        # Wildcards
        find("PatientName prefix wildcard, other case", q("Patient", {"PatientName": "compressed*"})),
        find("PatientName suffix wildcard", q("Patient", {"PatientName": "*CT1"})),
        find("PatientName infix wildcard", q("Patient", {"PatientName": "*samples*"})),
        find("PatientName ? wildcard", q("Patient", {"PatientName": "CompressedSamples^?R1"})),
        find("PatientName ? on a Korean character: no match", q("Patient", {"PatientName": "김희?"})),
        find("PatientName * with Korean prefix", q("Patient", {"PatientName": "김*"})),
        find("PatientName infix wildcard on Japanese ideographs", q("Patient", {"PatientName": "*山田*"})),
        find("StudyDescription prefix wildcard", q("Study", {"StudyDescription": "OFFIS*"})),
        find("StudyDescription suffix wildcard", q("Study", {"StudyDescription": "*Bone"})),
        find("StudyDescription infix wildcard, other case", q("Study", {"StudyDescription": "*structured*"})),
        find("StudyDescription ? wildcard", q("Study", {"StudyDescription": "E?G"})),
        find("Modality ? wildcard at Series level", q("Series", {"Modality": "C?"})),

        # Universal matching
        find("StudyDescription *: only studies that have the tag", q("Study", {"StudyDescription": "*"})),
        find("StudyDescription empty string: universal, every study", q("Study", {"StudyDescription": ""})),
        find("PatientName * at Patient level", q("Patient", {"PatientName": "*"})),
        find("AccessionNumber * matches empty values", q("Study", {"AccessionNumber": "*"})),

        # Case sensitivity
        find("PatientName wildcard, CaseSensitive true: no match",
             q("Patient", {"PatientName": "compressed*"}, CaseSensitive=True)),
        find("PatientName wildcard, CaseSensitive false",
             q("Patient", {"PatientName": "compressed*"}, CaseSensitive=False)),
        find("PatientName exact, CaseSensitive true, same case",
             q("Study", {"PatientName": "CompressedSamples^CT1"}, CaseSensitive=True)),
        find("StudyDescription other case, default", q("Study", {"StudyDescription": "chest"})),
        find("StudyDescription other case, CaseSensitive true: no match",
             q("Study", {"StudyDescription": "chest"}, CaseSensitive=True)),
        find("StudyDescription wildcard other case, CaseSensitive true: no match",
             q("Study", {"StudyDescription": "*structured*"}, CaseSensitive=True)),
        find("Modality other case, default", q("Series", {"Modality": "ct"})),
        find("Modality other case, CaseSensitive true: no match",
             q("Series", {"Modality": "ct"}, CaseSensitive=True)),
        find("PatientID other case, CaseSensitive true: no match",
             q("Study", {"PatientID": "1ct1"}, CaseSensitive=True)),

        # Dates and ranges
        find("StudyDate open range YYYYMMDD-", q("Study", {"StudyDate": "20040826-"})),
        find("StudyDate open range -YYYYMMDD (empty dates match too)", q("Study", {"StudyDate": "-20040101"})),
        find("StudyDate closed range", q("Study", {"StudyDate": "20040101-20041231"})),
        find("StudyDate exact", q("Study", {"StudyDate": "20040826"})),
        find("StudyDate range matching nothing", q("Study", {"StudyDate": "19000101-19001231"})),
        find("StudyDate reversed range", q("Study", {"StudyDate": "20040826-20040101"})),
        find("StudyDate list of dates", q("Study", {"StudyDate": "20040826\\20030417"})),
        find("StudyDate wildcard: refused", q("Study", {"StudyDate": "2004*"})),
        find("StudyTime range", q("Study", {"StudyTime": "100000-120000"})),
        find("PatientBirthDate open range at Patient level", q("Patient", {"PatientBirthDate": "-19700101"})),
        find("hyphen on a non-date tag is literal (PatientID 2008-4)", q("Patient", {"PatientID": "2008-4"})),

        # Lists
        find("Modality list CT\\MR", q("Series", {"Modality": "CT\\MR"})),
        find("Modality list with an empty item CT\\", q("Series", {"Modality": "CT\\"})),
        find("PatientID list", q("Patient", {"PatientID": "2008-3\\2008-4"})),

        # Tags of other levels
        find("PatientID at Series level", q("Series", {"PatientID": "8NM1"})),
        find("PatientID at Instance level", q("Instance", {"PatientID": "8NM1"})),
        find("PatientName at Study level, other case", q("Study", {"PatientName": "compressedsamples^ct1"})),
        find("StudyDescription at Instance level", q("Instance", {"StudyDescription": "Chest"})),
        find("StudyDate and PatientName at Instance level", q("Instance", {"StudyDate": "20080504", "PatientName": "김*"})),
        find("two constraints at Study level", q("Study", {"PatientName": "Last*", "StudyDescription": "OFFIS*"})),
        find("StudyInstanceUID at Series level",
             q("Series", {"StudyInstanceUID": "1.3.76.13.65829.2.20130125082826.1072139.2"})),
        find("Modality (series tag) at Study level: no match", q("Study", {"Modality": "CR"})),
        find("StudyDescription (study tag) at Patient level: no match", q("Patient", {"StudyDescription": "ECG"})),
        find("ModalitiesInStudy list at Study level", q("Study", {"ModalitiesInStudy": "CR\\SEG"})),
        find("ModalitiesInStudy wildcard at Study level", q("Study", {"ModalitiesInStudy": "C*"})),
        find("ModalitiesInStudy: ordered by StudyInstanceUID", q("Study", {"ModalitiesInStudy": "OT"})),
        find("ModalitiesInStudy with Since 1 and Limit 2: indexes 1 to 1",
             q("Study", {"ModalitiesInStudy": "OT"}, Since=1, Limit=2)),
        find("ModalitiesInStudy with Since and no Limit: Since ignored",
             q("Study", {"ModalitiesInStudy": "OT"}, Since=3)),

        # Tags that are not main DICOM tags, and tag spellings
        find("Rows (not a main tag) at Instance level", q("Instance", {"Rows": "32"})),
        find("Rows as 0028,0010", q("Instance", {"0028,0010": "32"})),
        find("Rows with a main tag", q("Instance", {"Rows": "32", "Modality": "CR"})),
        find("SliceThickness exact string", q("Instance", {"SliceThickness": "0.8000"})),
        find("SliceThickness 5 does not match 5.000000", q("Instance", {"SliceThickness": "5"})),
        find("Rows at Series level", q("Series", {"Rows": "1024"})),
        find("Rows wildcard: refused", q("Instance", {"Rows": "3*"})),
        find("UI wildcard: refused", q("Instance", {"StudyInstanceUID": "1.2.840*"})),
        find("tag as 00100010", q("Study", {"00100010": "Anonymous"})),
        find("tag as upper-case hex 0020,000D",
             q("Study", {"0020,000D": "1.3.76.13.65829.2.20130125082826.1072139.2"})),
        find("sequence tag in Query", q("Study", {"ReferencedStudySequence": "x"})),

        # Expand and output formats
        find("Expand at Patient level", q("Patient", {"PatientID": "2008-4"}, Expand=True)),
        find("Expand at Study level", q("Study", {"PatientID": "8NM1"}, Expand=True)),
        find("Expand at Series level", q("Series", {"Modality": "CT"}, Expand=True)),
        find("Expand at Instance level", q("Instance", {"InstanceNumber": "5"}, Expand=True)),
        find("Expand at Study level, empty StudyDate matched by -YYYYMMDD",
             q("Study", {"StudyDate": "-20040101", "PatientName": "Test*"}, Expand=True)),
        find("Expand with Short", q("Study", {"PatientName": "Lest*"}, Expand=True, Short=True)),
        find("Expand with Full", q("Series", {"Modality": "CT"}, Expand=True, Full=True)),
        find("Expand with Short and Full", q("Instance", {"Modality": "CT"}, Expand=True, Short=True, Full=True)),
        find("Short without Expand: ignored", q("Series", {"Modality": "CT"}, Short=True)),
        find("Expand 1 (integer)", q("Patient", {"PatientID": "ID1"}, Expand=1)),

        # Limit and Since
        find("Limit", q("Study", {}, Limit=3)),
        find("Limit 0: no limit", q("Study", {}, Limit=0)),
        find("Since and Limit", q("Study", {}, Since=3, Limit=2)),
        find("Since past the end", q("Study", {}, Since=100)),
        find("Since and Limit after matching a non-main tag", q("Instance", {"Rows": "32"}, Since=2, Limit=2)),
        find("Since and Limit with Expand", q("Study", {}, Since=1, Limit=2, Expand=True)),

        # Errors and odd bodies
        find("missing Level", {"Query": {}}),
        find("unknown Level Foo", q("Foo", {})),
        find("empty Level", q("", {})),
        find("Level not a string", q(5, {})),
        find("missing Query", {"Level": "Study"}),
        find("Query is a list", q("Study", [])),
        find("Query is a string", q("Study", "x")),
        find("Query is null: treated as empty", q("Study", None, Limit=2)),
        find("Query value is a number", q("Study", {"PatientID": 5})),
        find("Query value is null", q("Study", {"PatientName": None})),
        find("malformed JSON body", '{"Level": "Study", "Query": {', raw=True),
        find("empty body", "", raw=True),
        find("body is a JSON list", [q("Study", {})]),
        find("CaseSensitive as string", q("Study", {}, CaseSensitive="true")),
        find("Limit negative", q("Study", {}, Limit=-1)),
        find("Limit as string", q("Study", {}, Limit="2")),
        find("Limit not an integer", q("Study", {}, Limit=2.5)),
        find("Since negative", q("Study", {}, Since=-1)),
        find("Expand as string", q("Study", {}, Expand="yes")),
        find("Short as string", q("Study", {}, Expand=True, Short="x")),
        find("unknown field: ignored", q("Patient", {"PatientID": "ID1"}, Bogus=1)),
        find("unknown tag name in Query", q("Study", {"NoSuchTag": "x"})),
        find("tag name in lower case: unknown", q("Study", {"patientname": "Anonymous"})),
        dict(name="GET /tools/find: method not allowed", method="GET", path="/tools/find", body=None),

        # /tools/lookup: the body is the raw identifier
        lookup("lookup StudyInstanceUID", "1.3.51.0.7.11986030739.15242.20106.39861.48967.23056.44420"),
        lookup("lookup SeriesInstanceUID", "1.3.51.5156.11871.20080504.1104919"),
        lookup("lookup SOPInstanceUID", "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"),
        lookup("lookup PatientID", "1CT1"),
        lookup("lookup PatientID, other case, surrounding white space", " 1ct1\n"),
        lookup("lookup AccessionNumber: not looked up", "2008050417172310"),
        lookup("lookup unknown value", "1.2.3.4.5.6.7.8.9"),
        lookup("lookup empty body: the patient with an empty PatientID", ""),
        lookup("lookup JSON string body: quotes are part of the value", '"1CT1"'),
    ]


def run(orthanc, case):
    if case["body"] is None:
        data = None
    elif case.get("raw"):
        data = case["body"].encode()
    else:
        data = json.dumps(case["body"]).encode()
    status, answer = orthanc.request(case["method"], case["path"], data)
    return dict(case, status=status, answer=answer)


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else OUTPUT
    results = []
    with StockOrthanc(StableAge=100000) as orthanc:
        instances = {}  # file name -> Orthanc instance ID
        for path in sorted(glob.glob(os.path.join(FILES, "*.dcm"))):
            name = os.path.basename(path)
            if name in SKIPPED:
                continue
            with open(path, "rb") as f:
                status, answer = orthanc.request("POST", "/instances", f.read())
            if status != 200:
                print(f"{name}: refused by Orthanc ({status}), skipped", file=sys.stderr)
                continue
            instances.setdefault(name, answer["ID"])

        for case in cases():
            results.append(run(orthanc, case))

        def ancestors(name):
            instance = orthanc.get(f"/instances/{instances[name]}")
            study = orthanc.get(f"/series/{instance['ParentSeries']}")["ParentStudy"]
            patient = orthanc.get(f"/studies/{study}")["ParentPatient"]
            return {"Instance": instances[name], "Series": instance["ParentSeries"], "Study": study,
                    "Patient": patient}

        # Deletions, last: they change the data. JPEG-lossy.dcm and JPEG2000.dcm share a series; reportsi.dcm,
        # test-SR.dcm and image_dfl.dcm are three studies of the patient with an empty PatientID.
        lossy, j2k = instances["JPEG-lossy.dcm"], instances["JPEG2000.dcm"]
        report = instances["reportsi.dcm"]
        sr_series = ancestors("test-SR.dcm")["Series"]
        dfl_study = ancestors("image_dfl.dcm")["Study"]
        ct_patient = ancestors("CT_small.dcm")["Patient"]
        ecg_patient = ancestors("waveform_ecg.dcm")["Patient"]
        results.append(run(orthanc, dict(name="statistics before the deletions", method="GET", path="/statistics",
                                         body=None)))
        last_change = orthanc.get("/changes?last")["Last"]

        deletions = [
            ("DELETE an instance that is not the last of its series", f"/instances/{lossy}"),
            ("DELETE the last instance of a series whose patient has other studies (series and study go too)",
             f"/instances/{report}"),
            ("DELETE a series, the only one of its study (the study goes too)", f"/series/{sr_series}"),
            ("DELETE the last study of a patient (the patient goes too)", f"/studies/{dfl_study}"),
            ("DELETE a patient", f"/patients/{ct_patient}"),
            ("DELETE the last instance of a patient (whole cascade)", f"/instances/{j2k}"),
            ("DELETE an instance already deleted", f"/instances/{j2k}"),
            ("DELETE an unknown patient ID", "/patients/00000000-00000000-00000000-00000000-00000000"),
            ("DELETE an existing patient's ID at /studies", f"/studies/{ecg_patient}"),
        ]
        for name, path in deletions:
            results.append(run(orthanc, dict(name=name, method="DELETE", path=path, body=None)))

        results.append(run(orthanc, find("Patient level after the deletions", q("Patient", {}))))
        status, changes = orthanc.request("GET", "/changes?limit=1000")
        results.append(dict(
            name=f"changes logged after the deletions started (Seq > {last_change}): [ChangeType, ResourceType]",
            method="GET", path="/changes?limit=1000", body=None, status=status,
            answer=[[c["ChangeType"], c["ResourceType"]] for c in changes["Changes"] if c["Seq"] > last_change]))
        results.append(run(orthanc, dict(name="changes after the deletions (full answer)", method="GET",
                                         path="/changes?limit=1000", body=None)))
        results.append(run(orthanc, dict(name="statistics after the deletions", method="GET", path="/statistics",
                                         body=None)))

    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as out:
        json.dump(results, out, indent=1, sort_keys=True, ensure_ascii=False)
        out.write("\n")
    print(f"{len(results)} cases from Orthanc {orthanc.version} -> {output}")


if __name__ == "__main__":
    main()
