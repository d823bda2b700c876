"""The purge (messaging.retention) on a real PostgreSQL: old rows go, in batches, and every
row something still needs survives, however old."""

import itertools
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import retention
from messaging.models import (
    BrokerLoss,
    DeadLetter,
    HandlingFailure,
    InboxEntry,
    OutboxMessage,
    ParkedRecord,
)
from tests.factories import database_session

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - timedelta(days=40)  # older than every default window
RECENT = NOW - timedelta(hours=1)  # within every default window
_offsets = itertools.count()


def outbox_row(*, time=OLD, **fields) -> OutboxMessage:
    return OutboxMessage.objects.create(
        message_id=uuid.uuid4(),
        topic="orders",
        key="k",
        type="shop.OrderPlaced",
        source="shop",
        kind="event",
        correlation_id=uuid.uuid4(),
        time=time,
        payload={},
        **fields,
    )


def inbox_entry(*, group="sales", message_id=None, at=OLD) -> InboxEntry:
    return InboxEntry.objects.create(
        group=group,
        message_id=message_id or uuid.uuid4(),
        type="shop.OrderPlaced",
        correlation_id=uuid.uuid4(),
        started_at=at,
        handled_at=at,
    )


def failure(*, group="sales", message_id=None, at=OLD) -> HandlingFailure:
    return HandlingFailure.objects.create(
        group=group,
        message_id=message_id or uuid.uuid4(),
        type="shop.OrderPlaced",
        correlation_id=uuid.uuid4(),
        attempt=1,
        error="RuntimeError: boom",
        started_at=at,
        failed_at=at,
    )


def dead_letter(*, group="sales", message_id=None, status="open", resolved_at=None, at=OLD):
    letter = DeadLetter.objects.create(
        group=group,
        topic="orders",
        partition=0,
        offset=next(_offsets),
        message_id=message_id or uuid.uuid4(),
        type="shop.OrderPlaced",
        reason=DeadLetter.Reason.HANDLER_FAILED,
        error="RuntimeError: boom",
        status=status,
        resolved_at=resolved_at,
    )
    DeadLetter.objects.filter(pk=letter.pk).update(created_at=at)  # auto_now_add otherwise
    return letter


def parked(*, group="sales", message_id=None, letter=None) -> ParkedRecord:
    return ParkedRecord.objects.create(
        group=group,
        key="k",
        topic="orders",
        partition=0,
        offset=next(_offsets),
        message_id=message_id or uuid.uuid4(),
        type="shop.OrderPlaced",
        dead_letter=letter,
    )


def purge(**options) -> retention.PurgeReport:
    return retention.purge(now=NOW, **options)


def remaining(model) -> set[int]:
    return set(model.objects.values_list("pk", flat=True))


def test_published_outbox_rows_go_after_the_window_and_owed_ones_never():
    old_published = outbox_row(published_at=OLD)
    old_skipped = outbox_row(refused_at=OLD, refusal="too large", skipped_at=OLD)
    recent = outbox_row(time=OLD, published_at=RECENT)  # written long ago, published lately
    pending = outbox_row()
    refused = outbox_row(refused_at=OLD, refusal="too large")

    report = purge(tables=["outbox"])

    assert remaining(OutboxMessage) == {recent.pk, pending.pk, refused.pk}
    assert {old_published.pk, old_skipped.pk}.isdisjoint(remaining(OutboxMessage))
    [table] = report.tables
    assert (table.expired, table.deleted) == (2, 2)
    assert table.oldest_kept == OLD  # the pending row: the report shows what holds on


def test_inbox_entries_go_after_the_window_unless_a_group_still_holds_their_message():
    old = inbox_entry()
    recent = inbox_entry(at=RECENT)
    # A redelivered copy queued behind a dead letter: once the queue drains, the inbox
    # must still recognise it, however long the operator took.
    queued = inbox_entry(group="warehouse")
    parked(group="warehouse", message_id=queued.message_id)
    dead = inbox_entry(group="shop")
    dead_letter(group="shop", message_id=dead.message_id)
    # Held by another group only: this group's entry is not needed for it.
    elsewhere = inbox_entry(group="notifications")
    parked(group="sales", message_id=elsewhere.message_id)

    purge(tables=["inbox"])

    assert remaining(InboxEntry) == {recent.pk, queued.pk, dead.pk}
    assert old.pk not in remaining(InboxEntry)


