"""DispatchCancellationRefused: the customer's CancelOrder is refused after all, and told so."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from shop import services
from shop.contracts import CancelOrder
from shop.models import Order
from tests.factories import CUSTOMER
from warehouse.contracts import DispatchCancellationRefused, OrderDispatched

pytestmark = pytest.mark.django_db

TOO_LATE = "Already dispatched with Parcel Post, tracking number PP0000000042"


def test_the_parcel_left_so_the_shop_refuses_the_cancellation_with_the_warehouses_reason():
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=Order.Status.CONFIRMED,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("14.00"),
        placed_at=timezone.now(),
    )
    asked = Metadata.for_message(
        CancelOrder(order_id=order.id), correlation_id=order.correlation_id
    )
    services.order_cancel_by_customer(command=CancelOrder(order_id=order.id), caused_by=asked)
    # The parcel left before CancelDispatch reached the warehouse: it says so first.
    dispatched = OrderDispatched(order_id=order.id, carrier="Parcel Post", tracking_number="PP42")
    services.order_mark_dispatched(
        order_id=order.id,
        carrier="Parcel Post",
        tracking_number="PP42",
        caused_by=Metadata.for_message(dispatched, caused_by=asked),
    )
    refused = Metadata.for_message(
        DispatchCancellationRefused(order_id=order.id, reason=TOO_LATE), caused_by=asked
    )

    services.order_refuse_cancellation_for_dispatch(
        order_id=order.id, reason=TOO_LATE, caused_by=refused
    )

    answer = OutboxMessage.objects.get(type="shop.OrderCancellationRefused")
    assert answer.payload["reason"] == TOO_LATE
    assert (answer.correlation_id, answer.causation_id) == (
        order.correlation_id,
        refused.message_id,
    )
    order.refresh_from_db()
    assert order.status == Order.Status.DISPATCHED
    assert (order.tracking_number, order.status_reason) == ("PP42", "")
    assert order.cancellation_refusal == TOO_LATE


def test_the_refusal_is_told_once_however_often_the_warehouse_says_it():
    """A replay of warehouse.events after the inbox forgot it hands the shop the same
    DispatchCancellationRefused again: the order itself must know it was answered."""
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=Order.Status.CONFIRMED,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("14.00"),
        placed_at=timezone.now(),
    )
    asked = Metadata.for_message(
        CancelOrder(order_id=order.id), correlation_id=order.correlation_id
    )
    services.order_cancel_by_customer(command=CancelOrder(order_id=order.id), caused_by=asked)
    dispatched = OrderDispatched(order_id=order.id, carrier="Parcel Post", tracking_number="PP42")
    services.order_mark_dispatched(
        order_id=order.id,
        carrier="Parcel Post",
        tracking_number="PP42",
        caused_by=Metadata.for_message(dispatched, caused_by=asked),
    )
    refused = Metadata.for_message(
        DispatchCancellationRefused(order_id=order.id, reason=TOO_LATE), caused_by=asked
    )

    for _ in range(2):
        services.order_refuse_cancellation_for_dispatch(
            order_id=order.id, reason=TOO_LATE, caused_by=refused
        )

    assert OutboxMessage.objects.filter(type="shop.OrderCancellationRefused").count() == 1
    order.refresh_from_db()
    assert (order.status, order.cancellation_refusal) == (Order.Status.DISPATCHED, TOO_LATE)
