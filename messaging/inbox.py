"""The inbox: one Kafka record handled once by one consumer group.

Decode, check that it belongs where it was read and obeys its contract (upcast to the
current version first, when it was written as an older one), then run the
group's handlers in one transaction with the group's inbox row for the message and the
outbox rows the handlers emit: effects and outgoing messages commit together, or not at
all, and a redelivered record finds its inbox row and has no second effect. A record that
cannot be read as one of our messages is dead-lettered (messaging.deadletters); a handler
that raises is HandlerFailed, for the caller to park (messaging.handling) and retry
(messaging.retrying).
"""

import json
import logging
import time
import traceback
from enum import StrEnum
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from psycopg import pq
from pydantic import ValidationError

from . import metrics, rows, tracing
from .contracts import Message, UnknownMessageType, UnknownVersion, message_class, upcast
from .deadletters import dead_letter
from .failures import record_failure
from .logcontext import message_context
from .metadata import Metadata
from .models import DeadLetter, InboxEntry, ParkedRecord
from .personal import scrubbed
from .registry import FENCE_KEY, ConsumerGroup, fences_for, fences_of
from .tracing import Mode
from .wire import MalformedRecord, RawRecord, decode

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a message this group does not follow
    DEAD_LETTERED = "dead_lettered"


class Seen:
    """What a batch knows before its records are handled, read in one query for all of
    them: which of its keys have records parked for the group (`parked`), which messages
    the group's inbox already holds, and which of the group's projection fences (see
    `_pass_fences`) its transaction holds.

    A message the batch did not ask about (or every message, for a record handled alone)
    is looked up on its own. Messages handled meanwhile are added, so a record that comes
    twice in one batch is a duplicate the second time without running its handlers.
    Fences are taken in the batch's own transaction, outside every record's savepoint, so
    a record rolled back does not release them; one a rebuild holds is not taken, and each
    record that needs it finds that out itself.

    An optimistic batch (messaging.handling) also keeps the inbox rows of what it handled,
    to `write` together at its end, and its handling spans, which end once the batch is
    known to commit or to be undone (messaging.tracing).
    """

    def __init__(
        self,
        group_name: str,
        records: list[RawRecord] = (),
        *,
        keys: set[str] = frozenset(),
        optimistic: bool = False,
    ) -> None:
        self.group_name = group_name
        self.optimistic = optimistic
        self.entries: dict[UUID, InboxEntry] = {}
        self.spans: list = []
        self.asked = {i for i in map(_message_id, records) if i is not None}
        fences = fences_of(group_name) if records else []
        self.parked, self.found, self.fences = _look_up(group_name, keys, self.asked, fences)

    def holds(self, message_id: UUID) -> bool:
        if message_id in self.asked:
            return message_id in self.found
        return InboxEntry.objects.filter(group=self.group_name, message_id=message_id).exists()

    def add(self, message_id: UUID) -> None:
        self.asked.add(message_id)
        self.found.add(message_id)

    def later(self, entry: InboxEntry) -> None:
        """An optimistic batch's inbox row, written with the others by `write`."""
        self.add(entry.message_id)
        self.entries[entry.message_id] = entry

    def write(self) -> None:
        """The inbox rows kept by `later`, in one INSERT. A row another member wrote
        meanwhile (the same record redelivered during a rebalance) undoes the batch: handled
        again record by record, that record is then a duplicate and has no effect."""
        if not self.entries:
            return
        try:
            rows.insert(InboxEntry, list(self.entries.values()))
        except IntegrityError as exc:
            raise Undone("a message of the batch was handled meanwhile") from exc


class Undone(Exception):
    """An optimistic batch failed somewhere: the whole try is rolled back and the batch is
    handled again, each record in a savepoint of its own (messaging.handling)."""


def _message_id(record: RawRecord) -> UUID | None:
    for name, value in record.headers:
        if name == "ce_id":
            try:
                return UUID(value.decode())
            except (ValueError, UnicodeDecodeError, AttributeError):
                return None  # the decoder will say what is wrong with it
    return None


def handle_record(
    group: ConsumerGroup,
    record: RawRecord,
    *,
    attempt: int = 1,
    mode: Mode = Mode.LIVE,
    seen: Seen | None = None,
    decoded: tuple[Metadata, dict] | None = None,
) -> Outcome:
    """Handle one record once. Raises HandlerFailed when the handler raises.

    The handling is a span of the trace the record carries, marked with `mode`
    (messaging.tracing). A message the group does not follow is not handled: no span.
    `seen` is the batch's view of the inbox (a record handled alone looks itself up);
    `decoded`, what `decode` made of the record, if the caller has read it already.
    """
    seen = seen if seen is not None else Seen(group.name)
    start = time.time_ns()
    try:
        metadata, data = decoded or decode(record.key, record.value, record.headers)
    except MalformedRecord as exc:
        metadata, data, unreadable = None, {}, str(exc)
    else:
        unreadable = ""
    if metadata is not None and _not_followed(group, metadata.type):
        return Outcome.IGNORED
    type_name = metadata.type if metadata is not None else ""
    deferred = seen.spans if seen.optimistic else None
    with tracing.processing(
        group.name, record, mode=mode, attempt=attempt, start=start, deferred=deferred
    ) as span:
        try:
            outcome = _handle(group, record, metadata, data, unreadable, attempt, span, seen)
        except HandlerFailed as failure:
            tracing.outcome(span, "waiting" if failure.waiting else "failed")
            metrics.handled(group.name, type_name, "failed", (time.time_ns() - start) / 1e9)
            raise
        tracing.outcome(span, outcome)
        if outcome != Outcome.DEAD_LETTERED:  # counted by messaging.deadletters
            metrics.handled(group.name, type_name, outcome, (time.time_ns() - start) / 1e9)
        return outcome


