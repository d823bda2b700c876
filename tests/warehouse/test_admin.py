"""The warehouse's admin: a stock-take is announced, and cannot undercut reservations."""

import pytest
from django.urls import reverse

from messaging.models import OutboxMessage
from tests.factories import product
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
