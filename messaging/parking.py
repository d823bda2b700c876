"""Retries that keep one aggregate's messages in order: parking.

When a handler fails, its record is parked for (group, key) and a Celery task retries it
with exponential backoff. Until it succeeds, or runs out of attempts and is dead-lettered,
every later record of the same key for that group is parked behind it instead of being
handled, so no message of an order overtakes an earlier one that is still failing; other
keys go on at full speed. The consumer commits a parked record's offset: the parked copy
in the database is what will be handled.

"Later" means written later (the message's own time), not read later. Kafka keeps order
only within a partition, so a group that reads two topics can read an order's
OrderDispatched before the OrderPlaced it descends from. If OrderDispatched's handler then
waits for what OrderPlaced brings (it raises NotYet), OrderPlaced must not queue behind it,
or neither would ever be handled: a record from another partition that was written before
everything parked for its key goes ahead, and once it is handled a head that waits is
retried at once. A record of the same partition as a parked one always queues: there
Kafka's order is the order. Write times come from the producers' clocks; across hosts they
must agree to better than the time between an event and its consequences (NTP does).

A record whose handler kept failing becomes a dead letter and stays at the head of its
key's queue (Axon's sequenced dead-letter queue): the group's later records of that key
wait behind it, shown as queued behind a dead letter, until an operator retries it (it is
handled in its place, then the queue drains in order) or skips it (the queue drains
without it). Records that cannot be read as one of our messages at all (not a CloudEvent,
an unknown type, failing their contract, on the wrong topic) are dead-lettered without
holding their key: their key cannot be trusted, so any record could otherwise stall any
order. Handlers stay correct if such a record is retried late: a compensation met before
its cause is recorded, and the late cause is compensated on arrival.

Decided against: pausing the whole partition (one bad order would hold up every order
that shares its partition) and handling later records anyway (a cancellation could then
be handled before the placement it cancels, and be lost when the placement is retried).
"""

import base64
import logging
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from . import conf
from .handling import HandlerFailed, Outcome, RawRecord, handle_record, set_aside
from .metadata import Metadata
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
    if key not in parked:
        return _handle_or_park_failed(group, key, record, parked)
    with transaction.atomic():
        _lock(group.name, key)
        metadata = _metadata(record)
        written_at = _written_at(record, metadata)
        if _ahead_of(group.name, key, record, written_at).exists():
            _store(group.name, key, record, metadata, written_at)
            return PARKED
        # Nothing parked must go first (the queue drained meanwhile, or all of it was
        # written later on other partitions): handle it now, still holding the key's lock,
        # so that a retry of a later message cannot slip in before it.
        outcome = _handle_or_park_failed(group, key, record, parked)
        if outcome != PARKED:
            _wake_waiting(group.name, key)  # it may be what the head waits for
        return outcome


def _handle_or_park_failed(group, key: str, record: RawRecord, parked: set[str]) -> str:
    try:
        return handle_record(group, record)
    except HandlerFailed as failure:
        _park_failed(group.name, key, record, failure)
        parked.add(key)
        return PARKED


def retry(group_name: str, key: str) -> None:
    """Retry the key's first parked record, then hand on everything that waited behind it."""
    consumer_group = group(group_name)
    drained = False
    while True:
        with transaction.atomic():
            _lock(group_name, key)
            head = _queue(group_name, key).first()
            if head is None:
                return
            if head.dead_letter_id is not None:
                return  # a dead letter: the key waits for an operator to retry or skip it
            if head.next_attempt_at and head.next_attempt_at > timezone.now():
                if drained:  # a former head, overtaken by what was written before it
                    _schedule(group_name, key, at=head.next_attempt_at)
                return  # an early or duplicate task: the scheduled one will come
            try:
                handle_record(consumer_group, _raw(head), attempt=head.attempts + 1)
            except HandlerFailed as failure:
                # Tries spent waiting for a prerequisite do not count against a real failure.
                head.attempts = 1 if head.waiting and not failure.waiting else head.attempts + 1
                head.waiting = failure.waiting
                head.last_error = failure.error
                if not _given_up(head, failure):
                    head.next_attempt_at = timezone.now() + _backoff(head.attempts)
                    head.save(
                        update_fields=["attempts", "waiting", "last_error", "next_attempt_at"]
                    )
                    _schedule(group_name, key, at=head.next_attempt_at)
                    return
                _to_dead_letter(consumer_group, head, failure)
                return
            head.delete()
            drained = True


def _to_dead_letter(consumer_group: ConsumerGroup, head: ParkedRecord, failure) -> None:
    """The head ran out of tries: a dead letter, still at the head of its key's queue."""
    head.dead_letter = set_aside(
        consumer_group,
        _raw(head),
        DeadLetter.Reason.HANDLER_FAILED,
        failure.error,
        _delivery(head),
        attempts=head.attempts,
        trace=failure.trace,
    )
    head.next_attempt_at = None
    head.save(update_fields=["attempts", "waiting", "last_error", "next_attempt_at", "dead_letter"])


