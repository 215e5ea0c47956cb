#!/usr/bin/env python3
"""Drives an Orthanc-compatible server with pyorthanc (PyPI), the way an Orthanc user's script would: upload, list,
find, read tags, labels, download a study archive, delete.

    .tools/venv/bin/python Tests/interop/pyorthanc_interop.py URL DICOM_FOLDER

URL is the server's REST root (http://127.0.0.1:8042). Every *.dcm in DICOM_FOLDER is uploaded, except rtplan.dcm.
Optional credentials: ORTHANC_USERNAME / ORTHANC_PASSWORD in the environment.

Prints one "ok: ..." line per step (or "skipped: ..."), then "pyorthanc interop: all N steps ok (K skipped)" and
exits 0. On the first failure it prints "FAILED: <step>: <reason>" on stderr and exits 1; 2 for bad arguments.

Labels (Orthanc 1.12, REST ApiVersion 20 and later) are checked only when /system reports ApiVersion >= 20, so the
same script passes against stock Orthanc 1.10.1 and against a 1.12-level server.

pyorthanc quirk: on an HTTP error status the client raises a plain httpx.HTTPError whose message is
"HTTP code: 404, with content: ..." (no status attribute), so statuses are checked on that message.
"""
import io
import os
import re
import sys
import zipfile

import httpx
import pydicom
import pyorthanc
from pyorthanc import Instance, Patient, Series, Study

LABELS_API_VERSION = 20  # Orthanc 1.12.0 introduced labels with REST ApiVersion 20
SKIPPED_FILES = {"rtplan.dcm"}


class StepFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise StepFailed(message)


def http_status_of(error):
    """The status in pyorthanc's "HTTP code: 404, with ..." message, or None for a transport error."""
    match = re.match(r"HTTP code: (\d+)", str(error))
    return int(match.group(1)) if match else None


def expect_status(what, status_check, call):
    """Runs `call`, which must fail with an HTTP status accepted by `status_check`; returns that status."""
    try:
        answer = call()
    except httpx.HTTPError as error:
        status = http_status_of(error)
        check(status is not None and status_check(status), f"{what}: expected an HTTP error, got {error!r}")
        return status
    raise StepFailed(f"{what}: expected an HTTP error, got a success: {answer!r:.200}")


def expect_404(what, call):
    expect_status(what, lambda status: status == 404, call)


