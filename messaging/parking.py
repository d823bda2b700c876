"""Parking: the records a consumer group holds back for a key, a queue in written order.

A record is parked for its (group, key) when its handler fails, or when it comes while
records of its key are parked and must not overtake them (messaging.handling decides
which). The queue's head is the record retried (messaging.retrying), or a dead letter
that keeps its place until an operator retries or skips it; the others wait behind it.
The consumer commits a parked record's offset: the copy kept here, byte for byte, is what
will be handled.

The queue's order is the order its messages were written (their own time), not the order
they were read. Kafka keeps order only within a partition, so a group that reads two
topics can read an order's OrderDispatched before the OrderPlaced it descends from. If
OrderDispatched's handler then waits for what OrderPlaced brings (it raises NotYet),
OrderPlaced must not queue behind it, or neither would ever be handled: a record from
another partition that was written before everything parked for its key goes ahead
(`ahead_of`), and once it is handled a head that waits is retried at once (`wake_head`).
A record of the same partition as a parked one always queues: there Kafka's order is the
order. Write times come from the producers' clocks; across hosts they must agree to
better than the time between an event and its consequences (NTP does).

Also here, for everything that parks or drains a queue: the key's lock, and when the
head is tried next (the backoff, and the retry task on the group's own queue).
"""

import base64
import logging
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from . import conf, erasure
from .inbox import HandlerFailed
from .metadata import Metadata
from .models import ParkedRecord
from .wire import MalformedRecord, RawRecord, decode

logger = logging.getLogger(__name__)

PARKED = "parked"


def key_of(record: RawRecord) -> str:
    return (record.key or b"").decode("utf-8", "replace")[:200]


def queue(group_name: str, key: str):
    """The key's parked records in the order they are handled: as written, then as parked.

    A record whose time is unknown (no readable CloudEvent and no Kafka timestamp) counts
    as written before the others: it was read before them or beside them.
    """
    return ParkedRecord.objects.filter(group=group_name, key=key).order_by(
        F("written_at").asc(nulls_first=True), "id"
    )


def ahead_of(group_name: str, key: str, record: RawRecord, written_at):
    """The key's parked records that `record` must not overtake: every one written at or
    before it and, unless the queue waits, every one from its own partition (Kafka's order).

    A queue whose head waits (for a prerequisite, or for a rebuild) follows write times
    alone: what the head waits for was written before it and must be able to pass, even
    when it comes later on the same partition (a copy the relay published again after a
    broker lost it, a record a rebuild reads again).
    """
    parked = queue(group_name, key)
    if written_at is None:
        return parked
    written_before = Q(written_at__lte=written_at) | Q(written_at=None)
    if head_waits(parked):
        return parked.filter(written_before)
    return parked.filter(written_before | Q(topic=record.topic, partition=record.partition))


def head_waits(parked) -> bool:
    head = parked.first()
    return head is not None and head.waiting and head.dead_letter_id is None


def park_failed(group_name: str, key: str, record: RawRecord, failure: HandlerFailed) -> None:
    with transaction.atomic():
        lock(group_name, key)
        # The head (nothing ahead of it) is the one retried; a record that failed while
        # others were parked waits its turn behind them.
        metadata = metadata_of(record)
        written_at = written_at_of(record, metadata)
        head = not ahead_of(group_name, key, record, written_at).exists()
        store(
            group_name,
            key,
            record,
            metadata,
            written_at,
            attempts=1,
            error=failure.error,
            next_attempt_at=timezone.now() + backoff(1) if head else None,
            waiting=failure.waiting,
        )
        if head:
            schedule(group_name, key, at=timezone.now() + backoff(1))


def wake_head(group_name: str, key: str) -> None:
    """Retry the key's head now, rather than at the end of its backoff, if it waits for a
    prerequisite; a head that fails for a real reason keeps its backoff."""
    head = queue(group_name, key).first()
    if head is None or not head.waiting or head.dead_letter_id is not None:
        return
    ParkedRecord.objects.filter(pk=head.pk).update(next_attempt_at=timezone.now())
    schedule(group_name, key)


