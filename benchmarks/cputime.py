"""CPU seconds per process type, read from /proc: what one run of orders cost, and where.

Every process of a run is a child of the harness in a session of its own (the servers
and each Procfile process), so a session's CPU is its leader's and its descendants':
PostgreSQL's backends count as PostgreSQL, gunicorn's workers as web. A process that
exited during the run still counts: its time moved to its parent's children's time
(cutime, cstime) when it was reaped, and both are read.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
SERVERS = {"postgres": "PostgreSQL", "redis-server": "Redis", "tansu": "Tansu (broker)"}


def available() -> bool:
    return Path("/proc/self/stat").exists()


def snapshot(named: dict[int, str]) -> dict[str, float]:
    """CPU seconds so far per process type. `named` maps a session leader's pid to its type
    (the harness's processes); the servers are told apart by their command line; this
    process (the browsers and the harness) is "harness"."""
    me, own = os.getpid(), 0
    stats = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state; ppid, pgrp and session follow; utime.. cstime are 11..14.
        stats[int(entry.name)] = (int(fields[1]), int(fields[3]), sum(map(int, fields[11:15])))
        if int(entry.name) == me:
            # Its own time only: its reaped children are the processes it stopped.
            own = sum(map(int, fields[11:13]))
    totals: dict[str, float] = defaultdict(float)
    totals["harness"] = own / TICKS
    leaders = {pid: named.get(pid) or _server(pid) for pid, st in stats.items() if st[0] == me}
    for _, session, ticks in stats.values():
        kind = leaders.get(session)
        if kind:
            totals[kind] += ticks / TICKS
    return dict(totals)


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    kinds = sorted(set(after) | set(before))
    return {k: round(after.get(k, 0) - before.get(k, 0), 3) for k in kinds}


def _server(pid: int) -> str | None:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return None
    name = Path(command).name
    return next((label for key, label in SERVERS.items() if name.startswith(key)), None)
