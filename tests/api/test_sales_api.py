"""GET /api/sales/: the figures the /sales/ page shows, over the last N days."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sales.services import sale_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def open_as_in_the_demo(settings):
    # The figures themselves; who may see them: tests/sales/test_access.py.
    settings.SALES_FIGURES_PUBLIC = True


def a_sale(days_ago: int, quantity: int = 1) -> None:
    sale_record(
        order_id=uuid.uuid4(),
        placed_at=timezone.now() - timedelta(days=days_ago),
        lines=[
            {
                "sku": "MUG-001",
                "name": "Mug",
                "quantity": quantity,
                "unit_price": {"amount": "14.00", "currency": "EUR"},
            }
        ],
    )


def test_figures_per_product_and_day_over_the_period():
    a_sale(0, quantity=2)
    a_sale(6)
    a_sale(7)  # one day too old for ?days=7

    body = APIClient().get("/api/sales/", {"days": 7}).json()

    assert body["days"] == 7
    [mug] = body["products"]
    assert (mug["sku"], mug["orders"], mug["units"], mug["revenue"]) == ("MUG-001", 2, 3, "42.00")
    assert len(body["by_day"]) == 7
    assert body["by_day"][-1]["revenue"] == "28.00"


def test_the_period_defaults_to_30_days():
    assert APIClient().get("/api/sales/").json()["days"] == 30


@pytest.mark.parametrize("days", ["0", "366", "a week"])
def test_a_bad_period_is_a_400(days):
    response = APIClient().get("/api/sales/", {"days": days})

    assert response.status_code == 400
    assert list(response.json()) == ["days"]


def test_a_blank_number_of_days_is_refused(client):
    response = client.get("/api/sales/?days=")

    assert response.status_code == 400
    assert response.json() == {"days": ["Give a whole number from 1 to 365."]}


@pytest.mark.parametrize(
    ("query", "said"),
    [("currency=", "Give an ISO 4217 code"), ("currency=eur", "three capital letters")],
)
def test_a_currency_that_is_not_a_code_is_refused_with_the_reason(client, query, said):
    response = client.get(f"/api/sales/?{query}")

    assert response.status_code == 400
    assert said in response.json()["currency"][0]


def test_figures_are_per_currency_never_added_across(client):
    sell = {"sku": "MUG-001", "name": "Mug", "quantity": 1}
    for currency in ("EUR", "USD"):
        sale_record(
            order_id=uuid.uuid4(),
            placed_at=timezone.now(),
            lines=[{**sell, "unit_price": {"amount": "14.00", "currency": currency}}],
        )

    euros = client.get("/api/sales/").json()
    dollars = client.get("/api/sales/?currency=USD").json()

    assert (euros["currency"], euros["currencies"]) == ("EUR", ["EUR", "USD"])
    assert [p["revenue"] for p in euros["products"]] == ["14.00"]
    assert (dollars["currency"], [p["revenue"] for p in dollars["products"]]) == ("USD", ["14.00"])
