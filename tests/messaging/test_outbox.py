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
