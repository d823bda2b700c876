"""The audit consumer group: records every record of every topic in the message log."""

from uuid import UUID

from messaging.wire import MalformedRecord, as_text, decode, decode_headers

from .models import MessageRecord

AUDIT_GROUP = "audit"


def record_batch(records: list) -> None:
    """Store a batch in one statement; rows already stored (a re-read) are skipped."""
    MessageRecord.objects.bulk_create(
        [_message_record(r) for r in records],
        ignore_conflicts=True,  # unique (topic, partition, offset): exactly once
    )


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