def wildcard_match(pattern, value):
    """DICOM wildcard matching as Orthanc does it for PN by default (CaseSensitivePN false): * and ?, no case."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value or "", re.IGNORECASE | re.DOTALL) is not None


class Interop:
    def __init__(self, url, folder):
        self.url = url.rstrip("/")
        self.folder = folder
        self.client = pyorthanc.Orthanc(self.url, username=os.environ.get("ORTHANC_USERNAME"),
                                        password=os.environ.get("ORTHANC_PASSWORD"), timeout=120)
        self.passed = 0
        self.skipped = 0
        self.api_version = None
        self.uploads = []         # one dict per file: name, bytes, dataset, answer
        self.instances = {}       # instance ID -> upload answer (first file that produced it)
        self.target_study = None  # study used for labels, archive and deletion

    def ok(self, message):
        self.passed += 1
        print(f"ok: {message}", flush=True)

    def skip(self, message):
        self.skipped += 1
        print(f"skipped: {message}", flush=True)

    # --- steps ---------------------------------------------------------------------------------------------------

    def system(self):
        system = self.client.get_system()
        check(isinstance(system, dict), f"/system is not a JSON object: {system!r:.200}")
        version, api = system.get("Version"), system.get("ApiVersion")
        check(isinstance(version, str) and version, f"/system Version missing or empty: {version!r}")
        check(isinstance(api, int) and not isinstance(api, bool) and api > 0,
              f"/system ApiVersion is not a positive integer: {api!r}")
        self.api_version = api
        self.ok(f"system: Version={version} ApiVersion={api} Name={system.get('Name')!r}")

    def upload(self):
        names = sorted(n for n in os.listdir(self.folder) if n.lower().endswith(".dcm") and n not in SKIPPED_FILES)
        check(names, f"no .dcm file in {self.folder}")
        self.instances_before = set(self.client.get_instances())
        statuses = {}
        for name in names:
            with open(os.path.join(self.folder, name), "rb") as f:
                data = f.read()
            answer = self.client.post_instances(data)
            check(isinstance(answer, dict), f"POST /instances {name}: answer is not a JSON object: {answer!r:.200}")
            for key in ("ID", "ParentPatient", "ParentStudy", "ParentSeries", "Status"):
                check(isinstance(answer.get(key), str) and answer[key], f"POST /instances {name}: no {key} in {answer}")
            check(answer["Status"] in ("Success", "AlreadyStored"), f"POST /instances {name}: Status {answer['Status']!r}")
            if answer["Status"] == "AlreadyStored":
                check(answer["ID"] in self.instances or answer["ID"] in self.instances_before,
                      f"POST /instances {name}: AlreadyStored but {answer['ID']} was not stored before")
            dataset = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True)
            self.uploads.append({"name": name, "bytes": data, "dataset": dataset, "answer": answer})
            self.instances.setdefault(answer["ID"], answer)
            statuses[answer["Status"]] = statuses.get(answer["Status"], 0) + 1
        again = self.client.post_instances(self.uploads[0]["bytes"])
        check(again.get("Status") == "AlreadyStored" and again.get("ID") == self.uploads[0]["answer"]["ID"],
              f"uploading {self.uploads[0]['name']} twice: expected AlreadyStored with the same ID, got {again}")
        self.ok(f"upload: {len(names)} files via post_instances -> {len(self.instances)} distinct instances "
                f"({', '.join(f'{v} {k}' for k, v in sorted(statuses.items()))}); re-upload is AlreadyStored")

    def lists(self):
        patients, studies = set(self.client.get_patients()), set(self.client.get_studies())
        series, instances = set(self.client.get_series()), set(self.client.get_instances())
        for level, listed, key in (("patients", patients, "ParentPatient"), ("studies", studies, "ParentStudy"),
                                   ("series", series, "ParentSeries"), ("instances", instances, "ID")):
            missing = {a[key] for a in self.instances.values()} - listed
            check(not missing, f"/{level} misses uploaded {sorted(missing)}")
        expected = self.instances_before | set(self.instances)
        check(instances == expected, f"/instances holds {len(instances)} IDs, expected {len(expected)}: "
                                     f"extra {sorted(instances - expected)}, missing {sorted(expected - instances)}")
        statistics = self.client.get_statistics()
        check(statistics["CountInstances"] == len(instances),
              f"/statistics CountInstances {statistics['CountInstances']} != {len(instances)} listed instances")
        for level, listed in (("Patients", patients), ("Studies", studies), ("Series", series)):
            check(statistics[f"Count{level}"] == len(listed),
                  f"/statistics Count{level} {statistics[f'Count{level}']} != {len(listed)} listed")
        self.all_studies = studies
        self.ok(f"lists: get_patients/get_studies/get_series/get_instances = {len(patients)}/{len(studies)}/"
                f"{len(series)}/{len(instances)}, matching /statistics and the uploads")

    def objects(self):
        """pyorthanc's Patient/Study/Series objects, checked against the tree given by the upload answers."""
        by_study = {}
        for upload in self.uploads:
            by_study.setdefault(upload["answer"]["ParentStudy"], []).append(upload)
        for study_id, uploads in sorted(by_study.items()):
            first = uploads[0]
            dataset, answer = first["dataset"], first["answer"]
            study = Study(study_id, self.client)
            tags = study.main_dicom_tags
            check(tags.get("StudyInstanceUID") == str(dataset.StudyInstanceUID),
                  f"Study({study_id}).main_dicom_tags StudyInstanceUID {tags.get('StudyInstanceUID')!r} "
                  f"!= {dataset.StudyInstanceUID} of {first['name']}")
            check(study.uid == str(dataset.StudyInstanceUID), f"Study({study_id}).uid {study.uid!r}")
            check(study.patient_identifier == answer["ParentPatient"],
                  f"Study({study_id}).patient_identifier {study.patient_identifier} != {answer['ParentPatient']}")
            series_ids = {s.id_ for s in study.series}
            wanted = {u["answer"]["ParentSeries"] for u in uploads}
            check(wanted <= series_ids, f"Study({study_id}).series {sorted(series_ids)} misses {sorted(wanted - series_ids)}")
            patient = Patient(answer["ParentPatient"], self.client)
            check(patient.patient_id == str(dataset.get("PatientID", "")),
                  f"Patient({patient.id_}).patient_id {patient.patient_id!r} != {dataset.get('PatientID')!r} "
                  f"of {first['name']}")
            check(study_id in {s.id_ for s in patient.studies}, f"Patient({patient.id_}).studies misses {study_id}")
            for upload in uploads:
                series = Series(upload["answer"]["ParentSeries"], self.client)
                ds = upload["dataset"]
                check(series.uid == str(ds.SeriesInstanceUID),
                      f"Series({series.id_}).uid {series.uid!r} != {ds.SeriesInstanceUID} of {upload['name']}")
                if ds.get("Modality"):
                    check(series.modality == ds.Modality,
                          f"Series({series.id_}).modality {series.modality!r} != {ds.Modality!r}")
                check(series.study_identifier == study_id,
                      f"Series({series.id_}).study_identifier {series.study_identifier} != {study_id}")
                check(upload["answer"]["ID"] in {i.id_ for i in series.instances},
                      f"Series({series.id_}).instances misses {upload['answer']['ID']}")
        # The study used for labels, archive and deletion: the one with the most instances (ties: lowest ID).
        counts = {sid: len(self.client.get_studies_id_instances(sid)) for sid in by_study}
        self.target_study = sorted(counts, key=lambda sid: (-counts[sid], sid))[0]
        self.ok(f"objects: Study/Patient/Series main_dicom_tags, uid, series, studies, instances for "
                f"{len(by_study)} studies")

    def tags(self):
        seen = set()
        for upload in self.uploads:
            instance_id, ds = upload["answer"]["ID"], upload["dataset"]
            if instance_id in seen:
                continue
            seen.add(instance_id)
            sop = str(ds.SOPInstanceUID)
            tags = self.client.get_instances_id_tags(instance_id)
            entry = tags.get("0008,0018")
            check(isinstance(entry, dict) and entry.get("Name") == "SOPInstanceUID" and entry.get("Type") == "String"
                  and entry.get("Value") == sop,
                  f"/instances/{instance_id}/tags 0008,0018 is {entry!r}, expected SOPInstanceUID {sop} ({upload['name']})")
            simplified = self.client.get_instances_id_simplified_tags(instance_id)
            check(simplified.get("SOPInstanceUID") == sop,
                  f"/instances/{instance_id}/simplified-tags SOPInstanceUID {simplified.get('SOPInstanceUID')!r} != {sop}")
            check(simplified.get("StudyInstanceUID") == str(ds.StudyInstanceUID),
                  f"/instances/{instance_id}/simplified-tags StudyInstanceUID {simplified.get('StudyInstanceUID')!r}")
            if "PatientID" in ds:
                check(simplified.get("PatientID") == str(ds.PatientID),
                      f"/instances/{instance_id}/simplified-tags PatientID {simplified.get('PatientID')!r} "
                      f"!= {ds.PatientID!r}")
            instance = Instance(instance_id, self.client)
            check(instance.simplified_tags == simplified,
                  f"Instance({instance_id}).simplified_tags (tags?simplify=true) differs from simplified-tags")
            check(instance.tags == tags, f"Instance({instance_id}).tags differs from /instances/{instance_id}/tags")
            information = instance.get_main_information()
            check(information.get("ID") == instance_id and information.get("Type") == "Instance",
                  f"Instance({instance_id}).get_main_information() ID/Type: {information.get('ID')!r}/"
                  f"{information.get('Type')!r}")
            check(information.get("ParentSeries") == upload["answer"]["ParentSeries"],
                  f"Instance({instance_id}) ParentSeries {information.get('ParentSeries')}")
            check(instance.uid == sop, f"Instance({instance_id}).uid {instance.uid!r} != {sop}")
        # The stored file is the uploaded one only for a "Success" upload (AlreadyStored keeps an earlier file).
        first = next((u for u in self.uploads if u["answer"]["Status"] == "Success"), None)
        check(first is not None, "no upload answered Status Success: run against a server without these files")
        content = Instance(first["answer"]["ID"], self.client).get_dicom_file_content()
        check(content == first["bytes"], f"Instance({first['answer']['ID']}).get_dicom_file_content() differs from "
                                         f"{first['name']} ({len(content)} vs {len(first['bytes'])} bytes)")
        self.ok(f"tags: get_instances_id_tags, get_instances_id_simplified_tags, Instance.tags/simplified_tags/"
                f"get_main_information/uid for {len(seen)} instances; get_dicom_file_content is the uploaded file")

    def _studies_expanded(self):
        return {sid: self.client.get_studies_id(sid) for sid in self.client.get_studies()}

    def find_by_patient_name(self):
        studies = self._studies_expanded()
        names = {sid: s.get("PatientMainDicomTags", {}).get("PatientName", "") for sid, s in studies.items()}
        ascii_names = sorted({n for n in names.values() if n and n.isascii() and len(n) >= 5 and n[:5].isalpha()})
        check(ascii_names, "no study with an ASCII PatientName to build a wildcard from")
        prefixes = sorted({n[:5] for n in ascii_names},
                          key=lambda p: (-sum(wildcard_match(p + "*", n) for n in names.values()), p))
        pattern = prefixes[0] + "*"
        expected = {sid for sid, n in names.items() if wildcard_match(pattern, n)}
        found = self.client.post_tools_find({"Level": "Study", "Query": {"PatientName": pattern}})
        check(set(found) == expected and len(found) == len(expected),
              f"post_tools_find Study PatientName={pattern!r}: {sorted(found)}, expected {sorted(expected)}")
        expanded = self.client.post_tools_find({"Level": "Study", "Query": {"PatientName": pattern}, "Expand": True})
        check({s["ID"] for s in expanded} == expected and all(
            wildcard_match(pattern, s["PatientMainDicomTags"].get("PatientName")) for s in expanded),
              f"post_tools_find Study PatientName={pattern!r} Expand: {[s.get('ID') for s in expanded]}")
        lower = pattern.lower()
        found_lower = self.client.post_tools_find({"Level": "Study", "Query": {"PatientName": lower}})
        check(set(found_lower) == expected,
              f"post_tools_find Study PatientName={lower!r} (PN matching is case-insensitive by default): "
              f"{sorted(found_lower)}, expected {sorted(expected)}")
        question = pattern[0] + "?" + pattern[2:]
        found_question = self.client.post_tools_find({"Level": "Study", "Query": {"PatientName": question}})
        check(set(found_question) == {sid for sid, n in names.items() if wildcard_match(question, n)},
              f"post_tools_find Study PatientName={question!r}: {sorted(found_question)}")
        helper = pyorthanc.find_studies(self.client, query={"PatientName": pattern})
        check({s.id_ for s in helper} == expected and all(isinstance(s, Study) for s in helper),
              f"pyorthanc.find_studies(PatientName={pattern!r}): {[s.id_ for s in helper]}, expected {sorted(expected)}")
        patients = {pid: self.client.get_patients_id(pid) for pid in self.client.get_patients()}
        expected_patients = {pid for pid, p in patients.items()
                             if wildcard_match(pattern, p.get("MainDicomTags", {}).get("PatientName"))}
        helper_patients = pyorthanc.find_patients(self.client, query={"PatientName": pattern})
        check({p.id_ for p in helper_patients} == expected_patients,
              f"pyorthanc.find_patients(PatientName={pattern!r}): {[p.id_ for p in helper_patients]}, "
              f"expected {sorted(expected_patients)}")
        self.ok(f"find PatientName: {pattern!r} / {lower!r} / {question!r} -> {len(expected)} studies via "
                f"post_tools_find and find_studies; {len(expected_patients)} patients via find_patients")

    def find_by_study_date(self):
        studies = self._studies_expanded()
        dates = {sid: s.get("MainDicomTags", {}).get("StudyDate", "") for sid, s in studies.items()}
        distinct = sorted({d for d in dates.values() if re.fullmatch(r"\d{8}", d or "")})
        check(distinct, "no study with a StudyDate")
        low = distinct[1] if len(distinct) > 2 else distinct[0]
        high = distinct[-2] if len(distinct) > 2 else distinct[-1]
        queries = [(f"{low}-{high}", lambda d: low <= d <= high), (f"{low}-", lambda d: d >= low),
                   (low, lambda d: d == low)]
        reports = []
        for value, accepts in queries:
            expected = {sid for sid, d in dates.items() if re.fullmatch(r"\d{8}", d or "") and accepts(d)}
            found = self.client.post_tools_find({"Level": "Study", "Query": {"StudyDate": value}})
            check(set(found) == expected and len(found) == len(expected),
                  f"post_tools_find Study StudyDate={value!r}: {sorted(found)} ({sorted(dates[s] for s in found)}), "
                  f"expected {sorted(expected)}")
            reports.append(f"{value!r} -> {len(expected)}")
        value = f"{low}-{high}"
        expected = {sid for sid, d in dates.items() if re.fullmatch(r"\d{8}", d or "") and low <= d <= high}
        helper = pyorthanc.query_orthanc(self.client, "Study", query={"StudyDate": value})
        check({s.id_ for s in helper} == expected,
              f"pyorthanc.query_orthanc(Study, StudyDate={value!r}): {[s.id_ for s in helper]}")
        paged = pyorthanc.query_orthanc(self.client, "Study", query={"StudyDate": value}, limit=1)
        check(sorted(s.id_ for s in paged) == sorted(expected),
              f"pyorthanc.query_orthanc(limit=1) paging with Limit/Since: {[s.id_ for s in paged]}")
        sop = str(self.uploads[0]["dataset"].SOPInstanceUID)
        instances = pyorthanc.find_instances(self.client, query={"SOPInstanceUID": sop})
        check([i.id_ for i in instances] == [self.uploads[0]["answer"]["ID"]],
              f"pyorthanc.find_instances(SOPInstanceUID={sop}): {[i.id_ for i in instances]}")
        self.ok(f"find StudyDate: {', '.join(reports)} studies via post_tools_find; query_orthanc (also paged "
                f"with limit=1) and find_instances(SOPInstanceUID) agree")

    def labels(self):
        if self.api_version < LABELS_API_VERSION:
            self.skip(f"labels (Orthanc API < 1.12: ApiVersion {self.api_version} < {LABELS_API_VERSION})")
            return
        client, sid = self.client, self.target_study
        label = f"pyorthanc-interop-{os.getpid()}"
        check(label not in client.get_studies_id_labels(sid), f"study {sid} already has label {label}")
        client.put_studies_id_labels_label(sid, label)
        check(label in client.get_studies_id_labels(sid), f"get_studies_id_labels({sid}) misses {label} after PUT")
        client.get_studies_id_labels_label(sid, label)  # 200 when present
        check(label in Study(sid, client).labels, f"Study({sid}).labels misses {label}")
        check(label in client.get_tools_labels(), f"get_tools_labels() misses {label}: {client.get_tools_labels()}")
        found = client.post_tools_find({"Level": "Study", "Query": {}, "Labels": [label], "LabelsConstraint": "All"})
        check(found == [sid], f"post_tools_find Study Labels=[{label}] All: {found}, expected [{sid}]")
        found = client.post_tools_find({"Level": "Study", "Query": {}, "Labels": [label], "LabelsConstraint": "Any"})
        check(found == [sid], f"post_tools_find Study Labels=[{label}] Any: {found}, expected [{sid}]")
        found = client.post_tools_find({"Level": "Study", "Query": {}, "Labels": [label], "LabelsConstraint": "None"})
        others = set(client.get_studies()) - {sid}
        check(set(found) == others, f"post_tools_find Study Labels=[{label}] None: {len(found)} studies, "
                                    f"expected the {len(others)} others")
        found = client.post_tools_find({"Level": "Series", "Query": {}, "Labels": [label]})
        check(found == [], f"post_tools_find Series Labels=[{label}]: {found}, expected [] (labels are not inherited)")
        helper = pyorthanc.find_studies(client, labels=[label])
        check([s.id_ for s in helper] == [sid], f"pyorthanc.find_studies(labels=[{label}]): {[s.id_ for s in helper]}")
        client.delete_studies_id_labels_label(sid, label)
        check(label not in client.get_studies_id_labels(sid), f"get_studies_id_labels({sid}) still has {label}")
        expect_404(f"get_studies_id_labels_label({sid}, {label}) after DELETE",
                   lambda: client.get_studies_id_labels_label(sid, label))
        check(label not in client.get_tools_labels(), f"get_tools_labels() still has {label} after DELETE")
        found = client.post_tools_find({"Level": "Study", "Query": {}, "Labels": [label]})
        check(found == [], f"post_tools_find Study Labels=[{label}] after DELETE: {found}")
        self.ok(f"labels (raw client): put/get/delete_studies_id_labels_label, get_tools_labels, post_tools_find "
                f"Labels All/Any/None on study {sid}")

        study = Study(sid, client)
        study.add_label(label)
        check(label in study.labels, f"Study({sid}).add_label: labels {study.labels}")
        instance_id = client.get_studies_id_instances(sid)[0]["ID"]
        instance = Instance(instance_id, client)
        instance.add_label(label)
        check(label in instance.labels, f"Instance({instance_id}).add_label: labels {instance.labels}")
        check([i.id_ for i in pyorthanc.find_instances(client, labels=label)] == [instance_id],
              f"pyorthanc.find_instances(labels={label}) is not [{instance_id}]")
        instance.remove_label(label)
        study.remove_label(label)
        check(label not in study.labels and label not in instance.labels,
              f"remove_label left {study.labels} / {instance.labels}")
        check(label not in client.get_tools_labels(), f"get_tools_labels() still has {label} after remove_label")
        status = expect_status("put_studies_id_labels_label with an invalid name 'bad label!'",
                               lambda s: 400 <= s < 500, lambda: client.put_studies_id_labels_label(sid, "bad label!"))
        expect_404("put_studies_id_labels_label on an unknown study",
                   lambda: client.put_studies_id_labels_label("00000000-00000000-00000000-00000000-00000000", label))
        self.ok(f"labels (objects): Study/Instance add_label, labels, remove_label, find_instances(labels=); "
                f"invalid name -> HTTP {status}; unknown study -> 404")

    def archive(self):
        sid = self.target_study
        instances = self.client.get_studies_id_instances(sid)
        check(instances, f"study {sid} has no instance")
        expected_uids = {i["MainDicomTags"]["SOPInstanceUID"] for i in instances}
        check(sum(len(Series(s.id_, self.client).instances) for s in Study(sid, self.client).series) == len(instances),
              f"Study({sid}).series[*].instances disagree with get_studies_id_instances ({len(instances)})")
        data = self.client.get_studies_id_archive(sid)
        check(isinstance(data, bytes), f"get_studies_id_archive({sid}) answered {type(data).__name__}, not bytes "
                                       f"(Content-Type should be application/zip): {data!r:.200}")
        check(zipfile.is_zipfile(io.BytesIO(data)), f"get_studies_id_archive({sid}): {len(data)} bytes, not a ZIP")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bad = archive.testzip()
            check(bad is None, f"get_studies_id_archive({sid}): entry {bad} has a bad CRC")
            entries = [n for n in archive.namelist() if n.lower().endswith(".dcm")]
            check(len(entries) == len(instances),
                  f"get_studies_id_archive({sid}): {len(entries)} .dcm entries, the study has {len(instances)} "
                  f"instances: {archive.namelist()}")
            uids = {str(pydicom.dcmread(io.BytesIO(archive.read(n)), stop_before_pixels=True).SOPInstanceUID)
                    for n in entries}
        check(uids == expected_uids, f"get_studies_id_archive({sid}): SOPInstanceUIDs {sorted(uids)} != "
                                     f"{sorted(expected_uids)}")
        self.ok(f"archive: get_studies_id_archive({sid}) is a valid ZIP of {len(entries)} .dcm entries "
                f"= the study's {len(instances)} instances")

    def delete(self):
        client, sid = self.client, self.target_study
        information = client.get_studies_id(sid)
        patient_id = information["ParentPatient"]
        instance_ids = {i["ID"] for i in client.get_studies_id_instances(sid)}
        series_ids = set(information["Series"])
        patient_studies = set(client.get_patients_id(patient_id)["Studies"])
        count_before = client.get_statistics()["CountInstances"]
        listed_before = set(client.get_instances())
        answer = client.delete_studies_id(sid)
        check(isinstance(answer, dict) and "RemainingAncestor" in answer,
              f"delete_studies_id({sid}) answered {answer!r:.200}, expected a RemainingAncestor object")
        ancestor = answer["RemainingAncestor"]
        if patient_studies == {sid}:
            check(ancestor is None, f"delete_studies_id: RemainingAncestor {ancestor}, expected null (last study)")
            expect_404(f"get_patients_id({patient_id}) after deleting its only study",
                       lambda: client.get_patients_id(patient_id))
        else:
            check(isinstance(ancestor, dict) and ancestor.get("ID") == patient_id and ancestor.get("Type") == "Patient",
                  f"delete_studies_id: RemainingAncestor {ancestor}, expected Patient {patient_id}")
        expect_404(f"get_studies_id({sid}) after delete", lambda: client.get_studies_id(sid))
        for series_id in series_ids:
            expect_404(f"get_series_id({series_id}) after delete", lambda: client.get_series_id(series_id))
        for instance_id in instance_ids:
            expect_404(f"get_instances_id({instance_id}) after delete", lambda: client.get_instances_id(instance_id))
        expect_404(f"delete_studies_id({sid}) twice", lambda: client.delete_studies_id(sid))
        check(sid not in client.get_studies(), f"get_studies() still lists {sid}")
        listed_after = set(client.get_instances())
        check(listed_after == listed_before - instance_ids,
              f"get_instances(): {len(listed_before)} -> {len(listed_after)}, expected -{len(instance_ids)}")
        count_after = client.get_statistics()["CountInstances"]
        check(count_after == count_before - len(instance_ids),
              f"/statistics CountInstances {count_before} -> {count_after}, expected -{len(instance_ids)}")
        self.ok(f"delete: delete_studies_id({sid}) removed {len(instance_ids)} instances "
                f"(CountInstances {count_before} -> {count_after}); study, series, instances now 404 "
                f"(httpx.HTTPError 'HTTP code: 404')")

    def run(self):
        steps = [self.system, self.upload, self.lists, self.objects, self.tags, self.find_by_patient_name,
                 self.find_by_study_date, self.labels, self.archive, self.delete]
        for step in steps:
            try:
                step()
            except StepFailed as error:
                return self.fail(step, str(error))
            except httpx.HTTPError as error:
                return self.fail(step, f"{type(error).__name__}: {error}")
            except Exception as error:  # a KeyError in a missing JSON field is a server bug here too
                import traceback
                traceback.print_exc()
                return self.fail(step, f"{type(error).__name__}: {error}")
        print(f"pyorthanc interop: all {self.passed} steps ok ({self.skipped} skipped)", flush=True)
        return 0

    def fail(self, step, message):
        print(f"FAILED: {step.__name__}: {message}", file=sys.stderr, flush=True)
        return 1


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} URL DICOM_FOLDER", file=sys.stderr)
        return 2
    if not os.path.isdir(argv[2]):
        print(f"not a folder: {argv[2]}", file=sys.stderr)
        return 2
    interop = Interop(argv[1], argv[2])
    try:
        return interop.run()
    finally:
        interop.client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
