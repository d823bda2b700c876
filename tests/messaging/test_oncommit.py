"""Work for after the commit, gathered over a consumer's batch (messaging.oncommit), against
a real PostgreSQL: one call for the batch, nothing of a handling that rolled back."""

import dataclasses
import uuid

import pytest
from django.db import transaction

from messaging import handling, oncommit, parking, registry
from messaging.inbox import Outcome
from shop.contracts import OrderPlaced
from tests.factories import order_placed, record_of

pytestmark = pytest.mark.django_db

flushed: list[list] = []


def flush(items: list) -> None:
    flushed.append(items)


@pytest.fixture(autouse=True)
def nothing_flushed_yet():
    flushed.clear()


def batch_group(failing: uuid.UUID | None = None) -> registry.ConsumerGroup:
    """A group whose handler asks for its order's id after the commit, then fails for one."""

    def ask_after_commit(event, metadata):
        oncommit.together(flush, [event.order_id])
        if event.order_id == failing:
            raise RuntimeError("disk on fire")

    group = registry.ConsumerGroup(f"test-oncommit-{uuid.uuid4().hex[:8]}")
    registry._add(group, OrderPlaced, [ask_after_commit])
    return group


def records_for(orders: list[uuid.UUID]):
    return [
        dataclasses.replace(record_of(order_placed(("MUG-001", 1), order_id=order)), offset=i)
        for i, order in enumerate(orders)
    ]


def test_a_batch_asks_once_for_what_its_handlings_asked(django_capture_on_commit_callbacks):
    orders = [uuid.uuid4() for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        handling.handle_batch(batch_group(), records_for(orders))
        assert flushed == []  # nothing before the commit

    assert flushed == [orders]


def test_what_a_failed_handling_asked_for_is_dropped_with_it(django_capture_on_commit_callbacks):
    """The record in the middle fails: its savepoint rolls back and it is parked; its
    neighbours' items are flushed, its own never are."""
    orders = [uuid.uuid4() for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = handling.handle_batch(batch_group(failing=orders[1]), records_for(orders))

    assert outcomes == [Outcome.HANDLED, parking.PARKED, Outcome.HANDLED]
    assert flushed == [[orders[0], orders[2]]]


def test_a_batch_that_rolls_back_asks_for_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
        oncommit.gathering(),
    ):
        oncommit.together(flush, [1, 2])
        raise RuntimeError("the database went away")

    assert flushed == []


def test_outside_a_batch_each_call_is_flushed_on_its_own(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        oncommit.together(flush, [1, 2])
        oncommit.together(flush, [3])
        oncommit.together(flush, [])  # nothing to do: no call

    assert flushed == [[1, 2], [3]]
