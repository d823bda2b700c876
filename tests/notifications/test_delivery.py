"""Delivery: at least once, with a deduplication key (notifications.delivery)."""

import itertools
import logging
import smtplib
import threading

import pytest
from celery import current_app
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.models import OutboxMessage
from notifications import conf, delivery
from notifications.backends import DatabaseEmailBackend, DatabaseTextBackend
from notifications.delivery import (
    notification_deliver,
    notifications_deliver,
    notifications_stuck,
)
from notifications.models import Notification, SentEmail, SentText
from tests.notifications.conftest import time_passes

pytestmark = pytest.mark.django_db

DATABASE_EMAIL = "notifications.backends.DatabaseEmailBackend"
DATABASE_TEXT = "notifications.backends.DatabaseTextBackend"


class WorkerDied(BaseException):
    """The process ending on the spot: no code after it runs, no `except Exception` sees it."""


class EmailThenDie(DatabaseEmailBackend):
    """The provider accepts the email, then the worker dies before recording that."""

    def send_messages(self, email_messages) -> int:
        super().send_messages(email_messages)
        raise WorkerDied


class TextThenDie(DatabaseTextBackend):
    def send(self, **kwargs) -> bool:
        super().send(**kwargs)
        raise WorkerDied


class GatewayDown:
    def send(self, *, to: str, body: str, idempotency_key: str) -> bool:
        raise ConnectionRefusedError("the gateway is down")


class RecordingTextBackend:
    keys: list[str] = []

    def send(self, *, to: str, body: str, idempotency_key: str) -> bool:
        self.keys.append(idempotency_key)
        return True


class FlakyEmailBackend(LocmemEmailBackend):
    """Records each attempt's Message-ID; the first attempt loses the connection."""

    message_ids: list[str] = []

    def send_messages(self, messages) -> int:
        self.message_ids.extend(m.message()["Message-ID"] for m in messages)
        if len(self.message_ids) == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class SlowEmailBackend(DatabaseEmailBackend):
    """Sends only once the test lets it, so another delivery can run meanwhile."""

    sending = threading.Event()
    go_on = threading.Event()

    def send_messages(self, email_messages) -> int:
        self.sending.set()
        assert self.go_on.wait(timeout=30)
        return super().send_messages(email_messages)


def statuses() -> set[str]:
    return set(Notification.objects.values_list("status", flat=True))


def announced() -> list[str]:
    return sorted(OutboxMessage.objects.values_list("type", flat=True))


