"""OrderDispatched: the shop records that the parcel left, with its carrier and tracking number."""

import pytest

from shop import services
from shop.models import Order
from tests.shop.orders import about, an_order, row, sent
from warehouse.contracts import OrderDispatched

pytestmark = pytest.mark.django_db


def dispatched(order: Order):
    return about(
        order,
        OrderDispatched(order_id=order.id, carrier="ParcelPost", tracking_number="PP0000000042"),
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Order.Status.CONFIRMED, ""),
        # The parcel left before CancelDispatch reached the warehouse: the cancellation is moot.
        (Order.Status.CANCELLING, "at your request"),
    ],
)
def test_the_order_is_dispatched_with_its_tracking_number(status, reason):
    order = an_order(status, status_reason=reason)

    services.order_mark_dispatched(
        order_id=order.id,
        carrier="ParcelPost",
        tracking_number="PP0000000042",
        caused_by=dispatched(order),
    )

    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number, order.status_reason) == (
        Order.Status.DISPATCHED,
        "ParcelPost",
        "PP0000000042",
        "",
    )
    assert sent() == []  # notifications follow the warehouse's OrderDispatched itself


@pytest.mark.parametrize(
    "status", [Order.Status.PLACED, Order.Status.CANCELLED, Order.Status.DISPATCHED]
)
def test_an_order_the_warehouse_was_not_asked_to_ship_is_left_as_it_was(status):
    order = an_order(status, status_reason="as it was")
    before = row(order)

    services.order_mark_dispatched(
        order_id=order.id,
        carrier="ParcelPost",
        tracking_number="PP0000000042",
        caused_by=dispatched(order),
    )

    assert row(order) == before
    assert sent() == []
