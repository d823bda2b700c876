from django.db import models


class SaleRecord(models.Model):
    """One order as sales saw it: enough to reverse it exactly if it is cancelled."""

    order_id = models.UUIDField(unique=True)
    # None: the cancellation came first; the placement has not been seen (yet).
    day = models.DateField(null=True, blank=True)
    # [{"sku", "name", "quantity", "unit_price": {"amount", "currency"}}]
    lines = models.JSONField()
    cancelled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Order {str(self.order_id)[:8]} on {self.day or '(not placed yet)'}"

    @property
    def cancelled_unseen(self) -> bool:
        """Cancelled before its placement was handled here."""
        return self.cancelled and self.day is None


class DailyProductSales(models.Model):
    """Units, revenue and cancellations of one product on one day, in one currency: a
    projection of order facts. Amounts in two currencies are never added together."""

    day = models.DateField()
    sku = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)  # ISO 4217, of `revenue`
    name = models.CharField(max_length=200)
    orders = models.PositiveIntegerField(default=0)
    units = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    cancelled_orders = models.PositiveIntegerField(default=0)
    cancelled_units = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "sku"]
        verbose_name_plural = "daily product sales"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "sku", "currency"], name="one_row_per_product_day_and_currency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.sku}: {self.units} units"
