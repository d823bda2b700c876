import pytest
from django.urls import reverse

from notifications.delivery import notification_deliver
from notifications.models import Notification

pytestmark = pytest.mark.django_db

URL = reverse("admin:notifications_notification_changelist")


class GatewayDown:
    def send(self, *, to: str, body: str, idempotency_key: str) -> bool:
        raise ConnectionRefusedError("the gateway is down")


@pytest.fixture
def failed(news, settings) -> Notification:
    settings.NOTIFICATIONS = {"DELIVERY_ATTEMPTS": 1}
    settings.TEXT_BACKEND = f"{__name__}.GatewayDown"
    return notification_deliver(notification_id=news[1].id)


def test_a_failed_notification_shows_why_how_often_and_its_key(admin_client, failed):
    page = admin_client.get(URL, {"status": "failed"}).content.decode()

    assert failed.status == "failed"
    assert "ConnectionRefusedError: the gateway is down" in page
    assert failed.dedup_key in page
    assert '<td class="field-attempts">1</td>' in page


def test_staff_deliver_a_failed_one_again_with_the_same_key(
    admin_client, failed, scheduled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(URL, {"action": "retry", "_selected_action": [failed.id]})

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert scheduled == [("notifications.deliver", (failed.id,), 0.0)]
