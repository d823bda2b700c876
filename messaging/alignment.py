"""Reading a group's partitions in step with time, so a consequence does not overtake its cause.

A group that reads two topics (notifications reads `orders` and `warehouse.events`) gets
no order between them from Kafka: after a backlog (a worker stopped, a deploy, a burst) it
can read an order's OrderDispatched long before the OrderPlaced it descends from, whose
partition holds more records. Its handler then waits (NotYet) and the record is parked and
retried, which costs transactions and Celery tasks for every such order: a group that fell
behind caught up more slowly than it fell behind.

So the consumer holds back what a poll read ahead in time: a record newer than the last
record read from a partition of the same number, in another topic, that still has records
to read waits (the consumer reads it again from there) until that partition has caught up.
Only partitions of the same number are compared: the shop's topics have the same number
of partitions (messaging.topics) and an order's id is every one of its records' key, so an
order's records all have the same partition number, and records of other numbers belong to
other orders, which need not wait for each other.
The partition that is furthest behind never waits, so the group always makes progress,
and once the partitions are level everything flows as before. Kafka Streams aligns the
co-partitioned topics of a task the same way (it picks the record with the lowest
timestamp).

Times are the records' Kafka timestamps: the relay's clock when it published them. A cause
is published before anything can be written in reaction to it, so its timestamp is the
earlier one, as long as the relays' clocks agree to better than a hop (NTP does).

What this is not: a guarantee. Parking (messaging.parking) still keeps every order right
when a record does come before its cause; alignment only makes that rare. And it never
waits long for what it cannot see: a partition that gives nothing for PATIENCE polls while
others wait for it has nothing to give after all (Tansu's high watermark can stay a record
ahead of what its fetches return), and is not waited for until it gives records again.

Decided against: KafkaConsumer.pause and resume. In kafka-python 3.0.12 a partition paused
while its fetched records were being returned is never fetched again after it is resumed
(the records it kept aside are restored only when no partition's records are in line),
and the group stalls; holding back costs a fetch of the held-back records again instead.
"""

from kafka.structs import TopicPartition

NOT_READ = -1  # before any timestamp
# Polls a partition may keep the others waiting while it gives nothing: then its high
# watermark is taken to be ahead of what a fetch returns, and it is not waited for until it
# gives records again.
PATIENCE = 3


class Alignment:
    def __init__(self) -> None:
        self.last_read: dict[TopicPartition, int] = {}  # partition: timestamp (ms)
        # The time of a partition's next record, when it was read and held back.
        self.next_at: dict[TopicPartition, int] = {}
        self.starved: dict[TopicPartition, int] = {}  # polls it was waited for, in vain
        self.dry: set[TopicPartition] = set()

    def take(self, batch: dict, behind: dict[TopicPartition, int | None]) -> tuple[dict, dict]:
        """Split a poll's batch: the records to handle now, and where to read each
        partition again from (its first record read ahead of a partition still behind it).

        `behind` is each assigned partition's count of records left to read after this
        poll (None when not known yet). A partition with records left, or not known yet,
        that was not read since it was assigned counts as the furthest behind: its records
        may be the oldest.
        """
        self._forget_all_but(behind)
        for tp in batch:
            self.starved.pop(tp, None)
            self.dry.discard(tp)
        # How far in time each partition is: what this poll read of it, else its next
        # record held back earlier, else the last record handled (its next is later).
        read_to = self.last_read | self.next_at
        for tp, records in batch.items():
            read_to[tp] = max(self.last_read.get(tp, NOT_READ), records[-1].timestamp)
        oldest, waited_for = {}, {}  # partition number: its time, and who sets it
        for tp, left in behind.items():
            if (left is None or left) and tp not in self.dry:
                at = read_to.get(tp, NOT_READ)
                if tp.partition not in oldest or at < oldest[tp.partition]:
                    oldest[tp.partition], waited_for[tp.partition] = at, tp
        now, again = {}, {}
        for tp, records in batch.items():
            bound = oldest.get(tp.partition)
            n = len(records) if bound is None else _count_until(records, bound)
            if n:
                now[tp] = records[:n]
                self.last_read[tp] = max(self.last_read.get(tp, NOT_READ), records[n - 1].timestamp)
            if n < len(records):
                again[tp], self.next_at[tp] = records[n].offset, records[n].timestamp
            else:
                self.next_at.pop(tp, None)
        if again:
            for tp in set(waited_for.values()) - batch.keys():
                self.starved[tp] = self.starved.get(tp, 0) + 1
                if self.starved[tp] >= PATIENCE:
                    self.dry.add(tp)
        return now, again

    def _forget_all_but(self, assigned) -> None:
        self.last_read = {tp: t for tp, t in self.last_read.items() if tp in assigned}
        self.starved = {tp: n for tp, n in self.starved.items() if tp in assigned}
        self.next_at = {tp: t for tp, t in self.next_at.items() if tp in assigned}
        self.dry &= assigned.keys()


def _count_until(records, bound: int) -> int:
    """How many of a partition's records, in its order, come at or before `bound`."""
    for i, record in enumerate(records):
        if record.timestamp > bound:
            return i
    return len(records)
