import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from sales.selectors import figures_by_day
from sales.services import sale_record

pytestmark = pytest.mark.django_db


def test_the_page_shows_each_product_and_every_day():
    sale_record(
        order_id=uuid.uuid4(),
        placed_at=timezone.now(),
        lines=[{"sku": "MUG-001", "name": "Mug", "quantity": 2, "unit_price": "14.00"}],
    )

    days = figures_by_day(days=14)

    assert len(days) == 14 and days[-1]["revenue"] == Decimal("28.00")
    assert all(d["revenue"] == 0 for d in days[:-1])


def test_the_sales_page_draws_the_figures(client):
    sale_record(
        order_id=uuid.uuid4(),
        placed_at=timezone.now(),
        lines=[{"sku": "MUG-001", "name": "Mug", "quantity": 2, "unit_price": "14.00"}],
    )

    page = client.get("/sales/").content.decode()

    assert '<tr data-sku="MUG-001">' in page
    assert page.count('class="column"') == 14
    assert "€28.00" in page
