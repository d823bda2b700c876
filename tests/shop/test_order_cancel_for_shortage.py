"""StockUnavailable cancels the order with a reason the customer can read."""

import uuid

import pytest

from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from shop import services
from shop.contracts import PlaceOrder, RequestedLine
from shop.models import Order
from tests.factories import CUSTOMER, product
from warehouse.contracts import Shortage

pytestmark = pytest.mark.django_db


def placed_order(skus: list[str]) -> Order:
    command = PlaceOrder(
        order_id=uuid.uuid4(),
        customer=CUSTOMER,
        lines=tuple(RequestedLine(sku=sku, quantity=5) for sku in skus),
    )
    return services.order_place(command=command, caused_by=Metadata.for_message(command))


def cancelled_for(order: Order, shortages: list[Shortage]) -> tuple[Order, str]:
    cause = Metadata.for_message(
        PlaceOrder(
            order_id=order.id,
            customer=CUSTOMER,
            lines=(RequestedLine(sku=shortages[0].sku, quantity=1),),
        )
    )
    services.order_cancel_for_shortage(order_id=order.id, shortages=shortages, caused_by=cause)
    event = OutboxMessage.objects.get(type="shop.OrderCancelled")
    return Order.objects.get(pk=order.pk), event.payload["reason"]


def test_the_reason_names_the_products_as_the_customer_saw_them():
    product("MUG-001")
    product("KTL-002")
    order = placed_order(["MUG-001", "KTL-002"])

    order, reason = cancelled_for(order, [Shortage(sku="KTL-002", requested=5, available=1)])

    assert order.status == Order.Status.CANCELLED
    assert reason == "Out of stock: Product KTL-002 (1 left, 5 wanted)"
    assert order.status_reason == reason


def test_a_shortage_on_every_line_of_a_long_order_is_kept_whole_in_the_event():
    skus = [f"LONG-{n:03}" for n in range(50)]
    for sku in skus:
        product(sku)
    order = placed_order(skus)
    shortages = [Shortage(sku=sku, requested=5, available=0) for sku in skus]

    order, reason = cancelled_for(order, shortages)

    assert reason.count("(0 left, 5 wanted)") == 50
    assert len(reason) > 500  # more than the order's column holds
    assert order.status == Order.Status.CANCELLED
    assert len(order.status_reason) == 500 and order.status_reason.endswith("…")
    assert reason.startswith(order.status_reason[:-1])
