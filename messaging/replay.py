"""Replaying topics into one consumer group or one projection, safely.

Events are facts: replaying them into a handler that is idempotent rebuilds state.
Commands are requests: replaying them would repeat side effects, so command topics are
refused unless allowed, and even then only from a time within the inbox window
(RETAIN_INBOX): the inbox, never cleared for commands, skips every command handled since,
but forgets older ones when the purge deletes their entries. Progress is checkpointed per
partition, so an interrupted replay resumes where it stopped when run again.

Records are handled exactly as the live consumer handles them, in their key's order: a
record that fails is parked for its key and retried by the group's workers, one that
waits for another message waits, and the checkpoint never moves past a record that was
neither handled nor parked.

A rebuild empties a projection and fills it again from the whole history, while orders
keep coming. For its duration the replay holds the projection's fence (an advisory lock
of its database session): the live group handles none of the projection's events and
parks them, waiting for the rebuild, in their keys' order; when it ends they are handled
after everything the rebuild read. A rebuild that dies releases the fence with its
session; run again, it resumes from its checkpoints. A rebuild needs every record since
the beginning: it is refused when a topic no longer holds all of them (retention, or a
broker that lost them), unless the person accepts what it would lose.
"""

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from kafka import TopicPartition

from . import conf, handling, retrying
from .contracts import all_message_classes
from .durations import format_duration
from .inbox import Outcome, Seen
from .kafka import beginning_offsets, end_offsets, reader
from .models import BrokerLoss, InboxEntry, OutboxMessage, ReplayCheckpoint
from .registry import FENCE_KEY, ConsumerGroup, group, projections
from .topics import command_topics
from .tracing import Mode
from .wire import MalformedRecord, RawRecord, declared_type, decode

logger = logging.getLogger(__name__)


# How long a rebuild waits for another rebuild of the same projection to finish.
FENCE_WAIT_SECONDS = 30
# Polls of a second that bring nothing before a replay gives up on reaching its end.
READ_PATIENCE_POLLS = 30


class ReplayRefused(Exception):
    """The replay asked for would be unsafe or makes no sense (the message says why)."""


@dataclass(frozen=True)
class ReplayPlan:
    name: str
    group: ConsumerGroup
    topics: list[str]
    from_offset: int | None = None
    since: datetime | None = None
    correlation_id: UUID | None = None
    rebuild: Callable[[], None] | None = None  # empties the projection first
    only_types: frozenset[str] | None = None
    projection: str | None = None  # the projection rebuilt, whose fence the replay holds
    # A rebuild from topics that lost part of their history, knowingly.
    accept_incomplete_history: bool = False


@dataclass
class ReplayReport:
    outcomes: Counter = field(default_factory=Counter)  # (type, outcome) -> count
    read: int = 0
    resumed: bool = False

    def count(self, outcome: str) -> int:
        return sum(n for (_, o), n in self.outcomes.items() if o == outcome)