def test_handling_failures_of_parked_and_dead_lettered_messages_are_kept():
    old = failure()
    recent = failure(at=RECENT)
    retried = failure(group="warehouse")
    parked(group="warehouse", message_id=retried.message_id)
    dead = failure(group="shop")
    dead_letter(group="shop", message_id=dead.message_id)

    purge(tables=["handling failures"])

    assert remaining(HandlingFailure) == {recent.pk, retried.pk, dead.pk}
    assert old.pk not in remaining(HandlingFailure)


def test_dead_letters_go_only_once_resolved_and_past_the_window():
    open_letter = dead_letter()
    resolved_long_ago = dead_letter(status="skipped", resolved_at=OLD)
    resolved_lately = dead_letter(status="retried", resolved_at=RECENT)
    still_parked = dead_letter(status="skipped", resolved_at=OLD)
    parked(letter=still_parked)

    purge(tables=["dead letters"])

    assert remaining(DeadLetter) == {open_letter.pk, resolved_lately.pk, still_parked.pk}
    assert resolved_long_ago.pk not in remaining(DeadLetter)


def broker_loss(*, lost: int, republished: int, at=OLD) -> BrokerLoss:
    loss = BrokerLoss.objects.create(
        topic="orders", partition=0, from_offset=0, lost=lost, republished=republished
    )
    BrokerLoss.objects.filter(pk=loss.pk).update(detected_at=at)  # auto_now_add: set after
    return loss


def test_a_broker_loss_missing_from_history_is_never_purged():
    """A rebuild reads those to refuse to count from an incomplete topic unless told."""
    all_published_again = broker_loss(lost=5, republished=5)
    missing_from_history = broker_loss(lost=5, republished=2)
    lately = broker_loss(lost=5, republished=5, at=RECENT)

    report = purge(tables=["broker losses"])

    assert remaining(BrokerLoss) == {missing_from_history.pk, lately.pk}
    assert all_published_again.pk not in remaining(BrokerLoss)
    assert report.tables[0].oldest_kept == OLD
    assert report.tables[0].window == timedelta(days=30)


def test_rows_go_in_batches_oldest_first_each_its_own_statement():
    rows = [inbox_entry(at=OLD + timedelta(minutes=i)) for i in range(7)]
    calls = []

    with CaptureQueriesContext(connection) as queries:
        report = purge(tables=["inbox"], batch_size=3, progress=lambda *a: calls.append(a))

    assert not InboxEntry.objects.exists()
    assert calls == [("inbox", 0, 7), ("inbox", 3, 7), ("inbox", 6, 7), ("inbox", 7, 7)]
    picks = [q["sql"] for q in queries if "LIMIT 3" in q["sql"]]
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(picks) == len(deletes) == 3
    assert all('ORDER BY "messaging_inboxentry"."started_at" ASC' in sql for sql in picks)
    # Each DELETE names its rows by primary key, and checks again that they may go.
    assert all('"messaging_inboxentry"."id" IN (' in sql and "started_at" in sql for sql in deletes)
    assert report.tables[0].deleted == len(rows)


def test_a_dry_run_counts_and_dates_but_deletes_nothing():
    inbox_entry()
    inbox_entry()
    kept = inbox_entry(at=RECENT)

    report = purge(dry_run=True, tables=["inbox"])

    assert InboxEntry.objects.count() == 3
    [table] = report.tables
    assert (table.expired, table.deleted) == (2, 0)
    assert table.oldest_kept == kept.started_at
    assert table.window == timedelta(days=7)


def test_every_table_is_purged_when_none_is_named():
    report = purge(dry_run=True)

    assert [t.name for t in report.tables] == [
        "outbox",
        "inbox",
        "handling failures",
        "dead letters",
        "broker losses",
        "message log",
        "idempotency keys",
    ]


