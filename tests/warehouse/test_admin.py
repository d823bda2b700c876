"""The warehouse's admin: a stock-take is announced, and cannot undercut reservations."""

import pytest
from django.urls import reverse

from messaging.models import OutboxMessage
from messaging.personal import MASK
from tests.factories import CUSTOMER, product
from tests.staff import staff_client
from tests.warehouse.parcels import packing
from warehouse.models import Stock

pytestmark = pytest.mark.django_db


def test_a_stock_take_in_the_admin_announces_the_new_level(admin_client):
    product("UMB-014", stock=1)
    stock = Stock.objects.get(sku="UMB-014")

    response = admin_client.post(
        reverse("admin:warehouse_stock_change", args=[stock.pk]), {"on_hand": "5"}
    )

    assert response.status_code == 302
    assert Stock.objects.get(sku="UMB-014").on_hand == 5
    announced = OutboxMessage.objects.get(type="warehouse.StockLevelChanged")
    assert announced.payload == {"sku": "UMB-014", "available": 5}


def test_on_hand_cannot_go_below_what_is_reserved(admin_client):
    product("UMB-014", stock=3)
    Stock.objects.filter(sku="UMB-014").update(reserved=2)
    stock = Stock.objects.get(sku="UMB-014")

    response = admin_client.post(
        reverse("admin:warehouse_stock_change", args=[stock.pk]), {"on_hand": "1"}
    )

    assert "2 are reserved for orders" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def reservation_pages(client, reservation) -> dict[str, str]:
    return {
        "list": client.get(reverse("admin:warehouse_reservation_changelist")).content.decode(),
        "reservation": client.get(
            reverse("admin:warehouse_reservation_change", args=[reservation.pk])
        ).content.decode(),
    }


def test_staff_without_the_permission_see_where_a_parcel_goes_masked(client):
    product("MUG-001")
    parcel, _ = packing(("MUG-001", 1))
    staff_client(client, "view_reservation", sees_personal_data=False)

    for name, page in reservation_pages(client, parcel.reservation()).items():
        assert str(parcel.order_id) in page, name
        assert CUSTOMER.name not in page and CUSTOMER.address not in page, name
    assert MASK in reservation_pages(client, parcel.reservation())["reservation"]


def test_staff_with_the_permission_see_where_a_parcel_goes(client):
    product("MUG-001")
    parcel, _ = packing(("MUG-001", 1))
    staff_client(client, "view_reservation", sees_personal_data=True)

    page = reservation_pages(client, parcel.reservation())["reservation"]

    assert CUSTOMER.name in page and CUSTOMER.address in page
