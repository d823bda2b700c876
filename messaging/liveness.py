"""Which processes are alive, read from their heartbeats (messaging.heartbeats).

A part is *stale* when it has been silent for more than STALE_AFTER_INTERVALS heartbeat
intervals, measured on the database's clock, which also stamped the beats. The runtime
works only while a relay leads and every consumer group has a live member: `problems()`
says what is missing, for readiness and the operations page.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import DurationField, ExpressionWrapper, F
from django.db.models.functions import Now

from . import conf
from .models import Heartbeat
from .registry import groups

STALE_AFTER_INTERVALS = 3


@dataclass(frozen=True)
class Process:
    """One part of one process, with how long it has been silent."""

    kind: str
    kind_label: str
    name: str
    host: str
    pid: int
    role: str
    details: dict
    started_at: datetime
    beat_at: datetime
    silent: timedelta
    stale: bool


def stale_after() -> timedelta:
    return timedelta(seconds=STALE_AFTER_INTERVALS * conf.get("HEARTBEAT_INTERVAL"))


def processes() -> list[Process]:
    """Every part that has beaten and not been forgotten, the stale ones included."""
    limit = stale_after()
    rows = Heartbeat.objects.annotate(
        silent=ExpressionWrapper(Now() - F("beat_at"), output_field=DurationField())
    )
    return [
        Process(
            kind=row.kind,
            kind_label=row.get_kind_display(),
            name=row.name,
            host=row.host,
            pid=row.pid,
            role=row.role,
            details=row.details,
            started_at=row.started_at,
            beat_at=row.beat_at,
            silent=max(row.silent, timedelta(0)),
            stale=row.silent > limit,
        )
        for row in rows
    ]


def fresh():
    """The heartbeats that are not stale."""
    return Heartbeat.objects.filter(beat_at__gte=Now() - stale_after())


def problems() -> list[str]:
    """What the runtime lacks: a leading relay, a live member of each consumer group."""
    alive = fresh()
    found = []
    if not alive.filter(kind=Heartbeat.Kind.RELAY, role="leader").exists():
        found.append("no relay is leading (none has beaten as leader lately)")
    members = set(alive.filter(kind=Heartbeat.Kind.CONSUMER).values_list("name", flat=True))
    missing = sorted(set(groups()) - members)
    if missing:
        found.append(f"no live member of the consumer group(s) {', '.join(missing)}")
    return found


def summary() -> dict:
    """Who keeps the runtime going: the leading relay and the live members per group."""
    alive = fresh()
    leaders = alive.filter(kind=Heartbeat.Kind.RELAY, role="leader")
    members = {name: 0 for name in sorted(groups())}
    for name in alive.filter(kind=Heartbeat.Kind.CONSUMER).values_list("name", flat=True):
        members[name] = members.get(name, 0) + 1
    return {
        "relay leader": ", ".join(f"{r.host}:{r.pid}" for r in leaders) or None,
        "consumer group members": members,
    }


def unhealthy_here(kind: str, host: str, name: str = "") -> str:
    """Why no process of `kind` on `host` is healthy (every part of it fresh), or ""."""
    here = Heartbeat.objects.filter(host=host)
    candidates = here.filter(kind=kind, **({"name": name} if name else {}))
    pids = set(candidates.values_list("pid", flat=True))
    if not pids:
        what = f"{kind} {name}".strip()
        return f"no {what} on {host} has beaten (or it stopped and deleted its heartbeats)"
    fresh_parts = fresh().filter(host=host)
    for pid in sorted(pids):
        parts = here.filter(pid=pid).count()
        if parts and fresh_parts.filter(pid=pid).count() == parts:
            return ""
    silent = [
        f"{p.kind} {p.name} (pid {p.pid}) silent for {p.silent.total_seconds():.0f} s"
        for p in processes()
        if p.host == host and p.pid in pids and p.stale
    ]
    return "; ".join(silent) or f"no fresh heartbeat of a {kind} on {host}"
