"""What each consumer group did with a message, in the words used everywhere:

- handled: the group's inbox holds it (after failed attempts, perhaps);
- retrying: its handler failed and a retry is scheduled;
- waiting: its handler waits for another message (NotYet) or for a rebuild;
- queued: held back behind an earlier message of its key that is retrying, waiting or a
  dead letter, so that it does not overtake it;
- dead-lettered: left for a person to retry or skip (it could not be read, or its handler
  ran out of tries);
- pending: the group follows its type and has not got to it yet.

Four tables tell it: the inbox (a committed handling, and the duplicates it skipped),
dead letters, handling failures (attempts that rolled back) and parked records (what the
group holds back for its key). `group_outcomes` combines them for one message; the
loaders fetch them for many messages in a fixed number of queries.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import reduce
from operator import or_
from uuid import UUID

from django.db.models import Q

from messaging.models import DeadLetter, HandlingFailure, InboxEntry, ParkedRecord
from messaging.registry import groups

from .models import MessageRecord


class Status(StrEnum):
    HANDLED = "handled"
    RETRYING = "retrying"
    WAITING = "waiting"
    QUEUED = "queued"
    DEAD_LETTERED = "dead_lettered"
    PENDING = "pending"


@dataclass(frozen=True)
class GroupOutcome:
    group: str
    status: Status
    inbox: InboxEntry | None = None
    dead_letter: DeadLetter | None = None
    failures: tuple[HandlingFailure, ...] = ()
    parked: ParkedRecord | None = None
    # Queued: the head of its key's queue is a dead letter, waiting for an operator.
    behind_dead_letter: bool = False

    @property
    def started_at(self) -> datetime | None:
        if self.failures:
            return self.failures[0].started_at
        if self.inbox:
            return self.inbox.started_at
        return self.dead_letter.created_at if self.dead_letter else None

    @property
    def finished_at(self) -> datetime | None:
        if self.inbox:
            return self.inbox.handled_at
        if self.dead_letter:
            return self.dead_letter.created_at
        return None

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def duplicates(self) -> int:
        return self.inbox.duplicates if self.inbox else 0

    @property
    def attempts(self) -> int:
        """Attempts made so far, the successful one included."""
        if self.dead_letter:
            return max(self.dead_letter.attempts, len(self.failures))
        return len(self.failures) + (1 if self.inbox else 0)

    @property
    def error(self) -> str:
        if self.dead_letter:
            return self.dead_letter.error
        return self.failures[-1].error if self.failures else ""

    @property
    def traceback(self) -> str:
        if self.dead_letter and self.dead_letter.traceback:
            return self.dead_letter.traceback
        return self.failures[-1].traceback if self.failures else ""

    @property
    def went_wrong(self) -> bool:
        if self.status in (Status.RETRYING, Status.DEAD_LETTERED):
            return True
        # Attempts spent waiting for another message are patience, not failure.
        return bool(self.failures) and self.status != Status.WAITING

    @property
    def summary(self) -> str:
        """The outcome in a few words, e.g. "handled after 2 failed attempts"."""
        if self.status == Status.HANDLED:
            words = "handled"
            if self.failures:
                words += f" after {_plural(len(self.failures), 'failed attempt')}"
            if self.duplicates:
                words += f", {_plural(self.duplicates, 'duplicate')} skipped"
            return words
        if self.status == Status.DEAD_LETTERED:
            if self.dead_letter is None:
                return "dead-lettered"
            return f"dead-lettered: {self.dead_letter.get_reason_display()}"
        if self.status == Status.QUEUED:
            if self.behind_dead_letter:
                return "queued behind a dead letter of the same key, until it is retried or skipped"
            return "queued behind an earlier message of the same key"
        if self.status == Status.WAITING:
            # What it waits for, in the words of the handler's NotYet.
            why = self.parked.last_error.partition(": ")[2] or "an earlier message"
            return f"waiting ({_plural(len(self.failures), 'attempt')}): {why}"
        if self.status == Status.RETRYING:
            return f"retrying ({_plural(len(self.failures), 'failed attempt')})"
        return "pending"


def followers(message_type: str) -> list[str]:
    """The consumer groups that handle this type, in registration order."""
    return [name for name, group in groups().items() if message_type in group.handlers]


def group_outcomes(
    message_type: str,
    *,
    inbox: Iterable[InboxEntry] = (),
    dead_letters: Iterable[DeadLetter] = (),
    failures: Iterable[HandlingFailure] = (),
    parked: Iterable[ParkedRecord] = (),
    dead_heads: frozenset[tuple[str, str]] = frozenset(),
) -> list[GroupOutcome]:
    """One outcome per group that follows the type or left a trace of handling it.

    `dead_heads` holds the (group, key) queues whose head is a dead letter.
    """
    by_group_inbox = {entry.group: entry for entry in inbox}
    by_group_parked = {row.group: row for row in parked}
    by_group_letter = {letter.group: letter for letter in dead_letters}
    by_group_failures: dict[str, list[HandlingFailure]] = defaultdict(list)
    for failure in sorted(failures, key=lambda f: (f.failed_at, f.attempt)):
        by_group_failures[failure.group].append(failure)
    traced = set(by_group_inbox) | set(by_group_letter) | set(by_group_failures)
    traced |= set(by_group_parked)
    names = followers(message_type)
    names += sorted(traced - set(names))
    return [
        GroupOutcome(
            group=name,
            status=_status(
                name, by_group_inbox, by_group_letter, by_group_failures, by_group_parked
            ),
            inbox=by_group_inbox.get(name),
            dead_letter=by_group_letter.get(name),
            failures=tuple(by_group_failures.get(name, ())),
            parked=by_group_parked.get(name),
            behind_dead_letter=(
                name in by_group_parked and (name, by_group_parked[name].key) in dead_heads
            ),
        )
        for name in names
    ]


def _status(name: str, inbox: dict, letters: dict, failures: dict, parked: dict) -> Status:
    # A handled message wins over an older dead letter: someone retried it successfully.
    if name in inbox:
        return Status.HANDLED
    if name in letters:
        return Status.DEAD_LETTERED
    row = parked.get(name)
    if row is not None:
        if row.dead_letter_id is not None:
            return Status.DEAD_LETTERED
        if row.next_attempt_at is None:
            return Status.QUEUED
        return Status.WAITING if row.waiting else Status.RETRYING
    # Failed, and not parked (yet, or any more): between its attempt and its parking.
    return Status.RETRYING if name in failures else Status.PENDING


def outcomes_by_record(records: list[MessageRecord]) -> dict[int, list[GroupOutcome]]:
    """Every group's outcome for each record of a page, by record id, in four queries (a
    fifth when a message is queued, for the heads of its key's queue).

    Dead letters are matched by where the record was read (an unreadable record has no
    message id); inbox rows and failures by message id.
    """
    if not records:
        return {}
    message_ids = {r.message_id for r in records if r.message_id}
    inbox = _grouped(InboxEntry.objects.filter(message_id__in=message_ids), "message_id")
    failures = _grouped(HandlingFailure.objects.filter(message_id__in=message_ids), "message_id")
    parked = _grouped(ParkedRecord.objects.filter(message_id__in=message_ids), "message_id")
    dead_heads = _dead_heads(parked)
    coordinates = reduce(
        or_, (Q(topic=r.topic, partition=r.partition, offset=r.offset) for r in records)
    )
    letters: dict[tuple, list[DeadLetter]] = defaultdict(list)
    for letter in DeadLetter.objects.filter(coordinates):
        letters[(letter.topic, letter.partition, letter.offset)].append(letter)
    return {
        r.pk: group_outcomes(
            r.type,
            inbox=inbox.get(r.message_id, ()),
            dead_letters=letters.get((r.topic, r.partition, r.offset), ()),
            failures=failures.get(r.message_id, ()),
            parked=parked.get(r.message_id, ()),
            dead_heads=dead_heads,
        )
        for r in records
    }


def outcomes_by_message(correlation_id: UUID) -> "MessageTraces":
    """The inbox rows, dead letters, failures and parked records of one conversation."""
    parked = _grouped(ParkedRecord.objects.filter(correlation_id=correlation_id), "message_id")
    return MessageTraces(
        inbox=_grouped(InboxEntry.objects.filter(correlation_id=correlation_id), "message_id"),
        dead_letters=_grouped(
            DeadLetter.objects.filter(correlation_id=correlation_id), "message_id"
        ),
        failures=_grouped(
            HandlingFailure.objects.filter(correlation_id=correlation_id), "message_id"
        ),
        parked=parked,
        dead_heads=_dead_heads(parked),
    )


@dataclass(frozen=True)
class MessageTraces:
    inbox: dict[UUID, list[InboxEntry]]
    dead_letters: dict[UUID, list[DeadLetter]]
    failures: dict[UUID, list[HandlingFailure]]
    parked: dict[UUID, list[ParkedRecord]] = field(default_factory=dict)
    dead_heads: frozenset[tuple[str, str]] = frozenset()

    def outcomes(self, message_id: UUID, message_type: str) -> list[GroupOutcome]:
        return group_outcomes(
            message_type,
            inbox=self.inbox.get(message_id, ()),
            dead_letters=self.dead_letters.get(message_id, ()),
            failures=self.failures.get(message_id, ()),
            parked=self.parked.get(message_id, ()),
            dead_heads=self.dead_heads,
        )


def _dead_heads(parked: dict) -> frozenset[tuple[str, str]]:
    """Which of the parked records' queues wait behind a dead letter (one query, or none)."""
    queued = [row for rows in parked.values() for row in rows if row.next_attempt_at is None]
    if not queued:
        return frozenset()
    heads = ParkedRecord.objects.filter(
        group__in={row.group for row in queued},
        key__in={row.key for row in queued},
        dead_letter__isnull=False,
    )
    return frozenset(heads.values_list("group", "key"))


def _grouped(rows, attribute: str) -> dict:
    grouped: dict = defaultdict(list)
    for row in rows:
        grouped[getattr(row, attribute)].append(row)
    return dict(grouped)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
