from django.db import models


class Recipient(models.Model):
    """Who to tell about an order: the notifications app's own copy, taken from OrderPlaced."""

    order_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Notification(models.Model):
    """One message to a customer: at most one per order, kind and channel."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        TEXT = "text", "Text"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"

    order_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=30)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
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
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.channel} '{self.kind}' to {self.to}"


class SentEmail(models.Model):
    """The demo's outbox for mail: what the database email backend 'sent'."""

    to = models.CharField(max_length=500)
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class SentText(models.Model):
    """The demo's record of texts: what the database text backend 'sent'."""

    to = models.CharField(max_length=20)
    body = models.CharField(max_length=480)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.to}: {self.body[:40]}"
