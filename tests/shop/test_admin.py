"""The shop's admin: orders are records of what happened, placed only by PlaceOrder."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from shop.models import Order
from tests.factories import CUSTOMER

pytestmark = pytest.mark.django_db


def an_order() -> Order:
    return Order.objects.create(
        correlation_id=uuid.uuid4(),
        status=Order.Status.CONFIRMED,
        customer_name=CUSTOMER.name,
        email=CUSTOMER.email,
        phone=CUSTOMER.phone,
        address=CUSTOMER.address,
        total=Decimal("14.00"),
        placed_at=timezone.now(),
    )


def test_orders_cannot_be_typed_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:shop_order_add")).status_code == 403
    assert admin_client.post(reverse("admin:shop_order_add"), {}).status_code == 403
    assert not Order.objects.exists()


def test_saving_an_order_in_the_admin_changes_nothing(admin_client):
    order = an_order()
    before = Order.objects.values().get(id=order.id)

    response = admin_client.post(
        reverse("admin:shop_order_change", args=[order.id]),
        {
            "status": Order.Status.CANCELLED,
            "address": "PO Box 1",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302  # saved: the form was valid, its fields read-only
    after = Order.objects.values().get(id=order.id)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_orders_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    order = an_order()  # with no orders, the changelist shows no actions at all

    changelist = admin_client.get(reverse("admin:shop_order_changelist")).content.decode()
    deleted = admin_client.post(
        reverse("admin:shop_order_delete", args=[order.id]), {"post": "yes"}
    )

    assert str(order.id) in changelist
    assert "Delete selected" not in changelist
    assert deleted.status_code == 403
    assert Order.objects.filter(id=order.id).exists()
