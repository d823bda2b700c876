"""CancelOrder: granted, or refused with OrderCancellationRefused and the reason, never dropped."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from shop import services
from shop.contracts import CancelOrder
from shop.models import Order, OrderLine
from tests.factories import CUSTOMER

pytestmark = pytest.mark.django_db


def an_order(status: str, reason: str = "") -> Order:
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=status,
        status_reason=reason,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("14.00"),
        placed_at=timezone.now(),
    )
    OrderLine.objects.create(
        order=order, sku="MUG-001", name="Mug", unit_price=Decimal("14.00"), quantity=1
    )
    return order


def cancel(order_id: uuid.UUID, correlation_id: uuid.UUID) -> Metadata:
    command = CancelOrder(order_id=order_id)
    cause = Metadata.for_message(command, correlation_id=correlation_id)
    services.order_cancel_by_customer(command=command, caused_by=cause)
    return cause


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Order.Status.DISPATCHED, "This order has already been dispatched."),
        (Order.Status.CANCELLING, "This order is already being cancelled."),
        (Order.Status.CANCELLED, "This order is already cancelled."),
    ],
)
def test_a_refusal_is_an_event_in_the_conversation_with_the_reason(status, reason):
    order = an_order(status, reason="as it was")

    cause = cancel(order.id, order.correlation_id)

    [refusal] = OutboxMessage.objects.all()
    assert (refusal.type, refusal.key) == ("shop.OrderCancellationRefused", str(order.id))
    assert refusal.payload["reason"] == reason
    assert refusal.correlation_id == order.correlation_id
    assert refusal.causation_id == cause.message_id
    order.refresh_from_db()
    assert (order.status, order.status_reason) == (status, "as it was")
    assert order.cancellation_refusal == reason  # for the order page and the API


def test_a_cancel_order_for_no_order_is_refused_not_raised():
    # E.g. the shop rejected its PlaceOrder: retrying could never find the order.
    order_id, correlation_id = uuid.uuid4(), uuid.uuid4()

    cause = cancel(order_id, correlation_id)

    [refusal] = OutboxMessage.objects.all()
    assert (refusal.type, refusal.key) == ("shop.OrderCancellationRefused", str(order_id))
    assert refusal.payload["reason"] == services.NO_SUCH_ORDER
    assert (refusal.correlation_id, refusal.causation_id) == (correlation_id, cause.message_id)
    assert not Order.objects.exists()


def test_a_placed_order_is_cancelled_at_once():
    order = an_order(Order.Status.PLACED)

    cancel(order.id, order.correlation_id)

    [cancelled] = OutboxMessage.objects.all()
    assert (cancelled.type, cancelled.payload["reason"]) == (
        "shop.OrderCancelled",
        "at your request",
    )
    order.refresh_from_db()
    assert (order.status, order.cancellation_refusal) == (Order.Status.CANCELLED, "")


def test_a_confirmed_order_waits_for_the_warehouse():
    order = an_order(Order.Status.CONFIRMED)

    cancel(order.id, order.correlation_id)

    [stop] = OutboxMessage.objects.all()
    assert stop.type == "warehouse.CancelDispatch"
    order.refresh_from_db()
    assert (order.status, order.status_reason) == (Order.Status.CANCELLING, "at your request")
