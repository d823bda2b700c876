"""What sales does with the order facts, handed over without a broker (messaging.testing)."""

from decimal import Decimal

import pytest

from messaging import testing
from sales.models import DailyProductSales
from shop.contracts import OrderCancelled, OrderConfirmed
from tests.factories import order_placed

pytestmark = pytest.mark.django_db


def test_a_placed_order_counts_and_its_cancellation_reverses_it_sending_nothing():
    placed = order_placed(("MUG-001", 2))

    counted = testing.deliver(placed, to="sales")
    reversed_ = testing.deliver(OrderCancelled(order_id=placed.order_id, reason="x"), to="sales")

    assert (counted.outcome, reversed_.outcome) == ("handled", "handled")
    assert counted.sent == reversed_.sent == []  # sales publishes nothing
    row = DailyProductSales.objects.get(sku="MUG-001")
    assert (row.orders, row.units, row.revenue, row.cancelled_orders) == (0, 0, Decimal(0), 1)


def test_facts_sales_does_not_follow_are_ignored():
    handled = testing.deliver(
        OrderConfirmed(order_id=order_placed(("MUG-001", 1)).order_id), to="sales"
    )

    assert handled.outcome == "ignored"
