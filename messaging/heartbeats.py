"""Heartbeats: every process of the runtime says, every few seconds, that it is alive.

A process has one `Heart`, a daemon thread, and a `Pulse` per part: the relay, each
consumer group member, the Celery worker, the scheduler. A loop reports on its pulse as it
goes round (no I/O: it only notes its role and details), and every HEARTBEAT_INTERVAL the
heart upserts the rows of every part that reported since its last write, in one statement,
stamped with the database's clock. A loop that hangs stops reporting, so its row goes
silent although its process lives; a part that changes role (a standby relay that starts
leading, a member that gets its partitions) is written at once.

A clean stop deletes the process's rows. A process that dies leaves them to go stale
(messaging.liveness), and `forget_silent` drops rows silent longer than
HEARTBEAT_FORGET_AFTER.
"""

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from functools import reduce
from operator import or_

from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from . import conf
from .models import Heartbeat

logger = logging.getLogger(__name__)

# A loop that goes round many times a second gathers its details at most this often.
DETAILS_EVERY = 1.0


class Pulse:
    """One part of a process, as its loop last reported it."""

    def __init__(self, kind: str, name: str, *, heart: "Heart | None" = None) -> None:
        self.kind, self.name = kind, name
        self.heart = heart
        self.role = ""
        self.details: dict = {}
        self._news = False
        self._next_details = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        """Whether the loop should gather fresh details for its next report."""
        return time.monotonic() >= self._next_details

    def report(self, role: str, **details) -> None:
        with self._lock:
            changed = role != self.role
            self.role, self._news = role, True
            if details:
                self.details = details
                self._next_details = time.monotonic() + DETAILS_EVERY
        if changed and self.heart is not None:
            self.heart.wake()

    def take(self) -> tuple[str, dict] | None:
        """What to write, if the loop reported since the last take."""
        with self._lock:
            if not self._news:
                return None
            self._news = False
            return self.role, dict(self.details)


class Heart:
    """The thread that writes this process's heartbeats; a context manager runs it."""

    def __init__(self, *, interval: float | None = None) -> None:
        self.interval = interval
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.started_at = timezone.now()
        self.pulses: list[Pulse] = []
        self.alive: list[Pulse] = []  # reported by the heart itself: the process runs
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def pulse(self, kind: str, name: str, *, by_heart: bool = False, **details) -> Pulse:
        """A part of this process. `by_heart`: it has no loop of its own to report from."""
        pulse = Pulse(kind, name, heart=None if by_heart else self)
        if details:
            pulse.details = details
        (self.alive if by_heart else self.pulses).append(pulse)
        return pulse

    def wake(self) -> None:
        self._wake.set()

    def beat(self) -> int:
        """Write the rows of every part that reported since the last beat; how many."""
        for pulse in self.alive:
            pulse.report(pulse.role or "running")
        rows = [
            Heartbeat(
                host=self.host,
                pid=self.pid,
                kind=pulse.kind,
                name=pulse.name,
                role=news[0],
                details=news[1],
                started_at=self.started_at,
                beat_at=Now(),
            )
            for pulse in [*self.alive, *self.pulses]
            if (news := pulse.take()) is not None
        ]
        if rows:
            Heartbeat.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["host", "pid", "kind", "name"],
                # started_at too: a restarted container's process may get its pid again.
                update_fields=["role", "details", "started_at", "beat_at"],
            )
        return len(rows)

    def start(self) -> "Heart":
        if self.interval is None:
            self.interval = conf.get("HEARTBEAT_INTERVAL")
        self._thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating and delete this process's rows: it is gone on purpose, not silent."""
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
        parts = [Q(kind=p.kind, name=p.name) for p in [*self.alive, *self.pulses]]
        if not parts:
            return
        try:
            Heartbeat.objects.filter(reduce(or_, parts), host=self.host, pid=self.pid).delete()
        except DatabaseError as exc:  # the rows go stale instead, and are forgotten later
            logger.warning("heartbeats of %s:%d not deleted: %s", self.host, self.pid, exc)

    def __enter__(self) -> "Heart":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopping:
            try:
                close_old_connections()
                self.beat()
            # The database may be away: the rows go stale, which is what they should say.
            except DatabaseError as exc:
                logger.warning("heartbeat not recorded: %s", exc)
                connection.close()
            self._wake.wait(self.interval)
            self._wake.clear()
        connection.close()


def forget_silent() -> int:
    """Delete the rows of processes silent longer than HEARTBEAT_FORGET_AFTER."""
    silent_since = Now() - timedelta(seconds=conf.get("HEARTBEAT_FORGET_AFTER"))
    deleted, _ = Heartbeat.objects.filter(beat_at__lt=silent_since).delete()
    return deleted
