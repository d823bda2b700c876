"""Writes gathered over a batch (messaging.beforecommit), through messaging.handling and a
real PostgreSQL: one call for the batch, nothing of a record that rolled back."""

import dataclasses
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from messaging import beforecommit, handling, parking, registry
from messaging.inbox import Outcome
from messaging.models import InboxEntry, ParkedRecord
from shop.contracts import OrderPlaced
from tests.factories import order_placed, record_of

pytestmark = pytest.mark.django_db

# What each call of `write` was given, and how many inbox rows of the group existed then.
WRITES: list[tuple[list, int]] = []
BROKEN: set[uuid.UUID] = set()


def write(order_ids: list) -> None:
    if BROKEN & set(order_ids):
        raise ValueError("a line without a price")
    WRITES.append((order_ids, InboxEntry.objects.filter(group="test-gathered").count()))


@pytest.fixture(autouse=True)
def clean():
    WRITES.clear()
    BROKEN.clear()


def group(handler=None) -> registry.ConsumerGroup:
    def gather(event, metadata):
        beforecommit.together(write, [event.order_id])

    test_group = registry.ConsumerGroup("test-gathered")
    registry._add(test_group, OrderPlaced, [handler or gather])
    return test_group


def orders(n: int) -> tuple[list[uuid.UUID], list]:
    ids = [uuid.uuid4() for _ in range(n)]
    records = [
        dataclasses.replace(record_of(order_placed(("MUG-001", 1), order_id=i)), offset=offset)
        for offset, i in enumerate(ids)
    ]
    return ids, records


def test_a_batch_writes_what_its_records_gathered_in_one_call_before_its_inbox_rows():
    ids, records = orders(3)

    outcomes = handling.handle_batch(group(), records)

    assert outcomes == [Outcome.HANDLED] * 3
    assert [(ids, 0)] == WRITES
    assert InboxEntry.objects.filter(group="test-gathered").count() == 3


def test_a_record_failing_in_a_batch_writes_nothing_and_its_neighbours_write_theirs():
    ids, records = orders(3)

    def gather_or_fail(event, metadata):
        beforecommit.together(write, [event.order_id])
        if event.order_id == ids[1]:
            raise RuntimeError("disk on fire")

    outcomes = handling.handle_batch(group(gather_or_fail), records)

    assert outcomes == [Outcome.HANDLED, parking.PARKED, Outcome.HANDLED]
    # Handled again record by record, each in its savepoint: written at once, and the
    # failing record's write rolled back with it.
    assert [order_ids for order_ids, _ in WRITES] == [[ids[0]], [ids[1]], [ids[2]]]
    assert ParkedRecord.objects.get(group="test-gathered").key == str(ids[1])


def test_a_gathered_write_that_fails_parks_only_the_record_that_caused_it():
    ids, records = orders(3)
    BROKEN.add(ids[1])

    outcomes = handling.handle_batch(group(), records)

    assert outcomes == [Outcome.HANDLED, parking.PARKED, Outcome.HANDLED]
    assert [order_ids for order_ids, _ in WRITES] == [[ids[0]], [ids[2]]]
    assert set(
        InboxEntry.objects.filter(group="test-gathered").values_list("message_id", flat=True)
    ) == {uuid.UUID(dict(records[i].headers)["ce_id"].decode()) for i in (0, 2)}


def test_outside_a_batch_or_inside_a_savepoint_of_one_a_write_happens_at_once():
    beforecommit.together(write, ["alone"])
    assert WRITES == [(["alone"], 0)]

    with transaction.atomic(), beforecommit.gathering():
        with transaction.atomic():
            beforecommit.together(write, ["in a savepoint"])
        beforecommit.together(write, ["gathered"])
        assert [w for w, _ in WRITES] == [["alone"], ["in a savepoint"]]
    assert [w for w, _ in WRITES] == [["alone"], ["in a savepoint"], ["gathered"]]


def test_a_write_in_a_savepoint_never_goes_ahead_of_what_was_gathered_before_it():
    with transaction.atomic(), beforecommit.gathering():
        beforecommit.together(write, ["gathered"])
        with pytest.raises(beforecommit.Overtaking), transaction.atomic():
            beforecommit.together(write, ["in a savepoint"])
    assert [w for w, _ in WRITES] == [["gathered"]]


def test_a_batch_whose_parked_key_record_writes_after_a_gathered_one_keeps_their_order():
    """A record of a key with parked records, none ahead of it, is handled in a savepoint
    of its own (messaging.handling): its write would overtake what its neighbours gathered
    before it, so the batch is handled again record by record, each written in order."""
    ids, records = orders(3)
    ParkedRecord.objects.create(
        group="test-gathered",
        key=str(ids[1]),
        topic="orders",
        partition=1,  # another partition, and written after this record: not ahead of it
        offset=99,
        written_at=timezone.now() + timedelta(days=1),
    )

    outcomes = handling.handle_batch(group(), records)

    assert outcomes == [Outcome.HANDLED] * 3
    assert [order_ids for order_ids, _ in WRITES] == [[ids[0]], [ids[1]], [ids[2]]]
