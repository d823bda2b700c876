"""Delivery backends: Django email backends for mail, a small pluggable interface for texts.

The demo's backends store what they send in the database so a person can read it in
the admin; production sets EMAIL_BACKEND (SMTP) and TEXT_BACKEND to real gateways.

Every delivery carries a key that is the same on every attempt of one notification (see
notifications.delivery): an email's `Message-ID` header, a text's `idempotency_key`. The
demo's backends honour it as a deduplicating provider does: a second send with a key
already delivered stores nothing and is reported as "already delivered". For mail, that
report is Django's own: `send_messages()` returns how many messages it sent, and a
message recognised as a repeat is not counted.
"""

import functools
import inspect
import logging
from contextlib import nullcontext
from typing import Protocol

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, connection, transaction
from django.utils.module_loading import import_string

from messaging.contracts import ERASED

from .models import SentEmail, SentText

logger = logging.getLogger(__name__)


class DatabaseEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        sent = 0
        for m in email_messages:
            # The header the message would carry on the wire: the one set by the caller,
            # or the one Django makes up for a message without it.
            sent += _stored_once(
                SentEmail,
                message_id=m.message()["Message-ID"],
                to=", ".join(m.to),
                from_email=m.from_email,
                subject=m.subject,
                body=m.body,
            )
        return sent


def _stored_once(model, **fields) -> bool:
    """Store a send unless one with its key is stored already; whether it was stored now.

    One INSERT, as a deduplicating provider takes one call: the key's unique constraint
    recognises a repeat (get_or_create took a SELECT and a transaction of its own besides,
    four round trips per send, six sends per order). Inside a transaction, a savepoint
    keeps a repeat from breaking it. A send with a blank key (none to recognise it by) is
    always stored: the constraint leaves blank keys out.
    """
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            model.objects.create(**fields)
    except IntegrityError:
        return False
    return True


class TextBackend(Protocol):
    """What TEXT_BACKEND names: a class made without arguments, with this method.

    `send` delivers one text and returns False if the gateway recognised `idempotency_key`
    as delivered already (True or None otherwise). It raises if the text may not have
    been delivered; it is then tried again later with the same key. A backend whose
    `send(*, to, body)` takes no key still works, but its repeats cannot be recognised.
    """

    def send(self, *, to: str, body: str, idempotency_key: str) -> bool | None: ...


class DatabaseTextBackend:
    def send(self, *, to: str, body: str, idempotency_key: str) -> bool:
        return _stored_once(SentText, idempotency_key=idempotency_key, to=to, body=body)


class ConsoleTextBackend:
    def send(self, *, to: str, body: str, idempotency_key: str) -> bool:
        print(f"TEXT to {to} [{idempotency_key}]: {body}")
        return True


def text_backend() -> TextBackend:
    return import_string(settings.TEXT_BACKEND)()


def send_text(*, to: str, body: str, idempotency_key: str) -> bool:
    """Send a text through TEXT_BACKEND; False if it was recognised as delivered already."""
    backend = text_backend()
    if not _takes_key(type(backend)):
        backend.send(to=to, body=body)
        return True
    return backend.send(to=to, body=body, idempotency_key=idempotency_key) is not False


@functools.cache
def _takes_key(backend_class: type) -> bool:
    parameters = inspect.signature(backend_class.send).parameters.values()
    takes = any(
        p.name == "idempotency_key" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
    )
    if not takes:
        logger.warning(
            "%s.send() takes no idempotency_key: a text sent again after a crash cannot be "
            "recognised as a repeat",
            backend_class.__qualname__,
        )
    return takes


def forget_sent(*, key: str) -> None:
    """The demo's database backends forget to whom and what they sent with this key (its
    customer was erased). A real mail server or gateway keeps its own copies for as long
    as its terms say: erasing those is a request to the provider."""
    SentEmail.objects.filter(message_id=f"<{key}>").update(to=ERASED, body=ERASED)
    SentText.objects.filter(idempotency_key=key).update(to=ERASED, body=ERASED)
