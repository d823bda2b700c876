import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sales.models import DailyProductSales
from sales.services import sale_record, sale_reverse

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LINES = [
    {
        "sku": "MUG-001",
        "name": "Mug",
        "quantity": 2,
        "unit_price": {"amount": "14.00", "currency": "EUR"},
    },
    {
        "sku": "KTL-002",
        "name": "Kettle",
        "quantity": 1,
        "unit_price": {"amount": "49.00", "currency": "EUR"},
    },
]


def figures(sku):
    row = DailyProductSales.objects.get(sku=sku)
    return row.orders, row.units, row.revenue, row.cancelled_orders


def test_an_order_counts_once_per_product_and_day():
    order_id = uuid.uuid4()
    sale_record(order_id=order_id, placed_at=PLACED, lines=LINES)
    sale_record(order_id=order_id, placed_at=PLACED, lines=LINES)
    sale_record(order_id=uuid.uuid4(), placed_at=PLACED, lines=LINES[:1])

    assert figures("MUG-001") == (2, 4, Decimal("56.00"), 0)
    assert figures("KTL-002") == (1, 1, Decimal("49.00"), 0)


def test_a_cancellation_reverses_exactly_once():
    order_id = uuid.uuid4()
    sale_record(order_id=order_id, placed_at=PLACED, lines=LINES)

    sale_reverse(order_id=order_id)
    sale_reverse(order_id=order_id)

    assert figures("MUG-001") == (0, 0, Decimal("0.00"), 1)
    assert DailyProductSales.objects.get(sku="MUG-001").cancelled_units == 2


def test_a_cancellation_met_before_its_placement_is_compensated_when_it_comes():
    """The placement was dead-lettered and skipped, or a replay began after it."""
    order_id = uuid.uuid4()

    sale_reverse(order_id=order_id)
    assert not DailyProductSales.objects.exists()  # nothing to reverse yet: remembered
    sale_record(order_id=order_id, placed_at=PLACED, lines=LINES)
    sale_record(order_id=order_id, placed_at=PLACED, lines=LINES)  # redelivered

    # As if they had come in order: placed, then cancelled.
    assert figures("MUG-001") == (0, 0, Decimal("0.00"), 1)
    assert figures("KTL-002") == (0, 0, Decimal("0.00"), 1)
    assert DailyProductSales.objects.get(sku="MUG-001").cancelled_units == 2
