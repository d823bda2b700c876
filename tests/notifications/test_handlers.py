"""What notifications does with an order's events, handed over without a broker
(messaging.testing)."""

import pytest

from messaging import testing
from notifications.models import Notification
from shop.contracts import OrderConfirmed
from tests.factories import order_placed

pytestmark = pytest.mark.django_db


def test_a_placed_order_decides_an_email_and_a_text():
    placed = order_placed(("MUG-001", 1))

    handled = testing.deliver(placed, to="notifications")

    assert handled.outcome == "handled"
    assert sorted(
        Notification.objects.filter(order_id=placed.order_id).values_list("kind", "channel")
    ) == [("received", "email"), ("received", "text")]


def test_news_of_an_order_not_heard_of_yet_waits_for_its_placement():
    """OrderConfirmed can be read before OrderPlaced (another partition): it waits."""
    placed = order_placed(("MUG-001", 1))

    early = testing.deliver(OrderConfirmed(order_id=placed.order_id), to="notifications")

    assert early.outcome == "parked" and not Notification.objects.exists()
