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


def cancel(order_id: uuid.UUID, correlation_id: uuid.UUID, **reason: str) -> Metadata:
    command = CancelOrder(order_id=order_id, **reason)
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
    # Before the stock is reserved nobody else has to agree: the warehouse releases
    # whatever it reserves when OrderCancelled reaches it.
    order = an_order(Order.Status.PLACED)

    cause = cancel(order.id, order.correlation_id)

    [cancelled] = OutboxMessage.objects.all()
    assert (cancelled.type, cancelled.kind, cancelled.key) == (
        "shop.OrderCancelled",
        "event",
        str(order.id),
    )
    assert cancelled.payload == {"order_id": str(order.id), "reason": "at your request"}
    assert (cancelled.correlation_id, cancelled.causation_id) == (
        order.correlation_id,
        cause.message_id,
    )
    order.refresh_from_db()
    assert (order.status, order.status_reason, order.cancellation_refusal) == (
        Order.Status.CANCELLED,
        "at your request",
        "",
    )


def test_a_confirmed_order_waits_for_the_warehouse():
    # After the stock is reserved the parcel may be packing: only the warehouse knows.
    order = an_order(Order.Status.CONFIRMED)

    cause = cancel(order.id, order.correlation_id)

    [stop] = OutboxMessage.objects.all()
    assert (stop.type, stop.kind, stop.topic, stop.key) == (
        "warehouse.CancelDispatch",
        "command",
        "warehouse.commands",  # behind the DispatchOrder it may stop, on its key
        str(order.id),
    )
    assert stop.payload == {"order_id": str(order.id), "reason": "at your request"}
    assert (stop.correlation_id, stop.causation_id) == (order.correlation_id, cause.message_id)
    order.refresh_from_db()
    assert (order.status, order.status_reason) == (Order.Status.CANCELLING, "at your request")
    assert order.cancellation_refusal == ""


@pytest.mark.parametrize(
    ("status", "sent"),
    [
        (Order.Status.PLACED, "shop.OrderCancelled"),
        (Order.Status.CONFIRMED, "warehouse.CancelDispatch"),
    ],
)
def test_the_customers_own_reason_is_passed_on_and_kept(status, sent):
    order = an_order(status)

    cancel(order.id, order.correlation_id, reason="Ordered twice by mistake")

    [message] = OutboxMessage.objects.all()
    assert (message.type, message.payload["reason"]) == (sent, "Ordered twice by mistake")
    order.refresh_from_db()
    assert order.status_reason == "Ordered twice by mistake"
