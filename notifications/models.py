from django.db import models
from django.db.models.functions import Now


class Recipient(models.Model):
    """Who to tell about an order: the notifications app's own copy, taken from OrderPlaced."""

    order_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=20)

    # Names no person: the admin shows it in titles, breadcrumbs and its history to any staff.
    def __str__(self) -> str:
        return f"Recipient of order {str(self.order_id)[:8]}"


class ErasedOrder(models.Model):
    """An order whose customer was erased (CustomerErased): nothing more is sent about it,
    and an older event read again (a replay) records no person for it."""

    order_id = models.UUIDField(unique=True)
    erased_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Order {str(self.order_id)[:8]} (customer erased)"


class Notification(models.Model):
    """One message to a customer: at most one per order, kind and channel.

    Delivery is at least once, with a deduplication key. An attempt claims the row
    (pending -> sending) in one transaction, sends outside any transaction, and marks it
    sent in a second one (notifications.delivery). `dedup_key` is the same on every
    attempt: the email's Message-ID, the text's idempotency key.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        TEXT = "text", "Text"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # an attempt is due at next_attempt_at
        SENDING = "sending", "Sending"  # an attempt claimed it at claimed_at
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"  # out of attempts: a person decides (admin)

    order_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=30)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Times that workers on different hosts compare come from one clock, the database's.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_default=Now())
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    dedup_key = models.CharField(
        "deduplication key",
        max_length=255,
        blank=True,
        help_text="The email's Message-ID or the text's idempotency key: the same on every "
        "attempt, so the provider can recognise a repeat. Set by the first attempt.",
    )
    # The conversation and the message that asked for it, so EmailSent/TextSent join it.
    correlation_id = models.UUIDField()
    caused_by = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_id", "kind", "channel"], name="one_notification_per_kind"
            ),
        ]
        # What the sweep looks for; partial, so the many sent rows are not in them.
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notification_due_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="notification_claimed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} '{self.kind}' for order {str(self.order_id)[:8]}"


class SentEmail(models.Model):
    """The demo's outbox for mail: what the database email backend 'sent'."""

    to = models.CharField(max_length=500)
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    message_id = models.CharField("Message-ID", max_length=255, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        # As a provider that deduplicates keeps it: a second send of one key is recognised.
        # Blank only in rows older than the key.
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="one_sent_email_per_message_id",
            )
        ]

    def __str__(self) -> str:
        return self.subject  # the subject names the order, never the person


class SentText(models.Model):
    """The demo's record of texts: what the database text backend 'sent'."""

    to = models.CharField(max_length=20)
    body = models.CharField(max_length=480)
    idempotency_key = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        # As a gateway that deduplicates keeps it; blank for a text sent without a key.
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_sent_text_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"Text {self.idempotency_key or self.pk}"
