"""Retrying parked records and what operators do with dead letters, against a real PostgreSQL."""

import dataclasses

import pytest
from django.utils import timezone

from messaging import handling, parking, registry, retrying
from messaging.inbox import Outcome, Seen
from messaging.models import DeadLetter, HandlingFailure, InboxEntry, OutboxMessage, ParkedRecord
from notifications.models import Notification
from shop.contracts import OrderCancelled, OrderRejected
from tests.factories import order_placed, record_of
from warehouse.contracts import OrderDispatched

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky(monkeypatch, settings):
    """A registered group whose handler emits a message, then fails while `failing` says so."""
    settings.MESSAGING = {**settings.MESSAGING, "HANDLER_ATTEMPTS": 3}
    state = {"failing": True, "handled": []}

    def handler(message, metadata):
        from messaging import outbox

        outbox.send(OrderRejected(order_id=message.order_id, reason="x"), caused_by=metadata)
        if state["failing"]:
            raise RuntimeError("carrier API down")
        state["handled"].append(type(message).__name__)

    group = registry.ConsumerGroup(
        "flaky",
        handlers={
            "shop.OrderPlaced": [handler],
            "shop.OrderCancelled": [handler],
        },
    )
    monkeypatch.setitem(registry._GROUPS, "flaky", group)
    return group, state


def consume(group, *records):
    """What the consumer loop does with one batch."""
    keys = {parking.key_of(r) for r in records}
    parked = Seen(group.name, keys=keys).parked
    return [handling.handle(group, r, parked) for r in records]


def retry_now(key: str) -> None:
    """What the scheduled Celery task does, once its countdown is over."""
    ParkedRecord.objects.filter(dead_letter=None).update(next_attempt_at=timezone.now())
    retrying.retry("flaky", key)


def test_a_failed_record_is_parked_and_its_key_waits_while_others_go_on(
    flaky, django_capture_on_commit_callbacks, celery_tasks
):
    group, state = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    other = order_placed(("MUG-001", 1))

    with django_capture_on_commit_callbacks(execute=True):
        first = consume(group, record_of(placed, offset=0))
    scheduled = [name for name, *_ in celery_tasks]
    state["failing"] = False
    rest = consume(group, record_of(cancelled, offset=1), record_of(other, offset=2))

    assert first == [parking.PARKED]
    assert rest == [parking.PARKED, Outcome.HANDLED]  # the cancellation waits; others go on
    assert scheduled == ["messaging.retry_parked"]  # one retry task for the key
    head, behind = ParkedRecord.objects.order_by("id")
    assert (head.offset, head.attempts, head.last_error) == (0, 1, "RuntimeError: carrier API down")
    assert head.next_attempt_at > timezone.now()
    assert (behind.offset, behind.attempts, behind.next_attempt_at) == (1, 0, None)


def test_a_retry_that_succeeds_hands_on_what_waited_in_order(flaky):
    group, state = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, record_of(placed, offset=0), record_of(cancelled, offset=1))
    state["failing"] = False

    retry_now(str(placed.order_id))

    assert state["handled"] == ["OrderPlaced", "OrderCancelled"]
    assert not ParkedRecord.objects.exists()
    assert InboxEntry.objects.filter(group="flaky").count() == 2
    # Each failed attempt emitted a message that was rolled back; only the handled ones stay.
    assert OutboxMessage.objects.filter(type="shop.OrderRejected").count() == 2
    assert list(HandlingFailure.objects.values_list("attempt", flat=True)) == [1]


def test_a_record_that_keeps_failing_becomes_a_dead_letter_its_key_waits_behind(flaky):
    group, state = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, record_of(placed, offset=0), record_of(cancelled, offset=1))

    retry_now(str(placed.order_id))  # attempt 2
    retry_now(str(placed.order_id))  # attempt 3: the last
    state["failing"] = False
    retry_now(str(placed.order_id))  # nothing: the key waits for an operator
    again = OrderCancelled(order_id=placed.order_id, reason="x")
    later = consume(group, record_of(again, offset=2))

    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.attempts, letter.offset) == ("handler_failed", 3, 0)
    assert letter.error == "RuntimeError: carrier API down" and "RuntimeError" in letter.traceback
    assert list(HandlingFailure.objects.values_list("type", "attempt")) == [
        ("shop.OrderPlaced", 1),
        ("shop.OrderPlaced", 2),
        ("shop.OrderPlaced", 3),
    ]
    assert state["handled"] == [] and later == [parking.PARKED]
    head, *behind = ParkedRecord.objects.order_by("written_at", "id")
    assert (head.dead_letter, head.next_attempt_at) == (letter, None)
    assert [(p.offset, p.dead_letter) for p in behind] == [(1, None), (2, None)]
    assert retrying.retry_due() == 0  # nothing for the sweep: a person decides