def _not_followed(group: ConsumerGroup, type_name: str) -> bool:
    """A message of a known type that the group has no handler for."""
    if group.handlers_for(type_name):
        return False
    try:
        message_class(type_name)
    except UnknownMessageType:
        return False  # a dead letter for every group: nobody can read it
    return True


def _handle(
    group, record, metadata, data, unreadable: str, attempt: int, span, seen: Seen
) -> Outcome:
    if metadata is None:
        return _dead_letter(span, group, record, DeadLetter.Reason.MALFORMED, unreadable)
    tracing.describe(span, metadata)
    try:
        contract = message_class(metadata.type)
    except UnknownMessageType as exc:
        reason = DeadLetter.Reason.UNKNOWN_TYPE
        return _dead_letter(span, group, record, reason, str(exc), metadata)
    misplaced = _misplaced(contract, record.topic, metadata)
    if misplaced:
        return _dead_letter(span, group, record, DeadLetter.Reason.INVALID, misplaced, metadata)
    try:
        # Handlers see only the current version: an older record is upcast first.
        message = contract.model_validate(upcast(contract, metadata.version, data))
    except (UnknownVersion, ValidationError) as exc:
        return _dead_letter(span, group, record, DeadLetter.Reason.INVALID, str(exc), metadata)

    with message_context(metadata, group.name):
        return _attempt(group, metadata, message, group.handlers_for(metadata.type), attempt, seen)


def _dead_letter(span, group, record, reason, error: str, metadata=None) -> Outcome:
    dead_letter(group.name, record, reason, error, metadata)
    # The reason, not the error: a contract's complaint quotes the input, and traces leave
    # the database that erasure reaches.
    tracing.outcome(span, Outcome.DEAD_LETTERED, error=reason.label)
    return Outcome.DEAD_LETTERED


def _misplaced(contract: type[Message], topic: str, metadata) -> str:
    """Why a record does not belong where it was read, or "" when it does.

    `ce_type` alone is a claim any producer can make: a command written to an event topic
    must not be handled as a command, nor a type its owner never publishes there.
    """
    name = contract.type_name()
    if topic != contract.topic:
        return f"{name} belongs on the topic {contract.topic}, not on {topic}"
    if metadata.kind != contract.kind:
        return f"{name} is {_a(contract.kind)}, but the record calls itself {_a(metadata.kind)}"
    if metadata.source != contract.source:
        return f"{name} is published by {contract.source}, but the record names {metadata.source}"
    return ""


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


class NotYet(Exception):
    """A handler's message needs another message of the same key that the group has not
    handled yet, one from another topic (Kafka orders records only within a partition).

    Raise it instead of failing on the missing row: the record is parked like any failure,
    but waiting for a message that is on its way is not a fault, so it is retried until
    `PREREQUISITE_WAIT_SECONDS` have passed rather than `HANDLER_ATTEMPTS` times, and the
    message it waits for may go ahead of it (messaging.parking).
    """

    expires = True  # given up on after PREREQUISITE_WAIT_SECONDS


class RebuildInProgress(NotYet):
    """The message feeds a projection that a replay is rebuilding (messaging.replay): it
    waits for the rebuild, however long that takes, and is handled after it."""

    expires = False


class _Fenced(RebuildInProgress):
    """RebuildInProgress found before any handler ran: nothing of the record was written,
    so even an optimistic batch parks it alone rather than handle every record again."""


def _pass_fences(group_name: str, message_type: str, held: set[str]) -> None:
    """Take the fences of the projections the message feeds, shared, for this transaction;
    a rebuild holds one exclusively while it runs. `held`: those the batch holds already."""
    for fence in fences_for(group_name, message_type):
        if fence not in held and not _try_fence(fence):
            raise _Fenced(f"waits for the rebuild of {fence.split(':', 1)[1]}")


