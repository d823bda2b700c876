import uuid
from datetime import timedelta

import pytest
from django.db.models import F

from messaging.metadata import Metadata
from notifications import messages
from notifications.models import Notification
from notifications.services import notify, recipient_record
from tests.factories import order_placed


@pytest.fixture(autouse=True)
def scheduled(celery_tasks) -> list[tuple[str, tuple, float]]:
    """The delivery tasks queued, as (task name, args, countdown); none reaches Redis."""
    return celery_tasks


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
