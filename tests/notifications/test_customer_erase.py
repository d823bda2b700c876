"""Notifications on CustomerErased: it keeps that each message was sent and loses to whom
and what it said; nothing more is sent, and a replay brings nobody back."""

import pytest

from messaging import testing
from messaging.contracts import ERASED
from notifications import delivery
from notifications.contracts import SendEmail
from notifications.models import ErasedOrder, Notification, Recipient, SentEmail, SentText
from shop.contracts import CustomerErased, OrderConfirmed
from tests.factories import CUSTOMER, order_placed

pytestmark = pytest.mark.django_db


def the_person_in(*texts: str) -> list[str]:
    values = (CUSTOMER.name.split()[0], CUSTOMER.email, CUSTOMER.phone)
    return [v for v in values if any(v in t for t in texts)]


def test_sent_messages_are_kept_without_their_address_or_words(celery_tasks, settings):
    settings.EMAIL_BACKEND = "notifications.backends.DatabaseEmailBackend"  # the demo's
    placed = order_placed(("MUG-001", 1))
    testing.deliver(placed, to="notifications")
    for notification in Notification.objects.all():
        delivery.notification_deliver(notification_id=notification.id)
    assert SentEmail.objects.count() == 1 and SentText.objects.count() == 1

    handled = testing.deliver(CustomerErased(order_id=placed.order_id), to="notifications")

    assert handled.outcome == "handled"
    for n in Notification.objects.all():
        assert (n.to, n.body, n.status) == (ERASED, ERASED, Notification.Status.SENT)
        assert n.subject and n.dedup_key and n.sent_at  # that it was sent, what about, when
    recipient = Recipient.objects.get(order_id=placed.order_id)
    assert the_person_in(recipient.name, recipient.email, recipient.phone) == []
    # What the demo's backends "sent" goes too.
    for kept in [*SentEmail.objects.all(), *SentText.objects.all()]:
        assert the_person_in(kept.to, kept.body) == []


def test_a_message_not_sent_yet_is_never_sent(celery_tasks, settings):
    settings.EMAIL_BACKEND = "notifications.backends.DatabaseEmailBackend"
    placed = order_placed(("MUG-001", 1))
    testing.deliver(placed, to="notifications")

    testing.deliver(CustomerErased(order_id=placed.order_id), to="notifications")
    for notification in Notification.objects.all():
        delivery.notification_deliver(notification_id=notification.id)

    assert not SentEmail.objects.exists() and not SentText.objects.exists()
    assert set(Notification.objects.values_list("status", flat=True)) == {"failed"}


def test_later_news_and_a_replayed_placement_tell_nobody(celery_tasks):
    placed = order_placed(("MUG-001", 1))
    testing.deliver(CustomerErased(order_id=placed.order_id), to="notifications")

    # The placement read again (a replay of the orders topic), then later news.
    testing.deliver(placed, to="notifications")
    confirmed = testing.deliver(OrderConfirmed(order_id=placed.order_id), to="notifications")
    resent = testing.deliver(
        SendEmail(order_id=placed.order_id, to=CUSTOMER.email, subject="Hi", body="Hello Ada"),
        to="notifications",
    )

    assert confirmed.outcome == "handled" and resent.outcome == "handled"
    assert not Notification.objects.exists()
    recipient = Recipient.objects.get(order_id=placed.order_id)
    assert the_person_in(recipient.name, recipient.email, recipient.phone) == []
    assert ErasedOrder.objects.count() == 1
