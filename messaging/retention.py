"""Retention: the purge that keeps the runtime's tables bounded without breaking its promises.

Each table has a window (`RETAIN_*` in settings.MESSAGING) and a rule for what it must keep
whatever its age:

- the outbox keeps every row not yet published (pending) and every row Kafka refused
  that nobody skipped: the relay still owes them to the broker;
- the inbox keeps every entry for its window, which is why a redelivered command is
  recognised (command topics keep their records for less, see messaging.topics), and the
  entries of messages a group still holds parked or dead-lettered;
- handling failures are kept while their message is parked or an open dead letter: the
  operator deciding on it reads them;
- dead letters are kept until an operator retried or skipped them, then for the window;
- a broker loss is kept while its topic's history misses records the relay did not publish
  again (a rebuild refuses to pass over it unless told), and for its window once it misses
  none.

Rows go oldest first, a batch per DELETE statement, each committed on its own, so no
statement holds locks on many rows for long and the shop goes on while a large backlog
is purged; after each batch the purge pauses in proportion to the batch's time
(`PURGE_PAUSE`), so it is a rate, not only a size, and the shop's queries are not queued
behind one batch after another. One purge runs at a time (an advisory lock); a second one
reports that and does nothing.

The message log is not the runtime's, and the runtime does not import it: the messagelog
app registers its table here (`register`) with the same kind of rule.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from . import conf
from .models import (
    BrokerLoss,
    DeadLetter,
    HandlingFailure,
    InboxEntry,
    OutboxMessage,
    ParkedRecord,
)

logger = logging.getLogger(__name__)

# Any 64-bit number unique to this purpose within the database.
PURGE_LOCK_ID = 7_310_451_830

Progress = Callable[[str, int, int], None]  # (table, rows deleted so far, rows to delete)

# Module attributes, for tests to replace: the pause between batches and its clock.
sleep = time.sleep
clock = time.monotonic


@dataclass(frozen=True)
class Purgeable:
    """A table the purge keeps bounded.

    `expired(cutoff)` is the rows that may go (older than the cutoff by the table's own
    measure, and needed by nothing); `age_field` is an indexed column that orders them,
    oldest first, and dates the oldest row kept.
    """

    name: str
    model: type[models.Model]
    setting: str
    age_field: str
    expired: Callable[[datetime], Q]


@dataclass
class TablePurge:
    name: str
    window: timedelta
    cutoff: datetime
    expired: int = 0  # counted when the table's purge began
    deleted: int = 0
    seconds: float = 0.0  # with the pauses between batches: the rate is the effective one
    oldest_kept: datetime | None = None

    @property
    def rate(self) -> float:
        return self.deleted / self.seconds if self.seconds else 0.0


@dataclass
class PurgeReport:
    dry_run: bool
    tables: list[TablePurge] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        return sum(t.deleted for t in self.tables)


class PurgeRunning(Exception):
    """Another purge holds the lock; this one did nothing."""


def held(*, message_id: str = "message_id", group: str | None = "group") -> Q:
    """Rows naming a message that a consumer group still holds parked, or as an open dead
    letter; with `group=None`, held by any group."""
    same = {"message_id": OuterRef(message_id)}
    if group is not None:
        same["group"] = OuterRef(group)
    return Q(Exists(ParkedRecord.objects.filter(**same))) | Q(
        Exists(DeadLetter.objects.filter(status=DeadLetter.Status.OPEN, **same))
    )


def held_record() -> Q:
    """Rows of a Kafka record (topic, partition, offset, timestamp) that a group holds
    parked or as an open dead letter: how an unreadable record, with no message id, is held."""
    same = {name: OuterRef(name) for name in ("topic", "partition", "offset", "record_timestamp")}
    return Q(Exists(ParkedRecord.objects.filter(**same))) | Q(
        Exists(DeadLetter.objects.filter(status=DeadLetter.Status.OPEN, **same))
    )


def _outbox_expired(cutoff: datetime) -> Q:
    # A row's time comes before its publication, so `time` (indexed) narrows the scan;
    # published_at or skipped_at decides. Pending and refused-not-skipped rows have neither.
    done = Q(published_at__lt=cutoff) | Q(published_at=None, skipped_at__lt=cutoff)
    return Q(time__lt=cutoff) & done


def _inbox_expired(cutoff: datetime) -> Q:
    # started_at is written once (indexed); handled_at, a moment later, decides.
    return Q(started_at__lt=cutoff, handled_at__lt=cutoff) & ~held()


def _failures_expired(cutoff: datetime) -> Q:
    return Q(failed_at__lt=cutoff) & ~held()


def _dead_letters_expired(cutoff: datetime) -> Q:
    resolved = Q(resolved_at__lt=cutoff) & ~Q(status=DeadLetter.Status.OPEN)
    return resolved & ~Q(Exists(ParkedRecord.objects.filter(dead_letter=OuterRef("pk"))))


def _broker_losses_expired(cutoff: datetime) -> Q:
    # One row per loss the relay found: a small table, ordered by its time without an index.
    return Q(detected_at__lt=cutoff, republished__gte=F("lost"))


_TARGETS: dict[str, Purgeable] = {}


def register(target: Purgeable) -> None:
    """Keep another app's table bounded too (the message log registers its own)."""
    if target.setting not in conf.DEFAULTS:
        raise ImproperlyConfigured(f"{target.name}: no MESSAGING setting {target.setting!r}")
    _TARGETS[target.name] = target


