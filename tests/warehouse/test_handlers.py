"""What the warehouse does with each message it follows, handed over without a broker
(messaging.testing): the routing in warehouse/handlers.py, and what the handlers send."""

import pytest

from messaging import testing
from shop.contracts import OrderCancelled
from tests.factories import order_placed, product
from warehouse.contracts import (
    CancelDispatch,
    DispatchCancelled,
    DispatchOrder,
    StockLevelChanged,
    StockReleased,
    StockReserved,
)
from warehouse.models import Reservation

pytestmark = pytest.mark.django_db


def test_an_order_placed_reserves_its_stock_and_says_so():
    product("MUG-001", stock=5)
    placed = order_placed(("MUG-001", 2))

    handled = testing.deliver(placed, to="warehouse")

    assert handled.outcome == "handled"
    [reserved] = handled.sent_of(StockReserved)
    assert (reserved.order_id, [(ln.sku, ln.quantity) for ln in reserved.lines]) == (
        placed.order_id,
        [("MUG-001", 2)],
    )
    assert [(s.sku, s.available) for s in handled.sent_of(StockLevelChanged)] == [("MUG-001", 3)]
    assert handled.sent[0].metadata.causation_id == handled.metadata.message_id


def test_the_same_order_placed_twice_reserves_once():
    product("MUG-001", stock=5)
    placed = order_placed(("MUG-001", 2))
    first = testing.deliver(placed, to="warehouse")

    again = testing.deliver(placed, to="warehouse")  # a new message id: a second fact

    assert first.sent_of(StockReserved) and not again.sent
    assert Reservation.objects.count() == 1


def test_a_cancellation_releases_what_was_reserved():
    product("MUG-001", stock=5)
    placed = order_placed(("MUG-001", 2))
    testing.deliver(placed, to="warehouse")

    handled = testing.deliver(OrderCancelled(order_id=placed.order_id, reason="x"), to="warehouse")

    [released] = handled.sent_of(StockReleased)
    assert [(ln.sku, ln.quantity) for ln in released.lines] == [("MUG-001", 2)]


def test_dispatch_commands_are_the_warehouses_to_answer():
    product("MUG-001", stock=5)
    placed = order_placed(("MUG-001", 1))
    testing.deliver(placed, to="warehouse")
    command = DispatchOrder(order_id=placed.order_id, recipient="Ada", address="1 Row")

    packing = testing.deliver(command, to="warehouse")
    stopped = testing.deliver(CancelDispatch(order_id=placed.order_id, reason="no"), to="warehouse")

    assert packing.outcome == "handled" and not packing.sent  # it ships after packing
    assert [m.reason for m in stopped.sent_of(DispatchCancelled)] == ["no"]