class NotFirst(Exception):
    """The dead letter waits behind an earlier message of its key that is still retried."""


def redeliver_dead_letter(letter_id: int, *, by: str) -> Outcome | str:
    """An operator's retry: handle the dead letter in its place, then drain its key's queue.

    Returns the outcome, or why it took no effect: it failed again (it stays a dead letter,
    one attempt more), an earlier message of its key must go first, or someone resolved it
    meanwhile. Resolving commits with the handling, under the key's lock.
    """
    letter = DeadLetter.objects.get(id=letter_id)
    record = _record_of(letter)
    key = key_of(record)
    with transaction.atomic():
        # The key's lock first, as everything that parks or drains it takes it first.
        _lock(letter.group, key)
        letter = DeadLetter.objects.select_for_update().get(id=letter_id)
        if letter.status != DeadLetter.Status.OPEN:
            return f"already {letter.get_status_display().lower()}"
        parked = ParkedRecord.objects.filter(dead_letter=letter).first()
        if parked is not None:
            first = _queue(letter.group, key).first()
            if first.pk != parked.pk:
                return str(
                    NotFirst(
                        f"an earlier message of {key} ({first.type or 'unreadable'}) is still "
                        "being retried; this one follows it"
                    )
                )
            record = _raw(parked)  # the very bytes read from Kafka
        # Not holding its key (an unreadable record, or one set aside before dead letters
        # held their keys): handled now, under the key's lock.
        try:
            outcome = handle_record(group(letter.group), record, attempt=letter.attempts + 1)
        except HandlerFailed as failure:
            letter.attempts += 1
            letter.error, letter.traceback = failure.error, failure.trace
            letter.save(update_fields=["attempts", "error", "traceback"])
            if parked is not None:
                parked.attempts, parked.last_error = letter.attempts, failure.error
                parked.save(update_fields=["attempts", "last_error"])
            return failure.error
        if parked is not None:
            parked.delete()
        letter.resolve(DeadLetter.Status.RETRIED, by=by, note=f"redelivered: {outcome}")
    if parked is not None:
        retry(letter.group, key)  # what queued behind it follows, in order
    return outcome


def skip_dead_letter(letter_id: int, *, by: str, reason: str) -> bool:
    """An operator's skip: the dead letter leaves its key's queue, what queued behind it
    follows. Returns False when someone resolved it meanwhile."""
    letter = DeadLetter.objects.get(id=letter_id)
    key = key_of(_record_of(letter))
    with transaction.atomic():
        _lock(letter.group, key)
        letter = DeadLetter.objects.select_for_update().get(id=letter_id)
        if letter.status != DeadLetter.Status.OPEN:
            return False
        if ParkedRecord.objects.filter(dead_letter=letter).delete()[0]:
            _schedule(letter.group, key)
        letter.resolve(DeadLetter.Status.SKIPPED, by=by, note=reason)
    return True


def _record_of(letter: DeadLetter) -> RawRecord:
    """A dead letter's record as read, rebuilt from its stored text."""
    return RawRecord(
        topic=letter.topic,
        partition=letter.partition,
        offset=letter.offset,
        key=letter.key.encode() or None,
        value=letter.value.encode(),
        headers=[(name, value.encode()) for name, value in letter.headers.items()],
        timestamp=letter.record_timestamp,
    )


def retry_due() -> int:
    """Schedule the retries whose task was lost; returns how many keys.

    A key needs one when the head of its queue is due: its next attempt is past, or it has
    none because it waited behind a head and the retry that handled that head died before
    handing on (a worker killed, its database connection cut).
    """
    cutoff = timezone.now() - timedelta(seconds=5)
    head = _queue(OuterRef("group"), OuterRef("key")).values("pk")[:1]
    due = (
        ParkedRecord.objects.filter(pk=Subquery(head), dead_letter=None)
        .filter(Q(next_attempt_at__lte=cutoff) | Q(next_attempt_at=None, parked_at__lte=cutoff))
        .values_list("group", "key")[:1000]
    )
    for group_name, key in due:
        _schedule(group_name, key)
    return len(due)


def _queue(group_name: str, key: str):
    """The key's parked records in the order they are handled: as written, then as parked.

    A record whose time is unknown (no readable CloudEvent and no Kafka timestamp) counts
    as written before the others: it was read before them or beside them.
    """
    return ParkedRecord.objects.filter(group=group_name, key=key).order_by(
        F("written_at").asc(nulls_first=True), "id"
    )


