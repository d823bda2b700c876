"""The catalog over the API: public, with the shop's availability projection."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shop.models import Availability
from tests.factories import product

pytestmark = pytest.mark.django_db


def test_products_for_sale_with_what_the_warehouse_last_said():
    product("MUG-001", price="14.00")
    product("KTL-002")
    product("OLD-003", active=False)
    Availability.objects.create(sku="MUG-001", available=7)

    body = APIClient().get("/api/products/").json()

    assert body["count"] == 2
    by_sku = {p["sku"]: p for p in body["results"]}
    assert by_sku["MUG-001"] == {
        "sku": "MUG-001",
        "slug": "mug-001",
        "name": "Product MUG-001",
        "category": {"slug": "kitchen", "name": "Kitchen"},
        "price": "14.00",
        "availability": 7,
    }
    assert by_sku["KTL-002"]["availability"] is None  # not heard from the warehouse yet


def test_products_can_be_searched():
    product("MUG-001")
    product("KTL-002")

    body = APIClient().get("/api/products/", {"q": "ktl-002", "category": "kitchen"}).json()

    assert [p["sku"] for p in body["results"]] == ["KTL-002"]


def test_one_product_by_sku():
    product("MUG-001")
    Availability.objects.create(sku="MUG-001", available=0)

    response = APIClient().get("/api/products/MUG-001/")

    assert response.status_code == 200
    assert response.json()["availability"] == 0
    assert "description" in response.json()


@pytest.mark.parametrize("sku", ["NOPE-404", "OLD-003"])
def test_unknown_or_withdrawn_products_are_404(sku):
    product("OLD-003", active=False)

    response = APIClient().get(f"/api/products/{sku}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No product with this SKU is for sale."}


def test_the_list_costs_the_same_queries_for_two_products_or_ten():
    def queries() -> int:
        with CaptureQueriesContext(connection) as run:
            assert APIClient().get("/api/products/").status_code == 200
        return len(run)

    product("MUG-001")
    product("KTL-002")
    two = queries()
    for n in range(8):
        product(f"EXTRA-{n}")
        Availability.objects.create(sku=f"EXTRA-{n}", available=n)

    assert queries() == two <= 2  # the count, the page (availability is a subquery)
