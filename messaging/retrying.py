"""Retrying parked records, and what operators do with dead letters.

A Celery task on the group's own queue retries the head of a key's queue with exponential
backoff, up to HANDLER_ATTEMPTS tries in all, or for up to PREREQUISITE_WAIT_SECONDS when
its handler waits for a message (NotYet); then hands on, in order, what queued behind it.
A head that runs out of tries becomes a dead letter and keeps its place (Axon's sequenced
dead-letter queue): the key waits for an operator, who retries it (handled in its place,
then the queue drains) or skips it (the queue drains without it). The scheduler's sweep
re-queues retries whose task was lost.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from . import conf, parking
from .deadletters import dead_letter
from .inbox import HandlerFailed, Outcome, handle_record
from .models import DeadLetter, ParkedRecord
from .registry import ConsumerGroup, group
from .tracing import Mode
from .wire import RawRecord


def retry(group_name: str, key: str) -> None:
    """Retry the key's first parked record, then hand on everything that waited behind it."""
    consumer_group = group(group_name)
    drained = False
    while True:
        with transaction.atomic():
            parking.lock(group_name, key)
            head = parking.queue(group_name, key).first()
            if head is None:
                return
            if head.dead_letter_id is not None:
                return  # a dead letter: the key waits for an operator to retry or skip it
            if head.next_attempt_at and head.next_attempt_at > timezone.now():
                if drained:  # a former head, overtaken by what was written before it
                    parking.schedule(group_name, key, at=head.next_attempt_at)
                return  # an early or duplicate task: the scheduled one will come
            try:
                handle_record(
                    consumer_group, parking.raw(head), attempt=head.attempts + 1, mode=Mode.RETRY
                )
            except HandlerFailed as failure:
                # Tries spent waiting for a prerequisite do not count against a real failure.
                head.attempts = 1 if head.waiting and not failure.waiting else head.attempts + 1
                head.waiting = failure.waiting
                head.last_error = failure.error
                if not _given_up(head, failure):
                    head.next_attempt_at = timezone.now() + parking.backoff(head.attempts)
                    head.save(
                        update_fields=["attempts", "waiting", "last_error", "next_attempt_at"]
                    )
                    parking.schedule(group_name, key, at=head.next_attempt_at)
                    return
                _to_dead_letter(consumer_group, head, failure)
                return
            head.delete()
            drained = True


def _to_dead_letter(consumer_group: ConsumerGroup, head: ParkedRecord, failure) -> None:
    """The head ran out of tries: a dead letter, still at the head of its key's queue."""
    record = parking.raw(head)
    head.dead_letter = dead_letter(
        consumer_group.name,
        record,
        DeadLetter.Reason.HANDLER_FAILED,
        failure.error,
        parking.metadata_of(record),
        attempts=head.attempts,
        trace=failure.trace,
    )
    head.next_attempt_at = None
    head.save(update_fields=["attempts", "waiting", "last_error", "next_attempt_at", "dead_letter"])


def redeliver_dead_letter(letter_id: int, *, by: str) -> Outcome | str:
    """An operator's retry: handle the dead letter in its place, then drain its key's queue.

    Returns the outcome, or why it took no effect: it failed again (it stays a dead letter,
    one attempt more), an earlier message of its key must go first, or someone resolved it
    meanwhile. Resolving commits with the handling, under the key's lock.
    """
    letter = DeadLetter.objects.get(id=letter_id)
    record = _record_of(letter)
    key = parking.key_of(record)
    with transaction.atomic():
        # The key's lock first, as everything that parks or drains it takes it first.
        parking.lock(letter.group, key)
        letter = DeadLetter.objects.select_for_update().get(id=letter_id)
        if letter.status != DeadLetter.Status.OPEN:
            return f"already {letter.get_status_display().lower()}"
        parked = ParkedRecord.objects.filter(dead_letter=letter).first()
        if parked is not None:
            first = parking.queue(letter.group, key).first()
            if first.pk != parked.pk:
                return (
                    f"an earlier message of {key} ({first.type or 'unreadable'}) is still "
                    "being retried; this one follows it"
                )
            record = parking.raw(parked)  # the very bytes read from Kafka
        # Not holding its key (an unreadable record, or one dead-lettered before dead
        # letters held their keys): handled now, under the key's lock.
        try:
            outcome = handle_record(
                group(letter.group),
                record,
                attempt=letter.attempts + 1,
                mode=Mode.DEAD_LETTER_RETRY,
            )
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
    key = parking.key_of(_record_of(letter))
    with transaction.atomic():
        parking.lock(letter.group, key)
        letter = DeadLetter.objects.select_for_update().get(id=letter_id)
        if letter.status != DeadLetter.Status.OPEN:
            return False
        if ParkedRecord.objects.filter(dead_letter=letter).delete()[0]:
            parking.schedule(letter.group, key)
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
    head = parking.queue(OuterRef("group"), OuterRef("key")).values("pk")[:1]
    due = (
        ParkedRecord.objects.filter(pk=Subquery(head), dead_letter=None)
        .filter(Q(next_attempt_at__lte=cutoff) | Q(next_attempt_at=None, parked_at__lte=cutoff))
        .values_list("group", "key")[:1000]
    )
    for group_name, key in due:
        parking.schedule(group_name, key)
    return len(due)


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
            parking.lock(group_name, key)
            parking.wake_head(group_name, key)
        woken += 1
    return woken


def _given_up(head: ParkedRecord, failure: HandlerFailed) -> bool:
    if failure.waiting and not failure.expires:
        return False  # a rebuild ends by itself, or its fence dies with its session
    if failure.waiting:
        waited = (timezone.now() - head.parked_at).total_seconds()
        return waited >= conf.get("PREREQUISITE_WAIT_SECONDS")
    return head.attempts >= conf.get("HANDLER_ATTEMPTS")
