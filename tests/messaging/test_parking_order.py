"""The order of a key's parked queue when clocks, deploys and partitions disagree."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import handling, parking, registry, retrying
from messaging.inbox import Seen
from messaging.metadata import Metadata
from messaging.models import DeadLetter, ParkedRecord
from messaging.wire import RawRecord, encode
from shop.contracts import OrderCancelled
from tests.factories import order_placed, record_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(monkeypatch, settings):
    """A group whose handler fails for the message types in `group.failing`."""
    settings.MESSAGING = {**settings.MESSAGING, "HANDLER_ATTEMPTS": 5}
    handled, failing = [], {"OrderPlaced"}

    def handler(message, metadata):
        if type(message).__name__ in failing:
            raise RuntimeError("carrier API down")
        handled.append(type(message).__name__)

    consumer = registry.ConsumerGroup(
        "ordered", handlers={"shop.OrderPlaced": [handler], "shop.OrderCancelled": [handler]}
    )
    monkeypatch.setitem(registry._GROUPS, "ordered", consumer)
    return dataclasses.make_dataclass("G", ["consumer", "handled", "failing"])(
        consumer, handled, failing
    )


def consume(group, *records):
    parked = Seen(group.name, keys={parking.key_of(r) for r in records}).parked
    return [handling.handle(group, r, parked) for r in records]


def written(message, *, offset: int, at, partition: int = 0):
    """The record of `message`, as if its producer's clock had read `at`."""
    metadata = dataclasses.replace(Metadata.for_message(message), time=at)
    wire = encode(message.topic, metadata, message.model_dump(mode="json"))
    return RawRecord(wire.topic, partition, offset, wire.key, wire.value, wire.headers)


def drain(key: str) -> None:
    for _ in range(10):
        ParkedRecord.objects.update(next_attempt_at=timezone.now())
        retrying.retry("ordered", key)


def test_one_partition_keeps_kafkas_order_whatever_the_clocks_say(group):
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    now = timezone.now()
    # The later record on the partition carries an earlier time (a clock stepped back).
    records = written(placed, offset=0, at=now), written(cancelled, offset=1, at=now - timedelta(1))

    assert consume(group.consumer, *records) == [parking.PARKED, parking.PARKED]
    group.failing.clear()
    drain(str(placed.order_id))

    assert group.handled == ["OrderPlaced", "OrderCancelled"]


def test_a_record_parked_before_write_times_were_kept_stays_first(group):
    placed = order_placed(("MUG-001", 1))
    consume(group.consumer, record_of(placed, offset=0))
    ParkedRecord.objects.update(written_at=None)  # parked by a release without written_at
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")

    assert consume(group.consumer, record_of(cancelled, offset=1)) == [parking.PARKED]
    group.failing.clear()
    drain(str(placed.order_id))

    assert group.handled == ["OrderPlaced", "OrderCancelled"]


def test_records_going_ahead_do_not_spend_a_failing_heads_attempts(group):
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    now = timezone.now()
    group.failing.clear()
    group.failing.add("OrderCancelled")
    consume(group.consumer, written(cancelled, offset=0, at=now))

    for partition in range(1, 5):  # earlier-written records of the key, from other partitions
        earlier = written(placed, offset=0, at=now - timedelta(seconds=9), partition=partition)
        assert consume(group.consumer, earlier) == ["handled"]
        retrying.retry("ordered", str(placed.order_id))  # a woken retry would come now

    head = ParkedRecord.objects.get()
    assert head.attempts == 1 and head.next_attempt_at > timezone.now()
    assert not DeadLetter.objects.exists()


def test_a_real_failure_after_waiting_starts_counting_attempts_afresh(group):
    placed = order_placed(("MUG-001", 1))
    consume(group.consumer, record_of(placed))
    ParkedRecord.objects.update(waiting=True, attempts=12)  # a long wait for a prerequisite

    ParkedRecord.objects.update(next_attempt_at=timezone.now())
    retrying.retry("ordered", str(placed.order_id))  # fails, this time for a real reason

    head = ParkedRecord.objects.get()
    assert (head.attempts, head.waiting) == (1, False)
    assert not DeadLetter.objects.exists()


def test_records_parked_before_the_upgrade_get_their_write_time_back(group):
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("messaging.migrations.0009_parked_written_at_backfill").backfill
    placed = order_placed(("MUG-001", 1))
    record = written(placed, offset=0, at=timezone.now() - timedelta(minutes=5))
    consume(group.consumer, record)
    kept = ParkedRecord.objects.get().written_at
    ParkedRecord.objects.update(written_at=None)

    backfill(apps, None)

    assert ParkedRecord.objects.get().written_at == kept


def test_what_a_waiting_head_waits_for_passes_it_even_later_on_the_same_partition():
    """A broker lost OrderPlaced and the relay published it again after the OrderConfirmed
    it caused (or a rebuild read it again): Kafka's order is wrong for once, and the head
    waits for exactly the record behind it. Write times decide, or neither is ever handled."""
    from shop.contracts import OrderConfirmed

    notifications = registry.group("notifications")
    placed = order_placed(("MUG-001", 1))
    now = timezone.now()
    confirmed = written(OrderConfirmed(order_id=placed.order_id), offset=5, at=now)
    again = written(placed, offset=9, at=now - timedelta(seconds=2))

    outcomes = consume(notifications, confirmed) + consume(notifications, again)

    assert outcomes == [parking.PARKED, "handled"]
    retrying.retry("notifications", str(placed.order_id))  # the wake-up
    assert not ParkedRecord.objects.exists() and not DeadLetter.objects.exists()