def plan(
    *,
    group_name: str | None = None,
    projection: str | None = None,
    topics: list[str] | None = None,
    from_offset: int | None = None,
    since: datetime | None = None,
    correlation_id: UUID | None = None,
    rebuild: bool = False,
    allow_commands: bool = False,
    accept_incomplete_history: bool = False,
) -> ReplayPlan:
    """Decide what a replay will read and into what, refusing what would be unsafe."""
    if (group_name is None) == (projection is None):
        raise ReplayRefused("Name exactly one consumer group or one projection.")
    slices = {
        "--topic": topics,
        "--from-offset": from_offset,
        "--since": since,
        "--correlation-id": correlation_id,
    }
    sliced = [option for option, value in slices.items() if value is not None]
    if rebuild and sliced:
        raise ReplayRefused(
            "--rebuild empties the whole projection, so it replays the whole history: "
            f"{', '.join(sliced)} would rebuild it from a slice. Leave out "
            f"{', '.join(sliced)}, or replay without --rebuild."
        )
    only_types = reset = None
    if projection is not None:
        known = projections()
        if projection not in known:
            raise ReplayRefused(f"No projection {projection!r} (known: {', '.join(sorted(known))})")
        target = known[projection]
        group_name, only_types = target.group, target.event_types
        reset = target.reset if rebuild else None
        wanted = {m.topic for m in all_message_classes() if m.type_name() in only_types}
    elif rebuild:
        raise ReplayRefused("--rebuild clears a projection: name one with --projection.")
    consumer_group = group(group_name)
    if consumer_group.process_records is not None:
        raise ReplayRefused(f"{group_name} records raw Kafka records; it has nothing to replay.")
    chosen = sorted(topics or (wanted if projection else consumer_group.subscribed_topics()))
    unknown = set(chosen) - set(consumer_group.subscribed_topics())
    if unknown:
        raise ReplayRefused(f"{group_name} does not follow {', '.join(sorted(unknown))}.")
    commands = set(chosen) & command_topics()
    if commands and not allow_commands:
        raise ReplayRefused(
            f"{', '.join(sorted(commands))} carries commands: replaying them could repeat side "
            "effects. Pass --allow-commands to replay them anyway; the inbox still skips every "
            "command handled before."
        )
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a time without a zone is read as UTC
    if commands:
        _refuse_commands_the_inbox_forgot(group_name, commands, since, from_offset)
    # Checkpoints belong to one replay: another one (a rebuild after a plain replay, a
    # replay of one conversation) must never resume from them.
    mode = [
        "rebuild" if rebuild else "",
        f"from-offset={from_offset}" if from_offset is not None else "",
        f"since={since.isoformat()}" if since else "",
        f"correlation-id={correlation_id}" if correlation_id else "",
    ]
    target = f"projection={projection}" if projection else f"group={group_name}"
    name = ":".join([target, ",".join(chosen), *filter(None, mode)])[:200]
    return ReplayPlan(
        name=name,
        group=consumer_group,
        topics=chosen,
        from_offset=from_offset,
        since=since,
        correlation_id=correlation_id,
        rebuild=reset,
        only_types=only_types,
        projection=projection if rebuild else None,
        accept_incomplete_history=accept_incomplete_history,
    )


