"""Which partitions a consumer pauses to read in step with time (messaging.alignment)."""

import functools
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from kafka.structs import TopicPartition

from messaging import consumer, kafka
from messaging.alignment import PATIENCE, Alignment
from messaging.consumer import ConsumerLoop
from messaging.inbox import NotYet
from messaging.kafka import consumer as kafka_consumer
from messaging.metadata import Metadata
from messaging.models import ParkedRecord
from messaging.registry import ConsumerGroup
from messaging.topics import create_topics
from messaging.wire import encode
from tests.factories import order_placed
from warehouse.contracts import OrderDispatched

ORDERS = TopicPartition("orders", 0)
DISPATCHES = TopicPartition("warehouse.events", 0)
COMMANDS = TopicPartition("notifications.commands", 0)


def records(tp: TopicPartition, *timestamps: int, first: int = 0) -> list:
    return [SimpleNamespace(timestamp=t, offset=first + i) for i, t in enumerate(timestamps)]


def test_what_a_poll_read_ahead_of_a_partition_with_records_left_is_read_again():
    alignment = Alignment()
    alignment.take({ORDERS: records(ORDERS, 1_000, 2_000)}, {ORDERS: 300, DISPATCHES: 0})
    batch = {DISPATCHES: records(DISPATCHES, 1_500, 2_500, 3_000, first=7)}

    now, again = alignment.take(batch, {ORDERS: 300, DISPATCHES: 37})

    assert [r.timestamp for r in now[DISPATCHES]] == [1_500]
    assert again == {DISPATCHES: 8}


def test_a_poll_across_partitions_keeps_the_part_up_to_the_furthest_behind():
    alignment = Alignment()
    batch = {
        ORDERS: records(ORDERS, 1_000, 2_000),
        DISPATCHES: records(DISPATCHES, 1_500, 2_500),
    }

    now, again = alignment.take(batch, {ORDERS: 10, DISPATCHES: 10})

    assert {tp: [r.timestamp for r in rs] for tp, rs in now.items()} == {
        ORDERS: [1_000, 2_000],
        DISPATCHES: [1_500],
    }
    assert again == {DISPATCHES: 1}


def test_a_partition_with_records_left_not_read_yet_holds_back_the_others():
    alignment = Alignment()
    batch = {DISPATCHES: records(DISPATCHES, 5_000)}

    assert alignment.take(batch, {ORDERS: 300, DISPATCHES: 40}) == ({}, {DISPATCHES: 0})
    # Not known yet (its offsets are being looked up) counts as records left.
    assert alignment.take(batch, {ORDERS: None, DISPATCHES: 40}) == ({}, {DISPATCHES: 0})
    # Nothing left there: nothing to wait for.
    assert alignment.take(batch, {ORDERS: 0, DISPATCHES: 40})[1] == {}


def test_only_partitions_of_the_same_number_wait_for_each_other():
    """An order's records all have its id as their key: the same partition number in every
    topic. Other numbers hold other orders."""
    alignment = Alignment()
    other_orders = TopicPartition("orders", 1)
    alignment.take({other_orders: records(other_orders, 500)}, {other_orders: 300})

    batch = {DISPATCHES: records(DISPATCHES, 5_000)}
    now, again = alignment.take(batch, {other_orders: 300, ORDERS: 0, DISPATCHES: 40})

    assert (list(now), again) == ([DISPATCHES], {})


def test_a_partition_that_gives_nothing_when_waited_for_is_waited_for_no_longer():
    alignment = Alignment()
    alignment.take({ORDERS: records(ORDERS, 1_000)}, {ORDERS: 1, DISPATCHES: 40})
    batch = {DISPATCHES: records(DISPATCHES, 5_000)}
    # Its high watermark says one record is left, but the polls bring none.
    for _ in range(PATIENCE):
        assert alignment.take(batch, {ORDERS: 1, DISPATCHES: 40}) == ({}, {DISPATCHES: 0})

    now, again = alignment.take(batch, {ORDERS: 1, DISPATCHES: 40})
    assert (list(now), again) == ([DISPATCHES], {})

    # Once it gives records again it is waited for again.
    alignment.take({ORDERS: records(ORDERS, 2_000, first=1)}, {ORDERS: 5, DISPATCHES: 40})
    later = {DISPATCHES: records(DISPATCHES, 6_000, first=1)}
    assert alignment.take(later, {ORDERS: 5, DISPATCHES: 40}) == ({}, {DISPATCHES: 1})


def test_nothing_waits_once_every_partition_is_read_to_its_end():
    alignment = Alignment()
    batch = {ORDERS: records(ORDERS, 9_000), DISPATCHES: records(DISPATCHES, 5_000)}

    now, again = alignment.take(batch, {ORDERS: 0, DISPATCHES: 0})

    assert (set(now), again) == ({ORDERS, DISPATCHES}, {})


def test_a_partition_no_longer_assigned_is_forgotten():
    alignment = Alignment()
    alignment.take({ORDERS: records(ORDERS, 1_000)}, {ORDERS: 5, DISPATCHES: 40})

    alignment.take({}, {DISPATCHES: 40})

    assert ORDERS not in alignment.last_read


@pytest.mark.django_db(transaction=True)
def test_a_backlog_across_two_topics_is_read_cause_first(monkeypatch, settings):
    """Sixty orders' OrderPlaced, then their OrderDispatched, read by a new group in small
    polls, as a long backlog is read: a dispatch handled before its placement waits (NotYet)
    and is parked. Pausing and resuming loses nothing and every dispatch is read; only a
    partition's first poll can come before the group knows how far in time it is."""
    create_topics(partitions=2)
    settings.MESSAGING = {**settings.MESSAGING, "CONSUMER_MAX_RECORDS": POLL}
    monkeypatch.setattr(
        consumer, "kafka_consumer", functools.partial(kafka_consumer, max_partition_fetch_bytes=1)
    )
    orders = [order_placed(("MUG-001", 1)) for _ in range(60)]
    mine = {placed.order_id for placed in orders}
    producer = kafka.producer(client_id="alignment-test")
    for message in orders + [dispatched(placed) for placed in orders]:
        record = encode(
            message.topic, Metadata.for_message(message), message.model_dump(mode="json")
        )
        producer.send(record.topic, key=record.key, value=record.value, headers=record.headers)
        producer.flush()  # a record batch of its own: a fetch of one byte brings one record
    producer.close()

    placed, handled = set(), []

    def on_placed(event, metadata):
        placed.add(event.order_id)

    def on_dispatched(event, metadata):
        if event.order_id in mine:
            if event.order_id not in placed:
                raise NotYet(f"{event.order_id} not placed yet")
            handled.append(event.order_id)

    group = ConsumerGroup(
        name=f"alignment-test-{uuid.uuid4().hex[:8]}",
        handlers={"shop.OrderPlaced": [on_placed], "warehouse.OrderDispatched": [on_dispatched]},
        topics={"orders", "warehouse.events"},
    )
    stop = threading.Event()
    thread = threading.Thread(target=ConsumerLoop(group, stop).run)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        waited = ParkedRecord.objects.filter(group=group.name)
        while len(handled) + waited.count() < len(orders) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=15)

    assert len(handled) + waited.count() == len(orders)
    assert waited.count() <= POLL * len(kafka_partitions("warehouse.events"))


POLL = 5


def kafka_partitions(topic: str) -> set[int]:
    client = kafka.reader()
    try:
        return client.partitions_for_topic(topic)
    finally:
        client.close()


def dispatched(placed):
    return OrderDispatched(order_id=placed.order_id, carrier="Parcelo", tracking_number="PX1")
