"""Handling records in each key's order: the path of every record a consumer group reads.

A record is handled at once (messaging.inbox: once, in one transaction with the group's
inbox row) unless the group holds back records of its key (messaging.parking): then it
goes ahead of them only if it was written before all of them, and otherwise queues
behind them. A record whose handler fails is parked, and its key's later records queue
behind it until it is handled, or becomes a dead letter that an operator retries or
skips (messaging.retrying). Other keys go on at full speed. The consumer (and a replay)
hands each batch here; the offsets it then commits are safe, because what was parked is
in the database.

Records that cannot be read as one of our messages at all (not a CloudEvent, an unknown
type, breaking their contract, on the wrong topic) are dead-lettered at once by the inbox,
without holding their key: their key cannot be trusted, so any record could otherwise
stall any order. Handlers stay correct if such a record is retried late: a compensation
met before its cause is recorded, and the late cause is compensated on arrival.

Decided against: pausing the whole partition (one bad order would hold up every order
that shares its partition) and handling later records anyway (a cancellation could then
be handled before the placement it cancels, and be lost when the placement is retried).
And a savepoint for every record of every batch: with its release and the record's own
inbox INSERT, three round trips per record and group that a failure, which is rare, would
need. A batch pays for them only when one of its records fails (`in_batch`).
"""

import logging
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from typing import TypeVar

from django.db import DatabaseError, connection, transaction

from . import beforecommit, metrics, oncommit, parking, tracing
from .inbox import HandlerFailed, Seen, Undone, handle_record
from .metadata import Metadata
from .registry import ConsumerGroup
from .tracing import Mode
from .wire import RawRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")


def handle_batch(group: ConsumerGroup, records: list[RawRecord]) -> list[str]:
    """Handle a batch (a poll's records), in order, in one transaction; returns each outcome.

    See `in_batch`: the consumer commits the offsets after this returns, so a crash before
    the commit reads the whole batch again and nothing was kept of it.
    """
    return in_batch(
        group.name, records, lambda record, parked, seen: handle(group, record, parked, seen=seen)
    )


def in_batch(
    group_name: str,
    records: list[RawRecord],
    each: Callable[[RawRecord, set[str], Seen], T],
    *,
    before_commit: Callable[[], None] = lambda: None,
) -> list[T]:
    """`each(record, parked, seen)` for every record of a batch, in order, in one
    transaction, with `before_commit()` last in it (a replay's checkpoint); returns what
    each call returned.

    One commit per batch instead of one per record is what makes a busy group cheap. The
    batch is first handled optimistically: no savepoint per record, and the group's inbox
    rows written together at the end, in one INSERT. If any record fails (or another
    member handled one of them meanwhile), that whole try is undone and the batch is
    handled again, each record in a savepoint of its own (the inbox's own `atomic` block
    nests as one): a record whose handler fails then rolls back alone and is parked, as it
    would be in a transaction of its own, while its neighbours' effects commit with the
    batch. What the handlings write through `beforecommit.together` is written once for an
    optimistic batch, and what they start after the commit through `oncommit.together`
    starts once for the batch; nothing of a try that was not kept is counted or started, and its
    handling spans end marked `undone`.
    """
    try:
        return _try(group_name, records, each, before_commit, optimistic=True)
    # A database error that no handler raised (a statement after a handler that caught one
    # and went on, a deadlock on the inbox INSERT, a timeout) is worth the careful try too:
    # there, whatever comes of it happens to one record, in its savepoint.
    except (Undone, DatabaseError, beforecommit.WriteFailed) as exc:
        logger.info(
            "%s: a batch of %d handled again record by record: %s", group_name, len(records), exc
        )
        return _try(group_name, records, each, before_commit, optimistic=False)


def _try(group_name, records, each, before_commit, *, optimistic: bool) -> list:
    seen = None
    # Whether the try was kept: its commit ran the first callback it registered, or the
    # caller's transaction holds it (a batch handled inside one is the caller's to keep).
    kept = {"yes": False}
    within = connection.in_atomic_block
    try:
        with transaction.atomic(), oncommit.gathering():
            transaction.on_commit(partial(kept.update, yes=True))
            keys = {parking.key_of(r) for r in records}
            seen = Seen(group_name, records, keys=keys, optimistic=optimistic)
            parked = seen.parked
            with beforecommit.gathering() if optimistic else nullcontext():
                results = [each(record, parked, seen) for record in records]
            seen.write()
            before_commit()
        kept["yes"] = kept["yes"] or within
    finally:
        if seen is not None:
            tracing.end(seen.spans, undone=not kept["yes"])
    return results


def handle(
    group: ConsumerGroup,
    record: RawRecord,
    parked: set[str],
    *,
    mode: Mode = Mode.LIVE,
    seen: Seen | None = None,
    decoded: tuple[Metadata, dict] | None = None,
) -> str:
    """Handle one record now, or queue it behind its key's parked records.

    `parked` is the batch's set of parked keys, kept up to date as records are parked;
    `mode` says whether the consumer read it or a replay did (messaging.tracing); `seen`
    is the batch's view of the inbox (messaging.inbox.Seen); `decoded`, the record as
    messaging.wire.decode reads it, when the caller has read it already.
    """
    key = parking.key_of(record)
    if key not in parked:
        return _handle_or_park(group, key, record, parked, mode, seen, decoded)
    with transaction.atomic():
        parking.lock(group.name, key)
        metadata = parking.metadata_of(record)
        written_at = parking.written_at_of(record, metadata)
        if parking.ahead_of(group.name, key, record, written_at).exists():
            parking.store(group.name, key, record, metadata, written_at)
            _count_parked(group, record, metadata)
            return parking.PARKED
        # Nothing parked must go first (the queue drained meanwhile, or all of it was
        # written later on other partitions): handle it now, still holding the key's lock,
        # so that a retry of a later message cannot slip in before it.
        outcome = _handle_or_park(group, key, record, parked, mode, seen, decoded)
        if outcome != parking.PARKED:
            parking.wake_head(group.name, key)  # it may be what the head waits for
        return outcome


def _handle_or_park(
    group, key: str, record: RawRecord, parked: set[str], mode: Mode, seen: Seen | None, decoded
) -> str:
    try:
        return handle_record(group, record, mode=mode, seen=seen, decoded=decoded)
    except HandlerFailed as failure:
        parking.park_failed(group.name, key, record, failure)
        parked.add(key)
        _count_parked(group, record)
        return parking.PARKED


def _count_parked(group: ConsumerGroup, record: RawRecord, metadata=None) -> None:
    metadata = metadata or parking.metadata_of(record)
    metrics.handled(group.name, metadata.type if metadata else "", parking.PARKED)
