"""The demo's backends honour a delivery's key as a deduplicating provider does."""

import logging

import pytest
from django.core.mail import EmailMessage, get_connection

from notifications import backends
from notifications.backends import send_text
from notifications.models import SentEmail, SentText

pytestmark = pytest.mark.django_db

KEY = "notification-7.ABCD1234@example.com"


class KeylessTextBackend:
    """A TEXT_BACKEND written before keys: send(*, to, body)."""

    sent: list[tuple[str, str]] = []

    def send(self, *, to: str, body: str) -> None:
        self.sent.append((to, body))


def test_the_database_email_backend_stores_one_email_per_message_id():
    backend = get_connection("notifications.backends.DatabaseEmailBackend")
    email = EmailMessage(
        "Hello", "Body", "shop@example.com", ["ada@example.com"], headers={"Message-ID": f"<{KEY}>"}
    )

    first, again = backend.send_messages([email]), backend.send_messages([email])

    assert (first, again) == (1, 0)  # the repeat is recognised: "already delivered"
    assert list(SentEmail.objects.values_list("message_id", "subject")) == [(f"<{KEY}>", "Hello")]


def test_an_email_without_a_message_id_gets_its_own():
    backend = get_connection("notifications.backends.DatabaseEmailBackend")
    email = EmailMessage("Hello", "Body", "shop@example.com", ["ada@example.com"])

    assert backend.send_messages([email]) + backend.send_messages([email]) == 2
    ids = list(SentEmail.objects.values_list("message_id", flat=True))
    assert len(set(ids)) == 2 and all(i.startswith("<") for i in ids)


def test_the_database_text_backend_stores_one_text_per_idempotency_key(settings):
    settings.TEXT_BACKEND = "notifications.backends.DatabaseTextBackend"

    first = send_text(to="+44 1", body="Shop: hello", idempotency_key=KEY)
    again = send_text(to="+44 1", body="Shop: hello", idempotency_key=KEY)

    assert (first, again) == (True, False)
    assert list(SentText.objects.values_list("idempotency_key", "body")) == [(KEY, "Shop: hello")]


def test_a_text_backend_that_takes_no_key_still_sends_and_says_it_cannot_deduplicate(
    settings, caplog
):
    settings.TEXT_BACKEND = f"{__name__}.KeylessTextBackend"
    KeylessTextBackend.sent.clear()
    backends._takes_key.cache_clear()  # it warns once per backend and process

    with caplog.at_level(logging.WARNING, logger="notifications.backends"):
        sent = send_text(to="+44 1", body="Shop: hello", idempotency_key=KEY)

    assert sent is True
    assert KeylessTextBackend.sent == [("+44 1", "Shop: hello")]
    assert "KeylessTextBackend.send() takes no idempotency_key" in caplog.text
