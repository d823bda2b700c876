"""CPU seconds per process type, read from /proc: what one run of orders cost, and where.

Every process of a run descends from a child of the harness (a server, or a Procfile
process), and that child names its type: PostgreSQL's backends count as PostgreSQL,
gunicorn's workers as web. Descent is followed through parent pids, not sessions:
PostgreSQL puts each backend in a session of its own. A process that exited during the
run still counts: its time moved to its parent's children's time (cutime, cstime) when
it was reaped, and both are read.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
SERVERS = {"postgres": "PostgreSQL", "redis-server": "Redis", "tansu": "Tansu (broker)"}


def snapshot(named: dict[int, str]) -> dict[str, float]:
    """CPU seconds so far per process type. `named` maps the pid of a child of the harness
    to its type; the servers are told apart by their command line; this process (the
    browsers and the harness itself) is "harness"."""
    me, own = os.getpid(), 0
    parents, ticks = {}, {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        # fields[0] is the state, fields[1] the parent; utime, stime, cutime, cstime: 11..14.
        parents[pid], ticks[pid] = int(fields[1]), sum(map(int, fields[11:15]))
        if pid == me:
            # Its own time only: its reaped children are the processes it stopped.
            own = sum(map(int, fields[11:13]))
    totals: dict[str, float] = defaultdict(float)
    totals["harness"] = own / TICKS
    kinds = {pid: named.get(pid) or _server(pid) for pid, ppid in parents.items() if ppid == me}
    for pid in ticks:
        kind = kinds.get(_child_of(me, pid, parents))
        if kind:
            totals[kind] += ticks[pid] / TICKS
    return dict(totals)


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    kinds = sorted(set(after) | set(before))
    return {k: round(after.get(k, 0) - before.get(k, 0), 3) for k in kinds}


def _child_of(me: int, pid: int, parents: dict[int, int]) -> int | None:
    """The ancestor of `pid` that is a child of `me` (None if `pid` does not descend from it)."""
    while pid in parents and parents[pid] != me:
        if parents[pid] in (0, 1):
            return None
        pid = parents[pid]
    return pid if pid in parents else None


def _server(pid: int) -> str | None:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return None
    name = Path(command).name
    return next((label for key, label in SERVERS.items() if name.startswith(key)), None)
