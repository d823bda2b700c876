from django.db import models


class Award(models.Model):
    """The points one order earned its customer: taken back if the order is cancelled."""

    order_id = models.UUIDField(unique=True)
    # The customer's email, lower-cased: a signed-in customer's points are those of the
    # orders placed with their account's email (OrderPlaced names no account). Blank once
    # the customer is erased, and while only the cancellation has been seen.
    email = models.CharField(max_length=254, blank=True, db_index=True)
    points = models.PositiveIntegerField(default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)  # ISO 4217, of `total`
    # None: the cancellation came first; the placement has not been seen (yet).
    placed_at = models.DateTimeField(null=True, blank=True)
    cancelled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"Order {str(self.order_id)[:8]}: {self.points} points"

    @property
    def ref(self) -> str:
        return str(self.order_id)[:8].upper()

    @property
    def counts(self) -> bool:
        """Whether its points are in the balance: placed, and not cancelled."""
        return self.placed_at is not None and not self.cancelled


class ErasedOrder(models.Model):
    """An order whose customer was erased (CustomerErased): an older OrderPlaced read again
    (a replay, a rebuild) awards its points to nobody."""

    order_id = models.UUIDField(unique=True)
    erased_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Order {str(self.order_id)[:8]} (customer erased)"
