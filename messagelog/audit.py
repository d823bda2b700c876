"""The audit consumer group: records every record of every topic in the message log."""

from uuid import UUID

from django.db import transaction

from messaging.wire import MalformedRecord, as_text, decode, decode_headers

from . import erasure
from .models import MessageRecord

AUDIT_GROUP = "audit"


@transaction.atomic
def record_batch(records: list) -> None:
    """Store a batch in one statement; rows already stored (a re-read) are skipped.

    A record of an erased key is stored without its person; an erasure event erases its
    key everywhere the platform keeps copies (messagelog.erasure).
    """
    rows = [_message_record(r) for r in records]
    erasure.redact_erased(rows)
    MessageRecord.objects.bulk_create(
        rows,
        ignore_conflicts=True,  # unique (topic, partition, offset): exactly once
    )
    erasure.erase_announced(rows)


def _message_record(record) -> MessageRecord:
    row = MessageRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        record_timestamp=record.timestamp,
        key=as_text(record.key),
        headers=decode_headers(record.headers),
    )
    try:
        metadata, data = decode(record.key, record.value, record.headers)
    except MalformedRecord:
        row.raw_value = as_text(record.value)
        return row
    row.message_id = metadata.message_id
    row.type = metadata.type
    row.source = metadata.source
    row.kind = metadata.kind
    row.correlation_id = metadata.correlation_id
    row.causation_id = metadata.causation_id
    row.time = metadata.time
    row.payload = data
    return row


def recorded(message_ids: list[UUID]) -> set[UUID]:
    """Which of these messages the log holds."""
    return set(
        MessageRecord.objects.filter(message_id__in=message_ids).values_list(
            "message_id", flat=True
        )
    )
