import pytest
from django.urls import reverse

from messaging.models import OutboxMessage
from shop.models import Order
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


def test_orders_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    changelist = admin_client.get(reverse("admin:shop_order_changelist")).content.decode()

    assert "Delete selected" not in changelist
    assert admin_client.get(reverse("admin:shop_order_add")).status_code == 403
    assert Order.objects.count() == 0
