import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from messaging import handling, registry
from messaging.inbox import handle_record
from messaging.models import InboxEntry
from sales.models import DailyProductSales, SaleRecord
from sales.services import sale_record, sale_reverse
from shop.contracts import OrderCancelled
from tests.factories import order_placed, record_of

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


def _records(*messages):
    return [dataclasses.replace(record_of(m), offset=i) for i, m in enumerate(messages)]


def _all_figures():
    return list(
        DailyProductSales.objects.order_by("day", "sku").values_list(
            "day", "sku", "orders", "units", "revenue", "cancelled_orders", "cancelled_units"
        )
    )


def _a_batchs_worth():
    """Orders counted before, then a batch: new ones, a repeat, a cancellation of an
    earlier order, one placed and cancelled in the batch, one cancelled before placed."""
    earlier = [order_placed(("MUG-001", 2)), order_placed(("KTL-002", 1))]
    quick, backwards = order_placed(("MUG-001", 1), ("KTL-002", 3)), order_placed(("MUG-001", 5))
    batch = [
        order_placed(("MUG-001", 1)),
        earlier[0],  # redelivered: counted once
        OrderCancelled(order_id=earlier[1].order_id, reason="x"),
        quick,
        OrderCancelled(order_id=quick.order_id, reason="x"),
        OrderCancelled(order_id=backwards.order_id, reason="x"),
        backwards,
        order_placed(("KTL-002", 2)),
    ]
    return earlier, batch


def test_a_batch_comes_to_the_same_figures_as_its_records_one_by_one():
    sales = registry.group("sales")
    earlier, batch = _a_batchs_worth()
    handling.handle_batch(sales, _records(*earlier))
    handling.handle_batch(sales, _records(*batch))
    together = _all_figures()
    DailyProductSales.objects.all().delete()
    SaleRecord.objects.all().delete()
    InboxEntry.objects.all().delete()

    for record in _records(*earlier, *batch):
        handle_record(sales, record)

    assert _all_figures() == together
    mug = DailyProductSales.objects.get(sku="MUG-001")
    assert (mug.orders, mug.units, mug.cancelled_orders, mug.cancelled_units) == (2, 3, 2, 6)


def test_a_batch_writes_the_figures_in_a_few_statements_whatever_its_size():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sales = registry.group("sales")
    counted = []
    for size in (3, 12):
        placed = [order_placed((f"SKU-{i}", 1)) for i in range(size)]
        with CaptureQueriesContext(connection) as queries:
            handling.handle_batch(sales, _records(*placed))
        counted.append(len([q for q in queries.captured_queries if "sales_" in q["sql"]]))

    assert counted[0] == counted[1] == 2  # the sale records' INSERT, the figures' upsert
    assert SaleRecord.objects.count() == 15
