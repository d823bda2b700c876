"""Delivery backends: Django email backends for mail, a small pluggable interface for texts.

The demo's backends store what they send in the database so a person can read it in
the admin; production sets EMAIL_BACKEND (SMTP) and TEXT_BACKEND to real gateways.
"""

from typing import Protocol

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.module_loading import import_string

from .models import SentEmail, SentText


class DatabaseEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        SentEmail.objects.bulk_create(
            SentEmail(to=", ".join(m.to), from_email=m.from_email, subject=m.subject, body=m.body)
            for m in email_messages
        )
        return len(email_messages)


class TextBackend(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class DatabaseTextBackend:
    def send(self, *, to: str, body: str) -> None:
        SentText.objects.create(to=to, body=body)


class ConsoleTextBackend:
    def send(self, *, to: str, body: str) -> None:
        print(f"TEXT to {to}: {body}")


def text_backend() -> TextBackend:
    return import_string(settings.TEXT_BACKEND)()