def _refuse_commands_the_inbox_forgot(
    group_name: str, commands: set[str], since: datetime | None, from_offset: int | None
) -> None:
    """Refuse a command replay that starts before the inbox window: a command handled
    before it may have lost its inbox entry to the purge, and would be carried out again."""
    window = conf.duration("RETAIN_INBOX")
    # Whole minutes, rounded up, so that the time suggested is itself accepted.
    oldest = (timezone.now() - window + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if since is not None and since >= oldest:
        return
    if since is not None:
        start = f"from {since.isoformat(timespec='minutes')}"
    else:
        start = "from the beginning" if from_offset is None else f"from offset {from_offset}"
    raise ReplayRefused(
        f"Replaying {', '.join(sorted(commands))} {start} could carry out again commands that "
        f"{group_name}'s inbox no longer remembers: it keeps a handled message's entry for "
        f"RETAIN_INBOX ({format_duration(window)}), then the purge deletes it. Pass --since "
        f"{oldest.isoformat(timespec='minutes')} or later."
    )


def run(
    plan: ReplayPlan,
    *,
    dry_run: bool = False,
    restart: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ReplayReport:
    """Replay `plan`; `progress(done, total)` is called as records are read."""
    report = ReplayReport()
    if restart:
        ReplayCheckpoint.objects.filter(replay=plan.name).delete()
    checkpoints = {
        (c.topic, c.partition): c.next_offset
        for c in ReplayCheckpoint.objects.filter(replay=plan.name)
    }
    report.resumed = bool(checkpoints)
    rebuilding = plan.rebuild is not None and not dry_run
    client = reader()
    try:
        # A dry run of a rebuild refuses what the rebuild would refuse.
        if plan.rebuild is not None and not plan.accept_incomplete_history:
            _refuse_incomplete_history(client, plan)
        with _fence(plan.projection) if rebuilding else nullcontext():
            # Where the replay ends is read once the fence is up: whatever the live group
            # handled before is in the history the rebuild reads, whatever comes later
            # waits for the rebuild.
            positions = _starting_positions(client, plan, checkpoints)
            if rebuilding and not checkpoints:
                _clear(plan)
            total = sum(end - start for start, end in positions.values())
            for partition, records in _read(client, positions):
                if dry_run:
                    outcomes = [_replay_one(plan, r, set(), None, dry_run=True) for r in records]
                else:
                    # One transaction per batch read, as the live consumer handles a poll
                    # (messaging.handling), with the checkpoint: a replay that stops
                    # resumes exactly after what it committed.
                    outcomes = handling.in_batch(
                        plan.group.name,
                        records,
                        lambda record, parked, seen: _replay_one(plan, record, parked, seen),
                        before_commit=partial(_checkpoint, plan, partition, records[-1].offset + 1),
                    )
                report.read += len(records)
                report.outcomes.update(outcomes)
                progress(report.read, total)
    finally:
        client.close(autocommit=False)
    if not dry_run:
        ReplayCheckpoint.objects.filter(replay=plan.name).delete()  # finished: next run is new
    if rebuilding:
        retrying.wake_waiting(plan.group.name)  # what the live group parked meanwhile
    return report


@contextmanager
def _fence(projection: str) -> Iterator[None]:
    """Hold the projection's fence for this session: live handling of its events waits."""
    fence = projections()[projection].fence
    deadline = time.monotonic() + FENCE_WAIT_SECONDS
    # Live handlings hold it shared for milliseconds; only another rebuild holds it long.
    while not _advisory(f"SELECT pg_try_advisory_lock({FENCE_KEY})", fence):
        if time.monotonic() > deadline:
            raise ReplayRefused(f"Another rebuild of {projection} is running; try again later.")
        time.sleep(0.1)
    try:
        yield
    finally:
        with suppress(DatabaseError):  # a session that died released it already
            _advisory(f"SELECT pg_advisory_unlock({FENCE_KEY})", fence)


def _advisory(sql: str, fence: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(sql, [fence])
        return cursor.fetchone()[0]


def _refuse_incomplete_history(client, plan: ReplayPlan) -> None:
    """Refuse a rebuild from topics that no longer hold every record ever published."""
    gaps = []
    for topic in plan.topics:
        # Counted before the offsets are read: a row is marked published only after the
        # broker acknowledged its record, so the ends read next hold at least these. Read
        # the other way round, orders flowing in between look like lost history.
        published = _published_messages(topic)
        partitions = [TopicPartition(topic, p) for p in client.partitions_for_topic(topic) or []]
        begins = beginning_offsets(client, partitions)
        ends = end_offsets(client, partitions)
        deleted = sum(begins.values())
        if deleted:
            gaps.append(f"{topic} no longer holds its first {deleted} records (retention)")
        held = sum(ends[tp] - begins[tp] for tp in partitions)
        if published > held:
            gaps.append(
                f"the outbox published {published} messages on {topic}, "
                f"the topic holds {held} records"
            )
        for loss in BrokerLoss.objects.filter(topic=topic, lost__gt=F("republished")):
            gaps.append(
                f"the broker lost {loss.missing_from_history} records of "
                f"{topic}[{loss.partition}] on {loss.detected_at:%Y-%m-%d %H:%M} that every "
                "group had handled, so they were not published again"
            )
    if gaps:
        raise ReplayRefused(
            f"A rebuild of {plan.projection} would lose history: {'; '.join(gaps)}. Its "
            "figures would then count only what is left. Pass --accept-incomplete-history to "
            "rebuild from what is left anyway."
        )


def _published_messages(topic: str) -> int:
    """How many messages this database's outbox published on the topic (each once)."""
    return OutboxMessage.objects.filter(topic=topic, published_at__isnull=False).count()


def _clear(plan: ReplayPlan) -> None:
    """Empty the projection and forget, in its group's inbox, the events that built it."""
    with transaction.atomic():
        plan.rebuild()
        InboxEntry.objects.filter(group=plan.group.name, type__in=plan.only_types).delete()


def _starting_positions(client, plan: ReplayPlan, checkpoints: dict) -> dict:
    """(start, end) offsets per partition with something to read; the client is seeked there."""
    partitions = [
        TopicPartition(topic, p)
        for topic in plan.topics
        for p in sorted(client.partitions_for_topic(topic) or [])
    ]
    ends = end_offsets(client, partitions)
    starts = beginning_offsets(client, partitions)
    # --since is applied to each record's ce_time rather than through the broker's offset
    # index by time, which not every Kafka-protocol broker answers (Tansu does not).
    if plan.from_offset is not None:
        starts = {tp: max(starts[tp], plan.from_offset) for tp in partitions}
    positions = {}
    for tp in partitions:
        start = max(starts[tp], checkpoints.get((tp.topic, tp.partition), starts[tp]))
        if start < ends[tp]:
            positions[tp] = (start, ends[tp])
    client.assign(list(positions))
    for tp, (start, _) in positions.items():
        client.seek(tp, start)
    return positions


def _read(client, positions: dict) -> Iterator[tuple[TopicPartition, list[RawRecord]]]:
    """Every record from each start up to the end offsets seen when the replay began.

    Stops with an error, rather than wait for ever (a rebuild would hold its fence all
    that time), when a partition no longer reaches its end: the broker lost records
    meanwhile, or stopped answering.
    """
    remaining = dict(positions)
    idle = 0
    while remaining:
        batches = client.poll(timeout_ms=1000)
        idle = 0 if batches else idle + 1
        for tp, records in batches.items():
            if tp not in remaining:
                continue
            end = remaining[tp][1]
            batch = [RawRecord.from_consumer_record(r) for r in records if r.offset < end]
            if batch:
                yield tp, batch
            if records[-1].offset + 1 >= end:
                del remaining[tp]
                client.pause(tp)
        short = {tp: client.highwater(tp) for tp in remaining}
        short = {tp: hw for tp, hw in short.items() if hw is not None and hw < remaining[tp][1]}
        if short or idle >= READ_PATIENCE_POLLS:
            where = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in short or remaining)
            raise ReplayRefused(
                f"{where} no longer reaches the end the replay started with (the broker lost "
                "records, or stopped answering). Nothing read so far is lost: run it again."
            )


def _replay_one(
    plan: ReplayPlan, record: RawRecord, parked: set[str], seen: Seen | None, dry_run=False
) -> tuple[str, str]:
    declared = declared_type(record.headers)
    if declared and not _follows(plan, declared):
        # Skipped by its `ce_type` header, unread: most of what a rebuild reads is of types
        # its projection does not follow. (So the report counts such a record as ignored
        # even when it is unreadable, or of another conversation: it concerns no handler.)
        return declared, Outcome.IGNORED
    try:
        metadata, data = decode(record.key, record.value, record.headers)
    except MalformedRecord:
        return "(unreadable)", "unreadable"
    if plan.correlation_id and metadata.correlation_id != plan.correlation_id:
        return metadata.type, "other conversation"
    if plan.since and metadata.time < plan.since:
        return metadata.type, "before --since"
    if not _follows(plan, metadata.type):
        return metadata.type, Outcome.IGNORED
    if dry_run and plan.rebuild is not None:
        return metadata.type, "would handle (into the emptied projection)"
    if dry_run:
        seen = InboxEntry.objects.filter(
            group=plan.group.name, message_id=metadata.message_id
        ).exists()
        return metadata.type, "would skip (in inbox)" if seen else "would handle"
    # As the live consumer does: a failing record is parked for its key, never skipped.
    outcome = handling.handle(
        plan.group, record, parked, mode=Mode.REPLAY, seen=seen, decoded=(metadata, data)
    )
    return metadata.type, outcome


def _follows(plan: ReplayPlan, type_name: str) -> bool:
    if plan.only_types is not None and type_name not in plan.only_types:
        return False
    return type_name in plan.group.handlers


def _checkpoint(plan: ReplayPlan, tp: TopicPartition, next_offset: int) -> None:
    ReplayCheckpoint.objects.update_or_create(
        replay=plan.name,
        topic=tp.topic,
        partition=tp.partition,
        defaults={"next_offset": next_offset},
    )
