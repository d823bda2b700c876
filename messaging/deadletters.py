"""Dead letters: records a consumer group leaves for a person, and their copies on Kafka.

A record becomes a dead letter when it cannot be read as one of our messages (at once: no
retry can fix it) or when its handler ran out of tries (messaging.retrying; it then keeps
its key's place, see messaging.parking). Each is copied to the group's
`<group>.dead-letters` topic with the original key, value and headers plus the headers
Spring Kafka's DeadLetterPublishingRecoverer writes (where the record was read, the group,
the exception, its message and trace), so a Kafka UI's re-drive or a Spring consumer reads
it as one of its own, and ours for the attempts and the reason (messaging.deadletter_headers
names them). Operators retry or skip them in the admin (messaging.retrying).
"""

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from . import deadletter_headers as dlt
from . import erasure, metrics
from .kafka import producer
from .metadata import Metadata
from .models import DeadLetter
from .personal import scrubbed
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
    text, key = as_text(record.value), as_text(record.key)
    message_type = metadata.type if metadata else ""
    if erasure.is_erased(key):
        # An old record of an erased order read again (a replay, a rewind): its person
        # stays erased here too.
        text, error, trace = erasure.redacted_letter(message_type, text, error, trace)
    logger.error(
        "%s dead-lettered %s[%d]@%d (%s): %s",
        group_name,
        record.topic,
        record.partition,
        record.offset,
        reason.label,
        scrubbed(error),
    )
    # Copied to the group's dead-letter topic once this commits. The task is named, not
    # imported: tasks are the entrypoints above this module.
    transaction.on_commit(lambda: current_app.send_task("messaging.publish_dead_letters"))
    # A type nobody knows is any string a producer wrote: not a label.
    known = reason not in (DeadLetter.Reason.MALFORMED, DeadLetter.Reason.UNKNOWN_TYPE)
    metrics.handled(group_name, message_type if known else "", "dead_lettered")
    failed = {"reason": reason, "error": error, "traceback": trace, "attempts": attempts}
    letter, created = DeadLetter.objects.get_or_create(
        group=group_name,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        record_timestamp=record.timestamp,
        defaults={
            "key": key,
            "headers": decode_headers(record.headers),
            "value": text,
            "message_id": metadata.message_id if metadata else None,
            "type": message_type,
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
    """The original record's own headers (its ce_* ones), then Spring's and ours.

    Dead-letter headers of an earlier round (a re-driven record that failed again) are
    dropped, not appended to as Spring does by default: the row keeps headers as text, so
    their binary numbers could not be written back as they were.
    """
    exception, message = _exception(letter)
    own = [(n, v.encode()) for n, v in letter.headers.items() if not dlt.is_dead_letter_header(n)]
    headers = [
        (dlt.ORIGINAL_TOPIC, letter.topic.encode()),
        (dlt.ORIGINAL_PARTITION, dlt.number(dlt.ORIGINAL_PARTITION, letter.partition)),
        (dlt.ORIGINAL_OFFSET, dlt.number(dlt.ORIGINAL_OFFSET, letter.offset)),
        (dlt.ORIGINAL_CONSUMER_GROUP, letter.group.encode()),
        (dlt.EXCEPTION_FQCN, exception.encode()),
        (dlt.EXCEPTION_MESSAGE, message.encode()),
    ]
    if letter.record_timestamp:  # 0: a row from before record timestamps were kept
        headers += [
            (dlt.ORIGINAL_TIMESTAMP, dlt.number(dlt.ORIGINAL_TIMESTAMP, letter.record_timestamp)),
            # The row keeps no timestamp type: our topics have the broker's default.
            (dlt.ORIGINAL_TIMESTAMP_TYPE, b"CreateTime"),
        ]
    if letter.traceback:
        headers.append((dlt.EXCEPTION_STACKTRACE, letter.traceback.encode()))
    headers += [(dlt.ATTEMPTS, str(letter.attempts).encode()), (dlt.REASON, letter.reason.encode())]
    return own + headers


def _exception(letter: DeadLetter) -> tuple[str, str]:
    """The exception's class and its message. A handler's error reads "Class: message" and
    the last line of its traceback names the class with its module (builtins go bare, as
    Python prints them). A bad record was refused, not failed: its reason stands in."""
    if letter.reason != DeadLetter.Reason.HANDLER_FAILED:
        return letter.reason, letter.error
    error_type, _, message = letter.error.partition(": ")
    for line in reversed(letter.traceback.splitlines()):
        name = line.partition(":")[0].strip()
        if name == error_type or name.endswith(f".{error_type}"):
            return name, message
    return error_type, message