def test_an_operator_retry_handles_the_dead_letter_in_its_place_then_what_queued(flaky):
    group, state = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, record_of(placed, offset=0), record_of(cancelled, offset=1))
    for _ in range(2):
        retry_now(str(placed.order_id))
    letter = DeadLetter.objects.get()
    state["failing"] = False

    outcome = retrying.redeliver_dead_letter(letter.id, by="operator")

    assert outcome == Outcome.HANDLED
    assert state["handled"] == ["OrderPlaced", "OrderCancelled"]
    assert not ParkedRecord.objects.exists()
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == ("retried", "operator")


def test_an_operator_retry_that_fails_again_keeps_the_key_waiting(flaky):
    group, _ = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, record_of(placed, offset=0), record_of(cancelled, offset=1))
    for _ in range(2):
        retry_now(str(placed.order_id))
    letter = DeadLetter.objects.get()

    outcome = retrying.redeliver_dead_letter(letter.id, by="operator")

    assert outcome == "RuntimeError: carrier API down"
    letter.refresh_from_db()
    assert (letter.status, letter.attempts) == ("open", 4)
    assert ParkedRecord.objects.get(offset=0).dead_letter == letter
    assert ParkedRecord.objects.filter(offset=1).exists()


def test_skipping_a_dead_letter_lets_what_queued_behind_it_follow(
    flaky, django_capture_on_commit_callbacks
):
    group, state = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, record_of(placed, offset=0), record_of(cancelled, offset=1))
    for _ in range(2):
        retry_now(str(placed.order_id))
    state["failing"] = False

    with django_capture_on_commit_callbacks() as scheduled:
        letter = DeadLetter.objects.get()
        retrying.skip_dead_letter(letter.id, by="operator", reason="refunded by hand")
    retrying.retry("flaky", str(placed.order_id))  # what the scheduled task does

    assert len(scheduled) == 1
    assert state["handled"] == ["OrderCancelled"]
    assert not ParkedRecord.objects.exists()


def test_a_dead_letter_behind_an_earlier_failing_message_waits_for_it(flaky):
    """Retrying is in order too: what was written before the dead letter goes first."""
    group, state = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, dataclasses.replace(record_of(cancelled, offset=0), partition=1))
    for _ in range(2):
        retry_now(str(placed.order_id))
    letter = DeadLetter.objects.get()
    # Written earlier, read later from another partition, and failing too.
    earlier = record_of(placed, offset=0)
    ParkedRecord.objects.filter(dead_letter=letter).update(
        written_at=timezone.now() + timezone.timedelta(seconds=1)
    )
    consume(group, earlier)

    outcome = retrying.redeliver_dead_letter(letter.id, by="operator")

    assert "is still being retried" in outcome and state["handled"] == []
    letter.refresh_from_db()
    assert letter.status == "open"


def test_an_early_retry_does_nothing(flaky):
    group, _ = flaky
    placed = order_placed(("MUG-001", 1))
    consume(group, record_of(placed, offset=0))

    retrying.retry("flaky", str(placed.order_id))  # the countdown has not run out

    assert ParkedRecord.objects.get().attempts == 1


def test_a_record_whose_queue_was_drained_meanwhile_is_handled_at_once(flaky):
    group, state = flaky
    state["failing"] = False
    placed = order_placed(("MUG-001", 1))
    stale = {str(placed.order_id)}  # the batch saw the key parked, but the retry has finished

    outcome = handling.handle(group, record_of(placed), stale)

    assert outcome == Outcome.HANDLED
    assert not ParkedRecord.objects.exists()


def test_the_sweep_reschedules_retries_whose_task_was_lost(
    flaky, django_capture_on_commit_callbacks
):
    group, _ = flaky
    consume(group, record_of(order_placed(("MUG-001", 1))))
    ParkedRecord.objects.update(next_attempt_at=timezone.now() - timezone.timedelta(minutes=1))

    with django_capture_on_commit_callbacks() as scheduled:
        assert retrying.retry_due() == 1

    assert len(scheduled) == 1


