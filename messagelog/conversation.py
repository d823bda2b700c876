"""One conversation (every message of one correlation id) as an operator reads it.

Its messages in causal order (a message always after its cause), the time between
them, which message caused which, who sent each one and what every consumer group
did with it. Loading takes a fixed number of queries however long the conversation.
"""

import heapq
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from messaging.contracts import message_role
from messaging.models import OutboxMessage

from .models import MessageRecord
from .outcomes import GroupOutcome, MessageTraces, Status, outcomes_by_message

# Where a conversation starts: a person's request (the storefront's BUY, the admin's
# "send again") arrives as a command that no message caused.
ORIGIN = "web"


@dataclass
class Step:
    """One message of the conversation, once however often it was read from Kafka."""

    message_id: UUID
    type: str
    kind: str
    source: str
    key: str
    time: datetime
    causation_id: UUID | None
    headers: dict
    payload: dict | None
    topic: str
    # Where the audit group read it; more than one when the relay published it twice.
    records: list[MessageRecord] = field(default_factory=list)
    outbox: OutboxMessage | None = None
    outcomes: list[GroupOutcome] = field(default_factory=list)
    sender: str = ""
    since_start: timedelta = timedelta(0)
    since_previous: timedelta | None = None
    since_cause: timedelta | None = None
    cause: "Step | None" = None
    children: list["Step"] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.type.split(".", 1)[-1]

    @property
    def role(self) -> str:
        return message_role(self.type)

    @property
    def state(self) -> str:
        if self.records:
            return "on Kafka"
        if self.outbox and self.outbox.published_at:
            return "published, not yet in the log"
        return "waiting in the outbox"

    @property
    def went_wrong(self) -> bool:
        return any(o.went_wrong for o in self.outcomes)

    @property
    def pretty_payload(self) -> str:
        return json.dumps(self.payload, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class TreeRow:
    step: Step
    depth: int
    branch: str  # "├" one of its cause's consequences, "└" the last; "" caused by none here


def causation_rows(roots: list[Step]) -> list[TreeRow]:
    """The causation tree as indented rows, depth first.

    Walked with a stack, not recursion: a long chain (a retry loop, a 200-message
    conversation) reaches no recursion limit, and the page caps its indentation.
    """
    rows: list[TreeRow] = []
    stack = [(root, 0, "") for root in reversed(roots)]
    while stack:
        step, depth, branch = stack.pop()
        rows.append(TreeRow(step, depth, branch))
        last = len(step.children) - 1
        for i, child in reversed(list(enumerate(step.children))):
            stack.append((child, depth + 1, "└" if i == last else "├"))
    return rows


@dataclass
class Conversation:
    correlation_id: UUID
    steps: list[Step]  # causal order
    roots: list[Step]  # the causation tree: messages whose cause is not in this conversation

    @property
    def tree(self) -> list[TreeRow]:
        return causation_rows(self.roots)

    @property
    def started_at(self) -> datetime | None:
        return self.steps[0].time if self.steps else None

    @property
    def finished_at(self) -> datetime | None:
        """The last thing that happened: a message written or a handling finished."""
        moments = [s.time for s in self.steps] + [
            o.finished_at for s in self.steps for o in s.outcomes if o.finished_at
        ]
        return max(moments, default=None)

    @property
    def duration(self) -> timedelta:
        if not self.steps:
            return timedelta(0)
        return self.finished_at - self.started_at

    @property
    def keys(self) -> list[str]:
        """What the conversation is about, the first message's key first."""
        return list(dict.fromkeys(s.key for s in self.steps if s.key))

    @property
    def turning_points(self) -> list[Step]:
        """Rejections and compensations: where the conversation left the happy path."""
        return [s for s in self.steps if s.role]

    @property
    def problems(self) -> list[tuple[Step, GroupOutcome]]:
        return [(s, o) for s in self.steps for o in s.outcomes if o.went_wrong]

    @property
    def unfinished(self) -> list[tuple[Step, GroupOutcome]]:
        """Groups that have not handled a message yet: waiting, queued or pending."""
        not_yet = (Status.WAITING, Status.QUEUED, Status.PENDING)
        return [(s, o) for s in self.steps for o in s.outcomes if o.status in not_yet]


def load_conversation(correlation_id: UUID) -> Conversation:
    """Six queries: the log, the outbox, the inbox, dead letters, failures and parked
    records; a seventh when a message is queued, for the heads of its key's queue."""
    records = list(MessageRecord.objects.filter(correlation_id=correlation_id).order_by("id"))
    outbox = list(OutboxMessage.objects.filter(correlation_id=correlation_id))
    return build_conversation(correlation_id, records, outbox, outcomes_by_message(correlation_id))


def build_conversation(
    correlation_id: UUID,
    records: list[MessageRecord],
    outbox: list[OutboxMessage],
    traces: MessageTraces,
) -> Conversation:
    steps: dict[UUID, Step] = {}
    for record in records:
        if record.message_id not in steps:
            steps[record.message_id] = _step(record)
        steps[record.message_id].records.append(record)
    for row in outbox:
        if row.message_id not in steps:
            steps[row.message_id] = _step(row)  # not read back from Kafka yet
        steps[row.message_id].outbox = row
    for step in steps.values():
        step.outcomes = traces.outcomes(step.message_id, step.type)
        step.cause = steps.get(step.causation_id) if step.causation_id else None
    ordered = causal_order(list(steps.values()))
    _measure(ordered)
    for step in ordered:
        step.sender = sender_of(step)
        if step.cause:
            step.cause.children.append(step)
    roots = [s for s in ordered if s.cause is None]
    return Conversation(correlation_id, ordered, roots)


def causal_order(steps: list[Step]) -> list[Step]:
    """Time order, except that a message never comes before its cause.

    Clocks of different hosts disagree by a few milliseconds, so a reply can carry an
    earlier time than the message that caused it; the causation id is the truth.
    """
    by_id = {s.message_id: s for s in steps}
    waiting_on: dict[UUID, list[Step]] = {}
    ready: list[tuple] = []
    for step in steps:
        if step.causation_id in by_id and step.causation_id != step.message_id:
            waiting_on.setdefault(step.causation_id, []).append(step)
        else:
            heapq.heappush(ready, (step.time, str(step.message_id), step))
    ordered = []
    while ready:
        _, _, step = heapq.heappop(ready)
        ordered.append(step)
        for child in waiting_on.pop(step.message_id, []):
            heapq.heappush(ready, (child.time, str(child.message_id), child))
    # A causation cycle cannot happen with fresh ids; should one be forged, show it anyway.
    ordered += sorted(
        (s for children in waiting_on.values() for s in children), key=lambda s: s.time
    )
    return ordered


def sender_of(step: Step) -> str:
    """The app that produced the message: an event's owner; for a command, whoever asked.

    A command caused by another message was sent by the group that handled that cause;
    when several did, by the one whose handling was under way at the command's time.
    """
    if step.kind != "command":
        return step.source
    cause = step.cause
    if cause is None:
        return ORIGIN if step.causation_id is None else "?"
    if cause.kind == "command":
        return cause.source
    handlers = [o for o in cause.outcomes if o.inbox is not None]
    for outcome in handlers:
        if outcome.inbox.started_at <= step.time <= outcome.inbox.handled_at:
            return outcome.group
    return handlers[0].group if handlers else cause.source


def _measure(ordered: list[Step]) -> None:
    previous = None
    for step in ordered:
        step.since_start = step.time - ordered[0].time
        step.since_previous = step.time - previous.time if previous else None
        step.since_cause = step.time - step.cause.time if step.cause else None
        previous = step


def _step(message: MessageRecord | OutboxMessage) -> Step:
    is_record = isinstance(message, MessageRecord)
    return Step(
        message_id=message.message_id,
        type=message.type,
        kind=message.kind,
        source=message.source,
        key=message.key,
        time=message.time,
        causation_id=message.causation_id,
        headers=message.headers if is_record else {},
        payload=message.payload,
        topic=message.topic,
    )
