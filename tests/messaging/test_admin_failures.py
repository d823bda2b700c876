"""Failed handling attempts are kept for the message log, outside the rolled-back transaction."""

import pytest
from django.db import DatabaseError

from messaging import failures
from messaging.handling import Outcome, handle_record
from messaging.models import DeadLetter, HandlingFailure, InboxEntry, OutboxMessage
from messaging.registry import ConsumerGroup
from shop.contracts import OrderRejected
from tests.factories import order_placed, record_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_backoff(settings):
    settings.MESSAGING = {"HANDLER_RETRY_BACKOFF_SECONDS": 0, "HANDLER_ATTEMPTS": 3}


def group_failing(times: int) -> ConsumerGroup:
    """A group whose handler emits a message, then raises the first `times` times."""
    calls = []

    def flaky(message, metadata):
        from messaging import outbox

        outbox.send(OrderRejected(order_id=message.order_id, reason="x"), caused_by=metadata)
        calls.append(1)
        if len(calls) <= times:
            raise RuntimeError(f"carrier API down (call {len(calls)})")

    return ConsumerGroup("flaky", handlers={"shop.OrderPlaced": [flaky]})


def test_a_message_handled_after_failing_keeps_its_failed_attempts():
    record = record_of(order_placed(("MUG-001", 1)))

    outcome = handle_record(group_failing(times=2), record)

    assert outcome == Outcome.HANDLED
    assert list(HandlingFailure.objects.values_list("group", "attempt", "error")) == [
        ("flaky", 1, "RuntimeError: carrier API down (call 1)"),
        ("flaky", 2, "RuntimeError: carrier API down (call 2)"),
    ]
    failure = HandlingFailure.objects.first()
    assert failure.type == "shop.OrderPlaced" and failure.started_at <= failure.failed_at
    assert "RuntimeError" in failure.traceback
    entry = InboxEntry.objects.get(group="flaky")
    assert failure.message_id == entry.message_id and failure.correlation_id == entry.correlation_id


def test_a_failed_attempt_still_rolls_back_everything_it_did():
    handle_record(group_failing(times=2), record_of(order_placed(("MUG-001", 1))))

    # Three attempts each emitted a message; only the one that committed remains.
    assert OutboxMessage.objects.filter(type="shop.OrderRejected").count() == 1


def test_a_message_that_keeps_failing_is_set_aside_with_every_attempt_recorded():
    record = record_of(order_placed(("MUG-001", 1)))

    outcome = handle_record(group_failing(times=99), record)

    assert outcome == Outcome.DEAD_LETTERED
    assert list(HandlingFailure.objects.values_list("attempt", flat=True)) == [1, 2, 3]
    letter = DeadLetter.objects.get()
    assert letter.attempts == 3 and letter.error == "RuntimeError: carrier API down (call 3)"
    assert letter.traceback == HandlingFailure.objects.last().traceback
    assert not InboxEntry.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_losing_the_failure_row_does_not_change_what_handling_does(monkeypatch):
    def database_down(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(failures.HandlingFailure.objects, "create", database_down)

    outcome = handle_record(group_failing(times=1), record_of(order_placed(("MUG-001", 1))))

    assert outcome == Outcome.HANDLED
    assert InboxEntry.objects.filter(group="flaky").exists()
