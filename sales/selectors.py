"""Reads of the sales projection."""

from django.db.models import Sum

from .models import DailyProductSales


def figures_by_product(*, days: int = 30) -> list[dict]:
    """Units, revenue and cancellations per product over the last `days` days."""
    from django.utils import timezone

    since = timezone.now().date() - timezone.timedelta(days=days - 1)
    rows = (
        DailyProductSales.objects.filter(day__gte=since)
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
