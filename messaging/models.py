"""The runtime's tables: the outbox, the inbox, failed attempts, dead letters, parked
records, broker losses and replay checkpoints."""

import logging

from django.db import models
from django.utils import timezone

from .metadata import Metadata

logger = logging.getLogger(__name__)


class OutboxQuerySet(models.QuerySet):
    def pending(self):
        """Waiting for the relay: neither published, nor refused by Kafka, nor skipped."""
        return self.filter(published_at=None, refused_at=None, skipped_at=None)

    def refused(self):
        """Refused by Kafka for good and not skipped: the later rows of their keys wait."""
        return self.filter(refused_at__isnull=False, skipped_at=None)


class OutboxMessage(models.Model):
    """A message waiting to be published, written in the transaction that caused it.

    The relay publishes rows in id order and stamps `published_at` with where Kafka put
    each; a row is never edited otherwise, so the outbox is also a record of what this
    database sent. A row Kafka refuses for good is stamped `refused_at` instead, until an
    operator publishes it again or skips it.
    """

    message_id = models.UUIDField(unique=True)
    topic = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    type = models.CharField(max_length=200)
    source = models.CharField(max_length=50)
    kind = models.CharField(max_length=10)
    correlation_id = models.UUIDField(db_index=True)
    causation_id = models.UUIDField(null=True, blank=True)
    time = models.DateTimeField()
    payload = models.JSONField()
    # The version of its type the payload was written as (rows from before versions: 1).
    version = models.PositiveSmallIntegerField(default=1)
    # The W3C trace context the message was created in, written on its record by the relay
    # (messaging.tracing); blank when no trace was active.
    traceparent = models.CharField(max_length=100, blank=True)
    tracestate = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Where the broker acknowledged it: how the relay notices a broker that lost it.
    partition = models.IntegerField(null=True, blank=True)
    offset = models.BigIntegerField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    refusal = models.TextField(blank=True)
    skipped_at = models.DateTimeField(null=True, blank=True)
    skipped_by = models.CharField(max_length=150, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], name="outbox_pending_idx", condition=models.Q(published_at=None)
            ),
            models.Index(
                fields=["key", "id"],
                name="outbox_refused_idx",
                condition=models.Q(refused_at__isnull=False, skipped_at=None),
            ),
            models.Index(
                fields=["topic", "partition", "offset"],
                name="outbox_position_idx",
                condition=models.Q(offset__isnull=False),
            ),
            # The purge finds the oldest rows by it (messaging.retention).
            models.Index(fields=["time"], name="outbox_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"

    def metadata(self) -> Metadata:
        return Metadata(
            message_id=self.message_id,
            type=self.type,
            source=self.source,
            kind=self.kind,
            time=self.time,
            key=self.key,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            version=self.version,
            traceparent=self.traceparent,
            tracestate=self.tracestate,
        )


class InboxEntry(models.Model):
    """One message handled by one consumer group: the row that makes handling idempotent.

    It is written in the handler's own transaction, so it exists exactly when the
    handler's effects and the messages it emitted were committed.
    """

    group = models.CharField(max_length=100)
    message_id = models.UUIDField()
    type = models.CharField(max_length=200)
    correlation_id = models.UUIDField(db_index=True)
    started_at = models.DateTimeField()
    handled_at = models.DateTimeField()
    # Redeliveries recognised and skipped: the inbox doing its job, made visible.
    duplicates = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "message_id"], name="inbox_once_per_group"),
        ]
        indexes = [
            # The message log shows every group's outcome for a page of message ids,
            models.Index(fields=["message_id"], name="inbox_message_idx"),
            # and filters the few messages that were delivered more than once.
            models.Index(
                fields=["message_id"],
                name="inbox_duplicates_idx",
                condition=models.Q(duplicates__gt=0),
            ),
            # The purge finds the oldest entries by it: written once, unlike handled_at.
            models.Index(fields=["started_at"], name="inbox_started_idx"),
        ]
        verbose_name_plural = "inbox entries"

    def __str__(self) -> str:
        return f"{self.group}: {self.type} {self.message_id}"


