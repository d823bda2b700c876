"""StockReserved: the shop confirms the order and asks the warehouse to dispatch it."""

import pytest

from shop import services
from shop.models import Order
from tests.factories import CUSTOMER
from tests.shop.orders import about, an_order, row, sent
from warehouse.contracts import ReservedLine, StockReserved

pytestmark = pytest.mark.django_db


def stock_reserved(order: Order):
    lines = tuple(ReservedLine(sku=ln.sku, quantity=ln.quantity) for ln in order.lines.all())
    return about(order, StockReserved(order_id=order.id, lines=lines))


def test_a_placed_order_is_confirmed_and_its_dispatch_asked_for():
    order = an_order(lines=(("MUG-001", 2), ("KTL-002", 1)))
    cause = stock_reserved(order)

    services.order_confirm(order_id=order.id, caused_by=cause)

    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    confirmed, dispatch = sent()
    assert (confirmed.type, confirmed.kind, confirmed.key) == (
        "shop.OrderConfirmed",
        "event",
        str(order.id),
    )
    assert confirmed.payload == {"order_id": str(order.id)}
    assert (dispatch.type, dispatch.kind, dispatch.topic, dispatch.key) == (
        "warehouse.DispatchOrder",
        "command",
        "warehouse.commands",
        str(order.id),
    )
    assert dispatch.payload == {
        "order_id": str(order.id),
        "recipient": CUSTOMER.name,
        "address": CUSTOMER.address,
    }
    for message in (confirmed, dispatch):
        assert (message.correlation_id, message.causation_id) == (
            order.correlation_id,
            cause.message_id,
        )


def test_an_order_cancelled_before_its_stock_was_reserved_stays_cancelled_and_is_not_dispatched():
    # The customer cancelled while the warehouse was reserving; it releases on OrderCancelled.
    order = an_order(Order.Status.CANCELLED, status_reason="at your request")
    before = row(order)

    services.order_confirm(order_id=order.id, caused_by=stock_reserved(order))

    assert row(order) == before
    assert sent() == []


def test_a_confirmed_order_is_dispatched_once():
    order = an_order()

    services.order_confirm(order_id=order.id, caused_by=stock_reserved(order))
    services.order_confirm(order_id=order.id, caused_by=stock_reserved(order))

    assert [m.type for m in sent()] == ["shop.OrderConfirmed", "warehouse.DispatchOrder"]
    assert Order.objects.get(id=order.id).status == Order.Status.CONFIRMED
