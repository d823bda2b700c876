"""The sales projection: figures per product and day, from the order facts only.

An order counts on the day it was placed; its cancellation reverses exactly what it
added and is counted on that same day, so a day's figures settle to what was kept.

A cancellation can be handled before its placement: the placement was dead-lettered and
skipped, or a replay started after it. It is then remembered as a sale record without a
day, and the placement, if it ever comes, is counted and reversed at once: the figures
come out as if the two had arrived in order.
"""

import logging
import uuid
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from .models import DailyProductSales, SaleRecord

logger = logging.getLogger(__name__)


@transaction.atomic
def sale_record(*, order_id: uuid.UUID, placed_at, lines: list[dict]) -> SaleRecord | None:
    day = placed_at.date()
    record, created = SaleRecord.objects.select_for_update().get_or_create(
        order_id=order_id, defaults={"day": day, "lines": lines}
    )
    if not created and not record.cancelled_unseen:
        return None  # counted before: a fact is not counted twice
    if not created:
        record.day, record.lines = day, lines
        record.save(update_fields=["day", "lines"])
    _count(record, +1)
    if record.cancelled:
        logger.info("sales: order %s was cancelled before it was placed here", order_id)
        _count(record, -1)
    return record


@transaction.atomic
def sale_reverse(*, order_id: uuid.UUID) -> SaleRecord | None:
    record, created = SaleRecord.objects.select_for_update().get_or_create(
        order_id=order_id, defaults={"day": None, "lines": [], "cancelled": True}
    )
    if created or record.cancelled:
        return record  # nothing counted yet: remembered for the placement, if it comes
    _count(record, -1)
    record.cancelled = True
    record.save(update_fields=["cancelled"])
    return record


def _count(record: SaleRecord, sign: int) -> None:
    """Add a sale's lines to its day (+1) or reverse them as a cancellation (-1)."""
    for line in sorted(record.lines, key=lambda ln: ln["sku"]):
        price = line["unit_price"]
        row, _ = DailyProductSales.objects.select_for_update().get_or_create(
            day=record.day,
            sku=line["sku"],
            currency=price["currency"],
            defaults={"name": line["name"]},
        )
        quantity, revenue = line["quantity"], Decimal(price["amount"]) * line["quantity"]
        changes = {
            "orders": F("orders") + sign,
            "units": F("units") + sign * quantity,
            "revenue": F("revenue") + sign * revenue,
        }
        if sign < 0:
            changes |= {
                "cancelled_orders": F("cancelled_orders") + 1,
                "cancelled_units": F("cancelled_units") + quantity,
            }
        DailyProductSales.objects.filter(pk=row.pk).update(**changes)


def projection_reset() -> None:
    """Forget every figure, before rebuilding them from the order events."""
    DailyProductSales.objects.all().delete()
    SaleRecord.objects.all().delete()
