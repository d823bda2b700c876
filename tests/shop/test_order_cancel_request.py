"""The customer's Cancel: a CancelOrder for the shop to decide, unless it is plainly too late."""

import pytest

from shop import services
from shop.models import Order
from tests.shop.orders import an_order, row, sent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", [Order.Status.PLACED, Order.Status.CONFIRMED])
def test_a_cancellable_order_gets_a_cancel_order_in_its_conversation(status):
    order = an_order(status)
    before = row(order)

    services.order_cancel_request(order=order)

    [command] = sent()
    assert (command.type, command.kind, command.topic, command.key) == (
        "shop.CancelOrder",
        "command",
        "shop.commands",
        str(order.id),
    )
    assert command.payload == {"order_id": str(order.id), "reason": "at your request"}
    assert (command.correlation_id, command.causation_id) == (order.correlation_id, None)
    assert row(order) == before  # the shop decides when it handles the command


def test_the_customers_reason_goes_with_it():
    order = an_order()

    services.order_cancel_request(order=order, reason="Found it cheaper")

    [command] = sent()
    assert command.payload["reason"] == "Found it cheaper"


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (Order.Status.CANCELLING, "This order is already being cancelled."),
        (Order.Status.DISPATCHED, "This order has already been dispatched."),
        (Order.Status.CANCELLED, "This order is already cancelled."),
    ],
)
def test_a_request_plainly_too_late_is_refused_at_once_and_nothing_is_sent(status, why):
    order = an_order(status)

    with pytest.raises(services.OrderNotCancellable) as refused:
        services.order_cancel_request(order=order)

    assert str(refused.value) == why
    assert sent() == []
