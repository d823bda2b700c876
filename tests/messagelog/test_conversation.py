"""One conversation as the operator reads it: causal order, durations, senders, the tree."""

import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from messagelog.conversation import (
    ORIGIN,
    build_conversation,
    causal_order,
    load_conversation,
)
from messagelog.finder import find_conversations, latest_conversations
from messagelog.models import MessageRecord
from messagelog.outcomes import MessageTraces, Status
from messaging.models import DeadLetter, InboxEntry, OutboxMessage
from tests.messagelog.records import handled, logged, long_conversation

T0 = timezone.now()
CORRELATION = uuid.uuid4()


def at(ms: int):
    return T0 + timedelta(milliseconds=ms)


def message(message_type, ms, cause=None, **kwargs):
    return logged(
        message_type, correlation_id=CORRELATION, cause=cause, at=at(ms), save=False, **kwargs
    )


def traces(*entries: InboxEntry, dead_letters=()) -> MessageTraces:
    inbox, letters = defaultdict(list), defaultdict(list)
    for entry in entries:
        inbox[entry.message_id].append(entry)
    for letter in dead_letters:
        letters[letter.message_id].append(letter)
    return MessageTraces(inbox=dict(inbox), dead_letters=dict(letters), failures={})


def conversation(records, *entries, outbox=(), dead_letters=()):
    return build_conversation(
        CORRELATION, records, list(outbox), traces(*entries, dead_letters=dead_letters)
    )


def test_a_reply_stamped_earlier_than_its_cause_still_comes_after_it():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 50, cause=place)
    # The warehouse's clock is 30 ms behind the shop's.
    reserved = message("warehouse.StockReserved", 40, cause=placed)
    email = message("notifications.EmailSent", 45, cause=placed)

    steps = conversation([reserved, email, placed, place]).steps

    assert [s.name for s in steps] == ["PlaceOrder", "OrderPlaced", "StockReserved", "EmailSent"]


def test_time_between_steps_since_the_cause_and_in_total():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 200, cause=place)
    text = message("notifications.TextSent", 260, cause=placed)
    confirmed = message("shop.OrderConfirmed", 300, cause=placed)
    last = handled(confirmed, "notifications", took=timedelta(milliseconds=500), save=False)

    talk = conversation([place, placed, text, confirmed], last)

    assert [s.since_start for s in talk.steps] == [
        timedelta(milliseconds=ms) for ms in (0, 200, 260, 300)
    ]
    assert talk.steps[3].since_previous == timedelta(milliseconds=40)
    assert talk.steps[3].since_cause == timedelta(milliseconds=100)
    assert talk.steps[0].since_previous is None and talk.steps[0].since_cause is None
    # From the click to the end of the last handling.
    assert talk.duration == timedelta(milliseconds=803)


def test_a_message_read_twice_is_one_step_with_both_records():
    place = message("shop.PlaceOrder", 0)
    again = message("shop.PlaceOrder", 0)
    again.message_id = place.message_id

    [step] = conversation([place, again]).steps

    assert step.records == [place, again]


def test_a_message_still_in_the_outbox_is_shown_as_waiting_there():
    place = message("shop.PlaceOrder", 0)
    pending = OutboxMessage(
        message_id=uuid.uuid4(),
        topic="orders",
        key="k",
        type="shop.OrderPlaced",
        source="shop",
        kind="event",
        correlation_id=CORRELATION,
        causation_id=place.message_id,
        time=at(5),
        payload={"order_id": "k"},
    )

    steps = conversation([place], outbox=[pending]).steps

    assert [(s.name, s.state) for s in steps] == [
        ("PlaceOrder", "on Kafka"),
        ("OrderPlaced", "waiting in the outbox"),
    ]
    assert [o.status for o in steps[1].outcomes] == [Status.PENDING] * 4  # every follower


def test_a_command_nobody_caused_comes_from_the_web():
    place = message("shop.PlaceOrder", 0)

    [step] = conversation([place]).steps

    assert (step.sender, step.source) == (ORIGIN, "shop")


def test_a_command_caused_by_an_event_comes_from_the_group_that_handled_it():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 10, cause=place)
    reserved = message("warehouse.StockReserved", 20, cause=placed)
    dispatch = message("warehouse.DispatchOrder", 33, cause=reserved)
    shop_entry = handled(reserved, "shop", took=timedelta(milliseconds=20), save=False)  # 23..43 ms

    steps = conversation([place, placed, reserved, dispatch], shop_entry).steps

    assert (steps[-1].sender, steps[-1].source) == ("shop", "warehouse")


