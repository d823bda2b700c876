"""Message-log rows for the message log's tests, written straight into the tables (no Kafka)."""

import itertools
import uuid
from datetime import datetime, timedelta

from django.contrib.auth.models import Permission, User
from django.utils import timezone

from messagelog.models import MessageRecord
from messagelog.outcomes import followers
from messaging.contracts import message_class
from messaging.models import DeadLetter, HandlingFailure, InboxEntry

_offsets = itertools.count(1000)

# One order's conversation when everything goes well, each message caused by the one before
# (close enough for a long conversation of realistic types).
HAPPY_PATH = [
    "shop.PlaceOrder",
    "shop.OrderPlaced",
    "warehouse.StockReserved",
    "shop.OrderConfirmed",
    "warehouse.DispatchOrder",
    "warehouse.OrderDispatched",
    "notifications.EmailSent",
]


def logged(
    message_type: str,
    *,
    correlation_id: uuid.UUID,
    cause: MessageRecord | None = None,
    at: datetime | None = None,
    key: str = "",
    payload: dict | None = None,
    save: bool = True,
) -> MessageRecord:
    contract = message_class(message_type)
    record = MessageRecord(
        topic=contract.topic,
        partition=0,
        offset=next(_offsets),
        key=key or str(correlation_id),
        message_id=uuid.uuid4(),
        type=message_type,
        source=contract.source,
        kind=contract.kind,
        correlation_id=correlation_id,
        causation_id=cause.message_id if cause else None,
        time=at or timezone.now(),
        headers={"ce_type": message_type, "ce_specversion": "1.0"},
        payload=payload if payload is not None else {"order_id": key or str(correlation_id)},
    )
    if save:
        record.save()
    return record


def handled(
    record: MessageRecord,
    group: str,
    *,
    took: timedelta = timedelta(milliseconds=7),
    duplicates: int = 0,
    save: bool = True,
) -> InboxEntry:
    entry = InboxEntry(
        group=group,
        message_id=record.message_id,
        type=record.type,
        correlation_id=record.correlation_id,
        started_at=record.time + timedelta(milliseconds=3),
        handled_at=record.time + timedelta(milliseconds=3) + took,
        duplicates=duplicates,
    )
    if save:
        entry.save()
    return entry


def dead_lettered(
    record: MessageRecord,
    group: str,
    *,
    reason: str = DeadLetter.Reason.HANDLER_FAILED,
    error: str = "RuntimeError: carrier API down",
    attempts: int = 3,
) -> DeadLetter:
    return DeadLetter.objects.create(
        group=group,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        message_id=record.message_id,
        type=record.type,
        correlation_id=record.correlation_id,
        reason=reason,
        error=error,
        traceback="Traceback (most recent call last):\n  ...\nRuntimeError: carrier API down",
        attempts=attempts,
    )


def failed(record: MessageRecord, group: str, attempt: int, error: str = "boom") -> HandlingFailure:
    return HandlingFailure.objects.create(
        group=group,
        message_id=record.message_id,
        type=record.type,
        correlation_id=record.correlation_id,
        attempt=attempt,
        error=error,
        traceback=f"Traceback ...\n{error}",
        started_at=record.time + timedelta(milliseconds=attempt * 10),
        failed_at=record.time + timedelta(milliseconds=attempt * 10 + 5),
    )


def long_conversation(size: int, correlation_id: uuid.UUID | None = None) -> uuid.UUID:
    """`size` messages of one correlation id, each handled by every group that follows it."""
    correlation_id = correlation_id or uuid.uuid4()
    start = timezone.now() - timedelta(minutes=5)
    records, cause = [], None
    for i in range(size):
        message_type = HAPPY_PATH[i % len(HAPPY_PATH)]
        cause = logged(
            message_type,
            correlation_id=correlation_id,
            cause=cause,
            at=start + timedelta(milliseconds=40 * i),
            save=False,
        )
        records.append(cause)
    MessageRecord.objects.bulk_create(records)
    InboxEntry.objects.bulk_create(
        handled(r, group, save=False) for r in records for group in followers(r.type)
    )
    return correlation_id


def staff(
    username: str = "operator", *, can_read_log: bool = True, sees_personal_data: bool = False
) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    if can_read_log:
        user.user_permissions.add(Permission.objects.get(codename="view_messagerecord"))
    if sees_personal_data:
        user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    return user
