"""Produce through the outbox: the only way an app sends a message.

`send` must run inside the transaction of the state change that caused the message;
the relay publishes it to Kafka after that transaction commits, never before. A message
that is the whole change (a request that writes nothing else) may be sent `alone`: its
one INSERT is a transaction by itself.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from . import beforecommit, metrics, tracing
from .contracts import Message
from .metadata import Cause, Metadata
from .models import OutboxMessage
from .rows import insert

NOTIFY_CHANNEL = "messaging_outbox"  # the relay LISTENs; the outbox table's trigger NOTIFYs


def send(
    message: Message,
    *,
    caused_by: Cause | None = None,
    correlation_id: UUID | None = None,
    alone: bool = False,
) -> Metadata:
    """Store `message` for publishing; it joins `caused_by`'s conversation or starts one.

    `alone`: the message is all the caller writes (the BUY's PlaceOrder), so it needs no
    transaction around it, and saves the BEGIN and COMMIT round trips of one.
    """
    _check_transaction(alone)
    row, metadata = _row(message, caused_by=caused_by, correlation_id=correlation_id)
    # In a batch of records handled together, the rows of the whole batch are written in
    # one INSERT at its end, in the order sent (messaging.beforecommit); else at once.
    beforecommit.together(_write, [row])
    return metadata


@contextmanager
def bulk() -> Iterator[Callable[..., Metadata]]:
    """`send` for many messages written in one INSERT when the block ends, in the order
    they were sent (the relay publishes by id): `with outbox.bulk() as send: send(...)`.
    Nothing is written if the block raises. Each message still gets the trace context it
    is sent in. Inside the block, send through it only: a plain `outbox.send` there would
    be written first, ahead of messages sent before it."""
    _check_transaction(alone=False)
    rows: list[OutboxMessage] = []

    def send_in_bulk(
        message: Message, *, caused_by: Cause | None = None, correlation_id: UUID | None = None
    ) -> Metadata:
        row, metadata = _row(message, caused_by=caused_by, correlation_id=correlation_id)
        rows.append(row)
        return metadata

    yield send_in_bulk
    _write(rows)


def _write(rows: list[OutboxMessage]) -> None:
    """The rows in one INSERT, in the order they were sent: the relay publishes by id.

    The INSERT fires a trigger that NOTIFYs NOTIFY_CHANNEL (migration 0008): delivered once
    per transaction when it commits, it wakes the relay at once instead of at its next
    poll, without a round trip of its own.
    """
    insert(OutboxMessage, rows)
    for row in rows:
        metrics.written(row.type)


def _check_transaction(alone: bool) -> None:
    if not (alone or connection.in_atomic_block):
        raise transaction.TransactionManagementError(
            "outbox.send() belongs inside the transaction of the change that caused it"
        )


def _row(
    message: Message, *, caused_by: Cause | None, correlation_id: UUID | None
) -> tuple[OutboxMessage, Metadata]:
    metadata = Metadata.for_message(message, caused_by=caused_by, correlation_id=correlation_id)
    metadata = tracing.created(metadata, message.topic)
    row = OutboxMessage(
        message_id=metadata.message_id,
        topic=message.topic,
        key=metadata.key,
        type=metadata.type,
        source=metadata.source,
        kind=metadata.kind,
        correlation_id=metadata.correlation_id,
        causation_id=metadata.causation_id,
        time=metadata.time,
        payload=message.model_dump(mode="json"),
        version=metadata.version,
        traceparent=metadata.traceparent,
        tracestate=metadata.tracestate,
    )
    return row, metadata


def publish_again(rows: list[OutboxMessage]) -> int:
    """Refused rows back in the relay's queue, in their original place (an operator's fix)."""
    return (
        OutboxMessage.objects.filter(id__in=[r.id for r in rows])
        .refused()
        .update(refused_at=None, refusal="")
    )


def skip(rows: list[OutboxMessage], *, by: str) -> int:
    """Refused rows never to be published; the later messages of their keys go on."""
    return (
        OutboxMessage.objects.filter(id__in=[r.id for r in rows])
        .refused()
        .update(skipped_at=timezone.now(), skipped_by=by)
    )
