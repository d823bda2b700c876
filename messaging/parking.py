"""Retries that keep one aggregate's messages in order: parking.

When a handler fails, its record is parked for (group, key) and a Celery task retries it
with exponential backoff. Until it succeeds, or runs out of attempts and is dead-lettered,
every later record of the same key for that group is parked behind it instead of being
handled, so no message of an order overtakes an earlier one that is still failing; other
keys go on at full speed. The consumer commits a parked record's offset: the parked copy
in the database is what will be handled.

Decided against: pausing the whole partition (one bad order would hold up every order
that shares its partition) and handling later records anyway (a cancellation could then
be handled before the placement it cancels).
"""

import base64
import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from . import conf
from .handling import HandlerFailed, RawRecord, handle_record, set_aside
from .models import DeadLetter, ParkedRecord
from .registry import ConsumerGroup, group
from .wire import MalformedRecord, decode

logger = logging.getLogger(__name__)

PARKED = "parked"


def key_of(record: RawRecord) -> str:
    return (record.key or b"").decode("utf-8", "replace")[:200]


def parked_keys(group_name: str, keys: set[str]) -> set[str]:
    """Which of `keys` have records parked for the group (one query per batch)."""
    return set(
        ParkedRecord.objects.filter(group=group_name, key__in=keys)
        .values_list("key", flat=True)
        .distinct()
    )


def handle_or_park(group: ConsumerGroup, record: RawRecord, parked: set[str]) -> str:
    """The consumer's way to handle a record: behind its key's parked records, if any.

    `parked` is the batch's set of parked keys, kept up to date as records are parked.
    """
    key = key_of(record)
    if key in parked and _park_behind(group.name, key, record):
        return PARKED
    try:
        return handle_record(group, record)
    except HandlerFailed as failure:
        _park_failed(group.name, key, record, failure)
        parked.add(key)
        return PARKED


def retry(group_name: str, key: str) -> None:
    """Retry the key's first parked record, then hand on everything that waited behind it."""
    consumer_group = group(group_name)
    while True:
        with transaction.atomic():
            _lock(group_name, key)
            head = ParkedRecord.objects.filter(group=group_name, key=key).order_by("id").first()
            if head is None:
                return
            if head.next_attempt_at and head.next_attempt_at > timezone.now():
                return  # an early or duplicate task: the scheduled one will come
            try:
                handle_record(consumer_group, _raw(head), attempt=head.attempts + 1)
            except HandlerFailed as failure:
                head.attempts += 1
                head.last_error = failure.error
                if head.attempts < conf.get("HANDLER_ATTEMPTS"):
                    head.next_attempt_at = timezone.now() + _backoff(head.attempts)
                    head.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                    _schedule(group_name, key, head.attempts)
                    return
                set_aside(
                    consumer_group,
                    _raw(head),
                    DeadLetter.Reason.HANDLER_FAILED,
                    failure.error,
                    _delivery(head),
                    attempts=head.attempts,
                    trace=failure.trace,
                )
            head.delete()


def retry_due() -> int:
    """Schedule the retries whose time has come but whose task was lost; returns how many."""
    due = (
        ParkedRecord.objects.filter(next_attempt_at__lte=timezone.now() - timedelta(seconds=5))
        .values_list("group", "key")
        .distinct()[:1000]
    )
    for group_name, key in due:
        _schedule(group_name, key, attempts=0)
    return len(due)


def _park_behind(group_name: str, key: str, record: RawRecord) -> bool:
    """Queue `record` behind its key's parked records; False if none are left any more."""
    with transaction.atomic():
        _lock(group_name, key)
        if not ParkedRecord.objects.filter(group=group_name, key=key).exists():
            return False  # the retry task drained the queue meanwhile: handle it now
        _store(group_name, key, record)
    return True


def _park_failed(group_name: str, key: str, record: RawRecord, failure: HandlerFailed) -> None:
    with transaction.atomic():
        _lock(group_name, key)
        first = not ParkedRecord.objects.filter(group=group_name, key=key).exists()
        _store(
            group_name,
            key,
            record,
            attempts=1,
            error=failure.error,
            next_attempt_at=timezone.now() + _backoff(1) if first else None,
        )
        if first:
            _schedule(group_name, key, 1)


def _store(
    group_name: str,
    key: str,
    record: RawRecord,
    *,
    attempts: int = 0,
    error: str = "",
    next_attempt_at=None,
) -> ParkedRecord:
    try:
        metadata, _ = decode(record.key, record.value, record.headers)
    except MalformedRecord:
        metadata = None
    parked, _ = ParkedRecord.objects.get_or_create(
        group=group_name,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        defaults={
            "key": key,
            "raw_key": record.key,
            "raw_value": record.value,
            "raw_headers": [[n, base64.b64encode(v or b"").decode()] for n, v in record.headers],
            "message_id": metadata.message_id if metadata else None,
            "type": metadata.type if metadata else "",
            "correlation_id": metadata.correlation_id if metadata else None,
            "attempts": attempts,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
        },
    )
    return parked


def _raw(parked: ParkedRecord) -> RawRecord:
    return RawRecord(
        topic=parked.topic,
        partition=parked.partition,
        offset=parked.offset,
        key=bytes(parked.raw_key) if parked.raw_key is not None else None,
        value=bytes(parked.raw_value) if parked.raw_value is not None else None,
        headers=[(n, base64.b64decode(v)) for n, v in parked.raw_headers],
        timestamp=parked.record_timestamp,
    )


def _delivery(parked: ParkedRecord):
    from .metadata import Delivery, KafkaCoordinates
    from .wire import decode_headers

    record = _raw(parked)
    try:
        metadata, data = decode(record.key, record.value, record.headers)
    except MalformedRecord:
        return None
    return Delivery(
        metadata,
        data,
        KafkaCoordinates(record.topic, record.partition, record.offset),
        decode_headers(record.headers),
    )


def _lock(group_name: str, key: str) -> None:
    """Serialise everything that parks or drains one (group, key), until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"parking:{group_name}:{key}"]
        )


def _backoff(attempts: int) -> timedelta:
    base = conf.get("RETRY_BACKOFF_SECONDS")
    return timedelta(seconds=min(base * 2 ** (attempts - 1), conf.get("RETRY_BACKOFF_MAX_SECONDS")))


def _schedule(group_name: str, key: str, attempts: int) -> None:
    from .tasks import retry_parked

    countdown = _backoff(attempts).total_seconds() if attempts else 0
    # On the queue named after the group: its own worker retries it (see the Procfile).
    transaction.on_commit(
        lambda: retry_parked.apply_async((group_name, key), countdown=countdown, queue=group_name)
    )
