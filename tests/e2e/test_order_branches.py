"""Every other branch of the conversation, through the real broker and PostgreSQL."""

import threading

import pytest

from messagelog.models import MessageRecord
from notifications.models import SentEmail
from sales.models import DailyProductSales
from shop.models import Order
from tests.e2e.browserless import HttpSession
from tests.e2e.conversation import buy, handled_by, settled
from tests.factories import product
from warehouse.models import Reservation, Stock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_buying_more_than_is_in_stock_cancels_with_the_reason(live_server, wait_until):
    product("UMB-014", stock=1)

    order_id = buy(live_server, "UMB-014", 2)

    wait_until(
        lambda: ("sales", "shop.OrderCancelled") in handled_by(order_id),
        what="the cancellation to reach sales",
    )
    order = Order.objects.get(id=order_id)
    assert order.status == Order.Status.CANCELLED
    assert "UMB-014 (1 left, 2 wanted)" in order.status_reason
    assert Stock.objects.get(sku="UMB-014").reserved == 0
    figures = DailyProductSales.objects.get(sku="UMB-014")
    assert (figures.orders, figures.units, figures.cancelled_orders) == (0, 0, 1)
    wait_until(
        lambda: SentEmail.objects.filter(subject__contains="cancelled").exists(),
        what="the cancellation email",
    )
    assert "1 left, 2 wanted" in SentEmail.objects.get(subject__contains="cancelled").body


def test_a_dispatch_the_warehouse_refuses_cancels_the_order_and_returns_the_stock(
    live_server, wait_until
):
    product("MUG-001", stock=5)

    order_id = buy(live_server, "MUG-001", 2, address="PO Box 42, Springfield")

    order = wait_until(lambda: settled(order_id), what="the order to settle")
    assert order.status == Order.Status.CANCELLED
    assert order.status_reason == "Cannot ship: Our carrier cannot deliver to a PO box"
    wait_until(
        lambda: ("warehouse", "shop.OrderCancelled") in handled_by(order_id),
        what="the warehouse to release the stock",
    )
    assert Reservation.objects.get(order_id=order_id).status == Reservation.Status.RELEASED
    stock = Stock.objects.get(sku="MUG-001")
    assert (stock.on_hand, stock.reserved) == (5, 0)
    assert MessageRecord.objects.filter(
        type="warehouse.DispatchRejected", key=str(order_id)
    ).exists()


def test_the_customer_cancels_while_the_parcel_is_packing(live_server, wait_until):
    product("MUG-001", stock=5)
    session = HttpSession(live_server.url)
    order_id = buy(live_server, "MUG-001", 2, session=session)
    wait_until(
        lambda: Order.objects.filter(id=order_id, status="confirmed").exists(),
        what="the order to be confirmed",
    )

    response = session.post_form(f"/orders/{order_id}/cancel/", f"/orders/{order_id}/", {})

    assert response.status == 302
    order = wait_until(lambda: settled(order_id), what="the order to settle")
    assert order.status == Order.Status.CANCELLED, order.status_reason
    assert order.status_reason == "at your request"
    wait_until(
        lambda: ("sales", "shop.OrderCancelled") in handled_by(order_id),
        what="sales to reverse the order",
    )
    wait_until(
        lambda: Reservation.objects.filter(order_id=order_id, status="released").exists(),
        what="the warehouse to release the stock",
    )
    assert Stock.objects.get(sku="MUG-001").available == 5
    assert DailyProductSales.objects.get(sku="MUG-001").cancelled_orders == 1
    conversation = {
        "shop.CancelOrder",
        "warehouse.CancelDispatch",
        "warehouse.DispatchCancelled",
        "shop.OrderCancelled",
        "warehouse.StockReleased",
    }

    def logged():
        return set(MessageRecord.objects.filter(key=str(order_id)).values_list("type", flat=True))

    types = wait_until(lambda: conversation <= logged() and logged(), what=str(conversation))
    assert "warehouse.OrderDispatched" not in types


def test_cancelling_after_dispatch_is_refused_with_a_clear_message(live_server, wait_until):
    product("MUG-001", stock=5)
    session = HttpSession(live_server.url)
    order_id = buy(live_server, "MUG-001", 1, session=session)
    wait_until(lambda: settled(order_id), what="the order to be dispatched")

    # The page no longer offers Cancel: this is a Cancel button left open in another tab
    # (any CSRF-protected page of the session provides the token).
    response = session.post_form(f"/orders/{order_id}/cancel/", "/products/mug-001/", {})

    assert response.status == 302
    assert "already been dispatched" in session.get(f"/orders/{order_id}/").body
    assert Order.objects.get(id=order_id).status == Order.Status.DISPATCHED
    assert not MessageRecord.objects.filter(type="shop.CancelOrder", key=str(order_id)).exists()


def test_simultaneous_orders_for_the_last_items_never_oversell(live_server, wait_until):
    product("CHR-008", stock=3)
    orders, errors = [], []

    def shopper():
        try:
            orders.append(buy(live_server, "CHR-008", 1))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=shopper) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(orders) == 8

    wait_until(
        lambda: all(settled(o) for o in orders), what="all eight orders to settle", timeout=90
    )
    statuses = sorted(Order.objects.filter(id__in=orders).values_list("status", flat=True))
    assert statuses == ["cancelled"] * 5 + ["dispatched"] * 3
    stock = Stock.objects.get(sku="CHR-008")
    assert (stock.on_hand, stock.reserved) == (0, 0)
    assert DailyProductSales.objects.get(sku="CHR-008").units == 3
