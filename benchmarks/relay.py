"""Scenario 3: the outbox relay against kafka-python's producer alone, on the same records.

The relay's own code (`Relay.publish_batch`, in this process) publishes copies of the
pipeline's outbox rows to a topic of its own; the raw producer sends the very records the
relay produced (same keys, values and headers) with the same acks=all and idempotence.
The relay's figure includes what the relay really does: read rows, encode, send, wait for
the acknowledgements, stamp the rows.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from messaging.kafka import producer as relay_producer
from messaging.models import OutboxMessage
from messaging.relay import Relay
from messaging.wire import Record, encode

from . import rawkafka


@dataclass
class RelayRun:
    records: int
    relay_seconds: float
    raw_seconds: float


def copies(messages: list[OutboxMessage], topic: str) -> list[OutboxMessage]:
    """Unpublished copies of `messages` for `topic`: new ids, the same data."""
    return [
        OutboxMessage(
            message_id=uuid.uuid4(),
            topic=topic,
            key=m.key,
            type=m.type,
            source=m.source,
            kind=m.kind,
            correlation_id=m.correlation_id,
            causation_id=m.causation_id,
            time=m.time,
            payload=m.payload,
            version=m.version,
        )
        for m in messages
    ]


def run(messages: list[OutboxMessage], *, partitions: int, rounds: int) -> RelayRun:
    """Relay and raw producer in alternating rounds, each on all of `messages`."""
    relay_seconds = raw_seconds = 0.0
    for _ in range(rounds):
        relay_topic = rawkafka.new_topic("bench-relay", partitions)
        rows = OutboxMessage.objects.bulk_create(copies(messages, relay_topic))
        relay_seconds += _relay(len(rows), relay_topic)
        records = [encode(r.topic, r.metadata(), r.payload) for r in rows]
        raw_topic = rawkafka.new_topic("bench-produce", partitions)
        raw_seconds += _raw([Record(raw_topic, r.key, r.value, r.headers) for r in records])
    return RelayRun(len(messages) * rounds, relay_seconds, raw_seconds)


def _relay(expected: int, topic: str) -> float:
    relay = Relay()
    client = relay_producer()
    try:
        client.partitions_for(topic)  # metadata first: not part of the figure
        with relay.leadership():  # the stack's relay has stopped: this one leads at once
            begin = time.perf_counter()
            while relay.publish_batch(client):
                pass
            seconds = time.perf_counter() - begin
    finally:
        client.close()
    if relay.published != expected:
        raise RuntimeError(f"the relay published {relay.published} of {expected} rows")
    return seconds


def _raw(records: list[Record]) -> float:
    client = rawkafka.producer()
    try:
        return rawkafka.produce(client, records[0].topic, records)
    finally:
        client.close()
