#!/usr/bin/env python3
"""Latency of GET requests: `image-latency.py BASE PATH CLIENTS REQUESTS` sends REQUESTS GETs of BASE+PATH from
CLIENTS threads (each its own connection) and prints {"p50": ms, "p95": ms, "rate": requests/s, "bytes": last size}.
Every answer must be 200 with a body; one that is not stops the run."""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def main():
    base, path, clients, requests = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    url = urllib.parse.urlparse(base)
    latencies, sizes, failures = [], [], []
    lock = threading.Lock()
    remaining = [requests]

    def client():
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
        while True:
            with lock:
                if remaining[0] == 0 or failures:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            connection.request("GET", path)
            answer = connection.getresponse()
            body = answer.read()
            elapsed = time.perf_counter() - start
            with lock:
                if answer.status != 200 or not body:
                    failures.append(answer.status)
                latencies.append(elapsed)
                sizes.append(len(body))

    # One warm-up request (caches, connection set-up) outside the figures.
    warm = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
    warm.request("GET", path)
    warm.getresponse().read()
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit("%s answered %s" % (path, failures[:3]))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(json.dumps({"p50": pick(0.5), "p95": pick(0.95), "rate": len(latencies) / wall, "bytes": sizes[-1]}))


if __name__ == "__main__":
    main()