def test_a_crash_after_the_send_is_recovered_by_the_sweep_with_one_email_and_one_text(
    news, settings, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.EmailThenDie"
    settings.TEXT_BACKEND = f"{__name__}.TextThenDie"
    for notification in news:
        with pytest.raises(WorkerDied):
            notification_deliver(notification_id=notification.id)
    assert statuses() == {"sending"}
    assert (SentEmail.objects.count(), SentText.objects.count()) == (1, 1)

    settings.EMAIL_BACKEND, settings.TEXT_BACKEND = DATABASE_EMAIL, DATABASE_TEXT
    # While the lease runs nothing is sent blindly: neither the sweep nor a redelivered task.
    assert notifications_stuck() == []
    for notification in news:
        notification_deliver(notification_id=notification.id)
    assert statuses() == {"sending"}

    time_passes(seconds=conf.get("LEASE_SECONDS") + 1)
    with caplog.at_level(logging.WARNING, logger="notifications.delivery"):
        recovered = notifications_stuck()
    for notification_id in recovered:
        notification_deliver(notification_id=notification_id)

    email, text = (Notification.objects.get(id=n.id) for n in news)
    assert sorted(recovered) == sorted([email.id, text.id])
    assert "recovering attempt 1" in caplog.text
    assert statuses() == {"sent"} and {email.attempts, text.attempts} == {2}
    # The provider recognised the key: still one of each, and one announcement of each.
    assert list(SentEmail.objects.values_list("message_id", flat=True)) == [f"<{email.dedup_key}>"]
    assert list(SentText.objects.values_list("idempotency_key", flat=True)) == [text.dedup_key]
    assert announced() == ["notifications.EmailSent", "notifications.TextSent"]


def test_a_claim_whose_last_attempt_died_is_left_failed_not_sent_forever(news, settings):
    settings.NOTIFICATIONS = {"DELIVERY_ATTEMPTS": 1}
    settings.TEXT_BACKEND = f"{__name__}.TextThenDie"
    _, text = news
    with pytest.raises(WorkerDied):
        notification_deliver(notification_id=text.id)

    time_passes(seconds=conf.get("LEASE_SECONDS") + 1)

    assert notifications_stuck() == [news[0].id]  # the email, never tried: its task was lost
    text.refresh_from_db()
    assert (text.status, text.attempts) == ("failed", 1)
    assert "did not finish within its lease" in text.last_error


def test_the_sweep_leaves_a_row_whose_retry_is_waiting(news, settings):
    settings.TEXT_BACKEND = f"{__name__}.GatewayDown"
    email, text = news
    notification_deliver(notification_id=email.id)
    notification_deliver(notification_id=text.id)  # fails: its retry is due in 2 s
    Notification.objects.update(created_at=text.created_at.replace(year=2000))  # long ago

    assert notifications_stuck() == []

    time_passes(seconds=2 + conf.get("OVERDUE_SECONDS"))  # the retry's task was lost
    assert notifications_stuck() == [text.id]
    assert notifications_stuck() == []  # queued once: that task is its one retry chain


@pytest.mark.django_db(transaction=True)  # two threads, two connections, real commits
def test_two_deliveries_at_once_send_once(news, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowEmailBackend"
    SlowEmailBackend.sending.clear(), SlowEmailBackend.go_on.clear()
    email, _ = news
    first = threading.Thread(target=_deliver, args=(email.id,))
    second = threading.Thread(target=_deliver, args=(email.id,))
    try:
        first.start()
        assert SlowEmailBackend.sending.wait(timeout=10)
        second.start()
        # The first holds a claim, not a lock: the second sees it and ends at once.
        second.join(timeout=5)
        assert not second.is_alive(), "the second delivery waited for the first one's send"
    finally:
        SlowEmailBackend.go_on.set()
        first.join(timeout=10)
        second.join(timeout=10)

    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)
    assert SentEmail.objects.count() == 1
    assert announced() == ["notifications.EmailSent"]


def _deliver(notification_id: int) -> None:
    try:
        notification_deliver(notification_id=notification_id)
    finally:
        connection.close()  # each thread has its own connection


def test_every_attempt_carries_the_notifications_own_key(news, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyEmailBackend"
    settings.TEXT_BACKEND = f"{__name__}.RecordingTextBackend"
    FlakyEmailBackend.message_ids.clear(), RecordingTextBackend.keys.clear()
    email, text = news
    for notification in news:
        notification_deliver(notification_id=notification.id)
    time_passes(seconds=2)  # the email's retry is due
    notification_deliver(notification_id=email.id)

    ref = str(email.order_id)[:8].upper()
    assert FlakyEmailBackend.message_ids == [f"<notification-{email.id}.{ref}@example.com>"] * 2
    assert RecordingTextBackend.keys == [f"notification-{text.id}.{ref}@example.com"]
    assert statuses() == {"sent"}


def test_a_failing_gateway_is_retried_with_backoff_then_left_failed(
    news, settings, scheduled, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS = {"DELIVERY_ATTEMPTS": 4}
    settings.TEXT_BACKEND = f"{__name__}.GatewayDown"
    _, text = news

    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            notification_deliver(notification_id=text.id)
            notification_deliver(notification_id=text.id)  # early, or a duplicate: no attempt
        time_passes(minutes=10)

    text.refresh_from_db()
    assert [countdown for _, _, countdown in scheduled] == [2.0, 4.0, 8.0]
    assert (text.status, text.attempts) == ("failed", 4)
    assert text.last_error == "ConnectionRefusedError: the gateway is down"
    assert notifications_stuck() == [news[0].id]  # the email's lost task; the failed text waits


def test_an_orders_email_and_text_are_delivered_by_one_claim_and_one_mark(news, settings):
    settings.EMAIL_BACKEND, settings.TEXT_BACKEND = DATABASE_EMAIL, DATABASE_TEXT
    ids = [n.id for n in news]

    with CaptureQueriesContext(connection) as queries:
        delivered = notifications_deliver(ids=ids)

    assert [n.status for n in delivered] == ["sent", "sent"]
    assert announced() == ["notifications.EmailSent", "notifications.TextSent"]
    # Claiming the pair, the two sends, marking it (with the erasure check), the two
    # announcements: one statement each for both, not one per notification, and the claim
    # and the mark each lock and update the rows in one.
    sql = [q["sql"] for q in queries.captured_queries]
    assert [s.split()[0] for s in sql if "notifications_notification" in s] == ["UPDATE"] * 2
    assert sum("FOR UPDATE" in s and "notifications_erasedorder" in s for s in sql) == 1
    assert sum('INTO "messaging_outboxmessage"' in s for s in sql) == 1
    # Each send, as a deduplicating provider takes it, is one INSERT: its key's constraint
    # recognises a repeat, with no SELECT before it.
    sends = [
        q["sql"].split()[0]
        for q in queries.captured_queries
        if "notifications_sentemail" in q["sql"] or "notifications_senttext" in q["sql"]
    ]
    assert sends == ["INSERT", "INSERT"]


def test_what_is_not_sent_within_half_a_lease_is_given_back_for_a_task_of_its_own(
    news, settings, django_capture_on_commit_callbacks, monkeypatch
):
    """A slow provider: the email took longer than half the lease, so the text, claimed
    with it, is not sent on the same claim, where its lease could end mid-send."""
    settings.EMAIL_BACKEND, settings.TEXT_BACKEND = DATABASE_EMAIL, DATABASE_TEXT
    clock = itertools.chain([0.0], itertools.repeat(conf.get("LEASE_SECONDS")))
    monkeypatch.setattr(delivery, "monotonic", lambda: next(clock))
    email, text = news

    sent_in = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    tasks = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args=(), kwargs=None, **o: tasks.append(kwargs)
    )

    with django_capture_on_commit_callbacks(execute=True):
        notifications_deliver(ids=[email.id, text.id], traces={str(text.id): sent_in})

    email.refresh_from_db()
    text.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)
    assert (text.status, text.attempts, text.claimed_at) == ("pending", 0, None)
    # A task of its own, still in the trace the text was decided in.
    assert tasks == [{"traces": {str(text.id): sent_in}}]
    assert notification_deliver(notification_id=text.id).status == "sent"
