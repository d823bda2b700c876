"""Consumer group offsets, as an operator's tools see them: read, rewound, compared."""

from kafka import TopicPartition
from kafka.admin import OffsetSpec

from messagelog.models import MessageRecord
from messaging.kafka import admin, reader
from messaging.registry import group


def _partitions(group_name: str) -> list[TopicPartition]:
    client = reader()
    try:
        return [
            TopicPartition(topic, p)
            for topic in group(group_name).subscribed_topics()
            for p in sorted(client.partitions_for_topic(topic) or [])
        ]
    finally:
        client.close()


def committed(group_name: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the group's committed offset; -1 where it never committed."""
    client = admin()
    try:
        offsets = client.list_group_offsets({group_name: _partitions(group_name)})[group_name]
    finally:
        client.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


def rewind(group_name: str) -> None:
    """Commit the earliest offset of every partition: the group reads everything again.

    Only a group without members accepts it, as with `kafka-consumer-groups --reset-offsets`.
    """
    client = admin()
    try:
        specs = {tp: OffsetSpec.EARLIEST for tp in _partitions(group_name)}
        results = client.reset_group_offsets(group_name, specs)
    finally:
        client.close()
    failed = {tp: r["error"] for tp, r in results.items() if r["error"].errno != 0}
    assert not failed, f"rewinding {group_name} failed: {failed}"


def uncommitted(message_ids, offsets: dict[tuple[str, int], int]) -> set:
    """Which of `message_ids` sit at or past the committed `offsets`: read again after a crash."""
    return {
        message_id
        for message_id, topic, partition, offset in MessageRecord.objects.filter(
            message_id__in=message_ids
        ).values_list("message_id", "topic", "partition", "offset")
        if offset >= offsets.get((topic, partition), -1)
    }
