"""The audit consumer group: records every record of every topic in the message log."""

from uuid import UUID

from django.db import connection, transaction

from messaging.models import ErasedKey
from messaging.rows import document, recordset
from messaging.wire import MalformedRecord, as_text, decode, decode_headers

from . import erasure
from .models import MessageRecord

AUDIT_GROUP = "audit"

# What a batch writes of each row, with its type (recorded_at is the database's clock).
_COLUMNS = {
    "topic": "varchar",
    "partition": "integer",
    "offset": "bigint",
    "record_timestamp": "bigint",
    "key": "varchar",
    "message_id": "uuid",
    "type": "varchar",
    "source": "varchar",
    "kind": "varchar",
    "correlation_id": "uuid",
    "causation_id": "uuid",
    "time": "timestamptz",
    "headers": "jsonb",
    "payload": "jsonb",
    "raw_value": "text",
}


@transaction.atomic
def record_batch(records: list) -> None:
    """Store a batch; rows already stored (a re-read) are skipped.

    A record of an erased key is stored without its person; an erasure event erases its
    key everywhere the platform keeps copies (messagelog.erasure).
    """
    rows = [_message_record(r) for r in records]
    erased = _store(rows, unless_erased=True)
    if erased:  # rare: a topic read again after its keys were erased
        held = [row for row in rows if row.key in erased]
        erasure.redact_rows(held)
        _store(held, unless_erased=False)
    erasure.erase_announced(rows)


def _store(rows: list[MessageRecord], *, unless_erased: bool) -> set[str]:
    """Insert the rows, unique by their coordinates, in one statement; with
    `unless_erased`, all but those of an erased key, whose keys it returns: the erased-key
    lookup rides on the INSERT, and no person of an erased key is written, even for a
    moment, to be redacted after."""
    quote = connection.ops.quote_name
    columns = ", ".join(map(quote, _COLUMNS))
    given = [{c: getattr(row, c) for c in _COLUMNS} for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH given AS (SELECT * FROM {recordset('given', _COLUMNS)}), "
            f"erased AS (SELECT key FROM {quote(ErasedKey._meta.db_table)} "
            "WHERE %s AND key IN (SELECT key FROM given)), "
            f"stored AS (INSERT INTO {quote(MessageRecord._meta.db_table)} "
            f"({columns}, recorded_at) SELECT {columns}, now() FROM given "
            "WHERE NOT EXISTS (SELECT FROM erased WHERE erased.key = given.key) "
            "ON CONFLICT DO NOTHING) "
            "SELECT key FROM erased",
            [document(given), unless_erased],
        )
        return {key for (key,) in cursor.fetchall()}


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
