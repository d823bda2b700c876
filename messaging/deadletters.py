"""Dead letters: copied to each group's dead-letter topic, retried or skipped by operators.

The copy on `<group>.dead-letters` keeps the original key, value and headers and adds
`dlq_*` headers naming the group, the exception, its message, the attempts and where the
record was read, so any Kafka tool can inspect or re-drive it.
"""

import logging

from django.utils import timezone

from . import parking
from .handling import Outcome
from .kafka import producer
from .models import DeadLetter

logger = logging.getLogger(__name__)

TOPIC_SUFFIX = ".dead-letters"


def topic_for(group_name: str) -> str:
    return f"{group_name}{TOPIC_SUFFIX}"


def publish_pending(limit: int = 500) -> int:
    """Write every dead letter not yet on its topic; returns how many."""
    letters = list(DeadLetter.objects.filter(published_at=None).order_by("id")[:limit])
    if not letters:
        return 0
    kafka = producer(client_id="shop-dead-letters")
    try:
        futures = [
            kafka.send(
                topic_for(d.group),
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


def redeliver(letter_id: int, *, by: str) -> Outcome | str:
    """Hand a dead letter to its group again, in its place in its key's queue, then let the
    records that queued behind it follow (messaging.parking). Returns the outcome, or why
    it took no effect."""
    return parking.redeliver_dead_letter(letter_id, by=by)


def skip(letter_id: int, *, by: str, reason: str) -> bool:
    """Give up on a dead letter for good; the records of its key that queued behind it follow."""
    return parking.skip_dead_letter(letter_id, by=by, reason=reason)
