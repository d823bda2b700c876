"""Each consumer group's outcome for a message, from the inbox, dead letters, failures and
parked records."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from messagelog.models import MessageRecord
from messagelog.outcomes import Status, followers, group_outcomes, outcomes_by_record
from messaging.models import DeadLetter, ParkedRecord
from tests.messagelog.records import dead_lettered, failed, handled, logged

pytestmark = pytest.mark.django_db


def by_group(outcomes):
    return {o.group: o for o in outcomes}


def test_the_groups_that_follow_a_type_come_from_the_registry():
    assert followers("shop.OrderPlaced") == ["warehouse", "notifications", "sales", "loyalty"]
    assert followers("warehouse.DispatchOrder") == ["warehouse"]
    assert followers("notifications.EmailSent") == []


def test_every_following_group_has_an_outcome_even_before_it_acts():
    placed = logged("shop.OrderPlaced", correlation_id=uuid.uuid4())
    handled(placed, "sales", took=timedelta(milliseconds=12), duplicates=2)

    outcomes = by_group(outcomes_by_record([placed])[placed.pk])

    assert list(outcomes) == ["warehouse", "notifications", "sales", "loyalty"]
    assert outcomes["warehouse"].status == Status.PENDING
    assert outcomes["warehouse"].summary == "pending"
    sales = outcomes["sales"]
    assert sales.status == Status.HANDLED
    assert sales.duration == timedelta(milliseconds=12)
    assert sales.summary == "handled, 2 duplicates skipped"
    assert sales.attempts == 1 and not sales.went_wrong


def test_failed_attempts_before_success_are_counted_and_shown():
    dispatch = logged("warehouse.DispatchOrder", correlation_id=uuid.uuid4())
    failed(dispatch, "warehouse", 1, "TimeoutError: carrier")
    failed(dispatch, "warehouse", 2, "TimeoutError: carrier again")
    handled(dispatch, "warehouse")

    [outcome] = outcomes_by_record([dispatch])[dispatch.pk]

    assert outcome.status == Status.HANDLED
    assert outcome.summary == "handled after 2 failed attempts"
    assert outcome.attempts == 3
    assert outcome.error == "TimeoutError: carrier again"
    assert outcome.started_at == dispatch.time + timedelta(milliseconds=10)
    assert outcome.went_wrong


def test_a_dead_lettered_message_shows_the_reason_error_traceback_and_attempts():
    dispatch = logged("warehouse.DispatchOrder", correlation_id=uuid.uuid4())
    for attempt in (1, 2, 3):
        failed(dispatch, "warehouse", attempt)
    dead_lettered(dispatch, "warehouse")

    [outcome] = outcomes_by_record([dispatch])[dispatch.pk]

    assert outcome.status == Status.DEAD_LETTERED
    assert outcome.summary == "dead-lettered: handler kept failing"
    assert outcome.attempts == 3
    assert outcome.error == "RuntimeError: carrier API down"
    assert outcome.traceback.startswith("Traceback")
    assert outcome.finished_at == outcome.dead_letter.created_at


def test_a_handled_message_wins_over_an_older_dead_letter():
    """Set aside, then retried successfully (e.g. replayed into the group)."""
    dispatch = logged("warehouse.DispatchOrder", correlation_id=uuid.uuid4())
    letter = dead_lettered(dispatch, "warehouse")
    entry = handled(dispatch, "warehouse")

    [outcome] = group_outcomes(dispatch.type, inbox=[entry], dead_letters=[letter])

    assert outcome.status == Status.HANDLED


def test_a_message_still_being_retried_is_retrying():
    dispatch = logged("warehouse.DispatchOrder", correlation_id=uuid.uuid4())
    failed(dispatch, "warehouse", 1)

    [outcome] = outcomes_by_record([dispatch])[dispatch.pk]

    assert outcome.status == Status.RETRYING
    assert outcome.summary == "retrying (1 failed attempt)"


def test_a_message_waiting_for_an_earlier_one_says_so():
    dispatched = logged("warehouse.OrderDispatched", correlation_id=uuid.uuid4())
    error = "NotYet: order 1's OrderPlaced has not been handled yet"
    failed(dispatched, "notifications", 1, error)
    failed(dispatched, "notifications", 2, error)
    parked(
        dispatched, "notifications", waiting=True, next_attempt_at=timezone.now(), last_error=error
    )

    by_group = {o.group: o for o in outcomes_by_record([dispatched])[dispatched.pk]}

    assert by_group["notifications"].status == Status.WAITING
    assert by_group["notifications"].summary == (
        "waiting (2 attempts): order 1's OrderPlaced has not been handled yet"
    )
    assert by_group["shop"].summary == "pending"  # not got to it yet


def test_a_message_queued_behind_a_dead_letter_says_so():
    correlation_id = uuid.uuid4()
    placed = logged("shop.OrderPlaced", correlation_id=correlation_id)
    cancelled = logged("shop.OrderCancelled", correlation_id=correlation_id)
    letter = DeadLetter.objects.create(
        group="sales", topic="orders", partition=0, offset=placed.offset,
        message_id=placed.message_id, reason=DeadLetter.Reason.HANDLER_FAILED,
        error="RuntimeError: down", attempts=5,
    )  # fmt: skip
    parked(placed, "sales", dead_letter=letter)
    parked(cancelled, "sales")

    outcomes = outcomes_by_record([placed, cancelled])
    sales = {pk: next(o for o in found if o.group == "sales") for pk, found in outcomes.items()}

    assert sales[placed.pk].status == Status.DEAD_LETTERED
    assert sales[cancelled.pk].status == Status.QUEUED
    assert sales[cancelled.pk].summary.startswith("queued behind a dead letter")


def parked(record, group, **fields):
    return ParkedRecord.objects.create(
        group=group, key=record.key, topic=record.topic, partition=record.partition,
        offset=record.offset, message_id=record.message_id, type=record.type,
        correlation_id=record.correlation_id, written_at=record.time, **fields,
    )  # fmt: skip


def test_an_unreadable_record_is_matched_to_its_dead_letters_by_where_it_was_read():
    poison = MessageRecord.objects.create(topic="orders", partition=1, offset=7, raw_value="?!")
    elsewhere = MessageRecord.objects.create(topic="orders", partition=2, offset=7, raw_value="?")
    for group in ("warehouse", "sales"):
        DeadLetter.objects.create(
            group=group,
            topic="orders",
            partition=1,
            offset=7,
            reason=DeadLetter.Reason.MALFORMED,
            error="the value is not JSON",
        )

    outcomes = outcomes_by_record([poison, elsewhere])

    assert {o.group: o.summary for o in outcomes[poison.pk]} == {
        "sales": "dead-lettered: not a readable CloudEvent",
        "warehouse": "dead-lettered: not a readable CloudEvent",
    }
    assert outcomes[elsewhere.pk] == []


def test_a_page_of_outcomes_takes_four_queries_however_many_records(
    django_assert_num_queries,
):
    records = [logged("shop.OrderPlaced", correlation_id=uuid.uuid4()) for _ in range(30)]
    for record in records:
        handled(record, "warehouse")

    with django_assert_num_queries(4):
        outcomes = outcomes_by_record(records)

    assert all(by_group(o)["warehouse"].status == Status.HANDLED for o in outcomes.values())
