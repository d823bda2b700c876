import uuid

import pytest
from django.db import transaction

from messaging import outbox
from messaging.models import OutboxMessage
from shop.contracts import OrderCancelled

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # no test-wide transaction around this one
def test_send_refuses_to_run_outside_a_transaction():
    with pytest.raises(transaction.TransactionManagementError, match="inside the transaction"):
        outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason="x"))


def test_a_message_is_stored_only_if_its_transaction_commits():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
        raise RuntimeError("the state change failed")

    assert not OutboxMessage.objects.exists()


def test_a_caused_message_joins_its_cause_conversation():
    order_id = uuid.uuid4()
    with transaction.atomic():
        first = outbox.send(OrderCancelled(order_id=order_id, reason="a"))
        second = outbox.send(OrderCancelled(order_id=order_id, reason="b"), caused_by=first)

    assert first.correlation_id == first.message_id  # it started the conversation
    assert second.correlation_id == first.correlation_id
    assert second.causation_id == first.message_id
    row = OutboxMessage.objects.get(message_id=second.message_id)
    assert (row.key, row.topic, row.kind, row.payload["reason"]) == (
        str(order_id),
        "orders",
        "event",
        "b",
    )


@pytest.mark.django_db(transaction=True)  # the notification is delivered at a real commit
def test_a_committed_transaction_wakes_the_relay_once_and_a_rolled_back_one_not_at_all():
    from messaging.outbox import NOTIFY_CHANNEL
    from tests.factories import database_session

    def notifications(listener) -> int:
        return sum(1 for _ in listener.notifies(timeout=0.5))

    with database_session() as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with transaction.atomic():  # three messages, one transaction
            for reason in "abc":
                outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason=reason))
        woken = notifications(listener)
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
            raise RuntimeError("rolled back")
        woken_by_rollback = notifications(listener)

    assert (woken, woken_by_rollback) == (1, 0)


def test_bulk_writes_its_messages_in_one_insert_in_the_order_they_were_sent(
    django_assert_num_queries,
):
    order_id = uuid.uuid4()
    with transaction.atomic():
        first = outbox.send(OrderCancelled(order_id=order_id, reason="cause"))
        with django_assert_num_queries(1), outbox.bulk() as send:
            sent = [
                send(OrderCancelled(order_id=order_id, reason=r), caused_by=first) for r in "abc"
            ]

    rows = list(OutboxMessage.objects.filter(causation_id=first.message_id).order_by("id"))
    assert [(r.message_id, r.payload["reason"]) for r in rows] == [
        (m.message_id, r) for m, r in zip(sent, "abc", strict=True)
    ]
    assert {r.correlation_id for r in rows} == {first.correlation_id}


def test_bulk_writes_nothing_if_its_block_raises():
    with transaction.atomic():
        with pytest.raises(RuntimeError), outbox.bulk() as send:
            send(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
            raise RuntimeError("the marking failed")
        outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason="kept"))

    assert [r.payload["reason"] for r in OutboxMessage.objects.all()] == ["kept"]


@pytest.mark.django_db(transaction=True)
def test_bulk_refuses_to_run_outside_a_transaction():
    refused = pytest.raises(transaction.TransactionManagementError, match="inside the transaction")
    with refused, outbox.bulk():
        pass


def test_each_message_in_bulk_carries_the_trace_it_was_sent_in(traces):
    from opentelemetry.trace import SpanKind

    from messaging import tracing

    with transaction.atomic(), outbox.bulk() as send:
        for reason in "ab":
            with tracing.tracer.start_as_current_span(f"request {reason}", kind=SpanKind.SERVER):
                send(OrderCancelled(order_id=uuid.uuid4(), reason=reason))

    rows = {r.payload["reason"]: r.traceparent for r in OutboxMessage.objects.all()}
    requests = {s.name[-1]: s for s in traces.get_finished_spans() if s.name.startswith("request")}
    for reason in "ab":
        assert rows[reason].split("-")[1] == f"{requests[reason].context.trace_id:032x}"
