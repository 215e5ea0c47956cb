#!/usr/bin/env python3
"""C-FIND half of bench/qr: times DCMTK's findscu (a new process per query: its start-up counts, as for a user) at
STUDY level by PatientName wildcard and by StudyDate range against two DICOM servers loaded with the dataset of
scripts/make-find-dicom.py, and checks that they give the same answers.

For each query kind: WARMUP unmeasured queries, then QUERIES measured ones whose parameters are drawn
deterministically from the dataset (as bench/find-queries.py draws them); the two servers get the same query one
after the other, alternating which goes first. The first 20 measured queries of each kind are also run with the
answers extracted (-X, not timed) and their StudyInstanceUIDs compared between the servers and with the dataset.

usage: cfind-queries.py --manifest M --server NAME=HOST:PORT:AET --server NAME=HOST:PORT:AET [--queries 200]
                        [--warmup 20] [--seed 7] [--calling BENCH] --out FRAGMENT.md
"""
import argparse
import datetime
import glob
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import pydicom


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def findscu(server, calling, keys, extract=None):
    host, port, aet = server
    arguments = ["findscu", "-q", "-aet", calling, "-aec", aet, "-S"]
    if extract:
        arguments += ["-X", "-od", extract]
    for key in keys:
        arguments += ["-k", key]
    arguments += [host, port]
    start = time.perf_counter()
    completed = subprocess.run(arguments, capture_output=True, text=True, errors="replace", timeout=120)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0 or "E: " in completed.stderr:
        raise RuntimeError(f"findscu failed: {' '.join(arguments)}\n{completed.stderr[-2000:]}")
    return elapsed


def answers(server, calling, keys):
    with tempfile.TemporaryDirectory() as folder:
        findscu(server, calling, keys, extract=folder)
        return sorted(str(pydicom.dcmread(path, force=True).get("StudyInstanceUID", ""))
                      for path in glob.glob(os.path.join(folder, "rsp*.dcm")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--server", action="append", required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calling", default="BENCH")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    servers = []
    for item in args.server:
        name, address = item.split("=", 1)
        servers.append((name, tuple(address.split(":"))))
    studies = json.load(open(args.manifest))["Studies"]
    dates = sorted(s["StudyDate"] for s in studies)
    first = datetime.datetime.strptime(dates[0], "%Y%m%d").date()
    span = (datetime.datetime.strptime(dates[-1], "%Y%m%d").date() - first).days

    def parameters(kind, rng):
        if kind == "PatientName":
            return rng.choice(studies)["PatientName"].split("^")[0][:3] + "*"
        start = first + datetime.timedelta(days=rng.randrange(max(1, span - 30)))
        return f"{start:%Y%m%d}-{start + datetime.timedelta(days=30):%Y%m%d}"

    def expected(kind, value):
        if kind == "PatientName":
            prefix = value.rstrip("*").upper()
            return sorted(s["StudyInstanceUID"] for s in studies if s["PatientName"].upper().startswith(prefix))
        low, high = value.split("-")
        return sorted(s["StudyInstanceUID"] for s in studies if low <= s["StudyDate"] <= high)

    rows, notes = [], []
    for kind in ("PatientName", "StudyDate"):
        rng = random.Random(f"{args.seed}/cfind/{kind}")
        values = [parameters(kind, rng) for _ in range(args.warmup + args.queries)]
        timings = {name: [] for name, _ in servers}
        mismatches = 0
        for index, value in enumerate(values):
            # Each attribute once: findscu's last -k of a tag wins, so the constrained one is not repeated as a return key.
            keys = ["QueryRetrieveLevel=STUDY", f"{kind}={value}"] + [
                key for key in ("StudyInstanceUID", "PatientName", "PatientID", "StudyDate", "AccessionNumber",
                                "StudyDescription", "ModalitiesInStudy") if key != kind]
            if not value.isascii():
                keys.append("SpecificCharacterSet=ISO_IR 192")  # findscu sends the bytes it is given: UTF-8
            order = servers if index % 2 == 0 else list(reversed(servers))
            for name, server in order:
                elapsed = findscu(server, args.calling, keys)
                if index >= args.warmup:
                    timings[name].append(elapsed)
            if args.warmup <= index < args.warmup + 20:
                found = {name: answers(server, args.calling, keys) for name, server in servers}
                truth = expected(kind, value)
                if any(found[name] != truth for name, _ in servers):
                    mismatches += 1
                    notes.append(f"{kind}={value}: " + ", ".join(f"{name} {len(found[name])}" for name, _ in servers)
                                 + f" answers, dataset {len(truth)}")
            print(f"\r{kind}: {index + 1}/{len(values)}", end="", file=sys.stderr)
        print(file=sys.stderr)
        for name, _ in servers:
            ms = [t * 1000 for t in timings[name]]
            rows.append((kind, name, percentile(ms, 0.5), percentile(ms, 0.95), len(ms), mismatches))
    with open(args.out, "w") as out:
        out.write("| query (STUDY level) | server | p50 ms | p95 ms | queries | answer checks failed (of 20) |\n")
        out.write("|---|---|---|---|---|---|\n")
        for kind, name, p50, p95, n, bad in rows:
            label = "PatientName wildcard (3 letters*)" if kind == "PatientName" else "StudyDate range (30 days)"
            out.write(f"| {label} | {name} | {p50:.1f} | {p95:.1f} | {n} | {bad} |\n")
        by = {(kind, name): (p50, p95) for kind, name, p50, p95, _, _ in rows}
        first_name, second_name = servers[0][0], servers[1][0]
        out.write("\n")
        for kind in ("PatientName", "StudyDate"):
            a, b = by[(kind, first_name)], by[(kind, second_name)]
            out.write(f"- {kind}: {first_name} p50 {a[0]:.1f} ms ({'below' if a[0] < 50 else 'NOT below'} 50 ms), "
                      f"{'faster' if a[0] < b[0] and a[1] <= b[1] else 'NOT faster'} than {second_name} "
                      f"(p50 {b[0]:.1f} ms, p95 {b[1]:.1f} ms).\n")
        if notes:
            out.write("\nAnswer differences:\n\n" + "".join(f"- {note}\n" for note in notes))
        else:
            out.write("- Answers: the first 20 queries of each kind gave the same StudyInstanceUIDs on both servers, "
                      "equal to the dataset's.\n")


if __name__ == "__main__":
    main()