def test_an_event_read_before_the_one_it_descends_from_waits_for_it(
    django_capture_on_commit_callbacks,
):
    """Kafka orders records within a partition only: the notifications group can read an
    order's OrderDispatched (warehouse.events) before its OrderPlaced (orders)."""
    notifications = registry.group("notifications")
    placed = order_placed(("MUG-001", 1))
    placed_record = record_of(placed, offset=7)  # written first
    dispatched = OrderDispatched(
        order_id=placed.order_id,
        carrier="Parcelforce",
        tracking_number="PF1",
    )
    dispatched_record = record_of(dispatched, offset=3)
    key = str(placed.order_id)

    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        outcomes = consume(notifications, dispatched_record)
        outcomes += consume(notifications, placed_record)

    # OrderPlaced was written before the parked OrderDispatched, on another topic: it goes
    # ahead, and then the waiting head is retried at once instead of after its backoff.
    assert outcomes == [parking.PARKED, Outcome.HANDLED]
    head = ParkedRecord.objects.get()
    assert (head.type, head.waiting) == ("warehouse.OrderDispatched", True)
    assert "OrderPlaced has not been handled yet" in head.last_error
    assert head.next_attempt_at <= timezone.now()
    # The backoff's retry, the "received" deliveries, and the wake-up.
    modules = [getattr(c, "func", c).__module__ for c in scheduled]
    assert [m for m in modules if m != "messaging.metrics"] == [  # counters move at commit
        "messaging.parking",
        "notifications.delivery",  # the email and the text, in one task
        "messaging.parking",
    ]

    retrying.retry("notifications", key)

    assert not ParkedRecord.objects.exists() and not DeadLetter.objects.exists()
    assert set(
        Notification.objects.filter(order_id=placed.order_id).values_list("kind", flat=True)
    ) == {"received", "dispatched"}


def test_a_later_event_from_another_topic_still_queues_behind(flaky):
    """Going ahead is only for what was written earlier: a later message never overtakes."""
    group, _ = flaky
    placed = order_placed(("MUG-001", 1))
    placed_record = record_of(placed, offset=0)
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    later = dataclasses.replace(record_of(cancelled, offset=0), partition=1)

    outcomes = consume(group, placed_record) + consume(group, later)

    assert outcomes == [parking.PARKED, parking.PARKED]
    assert list(ParkedRecord.objects.values_list("type", flat=True)) == [
        "shop.OrderPlaced",
        "shop.OrderCancelled",
    ]


def test_waiting_for_a_message_is_given_time_not_attempts(settings):
    settings.MESSAGING = {
        **settings.MESSAGING,
        "HANDLER_ATTEMPTS": 2,
        "PREREQUISITE_WAIT_SECONDS": 600,
    }
    notifications = registry.group("notifications")
    order_id = order_placed(("MUG-001", 1)).order_id
    dispatched = OrderDispatched(order_id=order_id, carrier="c", tracking_number="t")
    consume(notifications, record_of(dispatched))

    for _ in range(4):  # twice as many attempts as a failing handler gets
        retry_now_in("notifications", str(order_id))
    assert ParkedRecord.objects.get().attempts == 5 and not DeadLetter.objects.exists()

    ParkedRecord.objects.update(parked_at=timezone.now() - timezone.timedelta(seconds=601))
    retry_now_in("notifications", str(order_id))

    letter = DeadLetter.objects.get()
    assert letter.reason == "handler_failed" and letter.error.startswith("NotYet: ")
    assert ParkedRecord.objects.get().dead_letter == letter  # its key waits for an operator


def retry_now_in(group_name: str, key: str) -> None:
    ParkedRecord.objects.update(next_attempt_at=timezone.now())
    retrying.retry(group_name, key)


def test_the_sweep_hands_on_a_queue_whose_retry_died_after_its_head(
    flaky, django_capture_on_commit_callbacks
):
    group, state = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, record_of(placed, offset=0), record_of(cancelled, offset=1))
    # The retry handled the head and committed, then its worker died before the next one.
    ParkedRecord.objects.filter(offset=0).delete()
    ParkedRecord.objects.update(parked_at=timezone.now() - timezone.timedelta(minutes=1))

    with django_capture_on_commit_callbacks() as scheduled:
        swept = retrying.retry_due()
    state["failing"] = False
    retrying.retry("flaky", str(placed.order_id))  # what the scheduled task does

    assert (swept, len(scheduled)) == (1, 1)
    assert state["handled"] == ["OrderCancelled"] and not ParkedRecord.objects.exists()


def test_the_sweep_leaves_a_queue_whose_head_waits_for_its_backoff(flaky):
    group, _ = flaky
    placed = order_placed(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=placed.order_id, reason="changed my mind")
    consume(group, record_of(placed, offset=0), record_of(cancelled, offset=1))
    ParkedRecord.objects.update(parked_at=timezone.now() - timezone.timedelta(minutes=1))

    assert retrying.retry_due() == 0  # the head's retry is scheduled; the one behind waits
