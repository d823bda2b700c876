"""What the shop does with the commands it owns, handed over without a broker
(messaging.testing): PlaceOrder is answered by OrderPlaced or OrderRejected."""

import uuid

import pytest

from messaging import testing
from shop.contracts import Money, OrderPlaced, OrderRejected, PlaceOrder, RequestedLine
from tests.factories import CUSTOMER, product

pytestmark = pytest.mark.django_db


def place(*lines: tuple[str, int]) -> PlaceOrder:
    return PlaceOrder(
        order_id=uuid.uuid4(),
        customer=CUSTOMER,
        lines=tuple(RequestedLine(sku=sku, quantity=qty) for sku, qty in lines),
    )


def test_place_order_is_answered_with_the_fact_in_its_conversation():
    product("MUG-001", price="14.00")
    command = place(("MUG-001", 2))

    handled = testing.deliver(command, to="shop")

    [placed] = handled.sent_of(OrderPlaced)
    assert (placed.order_id, placed.total) == (command.order_id, Money(amount=28, currency="EUR"))
    [sent] = handled.sent
    assert sent.metadata.correlation_id == handled.metadata.correlation_id


def test_place_order_for_a_product_no_longer_sold_is_refused_with_the_reason():
    handled = testing.deliver(place(("GONE-1", 1)), to="shop")

    [refused] = handled.sent_of(OrderRejected)
    assert refused.reason == "No longer for sale: GONE-1"
