"""The notifications app's message contracts. Other apps may import this module only."""

from typing import Annotated
from uuid import UUID

from pydantic import Field

from messaging.contracts import ERASED_EMAIL, Command, Event, Personal


class NotificationsCommand(Command):
    abstract = True
    senders = ("notifications",)  # its own reactions, queued so each is sent and retried alone
    source = "notifications"
    topic = "notifications.commands"

    order_id: UUID


class NotificationsEvent(Event):
    abstract = True
    source = "notifications"
    topic = "notifications.events"

    order_id: UUID


class SendEmail(NotificationsCommand):
    """Send this email about an order (an operator's resend, or another app's request)."""

    to: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), Personal(erased=ERASED_EMAIL)]
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1), Personal()]  # addressed to the customer by name


class SendText(NotificationsCommand):
    """Send this text message about an order (an operator's resend, or another app's request)."""

    to: Annotated[str, Field(min_length=3, max_length=20), Personal()]
    body: Annotated[str, Field(min_length=1, max_length=480), Personal()]


class EmailSent(NotificationsEvent):
    """An email about the order was handed to the mail server (at least once)."""

    about: str  # which news: received, confirmed, dispatched, cancelled
    to: Annotated[str, Personal()]


class TextSent(NotificationsEvent):
    """A text message about the order was handed to the text gateway (at least once)."""

    about: str  # which news: received, confirmed, dispatched, cancelled
    to: Annotated[str, Personal()]
