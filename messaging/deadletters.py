"""Dead letters: records a consumer group leaves for a person, and their copies on Kafka.

A record becomes a dead letter when it cannot be read as one of our messages (at once: no
retry can fix it) or when its handler ran out of tries (messaging.retrying; it then keeps
its key's place, see messaging.parking). Each is copied to the group's
`<group>.dead-letters` topic with the original key, value and headers plus `dlq_*`
headers naming the group, the exception, its message, the attempts and where the record
was read, so any Kafka tool can inspect or re-drive it. Operators retry or skip them in
the admin (messaging.retrying).
"""

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from .kafka import producer
from .metadata import Metadata
from .models import DeadLetter
from .topics import dead_letter_topic
from .wire import RawRecord, as_text, decode_headers

logger = logging.getLogger(__name__)

# Dead letters written to their topics per run of the task; the rest go on the next run.
PUBLISH_BATCH = 500


def dead_letter(
    group_name: str,
    record: RawRecord,
    reason: DeadLetter.Reason,
    error: str,
    metadata: Metadata | None = None,
    *,
    attempts: int = 1,
    trace: str = "",
) -> DeadLetter:
    """Make the record a dead letter of the group (once; a resolved one is opened again)."""
    logger.error(
        "%s dead-lettered %s[%d]@%d (%s): %s",
        group_name,
        record.topic,
        record.partition,
        record.offset,
        reason.label,
        error,
    )
    # Copied to the group's dead-letter topic once this commits. The task is named, not
    # imported: tasks are the entrypoints above this module.
    transaction.on_commit(lambda: current_app.send_task("messaging.publish_dead_letters"))
    failed = {"reason": reason, "error": error, "traceback": trace, "attempts": attempts}
    letter, created = DeadLetter.objects.get_or_create(
        group=group_name,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        record_timestamp=record.timestamp,
        defaults={
            "key": as_text(record.key),
            "headers": decode_headers(record.headers),
            "value": as_text(record.value),
            "message_id": metadata.message_id if metadata else None,
            "type": metadata.type if metadata else "",
            "correlation_id": metadata.correlation_id if metadata else None,
            **failed,
        },
    )
    if not created and letter.status != DeadLetter.Status.OPEN:
        # Retried or skipped once, and failing again (read again after a rewind, say): it
        # needs a person again, not the old resolution.
        for name, value in failed.items():
            setattr(letter, name, value)
        letter.status, letter.resolved_by, letter.resolved_at = DeadLetter.Status.OPEN, "", None
        letter.save()
    return letter


def publish_pending() -> int:
    """Write the dead letters not yet on their topic (up to PUBLISH_BATCH); returns how many."""
    letters = list(DeadLetter.objects.filter(published_at=None).order_by("id")[:PUBLISH_BATCH])
    if not letters:
        return 0
    kafka = producer(client_id="shop-dead-letters")
    try:
        futures = [
            kafka.send(
                dead_letter_topic(d.group),
                key=d.key.encode() or None,
                value=d.value.encode(),
                headers=_headers(d),
            )
            for d in letters
        ]
        kafka.flush()
        for future in futures:
            future.get()
    finally:
        kafka.close(timeout=5)
    DeadLetter.objects.filter(id__in=[d.id for d in letters]).update(published_at=timezone.now())
    return len(letters)


def _headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    error_type, _, message = letter.error.partition(": ")
    original = [(name, value.encode()) for name, value in letter.headers.items()]
    return original + [
        (name, str(value).encode())
        for name, value in (
            ("dlq_group", letter.group),
            ("dlq_reason", letter.reason),
            ("dlq_exception", error_type if message else letter.reason),
            ("dlq_message", message or letter.error),
            ("dlq_attempts", letter.attempts),
            ("dlq_original_topic", letter.topic),
            ("dlq_original_partition", letter.partition),
            ("dlq_original_offset", letter.offset),
        )
    ]
