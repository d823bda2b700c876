"""Reads of the sales projection."""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from .models import DailyProductSales


def _since(days: int) -> date:
    return timezone.now().date() - timedelta(days=days - 1)


def currencies(*, days: int = 30) -> list[str]:
    """The currencies sold in over the last `days` days, the shop's own first."""
    sold = set(
        DailyProductSales.objects.filter(day__gte=_since(days)).values_list("currency", flat=True)
    )
    return sorted(sold | {settings.SHOP_CURRENCY}, key=lambda c: (c != settings.SHOP_CURRENCY, c))


def figures_by_product(*, days: int = 30, currency: str) -> list[dict]:
    """Units, revenue and cancellations per product over the last `days` days, of the
    sales made in `currency`."""
    rows = (
        DailyProductSales.objects.filter(day__gte=_since(days), currency=currency)
        .values("sku", "name")
        .annotate(
            units=Sum("units"),
            revenue=Sum("revenue"),
            orders=Sum("orders"),
            cancelled_orders=Sum("cancelled_orders"),
            cancelled_units=Sum("cancelled_units"),
        )
        .order_by("-revenue", "sku")
    )
    return list(rows)


def figures_by_day(*, days: int = 14, currency: str) -> list[dict]:
    """Revenue, units and cancellations per day of the sales made in `currency`, every day
    present (zero when quiet)."""
    start = _since(days)
    totals = {
        row["day"]: row
        for row in DailyProductSales.objects.filter(day__gte=start, currency=currency)
        .values("day")
        .annotate(
            units=Sum("units"), revenue=Sum("revenue"), cancelled_orders=Sum("cancelled_orders")
        )
    }
    empty = {"units": 0, "revenue": 0, "cancelled_orders": 0}
    return [
        {"day": day, **{k: totals.get(day, empty)[k] for k in empty}}
        for day in (start + timedelta(days=n) for n in range(days))
    ]
