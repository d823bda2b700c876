import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from sales.charts import compact_money
from sales.selectors import figures_by_day
from sales.services import sale_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def open_as_in_the_demo(settings):
    # The figures themselves; who may see them: tests/sales/test_access.py.
    settings.SALES_FIGURES_PUBLIC = True


def sell_mugs(quantity: int) -> None:
    """One order of `quantity` mugs at €14.00, placed now."""
    sale_record(
        order_id=uuid.uuid4(),
        placed_at=timezone.now(),
        lines=[
            {
                "sku": "MUG-001",
                "name": "Mug",
                "quantity": quantity,
                "unit_price": {"amount": "14.00", "currency": "EUR"},
            }
        ],
    )


def test_the_page_shows_each_product_and_every_day():
    sell_mugs(2)

    days = figures_by_day(days=14, currency="EUR")

    assert len(days) == 14 and days[-1]["revenue"] == Decimal("28.00")
    assert all(d["revenue"] == 0 for d in days[:-1])


def test_the_sales_page_draws_the_figures(client):
    sell_mugs(2)

    page = client.get("/sales/").content.decode()

    assert '<tr data-sku="MUG-001">' in page
    assert page.count('class="column"') == 14
    assert "€28.00" in page
    # The day's amount is written above its column; the empty days have none.
    assert page.count('class="value"') == 1 and 'class="value">€28</text>' in page


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0.40", "€0"),
        ("38.00", "€38"),
        ("999.49", "€999"),
        ("1234", "€1.2K"),
        ("35100", "€35K"),
        ("2500000", "€2.5M"),
    ],
)
def test_amounts_above_the_columns_stay_short(amount, shown):
    assert compact_money(Decimal(amount), "EUR") == shown
    assert compact_money(Decimal(amount), "USD") == shown.replace("€", "$")


def test_large_amounts_are_grouped_in_thousands(client):
    sell_mugs(100)

    page = client.get("/sales/").content.decode()

    assert "€1,400.00" in page and "€1400.00" not in page