def test_windows_come_from_the_settings(settings):
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_OUTBOX": "30m", "RETAIN_INBOX": "30m"}
    half_an_hour_ago = inbox_entry(at=NOW - timedelta(minutes=31))
    lately = inbox_entry(at=NOW - timedelta(minutes=29))

    purge(tables=["inbox"])

    assert remaining(InboxEntry) == {lately.pk}
    assert half_an_hour_ago.pk not in remaining(InboxEntry)


def test_an_outbox_kept_longer_than_the_inbox_remembers_is_refused(settings):
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_OUTBOX": "8d", "RETAIN_INBOX": "7d"}
    inbox_entry()

    with pytest.raises(ImproperlyConfigured, match=r"RETAIN_OUTBOX .* longer than RETAIN_INBOX"):
        purge()
    assert InboxEntry.objects.exists()


def test_idempotency_keys_kept_less_than_a_day_are_refused(settings):
    """A client retrying the next morning must get its first order back, not a second."""
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_IDEMPOTENCY_KEYS": "12h"}
    inbox_entry()

    with pytest.raises(ImproperlyConfigured, match=r"RETAIN_IDEMPOTENCY_KEYS \(12h\) is shorter"):
        purge()
    assert InboxEntry.objects.exists()


def test_a_window_that_is_not_a_duration_names_its_setting(settings):
    settings.MESSAGING = {**settings.MESSAGING, "RETAIN_DEAD_LETTERS": "a month"}

    with pytest.raises(ImproperlyConfigured, match="RETAIN_DEAD_LETTERS"):
        purge(tables=["dead letters"])


def test_one_purge_at_a_time():
    inbox_entry()
    with database_session() as other:  # another purge, in another process
        other.execute("SELECT pg_advisory_lock(%s)", [retention.PURGE_LOCK_ID])
        with pytest.raises(retention.PurgeRunning):
            purge()
        assert purge(dry_run=True).tables[1].expired == 1  # a dry run still counts
        other.execute("SELECT pg_advisory_unlock(%s)", [retention.PURGE_LOCK_ID])

    assert purge().deleted == 1


@pytest.fixture
def pauses(monkeypatch) -> list:
    """The purge's pauses, in order with its progress calls, on a clock that moves a quarter
    of a second each time it is read: a batch, read twice, takes 0.25 s."""
    ticks = itertools.count()
    events = []
    monkeypatch.setattr(retention, "clock", lambda: next(ticks) / 4)
    monkeypatch.setattr(retention, "sleep", lambda seconds: events.append(("sleep", seconds)))
    return events


def test_the_purge_pauses_after_each_batch_as_long_as_it_took(pauses):
    for i in range(7):
        inbox_entry(at=OLD + timedelta(minutes=i))

    report = purge(tables=["inbox"], batch_size=3, progress=lambda *a: pauses.append(a))

    # No pause after the last batch: the purge ends there.
    assert pauses == [
        ("inbox", 0, 7),
        ("inbox", 3, 7),
        ("sleep", 0.25),
        ("inbox", 6, 7),
        ("sleep", 0.25),
        ("inbox", 7, 7),
    ]
    assert not InboxEntry.objects.exists()
    assert report.tables[0].deleted == 7


def test_the_pause_is_the_setting_times_the_batchs_time(settings, pauses):
    settings.MESSAGING = {**settings.MESSAGING, "PURGE_PAUSE": 3.0}
    for _ in range(5):
        inbox_entry()

    purge(tables=["inbox"], batch_size=2)

    assert pauses == [("sleep", 0.75), ("sleep", 0.75)]
    assert not InboxEntry.objects.exists()


def test_a_pause_of_zero_deletes_back_to_back(settings, pauses):
    settings.MESSAGING = {**settings.MESSAGING, "PURGE_PAUSE": 3.0}
    for _ in range(5):
        inbox_entry()

    purge(tables=["inbox"], batch_size=2, pause=0)

    assert pauses == []
    assert not InboxEntry.objects.exists()


def test_a_negative_pause_is_refused(settings, pauses):
    settings.MESSAGING = {**settings.MESSAGING, "PURGE_PAUSE": -1}
    inbox_entry()

    with pytest.raises(ImproperlyConfigured, match="PURGE_PAUSE"):
        purge(tables=["inbox"])
    assert InboxEntry.objects.exists()
