#!/usr/bin/env python3
"""CPU seconds used so far by process trees, from /proc (bench/ingest's CPU per instance).

  bench/cpu.py NAME=PID [NAME=PID ...]    prints {"NAME": seconds, ...} as JSON

A tree's CPU is, for the process and every live descendant, user + system time plus that of its reaped children
(cutime + cstime): a child that ends between two readings moves from the live sum into its parent's reaped sum, so
the difference of two readings counts every process of the tree once, PostgreSQL's backends and storescp's forked
children included.
"""
import json
import os
import sys

TICKS = os.sysconf("SC_CLK_TCK")


def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
    return int(fields[1]), sum(int(value) for value in fields[11:15])


def tree_seconds(root, table):
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, []))
    return total / TICKS


def main():
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            value = stat(int(entry))
            if value is not None:
                table[int(entry)] = value
    result = {}
    for argument in sys.argv[1:]:
        name, pid = argument.split("=", 1)
        result[name] = tree_seconds(int(pid), table) if pid.isdigit() else 0.0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
