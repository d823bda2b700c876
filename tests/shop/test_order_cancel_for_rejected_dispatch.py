"""DispatchRejected: the warehouse will not ship the order, so the shop cancels it."""

import pytest

from shop import services
from shop.models import Order
from tests.shop.orders import about, an_order, row, sent
from warehouse.contracts import DispatchRejected

pytestmark = pytest.mark.django_db

PO_BOX = "Our carrier cannot deliver to a PO box"


def rejected(order: Order):
    return about(order, DispatchRejected(order_id=order.id, reason=PO_BOX))


@pytest.mark.parametrize(
    "status",
    [
        Order.Status.CONFIRMED,
        # The customer asked to cancel, and the warehouse refused the dispatch before its
        # CancelDispatch came: cancelled either way.
        Order.Status.CANCELLING,
    ],
)
def test_the_order_is_cancelled_saying_why_it_cannot_ship(status):
    order = an_order(status)
    cause = rejected(order)

    services.order_cancel_for_rejected_dispatch(order_id=order.id, reason=PO_BOX, caused_by=cause)

    [cancelled] = sent()
    assert (cancelled.type, cancelled.key) == ("shop.OrderCancelled", str(order.id))
    assert cancelled.payload == {
        "order_id": str(order.id),
        "reason": "Cannot ship: Our carrier cannot deliver to a PO box",
    }
    assert (cancelled.correlation_id, cancelled.causation_id) == (
        order.correlation_id,
        cause.message_id,
    )
    order.refresh_from_db()
    assert (order.status, order.status_reason) == (
        Order.Status.CANCELLED,
        "Cannot ship: Our carrier cannot deliver to a PO box",
    )


@pytest.mark.parametrize(
    "status", [Order.Status.PLACED, Order.Status.DISPATCHED, Order.Status.CANCELLED]
)
def test_an_order_not_waiting_for_its_dispatch_is_left_as_it_was(status):
    order = an_order(status, status_reason="as it was")
    before = row(order)

    services.order_cancel_for_rejected_dispatch(
        order_id=order.id, reason=PO_BOX, caused_by=rejected(order)
    )

    assert row(order) == before
    assert sent() == []
