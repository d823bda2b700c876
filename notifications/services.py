"""The notifications app's writes: deciding what to tell a customer.

Deciding happens in the handler's transaction (one Notification row per order, kind and
channel, so a redelivered event decides nothing new); sending is a side effect that
cannot be rolled back, so it runs after commit, in a Celery task: notifications.delivery
tells the customer, at least once, with a deduplication key.

The services handlers call run in their caller's transaction, without a savepoint of
their own (`atomic(savepoint=False)`): a message's handling already rolls back whole
when it fails (messaging.handling), and a failing service fails it whole. The ones people
call (views, the admin, commands) keep theirs: they refuse with exceptions their callers
catch.
"""

import uuid

from django.db import transaction

from messaging import outbox
from messaging.contracts import ERASED, ERASED_EMAIL
from messaging.inbox import NotYet
from messaging.metadata import Metadata
from messaging.personal import scrubbed

from . import delivery, messages
from .backends import forget_sent
from .contracts import SendEmail, SendText
from .models import ErasedOrder, Notification, Recipient


def recipient_record(*, order_id: uuid.UUID, name: str, email: str, phone: str) -> Recipient:
    if is_erased(order_id):
        # An old OrderPlaced read again after its customer was erased: nobody comes back.
        name, email, phone = ERASED, ERASED_EMAIL, ERASED
    recipient, _ = Recipient.objects.get_or_create(
        order_id=order_id, defaults={"name": name, "email": email, "phone": phone}
    )
    return recipient


def is_erased(order_id: uuid.UUID) -> bool:
    return ErasedOrder.objects.filter(order_id=order_id).exists()


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
    *,
    order_id: uuid.UUID,
    kind: str,
    wording: messages.Wording,
    caused_by: Metadata,
    recipient: Recipient | None = None,
) -> list[Notification]:
    """Decide to send an email and a text; they go out once the transaction commits.
    Nothing is sent about an order whose customer was erased: there is nobody to tell.

    `recipient` saves reading it again when the caller has it. Each (kind, channel) is sent
    once: what an earlier handling of the same order already created is not made again.
    """
    recipient = recipient or recipient_get(order_id=order_id)
    if recipient.email == ERASED_EMAIL:  # erasure rewrites the recipient with ErasedOrder
        return []
    made = set(
        Notification.objects.filter(order_id=order_id, kind=kind).values_list("channel", flat=True)
    )
    created = Notification.objects.bulk_create(
        Notification(
            order_id=order_id,
            kind=kind,
            channel=channel,
            to=to,
            subject=wording.subject,
            body=body,
            correlation_id=caused_by.correlation_id,
            caused_by=caused_by.message_id,
        )
        for channel, to, body in (
            (Notification.Channel.EMAIL, recipient.email, wording.email),
            (Notification.Channel.TEXT, recipient.phone, wording.text),
        )
        if channel not in made
    )
    _deliver_after_commit(created)
    return created


def send_requested(
    *, order_id: uuid.UUID, channel: str, to: str, subject: str, body: str, caused_by: Metadata
) -> Notification | None:
    """SendEmail / SendText: one delivery per command (the inbox makes the command once).
    None for an order whose customer was erased (an old command read again)."""
    if is_erased(order_id):
        return None
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
    # An order's email and text, decided together, go in one task (one claim, one mark).
    delivery.schedule([notification.id for notification in notifications])


@transaction.atomic
def notification_resend(*, notification: Notification) -> Metadata | None:
    """Ask, through Kafka, for this email or text to be sent again (an operator's resend).

    It becomes a new notification with a key of its own: meant to arrive a second time.
    None, sending nothing, when its customer was erased.
    """
    if is_erased(notification.order_id):
        return None
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


@transaction.atomic(savepoint=False)
def customer_erase(*, order_id: uuid.UUID) -> None:
    """CustomerErased: keep that each message was sent (what about, by which channel, when,
    with which key) and lose to whom and what it said (the body names the customer). A
    message not sent yet never will be. The demo's backends keep what they "sent": those
    copies go too. Remembered, so a replay brings nobody back."""
    ErasedOrder.objects.get_or_create(order_id=order_id)
    Recipient.objects.filter(order_id=order_id).update(
        name=ERASED, email=ERASED_EMAIL, phone=ERASED
    )
    for notification in Notification.objects.select_for_update().filter(order_id=order_id):
        notification.to, notification.body = ERASED, ERASED
        notification.last_error = scrubbed(notification.last_error, ERASED)
        if notification.status in (Notification.Status.PENDING, Notification.Status.FAILED):
            notification.status = Notification.Status.FAILED
            notification.next_attempt_at = None
            notification.last_error = NOT_SENT
        notification.save(update_fields=["to", "body", "status", "next_attempt_at", "last_error"])
        if notification.dedup_key:
            forget_sent(key=notification.dedup_key)


NOT_SENT = "Not sent: the customer was erased before it went out."
