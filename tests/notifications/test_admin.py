import pytest
from django.urls import reverse

from messaging.personal import MASK
from notifications.delivery import notification_deliver
from notifications.models import Notification, Recipient, SentEmail, SentText
from tests.staff import staff_client

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
    assert scheduled == [("notifications.deliver", ([failed.id],), 0.0)]


def admin_pages(client, *rows) -> dict[str, str]:
    pages = {}
    for row in rows:
        name = f"admin:notifications_{row._meta.model_name}"
        pages[f"{row._meta.model_name} list"] = client.get(reverse(f"{name}_changelist"))
        pages[str(row._meta.model_name)] = client.get(reverse(f"{name}_change", args=[row.pk]))
    assert all(page.status_code == 200 for page in pages.values())
    return {name: page.content.decode() for name, page in pages.items()}


@pytest.fixture
def delivered(news, settings) -> list:
    """The order's recipient, its two notifications, and what the backends sent."""
    settings.EMAIL_BACKEND = "notifications.backends.DatabaseEmailBackend"  # the demo's
    for notification in news:
        notification_deliver(notification_id=notification.id)
    return [
        Recipient.objects.get(order_id=news[0].order_id),
        *news,
        SentEmail.objects.get(),
        SentText.objects.get(),
    ]


VIEW = ("view_recipient", "view_notification", "view_sentemail", "view_senttext")
PERSON = ("Ada", "ada@example.com", "+44 1")


def test_staff_without_the_permission_see_no_address_and_no_name(client, delivered):
    staff_client(client, *VIEW, sees_personal_data=False)

    for name, page in admin_pages(client, *delivered).items():
        assert not [value for value in PERSON if value in page], name
        assert MASK in page, name


def test_staff_without_the_permission_cannot_search_by_address(client, delivered):
    staff_client(client, *VIEW, sees_personal_data=False)

    found = client.get(URL, {"q": "ada@example.com"}).content.decode()
    probed = client.get(URL, {"to__contains": "ada"})

    assert f"{delivered[1].pk}/change/" not in found
    assert probed.status_code == 400


def test_staff_with_the_permission_see_who_was_told(client, delivered):
    staff_client(client, *VIEW, sees_personal_data=True)

    pages = admin_pages(client, *delivered)

    for name, page in pages.items():
        assert [value for value in PERSON if value in page], name
        assert MASK not in page, name
    assert "ada@example.com" in pages["sentemail list"]
    assert (
        f"{delivered[1].pk}/change/" in client.get(URL, {"q": "ada@example.com"}).content.decode()
    )
