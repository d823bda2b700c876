from django.db import models


class Stock(models.Model):
    """What the warehouse holds of one SKU, and how much of it is promised to orders."""

    sku = models.CharField(max_length=40, unique=True)
    on_hand = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sku"]
        verbose_name_plural = "stock"
        constraints = [
            # The database itself refuses overselling, whatever the code does.
            models.CheckConstraint(
                condition=models.Q(reserved__lte=models.F("on_hand")), name="stock_not_oversold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Reservation(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        RELEASED = "released", "Released"
        DISPATCHED = "dispatched", "Dispatched"

    order_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RESERVED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reservation for order {str(self.order_id)[:8]} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=40)
    quantity = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"
