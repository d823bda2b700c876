"""Erasure in the message log: the audit group reads every topic, so it is the platform's
witness of an erasure event (a contract with `erases_personal_data`, e.g. the shop's
CustomerErased). On one, every record of its key in the log is redacted, and so are the
runtime's own copies (messaging.erasure). A record of an erased key that arrives later (a
topic read again after a broker restart or a rewind) is stored redacted.
"""

from django.db import transaction

from messaging import erasure
from messaging.contracts import ERASED, UnknownMessageType, message_class
from messaging.personal import redacted

from .models import MessageRecord


def redact_rows(rows: list[MessageRecord]) -> None:
    """Redact rows of an erased key before they are stored."""
    for row in rows:
        _redact(row)


def erase_announced(rows: list[MessageRecord]) -> None:
    """Erase the key of every erasure event among the rows."""
    for row in rows:
        if announces_erasure(row):
            erase(row.key, also_in=row.correlation_id)


def announces_erasure(row: MessageRecord) -> bool:
    """Whether the row is an erasure event where its owner publishes it: `ce_type` alone is
    a claim any producer can make, and one that erases must be believed only from there."""
    try:
        contract = message_class(row.type)
    except UnknownMessageType:
        return False
    return (
        contract.erases_personal_data
        and bool(row.key)
        and (row.topic, row.source, row.kind) == (contract.topic, contract.source, contract.kind)
    )


@transaction.atomic
def erase(key: str, *, also_in=None) -> None:
    """Redact every record of `key` in the log, then the runtime's copies of its messages."""
    records = list(MessageRecord.objects.select_for_update().filter(key=key))
    for record in records:
        if _redact(record):
            record.save(update_fields=["payload", "raw_value"])
    conversations = {r.correlation_id for r in records if r.correlation_id} | (
        {also_in} if also_in else set()
    )
    erasure.erase_key(key, correlation_ids=conversations)


def _redact(row: MessageRecord) -> bool:
    """Redact the row in place; whether anything changed."""
    payload = redacted(row.type, row.payload) if row.payload is not None else None
    raw_value = ERASED if row.raw_value else ""
    changed = (payload, raw_value) != (row.payload, row.raw_value)
    row.payload, row.raw_value = payload, raw_value
    return changed
