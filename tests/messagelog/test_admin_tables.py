"""Operators publish again or skip the outbox rows Kafka refused, from the admin."""

import uuid

import pytest
from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from messaging import outbox
from messaging.models import OutboxMessage
from shop.contracts import OrderCancelled

pytestmark = pytest.mark.django_db
URL = reverse("admin:messaging_outboxmessage_changelist")


@pytest.fixture
def refused():
    with transaction.atomic():
        metadata = outbox.send(OrderCancelled(order_id=uuid.uuid4(), reason="x"))
    row = OutboxMessage.objects.get(message_id=metadata.message_id)
    OutboxMessage.objects.filter(id=row.id).update(
        refused_at=timezone.now(), refusal="5000 bytes: larger than MAX_RECORD_BYTES (2000)"
    )
    return row


def test_refused_rows_are_listed_with_why(admin_client, refused):
    response = admin_client.get(URL, {"published": "refused"})

    assert b"larger than MAX_RECORD_BYTES" in response.content


def test_publish_again_puts_a_refused_row_back_in_the_relays_queue(admin_client, refused):
    admin_client.post(URL, {"action": "publish_again", "_selected_action": [refused.id]})

    assert list(OutboxMessage.objects.pending()) == [refused]
    assert LogEntry.objects.get().change_message.startswith("Publish again")


def test_skip_leaves_a_refused_row_unpublished_for_good_and_says_who(
    admin_client, admin_user, refused
):
    admin_client.post(URL, {"action": "skip", "_selected_action": [refused.id]})

    row = OutboxMessage.objects.get(id=refused.id)
    assert (row.published_at, row.skipped_by) == (None, admin_user.username)
    assert not OutboxMessage.objects.pending().exists()
    assert not OutboxMessage.objects.refused().exists()
