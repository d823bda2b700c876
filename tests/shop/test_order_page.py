"""The order page: its status, and the answer to the customer's Cancel, whatever it was."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import OutboxMessage
from shop import services
from shop.contracts import CancelOrder
from shop.models import Order
from shop.views import SESSION_ORDERS
from tests.factories import CUSTOMER

pytestmark = pytest.mark.django_db


def placed_here(client, status: str) -> Order:
    """An order this browser placed (its session remembers it)."""
    order = Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=status,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("14.00"),
        placed_at=timezone.now(),
    )
    session = client.session
    session[SESSION_ORDERS] = {str(order.id): str(order.correlation_id)}
    session.save()
    return order


def shop_handles_the_cancel_order() -> None:
    row = OutboxMessage.objects.get(type="shop.CancelOrder")
    command = CancelOrder.model_validate(row.payload)
    services.order_cancel_by_customer(command=command, caused_by=row.metadata())


def live(client, order: Order) -> str:
    return client.get(reverse("shop:order-live", args=[order.id])).content.decode()


def test_a_cancel_the_shop_refuses_shows_why_below_the_status(client):
    order = placed_here(client, Order.Status.CONFIRMED)
    response = client.post(reverse("shop:cancel", args=[order.id]), follow=True)
    assert "its status below shows the answer" in response.content.decode()
    # The parcel left before the shop read the CancelOrder.
    Order.objects.filter(id=order.id).update(status=Order.Status.DISPATCHED)
    assert 'data-settled="false"' in live(client, order)  # the answer is still to come

    shop_handles_the_cancel_order()

    page = live(client, order)
    assert 'data-status="dispatched"' in page
    assert "Your request to cancel was refused: This order has already been dispatched." in page
    assert "OrderCancellationRefused" in page  # in the conversation too
    assert 'data-settled="true"' in page


def test_a_cancel_the_shop_grants_settles_the_page_without_a_refusal(client):
    order = placed_here(client, Order.Status.PLACED)
    client.post(reverse("shop:cancel", args=[order.id]))

    shop_handles_the_cancel_order()

    page = live(client, order)
    assert "Cancelled: at your request" in page
    assert "refused" not in page
    assert 'data-settled="true"' in page
