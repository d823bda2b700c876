"""The shop's admin: orders are records of what happened, placed only by PlaceOrder."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.personal import MASK
from shop.models import Order
from tests.factories import CUSTOMER
from tests.staff import staff_client

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


PERSON = [CUSTOMER.name, CUSTOMER.email, CUSTOMER.phone, CUSTOMER.address, "call me first"]


def a_cancelled_order() -> Order:
    order = an_order()
    order.status, order.status_reason = Order.Status.CANCELLED, "Too late, call me first"
    order.save()
    return order


def pages(client, order: Order) -> dict[str, str]:
    return {
        "list": client.get(reverse("admin:shop_order_changelist")).content.decode(),
        "order": client.get(reverse("admin:shop_order_change", args=[order.id])).content.decode(),
    }


@pytest.mark.parametrize("may_change", [False, True], ids=["viewer", "editor"])
def test_staff_without_the_permission_see_the_orders_customer_masked(client, may_change):
    order = a_cancelled_order()
    staff_client(
        client, "view_order", *(["change_order"] if may_change else []), sees_personal_data=False
    )

    for name, page in pages(client, order).items():
        assert str(order.id)[:8] in page, name
        assert MASK in page, name
        assert not [value for value in PERSON if value in page], name


def test_staff_with_the_permission_see_the_orders_customer(client):
    order = a_cancelled_order()
    staff_client(client, "view_order", sees_personal_data=True)

    for name, page in pages(client, order).items():
        assert CUSTOMER.name in page and CUSTOMER.email in page, name
    assert all(value in pages(client, order)["order"] for value in PERSON)


def test_staff_without_the_permission_cannot_find_an_order_by_its_customers_email(client):
    order = an_order()
    url = reverse("admin:shop_order_changelist")

    masked = staff_client(client, "view_order", sees_personal_data=False)
    searched = masked.get(url, {"q": CUSTOMER.email}).content.decode()
    probed = masked.get(url, {"email__startswith": "ada"})

    assert str(order.id) not in searched
    assert probed.status_code == 400
    client.logout()
    seeing = staff_client(client, "view_order", sees_personal_data=True)
    assert str(order.id) in seeing.get(url, {"q": CUSTOMER.email}).content.decode()
    assert seeing.get(url, {"email__startswith": "ada"}).status_code == 200
