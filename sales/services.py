"""The sales projection: figures per product and day, from the order facts only.

An order counts on the day it was placed; its cancellation reverses exactly what it
added and is counted on that same day, so a day's figures settle to what was kept.
"""

import uuid
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from .models import DailyProductSales, SaleRecord


@transaction.atomic
def sale_record(*, order_id: uuid.UUID, placed_at, lines: list[dict]) -> SaleRecord | None:
    day = placed_at.date()
    record, created = SaleRecord.objects.get_or_create(
        order_id=order_id, defaults={"day": day, "lines": lines}
    )
    if not created:
        return None
    for line in sorted(lines, key=lambda ln: ln["sku"]):
        row, _ = DailyProductSales.objects.select_for_update().get_or_create(
            day=day, sku=line["sku"], defaults={"name": line["name"]}
        )
        DailyProductSales.objects.filter(pk=row.pk).update(
            orders=F("orders") + 1,
            units=F("units") + line["quantity"],
            revenue=F("revenue") + Decimal(line["unit_price"]) * line["quantity"],
        )
    return record


@transaction.atomic
def sale_reverse(*, order_id: uuid.UUID) -> SaleRecord | None:
    record = SaleRecord.objects.select_for_update().filter(order_id=order_id).first()
    if record is None or record.cancelled:
        return record
    for line in sorted(record.lines, key=lambda ln: ln["sku"]):
        DailyProductSales.objects.filter(day=record.day, sku=line["sku"]).update(
            orders=F("orders") - 1,
            units=F("units") - line["quantity"],
            revenue=F("revenue") - Decimal(line["unit_price"]) * line["quantity"],
            cancelled_orders=F("cancelled_orders") + 1,
            cancelled_units=F("cancelled_units") + line["quantity"],
        )
    record.cancelled = True
    record.save(update_fields=["cancelled"])
    return record


def projection_reset() -> None:
    """Forget every figure, before rebuilding them from the order events."""
    DailyProductSales.objects.all().delete()
    SaleRecord.objects.all().delete()
