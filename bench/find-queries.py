#!/usr/bin/env python3
"""Query half of bench/find: times /tools/find (Study level, by PatientName wildcard, StudyDate range and
AccessionNumber; with "Expand" false and true) and GET /studies/{id} on two Orthanc-compatible servers loaded with
the same dataset (scripts/make-find-dicom.py), and checks that they give the same answers.

Each server gets one keep-alive HTTP/1.1 connection (http.client, TCP_NODELAY). For every query type: WARMUP
unmeasured queries, then QUERIES measured ones with parameters drawn deterministically from the dataset; the two
servers are asked the same query one after the other (alternating which goes first). Latency is client-side: from
sending the request to having read the whole body (JSON decoding excluded).

usage: find-queries.py --manifest M --server NAME=URL --server NAME=URL [--queries 200] [--warmup 20] [--seed 7]
                       [--expand "false true"] --out FRAGMENT.md
Writes a Markdown fragment (results table, answer checks) to --out; progress goes to stderr.
"""
import argparse
import datetime
import http.client
import json
import math
import random
import socket
import sys
import time
import urllib.parse


class Client:
    """One persistent HTTP/1.1 connection; reconnects (and counts it) if the server closes it."""

    def __init__(self, name, url):
        self.name = name
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.connection = None
        self.connects = 0

    def connect(self):
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
        self.connection.connect()
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1

    def request(self, method, path, body=None):
        """(status, body bytes, seconds). One retry on a connection the server closed while idle."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (0, 1):
            if self.connection is None:
                self.connect()
            try:
                start = time.perf_counter()
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                data = answer.read()
                elapsed = time.perf_counter() - start
                if answer.will_close:
                    self.connection.close()
                    self.connection = None
                return answer.status, data, elapsed
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise

    def get_json(self, path):
        status, data, _ = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"{self.name}: GET {path} answered {status}: {data[:300]!r}")
        return json.loads(data)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def find_body(key, value, expand):
    return json.dumps({"Level": "Study", "Query": {key: value}, "Expand": expand}, ensure_ascii=False).encode()


def study_view(answer):
    """The parts of GET /studies/{id} both servers must agree on (not LastUpdate / IsStable, which depend on time)."""
    return {k: (sorted(answer[k]) if k == "Series" else answer.get(k))
            for k in ("ID", "Type", "ParentPatient", "MainDicomTags", "PatientMainDicomTags", "Series")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--server", action="append", required=True, help="NAME=URL; the first is the one under test")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--expand", default="false true")
    parser.add_argument("--target-ms", type=float, default=20.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    manifest = json.load(open(args.manifest, encoding="utf-8"))
    studies = manifest["Studies"]
    clients = [Client(*s.split("=", 1)) for s in args.server]
    subject, reference = clients[0], clients[1]

    # Study IDs as the servers list them; the sets must be equal (and equal to the dataset's).
    listed = {c.name: set(c.get_json("/studies")) for c in clients}
    expected_ids = {s["ID"] for s in studies}
    id_notes = []
    for c in clients:
        if listed[c.name] != expected_ids:
            id_notes.append(f"{c.name}: /studies lists {len(listed[c.name])} studies, "
                            f"{len(listed[c.name] - expected_ids)} not in the dataset, "
                            f"{len(expected_ids - listed[c.name])} of the dataset missing")
    common_ids = sorted(set.intersection(*listed.values()))

    dates = sorted(s["StudyDate"] for s in studies)
    first = datetime.datetime.strptime(dates[0], "%Y%m%d").date()
    span = (datetime.datetime.strptime(dates[-1], "%Y%m%d").date() - first).days

    def parameters(kind, rng):
        if kind == "PatientName":
            family = rng.choice(studies)["PatientName"].split("^")[0]
            return family[:3] + "*"
        if kind == "StudyDate":
            start = first + datetime.timedelta(days=rng.randrange(max(1, span - 30)))
            return f"{start:%Y%m%d}-{start + datetime.timedelta(days=30):%Y%m%d}"
        if kind == "AccessionNumber":
            return rng.choice(studies)["AccessionNumber"]
        return rng.choice(common_ids)

    def expected(kind, value):
        """Matches in the dataset by plain DICOM rules (upper-case prefix for PN, string range for dates)."""
        if kind == "PatientName":
            prefix = value.rstrip("*").upper()
            return sum(s["PatientName"].upper().startswith(prefix) for s in studies)
        if kind == "StudyDate":
            low, high = value.split("-")
            return sum(low <= s["StudyDate"] <= high for s in studies)
        return sum(s["AccessionNumber"] == value for s in studies)

    rows = []
    for expand in [e == "true" for e in args.expand.split()]:
        for kind in ("PatientName", "StudyDate", "AccessionNumber"):
            rows.append((f"find Study {kind} ({'Expand' if expand else 'IDs'})", kind, expand))
    rows.append(("GET /studies/{id}", "get", None))

    lines = []
    checks = []
    examples = []
    verdicts = []
    for label, kind, expand in rows:
        print(f"find-queries: {label}", file=sys.stderr)
        rng = random.Random(f"{args.seed}/{label}")
        values = [parameters(kind, rng) for _ in range(args.warmup + args.queries)]
        latencies = {c.name: [] for c in clients}
        errors = {c.name: 0 for c in clients}
        counts = []
        differ = same = 0
        off_dataset = {c.name: 0 for c in clients}
        for i, value in enumerate(values):
            measured = i >= args.warmup
            answers = {}
            for c in (clients if i % 2 == 0 else clients[::-1]):
                if kind == "get":
                    status, data, seconds = c.request("GET", f"/studies/{value}")
                else:
                    status, data, seconds = c.request("POST", "/tools/find", find_body(kind, value, expand))
                if status != 200:
                    if measured:
                        errors[c.name] += 1
                    if len(examples) < 20:
                        examples.append(f"{label} `{value}`: {c.name} answered HTTP {status}: {data[:200]!r}")
                    answers[c.name] = None
                    continue
                if measured:
                    latencies[c.name].append(seconds * 1000)
                answer = json.loads(data)
                if kind == "get":
                    answers[c.name] = study_view(answer)
                else:
                    answers[c.name] = sorted(a["ID"] if expand else a for a in answer)
            if not measured:
                continue
            a, b = answers[subject.name], answers[reference.name]
            if kind != "get":
                want = expected(kind, value)
                counts.append(len(a) if a is not None else len(b or []))
                for c in clients:
                    if answers[c.name] is not None and len(answers[c.name]) != want:
                        off_dataset[c.name] += 1
            if a is not None and b is not None and a == b:
                same += 1
            if a is not None and b is not None and a != b:
                differ += 1
                if len(examples) < 20:
                    if kind == "get":
                        keys = [k for k in a if a[k] != b[k]]
                        detail = "; ".join(f"{k}: {subject.name} {a[k]!r} vs {reference.name} {b[k]!r}" for k in keys)
                    else:
                        detail = (f"{subject.name} {len(a)} matches, {reference.name} {len(b)}, dataset "
                                  f"{expected(kind, value)}; only in {subject.name}: {sorted(set(a) - set(b))[:3]}, "
                                  f"only in {reference.name}: {sorted(set(b) - set(a))[:3]}")
                    examples.append(f"{label} `{value}`: {detail}")
        stats = {}
        for c in clients:
            ms = latencies[c.name]
            stats[c.name] = (percentile(ms, 0.5), percentile(ms, 0.95)) if ms else (math.nan, math.nan)
        (s50, s95), (r50, r95) = stats[subject.name], stats[reference.name]
        met = s50 < args.target_ms and s50 <= r50 and s95 <= r95
        verdicts.append(met)
        matches = "-" if not counts else f"{sorted(counts)[len(counts) // 2]} ({min(counts)}-{max(counts)})"
        lines.append(f"| {label} | {matches} | {s50:.2f} | {s95:.2f} | {r50:.2f} | {r95:.2f} | {s50 / r50:.2f} | "
                     f"{'yes' if met else '**no**'} |")
        checks.append(f"| {label} | {args.queries} | {same} | {differ} | "
                      f"{errors[subject.name]} / {errors[reference.name]} | "
                      + (f"{off_dataset[subject.name]} / {off_dataset[reference.name]}" if kind != "get" else "-") + " |")
        print(f"find-queries:   {subject.name} p50 {s50:.2f} p95 {s95:.2f} ms, {reference.name} p50 {r50:.2f} "
              f"p95 {r95:.2f} ms, answers differ {differ}, errors {errors}", file=sys.stderr)

    with open(args.out, "w", encoding="utf-8") as out:
        s, r = subject.name, reference.name
        out.write(f"{args.queries} measured queries per row and server after {args.warmup} warm-up queries, parameters "
                  f"drawn from the dataset (seed {args.seed}); latency in ms, client-side, one keep-alive connection "
                  f"per server. Matches: median (min-max) studies per query. Target: {s} p50 < {args.target_ms:g} ms "
                  f"and {s} p50 and p95 no higher than {r}'s.\n\n")
        out.write(f"| query | matches | {s} p50 | {s} p95 | {r} p50 | {r} p95 | p50 ratio | target met |\n")
        out.write("|---|---|---|---|---|---|---|---|\n")
        out.write("\n".join(lines) + "\n\n")
        out.write(f"Targets met on {sum(verdicts)} of {len(verdicts)} queries. Connections opened: "
                  + ", ".join(f"{c.name} {c.connects}" for c in clients) + " (1 each = keep-alive held).\n\n")
        out.write("### Answer checks\n\n")
        out.write(f"Same answer = same set of study IDs (finds), or the same ID, ParentPatient, MainDicomTags, "
                  f"PatientMainDicomTags and Series (GET). Dataset mismatches count answers whose size differs from "
                  f"the dataset's plain count (PN: upper-case prefix; dates: string range).\n\n")
        out.write(f"| query | queries | same answer | different answer | HTTP errors ({s} / {r}) | "
                  f"size differs from dataset ({s} / {r}) |\n|---|---|---|---|---|---|\n")
        out.write("\n".join(checks) + "\n")
        for note in id_notes:
            out.write(f"\n- /studies: {note}")
        if examples:
            out.write("\n\nFirst differences and errors:\n\n" + "\n".join(f"- {e}" for e in examples) + "\n")
        elif not id_notes:
            out.write(f"\nBoth servers gave the same answer to every query, and /studies listed the dataset's "
                      f"{len(expected_ids)} studies on both.\n")


if __name__ == "__main__":
    main()
