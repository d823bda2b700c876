"""The sales projection: figures per product and day, from the order facts only.

An order counts on the day it was placed; its cancellation reverses exactly what it
added and is counted on that same day, so a day's figures settle to what was kept.

A cancellation can be handled before its placement: the placement was dead-lettered and
skipped, or a replay started after it. It is then remembered as a sale record without a
day, and the placement, if it ever comes, is counted and reversed at once: the figures
come out as if the two had arrived in order.
"""

import json
import logging
import uuid
from decimal import Decimal

from django.db import connection, transaction

from .models import DailyProductSales, SaleRecord

logger = logging.getLogger(__name__)

# Each service joins its caller's transaction (a handler's) rather than open a savepoint
# of its own, and writes with one upsert where get_or_create would take four
# round trips: a replay runs them for every order ever placed.


@transaction.atomic(savepoint=False)
def sale_record(*, order_id: uuid.UUID, placed_at, lines: list[dict]) -> SaleRecord | None:
    day = placed_at.date()
    record = _remember(order_id, day=day, lines=lines, cancelled=False)
    if record is None:  # new: count it
        record = SaleRecord(order_id=order_id, day=day, lines=lines)
    elif not record.cancelled_unseen:
        return None  # counted before: a fact is not counted twice
    else:
        record.day, record.lines = day, lines
        record.save(update_fields=["day", "lines"])
    _count(record, +1)
    if record.cancelled:
        logger.info("sales: order %s was cancelled before it was placed here", order_id)
        _count(record, -1)
    return record


@transaction.atomic(savepoint=False)
def sale_reverse(*, order_id: uuid.UUID) -> SaleRecord | None:
    record = _remember(order_id, day=None, lines=[], cancelled=True)
    if record is None or record.cancelled:
        return record  # nothing counted yet: remembered for the placement, if it comes
    _count(record, -1)
    record.cancelled = True
    record.save(update_fields=["cancelled"])
    return record


def _remember(order_id: uuid.UUID, *, day, lines: list[dict], cancelled: bool):
    """Insert the order's sale record unless it has one; None when it was new, else the
    existing record, locked until the transaction ends (a placement and its cancellation
    handled at the same moment take turns here)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SaleRecord._meta.db_table} (order_id, day, lines, cancelled) "
            "VALUES (%s, %s, %s::jsonb, %s) ON CONFLICT (order_id) DO NOTHING RETURNING id",
            [order_id, day, json.dumps(lines), cancelled],
        )
        if cursor.fetchone() is not None:
            return None
    return SaleRecord.objects.select_for_update().get(order_id=order_id)


def _count(record: SaleRecord, sign: int) -> None:
    """Add a sale's lines to its day (+1) or reverse them as a cancellation (-1)."""
    table = DailyProductSales._meta.db_table
    for line in sorted(record.lines, key=lambda ln: ln["sku"]):
        price = line["unit_price"]
        quantity, revenue = line["quantity"], Decimal(price["amount"]) * line["quantity"]
        key = [record.day, line["sku"], price["currency"]]
        with connection.cursor() as cursor:
            if sign > 0:
                cursor.execute(
                    f"INSERT INTO {table} AS t (day, sku, currency, name, orders, units, revenue, "
                    "cancelled_orders, cancelled_units) VALUES (%s, %s, %s, %s, 1, %s, %s, 0, 0) "
                    "ON CONFLICT (day, sku, currency) DO UPDATE SET orders = t.orders + 1, "
                    "units = t.units + EXCLUDED.units, revenue = t.revenue + EXCLUDED.revenue",
                    [*key, line["name"], quantity, revenue],
                )
            else:  # what is reversed was counted: the row is there
                cursor.execute(
                    f"UPDATE {table} SET orders = orders - 1, units = units - %s, "
                    "revenue = revenue - %s, cancelled_orders = cancelled_orders + 1, "
                    "cancelled_units = cancelled_units + %s "
                    "WHERE day = %s AND sku = %s AND currency = %s",
                    [quantity, revenue, quantity, *key],
                )


def projection_reset() -> None:
    """Forget every figure, before rebuilding them from the order events."""
    DailyProductSales.objects.all().delete()
    SaleRecord.objects.all().delete()