def _look_up(group_name: str, keys, message_ids, fences) -> tuple[set, set, set]:
    """The keys of `keys` with parked records, the messages of `message_ids` in the inbox,
    and the fences taken: three questions of every batch in one round trip. Lists travel
    as JSON (messaging.rows says why)."""
    if not (keys or message_ids or fences):
        return set(), set(), set()
    quote = connection.ops.quote_name
    elements = "ARRAY(SELECT jsonb_array_elements_text(%s::jsonb))"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1, key FROM {quote(ParkedRecord._meta.db_table)} "
            f'WHERE "group" = %s AND key = ANY({elements}) '
            f"UNION ALL SELECT 2, message_id::text FROM {quote(InboxEntry._meta.db_table)} "
            f'WHERE "group" = %s AND message_id = ANY({elements}::uuid[]) '
            "UNION ALL SELECT 3, fence FROM jsonb_array_elements_text(%s::jsonb) AS fence "
            f"WHERE pg_try_advisory_xact_lock_shared({FENCE_KEY % 'fence'})",
            [
                group_name,
                json.dumps(sorted(keys)),
                group_name,
                json.dumps(sorted(map(str, message_ids))),
                json.dumps(fences),
            ],
        )
        answers = cursor.fetchall()
    return (
        {value for which, value in answers if which == 1},
        {UUID(value) for which, value in answers if which == 2},
        {value for which, value in answers if which == 3},
    )


def _try_fence(fence: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_xact_lock_shared({FENCE_KEY})", [fence])
        return cursor.fetchone()[0]


class HandlerFailed(Exception):
    """A handler raised; nothing it did was kept. The caller parks the record for a retry."""

    def __init__(self, error: str, trace: str, *, waiting: bool = False, expires=True) -> None:
        super().__init__(error)
        self.error = error
        self.trace = trace
        self.waiting = waiting  # the handler raised NotYet
        self.expires = expires  # a wait that ends in a dead letter after a while


def _attempt(group, metadata, message, handlers, attempt: int, seen: Seen) -> Outcome:
    started_at = timezone.now()
    try:
        return _handle_once(group, metadata, message, handlers, seen)
    # Any exception from a handler is a failed attempt: recorded, then parked and retried
    # later (messaging.handling, messaging.retrying), so one broken message never stops
    # the group. In an optimistic batch nothing is recorded yet: the batch is undone and
    # handled again, this record in a savepoint of its own, where it fails for the record.
    except Exception as exc:
        if seen.optimistic and not isinstance(exc, _Fenced):
            raise Undone(f"{type(exc).__name__}: {exc}") from exc
        error, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
        if not isinstance(exc, NotYet):
            tracing.failed(exc)
        record_failure(
            group.name, metadata, attempt=attempt, started_at=started_at, error=error, trace=trace
        )
        logger.log(
            logging.INFO if isinstance(exc, NotYet) else logging.WARNING,
            "%s failed to handle %s %s (attempt %d): %s",
            group.name,
            metadata.type,
            metadata.message_id,
            attempt,
            scrubbed(error),
        )
        raise HandlerFailed(
            error,
            trace,
            waiting=isinstance(exc, NotYet),
            expires=getattr(exc, "expires", True),
        ) from exc


def _handle_once(group, metadata, message, handlers, seen: Seen) -> Outcome:
    started_at = timezone.now()
    if seen.holds(metadata.message_id):
        return _duplicate(group, metadata, seen)
    if seen.optimistic:
        _run_handlers(group, metadata, message, handlers, seen)
        seen.later(_entry(group, metadata, started_at))
        return Outcome.HANDLED
    try:
        with transaction.atomic():
            _run_handlers(group, metadata, message, handlers, seen)
            # Written last, with the handling time, in one statement. A redelivery handled
            # at the same moment by another member (during a rebalance) waits on the
            # unique index here, then fails on it, and its handlers' effects roll back.
            _entry(group, metadata, started_at).save(force_insert=True)
    except IntegrityError:
        if not InboxEntry.objects.filter(group=group.name, message_id=metadata.message_id).exists():
            raise
        return _duplicate(group, metadata)
    seen.add(metadata.message_id)
    return Outcome.HANDLED


def _run_handlers(group, metadata, message, handlers, seen: Seen) -> None:
    _pass_fences(group.name, metadata.type, seen.fences)
    for handler in handlers:
        handler(message, metadata)
    if connection.needs_rollback or _aborted():
        # A handler caught a database error and went on. Its transaction can only roll
        # back now, and Django would do it silently when the block ends: the record would
        # count as handled with none of its effects kept.
        raise TransactionManagementError(
            "a handler went on after a database error; what it did cannot be committed"
        )


def _aborted() -> bool:
    """PostgreSQL refuses every statement of this transaction until it rolls back (an error
    Django did not see, from a cursor's statement). Read from the connection, no round trip."""
    return connection.connection.info.transaction_status == pq.TransactionStatus.INERROR


def _entry(group, metadata, started_at) -> InboxEntry:
    return InboxEntry(
        group=group.name,
        message_id=metadata.message_id,
        type=metadata.type,
        correlation_id=metadata.correlation_id,
        started_at=started_at,
        handled_at=timezone.now(),
    )


def _duplicate(group, metadata, seen: Seen | None = None) -> Outcome:
    unwritten = seen.entries.get(metadata.message_id) if seen is not None else None
    if unwritten is not None:  # handled earlier in this optimistic batch
        unwritten.duplicates += 1
    else:
        InboxEntry.objects.filter(group=group.name, message_id=metadata.message_id).update(
            duplicates=F("duplicates") + 1
        )
    logger.info("%s skipped %s %s: already handled", group.name, metadata.type, metadata.message_id)
    return Outcome.DUPLICATE