def test_when_several_groups_handled_the_cause_the_sender_was_handling_it_at_the_time():
    placed = message("shop.OrderPlaced", 0)
    resend = message("notifications.SendEmail", 50, cause=placed)
    early = handled(placed, "warehouse", took=timedelta(milliseconds=10), save=False)  # 3..13 ms
    during = InboxEntry(
        group="notifications",
        message_id=placed.message_id,
        type=placed.type,
        correlation_id=CORRELATION,
        started_at=at(40),
        handled_at=at(60),
    )

    steps = conversation([placed, resend], early, during).steps

    assert steps[1].sender == "notifications"


def test_a_command_caused_by_a_command_comes_from_that_commands_owner():
    cancel = message("shop.CancelOrder", 0)
    stop = message("warehouse.CancelDispatch", 10, cause=cancel)

    steps = conversation([cancel, stop]).steps

    assert [s.sender for s in steps] == [ORIGIN, "shop"]


def test_rejections_and_compensations_are_marked():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 10, cause=place)
    short = message("warehouse.StockUnavailable", 20, cause=placed)
    cancelled = message("shop.OrderCancelled", 30, cause=short)

    talk = conversation([place, placed, short, cancelled])

    # A shortage is a fact (events are never rejected); the cancellation compensates.
    assert [s.role for s in talk.steps] == ["", "", "", "compensation"]
    assert [s.name for s in talk.turning_points] == ["OrderCancelled"]


def test_the_causation_tree_indents_each_consequence_under_its_cause():
    place = message("shop.PlaceOrder", 0)
    placed = message("shop.OrderPlaced", 10, cause=place)
    reserved = message("warehouse.StockReserved", 20, cause=placed)
    email = message("notifications.EmailSent", 25, cause=placed)
    confirmed = message("shop.OrderConfirmed", 30, cause=reserved)
    dispatch = message("warehouse.DispatchOrder", 31, cause=reserved)
    dispatched = message("warehouse.OrderDispatched", 40, cause=dispatch)
    cancel = message("shop.CancelOrder", 35)

    talk = conversation([place, placed, reserved, email, confirmed, dispatch, dispatched, cancel])

    assert [(r.step.name, r.depth, r.branch) for r in talk.tree] == [
        ("PlaceOrder", 0, ""),
        ("OrderPlaced", 1, "└"),
        ("StockReserved", 2, "├"),
        ("OrderConfirmed", 3, "├"),
        ("DispatchOrder", 3, "└"),
        ("OrderDispatched", 4, "└"),
        ("EmailSent", 2, "└"),
        ("CancelOrder", 0, ""),
    ]


def test_a_very_long_chain_of_causes_is_walked_without_recursion():
    records, cause = [], None
    for i in range(3000):
        cause = message("shop.OrderConfirmed", i, cause=cause)
        records.append(cause)

    talk = conversation(records)

    assert [r.depth for r in talk.tree] == list(range(3000))
    assert causal_order(list(reversed(talk.steps)))[-1] is talk.steps[-1]


def test_problems_list_every_group_that_failed_or_set_a_message_aside():
    dispatch = message("warehouse.DispatchOrder", 0)
    letter = DeadLetter(
        group="warehouse",
        message_id=dispatch.message_id,
        reason=DeadLetter.Reason.HANDLER_FAILED,
        error="boom",
        created_at=at(90),
    )

    talk = conversation([dispatch], dead_letters=[letter])

    [(step, outcome)] = talk.problems
    assert (step.name, outcome.group, outcome.status) == (
        "DispatchOrder",
        "warehouse",
        "dead_lettered",
    )
    assert talk.finished_at == at(90)


@pytest.mark.django_db
def test_loading_a_conversation_reads_six_tables_once(django_assert_num_queries):
    correlation_id = long_conversation(40)

    with django_assert_num_queries(6):
        talk = load_conversation(correlation_id)

    assert len(talk.steps) == 40
    assert all(o.status == Status.HANDLED for s in talk.steps for o in s.outcomes)


@pytest.mark.django_db
def test_an_email_finds_each_conversation_of_that_customer():
    mine = [long_conversation(7) for _ in range(2)]
    for correlation_id in mine:
        MessageRecord.objects.filter(correlation_id=correlation_id, type="shop.OrderPlaced").update(
            payload={"customer": {"email": "grace@example.com"}}
        )
    long_conversation(7)  # another customer's

    found = find_conversations("GRACE@example.com")

    assert {c.correlation_id for c in found} == set(mine)
    assert all(c.messages == 7 and c.first_type == "shop.PlaceOrder" for c in found)
    assert find_conversations("nobody@example.com") == []


@pytest.mark.django_db
def test_the_latest_conversations_come_first():
    first, second = long_conversation(3), long_conversation(3)

    assert [c.correlation_id for c in latest_conversations()] == [second, first]
