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
    """Stock held for one order, from reservation until it ships or is given back."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        PACKING = "packing", "Packing for dispatch"
        DISPATCHED = "dispatched", "Dispatched"
        RELEASED = "released", "Released"

    order_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RESERVED)
    # Set by DispatchOrder: where it goes, when packing is done, and the command to answer.
    recipient = models.CharField(max_length=100, blank=True)
    address = models.TextField(blank=True)
    ship_after = models.DateTimeField(null=True, blank=True)
    dispatch_command_id = models.UUIDField(null=True, blank=True)
    correlation_id = models.UUIDField(null=True, blank=True)
    carrier = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "ship_after"])]

    def __str__(self) -> str:
        return f"Reservation for order {str(self.order_id)[:8]} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=40)
    quantity = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class ErasedOrder(models.Model):
    """An order whose customer was erased (CustomerErased): an older DispatchOrder read
    again (a replay) stores no recipient or address for it."""

    order_id = models.UUIDField(unique=True)
    erased_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Order {str(self.order_id)[:8]} (customer erased)"
