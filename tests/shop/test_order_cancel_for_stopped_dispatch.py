"""DispatchCancelled: the warehouse stopped the parcel, so the customer's cancellation holds."""

import pytest

from shop import services
from shop.contracts import CancelOrder
from shop.models import Order
from tests.shop.orders import about, an_order, row, sent
from warehouse.contracts import DispatchCancelled

pytestmark = pytest.mark.django_db

REASON = "Ordered twice by mistake"  # the customer's, carried by CancelDispatch and back


def stopped(order: Order):
    return about(order, DispatchCancelled(order_id=order.id, reason=REASON))


def test_a_cancelling_order_is_cancelled_for_the_customers_reason():
    order = an_order(Order.Status.CANCELLING, status_reason=REASON)
    cause = stopped(order)

    services.order_cancel_for_stopped_dispatch(order_id=order.id, reason=REASON, caused_by=cause)

    [cancelled] = sent()
    assert (cancelled.type, cancelled.key) == ("shop.OrderCancelled", str(order.id))
    assert cancelled.payload == {"order_id": str(order.id), "reason": REASON}
    assert (cancelled.correlation_id, cancelled.causation_id) == (
        order.correlation_id,
        cause.message_id,
    )
    order.refresh_from_db()
    assert (order.status, order.status_reason) == (Order.Status.CANCELLED, REASON)


@pytest.mark.parametrize(
    "status",
    [
        # DispatchRejected cancelled it first: OrderCancelled is not sent twice.
        Order.Status.CANCELLED,
        # Nobody asked to cancel these.
        Order.Status.CONFIRMED,
        Order.Status.DISPATCHED,
    ],
)
def test_an_order_not_being_cancelled_is_left_as_it_was(status):
    order = an_order(status, status_reason="as it was")
    before = row(order)

    services.order_cancel_for_stopped_dispatch(
        order_id=order.id, reason=REASON, caused_by=stopped(order)
    )

    assert row(order) == before
    assert sent() == []


def test_a_refusal_of_a_second_click_does_not_outlive_the_cancellation_it_raced():
    """Two tabs, two Cancel clicks: the second is refused (already being cancelled), then
    the warehouse stops the parcel. The order is cancelled; no refusal stands beside it."""
    order = an_order(Order.Status.CONFIRMED)
    first, second = (CancelOrder(order_id=order.id) for _ in range(2))
    services.order_cancel_by_customer(command=first, caused_by=about(order, first))
    services.order_cancel_by_customer(command=second, caused_by=about(order, second))
    assert Order.objects.get(id=order.id).cancellation_refusal  # the second was refused

    services.order_cancel_for_stopped_dispatch(
        order_id=order.id, reason=REASON, caused_by=stopped(order)
    )

    order.refresh_from_db()
    assert (order.status, order.cancellation_refusal) == ("cancelled", "")