class DeadLetter(models.Model):
    """A record a consumer group left for a person to retry or skip, so that it could go on
    with the next."""

    class Reason(models.TextChoices):
        MALFORMED = "malformed", "not a readable CloudEvent"
        UNKNOWN_TYPE = "unknown_type", "unknown message type"
        INVALID = "invalid", "fails its contract"
        HANDLER_FAILED = "handler_failed", "handler kept failing"

    group = models.CharField(max_length=100)
    topic = models.CharField(max_length=200)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    record_timestamp = models.BigIntegerField(default=0)  # Kafka's, in ms
    key = models.TextField(blank=True)
    headers = models.JSONField(default=dict)
    value = models.TextField(blank=True)
    message_id = models.UUIDField(null=True, blank=True)
    type = models.CharField(max_length=200, blank=True)
    correlation_id = models.UUIDField(null=True, blank=True, db_index=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    error = models.TextField()
    traceback = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the copy on the group's dead-letter topic was written (None: not yet).
    published_at = models.DateTimeField(null=True, blank=True)

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RETRIED = "retried", "Retried and handled"
        SKIPPED = "skipped", "Skipped"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "topic", "partition", "offset", "record_timestamp"],
                name="dead_letter_once",
            ),
        ]
        # The message log finds the groups that dead-lettered a record by where it was read.
        indexes = [
            models.Index(fields=["topic", "partition", "offset"], name="dead_letter_record_idx"),
            models.Index(fields=["message_id"], name="dead_letter_message_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.topic}[{self.partition}]@{self.offset} ({self.reason})"

    def resolve(self, status: str, *, by: str, note: str) -> None:
        """Retried and handled, or skipped: by whom and why, kept with it."""
        self.status, self.resolved_by, self.resolution_note = status, by, note
        self.resolved_at = timezone.now()
        self.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
        logger.info("dead letter %s %s by %s: %s", self.id, status, by, note)


class HandlingFailure(models.Model):
    """One failed attempt of a consumer group to handle a message: its handler raised.

    Append-only, written after the attempt's transaction rolled back (so it survives it).
    The inbox shows only what committed; these rows show the attempts before it, or
    before the message became a dead letter.
    """

    group = models.CharField(max_length=100)
    message_id = models.UUIDField()
    type = models.CharField(max_length=200)
    correlation_id = models.UUIDField(db_index=True)
    attempt = models.PositiveIntegerField()
    error = models.TextField()
    traceback = models.TextField(blank=True)
    started_at = models.DateTimeField()
    failed_at = models.DateTimeField()

    class Meta:
        ordering = ["failed_at", "id"]
        indexes = [
            models.Index(fields=["message_id"], name="failure_message_idx"),
            models.Index(fields=["failed_at"], name="failure_time_idx"),  # for the purge
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.type} {self.message_id} (attempt {self.attempt})"


class BrokerLoss(models.Model):
    """Records the broker acknowledged and later lost, as the relay found (messaging.recovery).

    The relay publishes again those some consumer group still waited for; the others were
    handled everywhere, so nothing waits for them, but the topic's history is incomplete
    from then on: a rebuild from it would miss them, and says so.
    """

    topic = models.CharField(max_length=200)
    partition = models.IntegerField()
    from_offset = models.BigIntegerField()
    lost = models.PositiveIntegerField()
    republished = models.PositiveIntegerField()
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name_plural = "broker losses"

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}] from {self.from_offset}: {self.lost} lost"

    @property
    def missing_from_history(self) -> int:
        return self.lost - self.republished


class ReplayCheckpoint(models.Model):
    """How far an interrupted replay got in one partition, so running it again resumes."""

    replay = models.CharField(max_length=200)
    topic = models.CharField(max_length=200)
    partition = models.IntegerField()
    next_offset = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["replay", "topic", "partition"], name="one_checkpoint_per_partition"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.replay}: {self.topic}[{self.partition}] from {self.next_offset}"


class ParkedRecord(models.Model):
    """A record held back for its consumer group: a failed one waiting for its next try,
    or a later one of the same key waiting behind it, so that none overtakes another.

    The first row of a (group, key), by the time its message was written, is the one
    being retried (the queue: messaging.parking; its retries: messaging.retrying).
    """

    group = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    topic = models.CharField(max_length=200)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    record_timestamp = models.BigIntegerField(default=0)  # Kafka's, in ms
    # The record exactly as read, so a retry hands the handler the very same bytes.
    raw_key = models.BinaryField(null=True)
    raw_value = models.BinaryField(null=True)
    raw_headers = models.JSONField(default=list)  # [[name, base64 value], ...]
    message_id = models.UUIDField(null=True, blank=True)
    type = models.CharField(max_length=200, blank=True)
    correlation_id = models.UUIDField(null=True, blank=True)
    # The message's own time (its CloudEvent time): the queue's order across topics.
    written_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The handler raised NotYet: it waits for another message rather than failing.
    waiting = models.BooleanField(default=False)
    # It ran out of tries: a dead letter that keeps its place at the head of the key's
    # queue until an operator retries or skips it (messaging.retrying).
    dead_letter = models.OneToOneField(
        DeadLetter, null=True, blank=True, on_delete=models.SET_NULL, related_name="parked"
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    parked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "topic", "partition", "offset", "record_timestamp"],
                name="parked_once",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "key", "written_at", "id"], name="parked_queue_idx"),
            models.Index(fields=["next_attempt_at"], name="parked_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.key} {self.topic}[{self.partition}]@{self.offset}"


class Heartbeat(models.Model):
    """The last sign of life of one part of one process (messaging.heartbeats).

    One row per part: the relay, each consumer group member, the Celery worker, the
    scheduler; the process upserts its rows every HEARTBEAT_INTERVAL, in one statement,
    at the database's time. A clean stop deletes them; a process that dies leaves them to
    go stale, until the scheduler forgets them (HEARTBEAT_FORGET_AFTER).
    """

    class Kind(models.TextChoices):
        RELAY = "relay", "outbox relay"
        CONSUMER = "consumer", "consumer group member"
        WORKER = "worker", "Celery worker"
        SCHEDULER = "scheduler", "scheduler (Celery beat)"

    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The consumer group, the Celery node name, or the process type.
    name = models.CharField(max_length=200)
    # The relay: leader or standby; a member: consuming or joining; "retrying" after an error.
    role = models.CharField(max_length=20, blank=True)
    details = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["kind", "name", "host", "pid"]
        constraints = [
            models.UniqueConstraint(
                fields=["host", "pid", "kind", "name"], name="one_heartbeat_per_part"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name} on {self.host}:{self.pid}"


class ErasedKey(models.Model):
    """A key (an order id) whose messages lost their person: the runtime's copies of them
    were redacted, and any copy written later is redacted as it is written
    (messaging.erasure).

    Its model also carries the permission to see personal data in messages at all: staff
    without it see every personal field masked (the message log's admin).
    """

    key = models.CharField(max_length=200, unique=True)
    erased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-erased_at"]
        permissions = [
            ("view_personal_data", "Can see customers' personal data in messages"),
        ]

    def __str__(self) -> str:
        return f"{self.key} (erased {self.erased_at:%Y-%m-%d %H:%M})"
