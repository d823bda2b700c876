"""Baseline (b): kafka-python alone, producing and consuming the pipeline's own records.

No database, no decoding, no handler: what the broker and the client library cost. Each
record is timed from its send to its receipt (in this one process, so one clock), found
again by its `ce_id` header, so the records keep exactly the pipeline's sizes.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from messaging import conf
from messaging.kafka import admin, bootstrap_servers
from messaging.wire import Record


@dataclass
class RawRun:
    records: int
    seconds: float  # first send to last receipt
    latencies: list[float]  # per record, send to receipt

    @property
    def per_second(self) -> float:
        return self.records / self.seconds


def new_topic(prefix: str, partitions: int) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client = admin()
    try:
        client.create_topics([NewTopic(name, partitions, 1)])
    finally:
        client.close()
    return name


def consumer() -> KafkaConsumer:
    """A plain consumer configured as the shop's are (messaging.kafka): the same fetch wait,
    which on a broker that answers a waiting fetch only when the wait ends (Tansu) is the
    hop's latency, and the same batch size. With the client's defaults (500 ms) this
    baseline read 129 ms at p50, which says more about the default than about Kafka."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap_servers(),
        enable_auto_commit=False,
        fetch_max_wait_ms=conf.get("CONSUMER_FETCH_MAX_WAIT_MS"),
        max_poll_records=conf.get("CONSUMER_MAX_RECORDS"),
    )


def producer() -> KafkaProducer:
    # The relay's durability (acks=all, idempotent) and linger, without its database.
    return KafkaProducer(
        bootstrap_servers=bootstrap_servers(), acks="all", enable_idempotence=True, linger_ms=5
    )


def produce(client: KafkaProducer, topic: str, records: list[Record]) -> float:
    """Send every record and wait for every acknowledgement; the seconds it took."""
    client.partitions_for(topic)  # metadata first: not part of the figure
    begin = time.perf_counter()
    futures = [client.send(topic, key=r.key, value=r.value, headers=r.headers) for r in records]
    client.flush()
    for future in futures:
        future.get()
    return time.perf_counter() - begin


def consume_all(topics: list[str], expected: int, *, timeout: float = 120) -> float:
    """Read topics from their start until `expected` records came; the seconds it took.

    Partitions are assigned, not joined as a group: the way a replay reads.
    """
    client = consumer()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(client.partitions_for_topic(topic) or [])
        ]
        client.assign(partitions)
        client.seek_to_beginning(*partitions)
        begin, seen = time.perf_counter(), 0
        deadline = time.monotonic() + timeout
        while seen < expected and time.monotonic() < deadline:
            seen += sum(len(b) for b in client.poll(timeout_ms=500).values())
        if seen < expected:
            raise TimeoutError(f"read {seen} of {expected} records of {', '.join(topics)}")
        return time.perf_counter() - begin
    finally:
        client.close()


def round_trip(topic: str, records: list[Record], *, rate: float | None = None) -> RawRun:
    """Produce `records` (at `rate` per second, or as fast as possible) while consuming them."""
    consumer = _consumer(topic)
    sent: dict[bytes, float] = {}
    received: dict[bytes, float] = {}
    done = threading.Event()

    def consume() -> None:
        while len(received) < len(records) and not done.is_set():
            for batch in consumer.poll(timeout_ms=100).values():
                now = time.perf_counter()
                for record in batch:
                    received[dict(record.headers)["ce_id"]] = now

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    client = producer()
    client.partitions_for(topic)
    begin = time.perf_counter()
    for i, record in enumerate(records):
        if rate:
            _sleep_until(begin + i / rate)
        sent[dict(record.headers)["ce_id"]] = time.perf_counter()
        client.send(topic, key=record.key, value=record.value, headers=record.headers)
        if rate:
            client.flush()  # paced: each record goes out on its own, as a relay's would
    client.flush()
    reader.join(timeout=120)
    done.set()
    client.close()
    consumer.close()
    if len(received) < len(records):
        raise TimeoutError(f"received {len(received)} of {len(records)} records")
    return RawRun(
        records=len(records),
        seconds=max(received.values()) - begin,
        latencies=[received[k] - t for k, t in sent.items()],
    )


def _consumer(topic: str) -> KafkaConsumer:
    # Partitions are assigned, not joined as a group: a group's first join depends on the
    # broker's coordinator (seconds on Tansu, and once over 30 s on a loaded CI machine),
    # which is set-up, not what the baseline measures.
    client = consumer()
    partitions = [TopicPartition(topic, p) for p in sorted(_partitions_of(client, topic))]
    client.assign(partitions)
    client.seek_to_beginning(*partitions)
    return client


def _partitions_of(consumer: KafkaConsumer, topic: str, timeout: float = 30) -> set[int]:
    # A topic just created may not be in the metadata yet: ask again until it is.
    deadline = time.monotonic() + timeout
    while not (partitions := consumer.partitions_for_topic(topic)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no partitions of {topic} in the broker's metadata")
        consumer.topics()  # asks the broker for fresh metadata
        time.sleep(0.1)
    return partitions


def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