def targets() -> dict[str, Purgeable]:
    return dict(_TARGETS)


register(Purgeable("outbox", OutboxMessage, "RETAIN_OUTBOX", "time", _outbox_expired))
register(Purgeable("inbox", InboxEntry, "RETAIN_INBOX", "started_at", _inbox_expired))
register(
    Purgeable(
        "handling failures",
        HandlingFailure,
        "RETAIN_HANDLING_FAILURES",
        "failed_at",
        _failures_expired,
    )
)
register(
    Purgeable(
        "dead letters", DeadLetter, "RETAIN_DEAD_LETTERS", "created_at", _dead_letters_expired
    )
)
register(
    Purgeable(
        "broker losses",
        BrokerLoss,
        "RETAIN_BROKER_LOSSES",
        "detected_at",
        _broker_losses_expired,
    )
)


def purge(
    *,
    dry_run: bool = False,
    batch_size: int | None = None,
    pause: float | None = None,
    tables: list[str] | None = None,
    progress: Progress = lambda table, done, total: None,
    now: datetime | None = None,
) -> PurgeReport:
    """Delete what each table no longer needs; with `dry_run`, only count it.

    After each batch that another follows, the purge sleeps `pause` (default
    PURGE_PAUSE) times as long as that batch took.
    `progress(table, deleted, expired)` is called after each batch. Raises PurgeRunning
    when another purge is running, ImproperlyConfigured when the windows contradict
    each other (see conf.retention_conflicts).
    """
    conflicts = conf.retention_conflicts()
    if conflicts:
        raise ImproperlyConfigured("; ".join(conflicts))
    batch_size = batch_size or conf.get("PURGE_BATCH_SIZE")
    pause = conf.get("PURGE_PAUSE") if pause is None else pause
    if pause < 0:
        raise ImproperlyConfigured(f"PURGE_PAUSE must be 0 or more, not {pause!r}")
    now = now or timezone.now()
    chosen = [targets()[name] for name in tables] if tables else list(targets().values())
    report = PurgeReport(dry_run=dry_run)
    with _lock(exclusive=not dry_run):
        for target in chosen:
            report.tables.append(_purge_table(target, now, batch_size, pause, dry_run, progress))
    if not dry_run:
        logger.info(
            "purge: %s",
            ", ".join(f"{t.deleted} {t.name} rows in {t.seconds:.1f} s" for t in report.tables),
        )
    return report


def _purge_table(
    target: Purgeable,
    now: datetime,
    batch_size: int,
    pause: float,
    dry_run: bool,
    progress: Progress,
) -> TablePurge:
    window = conf.duration(target.setting)
    result = TablePurge(target.name, window, now - window)
    manager = target.model._base_manager
    expired = target.expired(result.cutoff)
    started = clock()
    result.expired = manager.filter(expired).count()
    progress(target.name, 0, result.expired)
    while not dry_run:
        batch_started = clock()
        # The batch's ids first, from the age index; then a DELETE by primary key, which
        # stays as cheap however large the table (a DELETE with the batch as a subquery
        # lets the planner scan the whole table for each batch).
        batch = list(
            manager.filter(expired)
            .order_by(target.age_field)
            .values_list("pk", flat=True)[:batch_size]
        )
        if batch:
            # The conditions again: a row that changed since it was picked (one the relay
            # publishes again after a broker loss, a record parked meanwhile) stays.
            deleted, _ = manager.filter(expired, pk__in=batch).delete()
            result.deleted += deleted
            progress(target.name, result.deleted, result.expired)
        if len(batch) < batch_size:
            break
        if pause:
            sleep(pause * (clock() - batch_started))
    result.seconds = clock() - started
    result.oldest_kept = (
        manager.exclude(expired)
        .order_by(target.age_field)
        .values_list(target.age_field, flat=True)
        .first()
    )
    return result


@contextmanager
def _lock(*, exclusive: bool) -> Iterator[None]:
    """One purge at a time, for its database session; a dry run deletes nothing, so it
    takes no lock."""
    if exclusive and not _advisory("SELECT pg_try_advisory_lock(%s)"):
        raise PurgeRunning("Another purge is running; this one did nothing.")
    try:
        yield
    finally:
        if exclusive:
            _advisory("SELECT pg_advisory_unlock(%s)")


def _advisory(sql: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(sql, [PURGE_LOCK_ID])
        return cursor.fetchone()[0]