def _queue_time(
    group_name: str, key: str, record: RawRecord, written_at: datetime | None
) -> datetime | None:
    """The record's place in its key's queue: its write time, but never before a record
    parked from the same partition, whose order is Kafka's (clocks can disagree with it),
    unless the queue waits and so follows write times alone (see ahead_of)."""
    if written_at is not None and head_waits(queue(group_name, key)):
        return written_at
    latest = ParkedRecord.objects.filter(
        group=group_name, key=key, topic=record.topic, partition=record.partition
    ).aggregate(latest=Max("written_at"))["latest"]
    if written_at is None or latest is None:
        return written_at or latest
    return max(written_at, latest)


def metadata_of(record: RawRecord) -> Metadata | None:
    """The record's CloudEvent attributes; None for a record that is not one."""
    try:
        metadata, _ = decode(record.key, record.value, record.headers)
    except MalformedRecord:
        return None
    return metadata


def written_at_of(record: RawRecord, metadata: Metadata | None) -> datetime | None:
    """When the record's message was written: its CloudEvent time, else Kafka's timestamp."""
    if metadata is not None:
        return metadata.time
    if record.timestamp:
        return datetime.fromtimestamp(record.timestamp / 1000, UTC)
    return None


def store(
    group_name: str,
    key: str,
    record: RawRecord,
    metadata: Metadata | None,
    written_at: datetime | None,
    *,
    attempts: int = 0,
    error: str = "",
    next_attempt_at=None,
    waiting: bool = False,
) -> ParkedRecord:
    value = record.value
    if erasure.is_erased(key):
        # An old record of an erased order read again: what waits here has no person.
        value = erasure.redacted_value(metadata.type if metadata else "", value)
    parked, _ = ParkedRecord.objects.get_or_create(
        group=group_name,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        record_timestamp=record.timestamp,
        defaults={
            "key": key,
            "raw_key": record.key,
            "raw_value": value,
            "raw_headers": [[n, base64.b64encode(v or b"").decode()] for n, v in record.headers],
            "message_id": metadata.message_id if metadata else None,
            "type": metadata.type if metadata else "",
            "correlation_id": metadata.correlation_id if metadata else None,
            "written_at": _queue_time(group_name, key, record, written_at),
            "attempts": attempts,
            "last_error": error,
            "waiting": waiting,
            "next_attempt_at": next_attempt_at,
        },
    )
    return parked


def raw(parked: ParkedRecord) -> RawRecord:
    return RawRecord(
        topic=parked.topic,
        partition=parked.partition,
        offset=parked.offset,
        key=bytes(parked.raw_key) if parked.raw_key is not None else None,
        value=bytes(parked.raw_value) if parked.raw_value is not None else None,
        headers=[(n, base64.b64decode(v)) for n, v in parked.raw_headers],
        timestamp=parked.record_timestamp,
    )


def lock(group_name: str, key: str) -> None:
    """Serialise everything that parks or drains one (group, key), until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"parking:{group_name}:{key}"]
        )


def backoff(attempts: int) -> timedelta:
    base = conf.get("RETRY_BACKOFF_SECONDS")
    return timedelta(seconds=min(base * 2 ** (attempts - 1), conf.get("RETRY_BACKOFF_MAX_SECONDS")))


def schedule(group_name: str, key: str, *, at: datetime | None = None) -> None:
    """A retry task for the key, at `at` (now if None), once the transaction commits."""
    countdown = max((at - timezone.now()).total_seconds(), 0) if at else 0
    # On the queue named after the group: its own worker retries it (see the Procfile). The
    # task is named, not imported: tasks are the entrypoints above this module.
    transaction.on_commit(
        lambda: current_app.send_task(
            "messaging.retry_parked", (group_name, key), countdown=countdown, queue=group_name
        )
    )
