"""Operators retry or skip dead letters from the admin, after seeing what it will do."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from messagelog.admin import dead_letters
from messaging.models import DeadLetter, InboxEntry
from tests.factories import order_placed, record_of

pytestmark = pytest.mark.django_db
URL = reverse("admin:messaging_deadletter_changelist")


@pytest.fixture
def letter():
    record = record_of(order_placed(("MUG-001", 1)))
    headers = {name: value.decode() for name, value in record.headers}
    return DeadLetter.objects.create(
        group="warehouse",
        topic=record.topic,
        partition=0,
        offset=7,
        key=record.key.decode(),
        value=record.value.decode(),
        headers=headers,
        message_id=headers["ce_id"],
        type="shop.OrderPlaced",
        reason=DeadLetter.Reason.HANDLER_FAILED,
        error="RuntimeError: warehouse database was down",
        attempts=5,
    )


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(
        dead_letters.redeliver_dead_letter,
        "apply_async",
        lambda args, queue: calls.append((args, queue)),
    )
    return calls


def test_retry_first_shows_the_idempotency_key_and_sends_nothing(admin_client, letter, sent):
    response = admin_client.post(URL, {"action": "retry", "_selected_action": [letter.id]})

    page = response.content.decode()
    assert response.status_code == 200
    assert f"warehouse, {letter.message_id}" in page
    assert "Yes, retry 1" in page
    assert sent == []


def test_the_confirmation_says_when_the_group_already_handled_it(admin_client, letter, sent):
    InboxEntry.objects.create(
        group="warehouse",
        message_id=letter.message_id,
        type=letter.type,
        correlation_id=letter.headers["ce_correlationid"],
        started_at=letter.created_at,
        handled_at=letter.created_at,
    )

    response = admin_client.post(URL, {"action": "retry", "_selected_action": [letter.id]})

    assert "yes: redelivery will be skipped" in response.content.decode()


def test_a_confirmed_retry_redelivers_on_the_group_queue_and_is_logged(
    admin_client, admin_user, letter, sent
):
    response = admin_client.post(
        URL, {"action": "retry", "_selected_action": [letter.id], "confirmed": "yes"}
    )

    assert response.status_code == 302
    assert sent == [((letter.id, admin_user.username), "warehouse")]
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id) == (admin_user, str(letter.id))
    assert "Retried" in entry.get_change_message()


def test_skipping_needs_a_reason(admin_client, admin_user, letter):
    without = admin_client.post(
        URL, {"action": "skip", "_selected_action": [letter.id], "confirmed": "yes", "reason": ""}
    )
    assert "This field is required." in without.content.decode()
    assert DeadLetter.objects.get().status == "open"

    admin_client.post(
        URL,
        {
            "action": "skip",
            "_selected_action": [letter.id],
            "confirmed": "yes",
            "reason": "refunded by hand",
        },
    )

    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by, letter.resolution_note) == (
        "skipped",
        admin_user.username,
        "refunded by hand",
    )
    assert "Skipped: refunded by hand" in LogEntry.objects.get().get_change_message()


def test_a_read_only_staff_member_cannot_act(client, django_user_model, letter, sent):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_deadletter"))
    client.force_login(viewer)

    page = client.get(URL).content.decode()
    client.post(URL, {"action": "retry", "_selected_action": [letter.id], "confirmed": "yes"})

    assert 'name="action"' not in page
    assert sent == []
