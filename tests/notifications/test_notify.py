import uuid

import pytest
from django.db import transaction

from messaging import registry
from messaging.inbox import handle_record
from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from notifications import messages
from notifications.contracts import SendEmail
from notifications.delivery import notification_deliver
from notifications.models import Notification, SentEmail, SentText
from notifications.services import notification_resend, notify, recipient_record
from tests.factories import order_placed, record_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_id():
    order_id = uuid.uuid4()
    recipient_record(order_id=order_id, name="Ada", email="ada@example.com", phone="+44 1")
    return order_id


def test_one_email_and_one_text_per_order_and_kind(order_id, django_capture_on_commit_callbacks):
    cause = Metadata.for_message(order_placed(("MUG-001", 1), order_id=order_id))
    wording = messages.received("Ada", "ABCD", "€14.00")

    with django_capture_on_commit_callbacks() as callbacks:
        first = notify(order_id=order_id, kind="received", wording=wording, caused_by=cause)
        again = notify(order_id=order_id, kind="received", wording=wording, caused_by=cause)

    assert [n.channel for n in first] == ["email", "text"]
    assert again == []
    assert len(callbacks) == 1  # one delivery of the pair, queued after commit


def test_delivery_sends_once_and_announces_it_in_the_conversation(order_id, settings):
    # pytest-django swaps in the locmem backend; this test is about the demo's own one.
    settings.EMAIL_BACKEND = "notifications.backends.DatabaseEmailBackend"
    cause = Metadata.for_message(order_placed(("MUG-001", 1), order_id=order_id))
    created = notify(
        order_id=order_id,
        kind="received",
        caused_by=cause,
        wording=messages.received("Ada", "ABCD", "€14.00"),
    )

    for notification in created * 2:  # the second round finds them sent
        notification_deliver(notification_id=notification.id)

    assert SentEmail.objects.get().subject == "We received your order ABCD"
    assert SentText.objects.get().to == "+44 1"
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    announced = OutboxMessage.objects.order_by("type")
    assert [m.type for m in announced] == ["notifications.EmailSent", "notifications.TextSent"]
    assert {m.correlation_id for m in announced} == {cause.correlation_id}
    assert {m.causation_id for m in announced} == {cause.message_id}


def test_an_operator_resend_is_a_send_command_in_the_same_conversation(order_id):
    cause = Metadata.for_message(order_placed(("MUG-001", 1), order_id=order_id))
    email, text = notify(
        order_id=order_id,
        kind="received",
        caused_by=cause,
        wording=messages.received("Ada", "ABCD", "€14.00"),
    )

    notification_resend(notification=email)
    notification_resend(notification=text)

    commands = {m.type: m for m in OutboxMessage.objects.filter(kind="command")}
    assert set(commands) == {"notifications.SendEmail", "notifications.SendText"}
    assert commands["notifications.SendEmail"].payload["subject"] == email.subject
    assert {m.correlation_id for m in commands.values()} == {cause.correlation_id}


def test_a_send_command_delivers_once_per_command(order_id, settings):
    settings.EMAIL_BACKEND = "notifications.backends.DatabaseEmailBackend"
    command = SendEmail(order_id=order_id, to="ada@example.com", subject="Again", body="Hi")
    group = registry.group("notifications")
    record = record_of(command)

    with transaction.atomic():  # what handle_record does, twice
        handle_record(group, record)
        handle_record(group, record)
    for notification in Notification.objects.filter(channel="email"):
        notification_deliver(notification_id=notification.id)

    assert list(SentEmail.objects.values_list("subject", flat=True)) == ["Again"]


def test_a_batch_of_orders_is_delivered_by_one_task_without_a_failed_handlings_notifications(
    scheduled, monkeypatch, django_capture_on_commit_callbacks
):
    """A consumer's batch of three OrderPlaced, the middle one failing after it decided its
    email and text: the neighbours' four notifications go in one delivery task, the failed
    handling's are rolled back with it and are in none (messaging.oncommit)."""
    import dataclasses

    from messaging import handling, parking
    from notifications import services

    orders = [uuid.uuid4() for _ in range(3)]
    notify_ = services.notify

    def notify_then_fail_for_the_middle_one(**kwargs):
        made = notify_(**kwargs)
        if kwargs["order_id"] == orders[1]:
            raise RuntimeError("disk on fire")
        return made

    monkeypatch.setattr(services, "notify", notify_then_fail_for_the_middle_one)
    records = [
        dataclasses.replace(record_of(order_placed(("MUG-001", 1), order_id=order)), offset=i)
        for i, order in enumerate(orders)
    ]

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = handling.handle_batch(registry.group("notifications"), records)

    assert outcomes[1] == parking.PARKED
    decided = list(Notification.objects.order_by("id").values_list("id", "order_id"))
    assert {order for _, order in decided} == {orders[0], orders[2]}
    deliveries = [task for task in scheduled if task[0] == "notifications.deliver"]
    assert deliveries == [("notifications.deliver", ([i for i, _ in decided],), 0.0)]
