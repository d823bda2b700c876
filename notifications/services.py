"""The notifications app's writes: deciding what to tell a customer.

Deciding happens in the handler's transaction (one Notification row per order, kind and
channel, so a redelivered event decides nothing new); sending is a side effect that
cannot be rolled back, so it runs after commit, in a Celery task: notifications.delivery
tells the customer, at least once, with a deduplication key.
"""

import uuid

from django.db import transaction

from messaging import outbox
from messaging.inbox import NotYet
from messaging.metadata import Metadata

from . import delivery, messages
from .contracts import SendEmail, SendText
from .models import Notification, Recipient


def recipient_record(*, order_id: uuid.UUID, name: str, email: str, phone: str) -> Recipient:
    recipient, _ = Recipient.objects.get_or_create(
        order_id=order_id, defaults={"name": name, "email": email, "phone": phone}
    )
    return recipient


def recipient_get(*, order_id: uuid.UUID) -> Recipient:
    """The order's customer, known from its OrderPlaced.

    The order's later events can come first: OrderDispatched travels on another topic, and
    Kafka orders records only within a partition. Until OrderPlaced has been handled the
    event waits for it (NotYet) instead of failing.
    """
    try:
        return Recipient.objects.get(order_id=order_id)
    except Recipient.DoesNotExist:
        raise NotYet(f"order {order_id}'s OrderPlaced has not been handled yet") from None


def notify(
    *, order_id: uuid.UUID, kind: str, wording: messages.Wording, caused_by: Metadata
) -> list[Notification]:
    """Decide to send an email and a text; they go out once the transaction commits."""
    recipient = recipient_get(order_id=order_id)
    created = []
    for channel, to, body in (
        (Notification.Channel.EMAIL, recipient.email, wording.email),
        (Notification.Channel.TEXT, recipient.phone, wording.text),
    ):
        notification, is_new = Notification.objects.get_or_create(
            order_id=order_id,
            kind=kind,
            channel=channel,
            defaults={
                "to": to,
                "subject": wording.subject,
                "body": body,
                "correlation_id": caused_by.correlation_id,
                "caused_by": caused_by.message_id,
            },
        )
        if is_new:
            created.append(notification)
    _deliver_after_commit(created)
    return created


def send_requested(
    *, order_id: uuid.UUID, channel: str, to: str, subject: str, body: str, caused_by: Metadata
) -> Notification:
    """SendEmail / SendText: one delivery per command (the inbox makes the command once)."""
    notification = Notification.objects.create(
        order_id=order_id,
        kind=f"requested-{str(caused_by.message_id)[:8]}",
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        correlation_id=caused_by.correlation_id,
        caused_by=caused_by.message_id,
    )
    _deliver_after_commit([notification])
    return notification


def _deliver_after_commit(notifications: list[Notification]) -> None:
    for notification in notifications:
        delivery.schedule(notification.id)


@transaction.atomic
def notification_resend(*, notification: Notification) -> Metadata:
    """Ask, through Kafka, for this email or text to be sent again (an operator's resend).

    It becomes a new notification with a key of its own: meant to arrive a second time.
    """
    if notification.channel == Notification.Channel.EMAIL:
        command = SendEmail(
            order_id=notification.order_id,
            to=notification.to,
            subject=notification.subject,
            body=notification.body,
        )
    else:
        command = SendText(
            order_id=notification.order_id, to=notification.to, body=notification.body
        )
    return outbox.send(command, correlation_id=notification.correlation_id)
