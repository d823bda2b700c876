"""The message log's table: every record of every topic, as the audit group read it.

Two admin pages have no table of their own, only a proxy model each (so that the admin
lists them): the conversations, over this table (one correlation id on one screen), and
the operations page, over the outbox (backlog, lag, dead letters).
"""

from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

from messaging.models import OutboxMessage

# A message whose payload has a "customer" object names the customer of its conversation:
# searching the log by email looks there. A convention of the wire format, so the platform
# needs to know no app's message types.
NAMES_A_CUSTOMER = models.Q(payload__has_key="customer")


class MessageRecord(models.Model):
    """Every record of every topic, as the audit consumer group read it from Kafka.

    Append-only; one row per (topic, partition, offset), however often it is read.
    """

    topic = models.CharField(max_length=200)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    record_timestamp = models.BigIntegerField(default=0)  # Kafka's, in ms
    key = models.CharField(max_length=200, blank=True)
    message_id = models.UUIDField(null=True, db_index=True)
    type = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=50, blank=True)
    kind = models.CharField(max_length=10, blank=True)
    correlation_id = models.UUIDField(null=True, db_index=True)
    causation_id = models.UUIDField(null=True)
    time = models.DateTimeField(null=True)
    headers = models.JSONField(default=dict)
    payload = models.JSONField(null=True)
    # The value as text when it is not JSON, so a bad record is still shown.
    raw_value = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Its table kept the name it had when the log lived in the messaging app.
        db_table = "messaging_messagerecord"
        ordering = ["time", "id"]
        verbose_name = "message"
        verbose_name_plural = "message log"  # the admin's name for it, everywhere
        constraints = [
            # Coordinates plus timestamp: see messaging.wire.RawRecord.timestamp.
            models.UniqueConstraint(
                fields=["topic", "partition", "offset", "record_timestamp"],
                name="message_record_once",
            ),
        ]
        indexes = [
            models.Index(fields=["time"]),
            # An order's short reference (the first characters of its id, as in the
            # customer's emails) is searched by prefix. The same index serves a key's
            # equality (PostgreSQL's pattern operator classes do), so there is no second one
            # for it to keep up on every INSERT: nothing orders or compares keys by range.
            models.Index(
                fields=["key"], name="message_key_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            # Searching by a customer's email looks only at the facts that name one.
            models.Index(
                Lower(KT("payload__customer__email")),
                name="message_customer_email_idx",
                condition=NAMES_A_CUSTOMER,
            ),
            # The purge finds the oldest records by it (messagelog.retention).
            models.Index(fields=["recorded_at"], name="message_recorded_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type or '(unreadable)'} {self.topic}[{self.partition}]@{self.offset}"


class ConversationsPage(MessageRecord):
    """Find a conversation, and read one: an admin page over the message log, no table."""

    class Meta:
        proxy = True
        verbose_name = "conversation"
        verbose_name_plural = "conversations"


class OperationsPage(OutboxMessage):
    """Outbox backlog, consumer lag and dead letters: an admin page, no table."""

    class Meta:
        proxy = True
        verbose_name = "operations"
        verbose_name_plural = "operations"
