"""Erasing a person from the runtime's own tables: the outbox, dead letters, parked
records and failed attempts keep copies of the messages they saw.

An event whose contract says `erases_personal_data` announces that every message with its
key (an order id) lost its person. Whoever sees that event on behalf of the platform (the
message log's audit group, which reads every topic) calls `erase_key`: the key is
remembered, and every copy of its messages held here is redacted in place, each personal
field replaced by its erased value (messaging.personal), so a redacted record still
validates, can still be retried and published again. A copy written later, from an old
record read again (a replay, a rewind), is redacted as it is written (a dead letter in
messaging.deadletters, a parked record in messaging.parking).
"""

import json
from collections.abc import Iterable
from uuid import UUID

from django.db import transaction

from .contracts import ERASED
from .models import DeadLetter, ErasedKey, HandlingFailure, OutboxMessage, ParkedRecord
from .personal import redacted, redacted_text, scrubbed


def is_erased(key: str) -> bool:
    return bool(key) and ErasedKey.objects.filter(key=key).exists()


@transaction.atomic
def erase_key(key: str, *, correlation_ids: Iterable[UUID]) -> None:
    """Remember `key` as erased and redact every copy of its messages held here.

    `correlation_ids` are the conversations its messages belong to: every table here is
    looked up by them (indexed), then by the key.
    """
    ErasedKey.objects.get_or_create(key=key)
    conversations = set(correlation_ids)
    for row in OutboxMessage.objects.select_for_update().filter(
        correlation_id__in=conversations, key=key
    ):
        payload = redacted(row.type, row.payload)
        if payload != row.payload:
            row.payload = payload
            row.save(update_fields=["payload"])
    for letter in DeadLetter.objects.select_for_update().filter(
        correlation_id__in=conversations, key=key
    ):
        letter.value, letter.error, letter.traceback = redacted_letter(
            letter.type, letter.value, letter.error, letter.traceback
        )
        letter.save(update_fields=["value", "error", "traceback"])
    for parked in ParkedRecord.objects.select_for_update().filter(key=key):
        parked.raw_value = redacted_value(parked.type, parked.raw_value)
        parked.last_error = scrubbed(parked.last_error, ERASED)
        parked.save(update_fields=["raw_value", "last_error"])
    # A failed attempt keeps no key, only its conversation; scrubbing the errors of the
    # whole conversation removes only what quotes a person.
    for failure in HandlingFailure.objects.select_for_update().filter(
        correlation_id__in=conversations
    ):
        error, trace = scrubbed(failure.error, ERASED), scrubbed(failure.traceback, ERASED)
        if (error, trace) != (failure.error, failure.traceback):
            failure.error, failure.traceback = error, trace
            failure.save(update_fields=["error", "traceback"])


def redacted_letter(type_name: str, value: str, error: str, trace: str) -> tuple[str, str, str]:
    """A dead letter's value, error and traceback without its person."""
    return redacted_text(type_name, value), scrubbed(error, ERASED), scrubbed(trace, ERASED)


def redacted_value(type_name: str, value: bytes | memoryview | None) -> bytes | None:
    """A record's raw value (JSON bytes) without its person; unreadable bytes are erased."""
    if value is None:
        return None
    try:
        payload = json.loads(bytes(value))
    except ValueError:
        return ERASED.encode()
    return json.dumps(redacted(type_name, payload), ensure_ascii=False).encode()