def _ahead_of(group_name: str, key: str, record: RawRecord, written_at):
    """The key's parked records that `record` must not overtake: every one written at or
    before it and, unless the queue waits, every one from its own partition (Kafka's order).

    A queue whose head waits (for a prerequisite, or for a rebuild) follows write times
    alone: what the head waits for was written before it and must be able to pass, even
    when it comes later on the same partition (a copy the relay published again after a
    broker lost it, a record a rebuild reads again).
    """
    queue = _queue(group_name, key)
    if written_at is None:
        return queue
    written_before = Q(written_at__lte=written_at) | Q(written_at=None)
    if _head_waits(queue):
        return queue.filter(written_before)
    return queue.filter(written_before | Q(topic=record.topic, partition=record.partition))


def _head_waits(queue) -> bool:
    head = queue.first()
    return head is not None and head.waiting and head.dead_letter_id is None


def _park_failed(group_name: str, key: str, record: RawRecord, failure: HandlerFailed) -> None:
    with transaction.atomic():
        _lock(group_name, key)
        # The head (nothing ahead of it) is the one retried; a record that failed while
        # others were parked waits its turn behind them.
        metadata = _metadata(record)
        written_at = _written_at(record, metadata)
        head = not _ahead_of(group_name, key, record, written_at).exists()
        _store(
            group_name,
            key,
            record,
            metadata,
            written_at,
            attempts=1,
            error=failure.error,
            next_attempt_at=timezone.now() + _backoff(1) if head else None,
            waiting=failure.waiting,
        )
        if head:
            _schedule(group_name, key, at=timezone.now() + _backoff(1))


def wake_waiting(group_name: str) -> int:
    """Retry now every head of the group that waits (after a rebuild); returns how many."""
    woken = 0
    for key in (
        ParkedRecord.objects.filter(group=group_name, waiting=True, dead_letter=None)
        .order_by()
        .values_list("key", flat=True)
        .distinct()
    ):
        with transaction.atomic():
            _lock(group_name, key)
            _wake_waiting(group_name, key)
        woken += 1
    return woken


def _wake_waiting(group_name: str, key: str) -> None:
    """Retry the key's head now, rather than at the end of its backoff, if it waits for a
    prerequisite; a head that fails for a real reason keeps its backoff."""
    head = _queue(group_name, key).first()
    if head is None or not head.waiting or head.dead_letter_id is not None:
        return
    ParkedRecord.objects.filter(pk=head.pk).update(next_attempt_at=timezone.now())
    _schedule(group_name, key)


def _given_up(head: ParkedRecord, failure: HandlerFailed) -> bool:
    if failure.waiting and not failure.expires:
        return False  # a rebuild ends by itself, or its fence dies with its session
    if failure.waiting:
        waited = (timezone.now() - head.parked_at).total_seconds()
        return waited >= conf.get("PREREQUISITE_WAIT_SECONDS")
    return head.attempts >= conf.get("HANDLER_ATTEMPTS")


def _queue_time(
    group_name: str, key: str, record: RawRecord, written_at: datetime | None
) -> datetime | None:
    """The record's place in its key's queue: its write time, but never before a record
    parked from the same partition, whose order is Kafka's (clocks can disagree with it),
    unless the queue waits and so follows write times alone (see _ahead_of)."""
    if written_at is not None and _head_waits(_queue(group_name, key)):
        return written_at
    latest = ParkedRecord.objects.filter(
        group=group_name, key=key, topic=record.topic, partition=record.partition
    ).aggregate(latest=Max("written_at"))["latest"]
    if written_at is None or latest is None:
        return written_at or latest
    return max(written_at, latest)


def _metadata(record: RawRecord) -> Metadata | None:
    """The record's CloudEvent attributes; None for a record that is not one."""
    try:
        metadata, _ = decode(record.key, record.value, record.headers)
    except MalformedRecord:
        return None
    return metadata


def _written_at(record: RawRecord, metadata: Metadata | None) -> datetime | None:
    """When the record's message was written: its CloudEvent time, else Kafka's timestamp."""
    if metadata is not None:
        return metadata.time
    if record.timestamp:
        return datetime.fromtimestamp(record.timestamp / 1000, UTC)
    return None


def _store(
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
    parked, _ = ParkedRecord.objects.get_or_create(
        group=group_name,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        record_timestamp=record.timestamp,
        defaults={
            "key": key,
            "raw_key": record.key,
            "raw_value": record.value,
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


def _schedule(group_name: str, key: str, *, at: datetime | None = None) -> None:
    """A retry task for the key, at `at` (now if None), once the transaction commits."""
    from .tasks import retry_parked

    countdown = max((at - timezone.now()).total_seconds(), 0) if at else 0
    # On the queue named after the group: its own worker retries it (see the Procfile).
    transaction.on_commit(
        lambda: retry_parked.apply_async((group_name, key), countdown=countdown, queue=group_name)
    )
