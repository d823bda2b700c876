"""Recovering from a broker that lost records it had acknowledged.

The outbox says a row is published once Kafka acknowledged it, and keeps the partition
and offset Kafka gave it. A broker can still lose records afterwards: the demo's
in-memory Tansu forgets every topic when it restarts, a Kafka cluster can lose a suffix
of a partition in an unclean leader election, a topic can be deleted and created again.
Consumers would then never see those records, and orders in flight would never settle.

So the leading relay checks, when it starts and then every `RELAY_LOSS_CHECK_INTERVAL`
seconds, that each partition still holds the last record it published there: same
offset, same message id. Where it does not, the rows the broker no longer holds are
marked pending again, except those every consumer group that follows their type has
handled and the message log has recorded: nobody is waiting for those. The relay then
publishes them again in their original order, and the inbox makes any repeat harmless.

Records older than a partition's first offset were removed by the topic's retention, not
lost: they were read long ago, and are not published again.
"""

import logging
from collections import defaultdict
from uuid import UUID

from django.db.models import Q
from kafka import TopicPartition

from .contracts import contract_topics
from .kafka import OffsetsUnknown, beginning_offsets, end_offsets, reader
from .models import BrokerLoss, InboxEntry, OutboxMessage
from .registry import groups

logger = logging.getLogger(__name__)

CHUNK = 2000


def republish_lost(topics: list[str] | None = None) -> int:
    """Mark pending again what the broker lost and somebody still waits for; returns how many.

    `topics`: the contract topics unless given. A partition the broker does not answer
    for in time is not judged: a slow answer is not a loss, and the next check looks again.
    """
    client = reader()
    try:
        partitions = _published_partitions(client, topics or contract_topics())
        if not partitions:
            return 0
        try:
            begins = beginning_offsets(client, partitions)
            ends = end_offsets(client, partitions, exact=True)
        except OffsetsUnknown as exc:
            logger.info("relay: loss check skipped, the broker was slow to answer: %s", exc)
            return 0
        lost_from = {}
        for tp in partitions:
            start = _first_lost_offset(client, tp, begins[tp], ends[tp])
            if start is not None:
                lost_from[tp] = start
    finally:
        client.close()
    return sum(_republish(tp, start) for tp, start in lost_from.items())


def _published_partitions(client, topics: list[str]) -> list[TopicPartition]:
    """The topics' partitions the relay has published to (one index probe each)."""
    published = OutboxMessage.objects.filter(offset__isnull=False)
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(client.partitions_for_topic(topic) or [])
        if published.filter(topic=topic, partition=p).exists()
    ]


def _first_lost_offset(client, tp: TopicPartition, begin: int, end: int) -> int | None:
    """From which offset on the partition's records of ours are gone; None if none are,
    or if the broker returned nothing to judge by.

    The partition should hold our newest row still within retention at its offset. If it
    holds another record there, the partition was created anew: everything of ours is
    gone. If it holds it, only what lies beyond its end (if anything) is gone.
    """
    newest = (
        OutboxMessage.objects.filter(
            topic=tp.topic, partition=tp.partition, offset__gte=begin, offset__lt=end
        )
        .order_by("-offset", "-id")
        .first()
    )
    if newest is not None:
        found = _message_id_at(client, tp, newest.offset)
        if found is UNREAD:
            logger.info("relay: %s[%d] returned no record in time; judged next check", *tp)
            return None
        if found != newest.message_id:
            return begin
    beyond = OutboxMessage.objects.filter(
        topic=tp.topic, partition=tp.partition, offset__gte=end
    ).exists()
    return end if beyond else None


# The fetch returned nothing: below the partition's end, that is slowness, not loss.
UNREAD = object()


def _message_id_at(client, tp: TopicPartition, offset: int) -> UUID | object | None:
    """The id of the record at `offset`; None if another record (or none) is there, or
    UNREAD if the broker returned nothing in time."""
    client.assign([tp])
    client.seek(tp, offset)
    try:
        records = client.poll(timeout_ms=2000, max_records=1).get(tp, [])
    finally:
        client.assign([])
    if not records:
        return UNREAD
    if records[0].offset != offset:
        return None
    ce_id = dict(records[0].headers or []).get("ce_id", b"")
    try:
        return UUID(ce_id.decode())
    except ValueError:
        return None


def republish_overwritten(published: list) -> int:
    """After a batch was stamped: rows stamped before it at offsets Kafka has now given to
    records of this batch were lost by the broker (it restarted empty, or a topic was
    created anew) and are published again. Catches the loss before the periodic check
    could, and before a row stamped earlier shares an offset with a new one.

    `published` holds (row, RecordMetadata) pairs; returns how many rows go out again.
    """
    lowest: dict[TopicPartition, int] = {}
    for _, meta in published:
        tp = TopicPartition(meta.topic, meta.partition)
        lowest[tp] = min(meta.offset, lowest.get(tp, meta.offset))
    batch = [row.id for row, _ in published]
    reused = Q()
    for tp, offset in lowest.items():
        reused |= Q(topic=tp.topic, partition=tp.partition, offset__gte=offset)
    if not OutboxMessage.objects.filter(reused).exclude(id__in=batch).exists():
        return 0
    return sum(_republish(tp, offset, exclude=batch) for tp, offset in lowest.items())


def _republish(tp: TopicPartition, start: int, *, exclude: list[int] = ()) -> int:
    lost = OutboxMessage.objects.filter(
        topic=tp.topic, partition=tp.partition, offset__gte=start
    ).exclude(id__in=exclude)
    total = lost.count()
    if not total:
        return 0
    again = 0
    while ids := list(lost.order_by("id").values_list("id", "message_id", "type")[:CHUNK]):
        waited_for = _still_waited_for(ids)
        again += len(waited_for)
        OutboxMessage.objects.filter(id__in=waited_for).update(
            published_at=None, partition=None, offset=None
        )
        # Handled by everyone: published still, but no longer where the broker had it.
        OutboxMessage.objects.filter(id__in=[i for i, _, _ in ids]).exclude(
            id__in=waited_for
        ).update(partition=None, offset=None)
    BrokerLoss.objects.create(
        topic=tp.topic, partition=tp.partition, from_offset=start, lost=total, republished=again
    )
    logger.warning(
        "relay: the broker lost %d records of %s[%d] from offset %d on; publishing again "
        "the %d that a consumer group still waits for",
        total,
        tp.topic,
        tp.partition,
        start,
        again,
    )
    return again


def _still_waited_for(rows: list[tuple[int, UUID, str]]) -> list[int]:
    """The rows some group that follows their type, or the message log, has not got."""
    message_ids = [m for _, m, _ in rows]
    handled = defaultdict(set)
    for group, message_id in InboxEntry.objects.filter(message_id__in=message_ids).values_list(
        "group", "message_id"
    ):
        handled[message_id].add(group)
    # A message some record processor (the message log) lacks is published again too.
    logged = set(message_ids)
    for group in groups().values():
        if group.recorded is not None:
            logged &= group.recorded(message_ids)
    followers = defaultdict(set)
    for name, group in groups().items():
        for message_type in group.handlers:
            followers[message_type].add(name)
    return [
        row_id
        for row_id, message_id, message_type in rows
        if message_id not in logged or not followers[message_type] <= handled[message_id]
    ]
