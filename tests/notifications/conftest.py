import uuid
from datetime import timedelta

import pytest
from django.db.models import F

from messaging.metadata import Metadata
from notifications import messages, tasks
from notifications.models import Notification
from notifications.services import notify, recipient_record
from tests.factories import order_placed


@pytest.fixture(autouse=True)
def scheduled(monkeypatch) -> list[tuple[int, float]]:
    """The delivery tasks queued, as (notification id, countdown); none reaches Redis."""
    queued = []
    monkeypatch.setattr(
        tasks.deliver,
        "apply_async",
        lambda args, countdown=0.0, **options: queued.append((args[0], countdown)),
    )
    monkeypatch.setattr(
        tasks.deliver, "delay", lambda notification_id: queued.append((notification_id, 0.0))
    )
    return queued


@pytest.fixture
def news() -> tuple[Notification, Notification]:
    """An order's "received" email and text, decided and not delivered yet."""
    order_id = uuid.uuid4()
    recipient_record(order_id=order_id, name="Ada", email="ada@example.com", phone="+44 1")
    cause = Metadata.for_message(order_placed(("MUG-001", 1), order_id=order_id))
    wording = messages.received("Ada", str(order_id)[:8].upper(), "€14.00")
    email, text = notify(order_id=order_id, kind="received", wording=wording, caused_by=cause)
    return email, text


def time_passes(**delta: float) -> None:
    """Move every notification's times back: as if `delta` had passed on every clock."""
    ago = timedelta(**delta)
    Notification.objects.update(
        created_at=F("created_at") - ago,
        claimed_at=F("claimed_at") - ago,
        next_attempt_at=F("next_attempt_at") - ago,
    )
