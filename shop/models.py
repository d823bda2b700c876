import uuid
import zlib

from django.conf import settings
from django.db import models
from django.urls import reverse

from . import lifecycle


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:product", args=[self.slug])

    # A picture without image files or fonts: initials on a tile tinted by the SKU.
    @property
    def initials(self) -> str:
        return "".join(word[0] for word in self.name.split()[:2]).upper()

    @property
    def hue(self) -> int:
        return zlib.crc32(self.sku.encode()) % 360


class Availability(models.Model):
    """How many units of a SKU can be sold: the shop's projection of StockLevelChanged."""

    sku = models.CharField(max_length=40, unique=True)
    available = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "availability"

    def __str__(self) -> str:
        return f"{self.sku}: {self.available}"


def shop_currency() -> str:
    return settings.SHOP_CURRENCY


class Order(models.Model):
    # The statuses and the moves between them are the lifecycle's (shop/lifecycle.py).
    Status = lifecycle.Status
    CANCELLABLE = lifecycle.CANCELLABLE
    SETTLED = lifecycle.SETTLED

    # Chosen by the storefront at BUY, before the order exists: the order's page and
    # every message about the order use it from the first click on.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    correlation_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    status_reason = models.CharField(max_length=500, blank=True)
    # Why the customer's last request to cancel was refused, by the shop or the warehouse;
    # the status, left as it was, cannot say it.
    cancellation_refusal = models.CharField(max_length=500, blank=True)
    # The shop asked the warehouse to stop the parcel (CancelDispatch) and has not handled
    # its answer yet. At most one is ever asked per order, so a DispatchCancellationRefused
    # read again later (a replay, after the inbox forgot it) finds it answered.
    cancel_dispatch_pending = models.BooleanField(default=False)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    carrier = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=50, blank=True)
    customer_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=20)
    address = models.TextField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    # Of the total and every line's price (ISO 4217): the shop's currency when it was placed.
    currency = models.CharField(max_length=3, default=shop_currency)
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["email"])]
        permissions = [("erase_customer", "Can erase a customer's personal data")]

    def __str__(self) -> str:
        return f"Order {str(self.id)[:8]}"

    def get_absolute_url(self) -> str:
        return reverse("shop:order", args=[self.id])

    @property
    def cancellable(self) -> bool:
        return self.status in self.CANCELLABLE


class ErasedOrder(models.Model):
    """An order whose customer was erased (services.customer_erase): a record of it read
    again later (a replay) brings no person back."""

    order_id = models.UUIDField(unique=True)
    erased_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Order {str(self.order_id)[:8]} (customer erased)"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # The SKU, name and price as they were when the order was placed.
    sku = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    @property
    def subtotal(self):
        return self.unit_price * self.quantity


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for POST /api/orders/: a retry gets the first order back."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    order_id = models.UUIDField()
    correlation_id = models.UUIDField()
    # What the first request asked for, so a different request reusing the key is refused.
    request_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "key"], name="one_order_per_idempotency_key"
            ),
        ]
        indexes = [models.Index(fields=["created_at"])]  # the purge's, oldest first

    def __str__(self) -> str:
        return f"{self.key} -> {self.order_id}"
