"""The message log in the purge (messagelog.retention): old records go, those of a message
some group still holds stay for the operator deciding on it."""

import itertools
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from messagelog.models import MessageRecord
from messaging import retention
from messaging.models import DeadLetter, ParkedRecord

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - timedelta(days=40)
_offsets = itertools.count(5000)


def record(*, at=OLD, message_id="new") -> MessageRecord:
    row = MessageRecord.objects.create(
        topic="orders",
        partition=0,
        offset=next(_offsets),
        message_id=uuid.uuid4() if message_id == "new" else message_id,
        type="shop.OrderPlaced",
    )
    MessageRecord.objects.filter(pk=row.pk).update(recorded_at=at)  # auto_now_add otherwise
    return row


def held_as(row: MessageRecord, *, status="open", parked=False) -> None:
    """A group holds the record: as a dead letter (open or resolved), or parked."""
    where = {"group": "sales", "topic": row.topic, "partition": row.partition, "offset": row.offset}
    if parked:
        ParkedRecord.objects.create(key="k", message_id=row.message_id, **where)
        return
    DeadLetter.objects.create(
        message_id=row.message_id,
        reason=DeadLetter.Reason.MALFORMED,
        error="not a CloudEvent",
        status=status,
        **where,
    )


def test_old_records_go_unless_a_group_still_holds_their_message():
    old = record()
    recent = record(at=NOW - timedelta(days=29))
    parked = record()
    held_as(parked, parked=True)
    dead = record()
    held_as(dead)
    unreadable = record(message_id=None)  # only its place on Kafka names it
    held_as(unreadable)
    resolved = record()
    held_as(resolved, status="skipped")

    report = retention.purge(now=NOW, tables=["message log"])

    left = set(MessageRecord.objects.values_list("pk", flat=True))
    assert left == {recent.pk, parked.pk, dead.pk, unreadable.pk}
    assert {old.pk, resolved.pk}.isdisjoint(left)
    [table] = report.tables
    assert table.deleted == 2 and table.window == timedelta(days=30)
    assert table.oldest_kept == OLD  # a held record: the report shows what holds on
