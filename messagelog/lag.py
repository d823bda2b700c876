"""Consumer lag: how many records each consumer group still has to read, per partition."""

from dataclasses import dataclass

from kafka import TopicPartition

from messaging.kafka import admin, end_offsets, reader
from messaging.registry import groups


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has not committed anything here yet
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


def consumer_lag(*, timeout_ms: int = 5000) -> list[PartitionLag]:
    """Lag of every registered consumer group on every partition of the topics it follows.

    Each partition's end is read once, however many groups follow its topic (five follow
    `orders`): finding an end takes a fetch per partition (messaging.kafka.end_offsets),
    and the web's /metrics asks for all of this on every scrape.
    """
    client, consumer = admin(request_timeout_ms=timeout_ms), reader(request_timeout_ms=timeout_ms)
    try:
        followed = {
            name: [
                TopicPartition(topic, p)
                for topic in group.subscribed_topics()
                for p in sorted(consumer.partitions_for_topic(topic) or [])
            ]
            for name, group in sorted(groups().items())
        }
        everywhere = sorted({tp for partitions in followed.values() for tp in partitions})
        ends = end_offsets(consumer, everywhere)
        rows = []
        for name, partitions in followed.items():
            committed = client.list_group_offsets({name: partitions}).get(name, {})
            rows.extend(
                PartitionLag(name, tp.topic, tp.partition, _offset(committed.get(tp)), ends[tp])
                for tp in partitions
            )
        return rows
    finally:
        client.close()
        consumer.close()


def _offset(committed) -> int | None:
    # Brokers answer -1 for a partition the group never committed on.
    return committed.offset if committed is not None and committed.offset >= 0 else None


def total_lag_by_group(*, timeout_ms: int = 5000) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in consumer_lag(timeout_ms=timeout_ms):
        totals[row.group] = totals.get(row.group, 0) + row.lag
    return totals
