"""Every way to an order's conversation page: the order's admin and its storefront page."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from shop.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return Order.objects.create(
        correlation_id=uuid.uuid4(),
        customer_name="Grace Hopper",
        email="grace@example.com",
        phone="+1 555 0100",
        address="1 Compiler Way",
        total=Decimal("14.00"),
        placed_at=timezone.now(),
    )


def conversation_url(order: Order) -> str:
    return reverse("admin:messagelog_conversation", args=[order.correlation_id])


def test_the_orders_admin_links_to_its_conversation(admin_client, order):
    detail = admin_client.get(reverse("admin:shop_order_change", args=[order.id]))
    listing = admin_client.get(reverse("admin:shop_order_changelist"))

    assert conversation_url(order) in detail.content.decode()
    assert conversation_url(order) in listing.content.decode()


def test_staff_see_a_link_to_the_conversation_on_the_storefronts_order_page(admin_client, order):
    page = admin_client.get(reverse("shop:order-live", args=[order.id])).content.decode()

    assert conversation_url(order) in page


def test_the_customer_does_not(client, order):
    customer = User.objects.create_user("grace", password="pw")
    Order.objects.filter(pk=order.pk).update(account=customer)
    client.force_login(customer)

    page = client.get(reverse("shop:order-live", args=[order.id])).content.decode()

    assert str(order.correlation_id) in page and conversation_url(order) not in page
