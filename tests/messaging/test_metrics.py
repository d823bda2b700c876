"""The counters a consumer moves (messaging.metrics), and the gauges read from the database,
against a real PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry

from messaging import outbox, registry
from messaging.handling import handle_batch
from messaging.inbox import handle_record
from messaging.metrics import DatabaseCollector
from messaging.models import OutboxMessage, ParkedRecord
from shop.contracts import OrderPlaced
from tests.factories import order_placed, product, raw_record, record_of

pytestmark = pytest.mark.django_db


def count(group: str, type_name: str, outcome: str) -> float:
    labels = {"group": group, "type": type_name, "outcome": outcome}
    return REGISTRY.get_sample_value("shop_consumer_records_total", labels) or 0.0


def timed(group: str, type_name: str) -> float:
    labels = {"group": group, "type": type_name}
    return REGISTRY.get_sample_value("shop_handler_duration_seconds_count", labels) or 0.0


def test_a_handling_and_its_redelivery_count_once_each_and_are_timed(
    django_capture_on_commit_callbacks,
):
    product("MUG-001", stock=10)
    record = record_of(order_placed(("MUG-001", 1)))
    before = [count("warehouse", "shop.OrderPlaced", o) for o in ("handled", "duplicate")]
    clock = timed("warehouse", "shop.OrderPlaced")

    with django_capture_on_commit_callbacks(execute=True):
        handle_record(registry.group("warehouse"), record)
        handle_record(registry.group("warehouse"), record)

    after = [count("warehouse", "shop.OrderPlaced", o) for o in ("handled", "duplicate")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]
    assert timed("warehouse", "shop.OrderPlaced") - clock == 2


def test_a_failing_handler_counts_a_failure_and_a_parked_record(
    django_capture_on_commit_callbacks,
):
    def explode(event, metadata):
        raise RuntimeError("disk on fire")

    group = registry.ConsumerGroup("test-metrics-failing")
    registry._add(group, OrderPlaced, [explode])
    record = record_of(order_placed(("MUG-001", 1)))

    with django_capture_on_commit_callbacks(execute=True):
        handle_batch(group, [record])

    assert count(group.name, "shop.OrderPlaced", "failed") == 1
    assert count(group.name, "shop.OrderPlaced", "parked") == 1
    assert count(group.name, "shop.OrderPlaced", "handled") == 0


def test_a_batch_handled_again_after_a_failure_counts_each_record_once(
    django_capture_on_commit_callbacks,
):
    """The batch's optimistic try is undone by its middle record's failure and handled
    again: what the undone try decided is not counted."""
    failing = record_of(order_placed(("MUG-001", 1)))
    failing_id = dict(failing.headers)["ce_id"].decode()

    def explode_for_one(event, metadata):
        if str(metadata.message_id) == failing_id:
            raise RuntimeError("disk on fire")

    group = registry.ConsumerGroup("test-metrics-batch")
    registry._add(group, OrderPlaced, [explode_for_one])
    records = [
        record_of(order_placed(("MUG-001", 1))),
        failing,
        record_of(order_placed(("MUG-001", 1))),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        handle_batch(group, records)

    outcomes = ("handled", "failed", "parked")
    assert [count(group.name, "shop.OrderPlaced", o) for o in outcomes] == [2, 1, 1]
    assert timed(group.name, "shop.OrderPlaced") == 3


def test_a_dead_letter_counts_once_committed_and_never_under_a_type_nobody_knows(
    django_capture_on_commit_callbacks,
):
    before = count("warehouse", "unknown", "dead_lettered")
    with django_capture_on_commit_callbacks(execute=True):
        handle_record(registry.group("warehouse"), raw_record(b"not json"))

    assert count("warehouse", "unknown", "dead_lettered") - before == 1


def gauges() -> dict:
    scratch = CollectorRegistry()
    scratch.register(DatabaseCollector())
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in scratch.collect()
        for s in family.samples
    }


def test_the_outbox_backlog_and_its_oldest_row_are_read_when_scraped():
    assert gauges()[("shop_outbox_pending_messages", ())] == 0
    assert gauges()[("shop_outbox_oldest_pending_age_seconds", ())] == 0
    with transaction.atomic():
        outbox.send(order_placed(("MUG-001", 1)))
        outbox.send(order_placed(("MUG-001", 2)))
    OutboxMessage.objects.filter(pk=OutboxMessage.objects.earliest("id").pk).update(
        time=timezone.now() - timedelta(seconds=90)
    )
    OutboxMessage.objects.filter(pk=OutboxMessage.objects.latest("id").pk).update(
        published_at=timezone.now()
    )

    now = gauges()
    assert now[("shop_outbox_pending_messages", ())] == 1
    assert 90 <= now[("shop_outbox_oldest_pending_age_seconds", ())] < 100


def test_parked_records_are_counted_per_group():
    for offset, key in enumerate(("a", "b")):
        ParkedRecord.objects.create(
            group="shop", key=key, topic="orders", partition=0, offset=offset
        )

    assert gauges()[("shop_parked_records", (("group", "shop"),))] == 2
